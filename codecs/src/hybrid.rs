//! [`HybridCodec`]: rkyv frames with a JSON fallback, readable beside header-less legacy JSON.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use serde::Serialize;
use serde::de::DeserializeOwned;
use zerocodec::__private::with_scratch;
use zerocodec::archive;
use zerocodec::bytes::Bytes;
use zerocodec::frame::{self, Frame};
use zerocodec::rkyv::util::AlignedVec;
use zerocodec::{
    Access, Codec, CodecId, Decode, Encode, EncodeBuf, Error, ErrorKind, Message, OwnedArchive,
    Result, Versioned, ZeroCopyDecode,
};

#[cfg(feature = "bitcode")]
use crate::bitcode::BitcodePayload;
use crate::compress::compressed_not_accessible;
use crate::layer::{FRAME_CONTENT_TYPE, FrameLayer, Payload, Written, frame_options};
use crate::rkyv::{self, RkyvCodec, ZeroCopyEncode};
use crate::upgrade::{self, Frames, OlderVersion, UpgradeChain, Upgrades};

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
    upgrades: AtomicU64,
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
            upgrades: get(&self.upgrades),
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
    /// Messages of an older version read and upgraded (frames and legacy JSON declared to be
    /// an older version).
    pub upgrades: u64,
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
/// Frames without a fingerprint are accepted for any type. A reader built with
/// [`with_upgrades`](Self::with_upgrades) also reads frames of older versions of its type and
/// upgrades them; [`write_as`](Self::write_as) pins a writer to an older version (schema
/// evolution, `docs/evolution.md`).
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
    /// Older versions read, legacy JSON's version, a pinned writer: `None` until a builder
    /// sets one, so the current version's paths never look here.
    evolution: Option<Arc<Evolution<T>>>,
}

/// What a [`HybridCodec`] knows of other versions of its type.
struct Evolution<T> {
    upgrades: Upgrades<T>,
    /// The version legacy JSON is declared to be: name, version and fingerprint.
    legacy: Option<(&'static str, u32, u64)>,
    pinned: Option<Pinned<T>>,
}

impl<T> Clone for Evolution<T> {
    fn clone(&self) -> Self {
        Self {
            upgrades: self.upgrades.clone(),
            legacy: self.legacy,
            pinned: self.pinned,
        }
    }
}

impl<T> Default for Evolution<T> {
    fn default() -> Self {
        Self {
            upgrades: Upgrades::new(),
            legacy: None,
            pinned: None,
        }
    }
}

/// The older version a pinned writer writes, and how to write a `T` as it.
struct Pinned<T> {
    name: &'static str,
    version: u32,
    fingerprint: u64,
    write: fn(&T, Primary, Option<&HybridMetrics>, &mut AlignedVec) -> Result<CodecId>,
}

impl<T> Clone for Pinned<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Pinned<T> {}

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
            evolution: None,
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
        count(self.metrics.as_deref(), counter);
    }

    /// The evolution settings, made unique to this codec for a builder to change.
    fn evolution_mut(&mut self) -> &mut Evolution<T> {
        Arc::make_mut(self.evolution.get_or_insert_with(Default::default))
    }

    /// The older versions this codec reads.
    fn upgrades(&self) -> Option<&Upgrades<T>> {
        self.evolution
            .as_ref()
            .map(|e| &e.upgrades)
            .filter(|u| !u.older.is_empty())
    }
}

#[inline]
fn count(metrics: Option<&HybridMetrics>, counter: impl FnOnce(&HybridMetrics) -> &AtomicU64) {
    if let Some(m) = metrics {
        counter(m).fetch_add(1, Relaxed);
    }
}

