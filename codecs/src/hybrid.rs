//! [`HybridCodec`]: rkyv frames with a JSON fallback, readable beside header-less legacy JSON.

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use serde::Serialize;
use serde::de::DeserializeOwned;
use zerocodec::BufferPool;
use zerocodec::archive;
use zerocodec::bytes::Bytes;
use zerocodec::frame::{self, Frame, FrameHeader, FrameWriter};
use zerocodec::transform::with_scratch;
use zerocodec::{
    Codec, CodecId, CompressionId, EncodeBuf, Error, ErrorKind, Message, Metrics, OwnedArchive,
    Result, Transform, ZeroCopyCodec, ZeroCopyDecode, ZeroCopyEncode,
};

#[cfg(doc)]
use crate::JsonCodec;
use crate::RkyvCodec;

/// The MIME type of [`HybridCodec`]'s encoding.
pub const FRAME_CONTENT_TYPE: &str = "application/x-zerocodec-frame";

/// What a [`HybridCodec`] needs of a message type: a wire identity, serde for JSON, and rkyv
/// for archives.
///
/// Implemented for every type with all of them; `#[zerocodec::message]` (zerocodec's
/// `derive` feature) derives them in one line.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot travel in a `HybridCodec`: it is not a complete hybrid message",
    label = "`{Self}` does not implement `HybridMessage`",
    note = "a hybrid message implements `zerocodec::Message`, serde's `Serialize` and `Deserialize`, and rkyv's `Archive`, `Serialize` and `Deserialize`",
    note = "`#[zerocodec::message]` above the type derives all of them; `#[derive(zerocodec::Message)]` adds only `Message`; both need zerocodec's `derive` feature"
)]
pub trait HybridMessage:
    Message + Serialize + DeserializeOwned + ZeroCopyEncode + ZeroCopyDecode
{
}
impl<T> HybridMessage for T where
    T: Message + Serialize + DeserializeOwned + ZeroCopyEncode + ZeroCopyDecode
{
}

/// The codec a [`HybridCodec`] tries first when encoding.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Primary {
    /// rkyv archives, falling back to JSON for values rkyv cannot encode (the default).
    Rkyv,
    /// JSON inside frames (the first step of a migration: frame the old format, then switch).
    Json,
}

/// One message type on one wire in rkyv *and* JSON, framed by zerocodec's tagged header
/// ([`zerocodec::frame`], `docs/wire-format.md`).
///
/// **Encoding** writes a frame: header, then the payload from the primary codec (rkyv by
/// default). When rkyv fails to encode a value (a `with` wrapper refusing it, say), the value
/// is written as JSON instead and the fallback is counted. The header records the type's
/// [`Message::SCHEMA_FINGERPRINT`] (unless turned off) and, when turned on, a CRC-32C of the
/// frame.
///
/// **Decoding** dispatches on the header's codec id. Input whose first byte is not the frame
/// magic is header-less legacy JSON (the magic can never begin a JSON text, so this is
/// certain, not a guess) and is decoded with [`JsonCodec`]. A reader rejects, each with its
/// own [`ErrorKind`]: an unknown version (`UnknownVersion`) or codec (`UnknownCodec`), lengths
/// that overrun the input (`Incomplete`), a bad checksum (`ChecksumMismatch`), and a frame
/// written for another type (`TypeMismatch`, naming the expected type and both fingerprints).
/// Frames without a fingerprint are accepted for any type.
///
/// **Zero-copy**: [`access`](ZeroCopyCodec::access) returns the archived payload borrowed from
/// the frame when the payload is 16-byte aligned (it is whenever the frame buffer is, since
/// the header of a raw payload is padded to 16 or 32 bytes) and fails with
/// [`ErrorKind::Unaligned`] otherwise.
/// [`access_owned`](ZeroCopyCodec::access_owned) shares aligned `Bytes` and copies unaligned
/// ones once. A JSON payload (framed or legacy) has no archive to borrow: `access` fails with
/// [`ErrorKind::Unsupported`], and `access_owned` decodes the JSON and re-encodes it as an
/// owned archive, so a reader can use `access_owned` on every message during a migration.
///
/// **Compression**: the hooks [`Codec::encode_transformed_into`],
/// [`Codec::decode_transformed`] and [`ZeroCopyCodec::access_transformed`] record the
/// compression id, dictionary id and uncompressed length in the frame header (not in the
/// default transform prefix). A payload the transform stores raw stays readable in place.
///
/// # Examples
///
/// ```
/// use zerocodec::{Codec, Message, ZeroCopyCodec};
/// use zerocodec_codecs::{HybridCodec, JsonCodec};
///
/// #[derive(serde::Serialize, serde::Deserialize, rkyv::Archive, rkyv::Serialize,
///          rkyv::Deserialize, Debug, PartialEq)]
/// struct Ping { seq: u64 }
/// impl Message for Ping {
///     const NAME: &'static str = "Ping";
///     const SCHEMA_FINGERPRINT: u64 = 0x5049_4e47_0000_0001;
/// }
///
/// let codec = HybridCodec::<Ping>::new();
/// let frame = codec.encode(&Ping { seq: 7 })?; // 16-byte aligned `Bytes`
/// assert_eq!(codec.access(&frame)?.seq, 7); // read in place, no copy
///
/// let legacy = JsonCodec.encode(&Ping { seq: 8 })?; // an old writer
/// assert_eq!(codec.decode(&legacy)?, Ping { seq: 8 });
/// # Ok::<(), zerocodec::Error>(())
/// ```
pub struct HybridCodec<T> {
    rkyv: RkyvCodec,
    primary: Primary,
    checksum: bool,
    fingerprint: bool,
    version: u8,
    accept_legacy: bool,
    metrics: Option<Arc<Metrics>>,
    _type: PhantomData<fn() -> T>,
}

