//! DataFusion adapters for ScoreLake's own file formats.

pub mod ncf;
