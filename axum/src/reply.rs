//! [`Reply`]: a message as a response, in JSON or as a zerocodec frame.

use axum_core::body::Body;
use axum_core::response::{IntoResponse, Response};
use http::header::{CONTENT_TYPE, VARY};
use http::{HeaderValue, StatusCode};
use serde::Serialize;
use zerocodec::Message;
use zerocodec::prelude::*;
use zerocodec_codecs::{HybridCodec, JsonCodec, ZeroCopyEncode};

use crate::format::{FRAME_MEDIA_TYPE, Format, JSON_MEDIA_TYPE};
use crate::rejection::text_response;

/// A message as a response: JSON (`application/json`) or a zerocodec frame
/// (`application/vnd.zerocodec`), the format chosen by the server or negotiated from the
/// request ([`ResponseFormat::reply`](crate::ResponseFormat::reply), which also says
/// `Vary: Accept`).
///
/// JSON is written by zerocodec's [`JsonCodec`] and frames by a default [`HybridCodec`]
/// (rkyv payload, schema fingerprint, no compression: compress HTTP bodies with a
/// `Content-Encoding` layer such as tower-http's). A value the format cannot represent (a NaN
/// in JSON) is answered with **500** and a plain-text body naming the field, as axum's
/// `Json<T>` does.
///
/// The status is 200; pair it with another in a tuple: `(StatusCode::CREATED, reply)`.
///
/// # Examples
///
/// ```
/// use axum::response::IntoResponse;
/// use zerocodec_axum::{Format, Reply};
///
/// #[zerocodec::message]
/// struct Pong { seq: u64 }
///
/// let response = Reply::new(Format::Frame, Pong { seq: 7 }).into_response();
/// assert_eq!(response.headers()["content-type"], "application/vnd.zerocodec");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[must_use]
pub struct Reply<T> {
    value: T,
    format: Format,
    vary_accept: bool,
}

impl<T> Reply<T> {
    /// `value` as a response in `format`.
    pub const fn new(format: Format, value: T) -> Self {
        Self {
            value,
            format,
            vary_accept: false,
        }
    }

    /// `value` as a JSON response.
    pub const fn json(value: T) -> Self {
        Self::new(Format::Json, value)
    }

    /// `value` as a frame response.
    pub const fn frame(value: T) -> Self {
        Self::new(Format::Frame, value)
    }

    /// Adds `Vary: Accept` to the response (what a negotiated response says).
    pub const fn with_vary_accept(mut self) -> Self {
        self.vary_accept = true;
        self
    }

    /// The format the response will take.
    pub const fn format(&self) -> Format {
        self.format
    }

    /// The message.
    pub fn into_inner(self) -> T {
        self.value
    }
}

impl<T> IntoResponse for Reply<T>
where
    T: Message + Serialize + ZeroCopyEncode,
{
    fn into_response(self) -> Response {
        let (encoded, media_type) = match self.format {
            Format::Json => (JsonCodec::<T>::new().encode(&self.value), JSON_MEDIA_TYPE),
            Format::Frame => (
                HybridCodec::<T>::new().encode(&self.value),
                FRAME_MEDIA_TYPE,
            ),
        };
        let mut response = match encoded {
            Ok(body) => {
                let mut response = Response::new(Body::from(body));
                response
                    .headers_mut()
                    .insert(CONTENT_TYPE, HeaderValue::from_static(media_type));
                response
            }
            Err(err) => text_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!(
                    "Failed to encode the response as {media_type}: {}",
                    err.renaming_type(std::any::type_name::<T>(), T::NAME)
                ),
            ),
        };
        if self.vary_accept {
            response
                .headers_mut()
                .append(VARY, HeaderValue::from_static("accept"));
        }
        response
    }
}