impl<T> HybridCodec<T> {
    /// rkyv primary with JSON fallback, fingerprint on (a 16-byte header on a raw payload,
    /// 15 to 19 bytes on a small compressed one), checksum off, legacy JSON accepted, no
    /// metrics, frames of the current format version ([`frame::VERSION`]).
    ///
    /// The checksum is off by default because it is the header's main cost on small messages
    /// (a CRC-32C over the whole frame: about +20 ns per encode and +16 ns per access on a
    /// 160-byte ChatMessage frame, where the rest of the header costs about +8 ns and +15 ns;
    /// `cargo bench --bench header`), and most deployments already have one below (TCP) or
    /// above (a checksummed batch). Turn it on with
    /// [`with_checksum`](Self::with_checksum) for storage or untrusted links.
    pub const fn new() -> Self {
        Self {
            rkyv: RkyvCodec::new(),
            primary: Primary::Rkyv,
            checksum: false,
            fingerprint: true,
            version: frame::VERSION,
            accept_legacy: true,
            metrics: None,
            _type: PhantomData,
        }
    }

    /// The smallest header: no checksum, no fingerprint (16 bytes on a raw payload).
    pub const fn compact() -> Self {
        Self::new().with_checksum(false).with_fingerprint(false)
    }

    /// Writes a CRC-32C of each frame (off by default; readers always verify one that is
    /// present).
    #[must_use]
    pub const fn with_checksum(mut self, on: bool) -> Self {
        self.checksum = on;
        self
    }

    /// Writes the type's schema fingerprint in each frame (on by default; readers always check
    /// one that is present).
    #[must_use]
    pub const fn with_fingerprint(mut self, on: bool) -> Self {
        self.fingerprint = on;
        self
    }

    /// Writes frames in format `version` (one of [`frame::VERSIONS`]; the current one,
    /// [`frame::VERSION`], by default). Readers read every version whatever this says: pin
    /// writers to version 1 only while readers that know nothing newer are still deployed.
    ///
    /// # Panics
    ///
    /// If `version` is not one of [`frame::VERSIONS`].
    #[must_use]
    pub const fn with_format_version(mut self, version: u8) -> Self {
        self.version = frame::writable_version(version);
        self
    }

    /// The frame format version this codec writes.
    pub const fn format_version(&self) -> u8 {
        self.version
    }

    /// Chooses the codec tried first when encoding.
    #[must_use]
    pub const fn with_primary(mut self, primary: Primary) -> Self {
        self.primary = primary;
        self
    }

    /// Accepts header-less legacy JSON when decoding (on by default). When off, such input
    /// is rejected with [`ErrorKind::Corrupt`].
    #[must_use]
    pub const fn with_legacy_json(mut self, on: bool) -> Self {
        self.accept_legacy = on;
        self
    }

