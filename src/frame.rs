//! The tagged frame: zerocodec's versioned wire header, and the checks a reader applies to it.
//!
//! A frame is a header followed by one payload. The header names the codec that wrote the
//! payload, how the payload is stored (raw or compressed), and optionally the message type's
//! schema fingerprint, a compression dictionary and a CRC-32C checksum. `docs/wire-format.md`
//! is the normative description; this module implements it and the table below mirrors it.
//!
//! # Byte table
//!
//! All integers are little-endian. Version 2 is the first released format, and it is frozen:
//! the golden frames in `tests/golden/` decode byte for byte in every later release.
//!
//! Only the fields a frame uses are present, in this order:
//!
//! | size | field | value |
//! |---|---|---|
//! | 1 | magic | [`MAGIC`] (`0xFA`) |
//! | 1 | format version | `2` |
//! | 1 | payload codec id | [`CodecId`]: 1 = JSON, 2 = rkyv, 4 = batch; never 0 |
//! | 1 | flags | [`FLAG_CHECKSUM`] \| [`FLAG_FINGERPRINT`] \| [`FLAG_DICTIONARY`] \| [`FLAG_COMPRESSED`]; other bits must be 0 |
//! | 1 | compression id | [`CompressionId`], never 0; only with [`FLAG_COMPRESSED`] |
//! | 4 | checksum | CRC-32C (see [`checksum`]); only with [`FLAG_CHECKSUM`] |
//! | 1..=5 | payload length | unsigned LEB128 in its shortest form, at most `u32::MAX` |
//! | 8 | schema fingerprint | [`Message::SCHEMA_FINGERPRINT`](crate::Message); only with [`FLAG_FINGERPRINT`] |
//! | 4 | dictionary id | only with [`FLAG_DICTIONARY`], which needs [`FLAG_COMPRESSED`] |
//! | 0..=15 | padding | zero bytes up to the next multiple of 16; only without [`FLAG_COMPRESSED`] |
//!
//! A payload stored raw is padded to 16 bytes (16 or 32 in practice: 16 for a fingerprinted
//! rkyv frame of up to 256 MiB), so the payload of a frame that starts 16-byte aligned is
//! itself 16-byte aligned and an rkyv payload is read in place. A compressed payload is
//! decompressed into an aligned buffer anyway, so its header is not padded: a small
//! compressed message pays 15 to 23 bytes of header (18 with a fingerprint and a
//! dictionary), not 32. The compressed formats carry their own decompressed size (zstd's
//! frame content size, lz4's length prefix), which a reader checks against its limit before
//! allocating, so the header does not repeat it.
//!
//! A field whose flag is clear is absent, and [`FLAG_DICTIONARY`] is only valid on a
//! compressed payload, so every frame has exactly one encoding.
//!
//! # Why these choices
//!
//! - **The magic `0xFA`** is never valid anywhere in UTF-8 (bytes `0xF5..=0xFF` cannot occur),
//!   so it can never begin a JSON text, JSON whitespace or a UTF-8 byte-order mark (`EF BB BF`).
//!   A reader tells a frame from header-less legacy JSON by the first byte alone, with
//!   certainty. `0xFE` and `0xFF` were avoided because they begin UTF-16 byte-order marks.
//! - **CRC-32C** (the `crc32c` crate): hardware-accelerated on x86-64 (SSE 4.2) and aarch64,
//!   with a table fallback; the checksum of Kafka record batches, ext4 and iSCSI, which is
//!   the broker use case; it detects every burst error up to 32 bits in 4 bytes. A 64-bit
//!   hash (xxh3) would be a little faster in software but needs 8
//!   bytes and is not a standard storage checksum. The checksum covers the header too (except
//!   its own field), so a flipped codec id or length is caught, not handed to the wrong decoder.
//! - **32-bit lengths**: rkyv archives use 32-bit relative pointers, so a payload cannot exceed
//!   4 GiB anyway; [`MAX_PAYLOAD_LEN`].
//! - **A variable layout**: a fixed 32-byte header would cost a 90-byte
//!   dictionary-compressed chat message a third of its size. Writing only the fields in use
//!   keeps every check (magic, version, codec, fingerprint, checksum, exact lengths, one
//!   encoding per frame) in 18 bytes for such a message, and 16 for a fingerprinted raw rkyv
//!   frame.
//! - **LEB128 payload length**: a writer reserves the header before the payload is written.
//!   For a raw payload it assumes a length under 256 MiB, which is exact except for a
//!   fingerprinted frame without a checksum of 256 MiB or more; for a compressed one it
//!   assumes the uncompressed length, an upper bound. When the header turns out shorter or
//!   longer, [`FrameWriter::finish`] moves the payload once (for a compressed payload, a
//!   copy of what was just compressed, small beside compressing it).
//!
//! # Compatibility policy
//!
//! The version byte changes whenever the layout or the meaning of any field changes, including
//! giving a reserved bit a meaning. A reader:
//!
//! - reads every released version and keeps reading them forever (version 2 is the first);
//! - rejects an unknown version with [`ErrorKind::UnknownVersion`], naming the version found
//!   and the versions it reads, without looking at anything past byte 1;
//! - rejects a set reserved bit with [`ErrorKind::Corrupt`] (a writer never sets one, so a
//!   set one means corruption or a mislabelled newer frame).
//!
//! Rolling out a new version is: first deploy readers that know it, then let writers write
//! it. A new version comes with golden files of its own; old ones are never edited.
//!
//! # Examples
//!
//! ```
//! use zerocodec::frame::{Frame, FrameHeader, FrameWriter};
//! use zerocodec::CodecId;
//!
//! let mut out = Vec::new();
//! let writer = FrameWriter::begin(&mut out, 16);
//! out.extend_from_slice(b"[1,2,3]"); // the payload, written by any codec
//! writer.finish(&mut out, FrameHeader::new(CodecId::JSON).with_checksum())?;
//!
//! let frame = Frame::parse(&out)?; // checks lengths and the checksum
//! assert_eq!(frame.header().codec, CodecId::JSON);
//! assert_eq!(frame.payload(), b"[1,2,3]");
//! # Ok::<(), zerocodec::Error>(())
//! ```