/// Schema evolution: older versions read, the version legacy JSON is, a pinned writer.
/// `docs/evolution.md` in the repository is the playbook.
impl<T: Message> HybridCodec<T> {
    /// Reads the older versions `T` declares ([`Versioned::Older`]: `#[message(upgrade_from
    /// = ...)]`), each recognised by its schema fingerprint and converted along the chain of
    /// `From` impls, in order (a `ChatV1` frame read as a `ChatV3` becomes a `ChatV2`, then a
    /// `ChatV3`).
    ///
    /// Frames of the current version cost exactly what they cost without this (the fast path
    /// compares the whole header and never looks at the table); a frame of an older version
    /// is decoded as that version and converted: [`decode`](Decode::decode) costs the older
    /// version's decode plus the conversions, [`access_owned`](Access::access_owned) that
    /// plus one rkyv serialization of the upgraded value into a pooled buffer and its
    /// validation, and [`access`](Access::access) refuses it with
    /// [`ErrorKind::Unsupported`] (there is no archive of the current version to borrow). A
    /// fingerprint that is neither the current one nor an older one is still
    /// [`ErrorKind::TypeMismatch`], and its message lists every fingerprint this reader knows.
    ///
    /// # Examples
    ///
    /// ```
    /// use zerocodec::prelude::*;
    /// use zerocodec_codecs::HybridCodec;
    ///
    /// #[zerocodec::message(name = "Ping", version = 1)]
    /// #[derive(Debug, PartialEq)]
    /// struct PingV1 { seq: u32 }
    ///
    /// #[zerocodec::message(name = "Ping", version = 2, upgrade_from = PingV1)]
    /// #[derive(Debug, PartialEq)]
    /// struct PingV2 { seq: u64, note: String }
    ///
    /// impl From<PingV1> for PingV2 {
    ///     fn from(v1: PingV1) -> Self {
    ///         PingV2 { seq: v1.seq.into(), note: String::new() }
    ///     }
    /// }
    ///
    /// let old = HybridCodec::new().encode(&PingV1 { seq: 7 })?;
    /// let reader = HybridCodec::<PingV2>::new().with_upgrades();
    /// assert_eq!(reader.decode(&old)?, PingV2 { seq: 7, note: String::new() });
    /// assert!(HybridCodec::<PingV2>::new().decode(&old).unwrap_err().is_type_mismatch());
    /// # Ok::<(), zerocodec::Error>(())
    /// ```
    #[must_use]
    pub fn with_upgrades(mut self) -> Self
    where
        T: Versioned,
        T::Older: UpgradeChain<T, Frames>,
    {
        let declared = upgrade::declared::<T, Frames>();
        self.evolution_mut().upgrades.extend(declared);
        self
    }

    /// Reads `Old` and the older versions `Old` itself declares, converting them with `From`
    /// (`From<Old> for T`, then along `Old`'s chain): the builder form of
    /// `#[message(upgrade_from = Old)]`, for versions `T` does not declare. Versions already
    /// known are kept once. Costs as [`with_upgrades`](Self::with_upgrades).
    #[must_use]
    pub fn upgrade_from<Old>(mut self) -> Self
    where
        Old: Versioned,
        (Old, Old::Older): UpgradeChain<T, Frames>,
    {
        let versions = upgrade::from_version::<T, Old, Frames>();
        self.evolution_mut().upgrades.extend(versions);
        self
    }

    /// Reads header-less legacy JSON as an `Old` (and upgrades it like a frame of `Old`),
    /// instead of as the current type. `Old` must be a version this reader upgrades from
    /// ([`with_upgrades`](Self::with_upgrades), [`upgrade_from`](Self::upgrade_from), in any
    /// order); otherwise reading legacy JSON fails with [`ErrorKind::TypeMismatch`], which
    /// says so. `legacy_json_as::<T>()` is the default. JSON keeps serde's own leniency
    /// (`#[serde(default)]` fields may be missing).
    #[must_use]
    pub fn legacy_json_as<Old: Message>(mut self) -> Self {
        self.evolution_mut().legacy = (Old::SCHEMA_FINGERPRINT != T::SCHEMA_FINGERPRINT)
            .then_some((Old::NAME, Old::VERSION, Old::SCHEMA_FINGERPRINT));
        self
    }

