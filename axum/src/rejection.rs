//! Rejections: why a request was refused, as a status code and a plain-text body.

use std::error::Error as StdError;
use std::fmt;

use axum_core::extract::rejection::BytesRejection;
use axum_core::response::{IntoResponse, Response};
use http::header::{CONTENT_TYPE, VARY};
use http::{HeaderValue, StatusCode};
use zerocodec::ErrorKind;

use crate::format::{FRAME_MEDIA_TYPE, Format, JSON_MEDIA_TYPE};

/// Why [`Hybrid`](crate::Hybrid) or [`HybridArchive`](crate::HybridArchive) refused a request.
///
/// Each variant answers with its status code and a plain-text body that says what was
/// expected and what was found (never the request's bytes, nor an address):
///
/// | variant | status |
/// |---|---|
/// | [`UnsupportedMediaType`](Self::UnsupportedMediaType): no `Content-Type`, or one this extractor does not read | 415 |
/// | [`Body`](Self::Body): the body is over the limit ([`DefaultBodyLimit`](axum_core::extract::DefaultBodyLimit), 2 MB unless changed) | 413 |
/// | [`Body`](Self::Body): the body could not be read | 400 |
/// | [`Decode`](Self::Decode), by the error's [`ErrorKind`]: | |
/// | malformed bytes (`Corrupt`, `Incomplete`, `ChecksumMismatch`, ...) | 400 |
/// | a well-formed message of the wrong shape (JSON of another shape) or fingerprint (a frame written for another type): `TypeMismatch`; a JSON message rkyv cannot archive for [`HybridArchive`](crate::HybridArchive): `Unsupported` | 422 |
/// | a frame over a limit once decompressed, or claiming to be (`TooLarge`) | 413 |
/// | a frame naming a version, codec, compression or dictionary this server does not read (`Unknown*`) | 415 |
#[non_exhaustive]
#[derive(Debug)]
pub enum HybridRejection {
    /// The request's `Content-Type` is missing or names a media type this extractor does not
    /// read (415).
    UnsupportedMediaType {
        /// The `Content-Type` found (printable ASCII, shortened), `None` when there was none.
        found: Option<String>,
    },
    /// The body could not be read: over the body limit (413), or cut off (400). axum's own
    /// rejection, as its `Json<T>` reports it.
    Body(BytesRejection),
    /// The body is not a valid message in the format its `Content-Type` names.
    Decode {
        /// The format the body was read as.
        format: Format,
        /// Why it is not a message.
        error: zerocodec::Error,
    },
}

impl HybridRejection {
    /// The response's status code.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::UnsupportedMediaType { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Body(rejection) => rejection.status(),
            Self::Decode { error, .. } => status_of(error.kind()),
        }
    }

    /// The response's body: what was expected and what was found.
    pub fn body_text(&self) -> String {
        match self {
            Self::UnsupportedMediaType { found } => format!(
                "Expected request with `Content-Type: {JSON_MEDIA_TYPE}` (or another \
                 `application/*+json`) or `Content-Type: {FRAME_MEDIA_TYPE}`, found {}",
                match found {
                    Some(found) => format!("`Content-Type: {found}`"),
                    None => "no Content-Type".to_owned(),
                }
            ),
            Self::Body(rejection) => rejection.body_text(),
            Self::Decode { format, error } => {
                format!("Failed to decode the {format} request body: {error}")
            }
        }
    }

    /// The zerocodec error, for a [`Decode`](Self::Decode) rejection.
    pub fn decode_error(&self) -> Option<&zerocodec::Error> {
        match self {
            Self::Decode { error, .. } => Some(error),
            _ => None,
        }
    }
}

/// The status for a decode error of `kind`.
fn status_of(kind: ErrorKind) -> StatusCode {
    match kind {
        ErrorKind::TypeMismatch | ErrorKind::Unsupported => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorKind::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorKind::UnknownVersion
        | ErrorKind::UnknownCodec
        | ErrorKind::UnknownCompression
        | ErrorKind::UnknownDictionary => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        _ => StatusCode::BAD_REQUEST,
    }
}

impl fmt::Display for HybridRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.body_text())
    }
}

impl StdError for HybridRejection {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match self {
            Self::UnsupportedMediaType { .. } => None,
            Self::Body(rejection) => Some(rejection),
            Self::Decode { error, .. } => Some(error),
        }
    }
}

impl From<BytesRejection> for HybridRejection {
    fn from(rejection: BytesRejection) -> Self {
        Self::Body(rejection)
    }
}