use std::ops::Range;

use crate::buf::EncodeBuf;
use crate::codec::{CodecId, CompressionId};
use crate::error::{Error, ErrorKind, Result};
use crate::leb128::{self, Leb128Error};

/// First byte of every frame. Never valid in UTF-8, so never the start of a JSON text.
pub const MAGIC: u8 = 0xFA;
/// The format version writers write (the newest this module knows).
pub const VERSION: u8 = 2;
/// The format versions this module reads.
pub const VERSIONS: [u8; 1] = [2];
/// The longest header: every field, padded to 16 bytes.
pub const MAX_HEADER_LEN: usize = 32;
/// The largest payload a frame can carry (the length field is 32 bits).
pub const MAX_PAYLOAD_LEN: usize = u32::MAX as usize;

/// Flag: the checksum field holds the CRC-32C of the frame.
pub const FLAG_CHECKSUM: u8 = 0b0000_0001;
/// Flag: the schema fingerprint field is present.
pub const FLAG_FINGERPRINT: u8 = 0b0000_0010;
/// Flag: the dictionary id field is present (compressed payloads only).
pub const FLAG_DICTIONARY: u8 = 0b0000_0100;
/// Flag: the payload is compressed and the compression id byte is present.
pub const FLAG_COMPRESSED: u8 = 0b0000_1000;
/// Flag bits the format does not define; they must be 0.
pub const RESERVED_FLAGS: u8 =
    !(FLAG_CHECKSUM | FLAG_FINGERPRINT | FLAG_DICTIONARY | FLAG_COMPRESSED);

/// Length of the checksum field, which the checksum itself skips.
const CHECKSUM_LEN: usize = 4;
/// The longest payload length that keeps a fingerprinted raw header at 16 bytes (its LEB128
/// form takes at most 4 bytes): writers reserve room assuming no more.
const RESERVE_PAYLOAD_LEN: u32 = (1 << 28) - 1;

/// The checksum of a contiguous frame whose checksum field starts at `at`: the same value as
/// [`checksum`], in two passes (the header after the field and the payload are adjacent).
#[inline]
fn checksum_contiguous(frame: &[u8], at: usize) -> u32 {
    let crc = crc32c::crc32c(&frame[..at]);
    crc32c::crc32c_append(crc, &frame[at + CHECKSUM_LEN..])
}

/// Where the checksum field sits in the header that starts `header`: right after the flags
/// and, when the payload is compressed, the compression id.
#[inline]
fn checksum_offset(header: &[u8]) -> usize {
    4 + usize::from(header.get(3).is_some_and(|f| f & FLAG_COMPRESSED != 0))
}

/// The 16-byte header of a raw (uncompressed) `codec` payload of `payload_len`
/// bytes with `fingerprint` (or none) and no checksum, as a little-endian word: the one
/// header such a frame can have. `None` for codec 0 or a payload of 256 MiB or more (whose
/// header is longer).
///
/// Built with shifts and masks, no branch on the data but the length field's size: both the
/// writer ([`FrameWriter::finish`]) and the reader ([`Frame::raw_payload`]) take it for
/// the common frame, and the unit tests check it against [`FrameHeader::to_bytes`].
#[inline(always)]
fn raw_header(codec: CodecId, fingerprint: Option<u64>, payload_len: usize) -> Option<u128> {
    if codec.0 == 0 || payload_len > RESERVE_PAYLOAD_LEN as usize {
        return None;
    }
    let len = payload_len as u64;
    let n = leb128::len(len);
    // The shortest LEB128 form of `len` (at most 4 bytes) as a little-endian word: 7 bits
    // per byte, the continuation bit on every byte but the last.
    let groups =
        (len & 0x7F) | (len << 1 & 0x7F00) | (len << 2 & 0x7F_0000) | (len << 3 & 0x7F00_0000);
    let leb = groups | (0x0080_8080 & ((1u64 << (8 * (n - 1))) - 1));
    let flags = if fingerprint.is_some() {
        FLAG_FINGERPRINT
    } else {
        0
    };
    let fields = u128::from(u32::from_le_bytes([MAGIC, 2, codec.0, flags])) | u128::from(leb) << 32;
    let fingerprint = u128::from(fingerprint.unwrap_or(0));
    // One arm per length-field size, so each shift is by a constant (a shift of a `u128` by a
    // variable amount costs a dozen instructions).
    Some(
        fields
            | match n {
                1 => fingerprint << 40,
                2 => fingerprint << 48,
                3 => fingerprint << 56,
                _ => fingerprint << 64,
            },
    )
}

/// True if `bytes` starts with the frame [`MAGIC`] (anything else is not a frame, for example
/// header-less legacy JSON).
#[inline]
pub fn is_frame(bytes: &[u8]) -> bool {
    bytes.first() == Some(&MAGIC)
}

/// True if `byte` can begin a JSON text (RFC 8259): whitespace, `{`, `[`, `"`, `-`, a digit,
/// or the first letter of `true`, `false` or `null`. [`MAGIC`] cannot, and neither can the
/// first byte of a UTF-8 byte-order mark, which is what makes legacy JSON certain to tell
/// apart from a frame.
#[inline]
pub const fn can_begin_json(byte: u8) -> bool {
    matches!(
        byte,
        b' ' | b'\t' | b'\n' | b'\r' | b'{' | b'[' | b'"' | b'-' | b'0'..=b'9' | b't' | b'f' | b'n'
    )
}