    /// Uses `rkyv` (for example with another validation depth) for rkyv payloads.
    #[must_use]
    pub const fn with_rkyv(mut self, rkyv: RkyvCodec) -> Self {
        self.rkyv = rkyv;
        self
    }

    /// Counts every operation in `metrics` (one relaxed atomic add per counter and event).
    #[must_use]
    pub fn with_metrics(mut self, metrics: Arc<Metrics>) -> Self {
        self.metrics = Some(metrics);
        self
    }

    /// The counters, when metrics are on.
    pub fn metrics(&self) -> Option<&Arc<Metrics>> {
        self.metrics.as_ref()
    }

    /// The primary codec.
    pub const fn primary(&self) -> Primary {
        self.primary
    }
}

impl<T> Default for HybridCodec<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Clone for HybridCodec<T> {
    fn clone(&self) -> Self {
        Self {
            rkyv: self.rkyv,
            primary: self.primary,
            checksum: self.checksum,
            fingerprint: self.fingerprint,
            version: self.version,
            accept_legacy: self.accept_legacy,
            metrics: self.metrics.clone(),
            _type: PhantomData,
        }
    }
}

impl<T> fmt::Debug for HybridCodec<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HybridCodec")
            .field("type", &std::any::type_name::<T>())
            .field("primary", &self.primary)
            .field("checksum", &self.checksum)
            .field("fingerprint", &self.fingerprint)
            .field("format_version", &self.version)
            .field("accept_legacy", &self.accept_legacy)
            .field("metrics", &self.metrics.is_some())
            .finish()
    }
}

