//! `Compressed<RkyvCodec | JsonCodec>` with lz4 and zstd, decoding arbitrary bytes: any input
//! gives Ok or a typed error; nothing decompresses past the limit; what decodes round-trips.
#![no_main]

use libfuzzer_sys::fuzz_target;
use zerocodec::frame::{FrameHeader, FrameWriter};
use zerocodec::prelude::*;
use zerocodec::{CodecId, CompressionId, EncodeBuf, Result};
use zerocodec_codecs::{Compressed, Compression, JsonCodec, Policy, RkyvCodec};
use zerocodec_datasets::ChatMessage;

const LIMIT: usize = 1 << 20;

/// A codec that hands the payload over as it is, so the target sees exactly what the frame
/// layer decompressed.
#[derive(Clone, Copy)]
struct Raw;

impl Codec for Raw {
    type Item = Vec<u8>;

    fn codec_id(&self) -> CodecId {
        CodecId::FIRST_PRIVATE
    }

    fn content_type(&self) -> &'static str {
        "application/octet-stream"
    }
}

impl Encode for Raw {
    fn encode_into<B: EncodeBuf>(&self, item: &Vec<u8>, out: &mut B) -> Result<()> {
        out.extend_from_slice(item);
        Ok(())
    }
}

impl Decode for Raw {
    fn decode(&self, bytes: &[u8]) -> Result<Vec<u8>> {
        Ok(bytes.to_vec())
    }
}

/// `payload` as the payload of a frame of `Raw` that names algorithm `id` (0: stored raw).
fn frame_around(payload: &[u8], id: u8) -> Option<Vec<u8>> {
    let header = FrameHeader::new(Raw.codec_id()).with_compression(CompressionId(id), None);
    let mut out = Vec::new();
    let writer = FrameWriter::begin(&mut out, 16);
    out.extend_from_slice(payload);
    writer.finish(&mut out, header).ok()?;
    Some(out)
}

fn check(compression: Compression, data: &[u8]) {
    let policy = Policy::new().with_max_decompressed_len(LIMIT);
    let rkyv =
        Compressed::new(RkyvCodec::<ChatMessage>::new(), compression.clone()).with_policy(policy);
    if let Ok(msg) = rkyv.decode(data) {
        let again = rkyv.encode(&msg).unwrap();
        assert_eq!(rkyv.decode(&again).unwrap(), msg);
    }
    let json =
        Compressed::new(JsonCodec::<ChatMessage>::new(), compression.clone()).with_policy(policy);
    if let Ok(msg) = json.decode(data) {
        let again = json.encode(&msg).unwrap();
        assert_eq!(json.decode(&again).unwrap(), msg);
    }
    // The frame layer alone: the input as a frame, and the input's tail as the payload of a
    // frame naming any algorithm id (known or not) that its first byte picks.
    let raw = Compressed::new(Raw, compression).with_policy(policy);
    if let Ok(payload) = raw.decode(data) {
        assert!(payload.len() <= LIMIT);
    }
    if let Some((&id, rest)) = data.split_first() {
        if let Some(frame) = frame_around(rest, id % 4) {
            if let Ok(payload) = raw.decode(&frame) {
                assert!(payload.len() <= LIMIT);
                let again = raw.encode(&payload).unwrap();
                assert_eq!(raw.decode(&again).unwrap(), payload);
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    check(Compression::Lz4, data);
    check(Compression::Zstd(3), data);
});
