//! The tagged frame: zerocodec's versioned wire header, and the checks a reader applies to it.
//!
//! A frame is a header followed by one payload. The header names the codec that wrote the
//! payload, how the payload is stored (raw or compressed), and optionally the message type's
//! schema fingerprint, a compression dictionary and a CRC-32C checksum. `docs/wire-format.md`
//! is the normative description; this module implements it and the table below mirrors it.
//!
//! # Byte table (format version 1)
//!
//! All integers are little-endian. The header is 16 bytes (*base*) or 32 bytes (*base* +
//! *extension*), always a multiple of 16, so the payload of a frame that starts 16-byte
//! aligned is itself 16-byte aligned and an rkyv payload is read in place.
//!
//! | offset | size | field | value |
//! |---|---|---|---|
//! | 0 | 1 | magic | [`MAGIC`] (`0xFA`) |
//! | 1 | 1 | format version | [`VERSION`] (`1`) |
//! | 2 | 1 | payload codec id | [`CodecId`]: 1 = JSON, 2 = rkyv; never 0 |
//! | 3 | 1 | compression id | [`CompressionId`]: 0 = stored raw |
//! | 4 | 1 | flags | [`FLAG_CHECKSUM`] \| [`FLAG_FINGERPRINT`] \| [`FLAG_DICTIONARY`]; other bits ([`RESERVED_FLAGS`]) must be 0 |
//! | 5 | 3 | reserved | must be 0 |
//! | 8 | 4 | payload length | bytes of payload after the header, as stored (compressed or not) |
//! | 12 | 4 | checksum | CRC-32C (see [`checksum`]) when [`FLAG_CHECKSUM`] is set, else 0 |
//! | 16 | 8 | schema fingerprint | [`Message::SCHEMA_FINGERPRINT`](crate::Message) when [`FLAG_FINGERPRINT`] is set, else 0 |
//! | 24 | 4 | dictionary id | when [`FLAG_DICTIONARY`] is set, else 0 |
//! | 28 | 4 | uncompressed length | payload length before compression when the compression id is not 0, else 0 |
//!
//! Bytes 16..32 (the extension) are present exactly when [`FLAG_FINGERPRINT`] or
//! [`FLAG_DICTIONARY`] is set or the compression id is not 0; otherwise the header ends at
//! byte 16. A field whose flag is clear must be 0, and [`FLAG_DICTIONARY`] is only valid on a
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
//!   the broker use case; it detects every burst error up to 32 bits, and 4 bytes keep the base
//!   header at 16. A 64-bit hash (xxh3) would be a little faster in software but needs 8
//!   bytes and is not a standard storage checksum. The checksum covers the header too (except
//!   its own field), so a flipped codec id or length is caught, not handed to the wrong decoder.
//! - **32-bit lengths**: rkyv archives use 32-bit relative pointers, so a payload cannot exceed
//!   4 GiB anyway; [`MAX_PAYLOAD_LEN`].
//! - **The uncompressed length** lets a reader check it against its decompression limit
//!   *before* decompressing anything.
//!
//! # Compatibility policy
//!
//! The version byte changes whenever the layout or the meaning of any field changes, including
//! giving a reserved bit or byte a meaning. A reader:
//!
//! - reads every version it knows (this one reads version 1) and keeps reading them forever;
//! - rejects a newer or unknown version with [`ErrorKind::UnknownVersion`], naming the version
//!   found and the versions it reads, without looking at anything past byte 1;
//! - rejects a set reserved bit or byte with [`ErrorKind::Corrupt`] (they are never set by a
//!   writer of this version, so a set one means corruption or a mislabelled newer frame).
//!
//! A writer writes the oldest version that can represent what it sends, so rolling out a new
//! version is: first deploy readers that know it, then switch writers. Golden frames in
//! `tests/golden/` hold version 1 still; changing the format means a new version and new golden
//! files, never edited old ones.
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
use crate::codec::CodecId;
use crate::error::{Error, ErrorKind, Result};
use crate::transform::CompressionId;

