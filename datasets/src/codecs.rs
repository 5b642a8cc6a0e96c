//! The codec adapters the benchmark suite and the report measure: one uniform, object-safe
//! face ([`CodecAdapter`]) over our codecs, the raw libraries they wrap, and peer formats.
//!
//! [`codecs`] is *the* table: each codec is one entry, and the benches and the report measure
//! exactly what it lists. A codec joins the measurements by joining the table; one that does
//! not exist yet is simply absent (never faked).
//!
//! Every adapter owns the buffer it encodes into and reuses it across calls, so a warm encode
//! measures the codec, not the allocator.

use std::any::type_name;
use std::fmt;
use std::hint::black_box;

use rkyv::api::high::{HighDeserializer, HighSerializer, HighValidator};
use rkyv::bytecheck::CheckBytes;
use rkyv::rancor;
use rkyv::ser::allocator::ArenaHandle;
use rkyv::util::AlignedVec;
use rkyv::{Archive, Deserialize, Portable};
use serde::Serialize;
use serde::de::DeserializeOwned;
use zerocodec::prelude::*;
use zerocodec::{Error, ErrorKind, Result, ZeroCopyDecode};
use zerocodec_codecs::{
    Compression, DEFAULT_DICTIONARY_SIZE, DEFAULT_ZSTD_LEVEL, HybridCodec, JsonCodec, Primary,
    RkyvCodec, ZeroCopyEncode, ZstdDictionary,
};

use crate::dataset::{BenchValue, Dataset};

/// Where a codec stands in the comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// A zerocodec codec: what the report is about.
    Ours,
    /// The library one of our codecs wraps, called directly: shows the framework's overhead.
    Reference,
    /// Another serialization format, for comparison.
    Peer,
}

impl Role {
    /// The role of the codec called `name` in [`codecs`]'s table ([`CODEC_NAMES`]); `None`
    /// for a name the table never holds.
    pub fn of(name: &str) -> Option<Role> {
        match name {
            "json"
            | "rkyv"
            | "hybrid"
            | "hybrid+crc32c"
            | "hybrid+lz4"
            | "hybrid+zstd"
            | "hybrid+zstd-dict"
            | "hybrid+bitcode"
            | "hybrid+bitcode+zstd" => Some(Role::Ours),
            "raw-serde_json" | "raw-rkyv" => Some(Role::Reference),
            "postcard" | "bitcode" => Some(Role::Peer),
            _ => None,
        }
    }

    /// A lowercase name for tables.
    pub const fn name(self) -> &'static str {
        match self {
            Role::Ours => "ours",
            Role::Reference => "reference",
            Role::Peer => "peer",
        }
    }
}

/// An operation the suite measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Op {
    /// Encode into a reused buffer.
    Encode,
    /// Decode to an owned value.
    Decode,
    /// Validate and read in place (zero-copy codecs only).
    Access,
}

impl Op {
    /// Every operation, in report order.
    pub const ALL: [Op; 3] = [Op::Encode, Op::Decode, Op::Access];

    /// The name used in benchmark ids and the report (`encode`, `decode`, `access`).
    pub const fn name(self) -> &'static str {
        match self {
            Op::Encode => "encode",
            Op::Decode => "decode",
            Op::Access => "access",
        }
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One codec as the benchmark suite sees it.
///
/// # Contract
///
/// - [`encode`](CodecAdapter::encode) replaces the adapter's buffer contents with one
///   encoding of `value` and returns it; warm calls reuse the buffer.
/// - [`decode`](CodecAdapter::decode) reads bytes [`encode`](CodecAdapter::encode) produced
///   (copied into a 16-byte aligned buffer by the caller) back into an owned value.
/// - [`access`](CodecAdapter::access), where [`has_access`](CodecAdapter::has_access) is
///   true, validates the bytes and reads them in place; it does no more than that, so it
///   times what a caller pays to get a usable view.
pub trait CodecAdapter<T> {
    /// The codec's name in the report (`json`, `rkyv`, `raw-rkyv`, ...).
    fn name(&self) -> &'static str;

    /// Where the codec stands in the comparison.
    fn role(&self) -> Role;

    /// Encodes `value` into the adapter's reused buffer and returns the encoding.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Encode`] when the codec cannot represent `value`.
    fn encode(&mut self, value: &T) -> Result<&[u8]>;

