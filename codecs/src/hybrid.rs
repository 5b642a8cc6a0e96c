//! [`HybridCodec`]: rkyv frames with a JSON fallback, readable beside header-less legacy JSON.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use serde::Serialize;
use serde::de::DeserializeOwned;
use zerocodec::archive;
use zerocodec::bytes::Bytes;
use zerocodec::frame::{self, Frame};
use zerocodec::{
    Access, Codec, CodecId, Decode, Encode, EncodeBuf, Error, ErrorKind, Message, OwnedArchive,
    Result, ZeroCopyDecode,
};

#[cfg(feature = "bitcode")]
use crate::bitcode::BitcodePayload;
use crate::compress::compressed_not_accessible;
use crate::layer::{FRAME_CONTENT_TYPE, FrameLayer, Payload, Written, frame_options};
use crate::rkyv::{self, RkyvCodec, ZeroCopyEncode};

/// What a [`HybridCodec`] needs of a message type to write and read it: a wire identity,
/// serde for JSON, and rkyv for archives.
///
/// Implemented for every type with all of them; `#[zerocodec::message]` (zerocodec's
/// `derive` feature) derives them in one line. Each direction needs only part of it:
/// encoding needs `Serialize` and rkyv's `Serialize`, decoding `Deserialize` and rkyv's
/// `Deserialize`.
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

/// The payload codec a [`HybridCodec`] writes: what each frame costs to write, to read and on
/// the wire. Readers read every payload whatever the writer chose (the header names it).
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Primary {
    /// rkyv archives, read in place with no parsing (`access`), falling back to JSON for
    /// values rkyv cannot encode (the default).
    Rkyv,
    /// JSON inside frames, for interop (the first step of a migration: frame the old format,
    /// then switch).
    Json,
    /// bitcode, the smallest frames (before and after compression) and the fastest writes;
    /// reads parse (`decode`), with no in-place access. Needs
    /// [`with_bitcode`](HybridCodec::with_bitcode) (feature `bitcode`), which is where `T`'s
    /// bitcode derives are required: encoding without it fails with
    /// [`ErrorKind::Unsupported`].
    #[cfg(feature = "bitcode")]
    Bitcode,
}

/// Counters of what only a [`HybridCodec`] does: rkyv encodes against JSON fallbacks,
/// header-less legacy reads, and compression. Shared by reference (`Arc`); each event is one
/// relaxed atomic add, and none is on the path of a raw rkyv frame, so counting never changes
/// which read path runs. Count messages, bytes and errors by wrapping the codec in
/// [`Metered`](zerocodec::Metered).
#[derive(Debug, Default)]
pub struct HybridMetrics {
    rkyv_encodes: AtomicU64,
    fallbacks: AtomicU64,
    legacy_reads: AtomicU64,
    raw_bytes: AtomicU64,
    stored_bytes: AtomicU64,
}

impl HybridMetrics {
    /// Zeroed counters.
    pub fn new() -> Self {
        Self::default()
    }

    /// A copy of the counters (each read is relaxed).
    pub fn snapshot(&self) -> HybridSnapshot {
        let get = |counter: &AtomicU64| counter.load(Relaxed);
        HybridSnapshot {
            rkyv_encodes: get(&self.rkyv_encodes),
            fallbacks: get(&self.fallbacks),
            legacy_reads: get(&self.legacy_reads),
            raw_bytes: get(&self.raw_bytes),
            stored_bytes: get(&self.stored_bytes),
        }
    }
}

/// A plain copy of [`HybridMetrics`]. Later releases may add counters.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HybridSnapshot {
    /// Messages encoded with the primary codec, rkyv.
    pub rkyv_encodes: u64,
    /// Messages whose rkyv encoding failed, so the JSON fallback was used.
    pub fallbacks: u64,
    /// Header-less legacy JSON messages read (decoded or accessed).
    pub legacy_reads: u64,
    /// Payload bytes before compression, of frames written with compression on.
    pub raw_bytes: u64,
    /// The same payloads' bytes as stored.
    pub stored_bytes: u64,
}