    /// Writes every `T` as an `Old` (converted with `From<&T>`), with `Old`'s fingerprint:
    /// the writer side of a rolling deploy. First every reader learns to read the new version
    /// and keeps reading the old one (`with_upgrades`); while they roll out, writers that
    /// already run the new code keep writing the old version, so no reader sees a frame it
    /// cannot read; once all readers are new, drop this and writers switch.
    ///
    /// Writing converts the value and encodes it into scratch space, then copies it into the
    /// frame: one conversion and one copy more than writing the current version. Reading is
    /// unchanged: this codec's own reader reads `Old` frames only if it upgrades from `Old`.
    ///
    /// # Examples
    ///
    /// ```
    /// use zerocodec::prelude::*;
    /// use zerocodec_codecs::HybridCodec;
    ///
    /// #[zerocodec::message(name = "Ping", version = 1)]
    /// #[derive(Debug, PartialEq)]
    /// struct PingV1 { seq: u32 }
    ///
    /// #[zerocodec::message(name = "Ping", version = 2, upgrade_from = PingV1)]
    /// #[derive(Debug, PartialEq)]
    /// struct PingV2 { seq: u64 }
    ///
    /// impl From<PingV1> for PingV2 {
    ///     fn from(v1: PingV1) -> Self { PingV2 { seq: v1.seq.into() } }
    /// }
    /// impl From<&PingV2> for PingV1 {
    ///     fn from(v2: &PingV2) -> Self { PingV1 { seq: v2.seq as u32 } }
    /// }
    ///
    /// // A new writer during the deploy: old readers still read what it writes.
    /// let writer = HybridCodec::<PingV2>::new().write_as::<PingV1>();
    /// let frame = writer.encode(&PingV2 { seq: 9 })?;
    /// assert_eq!(HybridCodec::<PingV1>::new().decode(&frame)?, PingV1 { seq: 9 });
    /// # Ok::<(), zerocodec::Error>(())
    /// ```
    #[must_use]
    pub fn write_as<Old>(mut self) -> Self
    where
        Old: Message + Serialize + ZeroCopyEncode + for<'a> From<&'a T>,
    {
        self.evolution_mut().pinned = Some(Pinned {
            name: Old::NAME,
            version: Old::VERSION,
            fingerprint: Old::SCHEMA_FINGERPRINT,
            write: write_pinned::<T, Old>,
        });
        self
    }

    /// The version this codec writes: `(name, version, fingerprint)` of `T`, or of the older
    /// version it is pinned to with [`write_as`](Self::write_as).
    pub fn writes(&self) -> (&'static str, u32, u64) {
        match self.evolution.as_ref().and_then(|e| e.pinned) {
            Some(p) => (p.name, p.version, p.fingerprint),
            None => (T::NAME, T::VERSION, T::SCHEMA_FINGERPRINT),
        }
    }

    /// The schema fingerprints of the older versions this codec reads, newest first.
    pub fn upgrades_from(&self) -> Vec<u64> {
        self.upgrades()
            .map(|u| u.older.iter().map(|o| o.fingerprint).collect())
            .unwrap_or_default()
    }
}

