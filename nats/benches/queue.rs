//! Entries per second published and consumed through NATS JetStream, and bytes stored, for
//! three ways of putting log entries into a stream: one JSON message per entry (plain
//! async-nats and serde_json, what a service does without zerocodec), one hybrid frame per
//! entry, and compressed batches of 1,000 entries (lz4 and zstd), each one message.
//!
//! Run with `cargo bench -p zerocodec-nats --bench queue` (a release build; it starts
//! `nats-server -js` itself). Each way gets a fresh file-backed stream on one server:
//! publishing keeps up to 1,000 acknowledgements in flight and ends when the last is in;
//! consuming reads every entry through a durable pull consumer (JSON decoded into `Log`;
//! frames and batches as validated archived views) and acknowledges each message. Every
//! entry's `size` is summed and checked against the dataset, so a fast wrong reading cannot
//! win. Stored bytes are the stream's own figure (`state.bytes`: payloads, headers,
//! subjects and JetStream's per-message overhead).
//!
//! Targets (from the issue): batches at least 5x the entries per second of JSON per entry,
//! publishing and consuming, and at least 3x fewer stored bytes. Exit status 1 when one is
//! missed.

#[path = "../examples/queue/server.rs"]
mod server;

use std::collections::VecDeque;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use async_nats::jetstream::context::PublishAckFuture;
use async_nats::jetstream::{self, AckKind, consumer, stream};
use futures::StreamExt;
use zerocodec_codecs::{BatchBuilder, BatchCodec, Compression, HybridCodec};
use zerocodec_datasets::log::Log;
use zerocodec_datasets::{Rng, SEED};
use zerocodec_nats::{Archived, Batches, Messages, Publisher};

const ENTRIES: usize = 100_000;
const PER_BATCH: usize = 1_000;
const IN_FLIGHT: usize = 1_000;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[derive(Clone, Copy, PartialEq)]
enum Way {
    Json,
    Frame,
    Batch(&'static str),
}

impl Way {
    fn name(self) -> String {
        match self {
            Way::Json => "json per entry".into(),
            Way::Frame => "frame per entry".into(),
            Way::Batch(c) => format!("batches of {PER_BATCH} ({c})"),
        }
    }
}

struct Row {
    way: Way,
    messages: u64,
    publish: f64,
    consume: f64,
    bytes: u64,
    shared: usize,
}

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::from(2)
        }
    }
}

async fn run() -> Result<bool, BoxError> {
    let store = tempfile::tempdir()?;
    let server = server::NatsServer::start(store.path())?;
    let context = jetstream::new(async_nats::connect(server.url()).await?);
    let mut rng = Rng::new(SEED);
    let entries: Vec<Log> = (0..ENTRIES).map(|_| Log::generate(&mut rng)).collect();
    let total: u64 = entries.iter().map(|e| e.size).sum();

    let ways = [Way::Json, Way::Frame, Way::Batch("lz4"), Way::Batch("zstd")];
    let mut rows = Vec::new();
    for (n, way) in ways.into_iter().enumerate() {
        let name = format!("BENCH{n}");
        let mut stream = context
            .create_stream(stream::Config {
                name: name.clone(),
                subjects: vec![format!("bench{n}.>")],
                storage: stream::StorageType::File,
                ..Default::default()
            })
            .await?;
        let subject = format!("bench{n}.logs");
        let started = Instant::now();
        publish(&context, way, &subject, &entries).await?;
        let publish_secs = started.elapsed().as_secs_f64();
        let state = stream.info().await?.state.clone();

        let consumer = stream
            .create_consumer(consumer::pull::Config {
                durable_name: Some("bench".into()),
                ack_policy: consumer::AckPolicy::Explicit,
                ..Default::default()
            })
            .await?;
        let started = Instant::now();
        let (sum, shared) = consume(&consumer, way).await?;
        let consume_secs = started.elapsed().as_secs_f64();
        if sum != total {
            return Err(
                format!("{}: read sizes sum to {sum}, expected {total}", way.name()).into(),
            );
        }
        rows.push(Row {
            way,
            messages: state.messages,
            publish: ENTRIES as f64 / publish_secs,
            consume: ENTRIES as f64 / consume_secs,
            bytes: state.bytes,
            shared,
        });
        context.delete_stream(&name).await?;
    }

    println!("{ENTRIES} log entries, nats-server -js on 127.0.0.1 (file store)\n");
    println!(
        "| way | messages | published entries/s | consumed entries/s | stored bytes | bytes/entry |"
    );
    println!("|---|---:|---:|---:|---:|---:|");
    for row in &rows {
        println!(
            "| {} | {} | {:.0} | {:.0} | {} | {:.1} |",
            row.way.name(),
            row.messages,
            row.publish,
            row.consume,
            row.bytes,
            row.bytes as f64 / ENTRIES as f64
        );
    }
    let frame = rows
        .iter()
        .find(|r| r.way == Way::Frame)
        .expect("the frame row");
    println!(
        "\nframe per entry, read as archived views: {} of {ENTRIES} shared NATS's buffer \
         (aligned by chance), the rest were copied once",
        frame.shared
    );

    let json = &rows[0];
    let mut met = true;
    println!("\ntargets (batches against json per entry: >= 5x entries/s, >= 3x fewer bytes):");
    for row in rows.iter().filter(|r| matches!(r.way, Way::Batch(_))) {
        let (publish, consume) = (row.publish / json.publish, row.consume / json.consume);
        let smaller = json.bytes as f64 / row.bytes as f64;
        let ok = publish >= 5.0 && consume >= 5.0 && smaller >= 3.0;
        met &= ok;
        println!(
            "  {}: publish {publish:.1}x, consume {consume:.1}x, stored {smaller:.1}x fewer bytes: {}",
            row.way.name(),
            if ok { "met" } else { "MISSED" }
        );
    }
    Ok(met)
}