    /// Decodes an owned value.
    ///
    /// # Errors
    ///
    /// The codec's decode error, as a [`zerocodec::Error`].
    fn decode(&mut self, bytes: &[u8]) -> Result<T>;

    /// True if the codec can read its encoding in place.
    fn has_access(&self) -> bool {
        false
    }

    /// Validates `bytes` (16-byte aligned) and reads the archived view in place.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Unsupported`] when [`has_access`](CodecAdapter::has_access) is false;
    /// otherwise the validation error.
    fn access(&mut self, bytes: &[u8]) -> Result<()> {
        let _ = bytes;
        Err(no_access(self.name()))
    }

    /// Reads `bytes` through [`access`](CodecAdapter::access)'s path and deserializes the view,
    /// so a check can compare it with the original value.
    ///
    /// # Errors
    ///
    /// As [`access`](CodecAdapter::access).
    fn access_to_owned(&mut self, bytes: &[u8]) -> Result<T> {
        let _ = bytes;
        Err(no_access(self.name()))
    }
}

#[cold]
fn no_access(codec: &str) -> Error {
    Error::new(
        ErrorKind::Unsupported,
        format!(
            "codec `{codec}` has no zero-copy access: expected a zero-copy codec, found a parsing one"
        ),
    )
}

#[cold]
fn foreign_error<T>(kind: ErrorKind, library: &str, verb: &str, err: impl fmt::Display) -> Error {
    Error::new(
        kind,
        format!("{library} could not {verb} `{}`: {err}", type_name::<T>()),
    )
}

/// Every codec name the table can hold, in table order: our codecs, the raw references, then
/// the peers. Which of them a dataset gets is up to [`codecs`].
pub const CODEC_NAMES: [&str; 13] = [
    "json",
    "rkyv",
    "hybrid",
    "hybrid+crc32c",
    "hybrid+lz4",
    "hybrid+zstd",
    "hybrid+zstd-dict",
    "hybrid+bitcode",
    "hybrid+bitcode+zstd",
    "raw-serde_json",
    "raw-rkyv",
    "postcard",
    "bitcode",
];

/// The codec table for one dataset: our codecs first, then the raw references, then the peers
/// that can carry the dataset's type.
///
/// The hybrid codec runs with its default header (schema fingerprint, no checksum), and as
/// `hybrid+crc32c` with its checksum on; its
/// compressed stacks use the default adaptive [`Policy`](zerocodec_codecs::Policy). The
/// dictionary stack (`hybrid+zstd-dict`) exists only for per-message datasets, trained on
/// `dataset.corpus.train` (the report measures its sizes on the held-out half). The bitcode
/// stacks (`hybrid+bitcode`, `hybrid+bitcode+zstd`: the hybrid frame with
/// [`Primary::Bitcode`]) exist for the types with bitcode's derives
/// ([`BenchValue::bitcode_stacks`]).
pub fn codecs<T: BenchValue>(dataset: &Dataset<T>) -> Vec<Box<dyn CodecAdapter<T>>> {
    CODEC_NAMES
        .iter()
        .filter_map(|name| codec(dataset, name))
        .collect()
}

/// The one adapter called `name` from [`codecs`]'s table for `dataset`, built alone (so a
/// caller that needs one codec does not train a dictionary it will not use); `None` when the
/// table has no such codec for this dataset.
pub fn codec<T: BenchValue>(dataset: &Dataset<T>, name: &str) -> Option<Box<dyn CodecAdapter<T>>> {
    let adapter: Box<dyn CodecAdapter<T>> = match name {
        "json" => Box::new(Json::default()),
        "rkyv" => Box::new(Rkyv::default()),
        "hybrid" => Box::new(Stack::zero_copy("hybrid", HybridCodec::<T>::new())),
        // The hybrid frame with its CRC-32C on: what the checksum costs per frame.
        "hybrid+crc32c" => Box::new(Stack::zero_copy(
            "hybrid+crc32c",
            HybridCodec::<T>::new().with_checksum(true),
        )),
        "hybrid+lz4" => Box::new(Stack::owned(
            "hybrid+lz4",
            HybridCodec::<T>::new().with_compression(Compression::Lz4),
        )),
        "hybrid+zstd" => Box::new(Stack::owned(
            "hybrid+zstd",
            HybridCodec::<T>::new().with_compression(Compression::Zstd(DEFAULT_ZSTD_LEVEL)),
        )),
        "hybrid+zstd-dict" => {
            let corpus = dataset.corpus.as_ref()?;
            // Trained on what the stack compresses: the frame's payload, the rkyv encoding
            // (the header stays outside the compressed bytes).
            let dictionary = ZstdDictionary::train_with(
                &RkyvCodec::<T>::new(),
                &corpus.train,
                DEFAULT_DICTIONARY_SIZE,
            )
            .and_then(|dict| Compression::zstd_dict(dict, DEFAULT_ZSTD_LEVEL));
            match dictionary {
                Ok(dict) => Box::new(Stack::owned(
                    "hybrid+zstd-dict",
                    HybridCodec::<T>::new().with_compression(dict),
                )),
                // Training needs enough distinct samples; without a dictionary the stack is
                // left out rather than faked.
                Err(err) => {
                    eprintln!("{}: no hybrid+zstd-dict stack: {err}", dataset.name);
                    return None;
                }
            }
        }
        "raw-serde_json" => Box::new(RawSerdeJson::default()),
        "raw-rkyv" => Box::new(RawRkyv::default()),
        "hybrid+bitcode" | "hybrid+bitcode+zstd" => {
            return T::bitcode_stacks().into_iter().find(|c| c.name() == name);
        }
        _ => return T::peer_codecs().into_iter().find(|c| c.name() == name),
    };
    Some(adapter)
}

/// Any zerocodec codec stack, encoding into a reused aligned buffer.
///
/// Built with [`Stack::zero_copy`] for stacks whose frames read in place (the hybrid codec:
/// `access` borrows the payload), or [`Stack::owned`] for stacks that must decompress first,
/// which the suite measures for encode and decode only.
pub struct Stack<C> {
    name: &'static str,
    codec: C,
    zero_copy: bool,
    buf: AlignedVec,
}

impl<C> Stack<C> {
    /// A stack whose encodings `access` reads in place.
    pub fn zero_copy(name: &'static str, codec: C) -> Self {
        Self {
            name,
            codec,
            zero_copy: true,
            buf: AlignedVec::new(),
        }
    }

