//! [`Lz4`]: the lz4 block format through lz4_flex (safe encode and decode).

use std::cell::RefCell;

use lz4_flex::block::{self, CompressTable};
use zerocodec::{CompressionId, EncodeBuf, Error, Result, Transform};

use super::{Decoders, Policy, keep_admitted, store_raw};

/// lz4 block compression: fast, modest ratios; pure safe Rust (lz4_flex).
///
/// A payload is the decompressed length as a LEB128 varint, then one lz4 block (see the
/// [crate docs](crate#payload-formats)). The length is untrusted: it must not exceed
/// [`Policy::decompressed_limit`] for the payload's size (the absolute limit, and at most
/// [`Policy::max_ratio`] bytes per payload byte), nor what an lz4 block of the payload's size
/// can expand to (255 bytes per input byte), before the output is allocated; the block must
/// then decompress to exactly that length.
///
/// The compressor's hash table is reused per thread across messages.
///
/// # Examples
///
/// ```
/// use zerocodec::Codec;
/// use zerocodec_codecs::{Compressed, Lz4, RkyvCodec};
///
/// let codec = Compressed::new(RkyvCodec::new(), Lz4::new());
/// let value: Vec<u32> = (0..1000).map(|i| i % 100).collect();
/// let bytes = codec.encode(&value)?;
/// assert!(bytes.len() < 1000);
/// assert_eq!(codec.decode::<Vec<u32>>(&bytes)?, value);
/// # Ok::<(), zerocodec::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Lz4 {
    policy: Policy,
}

impl Lz4 {
    /// lz4 with the default [`Policy`].
    pub const fn new() -> Self {
        Self {
            policy: Policy::new(),
        }
    }

    /// lz4 with `policy`.
    #[must_use]
    pub const fn with_policy(mut self, policy: Policy) -> Self {
        self.policy = policy;
        self
    }

    /// The adaptive policy and decompression limit.
    pub const fn policy(&self) -> &Policy {
        &self.policy
    }
}

impl Transform for Lz4 {
    fn max_decompressed_len(&self) -> usize {
        self.policy.max_decompressed_len()
    }

    fn decompressed_limit(&self, compressed_len: usize) -> usize {
        self.policy.decompressed_limit(compressed_len)
    }

    fn compress_into<B: EncodeBuf>(&self, input: &[u8], out: &mut B) -> Result<CompressionId> {
        let start = out.len();
        match self.policy.budget(input.len()) {
            Some(budget) if compress_block(input, budget, out) => Ok(keep_admitted(
                &self.policy,
                input,
                out,
                start,
                CompressionId::LZ4,
            )),
            _ => Ok(store_raw(input, out)),
        }
    }

    fn decompress_into<B: EncodeBuf>(
        &self,
        compression: CompressionId,
        dictionary: Option<u32>,
        input: &[u8],
        out: &mut B,
    ) -> Result<()> {
        Decoders::new(&self.policy).decompress(compression, dictionary, input, out)
    }
}

/// Most bytes an LEB128 varint of a `u64` takes.
const MAX_VARINT_LEN: usize = 10;

/// An lz4 block expands at most this much per input byte: the longest match a sequence can
/// describe grows by 255 bytes per length byte.
const MAX_EXPANSION: usize = 255;

/// Per-thread compressor hash tables: a small one for inputs under 64 KiB, a large one
/// (created on first need) for bigger inputs, so neither is ever re-created per message.
struct Tables {
    small: CompressTable,
    large: Option<CompressTable>,
}

thread_local! {
    static TABLES: RefCell<Tables> = RefCell::new(Tables {
        small: CompressTable::small(),
        large: None,
    });
}

/// Appends `varint(len) ++ lz4 block` when it fits in `budget` bytes and returns true;
/// otherwise leaves `out` as it was and returns false.
fn compress_block<B: EncodeBuf>(input: &[u8], budget: usize, out: &mut B) -> bool {
    let mut header = [0u8; MAX_VARINT_LEN];
    let header_len = write_varint(input.len() as u64, &mut header);
    if header_len >= budget {
        return false;
    }
    let start = out.len();
    // lz4_flex needs its worst-case output size as an initialized slice up front.
    out.resize_zeroed(start + header_len + block::get_maximum_output_size(input.len()));
    let buf = &mut out.as_mut_slice()[start..];
    buf[..header_len].copy_from_slice(&header[..header_len]);
    let dst = &mut buf[header_len..];
    let written = TABLES.with(|cell| match cell.try_borrow_mut() {
        Ok(mut tables) => {
            let table = if input.len() < usize::from(u16::MAX) {
                &mut tables.small
            } else {
                tables.large.get_or_insert_with(CompressTable::large)
            };
            block::compress_into_with_table(input, dst, table)
        }
        Err(_) => block::compress_into(input, dst),
    });
    match written {
        Ok(n) if header_len + n <= budget => {
            out.truncate(start + header_len + n);
            true
        }
        _ => {
            out.truncate(start);
            false
        }
    }
}