async fn publish(
    context: &jetstream::Context,
    way: Way,
    subject: &str,
    entries: &[Log],
) -> Result<(), BoxError> {
    let mut acks: VecDeque<PublishAckFuture> = VecDeque::new();
    match way {
        Way::Json => {
            for entry in entries {
                let json = serde_json::to_vec(entry)?;
                keep(
                    &mut acks,
                    context.publish(subject.to_string(), json.into()).await?,
                )
                .await?;
            }
        }
        Way::Frame => {
            let publisher = Publisher::new(context.clone());
            for entry in entries {
                keep(
                    &mut acks,
                    publisher.publish(subject.to_string(), entry).await?,
                )
                .await?;
            }
        }
        Way::Batch(algorithm) => {
            let compression = match algorithm {
                "lz4" => Compression::Lz4,
                _ => Compression::zstd(),
            };
            let publisher = Publisher::new(context.clone())
                .with_batches(BatchCodec::new().with_compression(compression));
            for chunk in entries.chunks(PER_BATCH) {
                let mut builder = BatchBuilder::new();
                for entry in chunk {
                    builder.append(entry)?;
                }
                let batch = builder.finish()?;
                keep(
                    &mut acks,
                    publisher.publish_batch(subject.to_string(), &batch).await?,
                )
                .await?;
            }
        }
    }
    for ack in acks {
        ack.await?;
    }
    Ok(())
}

/// Keeps `ack` in flight, waiting for the oldest once [`IN_FLIGHT`] are.
async fn keep(
    acks: &mut VecDeque<PublishAckFuture>,
    ack: PublishAckFuture,
) -> Result<(), BoxError> {
    acks.push_back(ack);
    if acks.len() >= IN_FLIGHT {
        acks.pop_front().expect("in flight").await?;
    }
    Ok(())
}

/// Reads every entry; returns the sum of their sizes and how many archived views shared
/// NATS's buffer.
async fn consume(consumer: &consumer::PullConsumer, way: Way) -> Result<(u64, usize), BoxError> {
    let messages = consumer
        .stream()
        .max_messages_per_batch(1_000)
        .messages()
        .await?;
    let (mut sum, mut read, mut shared) = (0u64, 0usize, 0usize);
    let limit = Duration::from_secs(60);
    match way {
        Way::Json => {
            let mut messages = messages;
            while read < ENTRIES {
                let message = tokio::time::timeout(limit, messages.next())
                    .await?
                    .ok_or("ended")??;
                let entry: Log = serde_json::from_slice(&message.payload)?;
                sum += entry.size;
                read += 1;
                message.ack_with(AckKind::Ack).await?;
            }
        }
        Way::Frame => {
            let mut messages = Messages::new(messages, Archived(HybridCodec::<Log>::new()));
            while read < ENTRIES {
                let view = tokio::time::timeout(limit, messages.next())
                    .await?
                    .ok_or("ended")??;
                sum += view.size.to_native();
                shared += usize::from(view.is_shared());
                read += 1;
                view.ack().await?;
            }
        }
        Way::Batch(_) => {
            let mut messages = Messages::new(messages, Batches(BatchCodec::<Log>::new()));
            while read < ENTRIES {
                let batch = tokio::time::timeout(limit, messages.next())
                    .await?
                    .ok_or("ended")??;
                for entry in batch.iter() {
                    sum += entry.size.to_native();
                }
                read += batch.len();
                batch.ack().await?;
            }
        }
    }
    Ok((sum, shared))
}