/// What a checked input turned out to be.
enum Opened<'a> {
    /// Header-less legacy JSON.
    Legacy(&'a [u8]),
    /// A frame whose structure, checksum, codec and fingerprint were checked.
    Framed(Frame<'a>),
}

impl<T: HybridMessage> HybridCodec<T> {
    /// [`Codec::decode`] with the type named at the call.
    ///
    /// # Errors
    ///
    /// As [`Codec::decode`].
    #[inline]
    pub fn decode(&self, bytes: &[u8]) -> Result<T> {
        <Self as Codec<T>>::decode(self, bytes)
    }

    /// [`ZeroCopyCodec::access`] with the type named at the call.
    ///
    /// # Errors
    ///
    /// As [`ZeroCopyCodec::access`].
    #[inline]
    pub fn access<'a>(&self, bytes: &'a [u8]) -> Result<&'a T::Archived> {
        <Self as ZeroCopyCodec<T>>::access(self, bytes)
    }

    /// Parses and checks the header, the lengths, the checksum, the codec and the fingerprint.
    #[inline]
    fn open<'a>(&self, bytes: &'a [u8]) -> Result<Opened<'a>> {
        if !frame::is_frame(bytes) {
            if !self.accept_legacy {
                return Err(legacy_refused(bytes));
            }
            return Ok(Opened::Legacy(bytes));
        }
        let frame = Frame::parse(bytes)?;
        let header = frame.header();
        if header.codec != CodecId::RKYV && header.codec != CodecId::JSON {
            return Err(unknown_codec(header.codec));
        }
        if let Some(found) = header.fingerprint {
            if found != T::SCHEMA_FINGERPRINT {
                return Err(fingerprint_mismatch::<T>(found));
            }
        }
        Ok(Opened::Framed(frame))
    }

    /// Encodes the payload with the primary codec, falling back to JSON.
    fn encode_payload<B: EncodeBuf>(&self, value: &T, out: &mut B) -> Result<CodecId> {
        if self.primary == Primary::Json {
            return crate::json::encode_into(value, out, T::NAME).map(|()| CodecId::JSON);
        }
        match self.rkyv.encode_into(value, out) {
            Ok(()) => {
                if let Some(m) = &self.metrics {
                    m.record_rkyv_encode();
                }
                Ok(CodecId::RKYV)
            }
            Err(rkyv_err) => {
                if let Some(m) = &self.metrics {
                    m.record_fallback();
                }
                crate::json::encode_into(value, out, T::NAME).map_err(|json_err| {
                    Error::new(
                        ErrorKind::Encode,
                        format!(
                            "`{}` could be encoded neither as rkyv ({}) nor as JSON ({})",
                            T::NAME,
                            rkyv_err.message(),
                            json_err.message()
                        ),
                    )
                    .with_source(json_err)
                })?;
                Ok(CodecId::JSON)
            }
        }
    }

    fn header_for(&self, codec: CodecId) -> FrameHeader {
        let mut header = FrameHeader::new(codec).with_version(self.version);
        if self.checksum {
            header = header.with_checksum();
        }
        if self.fingerprint {
            header = header.with_fingerprint(T::SCHEMA_FINGERPRINT);
        }
        header
    }

    /// The hottest path of the read methods: the payload of a raw rkyv frame as this codec
    /// writes it (version 2, no checksum, the fingerprint if this codec sets it), recognized
    /// by one comparison with the header it must have, when metrics are off (they are
    /// counted on the full path). Any other frame goes to the `*_full` methods below.
    #[inline(always)]
    fn default_payload<'a>(&self, bytes: &'a [u8]) -> Option<&'a [u8]> {
        if self.metrics.is_some() || self.checksum || self.version != 2 {
            return None;
        }
        let fingerprint = self.fingerprint.then_some(T::SCHEMA_FINGERPRINT);
        Frame::raw_v2_payload(bytes, CodecId::RKYV, fingerprint)
    }

    /// The next fastest path: where the payload of a valid version 2 frame holding a raw
    /// rkyv or JSON payload of this type starts (it runs to the end), and which of the two it
    /// is, when metrics are off. `None` sends the caller to the full path, which reads
    /// everything else and names what is wrong; all paths give the same results
    /// (tests/hybrid.rs checks).
    #[inline(always)]
    fn valid_payload(&self, bytes: &[u8]) -> Option<(CodecId, usize)> {
        if self.metrics.is_some() {
            return None;
        }
        let frame = Frame::parse_valid(bytes)?;
        let header = frame.header();
        let ours = (header.codec == CodecId::RKYV || header.codec == CodecId::JSON)
            && !header.is_compressed()
            && header
                .fingerprint
                .is_none_or(|f| f == T::SCHEMA_FINGERPRINT);
        ours.then_some((header.codec, header.len()))
    }

    // The other read paths, out of line so that the default path keeps its registers (and
    // skips a prologue saving them) on every call.

    #[inline(never)]
    fn decode_full(&self, bytes: &[u8]) -> Result<T> {
        if let Some((codec, start)) = self.valid_payload(bytes) {
            return self.decode_payload(codec, &bytes[start..]);
        }
        self.observe_decode(bytes.len(), || match self.open(bytes)? {
            Opened::Legacy(json) => Ok((decode_json::<T>(json, true)?, true)),
            Opened::Framed(frame) => {
                let header = frame.header();
                if header.compression != CompressionId::NONE {
                    return Err(compressed_without_transform(header));
                }
                Ok((self.decode_payload(header.codec, frame.payload())?, false))
            }
        })
    }

    #[inline(never)]
    fn access_full<'a>(&self, bytes: &'a [u8]) -> Result<&'a T::Archived> {
        // A JSON payload takes the full path, which says it cannot be borrowed.
        if let Some((CodecId::RKYV, start)) = self.valid_payload(bytes) {
            return archive::access_with_depth::<T>(&bytes[start..], self.rkyv.max_depth());
        }
        self.observe_access(bytes.len(), || match self.open(bytes)? {
            Opened::Legacy(_) => Err(json_not_accessible("header-less legacy JSON")),
            Opened::Framed(frame) => {
                let header = frame.header();
                if header.compression != CompressionId::NONE {
                    return Err(compressed_without_transform(header));
                }
                if header.codec == CodecId::JSON {
                    return Err(json_not_accessible("a JSON payload"));
                }
                let view = archive::access_with_depth::<T>(frame.payload(), self.rkyv.max_depth())?;
                Ok((view, false))
            }
        })
    }

    #[inline(never)]
    fn access_owned_full(&self, bytes: Bytes) -> Result<OwnedArchive<T>> {
        if let Some((codec, start)) = self.valid_payload(&bytes) {
            let range = start..bytes.len();
            return self.archive_payload(codec, bytes.clone(), range);
        }
        self.observe_access(bytes.len(), || match self.open(&bytes)? {
            Opened::Legacy(json) => Ok((self.archive_json(json, true)?, true)),
            Opened::Framed(frame) => {
                let header = frame.header();
                if header.compression != CompressionId::NONE {
                    return Err(compressed_without_transform(header));
                }
                let range = header.payload_range();
                Ok((
                    self.archive_payload(header.codec, bytes.clone(), range)?,
                    false,
                ))
            }
        })
    }

    /// Room for the header of a raw payload (JSON and rkyv headers are the same length).
    #[inline]
    fn header_len(&self) -> usize {
        if self.version == 2 && !self.checksum {
            // With or without the fingerprint, under 256 MiB (`reserve_len`'s assumption);
            // a shortcut past building the header, which stays the definition.
            debug_assert_eq!(self.header_for(CodecId::RKYV).reserve_len(), 16);
            16
        } else {
            self.header_for(CodecId::RKYV).reserve_len()
        }
    }

    /// Decodes a raw (decompressed) payload written by `codec`.
    fn decode_payload(&self, codec: CodecId, payload: &[u8]) -> Result<T> {
        if codec == CodecId::RKYV {
            Codec::<T>::decode(&self.rkyv, payload)
        } else {
            decode_json::<T>(payload, false)
        }
    }

    /// The archive of a JSON text: decoded, then re-encoded once as an owned archive.
    ///
    /// A value rkyv refuses to encode is exactly what a writer sends as a JSON fallback, so
    /// that refusal is reported as a read-side `Unsupported` error that says to decode
    /// instead, never as an encode error on a read path.
    fn archive_json(&self, json: &[u8], legacy: bool) -> Result<OwnedArchive<T>> {
        let value: T = decode_json::<T>(json, legacy)?;
        let mut buf = BufferPool::global().take();
        if let Err(err) = self.rkyv.encode_into(&value, &mut buf) {
            return Err(not_archivable::<T>(&err));
        }
        OwnedArchive::from_pooled_with_depth(buf, self.rkyv.max_depth())
    }

    /// The owned archive of a raw payload at `range` inside `bytes`.
    fn archive_payload(
        &self,
        codec: CodecId,
        bytes: Bytes,
        range: std::ops::Range<usize>,
    ) -> Result<OwnedArchive<T>> {
        if codec == CodecId::RKYV {
            self.rkyv.access_owned(bytes.slice(range))
        } else {
            self.archive_json(&bytes[range], false)
        }
    }

    /// Runs an encode, counting it when metrics are on.
    #[inline]
    fn observe_encode<B: EncodeBuf>(
        &self,
        out: &mut B,
        encode: impl FnOnce(&mut B) -> Result<()>,
    ) -> Result<()> {
        let Some(m) = &self.metrics else {
            return encode(out);
        };
        let timer = m.start_timer();
        let start = out.len();
        let result = encode(out);
        m.record_encode_time(timer);
        if result.is_ok() {
            m.record_encode(out.len() - start);
        }
        m.track(result)
    }

    /// Runs a decode of `len` input bytes, counting it when metrics are on. `decode` returns
    /// the value and whether the input was legacy JSON.
    #[inline]
    fn observe_decode<R>(
        &self,
        len: usize,
        decode: impl FnOnce() -> Result<(R, bool)>,
    ) -> Result<R> {
        self.observe_read(len, Metrics::record_decode, decode)
    }

    /// [`observe_decode`](Self::observe_decode) for an access, counted apart from decodes.
    #[inline]
    fn observe_access<R>(
        &self,
        len: usize,
        access: impl FnOnce() -> Result<(R, bool)>,
    ) -> Result<R> {
        self.observe_read(len, Metrics::record_access, access)
    }

    #[inline]
    fn observe_read<R>(
        &self,
        len: usize,
        record: fn(&Metrics, usize),
        read: impl FnOnce() -> Result<(R, bool)>,
    ) -> Result<R> {
        let Some(m) = &self.metrics else {
            return read().map(|(value, _)| value);
        };
        let timer = m.start_timer();
        let result = read();
        m.record_decode_time(timer);
        if let Ok((_, legacy)) = &result {
            record(m, len);
            if *legacy {
                m.record_legacy_decode();
            }
        }
        m.track(result.map(|(value, _)| value))
    }
}