/// The CRC-32C a frame carries: over the header bytes except the checksum field (the 4 bytes
/// after the flags and compression id), then the payload as stored.
#[inline]
pub fn checksum(header: &[u8], payload: &[u8]) -> u32 {
    let at = checksum_offset(header);
    let head = header.get(..at).unwrap_or(header);
    let tail = header.get(at + CHECKSUM_LEN..).unwrap_or(&[]);
    let crc = crc32c::crc32c(head);
    let crc = crc32c::crc32c_append(crc, tail);
    crc32c::crc32c_append(crc, payload)
}

/// A parsed (or to-be-written) frame header. See the [module docs](self) for the byte table.
///
/// Fields are public for reading; build one with [`FrameHeader::new`] and the `with_*`
/// methods, since later format versions may add fields.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FrameHeader {
    /// The codec that wrote the payload.
    pub codec: CodecId,
    /// How the payload is stored ([`CompressionId::NONE`]: raw).
    pub compression: CompressionId,
    /// Length of the payload as stored.
    pub payload_len: u32,
    /// The CRC-32C of the frame, when the frame carries one.
    pub checksum: Option<u32>,
    /// The message type's schema fingerprint, when recorded.
    pub fingerprint: Option<u64>,
    /// The compression dictionary, when the payload was compressed with one.
    pub dictionary: Option<u32>,
}

impl FrameHeader {
    /// A header for a raw payload written by `codec`, with no optional fields.
    #[inline]
    pub const fn new(codec: CodecId) -> Self {
        Self {
            codec,
            compression: CompressionId::NONE,
            payload_len: 0,
            checksum: None,
            fingerprint: None,
            dictionary: None,
        }
    }

    /// Asks for a checksum: [`FrameWriter::finish`] computes it.
    #[inline]
    #[must_use]
    pub const fn with_checksum(mut self) -> Self {
        self.checksum = Some(0);
        self
    }

    /// Records the message type's schema fingerprint.
    #[inline]
    #[must_use]
    pub const fn with_fingerprint(mut self, fingerprint: u64) -> Self {
        self.fingerprint = Some(fingerprint);
        self
    }

    /// Records that the payload is compressed with `compression` (and `dictionary`).
    /// [`CompressionId::NONE`] clears both.
    #[inline]
    #[must_use]
    pub const fn with_compression(
        mut self,
        compression: CompressionId,
        dictionary: Option<u32>,
    ) -> Self {
        if compression.0 == CompressionId::NONE.0 {
            self.compression = CompressionId::NONE;
            self.dictionary = None;
        } else {
            self.compression = compression;
            self.dictionary = dictionary;
        }
        self
    }

    /// True if the payload is compressed.
    #[inline]
    pub const fn is_compressed(&self) -> bool {
        self.compression.0 != CompressionId::NONE.0
    }

    /// The flags byte this header is written with.
    #[inline]
    pub const fn flags(&self) -> u8 {
        let mut flags = 0;
        if self.checksum.is_some() {
            flags |= FLAG_CHECKSUM;
        }
        if self.fingerprint.is_some() {
            flags |= FLAG_FINGERPRINT;
        }
        if self.dictionary.is_some() {
            flags |= FLAG_DICTIONARY;
        }
        if self.is_compressed() {
            flags |= FLAG_COMPRESSED;
        }
        flags
    }

    /// Where the checksum field starts (when the header has one).
    #[inline]
    const fn checksum_at(&self) -> usize {
        4 + self.is_compressed() as usize
    }

    /// Bytes of the header before its padding.
    #[inline]
    const fn fields_len(&self) -> usize {
        4 + self.is_compressed() as usize
            + if self.checksum.is_some() { 4 } else { 0 }
            + leb128::len(self.payload_len as u64)
            + if self.fingerprint.is_some() { 8 } else { 0 }
            + if self.dictionary.is_some() { 4 } else { 0 }
    }

    /// The header's length in bytes, for its current [`payload_len`](Self::payload_len).
    #[inline]
    #[allow(clippy::len_without_is_empty, reason = "a header is never empty")]
    pub const fn len(&self) -> usize {
        if self.is_compressed() {
            self.fields_len()
        } else {
            self.fields_len().next_multiple_of(16)
        }
    }

    /// The room to reserve for this header before writing a payload of unknown length: exact
    /// for a raw payload under 256 MiB, at least enough for a compressed payload of up to
    /// [`payload_len`](Self::payload_len) bytes (set it to the uncompressed length).
    #[inline]
    pub const fn reserve_len(&self) -> usize {
        let mut header = *self;
        if !self.is_compressed() {
            header.payload_len = RESERVE_PAYLOAD_LEN;
        }
        header.len()
    }

    /// The room to reserve for this header before compressing a `raw_len`-byte payload into
    /// the frame (with `dictionary`): enough for any compressed length up to `raw_len` (a
    /// compressor stores the payload raw rather than let it grow).
    #[inline]
    pub const fn reserve_len_compressed(&self, dictionary: Option<u32>, raw_len: u32) -> usize {
        // Any non-zero id: only the presence of the compression id byte matters here.
        let mut header = self.with_compression(CompressionId(u8::MAX), dictionary);
        header.payload_len = raw_len;
        header.len()
    }

    /// Where the payload sits in the frame.
    #[inline]
    pub const fn payload_range(&self) -> Range<usize> {
        self.len()..self.len() + self.payload_len as usize
    }

    /// The total frame length: header plus payload.
    #[inline]
    pub const fn frame_len(&self) -> usize {
        self.len() + self.payload_len as usize
    }

