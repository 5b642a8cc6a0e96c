//! [`Message`]: a type's wire identity (name, declared version, schema fingerprint).

/// A message type's wire identity.
///
/// Framed codecs write [`SCHEMA_FINGERPRINT`](Message::SCHEMA_FINGERPRINT) into each frame
/// and check it on decode, so bytes written for one shape are never read as another.
///
/// Implement it with `#[derive(Message)]`, which hashes the type's wire-relevant shape (its
/// fields' types included, through [`Schema`](crate::Schema)), or
/// with `#[zerocodec::message]`, which adds that derive and the serde and rkyv derives a codec
/// needs; or by hand, with a fingerprint you manage yourself. Both macros need zerocodec's
/// `derive` feature; without it, `#[derive(Message)]` fails with "cannot find derive macro
/// `Message`" and a note that `Message` "is only a trait, without a derive macro".
///
/// ```toml
/// [dependencies]
/// zerocodec = { version = "0.1", features = ["derive"] }
/// ```
///
/// # Contract
///
/// The fingerprint must be the same on every build and platform for the same definition, and
/// must change whenever a change to the type would change its encoding.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a zerocodec message",
    label = "`{Self}` does not implement `zerocodec::Message`",
    note = "add `#[zerocodec::message]` above the type (it derives serde, rkyv and `Message`), or `#[derive(zerocodec::Message)]` beside your own serde and rkyv derives",
    note = "both macros need zerocodec's `derive` feature: `zerocodec = {{ version = \"0.1\", features = [\"derive\"] }}`"
)]
pub trait Message {
    /// The type's stable name (used in error messages and frame diagnostics).
    const NAME: &'static str;
    /// The declared schema version (0 when none is declared).
    const VERSION: u32 = 0;
    /// A 64-bit hash of everything the encoding depends on.
    const SCHEMA_FINGERPRINT: u64;
}

/// The FNV-1a 64-bit offset basis, the hash of no bytes.
const FNV_OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
/// The FNV-1a 64-bit prime.
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// FNV-1a 64 of `bytes`: the hash `#[derive(Message)]` fingerprints a type's canonical
/// description with.
///
/// A fixed function, the same on every build and platform, usable in `const` items: a
/// hand-written [`Message`] impl can hash a schema description of its own.
///
/// # Examples
///
/// ```
/// struct Legacy;
///
/// impl zerocodec::Message for Legacy {
///     const NAME: &'static str = "Legacy";
///     const SCHEMA_FINGERPRINT: u64 = zerocodec::fnv1a_64(b"legacy { id: u64 }");
/// }
///
/// assert_eq!(zerocodec::fnv1a_64(b"a"), 0xaf63_dc4c_8601_ec8c); // the published test vector
/// ```
pub const fn fnv1a_64(bytes: &[u8]) -> u64 {
    fnv1a_64_continue(FNV_OFFSET_BASIS, bytes)
}

/// Folds `part` into the fingerprint `acc`: FNV-1a 64 of the sixteen bytes `acc` then `part`,
/// each little-endian.
///
/// `#[derive(Message)]` uses it to fold each field type's [`Schema`](crate::Schema)
/// fingerprint into the definition's, in field order, so a change inside a nested type (or
/// `Envelope<A>` against `Envelope<B>`) changes the outer fingerprint; std containers fold
/// their type arguments the same way. The order of the parts matters.
///
/// # Examples
///
/// ```
/// use zerocodec::combine_fingerprints;
///
/// let (a, b) = (1u64, 2u64);
/// assert_ne!(combine_fingerprints(a, b), combine_fingerprints(b, a));
/// assert_ne!(combine_fingerprints(7, a), combine_fingerprints(7, b));
/// ```
pub const fn combine_fingerprints(acc: u64, part: u64) -> u64 {
    let hash = fnv1a_64_continue(FNV_OFFSET_BASIS, &acc.to_le_bytes());
    fnv1a_64_continue(hash, &part.to_le_bytes())
}

const fn fnv1a_64_continue(mut hash: u64, bytes: &[u8]) -> u64 {
    let mut i = 0;
    while i < bytes.len() {
        hash = (hash ^ bytes[i] as u64).wrapping_mul(FNV_PRIME);
        i += 1;
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::{combine_fingerprints, fnv1a_64};

    #[test]
    fn fnv1a_64_matches_published_vectors() {
        assert_eq!(fnv1a_64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a_64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a_64(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn combining_is_fnv_over_both_le_bytes() {
        let (acc, part) = (0x1122_3344_5566_7788u64, 0x0102_0304_0506_0708u64);
        let mut bytes = acc.to_le_bytes().to_vec();
        bytes.extend_from_slice(&part.to_le_bytes());
        assert_eq!(combine_fingerprints(acc, part), fnv1a_64(&bytes));
        assert_ne!(combine_fingerprints(1, 2), combine_fingerprints(2, 1));
        assert_ne!(
            combine_fingerprints(acc, part),
            combine_fingerprints(part, acc)
        );
    }
}
