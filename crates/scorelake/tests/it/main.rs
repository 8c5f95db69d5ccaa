//! Integration tests of the library: real files, a real S3 server.

mod delta;
mod drift;
mod encoding;
mod faults;
mod features;
mod features_reference;
mod io_local;
mod ncf_engine;
mod quality;
mod readme;
mod s3;
mod sample_io;
mod scorecard;
mod support;
