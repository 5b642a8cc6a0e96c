//! FNV-1a 64, the fingerprint hash: fixed, tiny and the same on every platform.
//!
//! `zerocodec::fnv1a_64` is the same function as a `const fn`; both are checked against the
//! published FNV test vectors, so what the macro computes at expansion time and what a
//! hand-written `Message` impl computes at compile time agree.

/// The FNV-1a 64-bit offset basis.
pub(crate) const OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
/// The FNV-1a 64-bit prime.
pub(crate) const PRIME: u64 = 0x0000_0100_0000_01b3;

/// FNV-1a 64 of `bytes`.
pub(crate) fn fnv1a_64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(OFFSET_BASIS, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(PRIME)
    })
}

#[cfg(test)]
mod tests {
    use super::fnv1a_64;

    #[test]
    fn matches_published_vectors() {
        assert_eq!(fnv1a_64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a_64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a_64(b"foobar"), 0x8594_4171_f739_67e8);
    }
}
