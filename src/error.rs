//! The error type shared by every zerocodec crate.

use std::borrow::Cow;
use std::error::Error as StdError;
use std::fmt;
use std::io;

/// A `Result` whose error is [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong, in a form a caller can act on.
///
/// New kinds may be added in minor releases, so a `match` needs a wildcard arm.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The input ended before a complete value: more bytes may fix it.
    Incomplete,
    /// The input is malformed: no amount of further bytes will fix it.
    Corrupt,
    /// The frame names a format version this reader does not know.
    UnknownVersion,
    /// The frame names a codec id this reader does not know.
    UnknownCodec,
    /// The frame names a compression algorithm this reader does not know or was not built with.
    UnknownCompression,
    /// The frame names a compression dictionary that is not registered.
    UnknownDictionary,
    /// The payload's checksum does not match the one the frame carries.
    ChecksumMismatch,
    /// The bytes were written for another message type (schema fingerprint or name mismatch).
    TypeMismatch,
    /// A length or size exceeds a configured limit.
    TooLarge,
    /// Borrowed input is not aligned for zero-copy access.
    Unaligned,
    /// An index is past the end of a collection (a batch's message index).
    OutOfRange,
    /// The codec cannot represent this value (for example a map with non-string keys in JSON).
    Encode,
    /// The operation or feature is not supported by this codec or build.
    Unsupported,
    /// An I/O error from an underlying reader, writer or transport.
    Io,
}

impl ErrorKind {
    /// A short lowercase name for the kind, stable across releases (used in metrics labels).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Incomplete => "incomplete",
            Self::Corrupt => "corrupt",
            Self::UnknownVersion => "unknown version",
            Self::UnknownCodec => "unknown codec",
            Self::UnknownCompression => "unknown compression",
            Self::UnknownDictionary => "unknown dictionary",
            Self::ChecksumMismatch => "checksum mismatch",
            Self::TypeMismatch => "type mismatch",
            Self::TooLarge => "too large",
            Self::Unaligned => "unaligned",
            Self::OutOfRange => "out of range",
            Self::Encode => "encode",
            Self::Unsupported => "unsupported",
            Self::Io => "io",
        }
    }

    /// Every kind, in declaration order (for metrics tables).
    pub(crate) const ALL: [ErrorKind; 14] = [
        Self::Incomplete,
        Self::Corrupt,
        Self::UnknownVersion,
        Self::UnknownCodec,
        Self::UnknownCompression,
        Self::UnknownDictionary,
        Self::ChecksumMismatch,
        Self::TypeMismatch,
        Self::TooLarge,
        Self::Unaligned,
        Self::OutOfRange,
        Self::Encode,
        Self::Unsupported,
        Self::Io,
    ];

    /// The position of this kind in [`ErrorKind::ALL`].
    pub(crate) const fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error of every zerocodec operation: a [`ErrorKind`], a message naming what was expected
/// and what was found, and optionally the underlying cause as [`source`](StdError::source).
///
/// One pointer wide, so `Result<T>` stays cheap on the happy path; constructors are `#[cold]`.
pub struct Error {
    inner: Box<Inner>,
}

struct Inner {
    kind: ErrorKind,
    message: Cow<'static, str>,
    source: Option<Box<dyn StdError + Send + Sync + 'static>>,
}

impl Error {
    /// Creates an error of `kind` with a lowercase message without trailing punctuation.
    #[cold]
    pub fn new(kind: ErrorKind, message: impl Into<Cow<'static, str>>) -> Self {
        Self {
            inner: Box::new(Inner {
                kind,
                message: message.into(),
                source: None,
            }),
        }
    }

    /// Attaches the underlying cause, reported by [`source`](StdError::source).
    #[cold]
    #[must_use]
    pub fn with_source(mut self, source: impl Into<Box<dyn StdError + Send + Sync>>) -> Self {
        self.inner.source = Some(source.into());
        self
    }

    /// The same error with every mention of the type `` `from` `` in its message replaced by
    /// `` `to` ``: a codec that reads messages by their wire name (a [`Message::NAME`]) uses it
    /// so that all of its errors name the message one way, whichever layer built them. The
    /// kind and the source are kept.
    ///
    /// [`Message::NAME`]: crate::Message::NAME
    #[doc(hidden)]
    #[cold]
    #[must_use]
    pub fn renaming_type(mut self, from: &str, to: &str) -> Self {
        let from = format!("`{from}`");
        if self.inner.message.contains(&from) {
            let message = self.inner.message.replace(&from, &format!("`{to}`"));
            self.inner.message = message.into();
        }
        self
    }

    /// Input ended early: `needed` bytes were required, `available` were present.
    #[cold]
    pub fn incomplete(what: &str, needed: usize, available: usize) -> Self {
        Self::new(
            ErrorKind::Incomplete,
            format!("{what}: expected at least {needed} bytes, found {available}"),
        )
    }