impl HybridSnapshot {
    /// Of the rkyv encode attempts, the fraction that fell back to JSON; `None` before any.
    pub fn json_fallback_rate(&self) -> Option<f64> {
        let attempts = self.rkyv_encodes + self.fallbacks;
        (attempts != 0).then(|| self.fallbacks as f64 / attempts as f64)
    }

    /// Stored bytes over raw bytes for compressed payloads (below 1 means smaller); `None`
    /// before any.
    pub fn compression_ratio(&self) -> Option<f64> {
        (self.raw_bytes != 0).then(|| self.stored_bytes as f64 / self.raw_bytes as f64)
    }
}

/// One message type on one wire in rkyv *and* JSON, framed by zerocodec's tagged header
/// ([`zerocodec::frame`], `docs/wire-format.md`).
///
/// **Encoding** writes a frame: header, then the payload from the primary codec, chosen with
/// [`with_primary`](Self::with_primary): rkyv by default, JSON, or bitcode (with
/// `with_bitcode`, feature `bitcode`). When rkyv fails to encode a value (a `with` wrapper
/// refusing it, say), the value is written as JSON instead and the fallback is counted. The
/// header records the type's [`Message::SCHEMA_FINGERPRINT`] (unless turned off), the
/// compression, and, when turned on, a CRC-32C of the frame.
///
/// **Decoding** reads whatever the header names: an rkyv or JSON payload (and a bitcode one
/// when built `with_bitcode`), stored raw or compressed with any algorithm this build has (the
/// dictionary looked up in the
/// [registry](Self::with_dictionaries)). Input whose first byte is not the frame magic is
/// header-less legacy JSON (the magic can never begin a JSON text, so this is certain, not a
/// guess). A reader rejects, each with its own [`ErrorKind`]: an unknown version
/// (`UnknownVersion`), codec (`UnknownCodec`) or compression (`UnknownCompression`), lengths
/// that overrun the input (`Incomplete`), a bad checksum (`ChecksumMismatch`), and a frame
/// written for another type (`TypeMismatch`, naming the expected type and both fingerprints).
/// Frames without a fingerprint are accepted for any type.
///
/// **Zero-copy**: [`access`](Access::access) borrows the archived payload of a raw rkyv frame
/// (16-byte aligned whenever the frame is: the header of a raw payload is padded to 16 or 32
/// bytes). A JSON, bitcode or compressed payload has no archive to borrow: `access` fails with
/// [`ErrorKind::Unsupported`]. [`access_owned`](Access::access_owned) reads every frame:
/// it shares aligned `Bytes`, decompresses once into a pooled buffer, and decodes JSON and
/// re-encodes it as an archive, so a reader can use it on every message during a migration.
///
/// # Examples
///
/// ```
/// use zerocodec::Message;
/// use zerocodec::prelude::*;
/// use zerocodec_codecs::{Compression, HybridCodec, JsonCodec};
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
/// let legacy = JsonCodec::new().encode(&Ping { seq: 8 })?; // an old writer
/// assert_eq!(codec.decode(&legacy)?, Ping { seq: 8 });
///
/// let zstd = HybridCodec::new().with_compression(Compression::zstd());
/// let packed = zstd.encode(&Ping { seq: 9 })?;
/// assert_eq!(codec.decode(&packed)?, Ping { seq: 9 }); // any reader reads any compression
/// # Ok::<(), zerocodec::Error>(())
/// ```
pub struct HybridCodec<T> {
    rkyv: RkyvCodec<T>,
    /// bitcode's functions for `T`, when [`with_bitcode`](Self::with_bitcode) gave them.
    #[cfg(feature = "bitcode")]
    pub(crate) bitcode: Option<BitcodePayload<T>>,
    primary: Primary,
    fingerprint: bool,
    accept_legacy: bool,
    frame: FrameLayer,
    metrics: Option<Arc<HybridMetrics>>,
}