/// Writes `value` as an `Old`: the pinned writer's payload.
fn write_pinned<T, Old>(
    value: &T,
    primary: Primary,
    metrics: Option<&HybridMetrics>,
    out: &mut AlignedVec,
) -> Result<CodecId>
where
    Old: Message + Serialize + ZeroCopyEncode + for<'a> From<&'a T>,
{
    write_payload(primary, metrics, &Old::from(value), out)
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
            evolution: self.evolution.clone(),
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
            .field(
                "upgrades_from",
                &self.evolution.as_ref().map(|e| &e.upgrades),
            )
            .field(
                "legacy_json_as",
                &self
                    .evolution
                    .as_ref()
                    .and_then(|e| e.legacy)
                    .map(|(name, version, _)| format!("`{name}` v{version}")),
            )
            .field(
                "writes",
                &self
                    .evolution
                    .as_ref()
                    .and_then(|e| e.pinned)
                    .map(|p| format!("`{}` v{}", p.name, p.version)),
            )
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

    /// Parses a frame and checks its codec and fingerprint: the current version's (`None`),
    /// or an older version this codec upgrades from.
    fn open<'a>(&self, bytes: &'a [u8]) -> Result<(Frame<'a>, Option<OlderVersion<T>>)> {
        self.open_with(bytes, self.reads_bitcode())
    }

    /// [`open`](Self::open), taking a bitcode payload as known when `bitcode` is true (access
    /// does, to refuse it as `Unsupported` whether or not this codec reads bitcode).
    fn open_with<'a>(
        &self,
        bytes: &'a [u8],
        bitcode: bool,
    ) -> Result<(Frame<'a>, Option<OlderVersion<T>>)> {
        let frame = Frame::parse(bytes)?;
        let header = frame.header();
        if header.codec != CodecId::RKYV
            && header.codec != CodecId::JSON
            && (header.codec != CodecId::BITCODE || !bitcode)
        {
            return Err(unknown_codec::<T>(header.codec));
        }
        match header.fingerprint {
            Some(found) if found != T::SCHEMA_FINGERPRINT => {
                match Upgrades::resolve(self.upgrades(), found) {
                    Ok(older) => Ok((frame, Some(older))),
                    Err(older) => Err(fingerprint_mismatch::<T>(found, &older)),
                }
            }
            _ => Ok((frame, None)),
        }
    }

    /// The older version header-less legacy JSON is declared to be, if any.
    fn legacy_version(&self) -> Result<Option<OlderVersion<T>>> {
        let Some((name, version, fingerprint)) = self.evolution.as_ref().and_then(|e| e.legacy)
        else {
            return Ok(None);
        };
        match self.upgrades().and_then(|u| u.find(fingerprint)) {
            Some(older) => Ok(Some(*older)),
            None => Err(legacy_version_unknown::<T>(name, version, fingerprint)),
        }
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
        write_payload(codec.primary, codec.metrics.as_deref(), value, out)
    }
}

