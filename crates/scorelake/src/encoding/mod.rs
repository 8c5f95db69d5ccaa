//! Categorical encoders learned on one data set and applied to another:
//! frequency encoding, smoothed target-mean encoding, rare-category grouping.
//!
//! An [`EncoderSpec`] (YAML, TOML or JSON) lists encoders; [`fit`] learns a
//! [`Mappings`] artifact (per category value: count or weight, encoded value;
//! plus the global mean, smoothing and thresholds) with one grouped pass per
//! encoded column; [`Mappings::transform`] adds the encoded columns to any
//! data as plain expressions (streaming, no join). Null is a category of its
//! own everywhere; categories not seen when fitting follow the spec's
//! `unseen` policy. With `cross_fit`, [`Mappings::transform_out_of_fold`]
//! gives the fitting rows out-of-fold target encodings. Semantics:
//! `docs/encoding.md`.

mod fit;
mod spec;

pub use fit::{Category, Encoded, Folds, Mappings, fit};
pub use spec::{CrossFit, Encoder, EncoderSpec, EncodingMethod, MAX_FOLDS, Unseen};
