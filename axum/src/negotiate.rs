//! [`ResponseFormat`]: the format a response takes, from the request's `Accept` header.

use axum_core::extract::{FromRequestParts, OptionalFromRequestParts};
use http::HeaderMap;
use http::header::ACCEPT;
use http::request::Parts;

use crate::format::{Format, essence, is_ows};
use crate::rejection::{NotAcceptable, shown};
use crate::reply::Reply;

/// The format a response should take, negotiated from the request's `Accept` header.
///
/// An extractor that reads only headers, so it goes before a body extractor (or alone, on a
/// `GET`):
///
/// - Each format gets the quality (`q`, 1 when absent) of the most specific range in `Accept`
///   that matches its media type: `application/json` or `application/vnd.zerocodec`, then
///   `application/*`, then `*/*`. A format no range matches gets 0; `q=0` refuses a format.
/// - The format with the highest quality wins. On a tie, the format of the request's own
///   body wins (`Content-Type`), so by default a response answers in the format its request
///   came in; with no body format either, JSON wins (any client reads it).
/// - Without an `Accept` header (or with one in which no range parses), the request's body
///   format is used, and JSON when it has none. Parameters of a range other than `q` are
///   ignored (`application/json; charset=utf-8` matches JSON), and so are ranges that do not
///   parse.
/// - When every format gets 0 (`Accept: text/html`, or `application/json;q=0` alone), the
///   request is rejected with **406 Not Acceptable** ([`NotAcceptable`]).
///
/// [`reply`](ResponseFormat::reply) wraps a value in a [`Reply`] in that format, which also
/// says `Vary: Accept` so that caches keep the formats apart.
///
/// As an `Option<ResponseFormat>` it never rejects: `None` where it would answer 406.
///
/// # Examples
///
/// ```
/// use axum::{Router, routing::get};
/// use zerocodec_axum::{Reply, ResponseFormat};
///
/// #[zerocodec::message]
/// struct Health { ok: bool }
///
/// async fn health(format: ResponseFormat) -> Reply<Health> {
///     format.reply(Health { ok: true })
/// }
///
/// let app: Router = Router::new().route("/health", get(health));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ResponseFormat(Format);

impl ResponseFormat {
    /// Negotiates the response format for a request with `headers`, as the extractor does.
    ///
    /// # Errors
    ///
    /// [`NotAcceptable`] when `Accept` refuses every format.
    ///
    /// # Examples
    ///
    /// ```
    /// use http::HeaderMap;
    /// use http::header::{ACCEPT, CONTENT_TYPE};
    /// use zerocodec_axum::{Format, ResponseFormat};
    ///
    /// let mut headers = HeaderMap::new();
    /// headers.insert(CONTENT_TYPE, "application/json".parse().unwrap());
    /// assert_eq!(ResponseFormat::negotiate(&headers)?.format(), Format::Json);
    ///
    /// headers.insert(ACCEPT, "application/json;q=0.5, application/vnd.zerocodec".parse().unwrap());
    /// assert_eq!(ResponseFormat::negotiate(&headers)?.format(), Format::Frame);
    ///
    /// headers.insert(ACCEPT, "text/html".parse().unwrap());
    /// assert!(ResponseFormat::negotiate(&headers).is_err());
    /// # Ok::<(), zerocodec_axum::NotAcceptable>(())
    /// ```
    pub fn negotiate(headers: &HeaderMap) -> Result<Self, NotAcceptable> {
        let fallback = Format::from_headers(headers).unwrap_or(Format::Json);
        let Some(qualities) = qualities(headers) else {
            return Ok(Self(fallback));
        };
        let best = qualities.iter().copied().max().unwrap_or(0);
        if best == 0 {
            let accept = headers
                .get_all(ACCEPT)
                .iter()
                .take(MAX_ACCEPT_SHOWN)
                .map(shown)
                .collect();
            return Err(NotAcceptable::new(accept));
        }
        let winner = if qualities[index(fallback)] == best {
            fallback
        } else {
            Format::ALL
                .into_iter()
                .find(|&format| qualities[index(format)] == best)
                .unwrap_or(fallback)
        };
        Ok(Self(winner))
    }

    /// The negotiated format.
    pub const fn format(self) -> Format {
        self.0
    }

    /// `value` as a response in this format, with `Vary: Accept`.
    pub fn reply<T>(self, value: T) -> Reply<T> {
        Reply::new(self.0, value).with_vary_accept()
    }
}

