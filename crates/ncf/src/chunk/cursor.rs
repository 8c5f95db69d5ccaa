//! A bounds-checked reader over a chunk's bytes.

use crate::error::{Result, corrupt};

/// Reads an encoded buffer with bounds checks; errors name the chunk.
pub(super) struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
    /// The chunk, as errors name it.
    pub(super) what: &'a str,
}

impl<'a> Cursor<'a> {
    /// A cursor at the start of `bytes`, the chunk named `what`.
    pub(super) fn new(bytes: &'a [u8], what: &'a str) -> Self {
        Cursor {
            bytes,
            pos: 0,
            what,
        }
    }

    /// The next `len` bytes.
    pub(super) fn take(&mut self, len: usize) -> Result<&'a [u8]> {
        let end = self.pos.checked_add(len).filter(|&e| e <= self.bytes.len());
        let Some(end) = end else {
            return Err(corrupt(format!(
                "{}: needs {len} more bytes at byte {} of {}",
                self.what,
                self.pos,
                self.bytes.len()
            )));
        };
        let out = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(out)
    }
    /// The next byte.
    pub(super) fn u8(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }
    /// The next little-endian u32.
    pub(super) fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_le_bytes(
            self.take(4)?.try_into().unwrap_or([0; 4]),
        ))
    }
    /// The next little-endian i64.
    pub(super) fn i64(&mut self) -> Result<i64> {
        Ok(i64::from_le_bytes(
            self.take(8)?.try_into().unwrap_or([0; 8]),
        ))
    }
    /// Fails unless every byte was read.
    pub(super) fn finish(&self) -> Result<()> {
        if self.pos != self.bytes.len() {
            return Err(corrupt(format!(
                "{}: {} unexpected bytes after the values",
                self.what,
                self.bytes.len() - self.pos
            )));
        }
        Ok(())
    }
}
