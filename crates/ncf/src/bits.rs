//! LSB-first bit packing of unsigned integers.

/// Packs each value's low `width` bits (0–64), LSB-first.
pub(crate) fn pack(values: impl IntoIterator<Item = u64>, width: u8, out: &mut Vec<u8>) {
    if width == 0 {
        return;
    }
    let mut acc: u128 = 0;
    let mut bits: u32 = 0;
    let mask: u128 = if width == 64 {
        u64::MAX as u128
    } else {
        (1u128 << width) - 1
    };
    for v in values {
        acc |= (u128::from(v) & mask) << bits;
        bits += u32::from(width);
        while bits >= 8 {
            out.push(acc as u8);
            acc >>= 8;
            bits -= 8;
        }
    }
    if bits > 0 {
        out.push(acc as u8);
    }
}

/// Bytes needed for `n` values of `width` bits.
pub(crate) fn packed_len(n: usize, width: u8) -> usize {
    (n * usize::from(width)).div_ceil(8)
}

/// Unpacks `n` values of `width` bits straight into `f(value)`s, in one pass;
/// `bytes` must hold `packed_len(n, width)` bytes.
pub(crate) fn unpack_map<T>(bytes: &[u8], n: usize, width: u8, f: impl Fn(u64) -> T) -> Vec<T> {
    let mut out = Vec::with_capacity(n);
    if width == 0 {
        out.extend((0..n).map(|_| f(0)));
        return out;
    }
    if width <= 56 {
        // Each value lies within one unaligned 8-byte window; pad the input
        // so the last windows can be read whole.
        let mut padded = Vec::with_capacity(bytes.len() + 8);
        padded.extend_from_slice(bytes);
        padded.resize(bytes.len() + 8, 0);
        let mask = (1u64 << width) - 1;
        let width = usize::from(width);
        out.extend((0..n).map(|i| {
            let bit = i * width;
            let at = bit / 8;
            let window: [u8; 8] = padded[at..at + 8].try_into().unwrap_or([0; 8]);
            f((u64::from_le_bytes(window) >> (bit % 8)) & mask)
        }));
        return out;
    }
    let mask: u128 = if width == 64 {
        u64::MAX as u128
    } else {
        (1u128 << width) - 1
    };
    let mut acc: u128 = 0;
    let mut bits: u32 = 0;
    let mut next = bytes.iter();
    for _ in 0..n {
        while bits < u32::from(width) {
            acc |= u128::from(*next.next().unwrap_or(&0)) << bits;
            bits += 8;
        }
        out.push(f((acc & mask) as u64));
        acc >>= width;
        bits -= u32::from(width);
    }
    out
}

/// Bits needed to hold `max` (0 for 0).
pub(crate) fn width_of(max: u64) -> u8 {
    (64 - max.leading_zeros()) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_width() {
        for width in 0..=64u8 {
            let max = if width == 64 {
                u64::MAX
            } else {
                (1u64 << width).wrapping_sub(1)
            };
            let values: Vec<u64> = (0..37u64)
                .map(|i| {
                    if width == 0 {
                        0
                    } else {
                        i.wrapping_mul(0x9E37_79B9_7F4A_7C15) & max
                    }
                })
                .collect();
            let mut buf = vec![];
            pack(values.iter().copied(), width, &mut buf);
            assert_eq!(buf.len(), packed_len(values.len(), width));
            assert_eq!(
                unpack_map(&buf, values.len(), width, |v| v),
                values,
                "width {width}"
            );
        }
    }

    #[test]
    fn lsb_first_layout() {
        let mut buf = vec![];
        pack([1, 2, 3], 3, &mut buf);
        // 001 | 010 | 011 → bits 0..9: 1,0,0, 0,1,0, 1,1,0 → 0b1101_0001, 0b0
        assert_eq!(buf, vec![0b1101_0001, 0b0000_0000]);
        assert_eq!(width_of(0), 0);
        assert_eq!(width_of(255), 8);
        assert_eq!(width_of(256), 9);
    }
}