    /// A stack measured for encode and decode only.
    pub fn owned(name: &'static str, codec: C) -> Self {
        Self {
            name,
            codec,
            zero_copy: false,
            buf: AlignedVec::new(),
        }
    }
}

impl<T, C> CodecAdapter<T> for Stack<C>
where
    T: ZeroCopyDecode,
    C: Encode<Item = T> + Decode<Item = T> + Access<Item = T>,
{
    fn name(&self) -> &'static str {
        self.name
    }
    fn role(&self) -> Role {
        Role::Ours
    }
    #[inline]
    fn encode(&mut self, value: &T) -> Result<&[u8]> {
        self.buf.clear();
        self.codec.encode_into(value, &mut self.buf)?;
        Ok(&self.buf)
    }
    #[inline]
    fn decode(&mut self, bytes: &[u8]) -> Result<T> {
        self.codec.decode(bytes)
    }
    fn has_access(&self) -> bool {
        self.zero_copy
    }
    #[inline]
    fn access(&mut self, bytes: &[u8]) -> Result<()> {
        if !self.zero_copy {
            return Err(no_access(self.name));
        }
        black_box(self.codec.access(bytes)?);
        Ok(())
    }
    fn access_to_owned(&mut self, bytes: &[u8]) -> Result<T> {
        if !self.zero_copy {
            return Err(no_access(self.name));
        }
        zerocodec::archive::deserialize_archived::<T>(self.codec.access(bytes)?)
    }
}

/// Our [`JsonCodec`], encoding into a reused aligned buffer.
#[derive(Default)]
pub struct Json {
    buf: AlignedVec,
}

impl<T: Serialize + DeserializeOwned> CodecAdapter<T> for Json {
    fn name(&self) -> &'static str {
        "json"
    }
    fn role(&self) -> Role {
        Role::Ours
    }
    #[inline]
    fn encode(&mut self, value: &T) -> Result<&[u8]> {
        self.buf.clear();
        JsonCodec::new().encode_into(value, &mut self.buf)?;
        Ok(&self.buf)
    }
    #[inline]
    fn decode(&mut self, bytes: &[u8]) -> Result<T> {
        JsonCodec::new().decode(bytes)
    }
}

/// Our [`RkyvCodec`], encoding into a reused aligned buffer and reading in place.
#[derive(Default)]
pub struct Rkyv {
    buf: AlignedVec,
}