    /// The header's bytes; only the first [`len`](Self::len) are part of the frame (the rest
    /// are 0).
    #[inline]
    pub fn to_bytes(&self) -> [u8; MAX_HEADER_LEN] {
        let mut b = [0u8; MAX_HEADER_LEN];
        b[0] = MAGIC;
        b[1] = VERSION;
        b[2] = self.codec.0;
        b[3] = self.flags();
        let mut at = 4;
        if self.is_compressed() {
            b[at] = self.compression.0;
            at += 1;
        }
        if let Some(checksum) = self.checksum {
            b[at..at + 4].copy_from_slice(&checksum.to_le_bytes());
            at += 4;
        }
        at += leb128::write(&mut b[at..], u64::from(self.payload_len));
        if let Some(fingerprint) = self.fingerprint {
            b[at..at + 8].copy_from_slice(&fingerprint.to_le_bytes());
            at += 8;
        }
        if let Some(dictionary) = self.dictionary {
            b[at..at + 4].copy_from_slice(&dictionary.to_le_bytes());
        }
        b
    }

    /// Parses the header at the start of `bytes` (a payload may follow; it is not checked).
    ///
    /// The one header parser. Its errors are built out of line (`#[cold]`), so the valid path
    /// stays small; readers that expect the common raw frame try [`Frame::raw_payload`]
    /// first, which checks it with one comparison.
    ///
    /// # Errors
    ///
    /// - [`ErrorKind::Incomplete`] if `bytes` is shorter than the header;
    /// - [`ErrorKind::Corrupt`] if the first byte is not [`MAGIC`], a reserved bit is set, a
    ///   dictionary is named for a raw payload, the compression id of a compressed payload is
    ///   0, the padding is not zero, or the payload length is not in its shortest form;
    /// - [`ErrorKind::UnknownVersion`] for a version not in [`VERSIONS`] (read from byte 1
    ///   alone, however short the input);
    /// - [`ErrorKind::UnknownCodec`] for codec id 0.
    pub fn parse(bytes: &[u8]) -> Result<Self> {
        // Byte 0 and byte 1 are read before any length is checked: nothing past the version
        // byte means anything to a reader that does not know the version, so a short frame of
        // an unknown version is `UnknownVersion` (final), never `Incomplete` (which tells a
        // stream reader to wait for bytes that cannot help).
        match *bytes {
            [magic, ..] if magic != MAGIC => return Err(bad_magic(magic)),
            [] | [_] => return Err(short_header(bytes, 2)),
            [_, VERSION, ..] => {}
            [_, version, ..] => return Err(unknown_version(version)),
        }
        let Some(&[_, _, codec, flags]) = bytes.first_chunk::<4>() else {
            return Err(short_header(bytes, 4));
        };
        if codec == 0 {
            return Err(codec_zero());
        }
        if flags & RESERVED_FLAGS != 0 {
            return Err(reserved_flags(flags));
        }
        let compressed = flags & FLAG_COMPRESSED != 0;
        let mut header = Self::new(CodecId(codec));
        let mut at = 4;
        if compressed {
            match bytes.get(at) {
                None => return Err(short_header(bytes, at + 1)),
                Some(0) => return Err(compression_zero()),
                Some(&id) => header.compression = CompressionId(id),
            }
            at += 1;
        }
        if flags & FLAG_CHECKSUM != 0 {
            header.checksum = Some(le_u32_at(bytes, at)?);
            at += 4;
        }
        header.payload_len = match leb128::read(bytes.get(at..).unwrap_or(&[]), 32) {
            Ok((len, n)) => {
                at += n;
                len as u32
            }
            Err(Leb128Error::Short) => return Err(short_header(bytes, at + 5)),
            Err(Leb128Error::Invalid) => return Err(bad_leb128(&bytes[at..])),
        };
        if flags & FLAG_FINGERPRINT != 0 {
            let Some(word) = bytes.get(at..at + 8) else {
                return Err(short_header(bytes, at + 8));
            };
            let mut fingerprint = [0u8; 8];
            fingerprint.copy_from_slice(word);
            header.fingerprint = Some(u64::from_le_bytes(fingerprint));
            at += 8;
        }
        if flags & FLAG_DICTIONARY != 0 {
            if !compressed {
                return Err(dictionary_on_raw(le_u32_at(bytes, at).unwrap_or(0)));
            }
            header.dictionary = Some(le_u32_at(bytes, at)?);
            at += 4;
        }
        if !compressed {
            let end = at.next_multiple_of(16);
            let Some(padding) = bytes.get(at..end) else {
                return Err(short_header(bytes, end));
            };
            if padding.iter().any(|&b| b != 0) {
                return Err(bad_padding(at, padding));
            }
        }
        Ok(header)
    }
}

/// The little-endian `u32` at `bytes[at..]`, or the error of a header cut short there.
#[inline]
fn le_u32_at(bytes: &[u8], at: usize) -> Result<u32> {
    match bytes
        .get(at..at + 4)
        .and_then(|word| word.first_chunk::<4>())
    {
        Some(word) => Ok(u32::from_le_bytes(*word)),
        None => Err(short_header(bytes, at + 4)),
    }
}

#[cold]
fn codec_zero() -> Error {
    Error::new(
        ErrorKind::UnknownCodec,
        "frame names codec id 0, which is never valid: expected a codec id from 1 to 255",
    )
}

#[cold]
fn compression_zero() -> Error {
    Error::corrupt(
        "frame is flagged compressed but names compression id 0: expected an algorithm id \
         from 1 to 255",
    )
}

#[cold]
fn reserved_flags(flags: u8) -> Error {
    Error::corrupt(format!(
        "frame flags: reserved bits must be 0, found flags {flags:#010b}"
    ))
}