/// Appends `value` as a hybrid payload (rkyv, JSON if rkyv refuses it, or JSON when that is
/// the primary codec) and returns the codec that wrote it.
#[inline]
fn write_payload<T, B>(
    primary: Primary,
    metrics: Option<&HybridMetrics>,
    value: &T,
    out: &mut B,
) -> Result<CodecId>
where
    T: Message + Serialize + ZeroCopyEncode,
    B: EncodeBuf,
{
    if primary == Primary::Json {
        return crate::json::encode_into(value, out, T::NAME).map(|()| CodecId::JSON);
    }
    match rkyv::serialize(value, out) {
        Ok(_) => {
            count(metrics, |m| &m.rkyv_encodes);
            Ok(CodecId::RKYV)
        }
        Err(rkyv_err) => {
            count(metrics, |m| &m.fallbacks);
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

/// A value written as the older version a writer is pinned to.
struct PinnedPayload<'a, T> {
    codec: &'a HybridCodec<T>,
    pinned: Pinned<T>,
    value: &'a T,
}

impl<T> Payload for PinnedPayload<'_, T> {
    fn write_to<B: EncodeBuf>(&self, out: &mut B) -> Result<CodecId> {
        with_scratch(|scratch| {
            let codec = (self.pinned.write)(
                self.value,
                self.codec.primary,
                self.codec.metrics.as_deref(),
                scratch,
            )?;
            out.extend_from_slice(scratch);
            Ok(codec)
        })
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
        if let Some(evolution) = &self.evolution {
            if let Some(pinned) = evolution.pinned {
                return self.encode_pinned(pinned, item, out);
            }
        }
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
    /// A frame payload of an older version, decoded and upgraded (counted).
    fn upgrade_payload(
        &self,
        older: &OlderVersion<T>,
        codec: CodecId,
        payload: &[u8],
    ) -> Result<T> {
        match codec {
            CodecId::RKYV => {
                self.count(|m| &m.upgrades);
                (older.rkyv)(payload, self.rkyv.max_depth())
            }
            CodecId::JSON => self.upgrade_json(older, payload, false),
            // Older versions are declared with their rkyv and serde bounds only.
            _ => Err(Error::new(
                ErrorKind::Unsupported,
                format!(
                    "`{}` v{} is upgraded from rkyv or JSON payloads; this frame's payload is {}",
                    older.name, older.version, codec
                ),
            )),
        }
    }

    /// A JSON text of an older version, decoded and upgraded (counted).
    fn upgrade_json(&self, older: &OlderVersion<T>, json: &[u8], legacy: bool) -> Result<T> {
        if legacy {
            if let Some(err) = not_json(json, older.name) {
                return Err(err);
            }
        }
        let Some(read) = older.json else {
            return Err(Error::new(
                ErrorKind::Unsupported,
                format!(
                    "`{}` v{} is read only from rkyv archives here, found JSON",
                    older.name, older.version
                ),
            ));
        };
        self.count(|m| &m.upgrades);
        read(json)
    }

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

    /// Writes `item` as the older version this writer is pinned to.
    #[inline(never)]
    fn encode_pinned<B: EncodeBuf>(&self, pinned: Pinned<T>, item: &T, out: &mut B) -> Result<()> {
        let payload = PinnedPayload {
            codec: self,
            pinned,
            value: item,
        };
        let fingerprint = self.fingerprint.then_some(pinned.fingerprint);
        let written = self
            .frame
            .write(&payload, fingerprint, out)
            .map_err(named::<T>)?;
        self.count_written(written);
        Ok(())
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
            let json = self.legacy(bytes)?;
            return match self.legacy_version()? {
                Some(older) => self.upgrade_json(&older, json, true),
                None => decode_json::<T>(json, true),
            };
        }
        let (frame, older) = self.open(bytes)?;
        let codec = frame.header().codec;
        self.frame.read(&frame, |payload| match &older {
            Some(older) => self.upgrade_payload(older, codec, payload),
            None if codec == CodecId::RKYV => self.rkyv.decode(payload),
            None => self.decode_parsed(codec, payload),
        })
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
            let archive = match archive::is_aligned(payload) {
                true => self.share_rkyv(bytes.slice(bytes.len() - payload.len()..)),
                false => self.copy_rkyv(payload),
            };
            return archive.map_err(named::<T>);
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
        let (frame, older) = self.open_with(bytes, true)?;
        // A bitcode payload has no in-place form, compressed or not, whether or not this codec
        // reads bitcode: say so first.
        if frame.header().codec == CodecId::BITCODE {
            return Err(bitcode_not_accessible());
        }
        if let Some(older) = older {
            return Err(older_not_accessible::<T>(&older));
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
            let json = self.legacy(&bytes)?;
            return match self.legacy_version()? {
                Some(older) => self.archive_value(self.upgrade_json(&older, json, true)?),
                None => self.archive_value(decode_json::<T>(json, true)?),
            };
        }
        let (frame, older) = self.open(&bytes)?;
        let header = frame.header();
        if let Some(older) = &older {
            // Decoded as the older version and upgraded, then archived once.
            let value = self.frame.read(&frame, |payload| {
                self.upgrade_payload(older, header.codec, payload)
            })?;
            return self.archive_value(value);
        }
        if header.is_compressed() {
            let buf = self.frame.decompress_pooled(&frame)?;
            return if header.codec == CodecId::RKYV {
                OwnedArchive::from_pooled(buf, self.rkyv.max_depth())
            } else {
                self.archive_value(self.decode_parsed(header.codec, &buf)?)
            };
        }
        if header.codec == CodecId::RKYV {
            match archive::is_aligned(frame.payload()) {
                true => self.share_rkyv(bytes.slice(header.payload_range())),
                false => self.copy_rkyv(frame.payload()),
            }
        } else {
            self.archive_value(self.decode_parsed(header.codec, frame.payload())?)
        }
    }

    /// The owned archive of an aligned raw rkyv payload, sharing the caller's buffer.
    #[inline]
    fn share_rkyv(&self, payload: Bytes) -> Result<OwnedArchive<T>> {
        OwnedArchive::from_bytes_in(payload, self.rkyv.max_depth(), self.frame.pool())
    }

    /// The owned archive of an unaligned raw rkyv payload: one copy into a pooled buffer,
    /// taken straight from the caller's bytes (a slice of their `Bytes` made only to be
    /// dropped would cost two atomic reference-count updates).
    #[inline]
    fn copy_rkyv(&self, payload: &[u8]) -> Result<OwnedArchive<T>> {
        OwnedArchive::from_slice_in(payload, self.rkyv.max_depth(), self.frame.pool())
    }

    /// `value` archived once into a pooled buffer: a value decoded from a JSON or bitcode
    /// payload, or an upgraded one.
    ///
    /// A value rkyv refuses to encode is exactly what a writer sends as a JSON fallback, so
    /// that refusal is reported as a read-side `Unsupported` error that says to decode
    /// instead, never as an encode error on a read path.
    fn archive_value(&self, value: T) -> Result<OwnedArchive<T>> {
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
        if let Some(not_json) = not_json(json, T::NAME) {
            return match not_json.kind() {
                ErrorKind::Incomplete => not_json,
                _ => not_json.with_source(err),
            };
        }
    }
    crate::json::decode_error_named(err, T::NAME)
}

/// Header-less input that cannot be JSON at all (empty, or a first byte that begins neither a
/// frame nor a JSON text), as the error that says so; `None` for anything else.
#[cold]
fn not_json(json: &[u8], name: &str) -> Option<Error> {
    match json.first() {
        None => Some(Error::new(
            ErrorKind::Incomplete,
            format!(
                "empty input: expected a frame (magic byte {:#04x}) or a legacy JSON `{name}`",
                frame::MAGIC,
            ),
        )),
        Some(&b) if !frame::can_begin_json(b) => Some(Error::corrupt(format!(
            "input is neither a frame (its first byte {b:#04x} is not the frame magic {:#04x}) \
             nor a legacy JSON `{name}` (JSON begins with whitespace, `{{`, `[`, `\"`, `-`, a \
             digit, `t`, `f` or `n`)",
            frame::MAGIC,
        ))),
        Some(_) => None,
    }
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
fn fingerprint_mismatch<T: Message>(found: u64, older: &str) -> Error {
    Error::new(
        ErrorKind::TypeMismatch,
        format!(
            "frame was written for another message type: expected `{}` with schema fingerprint \
             {:#018x}{older}, found fingerprint {found:#018x}",
            T::NAME,
            T::SCHEMA_FINGERPRINT
        ),
    )
}

#[cold]
fn legacy_version_unknown<T: Message>(name: &str, version: u32, fingerprint: u64) -> Error {
    Error::new(
        ErrorKind::TypeMismatch,
        format!(
            "legacy JSON is declared to be `{name}` v{version} (schema fingerprint \
             {fingerprint:#018x}), which this reader of `{}` does not upgrade from: add it \
             with `with_upgrades` or `upgrade_from`",
            T::NAME
        ),
    )
}

#[cold]
fn older_not_accessible<T: Message>(older: &OlderVersion<T>) -> Error {
    Error::new(
        ErrorKind::Unsupported,
        format!(
            "frame holds `{}` v{} (schema fingerprint {:#018x}), an older version of `{}` \
             that this reader upgrades: there is no archive of the current version to borrow; \
             use access_owned (which upgrades and re-archives it) or decode",
            older.name,
            older.version,
            older.fingerprint,
            T::NAME
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