impl<T: ZeroCopyEncode + ZeroCopyDecode> CodecAdapter<T> for Rkyv {
    fn name(&self) -> &'static str {
        "rkyv"
    }
    fn role(&self) -> Role {
        Role::Ours
    }
    #[inline]
    fn encode(&mut self, value: &T) -> Result<&[u8]> {
        self.buf.clear();
        RkyvCodec::new().encode_into(value, &mut self.buf)?;
        Ok(&self.buf)
    }
    #[inline]
    fn decode(&mut self, bytes: &[u8]) -> Result<T> {
        RkyvCodec::new().decode(bytes)
    }
    fn has_access(&self) -> bool {
        true
    }
    #[inline]
    fn access(&mut self, bytes: &[u8]) -> Result<()> {
        black_box(RkyvCodec::<T>::new().access(bytes)?);
        Ok(())
    }
    fn access_to_owned(&mut self, bytes: &[u8]) -> Result<T> {
        let view = RkyvCodec::<T>::new().access(bytes)?;
        zerocodec::archive::deserialize_archived::<T>(view)
    }
}

/// serde_json called directly: `to_writer` into a reused `Vec`, `from_slice`.
#[derive(Default)]
pub struct RawSerdeJson {
    buf: Vec<u8>,
}

impl<T: Serialize + DeserializeOwned> CodecAdapter<T> for RawSerdeJson {
    fn name(&self) -> &'static str {
        "raw-serde_json"
    }
    fn role(&self) -> Role {
        Role::Reference
    }
    #[inline]
    fn encode(&mut self, value: &T) -> Result<&[u8]> {
        self.buf.clear();
        serde_json::to_writer(&mut self.buf, value)
            .map_err(|e| foreign_error::<T>(ErrorKind::Encode, "serde_json", "encode", e))?;
        Ok(&self.buf)
    }
    #[inline]
    fn decode(&mut self, bytes: &[u8]) -> Result<T> {
        serde_json::from_slice(bytes)
            .map_err(|e| foreign_error::<T>(ErrorKind::Corrupt, "serde_json", "decode", e))
    }
}

/// What rkyv's high-level API with `rancor::Error` needs of a type: the raw reference.
pub trait RawRkyvValue:
    Archive<
        Archived: Portable
                      + for<'a> CheckBytes<HighValidator<'a, rancor::Error>>
                      + Deserialize<Self, HighDeserializer<rancor::Error>>,
    > + for<'a> rkyv::Serialize<HighSerializer<AlignedVec, ArenaHandle<'a>, rancor::Error>>
    + Sized
{
}

impl<T> RawRkyvValue for T where
    T: Archive<
            Archived: Portable
                          + for<'a> CheckBytes<HighValidator<'a, rancor::Error>>
                          + Deserialize<T, HighDeserializer<rancor::Error>>,
        > + for<'a> rkyv::Serialize<HighSerializer<AlignedVec, ArenaHandle<'a>, rancor::Error>>
{
}

/// rkyv called directly: `to_bytes_in` a reused `AlignedVec`, `access`, `from_bytes`.
#[derive(Default)]
pub struct RawRkyv {
    buf: AlignedVec,
}

impl<T: RawRkyvValue> CodecAdapter<T> for RawRkyv {
    fn name(&self) -> &'static str {
        "raw-rkyv"
    }
    fn role(&self) -> Role {
        Role::Reference
    }
    #[inline]
    fn encode(&mut self, value: &T) -> Result<&[u8]> {
        let mut buf = std::mem::take(&mut self.buf);
        buf.clear();
        self.buf = rkyv::api::high::to_bytes_in::<_, rancor::Error>(value, buf)
            .map_err(|e| foreign_error::<T>(ErrorKind::Encode, "rkyv", "encode", e))?;
        Ok(&self.buf)
    }
    #[inline]
    fn decode(&mut self, bytes: &[u8]) -> Result<T> {
        rkyv::from_bytes::<T, rancor::Error>(bytes)
            .map_err(|e| foreign_error::<T>(ErrorKind::Corrupt, "rkyv", "decode", e))
    }
    fn has_access(&self) -> bool {
        true
    }
    #[inline]
    fn access(&mut self, bytes: &[u8]) -> Result<()> {
        let view = rkyv::access::<T::Archived, rancor::Error>(bytes)
            .map_err(|e| foreign_error::<T>(ErrorKind::Corrupt, "rkyv", "access", e))?;
        black_box(view);
        Ok(())
    }
    fn access_to_owned(&mut self, bytes: &[u8]) -> Result<T> {
        let view = rkyv::access::<T::Archived, rancor::Error>(bytes)
            .map_err(|e| foreign_error::<T>(ErrorKind::Corrupt, "rkyv", "access", e))?;
        rkyv::deserialize::<T, rancor::Error>(view)
            .map_err(|e| foreign_error::<T>(ErrorKind::Corrupt, "rkyv", "deserialize", e))
    }
}