impl IntoResponse for HybridRejection {
    fn into_response(self) -> Response {
        text_response(self.status(), self.body_text())
    }
}

/// The request's `Accept` header refuses every format a [`Reply`](crate::Reply) can take
/// (406). From [`ResponseFormat`](crate::ResponseFormat).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotAcceptable {
    accept: Vec<String>,
}

impl NotAcceptable {
    pub(crate) fn new(accept: Vec<String>) -> Self {
        Self { accept }
    }

    /// The `Accept` header values found (printable ASCII, shortened; the first 8).
    pub fn accept(&self) -> &[String] {
        &self.accept
    }

    /// The response's status code: 406 Not Acceptable.
    pub fn status(&self) -> StatusCode {
        StatusCode::NOT_ACCEPTABLE
    }

    /// The response's body: what was offered and what was asked for.
    pub fn body_text(&self) -> String {
        format!(
            "Expected a request that accepts `{JSON_MEDIA_TYPE}` or `{FRAME_MEDIA_TYPE}`, \
             found `Accept: {}`",
            self.accept.join(", ")
        )
    }
}

impl fmt::Display for NotAcceptable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.body_text())
    }
}

impl StdError for NotAcceptable {}

impl IntoResponse for NotAcceptable {
    fn into_response(self) -> Response {
        let mut response = text_response(self.status(), self.body_text());
        response
            .headers_mut()
            .insert(VARY, HeaderValue::from_static("accept"));
        response
    }
}

/// A plain-text response, as axum's own rejections are.
pub(crate) fn text_response(status: StatusCode, body: String) -> Response {
    (
        status,
        [(
            CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        )],
        body,
    )
        .into_response()
}

/// The longest header value a rejection repeats, in characters.
const MAX_SHOWN: usize = 100;

/// A header value as a rejection repeats it: printable ASCII (anything else becomes `?`),
/// at most [`MAX_SHOWN`] characters.
pub(crate) fn shown(value: &HeaderValue) -> String {
    let bytes = value.as_bytes();
    let mut text: String = bytes
        .iter()
        .take(MAX_SHOWN)
        .map(|&b| {
            if b == b' ' || b.is_ascii_graphic() {
                char::from(b)
            } else {
                '?'
            }
        })
        .collect();
    if bytes.len() > MAX_SHOWN {
        text.push_str("...");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_by_error_kind() {
        let status = |kind| {
            HybridRejection::Decode {
                format: Format::Frame,
                error: zerocodec::Error::new(kind, "x"),
            }
            .status()
            .as_u16()
        };
        assert_eq!(status(ErrorKind::Corrupt), 400);
        assert_eq!(status(ErrorKind::Incomplete), 400);
        assert_eq!(status(ErrorKind::ChecksumMismatch), 400);
        assert_eq!(status(ErrorKind::TypeMismatch), 422);
        assert_eq!(status(ErrorKind::Unsupported), 422);
        assert_eq!(status(ErrorKind::TooLarge), 413);
        assert_eq!(status(ErrorKind::UnknownVersion), 415);
        assert_eq!(status(ErrorKind::UnknownCodec), 415);
        assert_eq!(status(ErrorKind::UnknownCompression), 415);
        assert_eq!(status(ErrorKind::UnknownDictionary), 415);
    }

    #[test]
    fn shown_header_values_are_printable_and_short() {
        let value = HeaderValue::from_bytes(b"text/plain\x80\xff; x=\"\t\"").unwrap();
        assert_eq!(shown(&value), "text/plain??; x=\"?\"");
        let long = HeaderValue::from_str(&"a".repeat(500)).unwrap();
        assert_eq!(shown(&long), format!("{}...", "a".repeat(MAX_SHOWN)));
    }

    #[test]
    fn bodies_say_what_was_expected_and_found() {
        let missing = HybridRejection::UnsupportedMediaType { found: None };
        assert_eq!(missing.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
        assert_eq!(
            missing.body_text(),
            "Expected request with `Content-Type: application/json` (or another \
             `application/*+json`) or `Content-Type: application/vnd.zerocodec`, found no \
             Content-Type"
        );
        let decode = HybridRejection::Decode {
            format: Format::Json,
            error: zerocodec::Error::corrupt("invalid JSON"),
        };
        assert_eq!(
            decode.to_string(),
            "Failed to decode the application/json request body: corrupt: invalid JSON"
        );
        assert!(decode.source().is_some());
        assert!(decode.decode_error().is_some_and(|e| e.is_corrupt()));
    }
}
