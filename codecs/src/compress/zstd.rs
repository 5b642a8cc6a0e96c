//! zstd payloads: exactly one zstd frame that records its content size, compressed at a level
//! or with a prepared dictionary, with the per-thread contexts every zstd payload is
//! compressed and decompressed with.
//!
//! On decode the content size is untrusted: it must not exceed the policy's decompressed limit
//! for the payload's size, and the output is sized to it before decompressing, so zstd cannot
//! write more. Frames without a content size, with trailing bytes, or needing a dictionary the
//! payload does not name are rejected. Compressor and decompressor contexts are created once
//! per thread and reused for every message.

use std::cell::RefCell;

use ::zstd::zstd_safe::{self, CCtx, CDict, DCtx, ErrorCode, zstd_sys};
use zerocodec::__private::with_scratch;
use zerocodec::{EncodeBuf, Error, ErrorKind, Result};

use super::ZstdDictionary;

/// How to compress a frame.
pub(super) enum With<'a> {
    /// At a level, without a dictionary.
    Level(i32),
    /// With a prepared dictionary (its level was fixed when it was prepared).
    Dictionary(&'a CDict<'static>),
}

/// The per-thread zstd state: contexts created on first use, and the compressor's scratch.
#[derive(Default)]
struct Contexts {
    cctx: Option<CCtx<'static>>,
    dctx: Option<DCtx<'static>>,
    /// Compressed output lands here first, so `out` only ever receives a frame the policy
    /// keeps. Always left empty between calls. A `Vec` of its own rather than zerocodec's
    /// shared scratch helper: zstd-safe writes into a `Vec`'s spare capacity (no zero-fill),
    /// and the helper hands out aligned vectors, which it cannot write into.
    scratch: Vec<u8>,
}

/// Largest compressor scratch kept per thread between calls; larger ones are freed.
const MAX_RETAINED_SCRATCH: usize = 4 << 20;

thread_local! {
    static CONTEXTS: RefCell<Contexts> = RefCell::new(Contexts::default());
}

/// Runs `f` with this thread's contexts (fresh ones if re-entered).
fn with_contexts<R>(f: impl FnOnce(&mut Contexts) -> R) -> R {
    CONTEXTS.with(|cell| match cell.try_borrow_mut() {
        Ok(mut contexts) => f(&mut contexts),
        Err(_) => f(&mut Contexts::default()),
    })
}

/// zstd's code for an error, as its functions return it (`(size_t)-code`).
const fn error_code(code: zstd_sys::ZSTD_ErrorCode) -> ErrorCode {
    (code as ErrorCode).wrapping_neg()
}
const DST_TOO_SMALL: ErrorCode = error_code(zstd_sys::ZSTD_ErrorCode::ZSTD_error_dstSize_tooSmall);
const SRC_SIZE_WRONG: ErrorCode = error_code(zstd_sys::ZSTD_ErrorCode::ZSTD_error_srcSize_wrong);
const DICTIONARY_WRONG: ErrorCode =
    error_code(zstd_sys::ZSTD_ErrorCode::ZSTD_error_dictionary_wrong);

/// Appends a zstd frame of `input` when it fits in `budget` bytes and returns true; otherwise
/// leaves `out` as it was and returns false.
pub(super) fn compress_frame<B: EncodeBuf>(
    input: &[u8],
    budget: usize,
    with: With<'_>,
    out: &mut B,
) -> Result<bool> {
    with_contexts(|contexts| {
        let Contexts { cctx, scratch, .. } = contexts;
        let cctx = match cctx {
            Some(cctx) => cctx,
            None => cctx.insert(CCtx::try_create().ok_or_else(|| {
                Error::new(
                    ErrorKind::Encode,
                    "zstd could not allocate a compression context",
                )
            })?),
        };
        scratch.clear();
        // The frame may be up to 4 bytes over budget: its magic number is not kept.
        scratch.reserve(budget + MAGIC.len());
        let result = match with {
            With::Level(level) => cctx.compress(scratch, input, level),
            With::Dictionary(cdict) => cctx.compress_using_cdict(scratch, input, cdict),
        };
        let kept = match result {
            Ok(n) if n <= budget + MAGIC.len() && scratch.starts_with(&MAGIC) => {
                out.extend_from_slice(&scratch[MAGIC.len()..n]);
                Ok(true)
            }
            Ok(_) => Ok(false),
            Err(DST_TOO_SMALL) => Ok(false),
            Err(code) => Err(Error::new(
                ErrorKind::Encode,
                format!(
                    "zstd could not compress {} bytes: {}",
                    input.len(),
                    zstd_safe::get_error_name(code)
                ),
            )),
        };
        scratch.clear();
        if scratch.capacity() > MAX_RETAINED_SCRATCH {
            *scratch = Vec::new();
        }
        kept
    })
}