/// First byte of every frame. Never valid in UTF-8, so never the start of a JSON text.
pub const MAGIC: u8 = 0xFA;
/// The format version this module writes, and the only one it reads.
pub const VERSION: u8 = 1;
/// Length of the base header (no fingerprint, dictionary or compression).
pub const BASE_HEADER_LEN: usize = 16;
/// Length of the header with its extension.
pub const EXTENDED_HEADER_LEN: usize = 32;
/// The longest header of this version.
pub const MAX_HEADER_LEN: usize = EXTENDED_HEADER_LEN;
/// The largest payload a frame can carry (the length field is 32 bits).
pub const MAX_PAYLOAD_LEN: usize = u32::MAX as usize;

/// Flag: the checksum field holds the CRC-32C of the frame.
pub const FLAG_CHECKSUM: u8 = 0b0000_0001;
/// Flag: the schema fingerprint field is set (header extension present).
pub const FLAG_FINGERPRINT: u8 = 0b0000_0010;
/// Flag: the dictionary id field is set (header extension present; compressed payloads only).
pub const FLAG_DICTIONARY: u8 = 0b0000_0100;
/// Flag bits version 1 does not define; they must be 0.
pub const RESERVED_FLAGS: u8 = !(FLAG_CHECKSUM | FLAG_FINGERPRINT | FLAG_DICTIONARY);

/// Offset of the checksum field, which the checksum itself skips.
const CHECKSUM_AT: Range<usize> = 12..16;

/// The checksum of a contiguous frame whose header is `header_len` bytes: the same value as
/// [`checksum`], in two passes instead of three (header bytes 16.. and the payload are
/// adjacent).
#[inline]
fn checksum_contiguous(frame: &[u8], header_len: usize) -> u32 {
    let crc = crc32c::crc32c(&frame[..CHECKSUM_AT.start]);
    if header_len > CHECKSUM_AT.end {
        crc32c::crc32c_append(crc, &frame[CHECKSUM_AT.end..])
    } else {
        crc32c::crc32c_append(crc, &frame[header_len..])
    }
}

/// True if `bytes` starts with the frame [`MAGIC`] (anything else is not a frame, for example
/// header-less legacy JSON).
#[inline]
pub fn is_frame(bytes: &[u8]) -> bool {
    bytes.first() == Some(&MAGIC)
}

