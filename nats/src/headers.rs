//! The NATS headers a published frame or batch carries, and what a reader accepts.

use async_nats::{HeaderMap, HeaderValue};
use zerocodec::{Error, ErrorKind};
use zerocodec_codecs::{BATCH_CONTENT_TYPE, FRAME_CONTENT_TYPE, JSON_CONTENT_TYPE};

/// The header naming the payload's media type: [`FRAME_CONTENT_TYPE`] for a hybrid frame,
/// [`BATCH_CONTENT_TYPE`] for a batch, `application/json` for a JSON publisher that says so.
pub const CONTENT_TYPE: &str = "Content-Type";

/// The header naming the message type ([`zerocodec::Message::NAME`]) a frame or batch holds.
///
/// It is for routing, filtering and people reading the stream; readers do not trust it. The
/// frame's schema fingerprint is what decides whether the bytes are a `T`.
pub const MESSAGE_NAME: &str = "Zerocodec-Message";

/// The header giving the number of messages in a published batch.
pub const BATCH_LEN: &str = "Zerocodec-Batch-Len";

/// What a published message's `Content-Type` says it holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Declared {
    /// No `Content-Type` header: a header-less JSON publisher, or a frame from anyone.
    Nothing,
    /// A hybrid frame.
    Frame,
    /// A batch frame.
    Batch,
    /// JSON (`application/json`, with or without parameters).
    Json,
}

/// The headers of a published frame or batch.
///
/// # Errors
///
/// [`ErrorKind::Encode`] for a message name that a NATS header cannot carry as written: one
/// with a CR or LF (which async-nats refuses in a header value) or with whitespace around it
/// (which NATS trims on the way in, so the reader would see another name).
pub(crate) fn for_payload(
    content_type: &'static str,
    name: &'static str,
) -> Result<HeaderMap, Error> {
    let value = match name.parse::<HeaderValue>() {
        Ok(value) if name.trim() == name => value,
        _ => {
            return Err(Error::new(
                ErrorKind::Encode,
                format!(
                    "expected a message name a NATS `{MESSAGE_NAME}` header carries as written \
                     (no CR or LF, no surrounding whitespace), found `{}`",
                    shown(name)
                ),
            ));
        }
    };
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_TYPE, content_type);
    headers.insert(MESSAGE_NAME, value);
    Ok(headers)
}

/// The most characters of a header value an error message quotes.
const MAX_SHOWN: usize = 64;

/// `value` as an error message quotes it: escaped (no control characters or terminal escapes
/// reach a log), and cut to [`MAX_SHOWN`] characters, since a publisher chooses its length.
pub(crate) fn shown(value: &str) -> String {
    let mut chars = value.chars();
    let head: String = chars.by_ref().take(MAX_SHOWN).collect();
    let mut out = head.escape_debug().to_string();
    if chars.next().is_some() {
        out.push_str("...");
    }
    out
}

/// What `headers` declare, or the error that names a media type this crate does not read.
pub(crate) fn declared(headers: Option<&HeaderMap>) -> Result<Declared, Error> {
    let Some(value) = headers.and_then(|h| h.get(CONTENT_TYPE)) else {
        return Ok(Declared::Nothing);
    };
    let value = value.as_str();
    let essence = value.split(';').next().unwrap_or("").trim();
    if essence.eq_ignore_ascii_case(FRAME_CONTENT_TYPE) {
        Ok(Declared::Frame)
    } else if essence.eq_ignore_ascii_case(BATCH_CONTENT_TYPE) {
        Ok(Declared::Batch)
    } else if essence.eq_ignore_ascii_case(JSON_CONTENT_TYPE) {
        Ok(Declared::Json)
    } else {
        Err(Error::new(
            ErrorKind::Unsupported,
            format!(
                "expected a `{CONTENT_TYPE}` of {FRAME_CONTENT_TYPE}, {BATCH_CONTENT_TYPE} or \
                 {JSON_CONTENT_TYPE} (or none), found `{}`",
                shown(value)
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(content_type: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, content_type);
        headers
    }

    #[test]
    fn content_types_are_read_by_their_essence() {
        assert_eq!(declared(None).unwrap(), Declared::Nothing);
        assert_eq!(
            declared(Some(&HeaderMap::new())).unwrap(),
            Declared::Nothing
        );
        assert_eq!(
            declared(Some(&with(FRAME_CONTENT_TYPE))).unwrap(),
            Declared::Frame
        );
        assert_eq!(
            declared(Some(&with(BATCH_CONTENT_TYPE))).unwrap(),
            Declared::Batch
        );
        assert_eq!(
            declared(Some(&with("Application/JSON; charset=utf-8"))).unwrap(),
            Declared::Json
        );
        let err = declared(Some(&with("text/plain"))).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unsupported);
        assert!(err.message().contains("`text/plain`"), "{err}");
    }

    #[test]
    fn a_long_or_hostile_content_type_is_quoted_escaped_and_cut() {
        let hostile = format!("text/\u{1b}[31mred; {}", "x".repeat(10_000));
        let err = declared(Some(&with(&hostile))).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unsupported);
        let message = err.message();
        assert!(!message.contains('\u{1b}'), "{message}");
        assert!(message.contains("text/\\u{1b}[31mred"), "{message}");
        assert!(message.ends_with("...`"), "{message}");
        assert!(message.len() < 400, "{} bytes", message.len());
    }

    #[test]
    fn a_name_a_header_cannot_carry_is_an_encode_error_not_a_panic() {
        assert!(for_payload(FRAME_CONTENT_TYPE, "Chat").is_ok());
        for name in ["bad\r\nInjected: yes", "line\nbreak", " padded", "padded "] {
            let err = for_payload(FRAME_CONTENT_TYPE, name).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Encode, "{name:?}");
            assert!(!err.message().contains('\n'), "{err}");
        }
    }
}