#[cold]
fn dictionary_on_raw(dictionary: u32) -> Error {
    Error::corrupt(format!(
        "frame names dictionary {dictionary} for a payload stored raw: expected the \
         dictionary flag only with a compressed payload"
    ))
}

#[cold]
fn bad_leb128(bytes: &[u8]) -> Error {
    Error::corrupt(format!(
        "frame payload length: expected LEB128 in its shortest form, at most {}, found {:02x?}",
        u32::MAX,
        &bytes[..bytes.len().min(5)]
    ))
}

#[cold]
fn bad_padding(at: usize, padding: &[u8]) -> Error {
    Error::corrupt(format!(
        "frame header padding (bytes {at}..{}) must be 0, found {padding:02x?}",
        at + padding.len()
    ))
}

#[cold]
fn short_header(bytes: &[u8], needed: usize) -> Error {
    Error::incomplete("frame header", needed, bytes.len())
}

#[cold]
fn bad_magic(found: u8) -> Error {
    Error::corrupt(format!(
        "expected the frame magic byte {MAGIC:#04x}, found {found:#04x}"
    ))
}

#[cold]
fn unknown_version(found: u8) -> Error {
    Error::new(
        ErrorKind::UnknownVersion,
        format!("frame format version {found} is unknown: this reader reads version {VERSION}"),
    )
}

/// A parsed, checked frame borrowed from its bytes.
#[derive(Debug, Clone, Copy)]
pub struct Frame<'a> {
    header: FrameHeader,
    bytes: &'a [u8],
}

impl<'a> Frame<'a> {
    /// Parses exactly one frame: the header, a payload of the length it names, and nothing
    /// after it. Verifies the checksum when the frame carries one.
    ///
    /// # Errors
    ///
    /// As [`FrameHeader::parse`], plus [`ErrorKind::Incomplete`] when the payload is shorter
    /// than its length field, [`ErrorKind::Corrupt`] when bytes follow it, and
    /// [`ErrorKind::ChecksumMismatch`] when the checksum does not match.
    pub fn parse(bytes: &'a [u8]) -> Result<Self> {
        let (frame, rest) = Self::parse_prefix(bytes)?;
        if !rest.is_empty() {
            return Err(trailing(&frame.header, bytes.len()));
        }
        Ok(frame)
    }

    /// The payload of `bytes` when it is exactly the frame a writer makes for a raw
    /// (uncompressed) `codec` payload with `fingerprint` (or none) and no checksum, of under
    /// 256 MiB; `None` for anything else, valid or not.
    ///
    /// The one fast path, for a reader that knows which frame it expects: such a header is
    /// always 16 bytes, and a header has one encoding (shortest LEB128 length, zero padding),
    /// so checking it is building the one header the frame must have and comparing 16 bytes.
    /// On `None`, call [`parse`](Self::parse), which reads everything else and says what is
    /// wrong (a unit test checks that this accepts exactly the frames `parse` reads with this
    /// shape).
    #[inline(always)]
    pub fn raw_payload(
        bytes: &'a [u8],
        codec: CodecId,
        fingerprint: Option<u64>,
    ) -> Option<&'a [u8]> {
        let (header, payload) = bytes.split_first_chunk::<16>()?;
        let expected = raw_header(codec, fingerprint, payload.len())?;
        (u128::from_le_bytes(*header) == expected).then_some(payload)
    }

    /// Parses the frame at the start of `bytes` and returns it with the bytes after it (for
    /// frames laid end to end in a stream or a segment).
    ///
    /// # Errors
    ///
    /// As [`Frame::parse`], except that trailing bytes are returned rather than rejected.
    pub fn parse_prefix(bytes: &'a [u8]) -> Result<(Self, &'a [u8])> {
        let header = FrameHeader::parse(bytes)?;
        let end = header.frame_len();
        if bytes.len() < end {
            return Err(short_frame(&header, bytes.len()));
        }
        let (frame_bytes, rest) = bytes.split_at(end);
        if let Some(stored) = header.checksum {
            let computed = checksum_contiguous(frame_bytes, header.checksum_at());
            if computed != stored {
                return Err(checksum_mismatch(stored, computed));
            }
        }
        let frame = Self {
            header,
            bytes: frame_bytes,
        };
        Ok((frame, rest))
    }

    /// The parsed header.
    #[inline]
    pub fn header(&self) -> &FrameHeader {
        &self.header
    }

    /// The header's bytes as they appear in the frame.
    #[inline]
    pub fn header_bytes(&self) -> &'a [u8] {
        &self.bytes[..self.header.len()]
    }

    /// The payload as stored (compressed when the header says so).
    #[inline]
    pub fn payload(&self) -> &'a [u8] {
        &self.bytes[self.header.len()..]
    }

    /// The whole frame: header and payload.
    #[inline]
    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }
}

#[cold]
fn short_frame(header: &FrameHeader, found: usize) -> Error {
    Error::incomplete(
        &format!(
            "frame with a {}-byte header and a {}-byte payload",
            header.len(),
            header.payload_len
        ),
        header.frame_len(),
        found,
    )
}

#[cold]
fn checksum_mismatch(stored: u32, computed: u32) -> Error {
    Error::new(
        ErrorKind::ChecksumMismatch,
        format!(
            "frame checksum: the header carries crc32c {stored:#010x}, the frame's bytes hash \
             to {computed:#010x}"
        ),
    )
}

#[cold]
fn trailing(header: &FrameHeader, found: usize) -> Error {
    Error::corrupt(format!(
        "frame: expected {} bytes ({}-byte header and {}-byte payload), found {found} ({} \
         trailing bytes)",
        header.frame_len(),
        header.len(),
        header.payload_len,
        found - header.frame_len()
    ))
}

