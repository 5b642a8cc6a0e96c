//! The extractors: [`Hybrid`] (a decoded message) and [`HybridArchive`] (its validated
//! archived view, zero-copy).

use std::fmt;
use std::ops::{Deref, DerefMut};

use axum_core::extract::{FromRequest, OptionalFromRequest, Request};
use bytes::Bytes;
use http::HeaderMap;
use http::header::CONTENT_TYPE;
use serde::de::DeserializeOwned;
use zerocodec::prelude::*;
use zerocodec::{
    BufferPool, Error, ErrorKind, Message, OwnedArchive, ZeroCopy, ZeroCopyDecode, archive, frame,
};
use zerocodec_codecs::{HybridCodec, JsonCodec, RkyvCodec, ZeroCopyEncode};

use crate::format::Format;
use crate::rejection::{HybridRejection, shown};

/// Extractor of a message `T` from a JSON or zerocodec frame body, as its `Content-Type`
/// says: axum's `Json<T>` for services that speak both.
///
/// | `Content-Type` | read as |
/// |---|---|
/// | `application/json`, `application/*+json` | JSON (zerocodec's [`JsonCodec`]: serde_json, at most 127 levels deep, nothing after the value) |
/// | `application/vnd.zerocodec` | a frame ([`HybridCodec`]): rkyv or JSON payload, stored raw or compressed with any algorithm this build reads, schema fingerprint checked when present |
/// | anything else, or none | rejected: 415 |
///
/// Nothing is guessed: a body labelled JSON is read as JSON only, and one labelled as a frame
/// must be a frame (header-less JSON under the frame type is a 400). The body is read under
/// axum's [`DefaultBodyLimit`](axum_core::extract::DefaultBodyLimit) (2 MB unless a layer
/// changes it; 413 above), and a compressed frame decompresses to at most 16 MiB and 64
/// times its compressed size ([`Policy`](zerocodec_codecs::Policy)'s defaults; 413 above).
/// Every other failure is a [`HybridRejection`] whose status says whose fault it is.
///
/// As the last argument of a handler, it consumes the body. As an `Option<Hybrid<T>>` it is
/// `None` when the request has no `Content-Type` (an empty `POST`, say) and rejects as above
/// otherwise, as axum's `Json<T>` does.
///
/// To answer in the format the client asked for (by default, the one it sent), return a
/// [`Reply`](crate::Reply) made by [`ResponseFormat::reply`](crate::ResponseFormat::reply).
/// For the archived view without deserializing, use [`HybridArchive`].
///
/// # Examples
///
/// ```
/// use axum::{Router, http::StatusCode, routing::post};
/// use zerocodec_axum::{Hybrid, Reply, ResponseFormat};
///
/// #[zerocodec::message]
/// struct NewOrder { item: String, quantity: u32 }
///
/// #[zerocodec::message]
/// struct Order { id: u64, item: String, quantity: u32 }
///
/// async fn create(
///     format: ResponseFormat,
///     Hybrid(new): Hybrid<NewOrder>,
/// ) -> (StatusCode, Reply<Order>) {
///     let order = Order { id: 1, item: new.item, quantity: new.quantity };
///     (StatusCode::CREATED, format.reply(order))
/// }
///
/// let app: Router = Router::new().route("/orders", post(create));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[must_use]
pub struct Hybrid<T>(pub T);

impl<T> Hybrid<T>
where
    T: Message + DeserializeOwned + ZeroCopyDecode,
{
    /// Decodes `body` as a message in `format`, as the extractor does once it has read the
    /// body (a request read some other way, a test).
    ///
    /// # Errors
    ///
    /// [`HybridRejection::Decode`] when `body` is not a `T` in `format`.
    pub fn from_bytes(format: Format, body: &[u8]) -> Result<Self, HybridRejection> {
        let decoded = match format {
            Format::Json => decode_json::<T>(body),
            Format::Frame => check_frame(body).and_then(|()| frame_codec::<T>().decode(body)),
        };
        decoded
            .map(Hybrid)
            .map_err(|error| HybridRejection::Decode { format, error })
    }

    /// The message.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T, S> FromRequest<S> for Hybrid<T>
where
    T: Message + DeserializeOwned + ZeroCopyDecode,
    S: Send + Sync,
{
    type Rejection = HybridRejection;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let format = body_format(req.headers())?;
        let body = Bytes::from_request(req, state).await?;
        Self::from_bytes(format, &body)
    }
}

