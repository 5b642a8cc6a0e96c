//! Migrating a service from JSON to rkyv with no flag day.
//!
//! An old writer still emits plain JSON; a new writer emits rkyv frames; during the rollout
//! both streams arrive interleaved. One reader, a `HybridCodec`, decodes all of it: the first
//! byte of a frame (`0xFA`) can never begin a JSON text, so header-less JSON is recognised
//! with certainty. Metrics (`Metered` around the codec, and the hybrid codec's own counters)
//! show how much legacy traffic is left, which tells you when the old
//! writers are gone and legacy JSON can be turned off.
//!
//! Run with `cargo run --release --example migration`.

use std::sync::Arc;

use zerocodec::bytes::Bytes;
use zerocodec::prelude::*;
use zerocodec::{ErrorKind, Metered, Metrics};
use zerocodec_codecs::{HybridCodec, HybridMetrics, JsonCodec};
use zerocodec_datasets::{ChatMessage, RpcRequest};

fn message(i: u64) -> ChatMessage {
    ChatMessage {
        id: format!("msg-{i:06}"),
        content: format!("message number {i} from the {} writer", writer_name(i)),
        timestamp: 1_763_700_000_000 + i,
        sender: format!("user-{}", i % 7),
        room_id: "room-general".into(),
    }
}

/// Every third message comes from a writer not yet upgraded.
fn is_old_writer(i: u64) -> bool {
    i % 3 == 0
}

fn writer_name(i: u64) -> &'static str {
    if is_old_writer(i) { "old" } else { "new" }
}

/// Appends one length-delimited record (u32 little-endian length, then the bytes), as a
/// transport such as tokio-util's `LengthDelimitedCodec` would.
fn push_record(stream: &mut Vec<u8>, record: &[u8]) {
    let len = u32::try_from(record.len()).expect("records here are small");
    stream.extend_from_slice(&len.to_le_bytes());
    stream.extend_from_slice(record);
}

/// Splits a stream back into records, sharing the stream's bytes (no copies).
fn records(stream: &Bytes) -> Vec<Bytes> {
    let mut out = Vec::new();
    let mut at = 0;
    while at + 4 <= stream.len() {
        let len = u32::from_le_bytes(stream[at..at + 4].try_into().expect("4 bytes")) as usize;
        at += 4;
        out.push(stream.slice(at..at + len));
        at += len;
    }
    out
}

fn main() -> Result<(), zerocodec::Error> {
    // Writers.
    let old_writer = JsonCodec::new();
    // Checksummed, so the corrupted record below is caught by the CRC; metered, so the writer's
    // side of the migration shows too: messages written (`Metered`, around any codec), and rkyv
    // encodes against JSON fallbacks (the hybrid codec's own counters).
    let writer_metrics = Arc::new(Metrics::new());
    let writer_hybrid = Arc::new(HybridMetrics::new());
    let new_writer = Metered::with_metrics(
        HybridCodec::new()
            .with_checksum(true)
            .with_metrics(writer_hybrid.clone()),
        writer_metrics.clone(),
    );
    let mut stream = Vec::new();
    let n = 12;
    for i in 0..n {
        let msg = message(i);
        if is_old_writer(i) {
            push_record(&mut stream, &old_writer.encode(&msg)?);
        } else {
            push_record(&mut stream, &new_writer.encode(&msg)?);
        }
    }
    // A record that got corrupted in transit, and one from a service sending another type.
    let mut corrupt = new_writer.encode(&message(99))?.to_vec();
    let last = corrupt.len() - 1;
    corrupt[last] ^= 0x40;
    push_record(&mut stream, &corrupt);
    let rpc = RpcRequest {
        id: "req-1".into(),
        method: "rooms.post".into(),
        params: serde_json::json!({"room": "general"}),
        method_type: zerocodec_datasets::RpcMethod::Mutation,
    };
    push_record(&mut stream, &HybridCodec::new().encode(&rpc)?);
    let stream = Bytes::from(stream);

    // One reader for everything, counting what it reads and how much of it is legacy JSON.
    let metrics = Arc::new(Metrics::new());
    let hybrid = Arc::new(HybridMetrics::new());
    let reader = Metered::with_metrics(
        HybridCodec::<ChatMessage>::new().with_metrics(hybrid.clone()),
        metrics.clone(),
    );
    for (i, record) in records(&stream).into_iter().enumerate() {
        let kind = if zerocodec::frame::is_frame(&record) {
            "frame"
        } else {
            "json "
        };
        // `access_owned` works for both: frames are validated in place (shared when aligned,
        // copied once otherwise), legacy JSON is decoded and archived once.
        match reader.access_owned(record.clone()) {
            Ok(view) => {
                let expected = message(i as u64);
                assert_eq!(view.id.as_str(), expected.id);
                println!(
                    "#{i:02} {kind} {:>3} B  {}: {}",
                    record.len(),
                    view.id,
                    view.content
                );
            }
            Err(err) => println!(
                "#{i:02} {kind} {:>3} B  rejected ({}): {}",
                record.len(),
                err.kind(),
                err.message()
            ),
        }
    }

    let written = writer_metrics.snapshot();
    let written_hybrid = writer_hybrid.snapshot();
    println!("\nwriter: {written}");
    println!(
        "writer: {} rkyv encodes, {} JSON fallbacks",
        written_hybrid.rkyv_encodes, written_hybrid.fallbacks
    );
    let new_records = (0..n).filter(|&i| !is_old_writer(i)).count() as u64;
    assert_eq!(written.messages_encoded, new_records + 1);
    assert_eq!(written_hybrid.rkyv_encodes, new_records + 1);
    assert_eq!(written_hybrid.json_fallback_rate(), Some(0.0));

    let snap = metrics.snapshot();
    let legacy = hybrid.snapshot().legacy_reads;
    println!("\nreader: {snap}");
    println!(
        "legacy share: {:.0}% of the messages read",
        legacy as f64 * 100.0 / snap.messages_accessed as f64
    );
    assert_eq!(legacy, (0..n).filter(|&i| is_old_writer(i)).count() as u64);
    assert_eq!(snap.messages_accessed, n);
    assert_eq!(snap.errors_of(ErrorKind::ChecksumMismatch), 1);
    assert_eq!(snap.errors_of(ErrorKind::TypeMismatch), 1);

    // Once the old writers are gone, turn legacy JSON off: stray JSON is then an error.
    let strict = HybridCodec::<ChatMessage>::new().with_legacy_json(false);
    let stray = JsonCodec::new().encode(&message(0))?;
    let err = strict.decode(&stray).expect_err("legacy JSON is off");
    assert_eq!(err.kind(), ErrorKind::Corrupt);
    println!("\nafter the migration, legacy JSON is rejected: {err}");
    Ok(())
}
