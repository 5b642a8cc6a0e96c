//! [`Error`]: what a publish, a consumer or a fetch reports.

use std::error::Error as StdError;
use std::fmt;

use async_nats::jetstream::consumer::{pull, push};
use async_nats::jetstream::context::PublishError;
use async_nats::jetstream::stream::RawMessageError;

use crate::consume::Poison;

/// The result of this crate's calls.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong publishing, consuming or fetching a message.
///
/// Each variant is a different place to look: [`Encode`](Self::Encode) is the value (the
/// frame codec refused it, before anything was sent), [`Publish`](Self::Publish),
/// [`Consume`](Self::Consume), [`Fetch`](Self::Fetch) and [`Ack`](Self::Ack) are the
/// connection or the server, and [`Poison`](Self::Poison) and
/// [`Decode`](Self::Decode) are the bytes someone stored. A poison message is an item of the
/// consumer's stream like any other: the stream goes on after it, and the caller decides
/// whether to acknowledge or terminate it.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The value could not be encoded as a frame or a batch; nothing was sent.
    Encode(zerocodec::Error),
    /// The publish was not sent, or the server refused it or did not acknowledge it in time.
    Publish(PublishError),
    /// The consumer's message stream failed: missed heartbeats (the server went away), the
    /// consumer was deleted, or no server answered the pull request.
    Consume(ConsumeError),
    /// A delivered message whose bytes do not decode. It names its stream sequence and can
    /// be acknowledged, terminated or negatively acknowledged ([`Poison`]).
    Poison(Box<Poison>),
    /// A delivered message without JetStream metadata (its reply subject is not a JetStream
    /// acknowledgement subject), so it has no stream sequence and cannot be acknowledged.
    Metadata {
        /// The subject the message arrived on.
        subject: String,
        /// Why its metadata could not be read.
        source: async_nats::Error,
    },
    /// A stored message could not be fetched by its stream sequence.
    Fetch(RawMessageError),
    /// A stored message, fetched by its stream sequence, does not decode.
    Decode {
        /// The message's stream sequence.
        sequence: u64,
        /// Why it does not decode.
        source: zerocodec::Error,
    },
    /// An acknowledgement (ack, nak, term, progress) could not be sent or, for a double ack,
    /// was not confirmed.
    Ack {
        /// The message's stream sequence.
        sequence: u64,
        /// Why the acknowledgement failed.
        source: async_nats::Error,
    },
}

impl Error {
    /// The zerocodec error behind an encode, poison or decode error, whose
    /// [`kind`](zerocodec::Error::kind) says what was wrong with the bytes or the value.
    pub fn codec_error(&self) -> Option<&zerocodec::Error> {
        match self {
            Self::Encode(err) | Self::Decode { source: err, .. } => Some(err),
            Self::Poison(poison) => Some(poison.error()),
            _ => None,
        }
    }

    /// True for a poison message ([`Error::Poison`]).
    pub fn is_poison(&self) -> bool {
        matches!(self, Self::Poison(_))
    }

    /// The poison message, if this is one.
    pub fn into_poison(self) -> Option<Poison> {
        match self {
            Self::Poison(poison) => Some(*poison),
            _ => None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Encode(err) => write!(f, "cannot encode the message: {err}"),
            Self::Publish(err) => write!(f, "publish failed: {err}"),
            Self::Consume(err) => write!(f, "consumer stream failed: {err}"),
            Self::Poison(poison) => write!(
                f,
                "poison message at stream sequence {} on `{}` (delivery {}): {}",
                poison.stream_sequence(),
                poison.subject(),
                poison.delivered(),
                poison.error()
            ),
            Self::Metadata { subject, source } => write!(
                f,
                "message on `{subject}` has no JetStream metadata: {source}"
            ),
            Self::Fetch(err) => write!(f, "cannot fetch the stored message: {err}"),
            Self::Decode { sequence, source } => {
                write!(f, "stored message at stream sequence {sequence}: {source}")
            }
            Self::Ack { sequence, source } => write!(
                f,
                "acknowledging the message at stream sequence {sequence} failed: {source}"
            ),
        }
    }
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match self {
            Self::Encode(err) | Self::Decode { source: err, .. } => Some(err),
            Self::Publish(err) => Some(err),
            Self::Consume(err) => Some(err),
            Self::Poison(poison) => Some(poison.error()),
            Self::Metadata { source, .. } | Self::Ack { source, .. } => Some(&**source),
            Self::Fetch(err) => Some(err),
        }
    }
}

impl From<PublishError> for Error {
    fn from(err: PublishError) -> Self {
        Self::Publish(err)
    }
}

