//! [`BatchCodec`]: a [`Batch`] as the payload of one frame.

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use zerocodec::archive::DEFAULT_MAX_DEPTH;
use zerocodec::frame::Frame;
use zerocodec::{
    BufferPool, Codec, CodecId, Decode, Encode, EncodeBuf, Error, ErrorKind, Message, Result,
    Versioned, ZeroCopy,
};

use crate::batch::{Batch, upgrade_batch};
use crate::layer::{FrameLayer, Payload, frame_options};
use crate::rkyv::ZeroCopyEncode;
use crate::upgrade::{self, Archives, OlderVersion, UpgradeChain, Upgrades};

/// Writes a [`Batch`] as the payload of one frame (codec id [`CodecId::BATCH`]), and reads it
/// back with one validation pass.
///
/// The frame records the message type's schema fingerprint (a batch of `ChatMessage` is never
/// read as a batch of anything else), a CRC-32C over the whole batch (on by default), and the
/// [`Compression`](crate::Compression) the batch is compressed with as a unit, so a stored
/// segment says how to read it.
///
/// Decoding copies the payload once into a pooled, aligned buffer (or decompresses into one),
/// then validates the index and every message once; reads after that are O(1).
///
/// # Older versions
///
/// A reader built with [`with_upgrades`](Self::with_upgrades) (or
/// [`upgrade_from`](Self::upgrade_from)) also reads batches of older versions of `T`,
/// recognised by the fingerprint in the frame header. Such a batch is upgraded once, when it
/// is decoded: every message is validated and deserialized as the older version, converted
/// along the chain of `From` impls, and appended to a new batch of `T` in a pooled buffer. The
/// result is an ordinary `Batch<T>` (archived views, O(1) `get(i)`); the upgrade costs one
/// deserialization, the conversions and one serialization per message. A batch of the current
/// version is read exactly as without upgrades.
///
/// A batch never mixes versions: [`BatchBuilder`](crate::BatchBuilder) appends values of one
/// type and the frame carries one fingerprint, which every message is validated against. A
/// store holding batches of several versions is read batch by batch, each through the chain
/// (or refused with `TypeMismatch` when its version is unknown to the reader).
///
/// # Examples
///
/// ```
/// use zerocodec::Message;
/// use zerocodec::prelude::*;
/// use zerocodec_codecs::{BatchBuilder, BatchCodec, Compression};
///
/// #[derive(rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
/// struct Event { seq: u64 }
/// impl Message for Event {
///     const NAME: &'static str = "Event";
///     const SCHEMA_FINGERPRINT: u64 = 0x5eed;
/// }
///
/// let mut builder = BatchBuilder::<Event>::new();
/// for seq in 0..100 {
///     builder.append(&Event { seq })?;
/// }
/// let codec = BatchCodec::new().with_compression(Compression::Lz4);
/// let frame = codec.encode(&builder.finish()?)?;
/// let batch = codec.decode(&frame)?;
/// assert_eq!(batch.get(42)?.seq, 42);
/// # Ok::<(), zerocodec::Error>(())
/// ```
pub struct BatchCodec<T> {
    frame: FrameLayer,
    max_depth: usize,
    /// The older versions read: `None` until a builder adds one.
    upgrades: Option<Arc<BatchUpgrades<T>>>,
    _type: PhantomData<fn() -> T>,
}

/// The older versions a [`BatchCodec`] reads, and how it rebuilds their batches as `T`.
struct BatchUpgrades<T> {
    older: Upgrades<T>,
    rebuild: Rebuild<T>,
}

/// Rebuilds a batch of an older version (its bytes) as a batch of `T`, with a validation
/// nesting cap and a pool for the new batch.
type Rebuild<T> = fn(&[u8], &OlderVersion<T>, usize, &BufferPool) -> Result<Batch<T>>;

/// The media type of a [`BatchCodec`] frame: `application/vnd.zerocodec.batch`, beside
/// [`FRAME_CONTENT_TYPE`](crate::FRAME_CONTENT_TYPE).
pub const BATCH_CONTENT_TYPE: &str = "application/vnd.zerocodec.batch";

impl<T> BatchCodec<T> {
    /// A codec writing frames with the schema fingerprint and a CRC-32C checksum, stored raw.
    ///
    /// Batches are what gets stored: on disk and in queues a flipped bit is not caught by a
    /// transport, and without a checksum about one corrupted frame in ten still validates as
    /// a batch of different values. The checksum is on by default; turn it off with
    /// [`with_checksum(false)`](Self::with_checksum) only where something else guards the
    /// bytes.
    pub const fn new() -> Self {
        Self {
            frame: FrameLayer::new(true),
            max_depth: DEFAULT_MAX_DEPTH,
            upgrades: None,
            _type: PhantomData,
        }
    }

    frame_options!();

    /// Caps how deeply nested each message may be when the batch is validated.
    #[must_use]
    pub fn with_max_depth(mut self, max_depth: usize) -> Self {
        self.max_depth = max_depth;
        self
    }
}

impl<T> Default for BatchCodec<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Clone for BatchCodec<T> {
    fn clone(&self) -> Self {
        Self {
            frame: self.frame.clone(),
            max_depth: self.max_depth,
            upgrades: self.upgrades.clone(),
            _type: PhantomData,
        }
    }
}