/// zstd's frame magic number, little-endian.
///
/// zerocodec writes zstd frames without it: the compression id in the frame header already
/// says "zstd", and 4 bytes are 4% of a dictionary-compressed small message. Readers accept
/// frames with or without it. Without it is unambiguous: a frame then starts with its header
/// descriptor, whose bit 3 is reserved and always 0, while the magic's first byte, `0x28`, has
/// bit 3 set.
///
/// Why not zstd's own magicless format (`ZSTD_f_zstd1_magicless`, behind zstd-safe's
/// `experimental` feature): the bounded reader checks a frame's content size and its exact
/// length before it allocates (`ZSTD_getFrameContentSize`, `ZSTD_findFrameCompressedSize`),
/// and zstd offers those for framed input only; the magic would have to be put back to read
/// them anyway. Stripping 4 bytes after compressing is the smaller moving part.
const MAGIC: [u8; 4] = [0x28, 0xB5, 0x2F, 0xFD];

/// Appends the content of the single zstd frame `input` (with or without its magic number)
/// to `out`, decompressing with `dictionary` when the payload names one, producing at most
/// `limit` bytes.
pub(super) fn decompress_frame<B: EncodeBuf>(
    input: &[u8],
    dictionary: Option<&ZstdDictionary>,
    out: &mut B,
    limit: usize,
) -> Result<()> {
    if input.starts_with(&MAGIC) {
        return decompress_whole_frame(input, dictionary, out, limit);
    }
    // zstd reads whole frames: put the magic back in front, in scratch space (one copy of
    // the compressed bytes, small beside decompressing them).
    with_scratch(|whole| {
        whole.reserve(MAGIC.len() + input.len());
        whole.extend_from_slice(&MAGIC);
        whole.extend_from_slice(input);
        decompress_whole_frame(whole, dictionary, out, limit)
    })
}

/// [`decompress_frame`] of a frame that starts with its magic number.
fn decompress_whole_frame<B: EncodeBuf>(
    input: &[u8],
    dictionary: Option<&ZstdDictionary>,
    out: &mut B,
    limit: usize,
) -> Result<()> {
    let content_len = check_frame(input, dictionary, limit)?;
    let start = out.len();
    // The content size was checked against the limit; the output holds exactly that much,
    // so zstd cannot produce more whatever the frame's blocks say.
    out.resize_zeroed(start + content_len);
    let dst = &mut out.as_mut_slice()[start..];
    let result = with_contexts(|contexts| {
        let dctx = match &mut contexts.dctx {
            Some(dctx) => dctx,
            slot @ None => slot.insert(DCtx::try_create().ok_or_else(|| {
                Error::new(
                    ErrorKind::Io,
                    "zstd could not allocate a decompression context",
                )
            })?),
        };
        Ok::<_, Error>(match dictionary {
            None => dctx.decompress(dst, input),
            Some(dict) => dctx.decompress_using_ddict(dst, input, dict.ddict()),
        })
    })?;
    match result {
        Ok(n) if n == content_len => Ok(()),
        Ok(n) => Err(Error::corrupt(format!(
            "zstd frame decompressed to {n} bytes, its header claims {content_len}"
        ))),
        Err(DICTIONARY_WRONG) => Err(Error::corrupt(format!(
            "zstd frame was not compressed with dictionary {}",
            dictionary.map_or(0, ZstdDictionary::id)
        ))),
        Err(code) => Err(Error::corrupt(format!(
            "invalid zstd frame {}: expected {content_len} decompressed bytes, found an error: {}",
            match dictionary {
                Some(dict) => format!("for dictionary {}", dict.id()),
                None => "without a dictionary".to_owned(),
            },
            zstd_safe::get_error_name(code)
        ))),
    }
}