impl From<ConsumeError> for Error {
    fn from(err: ConsumeError) -> Self {
        Self::Consume(err)
    }
}

impl From<pull::MessagesError> for Error {
    fn from(err: pull::MessagesError) -> Self {
        Self::Consume(err.into())
    }
}

/// Why a consumer's message stream failed, as async-nats reports it for each kind of
/// consumer ([`Error::Consume`]); [`Messages`](crate::Messages) reads all three.
#[derive(Debug)]
#[non_exhaustive]
pub enum ConsumeError {
    /// A pull consumer's stream
    /// ([`PullConsumer::messages`](async_nats::jetstream::consumer::PullConsumer::messages)).
    Pull(pull::MessagesError),
    /// A push consumer's stream
    /// ([`PushConsumer::messages`](async_nats::jetstream::consumer::PushConsumer::messages)).
    Push(push::MessagesError),
    /// An ordered push consumer's stream ([`push::Ordered`]).
    Ordered(push::OrderedError),
}

impl fmt::Display for ConsumeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Pull(err) => write!(f, "pull consumer: {err}"),
            Self::Push(err) => write!(f, "push consumer: {err}"),
            Self::Ordered(err) => write!(f, "ordered consumer: {err}"),
        }
    }
}

impl StdError for ConsumeError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match self {
            Self::Pull(err) => Some(err),
            Self::Push(err) => Some(err),
            Self::Ordered(err) => Some(err),
        }
    }
}

impl From<pull::MessagesError> for ConsumeError {
    fn from(err: pull::MessagesError) -> Self {
        Self::Pull(err)
    }
}

impl From<push::MessagesError> for ConsumeError {
    fn from(err: push::MessagesError) -> Self {
        Self::Push(err)
    }
}

impl From<push::OrderedError> for ConsumeError {
    fn from(err: push::OrderedError) -> Self {
        Self::Ordered(err)
    }
}

#[cfg(test)]
mod tests {
    use async_nats::jetstream::context::PublishErrorKind;
    use async_nats::jetstream::stream::RawMessageErrorKind;
    use zerocodec::ErrorKind;

    use super::*;

    fn codec_error() -> zerocodec::Error {
        zerocodec::Error::new(ErrorKind::Corrupt, "bad bytes")
    }

    /// Every variant says where to look, keeps its cause as `source`, and answers the helpers;
    /// `Poison` is covered by the integration tests, which need a delivered message.
    #[test]
    fn every_error_says_what_failed_and_keeps_its_cause() {
        let cases: Vec<(Error, &str, &str)> = vec![
            (
                Error::Encode(codec_error()),
                "cannot encode the message",
                "bad bytes",
            ),
            (
                PublishError::new(PublishErrorKind::TimedOut).into(),
                "publish failed",
                "timed out",
            ),
            (
                pull::MessagesError::new(pull::MessagesErrorKind::MissingHeartbeat).into(),
                "consumer stream failed: pull consumer",
                "missed idle heartbeat",
            ),
            (
                Error::Consume(
                    push::MessagesError::new(push::MessagesErrorKind::ConsumerDeleted).into(),
                ),
                "consumer stream failed: push consumer",
                "consumer deleted",
            ),
            (
                Error::Consume(push::OrderedError::new(push::OrderedErrorKind::Recreate).into()),
                "consumer stream failed: ordered consumer",
                "",
            ),
            (
                Error::Metadata {
                    subject: "orders.new".into(),
                    source: "not a JetStream reply subject".into(),
                },
                "message on `orders.new` has no JetStream metadata",
                "not a JetStream reply subject",
            ),
            (
                Error::Fetch(RawMessageError::new(RawMessageErrorKind::NoMessageFound)),
                "cannot fetch the stored message",
                "",
            ),
            (
                Error::Decode {
                    sequence: 7,
                    source: codec_error(),
                },
                "stored message at stream sequence 7",
                "bad bytes",
            ),
            (
                Error::Ack {
                    sequence: 9,
                    source: "connection closed".into(),
                },
                "acknowledging the message at stream sequence 9 failed",
                "connection closed",
            ),
        ];
        for (err, says, cause) in cases {
            let text = err.to_string();
            assert!(text.starts_with(says), "{text}");
            let source = err.source().expect("every variant keeps its cause");
            assert!(source.to_string().contains(cause), "{source}");
            let from_codec = matches!(err, Error::Encode(_) | Error::Decode { .. });
            assert_eq!(err.codec_error().is_some(), from_codec, "{text}");
            assert_eq!(
                err.codec_error().map(zerocodec::Error::kind),
                from_codec.then_some(ErrorKind::Corrupt)
            );
            assert!(!err.is_poison());
            assert!(err.into_poison().is_none());
        }
    }
}
