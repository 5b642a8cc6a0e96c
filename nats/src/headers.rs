//! The NATS headers a published frame or batch carries, and what a reader accepts.

use async_nats::HeaderMap;
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
pub(crate) fn for_payload(content_type: &'static str, name: &'static str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_TYPE, content_type);
    headers.insert(MESSAGE_NAME, name);
    headers
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
                value.escape_debug()
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
}