/// The CRC-32C a frame carries: over the header bytes except the checksum field (bytes
/// 0..12 and 16..header end), then the payload as stored.
#[inline]
pub fn checksum(header: &[u8], payload: &[u8]) -> u32 {
    let head = header.get(..CHECKSUM_AT.start).unwrap_or(header);
    let tail = header.get(CHECKSUM_AT.end..).unwrap_or(&[]);
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
    /// The payload length before compression (`Some` exactly when compressed).
    pub uncompressed_len: Option<u32>,
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
            uncompressed_len: None,
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

    /// Records that the payload is compressed with `compression` (and `dictionary`) from
    /// `uncompressed_len` bytes. [`CompressionId::NONE`] clears all three.
    #[inline]
    #[must_use]
    pub const fn with_compression(
        mut self,
        compression: CompressionId,
        dictionary: Option<u32>,
        uncompressed_len: u32,
    ) -> Self {
        if compression.0 == CompressionId::NONE.0 {
            self.compression = CompressionId::NONE;
            self.dictionary = None;
            self.uncompressed_len = None;
        } else {
            self.compression = compression;
            self.dictionary = dictionary;
            self.uncompressed_len = Some(uncompressed_len);
        }
        self
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
        flags
    }

    /// True if the header has its 16-byte extension (fingerprint, dictionary, compression).
    #[inline]
    pub const fn is_extended(&self) -> bool {
        self.fingerprint.is_some()
            || self.dictionary.is_some()
            || self.compression.0 != CompressionId::NONE.0
    }

    /// The header's length in bytes: [`BASE_HEADER_LEN`] or [`EXTENDED_HEADER_LEN`].
    #[inline]
    #[allow(clippy::len_without_is_empty, reason = "a header is never empty")]
    pub const fn len(&self) -> usize {
        if self.is_extended() {
            EXTENDED_HEADER_LEN
        } else {
            BASE_HEADER_LEN
        }
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
        b[3] = self.compression.0;
        b[4] = self.flags();
        b[8..12].copy_from_slice(&self.payload_len.to_le_bytes());
        b[12..16].copy_from_slice(&self.checksum.unwrap_or(0).to_le_bytes());
        b[16..24].copy_from_slice(&self.fingerprint.unwrap_or(0).to_le_bytes());
        b[24..28].copy_from_slice(&self.dictionary.unwrap_or(0).to_le_bytes());
        b[28..32].copy_from_slice(&self.uncompressed_len.unwrap_or(0).to_le_bytes());
        b
    }

    /// Parses the header at the start of `bytes` (a payload may follow; it is not checked).
    ///
    /// # Errors
    ///
    /// - [`ErrorKind::Incomplete`] if `bytes` is shorter than the header;
    /// - [`ErrorKind::Corrupt`] if the first byte is not [`MAGIC`], a reserved bit or byte is
    ///   set, a field is set without its flag, or a dictionary is named for a raw payload;
    /// - [`ErrorKind::UnknownVersion`] for a version other than [`VERSION`];
    /// - [`ErrorKind::UnknownCodec`] for codec id 0.
    #[inline]
    pub fn parse(bytes: &[u8]) -> Result<Self> {
        match Self::parse_fast(bytes) {
            Some(header) => Ok(header),
            None => Err(match Self::parse_diagnosing(bytes) {
                Err(err) => err,
                // `parse_fast` and `parse_diagnosing` apply the same rules (a unit test checks
                // they agree); this arm only guards against them drifting apart.
                Ok(_) => Error::corrupt("frame header rejected by the fast path"),
            }),
        }
    }

    /// The hot path: every rule of the byte table, with no error construction. `None` means
    /// "invalid"; [`parse_diagnosing`](Self::parse_diagnosing) then says why.
    #[inline]
    fn parse_fast(bytes: &[u8]) -> Option<Self> {
        let base = bytes.first_chunk::<BASE_HEADER_LEN>()?;
        let flags = base[4];
        let compression = CompressionId(base[3]);
        let checksum = le_u32(base, 12);
        let has_checksum = flags & FLAG_CHECKSUM != 0;
        if base[0] != MAGIC
            || base[1] != VERSION
            || base[2] == 0
            || flags & RESERVED_FLAGS != 0
            || (base[5] | base[6] | base[7]) != 0
            || (!has_checksum && checksum != 0)
        {
            return None;
        }
        let mut header = Self {
            codec: CodecId(base[2]),
            compression,
            payload_len: le_u32(base, 8),
            checksum: has_checksum.then_some(checksum),
            fingerprint: None,
            dictionary: None,
            uncompressed_len: None,
        };
        let compressed = compression != CompressionId::NONE;
        if flags & (FLAG_FINGERPRINT | FLAG_DICTIONARY) == 0 && !compressed {
            return Some(header);
        }
        let full = bytes.first_chunk::<EXTENDED_HEADER_LEN>()?;
        let fingerprint = u64::from(le_u32(full, 16)) | (u64::from(le_u32(full, 20)) << 32);
        let dictionary = le_u32(full, 24);
        let uncompressed_len = le_u32(full, 28);
        let has_fingerprint = flags & FLAG_FINGERPRINT != 0;
        let has_dictionary = flags & FLAG_DICTIONARY != 0;
        if (!has_fingerprint && fingerprint != 0)
            || (!has_dictionary && dictionary != 0)
            || (has_dictionary && !compressed)
            || (!compressed && uncompressed_len != 0)
        {
            return None;
        }
        header.fingerprint = has_fingerprint.then_some(fingerprint);
        header.dictionary = has_dictionary.then_some(dictionary);
        header.uncompressed_len = compressed.then_some(uncompressed_len);
        Some(header)
    }

    #[cold]
    #[inline(never)]
    fn parse_diagnosing(bytes: &[u8]) -> Result<Self> {
        let Some(base) = bytes.first_chunk::<BASE_HEADER_LEN>() else {
            return Err(short_header(bytes, BASE_HEADER_LEN));
        };
        if base[0] != MAGIC {
            return Err(bad_magic(base[0]));
        }
        if base[1] != VERSION {
            return Err(unknown_version(base[1]));
        }
        let codec = CodecId(base[2]);
        if codec.0 == 0 {
            return Err(Error::new(
                ErrorKind::UnknownCodec,
                "frame names codec id 0, which is never valid: expected a codec id from 1 to 255",
            ));
        }
        let compression = CompressionId(base[3]);
        let flags = base[4];
        if flags & RESERVED_FLAGS != 0 {
            return Err(Error::corrupt(format!(
                "frame flags: reserved bits must be 0, found flags {flags:#010b}"
            )));
        }
        if base[5..8] != [0, 0, 0] {
            return Err(Error::corrupt(format!(
                "frame header bytes 5..8 are reserved and must be 0, found {:02x?}",
                &base[5..8]
            )));
        }
        let payload_len = le_u32(base, 8);
        let stored_checksum = le_u32(base, 12);
        let checksum = if flags & FLAG_CHECKSUM != 0 {
            Some(stored_checksum)
        } else {
            expect_zero("checksum", FLAG_CHECKSUM, stored_checksum.into())?;
            None
        };
        let mut header = Self {
            codec,
            compression,
            payload_len,
            checksum,
            fingerprint: None,
            dictionary: None,
            uncompressed_len: None,
        };
        let extended =
            flags & (FLAG_FINGERPRINT | FLAG_DICTIONARY) != 0 || compression != CompressionId::NONE;
        if !extended {
            return Ok(header);
        }
        let Some(full) = bytes.first_chunk::<EXTENDED_HEADER_LEN>() else {
            return Err(short_header(bytes, EXTENDED_HEADER_LEN));
        };
        let fingerprint = u64::from(le_u32(full, 16)) | (u64::from(le_u32(full, 20)) << 32);
        let dictionary = le_u32(full, 24);
        let uncompressed_len = le_u32(full, 28);
        header.fingerprint = if flags & FLAG_FINGERPRINT != 0 {
            Some(fingerprint)
        } else {
            expect_zero("schema fingerprint", FLAG_FINGERPRINT, fingerprint)?;
            None
        };
        header.dictionary = if flags & FLAG_DICTIONARY != 0 {
            if compression == CompressionId::NONE {
                return Err(Error::corrupt(format!(
                    "frame names dictionary {dictionary} for a payload stored raw: expected \
                     the dictionary flag only with a compression id other than 0"
                )));
            }
            Some(dictionary)
        } else {
            expect_zero("dictionary id", FLAG_DICTIONARY, dictionary.into())?;
            None
        };
        header.uncompressed_len = if compression == CompressionId::NONE {
            if uncompressed_len != 0 {
                return Err(Error::corrupt(format!(
                    "frame uncompressed length must be 0 for a payload stored raw, found \
                     {uncompressed_len}"
                )));
            }
            None
        } else {
            Some(uncompressed_len)
        };
        Ok(header)
    }
}

