//! The chunk layout shared by the encoder and the decoder: how each Arrow
//! type's values are stored, and the limits both sides agree on.

use arrow_schema::DataType;

const _: () = assert!(
    cfg!(target_endian = "little"),
    "NCF copies Arrow's native buffers as little-endian data"
);

/// Most distinct values a dictionary may hold.
pub(super) const MAX_DICTIONARY: usize = 1 << 16;

/// How a type's values are stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Physical {
    Bool,
    /// Fixed width; `int` when the values are integers usable by
    /// bitpacked/rle (signed or unsigned, fitting an i64).
    Fixed {
        width: usize,
        int: Option<bool>,
    },
    Float {
        width: usize,
    },
    Decimal,
    Bytes,
}

/// The storage of values of type `t`.
pub(super) fn physical(t: &DataType) -> Physical {
    use DataType::*;
    match t {
        Boolean => Physical::Bool,
        Int8 => Physical::Fixed {
            width: 1,
            int: Some(true),
        },
        Int16 => Physical::Fixed {
            width: 2,
            int: Some(true),
        },
        Int32 | Date32 => Physical::Fixed {
            width: 4,
            int: Some(true),
        },
        Int64 | Timestamp(..) => Physical::Fixed {
            width: 8,
            int: Some(true),
        },
        UInt8 => Physical::Fixed {
            width: 1,
            int: Some(false),
        },
        UInt16 => Physical::Fixed {
            width: 2,
            int: Some(false),
        },
        UInt32 => Physical::Fixed {
            width: 4,
            int: Some(false),
        },
        UInt64 => Physical::Fixed {
            width: 8,
            int: None,
        },
        Float32 => Physical::Float { width: 4 },
        Float64 => Physical::Float { width: 8 },
        Decimal128(..) => Physical::Decimal,
        _ => Physical::Bytes,
    }
}

/// Bytes per value of a fixed-width storage (0 for booleans and bytes).
pub(super) fn fixed_width(p: Physical) -> usize {
    match p {
        Physical::Fixed { width, .. } | Physical::Float { width } => width,
        Physical::Decimal => 16,
        Physical::Bool | Physical::Bytes => 0,
    }
}

/// A little-endian integer of 1–16 bytes, sign-extended when `signed`.
pub(crate) fn le_int(bytes: &[u8], signed: bool) -> Option<i128> {
    if bytes.is_empty() || bytes.len() > 16 {
        return None;
    }
    let mut buf = [0u8; 16];
    buf[..bytes.len()].copy_from_slice(bytes);
    if signed && bytes[bytes.len() - 1] & 0x80 != 0 {
        buf[bytes.len()..].fill(0xFF);
    }
    Some(i128::from_le_bytes(buf))
}