/// `err` naming `T` by its message name, as the frame and JSON errors do, where a lower layer
/// (the rkyv codec, the archive) named its Rust type.
#[cold]
fn named<T: Message>(err: Error) -> Error {
    err.renaming_type(std::any::type_name::<T>(), T::NAME)
}

/// Decodes a JSON text (a frame's JSON payload, or header-less legacy input) as a `T`, naming
/// the message (not the Rust type) in errors, as the frame errors do.
#[inline]
fn decode_json<T: HybridMessage>(json: &[u8], legacy: bool) -> Result<T> {
    serde_json::from_slice(json).map_err(|err| json_error::<T>(json, legacy, err))
}

/// Why a JSON text is not a `T`. For header-less input, says first whether it could be JSON
/// at all: empty input, or a first byte that begins neither a frame nor a JSON text, would
/// otherwise read as "truncated JSON" or "invalid JSON".
#[cold]
#[inline(never)]
fn json_error<T: Message>(json: &[u8], legacy: bool, err: serde_json::Error) -> Error {
    if legacy {
        match json.first() {
            None => {
                return Error::new(
                    ErrorKind::Incomplete,
                    format!(
                        "empty input: expected a frame (magic byte {:#04x}) or a legacy JSON `{}`",
                        frame::MAGIC,
                        T::NAME
                    ),
                );
            }
            Some(&b) if !frame::can_begin_json(b) => {
                return Error::corrupt(format!(
                    "input is neither a frame (its first byte {b:#04x} is not the frame magic \
                     {:#04x}) nor a legacy JSON `{}` (JSON begins with whitespace, `{{`, `[`, \
                     `\"`, `-`, a digit, `t`, `f` or `n`)",
                    frame::MAGIC,
                    T::NAME
                ))
                .with_source(err);
            }
            Some(_) => {}
        }
    }
    crate::json::decode_error_named(err, T::NAME)
}