impl<T> fmt::Debug for BatchCodec<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BatchCodec")
            .field("type", &std::any::type_name::<T>())
            .field("frame", &self.frame)
            .field("max_depth", &self.max_depth)
            .field("upgrades_from", &self.upgrades.as_ref().map(|u| &u.older))
            .finish()
    }
}

/// A batch's bytes, as a frame payload.
struct BatchBytes<'a>(&'a [u8]);

impl Payload for BatchBytes<'_> {
    #[inline]
    fn write_to<B: EncodeBuf>(&self, out: &mut B) -> Result<CodecId> {
        out.extend_from_slice(self.0);
        Ok(CodecId::BATCH)
    }
}

impl<T: Message + ZeroCopyEncode> BatchCodec<T> {
    /// Reads batches of the older versions `T` declares ([`Versioned::Older`]:
    /// `#[message(upgrade_from = ...)]`), upgrading each message once when the batch is
    /// decoded (see [Older versions](Self#older-versions)).
    #[must_use]
    pub fn with_upgrades(self) -> Self
    where
        T: Versioned,
        T::Older: UpgradeChain<T, Archives>,
    {
        self.add_upgrades(upgrade::declared::<T, Archives>())
    }

    /// Reads batches of `Old` and of the older versions `Old` declares, converted with
    /// `From` (`From<Old> for T`, then along `Old`'s chain): the builder form of
    /// `#[message(upgrade_from = Old)]`.
    #[must_use]
    pub fn upgrade_from<Old>(self) -> Self
    where
        Old: Versioned,
        (Old, Old::Older): UpgradeChain<T, Archives>,
    {
        self.add_upgrades(upgrade::from_version::<T, Old, Archives>())
    }

    fn add_upgrades(mut self, versions: Vec<OlderVersion<T>>) -> Self {
        let upgrades = self.upgrades.get_or_insert_with(|| {
            Arc::new(BatchUpgrades {
                older: Upgrades::new(),
                rebuild: upgrade_batch::<T>,
            })
        });
        let upgrades = Arc::make_mut(upgrades);
        upgrades.older.extend(versions);
        self
    }
}

impl<T> Clone for BatchUpgrades<T> {
    fn clone(&self) -> Self {
        Self {
            older: self.older.clone(),
            rebuild: self.rebuild,
        }
    }
}

impl<T: Message> BatchCodec<T> {
    /// The schema fingerprints of the older versions this codec reads, newest first.
    pub fn upgrades_from(&self) -> Vec<u64> {
        self.upgrades
            .as_ref()
            .map(|u| u.older.older.iter().map(|o| o.fingerprint).collect())
            .unwrap_or_default()
    }

    /// Parses the frame and checks it holds a batch of `T` (`None`) or of an older version
    /// this codec reads.
    fn open<'a>(&self, bytes: &'a [u8]) -> Result<(Frame<'a>, Option<OlderVersion<T>>)> {
        let frame = Frame::parse(bytes)?;
        let header = frame.header();
        if header.codec != CodecId::BATCH {
            return Err(Error::new(
                ErrorKind::UnknownCodec,
                format!(
                    "expected a batch frame (codec {}), found codec {}",
                    CodecId::BATCH,
                    header.codec
                ),
            ));
        }
        match header.fingerprint {
            Some(found) if found != T::SCHEMA_FINGERPRINT => {
                let upgrades = self.upgrades.as_deref().map(|u| &u.older);
                match Upgrades::resolve(upgrades, found) {
                    Ok(older) => Ok((frame, Some(older))),
                    Err(older) => Err(Error::new(
                        ErrorKind::TypeMismatch,
                        format!(
                            "expected a batch of `{}` (schema fingerprint {:#018x}){older}, \
                             found a batch with schema fingerprint {found:#018x}",
                            T::NAME,
                            T::SCHEMA_FINGERPRINT
                        ),
                    )),
                }
            }
            _ => Ok((frame, None)),
        }
    }
}

impl<T> Codec for BatchCodec<T> {
    type Item = Batch<T>;

    /// [`CodecId::FRAME`]: what this codec writes is a frame (whose payload is a batch,
    /// [`CodecId::BATCH`]).
    fn codec_id(&self) -> CodecId {
        CodecId::FRAME
    }

    fn content_type(&self) -> &'static str {
        BATCH_CONTENT_TYPE
    }
}

impl<T: ZeroCopy + Message> Encode for BatchCodec<T> {
    fn encode_into<B: EncodeBuf>(&self, batch: &Batch<T>, out: &mut B) -> Result<()> {
        let payload = BatchBytes(batch.as_bytes());
        self.frame
            .write(&payload, Some(T::SCHEMA_FINGERPRINT), out)
            .map(drop)
    }
}

impl<T: ZeroCopy + Message> Decode for BatchCodec<T> {
    /// Copies the payload once into a pooled, aligned buffer (or decompresses into one), then
    /// validates the index and every message once; reads after that are O(1).
    fn decode(&self, bytes: &[u8]) -> Result<Batch<T>> {
        let (frame, older) = self.open(bytes)?;
        let buf = if frame.header().is_compressed() {
            self.frame.decompress_pooled(&frame)?
        } else {
            let mut buf = self.frame.pool().take();
            buf.extend_from_slice(frame.payload());
            buf
        };
        match (older, self.upgrades.as_deref()) {
            (Some(older), Some(upgrades)) => {
                (upgrades.rebuild)(&buf, &older, self.max_depth, self.frame.pool())
            }
            _ => Batch::from_pooled_with_depth(buf, self.max_depth),
        }
    }
}