impl<T> HybridCodec<T> {
    /// rkyv primary with JSON fallback, fingerprint on (a 16-byte header on a raw payload,
    /// 15 to 19 bytes on a small compressed one), checksum off, no compression, legacy JSON
    /// accepted, no metrics.
    ///
    /// The checksum is off by default because it is the header's main cost on small messages
    /// (a CRC-32C over the whole frame), and most deployments already have one below (TCP) or
    /// above (a checksummed batch); `cargo bench --bench header` measures it. Turn it on with
    /// [`with_checksum`](Self::with_checksum) for storage or untrusted links.
    pub const fn new() -> Self {
        Self {
            rkyv: RkyvCodec::new(),
            #[cfg(feature = "bitcode")]
            bitcode: None,
            primary: Primary::Rkyv,
            fingerprint: true,
            accept_legacy: true,
            frame: FrameLayer::new(false),
            metrics: None,
        }
    }

    /// The smallest header: no checksum, no fingerprint (16 bytes on a raw payload).
    pub const fn compact() -> Self {
        let mut codec = Self::new();
        codec.fingerprint = false;
        codec
    }

    frame_options!();

    /// Writes the type's schema fingerprint in each frame (on by default; readers always check
    /// one that is present).
    #[must_use]
    pub fn with_fingerprint(mut self, on: bool) -> Self {
        self.fingerprint = on;
        self
    }

    /// Chooses the codec tried first when encoding.
    #[must_use]
    pub fn with_primary(mut self, primary: Primary) -> Self {
        self.primary = primary;
        self
    }

    /// Accepts header-less legacy JSON when decoding (on by default). When off, such input
    /// is rejected with [`ErrorKind::Corrupt`].
    #[must_use]
    pub fn with_legacy_json(mut self, on: bool) -> Self {
        self.accept_legacy = on;
        self
    }

    /// Caps how deeply nested an rkyv payload may be when validated
    /// ([`RkyvCodec::with_max_depth`]).
    #[must_use]
    pub fn with_max_depth(mut self, max_depth: usize) -> Self {
        self.rkyv = self.rkyv.with_max_depth(max_depth);
        self
    }

    /// Counts fallbacks, legacy reads and compression in `metrics`.
    #[must_use]
    pub fn with_metrics(mut self, metrics: Arc<HybridMetrics>) -> Self {
        self.metrics = Some(metrics);
        self
    }

    /// The counters, when metrics are on.
    pub fn metrics(&self) -> Option<&Arc<HybridMetrics>> {
        self.metrics.as_ref()
    }

    /// The primary codec.
    pub const fn primary(&self) -> Primary {
        self.primary
    }

    /// True if this codec reads (and can write) bitcode payloads: built `with_bitcode`
    /// (feature `bitcode`).
    pub const fn reads_bitcode(&self) -> bool {
        #[cfg(feature = "bitcode")]
        return self.bitcode.is_some();
        #[cfg(not(feature = "bitcode"))]
        return false;
    }

    #[inline]
    fn count(&self, counter: impl FnOnce(&HybridMetrics) -> &AtomicU64) {
        if let Some(m) = &self.metrics {
            counter(m).fetch_add(1, Relaxed);
        }
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
            #[cfg(feature = "bitcode")]
            bitcode: self.bitcode,
            primary: self.primary,
            fingerprint: self.fingerprint,
            accept_legacy: self.accept_legacy,
            frame: self.frame.clone(),
            metrics: self.metrics.clone(),
        }
    }
}

impl<T> fmt::Debug for HybridCodec<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HybridCodec")
            .field("type", &std::any::type_name::<T>())
            .field("primary", &self.primary)
            .field("bitcode", &self.reads_bitcode())
            .field("fingerprint", &self.fingerprint)
            .field("accept_legacy", &self.accept_legacy)
            .field("max_depth", &self.rkyv.max_depth())
            .field("frame", &self.frame)
            .field("metrics", &self.metrics.is_some())
            .finish()
    }
}

impl<T: Message> HybridCodec<T> {
    /// The fingerprint this codec writes, and a raw frame it reads on the fast path carries.
    #[inline]
    fn own_fingerprint(&self) -> Option<u64> {
        self.fingerprint.then_some(T::SCHEMA_FINGERPRINT)
    }

