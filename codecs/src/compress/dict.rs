//! zstd with trained dictionaries: [`ZstdDictionary`] (training, ids), the
//! [`DictionaryRegistry`] readers look ids up in, and [`ZstdDict`], a dictionary prepared for
//! compressing at one level.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use ::zstd::zstd_safe::{self, CDict, DDict};
use parking_lot::RwLock;
use zerocodec::{Encode, Error, ErrorKind, Result};

use super::Compression;

/// The dictionary size [`ZstdDictionary::train`] callers usually want for small messages
/// (32 KiB): large enough for the shared structure and common strings of a message type,
/// small enough to stay in L2 (zstd's own CLI trains 110 KiB dictionaries by default).
// On the report's held-out chat messages, 32 KiB compressed to 2 bytes less per message than
// 16 KiB, and 6 less than 4 KiB.
pub const DEFAULT_DICTIONARY_SIZE: usize = 32 << 10;

/// A zstd dictionary, trained from sample messages, named by its id.
///
/// The id is the one zstd writes in the dictionary's header (derived from its content when
/// trained). The frame header carries it beside every payload compressed with it, so a reader picks the dictionary from its [`DictionaryRegistry`] and zstd
/// confirms the frame was made with it.
///
/// A dictionary is what makes small messages compress at all: plain zstd has nothing to
/// refer back to in a 200-byte message, while a dictionary holds the field names and common
/// values that every message of a type shares.
///
/// # Examples
///
/// ```
/// use zerocodec::prelude::*;
/// use zerocodec_codecs::{Compressed, Compression, JsonCodec, Policy, ZstdDictionary};
///
/// #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
/// struct Event { user: String, action: String, at: u64 }
///
/// let samples: Vec<Event> = (0..500)
///     .map(|i| Event { user: format!("user-{}", i % 37), action: ["login", "logout", "view"][i % 3].into(), at: 1_700_000_000 + i as u64 })
///     .collect();
/// let json = JsonCodec::new();
/// let dict = ZstdDictionary::train_with(&json, &samples, 4096)?;
/// // Dictionaries pay on messages below the default minimum size (64 bytes): lower it.
/// let codec = Compressed::new(json, Compression::zstd_dict(dict, 3)?)
///     .with_policy(Policy::new().with_min_size(16));
///
/// let event = Event { user: "user-3".into(), action: "view".into(), at: 1_700_000_999 };
/// let bytes = codec.encode(&event)?;
/// assert!(bytes.len() < json.encode(&event)?.len() + 16); // 16: the frame header
/// assert_eq!(codec.decode(&bytes)?, event);
/// # Ok::<(), zerocodec::Error>(())
/// ```
pub struct ZstdDictionary {
    id: u32,
    bytes: Box<[u8]>,
    ddict: DDict<'static>,
}

impl ZstdDictionary {
    /// Trains a dictionary of at most `max_size` bytes from `samples` (one encoded message
    /// each) with `zstd::dict::from_samples`.
    ///
    /// zstd wants many samples (hundreds or more) totalling well over `max_size`.
    ///
    /// The samples must be what the dictionary will compress: the encodings of the codec it
    /// sits on, not another format of the same messages. A dictionary trained on JSON text
    /// and used on rkyv payloads compresses them less than half as well.
    /// [`train_with`](Self::train_with) encodes the samples with the codec itself, which
    /// avoids the mistake.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Encode`] when zstd cannot train from the samples (too few, or too little
    /// data).
    pub fn train<S: AsRef<[u8]>>(samples: &[S], max_size: usize) -> Result<Self> {
        let total: usize = samples.iter().map(|s| s.as_ref().len()).sum();
        let bytes = ::zstd::dict::from_samples(samples, max_size)
            .map_err(|err| training_error(samples.len(), total, err))?;
        Self::from_bytes(bytes)
    }

