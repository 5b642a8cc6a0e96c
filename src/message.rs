//! [`Message`]: a type's wire identity (name, declared version, schema fingerprint).

/// A message type's wire identity.
///
/// Framed codecs write [`SCHEMA_FINGERPRINT`](Message::SCHEMA_FINGERPRINT) into each frame
/// and check it on decode, so bytes written for one shape are never read as another.
///
/// Implement it with `#[derive(Message)]` (feature `derive`), which hashes the type's
/// wire-relevant shape, or by hand with a fingerprint you manage yourself.
///
/// # Contract
///
/// The fingerprint must be the same on every build and platform for the same definition, and
/// must change whenever a change to the type would change its encoding.
pub trait Message {
    /// The type's stable name (used in error messages and frame diagnostics).
    const NAME: &'static str;
    /// The declared schema version (0 when none is declared).
    const VERSION: u32 = 0;
    /// A 64-bit hash of everything the encoding depends on.
    const SCHEMA_FINGERPRINT: u64;
}
