//! tokio-util frame codecs: round trips, chunked input, limits, and end of stream.

mod common;

use common::*;
use tokio_util::bytes::{BufMut, BytesMut};
use tokio_util::codec::{Decoder, Encoder, LengthDelimitedCodec};
use zerocodec::ErrorKind;
use zerocodec::prelude::*;
use zerocodec_codecs::{
    ArchivedFrameDecoder, DEFAULT_MAX_FRAME_LEN, FrameCodec, FrameDecoder, FrameEncoder,
    HybridCodec, JsonCodec, LENGTH_PREFIX_LEN, RkyvCodec,
};
use zerocodec_datasets::ChatMessage;

fn messages(n: usize) -> Vec<ChatMessage> {
    (0..n)
        .map(|i| ChatMessage {
            id: format!("msg-{i}"),
            content: "x".repeat(i % 300),
            timestamp: i as u64,
            ..chat()
        })
        .collect()
}

#[test]
fn round_trip_through_a_byte_stream() {
    let msgs = messages(200);
    let mut rkyv = FrameCodec::symmetric(RkyvCodec::<ChatMessage>::new());
    let mut json = FrameCodec::symmetric(JsonCodec::<ChatMessage>::new());
    let mut wire_r = BytesMut::new();
    let mut wire_j = BytesMut::new();
    for m in &msgs {
        rkyv.encode(m, &mut wire_r).unwrap();
        json.encode(m.clone(), &mut wire_j).unwrap();
    }
    for m in &msgs {
        assert_eq!(rkyv.decode(&mut wire_r).unwrap().as_ref(), Some(m));
        assert_eq!(json.decode(&mut wire_j).unwrap().as_ref(), Some(m));
    }
    assert!(wire_r.is_empty() && wire_j.is_empty());
    assert_eq!(rkyv.decode_eof(&mut wire_r).unwrap(), None);
}

#[test]
fn encoder_writes_into_the_transport_buffer_without_reallocating() {
    let mut enc = FrameEncoder::new(RkyvCodec::<ChatMessage>::new());
    let mut wire = BytesMut::with_capacity(64 * 1024);
    let base = wire.as_ptr();
    for m in messages(50) {
        enc.encode(&m, &mut wire).unwrap();
    }
    // Same allocation: encoded in place, never through a temporary buffer that was then moved.
    assert_eq!(wire.as_ptr(), base);
}

#[test]
fn frames_are_length_delimited_codec_compatible() {
    // A legacy peer framing JSON by hand with LengthDelimitedCodec + serde_json.
    let mut legacy = LengthDelimitedCodec::new();
    let mut wire = BytesMut::new();
    legacy
        .encode(
            tokio_util::bytes::Bytes::from(serde_json::to_vec(&chat()).unwrap()),
            &mut wire,
        )
        .unwrap();
    let mut ours = FrameDecoder::new(JsonCodec::<ChatMessage>::new());
    assert_eq!(ours.decode(&mut wire).unwrap(), Some(chat()));

    // And the other way round.
    let mut enc = FrameEncoder::new(JsonCodec::<ChatMessage>::new());
    enc.encode(chat(), &mut wire).unwrap();
    let frame = legacy.decode(&mut wire).unwrap().unwrap();
    assert_eq!(
        serde_json::from_slice::<ChatMessage>(&frame).unwrap(),
        chat()
    );
}

#[test]
fn archived_decoder_reads_in_place() {
    let mut enc = FrameEncoder::new(RkyvCodec::<ChatMessage>::new());
    let mut dec = ArchivedFrameDecoder::new(RkyvCodec::<ChatMessage>::new());
    let mut wire = BytesMut::new();
    for m in messages(20) {
        enc.encode(&m, &mut wire).unwrap();
    }
    for m in messages(20) {
        let view = dec.decode(&mut wire).unwrap().unwrap();
        assert_eq!(view.id, m.id);
        assert_eq!(view.content.len(), m.content.len());
        assert_eq!(view.deserialize().unwrap(), m);
    }
}

