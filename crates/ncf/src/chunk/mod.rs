//! Encoding one column of a row group into a chunk, and decoding it back.
//!
//! [`encode`] picks the smallest valid encoding for an array and gathers its
//! statistics on the way ([`stats`]); [`decode`] reads a chunk back with
//! bounds checks ([`cursor`]). Both share the chunk layout: how each Arrow
//! type's values are stored ([`layout`]).

mod cursor;
mod decode;
mod encode;
mod hash;
mod layout;
mod stats;

pub(crate) use decode::decode;
pub(crate) use encode::encode;
pub(crate) use layout::le_int;
