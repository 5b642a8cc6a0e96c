//! A log queue on NATS JetStream: a producer writes the log dataset into a stream in
//! compressed batches; a durable consumer replays it, checks every entry and acknowledges
//! each batch; item *i* of a stored batch is read by its stream sequence; single entries
//! travel as hybrid frames and are read in place; a poison message is reported and
//! terminated.
//!
//! Run with `cargo run --release -p zerocodec-nats --example queue`. It starts
//! `nats-server -js` itself (on 127.0.0.1, a free port and a temporary store) if it can find
//! it, and otherwise says how to install it.

mod server;

use std::process::ExitCode;
use std::time::{Duration, Instant};

use async_nats::jetstream::{self, consumer, stream};
use bytes::Bytes;
use futures::StreamExt;
use zerocodec_codecs::{BatchBuilder, BatchCodec, Compression, HybridCodec};
use zerocodec_datasets::log::Log;
use zerocodec_datasets::{Rng, SEED};
use zerocodec_nats::{Archived, Batches, Error, Messages, Publisher, fetch};

const ENTRIES: usize = 100_000;
const PER_BATCH: usize = 1_000;
const SINGLES: usize = 1_000;

#[tokio::main]
async fn main() -> ExitCode {
    let binary = match server::find() {
        Ok(binary) => binary,
        Err(how) => {
            eprintln!("{how}");
            return ExitCode::FAILURE;
        }
    };
    println!("nats-server: {}", binary.display());
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let store = tempfile::tempdir()?;
    let server = server::NatsServer::start(store.path())?;
    println!(
        "started {} (store {})",
        server.url(),
        store.path().display()
    );
    let context = jetstream::new(async_nats::connect(server.url()).await?);
    let mut logs = context
        .create_stream(stream::Config {
            name: "LOGS".into(),
            subjects: vec!["logs.>".into()],
            storage: stream::StorageType::File,
            ..Default::default()
        })
        .await?;

    // Producer: the log dataset, in zstd-compressed, checksummed batches of 1,000.
    let mut rng = Rng::new(SEED);
    let entries: Vec<Log> = (0..ENTRIES).map(|_| Log::generate(&mut rng)).collect();
    let json_len: usize = entries
        .iter()
        .map(|e| serde_json::to_vec(e).map_or(0, |v| v.len()))
        .sum();
    let publisher = Publisher::new(context.clone())
        .with_batches(BatchCodec::new().with_compression(Compression::zstd()));
    let started = Instant::now();
    let mut acks = Vec::new();
    for chunk in entries.chunks(PER_BATCH) {
        let mut builder = BatchBuilder::new();
        for entry in chunk {
            builder.append(entry)?;
        }
        acks.push(
            publisher
                .publish_batch("logs.access", &builder.finish()?)
                .await?,
        );
    }
    let mut sequences = Vec::new();
    for ack in acks {
        sequences.push(ack.await?.sequence);
    }
    let info = logs.info().await?.state.clone();
    println!(
        "produced {ENTRIES} entries in {} batches in {:.0} ms; the stream stores {} bytes \
         ({:.1} bytes an entry; the same entries as JSON are {json_len} bytes)",
        sequences.len(),
        started.elapsed().as_secs_f64() * 1e3,
        info.bytes,
        info.bytes as f64 / ENTRIES as f64,
    );

    // Consumer: a durable consumer replays the stream, checks every entry, acks each batch.
    let replay = logs
        .create_consumer(consumer::pull::Config {
            durable_name: Some("replay".into()),
            ack_policy: consumer::AckPolicy::Explicit,
            ..Default::default()
        })
        .await?;
    let mut messages = Messages::new(replay.messages().await?, Batches(BatchCodec::<Log>::new()));
    let started = Instant::now();
    let mut checked = 0;
    while checked < ENTRIES {
        let batch = messages
            .next()
            .await
            .ok_or("the consumer's stream ended")??;
        for (i, entry) in batch.iter().enumerate() {
            let expected = &entries[checked + i];
            if entry.request != expected.request.as_str() || entry.size != expected.size {
                return Err(format!("entry {} differs", checked + i).into());
            }
        }
        checked += batch.len();
        batch.double_ack().await?;
    }
    println!(
        "replayed and checked {checked} entries in {:.0} ms (archived views, no deserialization)",
        started.elapsed().as_secs_f64() * 1e3
    );

    // Item i of a stored batch, by its stream sequence: one batch read, no other decoded.
    let batch = fetch(&logs, sequences[42], &Batches(BatchCodec::<Log>::new())).await?;
    let entry = batch.deserialize(500)?;
    assert_eq!(entry, entries[42 * PER_BATCH + 500]);
    println!(
        "entry {} from stream sequence {}: {} {} {}",
        42 * PER_BATCH + 500,
        sequences[42],
        entry.date,
        entry.request,
        entry.code
    );

    // Single entries as hybrid frames, read in place; and one poison message.
    let singles = Publisher::new(context.clone());
    for entry in &entries[..SINGLES] {
        singles.publish("logs.single", entry).await?.await?;
    }
    context
        .publish("logs.single", Bytes::from_static(b"\x07 not a frame"))
        .await?
        .await?;
    let single = logs
        .create_consumer(consumer::pull::Config {
            durable_name: Some("single".into()),
            filter_subject: "logs.single".into(),
            ack_policy: consumer::AckPolicy::Explicit,
            ..Default::default()
        })
        .await?;
    let mut messages = Messages::new(
        single.messages().await?,
        Archived(HybridCodec::<Log>::new()),
    );
    let (mut shared, mut copied, mut poison) = (0, 0, 0);
    while shared + copied + poison < SINGLES + 1 {
        let item = tokio::time::timeout(Duration::from_secs(10), messages.next())
            .await?
            .ok_or("the consumer's stream ended")?;
        match item {
            Ok(view) => {
                if view.is_shared() {
                    shared += 1;
                } else {
                    copied += 1;
                }
                view.ack().await?;
            }
            Err(Error::Poison(bad)) => {
                println!(
                    "poison at stream sequence {}: {} (terminated)",
                    bad.stream_sequence(),
                    bad.error()
                );
                bad.term().await?;
                poison += 1;
            }
            Err(err) => return Err(err.into()),
        }
    }
    println!(
        "{SINGLES} single frames read as archived views: {shared} shared NATS's buffer (their \
         payload happened to be 16-byte aligned), {copied} were copied once"
    );
    Ok(())
}