/// Writes a frame whose payload length is known only after the payload is written: reserve
/// room for the header, append the payload, then [`finish`](FrameWriter::finish).
///
/// When the reserved room turns out different from the final header's length (a compressor
/// stored the payload raw, so the extension is not needed), `finish` moves the payload once.
#[derive(Debug)]
#[must_use = "a frame is incomplete until `finish` patches its header"]
pub struct FrameWriter {
    start: usize,
    reserved: usize,
}

impl FrameWriter {
    /// Appends `header_len` zero bytes (use [`FrameHeader::reserve_len`], or
    /// [`MAX_HEADER_LEN`]) for the header; the payload goes right after them.
    #[inline]
    pub fn begin<B: EncodeBuf>(out: &mut B, header_len: usize) -> Self {
        let start = out.len();
        if header_len == 16 {
            // The common header: a fixed-size append the compiler writes inline.
            out.extend_from_slice(&[0; 16]);
        } else {
            out.resize_zeroed(start + header_len);
        }
        Self {
            start,
            reserved: header_len,
        }
    }

    /// Where the payload starts in the buffer.
    #[inline]
    pub fn payload_start(&self) -> usize {
        self.start + self.reserved
    }

    /// Removes the frame, leaving the buffer as it was before [`begin`](Self::begin).
    #[inline]
    pub fn abort<B: EncodeBuf>(self, out: &mut B) {
        out.truncate(self.start);
    }

    /// Writes `header` in front of the payload appended since [`begin`](Self::begin): sets the
    /// payload length, computes the checksum if the header asks for one, and returns the
    /// header as written.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::TooLarge`] if the payload exceeds [`MAX_PAYLOAD_LEN`]; the frame is
    /// removed from the buffer.
    #[inline(always)]
    pub fn finish<B: EncodeBuf>(self, out: &mut B, header: FrameHeader) -> Result<FrameHeader> {
        let payload_start = self.payload_start();
        let payload_len = out.len().saturating_sub(payload_start);
        if self.reserved == 16
            && header.checksum.is_none()
            && !header.is_compressed()
            && header.dictionary.is_none()
        {
            // The common frame: its one possible header, written as one word.
            if let Some(word) = raw_header(header.codec, header.fingerprint, payload_len) {
                let at = self.start..payload_start;
                out.as_mut_slice()[at].copy_from_slice(&word.to_le_bytes());
                return Ok(FrameHeader {
                    payload_len: payload_len as u32,
                    ..header
                });
            }
        }
        self.finish_general(out, header)
    }

