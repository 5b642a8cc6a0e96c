//! [`Format`]: the two formats a message travels in over HTTP, and the media types that name
//! them.

use std::fmt;

use http::HeaderMap;
use http::header::CONTENT_TYPE;
use zerocodec_codecs::{FRAME_CONTENT_TYPE, JSON_CONTENT_TYPE};

/// The media type of a zerocodec frame: `application/vnd.zerocodec`
/// ([`zerocodec_codecs::FRAME_CONTENT_TYPE`]).
pub const FRAME_MEDIA_TYPE: &str = FRAME_CONTENT_TYPE;

/// The media type of JSON: `application/json`.
pub const JSON_MEDIA_TYPE: &str = JSON_CONTENT_TYPE;

/// A format a message travels in over HTTP.
///
/// | format | `Content-Type` read | `Content-Type` written |
/// |---|---|---|
/// | [`Json`](Format::Json) | `application/json`, and any `application/*+json` | `application/json` |
/// | [`Frame`](Format::Frame) | `application/vnd.zerocodec` | `application/vnd.zerocodec` |
///
/// Media types are compared without regard to case, and their parameters (`charset=utf-8`)
/// are ignored. A frame is what [`HybridCodec`](zerocodec_codecs::HybridCodec) writes: an
/// rkyv (or JSON) payload behind zerocodec's tagged header, with the message type's schema
/// fingerprint, compressed or not (docs/wire-format.md).
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// JSON text, as axum's `Json<T>` reads and writes it.
    Json,
    /// A zerocodec frame.
    Frame,
}

impl Format {
    /// Every format, in the order a tie between them is broken when nothing else decides
    /// (JSON first: any client reads it).
    pub(crate) const ALL: [Format; 2] = [Format::Json, Format::Frame];

    /// The media type this format's responses are labelled with.
    pub const fn media_type(self) -> &'static str {
        match self {
            Format::Json => JSON_MEDIA_TYPE,
            Format::Frame => FRAME_MEDIA_TYPE,
        }
    }

    /// The format a `Content-Type` value names, `None` for any other media type.
    ///
    /// # Examples
    ///
    /// ```
    /// use zerocodec_axum::Format;
    ///
    /// assert_eq!(Format::from_media_type("application/json; charset=utf-8"), Some(Format::Json));
    /// assert_eq!(Format::from_media_type("application/cloudevents+json"), Some(Format::Json));
    /// assert_eq!(Format::from_media_type("Application/VND.zerocodec"), Some(Format::Frame));
    /// assert_eq!(Format::from_media_type("text/json"), None);
    /// ```
    pub fn from_media_type(value: &str) -> Option<Format> {
        let (kind, subtype) = essence(value)?;
        if !kind.eq_ignore_ascii_case("application") {
            return None;
        }
        if subtype.eq_ignore_ascii_case("json") || ends_with_ignore_case(subtype, "+json") {
            Some(Format::Json)
        } else if subtype.eq_ignore_ascii_case(&FRAME_MEDIA_TYPE["application/".len()..]) {
            Some(Format::Frame)
        } else {
            None
        }
    }

    /// The format of a request's body, from its `Content-Type` header: `None` when the header
    /// is missing, is not text, or names another media type.
    pub fn from_headers(headers: &HeaderMap) -> Option<Format> {
        let value = headers.get(CONTENT_TYPE)?.to_str().ok()?;
        Format::from_media_type(value)
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.media_type())
    }
}

/// The `type` and `subtype` of a media type (`type "/" subtype *( OWS ";" OWS parameter )`,
/// RFC 9110 section 8.3.1), trimmed; `None` when either is empty or holds a character a token
/// cannot.
pub(crate) fn essence(value: &str) -> Option<(&str, &str)> {
    let essence = value.split(';').next()?.trim_matches(is_ows);
    let (kind, subtype) = essence.split_once('/')?;
    (is_token(kind) && is_token(subtype)).then_some((kind, subtype))
}

/// Optional whitespace (RFC 9110 section 5.6.3).
pub(crate) fn is_ows(c: char) -> bool {
    c == ' ' || c == '\t'
}

/// A token: one or more `tchar`s (RFC 9110 section 5.6.2).
pub(crate) fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

fn ends_with_ignore_case(s: &str, suffix: &str) -> bool {
    s.len() > suffix.len()
        && s.as_bytes()[s.len() - suffix.len()..].eq_ignore_ascii_case(suffix.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_media_types() {
        for value in [
            "application/json",
            "application/json; charset=utf-8",
            "application/json;charset=utf-8",
            "  APPLICATION/JSON  ",
            "application/problem+json",
            "application/cloudevents+JSON; charset=utf-8",
            "application/vnd.zerocodec+json",
        ] {
            assert_eq!(
                Format::from_media_type(value),
                Some(Format::Json),
                "{value}"
            );
        }
    }

    #[test]
    fn frame_media_types() {
        for value in [
            "application/vnd.zerocodec",
            "application/vnd.zerocodec; v=2",
            "Application/Vnd.ZeroCodec",
        ] {
            assert_eq!(
                Format::from_media_type(value),
                Some(Format::Frame),
                "{value}"
            );
        }
    }

    #[test]
    fn other_media_types_are_none() {
        for value in [
            "",
            "application",
            "application/",
            "/json",
            "text/json",
            "text/plain",
            "application/+json",
            "application/jsonx",
            "application/x-rkyv",
            "application/vnd.zerocodec.batch",
            "application/x-zerocodec-frame",
            "application/json x",
            "multipart/form-data; boundary=x",
        ] {
            assert_eq!(Format::from_media_type(value), None, "{value:?}");
        }
    }

    #[test]
    fn headers_without_a_text_content_type_have_no_format() {
        let mut headers = HeaderMap::new();
        assert_eq!(Format::from_headers(&headers), None);
        headers.insert(
            CONTENT_TYPE,
            http::HeaderValue::from_bytes(b"application/json\xff").unwrap(),
        );
        assert_eq!(Format::from_headers(&headers), None);
        headers.insert(CONTENT_TYPE, FRAME_MEDIA_TYPE.parse().unwrap());
        assert_eq!(Format::from_headers(&headers), Some(Format::Frame));
    }

    #[test]
    fn media_types_and_display() {
        assert_eq!(Format::Json.media_type(), "application/json");
        assert_eq!(Format::Frame.media_type(), "application/vnd.zerocodec");
        assert_eq!(Format::Frame.to_string(), "application/vnd.zerocodec");
        for format in Format::ALL {
            assert_eq!(Format::from_media_type(format.media_type()), Some(format));
        }
    }
}