impl From<ResponseFormat> for Format {
    fn from(format: ResponseFormat) -> Self {
        format.0
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ResponseFormat {
    type Rejection = NotAcceptable;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Self::negotiate(&parts.headers)
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for ResponseFormat {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        Ok(Self::negotiate(&parts.headers).ok())
    }
}

/// How many `Accept` headers a 406 repeats.
const MAX_ACCEPT_SHOWN: usize = 8;

fn index(format: Format) -> usize {
    match format {
        Format::Json => 0,
        Format::Frame => 1,
    }
}

/// The quality of each format (indexed by [`index`]) in thousandths, under every `Accept`
/// header of the request; `None` when there is none, or no range in them parses.
fn qualities(headers: &HeaderMap) -> Option<[u16; 2]> {
    // Per format: the specificity of the best range matching it so far, and its quality.
    let mut best: [Option<(u8, u16)>; 2] = [None; 2];
    let mut any = false;
    for value in headers.get_all(ACCEPT) {
        let Ok(value) = value.to_str() else { continue };
        for range in value.split(',') {
            let Some((kind, subtype, quality)) = parse_range(range) else {
                continue;
            };
            any = true;
            for format in Format::ALL {
                let Some(specificity) = matches(kind, subtype, format) else {
                    continue;
                };
                let slot = &mut best[index(format)];
                *slot = match *slot {
                    // A more specific range decides; among equally specific ones, the
                    // highest quality.
                    Some((s, q)) if s > specificity || (s == specificity && q >= quality) => {
                        Some((s, q))
                    }
                    _ => Some((specificity, quality)),
                };
            }
        }
    }
    any.then(|| best.map(|slot| slot.map_or(0, |(_, q)| q)))
}

/// How specifically the range `kind/subtype` names `format`: 2 for its media type, 1 for
/// `application/*`, 0 for `*/*`; `None` when it does not match.
fn matches(kind: &str, subtype: &str, format: Format) -> Option<u8> {
    let (own_kind, own_subtype) = essence(format.media_type())?;
    if kind == "*" {
        return (subtype == "*").then_some(0);
    }
    if !kind.eq_ignore_ascii_case(own_kind) {
        return None;
    }
    if subtype == "*" {
        Some(1)
    } else {
        subtype.eq_ignore_ascii_case(own_subtype).then_some(2)
    }
}

/// One element of `Accept`: `media-range [ weight ] *( OWS ";" OWS parameter )`; `None` for an
/// empty element, one that does not parse, `*/subtype`, or an invalid `q`.
fn parse_range(range: &str) -> Option<(&str, &str, u16)> {
    let range = range.trim_matches(is_ows);
    if range.is_empty() {
        return None;
    }
    let (kind, subtype) = essence(range)?;
    if kind == "*" && subtype != "*" {
        return None;
    }
    let mut quality = 1000;
    for parameter in range.split(';').skip(1) {
        let Some((name, value)) = parameter.split_once('=') else {
            continue;
        };
        if name.trim_matches(is_ows).eq_ignore_ascii_case("q") {
            quality = parse_quality(value.trim_matches(is_ows))?;
            // What follows the weight is an accept extension, which we do not use.
            break;
        }
    }
    Some((kind, subtype, quality))
}

/// A `qvalue` (RFC 9110 section 12.4.2): `0` to `1` with at most three decimals, in
/// thousandths.
fn parse_quality(value: &str) -> Option<u16> {
    let (whole, fraction) = value.split_once('.').unwrap_or((value, ""));
    if fraction.len() > 3 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut thousandths = 0u16;
    for (i, b) in fraction.bytes().enumerate() {
        thousandths += u16::from(b - b'0') * [100, 10, 1][i];
    }
    match whole {
        "0" => Some(thousandths),
        "1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;
    use http::header::CONTENT_TYPE;

    use super::*;

    fn negotiate(content_type: Option<&str>, accept: &[&str]) -> Option<Format> {
        let mut headers = HeaderMap::new();
        if let Some(content_type) = content_type {
            headers.insert(CONTENT_TYPE, content_type.parse().unwrap());
        }
        for value in accept {
            headers.append(ACCEPT, value.parse().unwrap());
        }
        ResponseFormat::negotiate(&headers)
            .ok()
            .map(ResponseFormat::format)
    }

    const JSON: Option<&str> = Some("application/json");
    const FRAME: Option<&str> = Some("application/vnd.zerocodec");

    #[test]
    fn without_accept_the_request_format_or_json() {
        assert_eq!(negotiate(None, &[]), Some(Format::Json));
        assert_eq!(negotiate(JSON, &[]), Some(Format::Json));
        assert_eq!(negotiate(FRAME, &[]), Some(Format::Frame));
        assert_eq!(negotiate(Some("text/plain"), &[]), Some(Format::Json));
        // A header in which nothing parses counts as absent.
        assert_eq!(negotiate(FRAME, &[""]), Some(Format::Frame));
        assert_eq!(negotiate(FRAME, &[" , ,"]), Some(Format::Frame));
        assert_eq!(negotiate(FRAME, &["garbage"]), Some(Format::Frame));
    }

    #[test]
    fn exact_types_win() {
        assert_eq!(
            negotiate(JSON, &["application/vnd.zerocodec"]),
            Some(Format::Frame)
        );
        assert_eq!(negotiate(FRAME, &["application/json"]), Some(Format::Json));
        assert_eq!(
            negotiate(None, &["APPLICATION/VND.ZEROCODEC"]),
            Some(Format::Frame)
        );
        assert_eq!(
            negotiate(FRAME, &["application/json; charset=utf-8"]),
            Some(Format::Json)
        );
    }

    #[test]
    fn q_values_are_honoured() {
        let accept = "application/json;q=0.5, application/vnd.zerocodec";
        assert_eq!(negotiate(JSON, &[accept]), Some(Format::Frame));
        let accept = "application/json;q=0.9, application/vnd.zerocodec;q=0.8";
        assert_eq!(negotiate(FRAME, &[accept]), Some(Format::Json));
        let accept = "application/vnd.zerocodec ; Q=0.001, application/json;q=0";
        assert_eq!(negotiate(JSON, &[accept]), Some(Format::Frame));
        // Weights with one, two or three decimals, and the largest forms of 1.
        let accept = "application/json;q=0.25, application/vnd.zerocodec;q=0.3";
        assert_eq!(negotiate(JSON, &[accept]), Some(Format::Frame));
        let accept = "application/json;q=1.000, application/vnd.zerocodec;q=0.999";
        assert_eq!(negotiate(FRAME, &[accept]), Some(Format::Json));
    }

    #[test]
    fn ties_go_to_the_request_format_then_json() {
        for accept in [
            "*/*",
            "application/*",
            "application/json, application/vnd.zerocodec",
        ] {
            assert_eq!(negotiate(FRAME, &[accept]), Some(Format::Frame), "{accept}");
            assert_eq!(negotiate(JSON, &[accept]), Some(Format::Json), "{accept}");
            assert_eq!(negotiate(None, &[accept]), Some(Format::Json), "{accept}");
        }
        // A browser's header: both formats only through */* at 0.8.
        let browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
        assert_eq!(negotiate(None, &[browser]), Some(Format::Json));
    }

    #[test]
    fn the_most_specific_range_decides() {
        // */* would allow JSON, but the exact range refuses it.
        let accept = "*/*, application/json;q=0";
        assert_eq!(negotiate(JSON, &[accept]), Some(Format::Frame));
        let accept = "application/*;q=0, application/vnd.zerocodec;q=0.1";
        assert_eq!(negotiate(JSON, &[accept]), Some(Format::Frame));
        let accept = "application/*;q=0.2, */*;q=0.9, application/json;q=0.1";
        // json: exact 0.1; frame: application/* 0.2.
        assert_eq!(negotiate(JSON, &[accept]), Some(Format::Frame));
    }

    #[test]
    fn several_accept_headers_are_one_list() {
        let headers = ["application/json;q=0.1", "application/vnd.zerocodec;q=0.2"];
        assert_eq!(negotiate(JSON, &headers), Some(Format::Frame));
    }

    #[test]
    fn ranges_that_do_not_parse_are_ignored() {
        let accept = "*/json, application/json;q=2, application/json;q=0.1234, \
                      application/json;q=x, /json, application/vnd.zerocodec;q=0.5";
        assert_eq!(negotiate(JSON, &[accept]), Some(Format::Frame));
        assert_eq!(
            negotiate(JSON, &["application/json;q=.5"]),
            Some(Format::Json)
        );
    }

    #[test]
    fn refusing_every_format_is_not_acceptable() {
        for accept in [
            "text/html",
            "application/json;q=0",
            "application/json;q=0, application/vnd.zerocodec;q=0.000",
            "*/*;q=0",
            "application/x-rkyv, application/x-zerocodec-frame",
        ] {
            assert_eq!(negotiate(JSON, &[accept]), None, "{accept}");
        }
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_static("text/html"));
        let err = ResponseFormat::negotiate(&headers).unwrap_err();
        assert_eq!(err.status(), http::StatusCode::NOT_ACCEPTABLE);
        assert!(err.body_text().contains("`Accept: text/html`"), "{err}");
    }

    #[test]
    fn qvalues() {
        for (text, q) in [
            ("0", 0),
            ("0.", 0),
            ("0.5", 500),
            ("0.05", 50),
            ("0.005", 5),
            ("1", 1000),
            ("1.0", 1000),
            ("1.000", 1000),
        ] {
            assert_eq!(parse_quality(text), Some(q), "{text}");
        }
        for text in ["", "2", "1.001", "0.0001", "-0", "0.5x", "01", ".5", "1e0"] {
            assert_eq!(parse_quality(text), None, "{text}");
        }
    }
}