#[inline]
fn le_u32(bytes: &[u8], at: usize) -> u32 {
    let mut word = [0u8; 4];
    if let Some(src) = bytes.get(at..at + 4) {
        word.copy_from_slice(src);
    }
    u32::from_le_bytes(word)
}

fn expect_zero(field: &str, flag: u8, value: u64) -> Result<()> {
    if value == 0 {
        Ok(())
    } else {
        Err(Error::corrupt(format!(
            "frame {field} field must be 0 when flag {flag:#04x} is clear, found {value:#x}"
        )))
    }
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
    #[inline]
    pub fn parse(bytes: &'a [u8]) -> Result<Self> {
        let (frame, rest) = Self::parse_prefix(bytes)?;
        if !rest.is_empty() {
            return Err(trailing(&frame.header, bytes.len()));
        }
        Ok(frame)
    }

    /// Parses the frame at the start of `bytes` and returns it with the bytes after it (for
    /// frames laid end to end in a stream or a segment).
    ///
    /// # Errors
    ///
    /// As [`Frame::parse`], except that trailing bytes are returned rather than rejected.
    #[inline]
    pub fn parse_prefix(bytes: &'a [u8]) -> Result<(Self, &'a [u8])> {
        let header = FrameHeader::parse(bytes)?;
        let end = header.frame_len();
        if bytes.len() < end {
            return Err(short_frame(&header, bytes.len()));
        }
        let (frame_bytes, rest) = bytes.split_at(end);
        if let Some(stored) = header.checksum {
            let computed = checksum_contiguous(frame_bytes, header.len());
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
/// When the reserved room turns out different from the final header's length (a transform
/// stored the payload raw, so the extension is not needed), `finish` moves the payload once.
#[derive(Debug)]
#[must_use = "a frame is incomplete until `finish` patches its header"]
pub struct FrameWriter {
    start: usize,
    reserved: usize,
}

impl FrameWriter {
    /// Appends `header_len` zero bytes (use [`FrameHeader::len`] when known, or
    /// [`MAX_HEADER_LEN`]) for the header; the payload goes right after them.
    #[inline]
    pub fn begin<B: EncodeBuf>(out: &mut B, header_len: usize) -> Self {
        let start = out.len();
        out.resize_zeroed(start + header_len);
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
    #[inline]
    pub fn finish<B: EncodeBuf>(self, out: &mut B, mut header: FrameHeader) -> Result<FrameHeader> {
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
            let crc = checksum_contiguous(frame, header_len);
            frame[CHECKSUM_AT].copy_from_slice(&crc.to_le_bytes());
            header.checksum = Some(crc);
        }
        Ok(header)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_never_starts_utf8_json_or_a_bom() {
        assert!(std::str::from_utf8(&[MAGIC]).is_err());
        assert!(!b" \t\r\n{[\"-0123456789tfn\xEF".contains(&MAGIC));
        assert_eq!(BASE_HEADER_LEN % 16, 0);
        assert_eq!(EXTENDED_HEADER_LEN % 16, 0);
    }

    #[test]
    fn checksum_is_standard_crc32c() {
        // The CRC-32C check value (RFC 3720 / the Rocksoft catalogue).
        assert_eq!(checksum(&[], b"123456789"), 0xE306_9283);
        // The checksum field itself is skipped.
        let a = [1u8; 32];
        let mut b = a;
        b[12..16].copy_from_slice(&[9, 9, 9, 9]);
        assert_eq!(checksum(&a, b"x"), checksum(&b, b"x"));
        assert_ne!(checksum(&a, b"x"), checksum(&a, b"y"));
        for header_len in [BASE_HEADER_LEN, EXTENDED_HEADER_LEN] {
            let mut frame = a[..header_len].to_vec();
            frame.extend_from_slice(b"payload");
            assert_eq!(
                checksum_contiguous(&frame, header_len),
                checksum(&frame[..header_len], b"payload")
            );
        }
    }

    #[test]
    fn header_round_trips_every_flag_combination() {
        for fp in [None, Some(0), Some(u64::MAX)] {
            for ck in [false, true] {
                for (comp, dict) in [
                    (CompressionId::NONE, None),
                    (CompressionId::LZ4, None),
                    (CompressionId::ZSTD, Some(7)),
                ] {
                    let mut h = FrameHeader::new(CodecId::RKYV).with_compression(comp, dict, 99);
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
                }
            }
        }
    }

    #[test]
    fn fast_and_diagnosing_parsers_agree() {
        // Every value of every header byte, on a few base frames, plus random headers.
        let mut bases = Vec::new();
        for h in [
            FrameHeader::new(CodecId::RKYV),
            FrameHeader::new(CodecId::JSON).with_checksum(),
            FrameHeader::new(CodecId::RKYV).with_fingerprint(3),
            FrameHeader::new(CodecId::RKYV).with_compression(CompressionId::ZSTD, Some(9), 4),
        ] {
            bases.push(h.to_bytes());
        }
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        for _ in 0..150 {
            let mut b = [0u8; MAX_HEADER_LEN];
            for byte in &mut b {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                *byte = (x >> 56) as u8 & [0xFF, 0x07, 0x01, 0x00][(x & 3) as usize];
            }
            b[0] = MAGIC;
            b[1] = VERSION;
            bases.push(b);
        }
        for base in bases {
            for at in 0..MAX_HEADER_LEN {
                for value in 0..=255u8 {
                    let mut b = base;
                    b[at] = value;
                    for len in [BASE_HEADER_LEN, MAX_HEADER_LEN] {
                        let fast = FrameHeader::parse_fast(&b[..len]);
                        let slow = FrameHeader::parse_diagnosing(&b[..len]);
                        assert_eq!(fast, slow.as_ref().ok().copied(), "{b:02x?} len {len}");
                    }
                }
            }
        }
    }

    #[test]
    fn writer_moves_payload_when_header_is_longer_than_reserved() {
        let mut out = b"xx".to_vec();
        let w = FrameWriter::begin(&mut out, BASE_HEADER_LEN);
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
}