impl<T, S> OptionalFromRequest<S> for Hybrid<T>
where
    T: Message + DeserializeOwned + ZeroCopyDecode,
    S: Send + Sync,
{
    type Rejection = HybridRejection;

    async fn from_request(req: Request, state: &S) -> Result<Option<Self>, Self::Rejection> {
        if !req.headers().contains_key(CONTENT_TYPE) {
            return Ok(None);
        }
        <Self as FromRequest<S>>::from_request(req, state)
            .await
            .map(Some)
    }
}

impl<T> Deref for Hybrid<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> DerefMut for Hybrid<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.0
    }
}

impl<T> From<T> for Hybrid<T> {
    fn from(value: T) -> Self {
        Self(value)
    }
}

/// Extractor of the validated archived view of a message `T` ([`OwnedArchive<T>`]), read in
/// place from a zerocodec frame body: the zero-copy twin of [`Hybrid`].
///
/// It reads the same bodies as [`Hybrid`], under the same limits and with the same
/// rejections, and derefs (through the `OwnedArchive`) to `T`'s archived type:
///
/// - **A raw rkyv frame** is validated once and read in place. When the body's bytes are
///   16-byte aligned they are shared, not copied ([`OwnedArchive::is_shared`]); otherwise
///   they are copied once into a pooled aligned buffer. hyper hands a small body over as a
///   slice of its read buffer, at whatever offset the headers left it, so expect a copy for
///   small bodies and sharing for large ones that arrive in pieces (axum gathers those into
///   one fresh allocation).
/// - **A compressed frame** is decompressed once into a pooled buffer.
/// - **JSON** (a JSON body, or a frame with a JSON payload) is decoded and encoded once as an
///   archive, so an endpoint serves old JSON clients with the same handler. A value that rkyv
///   refuses to archive is a 422 (read it with [`Hybrid`]).
///
/// # Examples
///
/// ```
/// use axum::{Router, routing::post};
/// use zerocodec_axum::{HybridArchive, Reply, ResponseFormat};
///
/// #[zerocodec::message]
/// struct Entry { level: u8, text: String }
///
/// #[zerocodec::message]
/// struct Logs { entries: Vec<Entry> }
///
/// #[zerocodec::message]
/// struct Summary { entries: u64, errors: u64 }
///
/// async fn ingest(format: ResponseFormat, logs: HybridArchive<Logs>) -> Reply<Summary> {
///     // Read in place: no `Logs`, no `String` is built.
///     let errors = logs.entries.iter().filter(|e| e.level >= 4).count();
///     format.reply(Summary { entries: logs.entries.len() as u64, errors: errors as u64 })
/// }
///
/// let app: Router = Router::new().route("/logs", post(ingest));
/// ```
#[must_use]
pub struct HybridArchive<T: ZeroCopy>(pub OwnedArchive<T>);

impl<T> HybridArchive<T>
where
    T: Message + DeserializeOwned + ZeroCopyEncode,
{
    /// Reads `body` as a message in `format`, as the extractor does once it has read the
    /// body. A raw rkyv frame in aligned `Bytes` is shared, not copied.
    ///
    /// # Errors
    ///
    /// [`HybridRejection::Decode`] when `body` is not a `T` in `format`.
    pub fn from_bytes(format: Format, body: Bytes) -> Result<Self, HybridRejection> {
        let archived = match format {
            Format::Json => decode_json::<T>(&body).and_then(archive_value),
            Format::Frame => {
                check_frame(&body).and_then(|()| frame_codec::<T>().access_owned(body))
            }
        };
        archived
            .map(HybridArchive)
            .map_err(|error| HybridRejection::Decode { format, error })
    }
}