    /// A size exceeded its limit: `len` was found where at most `max` is allowed.
    #[cold]
    pub fn too_large(what: &str, len: u64, max: u64) -> Self {
        Self::new(
            ErrorKind::TooLarge,
            format!("{what} of {len} bytes exceeds the limit of {max} bytes"),
        )
    }

    /// The input is malformed.
    #[cold]
    pub fn corrupt(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::Corrupt, message)
    }

    /// The kind of this error.
    pub fn kind(&self) -> ErrorKind {
        self.inner.kind
    }

    /// The message, without the kind prefix.
    pub fn message(&self) -> &str {
        &self.inner.message
    }

    /// True if more input might complete the value.
    pub fn is_incomplete(&self) -> bool {
        self.kind() == ErrorKind::Incomplete
    }
    /// True if the input is malformed.
    pub fn is_corrupt(&self) -> bool {
        self.kind() == ErrorKind::Corrupt
    }
    /// True if an index was past the end.
    pub fn is_out_of_range(&self) -> bool {
        self.kind() == ErrorKind::OutOfRange
    }
    /// True if a limit was exceeded.
    pub fn is_too_large(&self) -> bool {
        self.kind() == ErrorKind::TooLarge
    }
    /// True if the bytes were written for another message type.
    pub fn is_type_mismatch(&self) -> bool {
        self.kind() == ErrorKind::TypeMismatch
    }
    /// True if the frame named an unknown version, codec, compression or dictionary.
    pub fn is_unknown(&self) -> bool {
        matches!(
            self.kind(),
            ErrorKind::UnknownVersion
                | ErrorKind::UnknownCodec
                | ErrorKind::UnknownCompression
                | ErrorKind::UnknownDictionary
        )
    }
    /// True if a checksum did not match.
    pub fn is_checksum_mismatch(&self) -> bool {
        self.kind() == ErrorKind::ChecksumMismatch
    }
    /// True if the value could not be encoded.
    pub fn is_encode(&self) -> bool {
        self.kind() == ErrorKind::Encode
    }
    /// True for an underlying I/O error.
    pub fn is_io(&self) -> bool {
        self.kind() == ErrorKind::Io
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Error");
        d.field("kind", &self.inner.kind)
            .field("message", &self.inner.message);
        if let Some(source) = &self.inner.source {
            d.field("source", source);
        }
        d.finish()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.inner.kind, self.inner.message)
    }
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.inner
            .source
            .as_deref()
            .map(|s| s as &(dyn StdError + 'static))
    }
}

impl From<Error> for io::Error {
    /// Keeps the zerocodec error (and so its kind) as the payload: recover it with
    /// `io_error.get_ref().and_then(|e| e.downcast_ref::<zerocodec::Error>())`, or convert back
    /// with `zerocodec::Error::from(io_error)`.
    fn from(err: Error) -> Self {
        let kind = match err.kind() {
            ErrorKind::Incomplete => io::ErrorKind::UnexpectedEof,
            ErrorKind::Unsupported => io::ErrorKind::Unsupported,
            ErrorKind::Io => match err.source().and_then(|s| s.downcast_ref::<io::Error>()) {
                Some(io_err) => io_err.kind(),
                None => io::ErrorKind::Other,
            },
            ErrorKind::Encode => io::ErrorKind::InvalidInput,
            _ => io::ErrorKind::InvalidData,
        };
        io::Error::new(kind, err)
    }
}

impl From<io::Error> for Error {
    /// Unwraps a zerocodec error carried inside an `io::Error`; any other I/O error becomes
    /// [`ErrorKind::Io`].
    fn from(err: io::Error) -> Self {
        match err.downcast::<Error>() {
            Ok(ours) => ours,
            Err(err) => {
                let message = err.to_string();
                Error::new(ErrorKind::Io, message).with_source(err)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_is_one_pointer() {
        assert_eq!(size_of::<Error>(), size_of::<usize>());
        assert_eq!(size_of::<Result<()>>(), size_of::<usize>());
    }

    #[test]
    fn io_round_trip_keeps_kind_and_message() {
        let err = Error::too_large("frame", 10, 5);
        let io_err: io::Error = err.into();
        assert_eq!(io_err.kind(), io::ErrorKind::InvalidData);
        let back = Error::from(io_err);
        assert_eq!(back.kind(), ErrorKind::TooLarge);
        assert_eq!(
            back.to_string(),
            "too large: frame of 10 bytes exceeds the limit of 5 bytes"
        );
    }

    #[test]
    fn foreign_io_error_becomes_io_kind_with_source() {
        let err = Error::from(io::Error::new(io::ErrorKind::BrokenPipe, "pipe closed"));
        assert!(err.is_io());
        assert!(err.source().is_some());
        let io_err: io::Error = err.into();
        assert_eq!(io_err.kind(), io::ErrorKind::BrokenPipe);
    }

    #[test]
    fn kinds_index_matches_all() {
        for (i, kind) in ErrorKind::ALL.iter().enumerate() {
            assert_eq!(kind.index(), i);
        }
    }
}