/// The hybrid frame with a bitcode payload (`hybrid+bitcode`), and compressed with zstd at
/// the default level (`hybrid+bitcode+zstd`), for a type with bitcode's derives.
pub fn bitcode_stacks<T>() -> Vec<Box<dyn CodecAdapter<T>>>
where
    T: BenchValue + bitcode::Encode + bitcode::DecodeOwned,
{
    let bitcode = || {
        HybridCodec::<T>::new()
            .with_bitcode()
            .with_primary(Primary::Bitcode)
    };
    vec![
        Box::new(Stack::owned("hybrid+bitcode", bitcode())),
        Box::new(Stack::owned(
            "hybrid+bitcode+zstd",
            bitcode().with_compression(Compression::Zstd(DEFAULT_ZSTD_LEVEL)),
        )),
    ]
}

/// postcard (serde): `to_extend` into a reused `Vec`, `from_bytes`.
///
/// postcard is not self-describing, so it cannot carry free-form `serde_json::Value` fields.
#[derive(Default)]
pub struct Postcard {
    buf: Vec<u8>,
}

impl<T: Serialize + DeserializeOwned> CodecAdapter<T> for Postcard {
    fn name(&self) -> &'static str {
        "postcard"
    }
    fn role(&self) -> Role {
        Role::Peer
    }
    #[inline]
    fn encode(&mut self, value: &T) -> Result<&[u8]> {
        let mut buf = std::mem::take(&mut self.buf);
        buf.clear();
        self.buf = postcard::to_extend(value, buf)
            .map_err(|e| foreign_error::<T>(ErrorKind::Encode, "postcard", "encode", e))?;
        Ok(&self.buf)
    }
    #[inline]
    fn decode(&mut self, bytes: &[u8]) -> Result<T> {
        postcard::from_bytes(bytes)
            .map_err(|e| foreign_error::<T>(ErrorKind::Corrupt, "postcard", "decode", e))
    }
}

/// bitcode through its derives (`Encode`/`Decode`), with a reused `bitcode::Buffer`.
#[derive(Default)]
pub struct Bitcode {
    buf: bitcode::Buffer,
}

impl<T: bitcode::Encode + bitcode::DecodeOwned> CodecAdapter<T> for Bitcode {
    fn name(&self) -> &'static str {
        "bitcode"
    }
    fn role(&self) -> Role {
        Role::Peer
    }
    #[inline]
    fn encode(&mut self, value: &T) -> Result<&[u8]> {
        Ok(self.buf.encode(value))
    }
    #[inline]
    fn decode(&mut self, bytes: &[u8]) -> Result<T> {
        self.buf
            .decode(bytes)
            .map_err(|e| foreign_error::<T>(ErrorKind::Corrupt, "bitcode", "decode", e))
    }
}

/// bitcode through its serde support, for types without bitcode derives (the seed types).
///
/// bitcode's serde API has no reusable buffer, so each encode allocates its output.
#[derive(Default)]
pub struct BitcodeSerde {
    buf: Vec<u8>,
}

impl<T: Serialize + DeserializeOwned> CodecAdapter<T> for BitcodeSerde {
    fn name(&self) -> &'static str {
        "bitcode"
    }
    fn role(&self) -> Role {
        Role::Peer
    }
    #[inline]
    fn encode(&mut self, value: &T) -> Result<&[u8]> {
        self.buf = bitcode::serialize(value)
            .map_err(|e| foreign_error::<T>(ErrorKind::Encode, "bitcode", "encode", e))?;
        Ok(&self.buf)
    }
    #[inline]
    fn decode(&mut self, bytes: &[u8]) -> Result<T> {
        bitcode::deserialize(bytes)
            .map_err(|e| foreign_error::<T>(ErrorKind::Corrupt, "bitcode", "decode", e))
    }
}