    /// The payload of `bytes` when it is the raw rkyv frame this codec writes: one comparison
    /// with the header it must have ([`Frame::raw_payload`]). Anything else takes the full
    /// path, which reads every frame and names what is wrong.
    #[inline(always)]
    fn raw_rkyv_payload<'a>(&self, bytes: &'a [u8]) -> Option<&'a [u8]> {
        Frame::raw_payload(bytes, CodecId::RKYV, self.own_fingerprint())
    }

    /// Parses a frame and checks its codec and fingerprint.
    fn open<'a>(&self, bytes: &'a [u8]) -> Result<Frame<'a>> {
        self.open_with(bytes, self.reads_bitcode())
    }

    /// [`open`](Self::open), taking a bitcode payload as known when `bitcode` is true (access
    /// does, to refuse it as `Unsupported` whether or not this codec reads bitcode).
    fn open_with<'a>(&self, bytes: &'a [u8], bitcode: bool) -> Result<Frame<'a>> {
        let frame = Frame::parse(bytes)?;
        let header = frame.header();
        if header.codec != CodecId::RKYV
            && header.codec != CodecId::JSON
            && (header.codec != CodecId::BITCODE || !bitcode)
        {
            return Err(unknown_codec::<T>(header.codec));
        }
        if let Some(found) = header.fingerprint {
            if found != T::SCHEMA_FINGERPRINT {
                return Err(fingerprint_mismatch::<T>(found));
            }
        }
        Ok(frame)
    }

    /// Header-less input, when this codec accepts legacy JSON (counted).
    fn legacy<'a>(&self, bytes: &'a [u8]) -> Result<&'a [u8]> {
        if !self.accept_legacy {
            return Err(legacy_refused(bytes));
        }
        self.count(|m| &m.legacy_reads);
        Ok(bytes)
    }
}

/// A value as a hybrid payload: rkyv, or JSON.
struct HybridPayload<'a, T>(&'a HybridCodec<T>, &'a T);

impl<T: Message + Serialize + ZeroCopyEncode> Payload for HybridPayload<'_, T> {
    #[inline]
    fn write_to<B: EncodeBuf>(&self, out: &mut B) -> Result<CodecId> {
        let HybridPayload(codec, value) = *self;
        if codec.primary == Primary::Json {
            return crate::json::encode_into(value, out, T::NAME).map(|()| CodecId::JSON);
        }
        match rkyv::serialize(value, out) {
            Ok(_) => {
                codec.count(|m| &m.rkyv_encodes);
                Ok(CodecId::RKYV)
            }
            Err(rkyv_err) => {
                codec.count(|m| &m.fallbacks);
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
}

/// A value as a bitcode payload (the bitcode primary): a payload of its own, so that rkyv's
/// write path does not test for it (a branch there cost 16 instructions on a chat-sized
/// frame, gate `chat/hybrid/encode`).
#[cfg(feature = "bitcode")]
struct BitcodeFramePayload<'a, T>(&'a HybridCodec<T>, &'a T);

#[cfg(feature = "bitcode")]
impl<T: Message> Payload for BitcodeFramePayload<'_, T> {
    #[inline]
    fn write_to<B: EncodeBuf>(&self, out: &mut B) -> Result<CodecId> {
        let BitcodeFramePayload(codec, value) = *self;
        match &codec.bitcode {
            Some(bitcode) => bitcode
                .encode_into(value, codec.policy().max_decompressed_len(), out)
                .map(|()| CodecId::BITCODE),
            None => Err(bitcode_not_enabled::<T>()),
        }
    }
}

impl<T> Codec for HybridCodec<T> {
    type Item = T;

    #[inline]
    fn codec_id(&self) -> CodecId {
        CodecId::FRAME
    }

    #[inline]
    fn content_type(&self) -> &'static str {
        FRAME_CONTENT_TYPE
    }
}

impl<T: Message + Serialize + ZeroCopyEncode> Encode for HybridCodec<T> {
    #[inline]
    fn encode_into<B: EncodeBuf>(&self, item: &T, out: &mut B) -> Result<()> {
        #[cfg(feature = "bitcode")]
        if self.primary == Primary::Bitcode {
            return self.encode_bitcode(item, out);
        }
        let written = self
            .frame
            .write(&HybridPayload(self, item), self.own_fingerprint(), out)
            .map_err(named::<T>)?;
        self.count_written(written);
        Ok(())
    }
}