impl<T: ZeroCopy> HybridArchive<T> {
    /// The owned archive.
    pub fn into_inner(self) -> OwnedArchive<T> {
        self.0
    }
}

impl<T, S> FromRequest<S> for HybridArchive<T>
where
    T: Message + DeserializeOwned + ZeroCopyEncode,
    S: Send + Sync,
{
    type Rejection = HybridRejection;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let format = body_format(req.headers())?;
        let body = Bytes::from_request(req, state).await?;
        Self::from_bytes(format, body)
    }
}

impl<T, S> OptionalFromRequest<S> for HybridArchive<T>
where
    T: Message + DeserializeOwned + ZeroCopyEncode,
    S: Send + Sync,
{
    type Rejection = HybridRejection;

    async fn from_request(req: Request, state: &S) -> Result<Option<Self>, Self::Rejection> {
        if !req.headers().contains_key(CONTENT_TYPE) {
            return Ok(None);
        }
        <Self as FromRequest<S>>::from_request(req, state)
            .await
            .map(Some)
    }
}

impl<T: ZeroCopy> Deref for HybridArchive<T> {
    type Target = OwnedArchive<T>;

    fn deref(&self) -> &OwnedArchive<T> {
        &self.0
    }
}

impl<T: ZeroCopy> Clone for HybridArchive<T> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<T: ZeroCopy> fmt::Debug for HybridArchive<T>
where
    T::Archived: fmt::Debug,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("HybridArchive").field(&*self.0).finish()
    }
}

/// The format of the body, from `Content-Type`, or the 415 rejection.
fn body_format(headers: &HeaderMap) -> Result<Format, HybridRejection> {
    Format::from_headers(headers).ok_or_else(|| HybridRejection::UnsupportedMediaType {
        found: headers.get(CONTENT_TYPE).map(shown),
    })
}

/// The frame reader: header-less input is not read as legacy JSON here, since the
/// `Content-Type` said frame ([`check_frame`] has already said why, in HTTP's terms).
fn frame_codec<T>() -> HybridCodec<T> {
    HybridCodec::new().with_legacy_json(false)
}

/// A JSON body as a `T`, the error naming `T` by its message name as the frame errors do.
fn decode_json<T: Message + DeserializeOwned>(body: &[u8]) -> zerocodec::Result<T> {
    JsonCodec::<T>::new()
        .decode(body)
        .map_err(|err| err.renaming_type(std::any::type_name::<T>(), T::NAME))
}

/// A decoded value as an owned archive in a pooled buffer.
fn archive_value<T: Message + ZeroCopyEncode>(value: T) -> zerocodec::Result<OwnedArchive<T>> {
    let mut buf = BufferPool::global().take();
    if let Err(err) = RkyvCodec::<T>::new().encode_into(&value, &mut buf) {
        return Err(not_archivable::<T>(&err));
    }
    OwnedArchive::from_pooled(buf, archive::DEFAULT_MAX_DEPTH)
}

/// That a body labelled as a frame begins like one, with an error that says what it looks
/// like instead.
fn check_frame(body: &[u8]) -> zerocodec::Result<()> {
    if frame::is_frame(body) {
        return Ok(());
    }
    Err(not_a_frame(body))
}

#[cold]
fn not_a_frame(body: &[u8]) -> Error {
    match body.first() {
        None => Error::new(
            ErrorKind::Incomplete,
            format!(
                "empty body: expected a zerocodec frame (magic byte {:#04x})",
                frame::MAGIC
            ),
        ),
        Some(&b) => Error::corrupt(format!(
            "expected a zerocodec frame, whose first byte is the magic {:#04x}, found \
             {b:#04x}{}",
            frame::MAGIC,
            if frame::can_begin_json(b) {
                " (JSON is sent as `Content-Type: application/json`)"
            } else {
                ""
            }
        )),
    }
}

#[cold]
fn not_archivable<T: Message>(err: &Error) -> Error {
    Error::new(
        ErrorKind::Unsupported,
        format!(
            "this `{}` arrived as JSON and cannot be archived for access ({}); the endpoint \
             must read it decoded",
            T::NAME,
            err.message()
        ),
    )
}
