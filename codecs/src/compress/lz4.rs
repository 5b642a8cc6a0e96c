//! lz4 payloads: the decompressed length as LEB128, then one lz4 block, through lz4_flex
//! (safe encode and decode).
//!
//! The length is untrusted: it must not exceed the policy's decompressed limit for the
//! payload's size, nor what an lz4 block of the payload's size can expand to (255 bytes per
//! input byte), before the output is allocated; the block must then decompress to exactly
//! that length. The compressor's hash table is reused per thread across messages.

use std::cell::RefCell;

use lz4_flex::block::{self, CompressTable};
use zerocodec::leb128::{self, Leb128Error};
use zerocodec::{EncodeBuf, Error, Result};

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
pub(super) fn compress_block<B: EncodeBuf>(input: &[u8], budget: usize, out: &mut B) -> bool {
    let mut header = [0u8; leb128::MAX_LEN];
    let header_len = leb128::write(&mut header, input.len() as u64);
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
pub(super) fn decompress_block<B: EncodeBuf>(
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

/// Reads the length prefix: a shortest-form LEB128 `u64`, its value and its length.
fn read_varint(input: &[u8]) -> Result<(u64, usize)> {
    leb128::read(input, 64).map_err(|err| match err {
        Leb128Error::Short => Error::incomplete("lz4 length prefix", input.len() + 1, input.len()),
        Leb128Error::Invalid => Error::corrupt(format!(
            "lz4 length prefix: expected LEB128 in its shortest form, at most {} bytes and \
             64 bits, found {:02x?}",
            leb128::MAX_LEN,
            &input[..input.len().min(leb128::MAX_LEN)]
        )),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_prefix_errors_are_typed() {
        assert!(read_varint(&[0x80]).unwrap_err().is_incomplete());
        assert!(read_varint(&[0x80, 0x00]).unwrap_err().is_corrupt());
        assert!(read_varint(&[0xFF; 11]).unwrap_err().is_corrupt());
        assert_eq!(read_varint(&[0xAC, 0x02]).unwrap(), (300, 2));
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