impl<T: Message> HybridCodec<T> {
    /// Counts a written frame's raw and stored payload bytes, when compressing with metrics on.
    #[inline]
    fn count_written(&self, written: Written) {
        if let Some(m) = &self.metrics {
            if !self.frame.compressor.is_none() {
                m.raw_bytes.fetch_add(written.raw_len as u64, Relaxed);
                m.stored_bytes.fetch_add(written.stored_len as u64, Relaxed);
            }
        }
    }

    /// `encode_into` with the bitcode primary, out of line.
    #[cfg(feature = "bitcode")]
    #[cold]
    #[inline(never)]
    fn encode_bitcode<B: EncodeBuf>(&self, item: &T, out: &mut B) -> Result<()> {
        let written = self
            .frame
            .write(
                &BitcodeFramePayload(self, item),
                self.own_fingerprint(),
                out,
            )
            .map_err(named::<T>)?;
        self.count_written(written);
        Ok(())
    }
}

impl<T: Message + DeserializeOwned + ZeroCopyDecode> Decode for HybridCodec<T> {
    #[inline]
    fn decode(&self, bytes: &[u8]) -> Result<T> {
        if let Some(payload) = self.raw_rkyv_payload(bytes) {
            return self.rkyv.decode(payload).map_err(named::<T>);
        }
        self.decode_other(bytes).map_err(named::<T>)
    }
}

impl<T: Message + DeserializeOwned + ZeroCopyDecode> HybridCodec<T> {
    // The other read paths, out of line so that the raw rkyv path keeps its registers (and
    // skips a prologue saving them) on every call.
    #[inline(never)]
    fn decode_other(&self, bytes: &[u8]) -> Result<T> {
        if !frame::is_frame(bytes) {
            return decode_json::<T>(self.legacy(bytes)?, true);
        }
        let frame = self.open(bytes)?;
        let codec = frame.header().codec;
        self.frame
            .read(&frame, |payload| self.decode_payload(codec, payload))
    }

    /// Decodes a payload of a codec [`open`](Self::open) accepted.
    #[inline]
    fn decode_payload(&self, codec: CodecId, payload: &[u8]) -> Result<T> {
        if codec == CodecId::RKYV {
            self.rkyv.decode(payload)
        } else {
            self.decode_parsed(codec, payload)
        }
    }
}

impl<T: Message + DeserializeOwned> HybridCodec<T> {
    /// Decodes a JSON or bitcode payload of a frame [`open`](Self::open) accepted.
    fn decode_parsed(&self, codec: CodecId, payload: &[u8]) -> Result<T> {
        match codec {
            #[cfg(feature = "bitcode")]
            CodecId::BITCODE => match &self.bitcode {
                Some(bitcode) => bitcode.decode(payload, self.policy().max_decompressed_len()),
                None => Err(unknown_codec::<T>(codec)),
            },
            _ => decode_json::<T>(payload, false),
        }
    }
}

impl<T: Message + DeserializeOwned + ZeroCopyEncode> Access for HybridCodec<T> {
    #[inline]
    fn access<'a>(&self, bytes: &'a [u8]) -> Result<&'a T::Archived> {
        if let Some(payload) = self.raw_rkyv_payload(bytes) {
            return archive::access_with_depth::<T>(payload, self.rkyv.max_depth())
                .map_err(named::<T>);
        }
        self.access_other(bytes).map_err(named::<T>)
    }

    #[inline]
    fn access_owned(&self, bytes: Bytes) -> Result<OwnedArchive<T>> {
        if let Some(payload) = self.raw_rkyv_payload(&bytes) {
            let start = bytes.len() - payload.len();
            return self.archive_rkyv(bytes.slice(start..)).map_err(named::<T>);
        }
        self.access_owned_other(bytes).map_err(named::<T>)
    }
}