#[test]
fn bytes_in_tiny_chunks_decode_correctly() {
    let msgs = messages(100);
    let mut enc = FrameEncoder::new(RkyvCodec::<ChatMessage>::new());
    let mut whole = BytesMut::new();
    for m in &msgs {
        enc.encode(m, &mut whole).unwrap();
    }
    let mut dec = FrameDecoder::new(RkyvCodec::<ChatMessage>::new());
    let mut rng = Rng::new(7);
    let mut buf = BytesMut::new();
    let mut got = Vec::new();
    let mut at = 0;
    while at < whole.len() {
        let n = (1 + rng.next_u64() % 7) as usize;
        let end = (at + n).min(whole.len());
        buf.extend_from_slice(&whole[at..end]);
        at = end;
        while let Some(m) = dec.decode(&mut buf).unwrap() {
            got.push(m);
        }
    }
    assert_eq!(got, msgs);
    assert_eq!(dec.decode_eof(&mut buf).unwrap(), None);
}

#[test]
fn oversized_length_prefix_is_rejected_before_reserving() {
    let mut dec = FrameDecoder::new(RkyvCodec::<ChatMessage>::new());
    assert_eq!(dec.max_frame_len(), DEFAULT_MAX_FRAME_LEN);
    let mut buf = BytesMut::with_capacity(16);
    buf.put_u32(u32::MAX);
    buf.put_slice(b"abc");
    let err = dec.decode(&mut buf).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TooLarge);
    assert!(
        err.to_string().contains(&DEFAULT_MAX_FRAME_LEN.to_string()),
        "{err}"
    );
    assert!(
        buf.capacity() < 1024,
        "reserved {} bytes for a rejected frame",
        buf.capacity()
    );

    // A configured limit applies the same way, and the error survives io::Error.
    let mut dec = FrameDecoder::with_max_frame_len(JsonCodec::<ChatMessage>::new(), 100);
    assert_eq!(dec.max_frame_len(), 100);
    let mut buf = BytesMut::new();
    buf.put_u32(101);
    let err = dec.decode(&mut buf).unwrap_err();
    let io: std::io::Error = err.into();
    assert_eq!(zerocodec::Error::from(io).kind(), ErrorKind::TooLarge);

    // A frame at the limit is accepted once complete; until then only its size is reserved
    // (the decoder has taken the 4-byte prefix off the buffer, which keeps room for the
    // 100-byte payload).
    let mut dec = FrameDecoder::with_max_frame_len(JsonCodec::<Vec<u8>>::new(), 100);
    let mut buf = BytesMut::new();
    buf.put_u32(100);
    assert!(dec.decode(&mut buf).unwrap().is_none());
    assert!(buf.is_empty(), "the prefix was consumed");
    assert!(buf.capacity() >= 100);
    let payload = format!("{:<100}", "[1,2,3]");
    buf.put_slice(payload.as_bytes());
    assert_eq!(dec.decode(&mut buf).unwrap(), Some(vec![1, 2, 3]));
    assert!(buf.is_empty());
}

#[test]
fn encoder_enforces_the_limit_and_leaves_the_buffer_intact() {
    let mut enc = FrameEncoder::with_max_frame_len(JsonCodec::<ChatMessage>::new(), 32);
    assert_eq!(enc.max_frame_len(), 32);
    let mut wire = BytesMut::from(&b"earlier"[..]);
    let err = enc.encode(chat(), &mut wire).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TooLarge);
    assert_eq!(&wire[..], b"earlier");
}

#[test]
fn stream_ending_mid_frame_is_incomplete() {
    let mut enc = FrameEncoder::new(RkyvCodec::<ChatMessage>::new());
    let mut wire = BytesMut::new();
    enc.encode(chat(), &mut wire).unwrap();
    for cut in 1..wire.len() {
        let mut dec = FrameDecoder::new(RkyvCodec::<ChatMessage>::new());
        let mut part = BytesMut::from(&wire[..cut]);
        assert_eq!(dec.decode(&mut part).unwrap(), None);
        let err = match dec.decode_eof(&mut part) {
            Err(err) => err,
            Ok(item) => panic!("cut {cut}: the stream ended inside a frame, yet Ok({item:?})"),
        };
        assert_eq!(err.kind(), ErrorKind::Incomplete, "cut {cut}: {err}");
    }
}