/// A JSON payload whose value rkyv refuses (the reason a writer fell back to JSON) cannot be
/// made an archive: a read-side error that says what to call instead.
#[cold]
fn not_archivable<T: Message>(err: &Error) -> Error {
    Error::new(
        ErrorKind::Unsupported,
        format!(
            "this `{}` arrived as JSON and cannot be archived for access ({}); read it with \
             decode",
            T::NAME,
            err.message()
        ),
    )
}

#[cold]
fn legacy_refused(bytes: &[u8]) -> Error {
    Error::corrupt(format!(
        "expected a frame starting with magic byte {:#04x}, found {}",
        frame::MAGIC,
        match bytes.first() {
            Some(b) => format!("{b:#04x} (legacy JSON is turned off)"),
            None => "empty input".to_string(),
        }
    ))
}

#[cold]
fn unknown_codec(found: CodecId) -> Error {
    Error::new(
        ErrorKind::UnknownCodec,
        format!(
            "frame payload codec {found} is unknown: this reader handles {} and {}",
            CodecId::JSON,
            CodecId::RKYV
        ),
    )
}

#[cold]
fn fingerprint_mismatch<T: Message>(found: u64) -> Error {
    Error::new(
        ErrorKind::TypeMismatch,
        format!(
            "frame was written for another message type: expected `{}` with schema fingerprint \
             {:#018x}, found fingerprint {found:#018x}",
            T::NAME,
            T::SCHEMA_FINGERPRINT
        ),
    )
}

#[cold]
fn compressed_without_transform(header: &FrameHeader) -> Error {
    Error::new(
        ErrorKind::UnknownCompression,
        format!(
            "frame payload is compressed with algorithm {}: expected a raw payload here; read \
             compressed frames through a compression layer (decode_transformed)",
            header.compression
        ),
    )
}

#[cold]
fn json_not_accessible(what: &str) -> Error {
    Error::new(
        ErrorKind::Unsupported,
        format!(
            "expected an rkyv payload for in-place access, found {what}; use access_owned \
             (which re-encodes it) or decode"
        ),
    )
}

impl<T: HybridMessage> Codec<T> for HybridCodec<T> {
    #[inline]
    fn codec_id(&self) -> CodecId {
        CodecId::FRAME
    }