impl<T: Message + DeserializeOwned + ZeroCopyEncode> HybridCodec<T> {
    #[inline(never)]
    fn access_other<'a>(&self, bytes: &'a [u8]) -> Result<&'a T::Archived> {
        if !frame::is_frame(bytes) {
            if !self.accept_legacy {
                return Err(legacy_refused(bytes));
            }
            return Err(json_not_accessible("header-less legacy JSON"));
        }
        let frame = self.open_with(bytes, true)?;
        // A bitcode payload has no in-place form, compressed or not, whether or not this codec
        // reads bitcode: say so first.
        if frame.header().codec == CodecId::BITCODE {
            return Err(bitcode_not_accessible());
        }
        if frame.header().is_compressed() {
            return Err(compressed_not_accessible(&frame));
        }
        if frame.header().codec == CodecId::JSON {
            return Err(json_not_accessible("a JSON payload"));
        }
        archive::access_with_depth::<T>(frame.payload(), self.rkyv.max_depth())
    }

    #[inline(never)]
    fn access_owned_other(&self, bytes: Bytes) -> Result<OwnedArchive<T>> {
        if !frame::is_frame(&bytes) {
            return self.archive_decoded(decode_json::<T>(self.legacy(&bytes)?, true)?);
        }
        let frame = self.open(&bytes)?;
        let header = frame.header();
        if header.is_compressed() {
            let buf = self.frame.decompress_pooled(&frame)?;
            return if header.codec == CodecId::RKYV {
                OwnedArchive::from_pooled(buf, self.rkyv.max_depth())
            } else {
                self.archive_decoded(self.decode_parsed(header.codec, &buf)?)
            };
        }
        if header.codec == CodecId::RKYV {
            self.archive_rkyv(bytes.slice(header.payload_range()))
        } else {
            self.archive_decoded(self.decode_parsed(header.codec, frame.payload())?)
        }
    }

    /// The owned archive of a raw rkyv payload: shared when aligned, else one pooled copy.
    #[inline]
    fn archive_rkyv(&self, payload: Bytes) -> Result<OwnedArchive<T>> {
        OwnedArchive::from_bytes_in(payload, self.rkyv.max_depth(), self.frame.pool())
    }

    /// The archive of a value decoded from a JSON or bitcode payload, encoded once as an
    /// owned archive.
    ///
    /// A value rkyv refuses to encode is exactly what a writer sends as a JSON fallback, so
    /// that refusal is reported as a read-side `Unsupported` error that says to decode
    /// instead, never as an encode error on a read path.
    fn archive_decoded(&self, value: T) -> Result<OwnedArchive<T>> {
        let mut buf = self.frame.pool().take();
        if let Err(err) = rkyv::serialize(&value, &mut buf) {
            return Err(not_archivable::<T>(&err));
        }
        OwnedArchive::from_pooled(buf, self.rkyv.max_depth())
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
fn decode_json<T: Message + DeserializeOwned>(json: &[u8], legacy: bool) -> Result<T> {
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
fn unknown_codec<T: Message>(found: CodecId) -> Error {
    let hint = if found != CodecId::BITCODE {
        String::new()
    } else if cfg!(feature = "bitcode") {
        format!(
            " (read bitcode with `HybridCodec::with_bitcode`, for a `{}` with bitcode's derives)",
            T::NAME
        )
    } else {
        " (bitcode needs zerocodec-codecs' `bitcode` feature)".to_string()
    };
    Error::new(
        ErrorKind::UnknownCodec,
        format!(
            "frame payload codec {found} is unknown: this reader handles {} and {}{hint}",
            CodecId::JSON,
            CodecId::RKYV
        ),
    )
}

#[cfg(feature = "bitcode")]
#[cold]
fn bitcode_not_enabled<T: Message>() -> Error {
    Error::new(
        ErrorKind::Unsupported,
        format!(
            "the primary is bitcode, but this codec has no bitcode support for `{}`: build it \
             with `.with_bitcode()` (the type needs bitcode's `Encode` and `Decode` derives)",
            T::NAME
        ),
    )
}

#[cold]
fn bitcode_not_accessible() -> Error {
    Error::new(
        ErrorKind::Unsupported,
        "expected an rkyv payload for in-place access, found a bitcode payload (bitcode has no \
         in-place form); use decode, or access_owned (which re-encodes it)",
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
fn json_not_accessible(what: &str) -> Error {
    Error::new(
        ErrorKind::Unsupported,
        format!(
            "expected an rkyv payload for in-place access, found {what}; use access_owned \
             (which re-encodes it) or decode"
        ),
    )
}
