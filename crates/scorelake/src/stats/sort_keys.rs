//! Sorting floats by 64-bit keys: an order-preserving float ↔ key mapping
//! and a stable least-significant-digit radix sort over the keys.

pub(crate) use crate::functions::sort_key::{key, value};

/// Bits per radix digit: six passes cover 64-bit keys, and a digit's
/// counters (16 KiB) stay in the first-level cache.
const DIGIT: u32 = 11;
const DIGITS: usize = 64usize.div_ceil(DIGIT as usize);

/// Sorts `items` by a 64-bit key, least significant digit first (stable):
/// one counting pass for all digits, then one scatter per digit that
/// varies (digits every key shares are skipped). Small inputs use the
/// comparison sort.
pub(crate) fn radix_sort<T: Copy + Default>(
    items: &mut Vec<T>,
    buffer: &mut Vec<T>,
    key: impl Fn(&T) -> u64,
) {
    if items.len() < 4096 {
        items.sort_by_key(|t| key(t));
        return;
    }
    let mask = (1u64 << DIGIT) - 1;
    let mut counts = vec![vec![0usize; 1 << DIGIT]; DIGITS];
    for t in items.iter() {
        let k = key(t);
        for (d, c) in counts.iter_mut().enumerate() {
            c[((k >> (DIGIT as usize * d)) & mask) as usize] += 1;
        }
    }
    let n = items.len();
    buffer.resize(n, T::default());
    for (d, c) in counts.iter().enumerate() {
        if c.contains(&n) {
            continue;
        }
        let mut offsets = vec![0usize; 1 << DIGIT];
        let mut sum = 0;
        for (o, x) in offsets.iter_mut().zip(c) {
            *o = sum;
            sum += x;
        }
        let shift = DIGIT as usize * d;
        for t in items.iter() {
            let digit = ((key(t) >> shift) & mask) as usize;
            buffer[offsets[digit]] = *t;
            offsets[digit] += 1;
        }
        std::mem::swap(items, buffer);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn radix_sort_equals_the_comparison_sort() {
        let mut seed = 99u64;
        let mut keys: Vec<u64> = (0..20_000)
            .map(|i| {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                if i % 3 == 0 { seed >> 40 } else { seed }
            })
            .collect();
        let mut want = keys.clone();
        want.sort_unstable();
        radix_sort(&mut keys, &mut Vec::new(), |k| *k);
        assert_eq!(keys, want);
        let mut pairs: Vec<(u64, f64)> = (0..10_000u64)
            .map(|i| ((i * 7919) % 613, i as f64))
            .collect();
        radix_sort(&mut pairs, &mut Vec::new(), |p| p.0);
        assert!(
            pairs
                .windows(2)
                .all(|w| w[0].0 < w[1].0 || (w[0].0 == w[1].0 && w[0].1 < w[1].1))
        );
    }

    #[test]
    fn keys_keep_float_order() {
        let mut xs = [
            3.5,
            -0.0,
            0.0,
            -1e300,
            1e-300,
            f64::INFINITY,
            -2.0,
            f64::NEG_INFINITY,
        ];
        let mut keys: Vec<u64> = xs.iter().map(|x| key(*x)).collect();
        keys.sort_unstable();
        xs.sort_by(f64::total_cmp);
        let back: Vec<f64> = keys.iter().map(|k| value(*k)).collect();
        let want: Vec<f64> = xs.iter().map(|x| x + 0.0).collect();
        assert_eq!(back, want);
        assert_eq!(key(-0.0), key(0.0));
    }
}