    /// Encodes each of `values` with `codec` and trains a dictionary of at most `max_size`
    /// bytes from the encodings, as [`train`](Self::train) does.
    ///
    /// Train on the bytes the dictionary will compress: for a compressed `HybridCodec<T>`
    /// that is the frame's payload (`RkyvCodec<T>`'s encoding), not the whole frame, whose
    /// header is written outside the compressed bytes.
    ///
    /// # Errors
    ///
    /// The codec's encode errors, or as [`train`](Self::train).
    pub fn train_with<'a, C>(
        codec: &C,
        values: impl IntoIterator<Item = &'a C::Item>,
        max_size: usize,
    ) -> Result<Self>
    where
        C: Encode,
        C::Item: 'a,
    {
        let mut data = Vec::new();
        let mut sizes = Vec::new();
        for value in values {
            let start = data.len();
            codec.encode_into(value, &mut data)?;
            sizes.push(data.len() - start);
        }
        let bytes = ::zstd::dict::from_continuous(&data, &sizes, max_size)
            .map_err(|err| training_error(sizes.len(), data.len(), err))?;
        Self::from_bytes(bytes)
    }

    /// Loads a dictionary in zstd's format (as [`as_bytes`](Self::as_bytes) returns it, or
    /// as `zstd --train` writes it).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Corrupt`] if `bytes` is not a zstd dictionary with a non-zero id (raw
    /// content dictionaries have no id to name them by) or zstd cannot load it.
    pub fn from_bytes(bytes: impl Into<Vec<u8>>) -> Result<Self> {
        let bytes = bytes.into().into_boxed_slice();
        let Some(id) = zstd_safe::get_dict_id_from_dict(&bytes) else {
            return Err(Error::corrupt(format!(
                "zstd dictionary: expected the dictionary magic number and a non-zero id, \
                 found {} bytes without them",
                bytes.len()
            )));
        };
        let Some(ddict) = DDict::try_create(&bytes) else {
            return Err(Error::corrupt(format!(
                "zstd dictionary {id}: expected valid entropy tables, found {} bytes zstd \
                 cannot load",
                bytes.len()
            )));
        };
        Ok(Self {
            id: id.get(),
            bytes,
            ddict,
        })
    }

    /// The dictionary's id, written beside every payload compressed with it.
    pub fn id(&self) -> u32 {
        self.id
    }

    /// The dictionary in zstd's format, to store or ship to readers.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The prepared decompression dictionary.
    pub(crate) fn ddict(&self) -> &DDict<'static> {
        &self.ddict
    }

    /// Prepares the dictionary for compressing at `level`.
    ///
    /// Why not zstd's `ZSTD_c_dictIDFlag` parameter: `ZSTD_compress_usingCDict` takes no
    /// frame parameters, and the advanced API that does (`ZSTD_CCtx_refCDict` then
    /// `ZSTD_compress2`) would reset the shared per-thread context's parameters on every
    /// call; clearing the id once, here, costs nothing per message.
    ///
    /// The id field of the copy zstd digests (bytes 4..8, after the dictionary magic) is
    /// cleared, so frames compressed with it do not carry the 4-byte id: the frame header
    /// already records it beside the payload, and a reader picks the
    /// dictionary from there. The content and entropy tables are the dictionary's own, so
    /// [`ddict`](Self::ddict) (prepared from the original bytes) decompresses them.
    fn prepare(&self, level: i32) -> Result<CDict<'static>> {
        let mut anonymous = self.bytes.to_vec();
        if let Some(id) = anonymous.get_mut(4..8) {
            id.fill(0);
        }
        CDict::try_create(&anonymous, level).ok_or_else(|| {
            Error::new(
                ErrorKind::Encode,
                format!(
                    "zstd could not prepare dictionary {} for level {level}",
                    self.id
                ),
            )
        })
    }
}

impl fmt::Debug for ZstdDictionary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ZstdDictionary")
            .field("id", &self.id)
            .field("len", &self.bytes.len())
            .finish_non_exhaustive()
    }
}

#[cold]
fn training_error(samples: usize, total: usize, err: std::io::Error) -> Error {
    Error::new(
        ErrorKind::Encode,
        format!(
            "zstd could not train a dictionary: expected many samples totalling well over \
             the dictionary size, found {samples} samples of {total} bytes ({err})"
        ),
    )
    .with_source(err)
}

