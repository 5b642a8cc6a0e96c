//! zerocodec errors as gRPC statuses, and the message types a service names in them.

use tonic::{Code, Status};
use zerocodec::frame::FrameHeader;
use zerocodec::{Error, ErrorKind, Message};

/// A message type's wire identity: its [`Message::NAME`] and schema fingerprint.
///
/// A [`GrpcCodec`](crate::GrpcCodec) that knows the message types of its service (the
/// [`service!`](crate::service!) macro hands them over) names the type a mismatched frame
/// was written for, not only its fingerprint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MessageType {
    /// The type's stable name ([`Message::NAME`]).
    pub name: &'static str,
    /// The type's schema fingerprint ([`Message::SCHEMA_FINGERPRINT`]).
    pub fingerprint: u64,
}

impl MessageType {
    /// The identity of `T`.
    pub const fn of<T: Message>() -> Self {
        Self {
            name: T::NAME,
            fingerprint: T::SCHEMA_FINGERPRINT,
        }
    }
}

/// The gRPC status code for a zerocodec error kind.
///
/// | kind | code | why |
/// |---|---|---|
/// | `Corrupt`, `Incomplete`, `Unaligned`, `OutOfRange` | `InvalidArgument` | malformed input: no retry fixes it |
/// | `TypeMismatch` | `InvalidArgument` | a frame of another message type |
/// | `TooLarge` | `ResourceExhausted` | a size over a configured limit (decompressed size, ratio) |
/// | `UnknownDictionary` | `FailedPrecondition` | the reader lacks the writer's dictionary: register it, then retry |
/// | `ChecksumMismatch` | `DataLoss` | the payload changed on the way |
/// | `UnknownVersion`, `UnknownCodec`, `UnknownCompression`, `Unsupported` | `Unimplemented` | valid input this reader does not implement (gRPC's code for an unsupported compression) |
/// | `Encode`, `Io`, and kinds added later | `Internal` | the writer's own failure |
pub fn code_of(kind: ErrorKind) -> Code {
    match kind {
        ErrorKind::Corrupt
        | ErrorKind::Incomplete
        | ErrorKind::Unaligned
        | ErrorKind::OutOfRange
        | ErrorKind::TypeMismatch => Code::InvalidArgument,
        ErrorKind::TooLarge => Code::ResourceExhausted,
        ErrorKind::UnknownDictionary => Code::FailedPrecondition,
        ErrorKind::ChecksumMismatch => Code::DataLoss,
        ErrorKind::UnknownVersion
        | ErrorKind::UnknownCodec
        | ErrorKind::UnknownCompression
        | ErrorKind::Unsupported => Code::Unimplemented,
        _ => Code::Internal,
    }
}

/// `err` as a gRPC [`Status`]: the code from [`code_of`], and the error's text (its kind,
/// then what was expected and what was found) as the message.
pub fn to_status(err: &Error) -> Status {
    Status::new(code_of(err.kind()), err.to_string())
}

/// The status for a message that failed to decode. A type mismatch also names the type the
/// frame was written for, when `types` knows its fingerprint.
#[cold]
#[inline(never)]
pub(crate) fn decode_status(err: &Error, input: &[u8], types: &[[MessageType; 2]]) -> Status {
    if err.kind() == ErrorKind::TypeMismatch {
        let found = FrameHeader::parse(input)
            .ok()
            .and_then(|header| header.fingerprint);
        if let Some(found) = found {
            let known = types.iter().flatten().find(|t| t.fingerprint == found);
            let what = match known {
                Some(t) => format!("a `{}`", t.name),
                None => "a message type this service does not know".to_string(),
            };
            return Status::new(
                Code::InvalidArgument,
                format!("{err}; the frame holds {what}"),
            );
        }
    }
    to_status(err)
}

/// The status for a message that failed to encode.
#[cold]
#[inline(never)]
pub(crate) fn encode_status(err: &Error) -> Status {
    to_status(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_issue_s_codes() {
        assert_eq!(code_of(ErrorKind::Corrupt), Code::InvalidArgument);
        assert_eq!(code_of(ErrorKind::TypeMismatch), Code::InvalidArgument);
        assert_eq!(code_of(ErrorKind::TooLarge), Code::ResourceExhausted);
        assert_eq!(
            code_of(ErrorKind::UnknownDictionary),
            Code::FailedPrecondition
        );
        let status = to_status(&Error::too_large("decompressed payload", 10, 5));
        assert_eq!(status.code(), Code::ResourceExhausted);
        assert_eq!(
            status.message(),
            "too large: decompressed payload of 10 bytes exceeds the limit of 5 bytes"
        );
    }
}