/// Appends the decompressed payload (`varint(len) ++ lz4 block`) to `out`.
pub(crate) fn decompress_block<B: EncodeBuf>(
    input: &[u8],
    out: &mut B,
    limit: usize,
) -> Result<()> {
    let (claimed, header_len) = read_varint(input)?;
    if claimed > limit as u64 {
        return Err(Error::too_large(
            "lz4 payload's decompressed length",
            claimed,
            limit as u64,
        ));
    }
    // Fits in usize: it is at most `limit`.
    let len = claimed as usize;
    let block = &input[header_len..];
    if len > block.len().saturating_mul(MAX_EXPANSION) {
        return Err(Error::corrupt(format!(
            "lz4 payload claims {len} decompressed bytes, but a block of {} bytes expands \
             to at most {}",
            block.len(),
            block.len().saturating_mul(MAX_EXPANSION)
        )));
    }
    let start = out.len();
    out.resize_zeroed(start + len);
    match block::decompress_into(block, &mut out.as_mut_slice()[start..]) {
        Ok(n) if n == len => Ok(()),
        Ok(n) => Err(Error::corrupt(format!(
            "lz4 block decompressed to {n} bytes, its length prefix claims {len}"
        ))),
        Err(err) => Err(Error::corrupt(format!(
            "invalid lz4 block: expected {len} decompressed bytes, found {err}"
        ))
        .with_source(err)),
    }
}

/// Writes `value` as an unsigned LEB128 varint into `buf`, returning its length.
fn write_varint(mut value: u64, buf: &mut [u8; MAX_VARINT_LEN]) -> usize {
    let mut i = 0;
    while value >= 0x80 {
        buf[i] = (value as u8) | 0x80;
        value >>= 7;
        i += 1;
    }
    buf[i] = value as u8;
    i + 1
}

/// Reads an unsigned LEB128 varint in its shortest form, returning it and its length.
fn read_varint(input: &[u8]) -> Result<(u64, usize)> {
    let mut value = 0u64;
    for (i, &byte) in input.iter().enumerate().take(MAX_VARINT_LEN) {
        let bits = u64::from(byte & 0x7F);
        if i == MAX_VARINT_LEN - 1 && byte > 1 {
            return Err(Error::corrupt(format!(
                "lz4 length prefix: expected a varint that fits in 64 bits, found final byte \
                 {byte:#04x}"
            )));
        }
        value |= bits << (7 * i);
        if byte & 0x80 == 0 {
            if byte == 0 && i > 0 {
                return Err(Error::corrupt(
                    "lz4 length prefix: expected a varint in its shortest form, found a \
                     trailing zero byte",
                ));
            }
            return Ok((value, i + 1));
        }
    }
    if input.len() >= MAX_VARINT_LEN {
        return Err(Error::corrupt(format!(
            "lz4 length prefix: expected a varint of at most {MAX_VARINT_LEN} bytes, found \
             more"
        )));
    }
    Err(Error::incomplete(
        "lz4 length prefix",
        input.len() + 1,
        input.len(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_round_trip_and_reject_bad_forms() {
        let mut buf = [0u8; MAX_VARINT_LEN];
        for value in [
            0,
            1,
            127,
            128,
            300,
            16_383,
            16_384,
            u32::MAX as u64,
            u64::MAX,
        ] {
            let n = write_varint(value, &mut buf);
            assert_eq!(read_varint(&buf[..n]).unwrap(), (value, n));
            for cut in 0..n {
                assert!(read_varint(&buf[..cut]).unwrap_err().is_incomplete());
            }
        }
        assert!(read_varint(&[0x80, 0x00]).unwrap_err().is_corrupt());
        assert!(read_varint(&[0xFF; 10]).unwrap_err().is_corrupt());
        assert!(read_varint(&[0xFF; 11]).unwrap_err().is_corrupt());
    }

    #[test]
    fn expansion_bound_holds_for_the_most_compressible_input() {
        for len in [16, 1000, 70_000, 1 << 20] {
            let zeros = vec![0u8; len];
            let packed = block::compress(&zeros);
            assert!(
                len <= packed.len() * MAX_EXPANSION,
                "{len} from {}",
                packed.len()
            );
        }
    }
}