/// The dictionaries a reader knows, by id.
///
/// Cheap to clone: clones share one registry (an `Arc`), so a dictionary inserted through any
/// clone is seen by every codec holding one. Lookups take a read lock and clone an `Arc`.
///
/// # Examples
///
/// ```
/// use zerocodec_codecs::{DictionaryRegistry, ZstdDictionary};
///
/// let samples: Vec<String> = (0..300).map(|i| format!("{{\"seq\":{i},\"room\":\"r{}\"}}", i % 9)).collect();
/// let dict = ZstdDictionary::train(&samples, 2048)?;
/// let id = dict.id();
/// let registry = DictionaryRegistry::new();
/// registry.insert(dict);
/// assert_eq!(registry.get(id).map(|d| d.id()), Some(id));
/// assert!(registry.get(id ^ 1).is_none());
/// # Ok::<(), zerocodec::Error>(())
/// ```
#[derive(Clone, Default)]
pub struct DictionaryRegistry {
    map: Arc<RwLock<HashMap<u32, Arc<ZstdDictionary>>>>,
}

impl DictionaryRegistry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers `dictionary` under its id, returning the one it replaces.
    pub fn insert(
        &self,
        dictionary: impl Into<Arc<ZstdDictionary>>,
    ) -> Option<Arc<ZstdDictionary>> {
        let dictionary = dictionary.into();
        self.map.write().insert(dictionary.id(), dictionary)
    }

    /// The dictionary registered under `id`.
    pub fn get(&self, id: u32) -> Option<Arc<ZstdDictionary>> {
        self.map.read().get(&id).cloned()
    }

    /// Unregisters the dictionary under `id`, returning it.
    pub fn remove(&self, id: u32) -> Option<Arc<ZstdDictionary>> {
        self.map.write().remove(&id)
    }

    /// The registered ids, ascending.
    pub fn ids(&self) -> Vec<u32> {
        let mut ids: Vec<u32> = self.map.read().keys().copied().collect();
        ids.sort_unstable();
        ids
    }

    /// Number of registered dictionaries.
    pub fn len(&self) -> usize {
        self.map.read().len()
    }

    /// True if no dictionary is registered.
    pub fn is_empty(&self) -> bool {
        self.map.read().is_empty()
    }
}

impl fmt::Debug for DictionaryRegistry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DictionaryRegistry")
            .field("ids", &self.ids())
            .finish()
    }
}

/// The error for a payload naming a dictionary the reader does not know.
#[cold]
pub(crate) fn unknown_dictionary(
    id: u32,
    own: &Compression,
    registry: Option<&DictionaryRegistry>,
) -> Error {
    let mut known: Vec<u32> = registry.map(DictionaryRegistry::ids).unwrap_or_default();
    known.extend(own.dictionary_id());
    known.sort_unstable();
    known.dedup();
    let known = if known.is_empty() {
        "none".to_string()
    } else {
        let shown: Vec<String> = known.iter().take(16).map(u32::to_string).collect();
        let more = known.len().saturating_sub(16);
        if more > 0 {
            format!("{} and {more} more", shown.join(", "))
        } else {
            shown.join(", ")
        }
    };
    Error::new(
        ErrorKind::UnknownDictionary,
        format!("payload names zstd dictionary {id}, this reader knows {known}"),
    )
}

/// A [`ZstdDictionary`] prepared for compressing at one level: what
/// [`Compression::ZstdDict`] holds.
///
/// Preparing digests the dictionary once (zstd's `CDict`); every payload compressed with it
/// then records the dictionary's id in its frame header. Readers decompress with the
/// dictionary of that id: the writer's own, or one in their [`DictionaryRegistry`]. Cheap to
/// clone (shared).
#[derive(Clone)]
pub struct ZstdDict {
    dictionary: Arc<ZstdDictionary>,
    cdict: Arc<CDict<'static>>,
    level: i32,
}

impl ZstdDict {
    /// Prepares `dictionary` for compressing at `level`.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Encode`] if zstd cannot prepare the dictionary.
    pub fn new(dictionary: impl Into<Arc<ZstdDictionary>>, level: i32) -> Result<Self> {
        let dictionary = dictionary.into();
        let cdict = Arc::new(dictionary.prepare(level)?);
        Ok(Self {
            dictionary,
            cdict,
            level,
        })
    }

    /// The dictionary.
    pub fn dictionary(&self) -> &Arc<ZstdDictionary> {
        &self.dictionary
    }

    /// The compression level.
    pub fn level(&self) -> i32 {
        self.level
    }

    /// The prepared compression dictionary.
    pub(crate) fn cdict(&self) -> &CDict<'static> {
        &self.cdict
    }
}

impl fmt::Debug for ZstdDict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ZstdDict")
            .field("dictionary", &self.dictionary)
            .field("level", &self.level)
            .finish()
    }
}
