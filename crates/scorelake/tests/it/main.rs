//! Integration tests of the library: real files, a real S3 server.

mod advise;
mod cluster_codecs;
mod cluster_s3;
mod delta;
mod design;
mod docs_blocks;
mod drift;
mod duplicate_columns;
mod encoding;
mod faults;
mod features;
mod features_reference;
mod hive_partitions;
mod input_order;
mod io_local;
mod ncf_engine;
mod parquet_corruption;
mod quality;
mod readme;
mod s3;
mod s3_faults;
mod sample_io;
mod scorecard;
mod selection;
mod support;
mod write_races;