    /// [`finish`](Self::finish) for any header, field by field.
    #[inline(never)]
    fn finish_general<B: EncodeBuf>(
        self,
        out: &mut B,
        mut header: FrameHeader,
    ) -> Result<FrameHeader> {
        let payload_start = self.payload_start();
        let payload_len = out.len().saturating_sub(payload_start);
        let Ok(len32) = u32::try_from(payload_len) else {
            self.abort(out);
            return Err(Error::too_large(
                "frame payload",
                payload_len as u64,
                MAX_PAYLOAD_LEN as u64,
            ));
        };
        header.payload_len = len32;
        let header_len = header.len();
        if header_len != self.reserved {
            let old_end = out.len();
            let new_end = self.start + header_len + payload_len;
            if header_len > self.reserved {
                out.resize_zeroed(new_end);
            }
            out.as_mut_slice()
                .copy_within(payload_start..old_end, self.start + header_len);
            out.truncate(new_end);
        }
        let bytes = header.to_bytes();
        let frame = &mut out.as_mut_slice()[self.start..];
        frame[..header_len].copy_from_slice(&bytes[..header_len]);
        if header.checksum.is_some() {
            let at = header.checksum_at();
            let crc = checksum_contiguous(frame, at);
            frame[at..at + CHECKSUM_LEN].copy_from_slice(&crc.to_le_bytes());
            header.checksum = Some(crc);
        }
        Ok(header)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Header-sized random bytes (xorshift from `x`) starting with the magic and `version`,
    /// each byte masked by one of `masks` so that small values and zeros are common.
    fn random_header(x: &mut u64, version: u8, masks: [u8; 4]) -> [u8; MAX_HEADER_LEN] {
        let mut b = [0u8; MAX_HEADER_LEN];
        for byte in &mut b {
            *x ^= *x << 13;
            *x ^= *x >> 7;
            *x ^= *x << 17;
            *byte = (*x >> 56) as u8 & masks[(*x & 3) as usize];
        }
        b[0] = MAGIC;
        b[1] = version;
        b
    }

    #[test]
    fn magic_never_starts_utf8_json_or_a_bom() {
        assert!(std::str::from_utf8(&[MAGIC]).is_err());
        assert!(!b" \t\r\n{[\"-0123456789tfn\xEF".contains(&MAGIC));
        assert_eq!(MAX_HEADER_LEN % 16, 0);
    }

    #[test]
    fn checksum_is_standard_crc32c() {
        // The CRC-32C check value (RFC 3720 / the Rocksoft catalogue).
        assert_eq!(checksum(&[], b"123456789"), 0xE306_9283);
        // The checksum field itself is skipped.
        let mut a = [1u8; 32];
        a[3] = FLAG_CHECKSUM;
        let mut b = a;
        b[4..8].copy_from_slice(&[9, 9, 9, 9]);
        assert_eq!(checksum(&a, b"x"), checksum(&b, b"x"));
        assert_ne!(checksum(&a, b"x"), checksum(&a, b"y"));
        for header_len in [16, 32] {
            let mut frame = a[..header_len].to_vec();
            frame.extend_from_slice(b"payload");
            assert_eq!(
                checksum_contiguous(&frame, 4),
                checksum(&frame[..header_len], b"payload")
            );
        }
    }

    #[test]
    fn header_round_trips_every_flag_combination() {
        {
            for fp in [None, Some(0), Some(u64::MAX)] {
                for ck in [false, true] {
                    for (comp, dict) in [
                        (CompressionId::NONE, None),
                        (CompressionId::LZ4, None),
                        (CompressionId::ZSTD, Some(7)),
                    ] {
                        let mut h = FrameHeader::new(CodecId::RKYV).with_compression(comp, dict);
                        h.fingerprint = fp;
                        if ck {
                            h = h.with_checksum();
                        }
                        let mut out = Vec::new();
                        let w = FrameWriter::begin(&mut out, MAX_HEADER_LEN);
                        out.extend_from_slice(b"payload!");
                        let written = w.finish(&mut out, h).unwrap();
                        assert_eq!(out.len(), written.len() + 8);
                        let frame = Frame::parse(&out).unwrap();
                        assert_eq!(*frame.header(), written);
                        assert_eq!(frame.payload(), b"payload!");
                        if !h.is_compressed() {
                            assert_eq!(written.len() % 16, 0);
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn writer_moves_payload_when_header_is_longer_than_reserved() {
        let mut out = b"xx".to_vec();
        let w = FrameWriter::begin(&mut out, 16);
        out.extend_from_slice(b"abc");
        w.finish(
            &mut out,
            FrameHeader::new(CodecId::JSON).with_fingerprint(5),
        )
        .unwrap();
        let frame = Frame::parse(&out[2..]).unwrap();
        assert_eq!(frame.payload(), b"abc");
        assert_eq!(frame.header().fingerprint, Some(5));
    }

    #[test]
    fn headers_are_short_and_every_truncation_is_incomplete() {
        let fp = 0x0123_4567_89AB_CDEF;
        let mut raw = FrameHeader::new(CodecId::RKYV).with_fingerprint(fp);
        raw.payload_len = 150;
        assert_eq!(raw.len(), 16);
        raw.payload_len = RESERVE_PAYLOAD_LEN + 1;
        assert_eq!(raw.len(), 32);
        raw.payload_len = 150;
        let mut small = FrameHeader::new(CodecId::RKYV)
            .with_fingerprint(fp)
            .with_compression(CompressionId::ZSTD, Some(0xDEAD_BEEF));
        small.payload_len = 90;
        assert_eq!(small.len(), 18);
        for header in [raw, small, small.with_checksum()] {
            let mut frame = header.to_bytes()[..header.len()].to_vec();
            frame.resize(header.frame_len(), 7);
            if header.checksum.is_some() {
                let crc = checksum_contiguous(&frame, header.checksum_at());
                let at = header.checksum_at();
                frame[at..at + 4].copy_from_slice(&crc.to_le_bytes());
            }
            let parsed = Frame::parse(&frame).unwrap();
            assert_eq!(parsed.header().fingerprint, Some(fp));
            for len in 0..frame.len() {
                let err = Frame::parse(&frame[..len]).unwrap_err();
                assert!(err.is_incomplete(), "{len}: {err}");
            }
        }
    }

    #[test]
    fn parser_rejects_every_malformed_field() {
        let header = FrameHeader::new(CodecId::RKYV)
            .with_fingerprint(1)
            .with_compression(CompressionId::LZ4, Some(2));
        let good = header.to_bytes();
        let check = |bytes: &[u8], kind: ErrorKind| {
            let err = FrameHeader::parse(bytes).unwrap_err();
            assert_eq!(err.kind(), kind, "{bytes:02x?}: {err}");
        };
        let mut b = good;
        b[2] = 0;
        check(&b, ErrorKind::UnknownCodec);
        for bit in [0x10, 0x20, 0x40, 0x80] {
            let mut b = good;
            b[3] |= bit;
            check(&b, ErrorKind::Corrupt);
        }
        let mut b = good;
        b[4] = 0; // compressed with compression id 0
        check(&b, ErrorKind::Corrupt);
        let mut b = good;
        b[5] = 0x80; // a longer LEB128 form than needed
        b[6] = 0x00;
        check(&b, ErrorKind::Corrupt);
        // A dictionary on a raw payload.
        let raw = FrameHeader::new(CodecId::RKYV).to_bytes();
        let mut b = raw;
        b[3] |= FLAG_DICTIONARY;
        check(&b, ErrorKind::Corrupt);
        // Non-zero padding.
        let mut b = raw;
        b[15] = 1;
        check(&b, ErrorKind::Corrupt);
        for version in [0, 1, 3, 0xFF] {
            let mut b = raw;
            b[1] = version;
            check(&b, ErrorKind::UnknownVersion);
            check(&b[..2], ErrorKind::UnknownVersion);
        }
    }

    #[test]
    fn parser_never_panics_on_random_headers() {
        let mut x = 0x2545_F491_4F6C_DD1Du64;
        for _ in 0..200_000 {
            let b = random_header(&mut x, 2, [0xFF, 0x0F, 0x00, 0x00]);
            let len = (x % 33) as usize;
            if let Ok(h) = FrameHeader::parse(&b[..len]) {
                // A header that parses writes back to the same bytes.
                assert!(h.len() <= len);
                assert_eq!(h.to_bytes()[..h.len()], b[..h.len()]);
            }
        }
    }

    /// The frame a writer makes for a raw `len`-byte payload (bytes `0, 1, 2, ...`).
    fn raw_frame(header: FrameHeader, len: usize) -> Vec<u8> {
        let mut header = header;
        header.payload_len = len as u32;
        let mut frame = header.to_bytes()[..header.len()].to_vec();
        frame.extend((0..len).map(|i| i as u8));
        if header.checksum.is_some() {
            let at = header.checksum_at();
            let crc = checksum_contiguous(&frame, at);
            frame[at..at + 4].copy_from_slice(&crc.to_le_bytes());
        }
        frame
    }

    /// What `raw_payload` must return: the payload of a frame `Frame::parse` reads as
    /// version 2, raw, `codec`, `fingerprint`, no checksum, under 256 MiB; `None` otherwise.
    fn parsed_raw_payload(bytes: &[u8], codec: CodecId, fingerprint: Option<u64>) -> Option<&[u8]> {
        let frame = Frame::parse(bytes).ok()?;
        let h = frame.header();
        let shape = h.codec == codec
            && !h.is_compressed()
            && h.checksum.is_none()
            && h.dictionary.is_none()
            && h.fingerprint == fingerprint
            && (h.payload_len as usize) <= RESERVE_PAYLOAD_LEN as usize;
        shape.then(|| frame.payload())
    }

    #[test]
    fn raw_payload_reads_written_frames_at_every_length_field_size() {
        const FP: u64 = 0x0123_4567_89AB_CDEF;
        // Each size of the LEB128 length field, at both ends.
        let lens = [0, 1, 0x7F, 0x80, 0x3FFF, 0x4000, 0x1F_FFFF, 0x20_0000];
        for codec in [CodecId::RKYV, CodecId::JSON] {
            for fingerprint in [None, Some(FP), Some(0), Some(u64::MAX)] {
                for len in lens {
                    let mut header = FrameHeader::new(codec);
                    if let Some(fp) = fingerprint {
                        header = header.with_fingerprint(fp);
                    }
                    let frame = raw_frame(header, len);
                    assert_eq!(frame.len(), 16 + len);
                    // The writer's one-word header is the field-by-field one.
                    for header in [header, header.with_checksum()] {
                        let mut out = vec![0xEE; 3];
                        let writer = FrameWriter::begin(&mut out, header.reserve_len());
                        out.extend((0..len).map(|i| i as u8));
                        let written = writer.finish(&mut out, header).unwrap();
                        assert_eq!(out[..3], [0xEE; 3]);
                        assert_eq!(out[3..], raw_frame(header, len), "{header:?}");
                        assert_eq!(Frame::parse(&out[3..]).unwrap().header(), &written);
                    }
                    let payload = Frame::raw_payload(&frame, codec, fingerprint);
                    assert_eq!(
                        payload,
                        Some(&frame[16..]),
                        "{codec:?} {fingerprint:?} {len}"
                    );
                    assert_eq!(payload, parsed_raw_payload(&frame, codec, fingerprint));
                    // Another shape of the same frame is not this one.
                    let other = CodecId(codec.0 ^ 3);
                    assert_eq!(Frame::raw_payload(&frame, other, fingerprint), None);
                    let other_fp = Some(fingerprint.map_or(7, |fp| fp ^ 1));
                    assert_eq!(Frame::raw_payload(&frame, codec, other_fp), None);
                    if fingerprint.is_some() {
                        assert_eq!(Frame::raw_payload(&frame, codec, None), None);
                    }
                    // With a checksum it is valid but not this shape.
                    let summed = raw_frame(header.with_checksum(), len);
                    assert!(Frame::parse(&summed).is_ok());
                    assert_eq!(Frame::raw_payload(&summed, codec, fingerprint), None);
                }
            }
        }
        // The example in docs/wire-format.md, section 3a.
        let documented = [
            0xFA, 0x02, 0x02, 0x02, 0x98, 0x01, 0xEF, 0xCD, 0xAB, 0x89, 0x67, 0x45, 0x23, 0x01,
            0x00, 0x00,
        ];
        let header = raw_header(CodecId::RKYV, Some(FP), 152).unwrap();
        assert_eq!(header.to_le_bytes(), documented);
        assert_eq!(Frame::raw_payload(&[], CodecId::RKYV, None), None);
        let zero = raw_frame(FrameHeader::new(CodecId(0)), 3);
        assert_eq!(Frame::raw_payload(&zero, CodecId(0), None), None);
    }

    /// Every single-byte change of a header, and every length change of the frame, is
    /// accepted by `raw_payload` exactly when `Frame::parse` reads a frame of that shape.
    #[test]
    fn raw_payload_accepts_exactly_what_parse_reads_with_its_shape() {
        const FP: u64 = 0xFEDC_BA98_7654_3210;
        let mut x = 0x005E_ED0F_F00D_u64;
        for codec in [CodecId::RKYV, CodecId::JSON] {
            for fingerprint in [None, Some(FP)] {
                for len in [0, 5, 0x7F, 0x80, 0x4000] {
                    let mut header = FrameHeader::new(codec);
                    if let Some(fp) = fingerprint {
                        header = header.with_fingerprint(fp);
                    }
                    let frame = raw_frame(header, len);
                    let agree = |bytes: &[u8]| {
                        assert_eq!(
                            Frame::raw_payload(bytes, codec, fingerprint),
                            parsed_raw_payload(bytes, codec, fingerprint),
                            "{:02x?} ({} bytes)",
                            &bytes[..bytes.len().min(16)],
                            bytes.len()
                        );
                    };
                    for at in 0..16 {
                        for _ in 0..24 {
                            x ^= x << 13;
                            x ^= x >> 7;
                            x ^= x << 17;
                            let mut bytes = frame.clone();
                            // Single bits, small values and anything.
                            bytes[at] = match x % 3 {
                                0 => bytes[at] ^ (1 << ((x >> 8) % 8)),
                                1 => (x >> 8) as u8 & 0x0F,
                                _ => (x >> 8) as u8,
                            };
                            agree(&bytes);
                        }
                    }
                    for cut in 0..frame.len().min(40) {
                        agree(&frame[..cut]);
                    }
                    let mut longer = frame.clone();
                    longer.push(0);
                    agree(&longer);
                    agree(&frame);
                }
            }
        }
    }
}