/// The length of the zstd frame header at the start of `input` (which starts with the magic
/// number), from its descriptor byte: magic, descriptor, window descriptor unless the frame is
/// single-segment, dictionary id, content size.
fn frame_header_len(input: &[u8]) -> usize {
    let Some(&descriptor) = input.get(4) else {
        return 5;
    };
    let single_segment = descriptor & 0b0010_0000 != 0;
    let window = usize::from(!single_segment);
    let dict_id = [0, 1, 2, 4][usize::from(descriptor & 0b11)];
    let content_size = match descriptor >> 6 {
        0 => usize::from(single_segment),
        1 => 2,
        2 => 4,
        _ => 8,
    };
    5 + window + dict_id + content_size
}

/// Validates the frame's header against the payload and the limit; returns its content size.
// Inlined into its one caller: left to LLVM, whether it is depends on unrelated code in the
// crate (fat LTO), which moved `chat/hybrid+zstd-dict/decode` by 1% in the gate.
#[inline]
fn check_frame(input: &[u8], dictionary: Option<&ZstdDictionary>, limit: usize) -> Result<usize> {
    let Some(magic) = input.get(..4) else {
        return Err(Error::incomplete("zstd frame", 4, input.len()));
    };
    if magic != MAGIC {
        return Err(Error::corrupt(format!(
            "expected a zstd frame starting {MAGIC:02x?}, found {magic:02x?}"
        )));
    }
    let header_len = frame_header_len(input);
    if input.len() < header_len {
        return Err(Error::incomplete(
            "zstd frame header",
            header_len,
            input.len(),
        ));
    }
    let content_len = match zstd_safe::get_frame_content_size(input) {
        Ok(Some(len)) => len,
        Ok(None) => {
            return Err(Error::corrupt(
                "zstd frame header: expected a recorded content size, found none",
            ));
        }
        Err(_) => {
            return Err(Error::corrupt(format!(
                "zstd frame header: expected a valid header, found {:02x?}",
                &input[..header_len]
            )));
        }
    };
    if content_len > limit as u64 {
        return Err(Error::too_large(
            "zstd frame's content size",
            content_len,
            limit as u64,
        ));
    }
    match zstd_safe::find_frame_compressed_size(input) {
        Ok(n) if n == input.len() => {}
        Ok(n) => {
            return Err(Error::corrupt(format!(
                "expected one zstd frame, found {} bytes after its end",
                input.len() - n
            )));
        }
        Err(SRC_SIZE_WRONG) => {
            return Err(Error::new(
                ErrorKind::Incomplete,
                format!("zstd frame is truncated: {} bytes present", input.len()),
            ));
        }
        Err(code) => {
            return Err(Error::corrupt(format!(
                "invalid zstd frame: {}",
                zstd_safe::get_error_name(code)
            )));
        }
    }
    let frame_dict = zstd_safe::get_dict_id_from_frame(input).map(|id| id.get());
    match (dictionary.map(ZstdDictionary::id), frame_dict) {
        (None, None) => {}
        (Some(named), Some(used)) if named == used => {}
        // zerocodec's own frames leave the id to the header or prefix, which named it.
        (Some(_), None) => {}
        (None, Some(used)) => {
            return Err(Error::corrupt(format!(
                "zstd frame needs dictionary {used}, but the payload names no dictionary"
            )));
        }
        (Some(named), Some(used)) => {
            return Err(Error::corrupt(format!(
                "payload names dictionary {named}, found a zstd frame compressed with \
                 dictionary {used}"
            )));
        }
    }
    // At most `limit`, so it fits in usize.
    Ok(content_len as usize)
}