    #[inline]
    fn content_type(&self) -> &'static str {
        FRAME_CONTENT_TYPE
    }

    fn encode_into<B: EncodeBuf>(&self, value: &T, out: &mut B) -> Result<()> {
        self.observe_encode(out, |out| {
            let writer = FrameWriter::begin(out, self.header_len());
            match self.encode_payload(value, out) {
                Ok(codec) => writer.finish(out, self.header_for(codec)).map(drop),
                Err(err) => {
                    writer.abort(out);
                    Err(err)
                }
            }
        })
        .map_err(named::<T>)
    }

    fn decode(&self, bytes: &[u8]) -> Result<T> {
        if let Some(payload) = self.default_payload(bytes) {
            return Codec::<T>::decode(&self.rkyv, payload).map_err(named::<T>);
        }
        self.decode_full(bytes).map_err(named::<T>)
    }

    fn encode_transformed_into<X, B>(&self, value: &T, transform: &X, out: &mut B) -> Result<()>
    where
        X: Transform,
        B: EncodeBuf,
    {
        self.observe_encode(out, |out| {
            with_scratch(|scratch| {
                let codec = self.encode_payload(value, scratch)?;
                let raw_len = u32::try_from(scratch.len()).map_err(|_| {
                    Error::too_large(
                        "frame payload",
                        scratch.len() as u64,
                        frame::MAX_PAYLOAD_LEN as u64,
                    )
                })?;
                // Room for the header of a payload compressed to at most its raw length (the
                // policy stores it raw otherwise); `finish` moves the payload once if the
                // header turns out shorter (or, stored raw, padded).
                let reserve = self
                    .header_for(codec)
                    .reserve_len_compressed(transform.dictionary_id(), raw_len);
                let writer = FrameWriter::begin(out, reserve);
                let compression = match transform.compress_into(scratch, out) {
                    Ok(id) => id,
                    Err(err) => {
                        writer.abort(out);
                        return Err(err);
                    }
                };
                let header = self.header_for(codec).with_compression(
                    compression,
                    transform.dictionary_id(),
                    raw_len,
                );
                let written = writer.finish(out, header)?;
                if let Some(m) = &self.metrics {
                    m.record_compression(scratch.len(), written.payload_len as usize);
                }
                Ok(())
            })
        })
        .map_err(named::<T>)
    }

    fn decode_transformed<X: Transform>(&self, bytes: &[u8], transform: &X) -> Result<T> {
        self.observe_decode(bytes.len(), || match self.open(bytes)? {
            Opened::Legacy(json) => Ok((decode_json::<T>(json, true)?, true)),
            Opened::Framed(frame) => {
                let header = frame.header();
                if header.compression == CompressionId::NONE {
                    return Ok((self.decode_payload(header.codec, frame.payload())?, false));
                }
                let value = with_scratch(|scratch| {
                    frame::decompress_payload(&frame, transform, scratch)?;
                    self.decode_payload(header.codec, scratch)
                })?;
                Ok((value, false))
            }
        })
        .map_err(named::<T>)
    }
}

impl<T: HybridMessage> ZeroCopyCodec<T> for HybridCodec<T> {
    fn access<'a>(&self, bytes: &'a [u8]) -> Result<&'a T::Archived> {
        if let Some(payload) = self.default_payload(bytes) {
            return archive::access_with_depth::<T>(payload, self.rkyv.max_depth())
                .map_err(named::<T>);
        }
        self.access_full(bytes).map_err(named::<T>)
    }

    fn access_owned(&self, bytes: Bytes) -> Result<OwnedArchive<T>> {
        if let Some(payload) = self.default_payload(&bytes) {
            let start = bytes.len() - payload.len();
            return self
                .rkyv
                .access_owned(bytes.slice(start..))
                .map_err(named::<T>);
        }
        self.access_owned_full(bytes).map_err(named::<T>)
    }

    fn access_transformed<X: Transform>(
        &self,
        bytes: Bytes,
        transform: &X,
    ) -> Result<OwnedArchive<T>> {
        self.observe_access(bytes.len(), || match self.open(&bytes)? {
            Opened::Legacy(json) => Ok((self.archive_json(json, true)?, true)),
            Opened::Framed(frame) => {
                let header = frame.header();
                if header.compression == CompressionId::NONE {
                    let range = header.payload_range();
                    return Ok((
                        self.archive_payload(header.codec, bytes.clone(), range)?,
                        false,
                    ));
                }
                let mut out = BufferPool::global().take();
                frame::decompress_payload(&frame, transform, &mut out)?;
                let archive = if header.codec == CodecId::RKYV {
                    // Validated with this codec's depth cap, keeping the pooled buffer.
                    OwnedArchive::from_pooled_with_depth(out, self.rkyv.max_depth())?
                } else {
                    self.archive_json(&out, false)?
                };
                Ok((archive, false))
            }
        })
        .map_err(named::<T>)
    }
}
