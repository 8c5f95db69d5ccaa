//! One module per command: each maps its flags to a library call and prints
//! what it did.

pub mod compress;
pub mod config;
pub mod convert;
pub mod delta;
pub mod demo;
pub mod drift;
pub mod encode;
pub mod features;
pub mod ncf;
pub mod run;
pub mod sample;
pub mod score;
pub mod sql;
pub mod validate;