#[test]
fn corrupt_payload_is_a_typed_error_and_the_next_frame_still_decodes() {
    let mut codec = FrameCodec::new(
        FrameDecoder::new(JsonCodec::<ChatMessage>::new()),
        FrameEncoder::new(JsonCodec::<ChatMessage>::new()),
    );
    let mut wire = BytesMut::new();
    wire.put_u32(5);
    wire.put_slice(b"{oops");
    codec.encode(chat(), &mut wire).unwrap();
    let err = codec.decode(&mut wire).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Corrupt);
    assert_eq!(codec.decode(&mut wire).unwrap(), Some(chat()));
    assert_eq!(codec.decoder().codec().codec_id(), zerocodec::CodecId::JSON);
}

#[test]
fn archived_frames_off_a_stream_are_read_after_one_copy() {
    // On a stream each payload follows a 4-byte length prefix, so it starts 16-byte aligned
    // in the transport's buffer only by chance. The decoder still yields a correct, validated
    // archive: an unaligned payload is copied once into an aligned buffer (an aligned one is
    // shared as it is).
    let mut enc = FrameEncoder::new(RkyvCodec::<ChatMessage>::new());
    let mut dec = ArchivedFrameDecoder::new(RkyvCodec::<ChatMessage>::new());
    let mut copied = 0;
    for m in messages(40) {
        let mut wire = BytesMut::new();
        enc.encode(&m, &mut wire).unwrap();
        let payload = wire[LENGTH_PREFIX_LEN..].as_ptr();
        let aligned = payload as usize % zerocodec::ARCHIVE_ALIGN == 0;
        let owned = dec.decode(&mut wire).unwrap().unwrap();
        assert!(wire.is_empty());
        assert_eq!(owned.deserialize().unwrap(), m);
        assert_eq!(owned.id, m.id);
        assert_eq!(
            owned.as_bytes().as_ptr() as usize % zerocodec::ARCHIVE_ALIGN,
            0
        );
        assert_eq!(
            owned.is_shared(),
            aligned,
            "shared exactly when the payload was aligned"
        );
        if !aligned {
            // The one copy: the archive lives outside the transport's buffer.
            assert_ne!(owned.as_bytes().as_ptr(), payload);
            copied += 1;
        }
    }
    // A fresh transport buffer is allocated at least 8-byte aligned, so a payload 4 bytes in
    // is never 16-byte aligned: every frame here took the copy.
    assert_eq!(copied, 40);
}

#[test]
fn length_delimited_codec_reads_frame_encoder_frames() {
    // tokio-util's own LengthDelimitedCodec, spelled out: a 4-byte big-endian length prefix.
    let mut theirs = LengthDelimitedCodec::builder()
        .length_field_length(4)
        .big_endian()
        .new_codec();
    let msgs = messages(30);
    let rkyv = RkyvCodec::<ChatMessage>::new();
    let hybrid = HybridCodec::<ChatMessage>::new();
    let mut to_rkyv = FrameEncoder::new(rkyv);
    let mut to_hybrid = FrameEncoder::new(hybrid.clone());
    let mut wire = BytesMut::new();
    for m in &msgs {
        to_rkyv.encode(m, &mut wire).unwrap();
        to_hybrid.encode(m, &mut wire).unwrap();
    }
    // The first prefix is the big-endian length of the first payload.
    let first = rkyv.encode(&msgs[0]).unwrap();
    assert_eq!(wire[..4], (first.len() as u32).to_be_bytes());
    for m in &msgs {
        let payload = theirs.decode(&mut wire).unwrap().unwrap();
        assert_eq!(payload, rkyv.encode(m).unwrap());
        assert_eq!(rkyv.decode(&payload).unwrap(), *m);
        let payload = theirs.decode(&mut wire).unwrap().unwrap();
        assert_eq!(payload, hybrid.encode(m).unwrap());
        assert_eq!(hybrid.decode(&payload).unwrap(), *m);
    }
    assert!(wire.is_empty());
    assert_eq!(theirs.decode_eof(&mut wire).unwrap(), None);
}
