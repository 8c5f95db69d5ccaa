//! A seeded xorshift generator for the unit tests' random data: the same
//! values on every run and machine.

/// The next value of xorshift64 from `seed` on each call (`seed` ≠ 0).
pub(crate) fn xorshift(mut seed: u64) -> impl FnMut() -> u64 {
    move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    }
}
