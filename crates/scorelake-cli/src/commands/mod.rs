//! One module per command: each maps its flags to a library call and prints
//! what it did.

pub(crate) mod cluster;
pub(crate) mod compress;
pub(crate) mod config;
pub(crate) mod convert;
pub(crate) mod delta;
pub(crate) mod demo;
pub(crate) mod drift;
pub(crate) mod encode;
pub(crate) mod features;
pub(crate) mod ncf;
pub(crate) mod partitions;
pub(crate) mod profile;
pub(crate) mod run;
pub(crate) mod runs;
pub(crate) mod sample;
pub(crate) mod score;
pub(crate) mod sql;
pub(crate) mod validate;
