//! Chunk compression.

use crate::error::{Result, corrupt};
use crate::footer::Compression;

/// Compresses an encoded chunk.
pub(crate) fn compress(codec: Compression, level: i32, encoded: Vec<u8>) -> Result<Vec<u8>> {
    Ok(match codec {
        Compression::None => encoded,
        Compression::Lz4 => lz4_flex::block::compress(&encoded),
        Compression::Zstd => zstd::bulk::compress(&encoded, level)?,
    })
}

/// Decompresses stored bytes into exactly `encoded_length` bytes.
pub(crate) fn decompress(
    codec: Compression,
    stored: Vec<u8>,
    encoded_length: usize,
    what: &str,
) -> Result<Vec<u8>> {
    let out = match codec {
        Compression::None => stored,
        Compression::Lz4 => lz4_flex::block::decompress(&stored, encoded_length)
            .map_err(|e| corrupt(format!("{what}: LZ4 data does not decompress: {e}")))?,
        Compression::Zstd => zstd::bulk::decompress(&stored, encoded_length)
            .map_err(|e| corrupt(format!("{what}: Zstandard data does not decompress: {e}")))?,
    };
    if out.len() != encoded_length {
        return Err(corrupt(format!(
            "{what}: {} bytes after decompression, the footer says {encoded_length}",
            out.len()
        )));
    }
    Ok(out)
}
