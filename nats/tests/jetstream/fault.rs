//! The fault test: the server is killed (SIGKILL) in the middle of a stream of 100,000 log
//! entries published in batches, restarted on the same store and port, and the durable
//! consumer resumes. Every entry must be processed exactly once, by ack: none lost, none
//! processed twice.
//!
//! How "exactly once" is reached, as a user of JetStream reaches it:
//! - the publisher gives each batch a message id and retries until the stream acknowledges
//!   it; the stream drops a second copy of an id within its duplicate window, so a retry
//!   whose first attempt was stored is not stored twice;
//! - the consumer acknowledges each batch with a double ack (confirmed by the server) after
//!   processing it; a batch whose ack was lost with the server is redelivered, and the
//!   consumer, which records the stream sequences it has processed, acknowledges it again
//!   without processing it twice.
//!
//! The counts are printed (run with `--nocapture`): published (entries whose batch the
//! stream acknowledged), stored (entries in the stream afterwards), consumed (entries
//! processed), duplicates (entries processed more than once) and lost (published, never
//! processed).

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_nats::jetstream::{self, consumer, stream};
use futures::StreamExt;
use tokio::sync::oneshot;
use zerocodec_codecs::{BatchBuilder, BatchCodec, Compression};
use zerocodec_datasets::log::Log;
use zerocodec_datasets::{Rng, SEED};
use zerocodec_nats::{Batches, Error, Messages, Publisher};

use crate::{bounded, start_server};

const ENTRIES: usize = 100_000;
const PER_BATCH: usize = 500;
const BATCHES: usize = ENTRIES / PER_BATCH;
const SUBJECT: &str = "logs.access";
/// The whole test's bound; each wait inside it is bounded too.
const FAULT_LIMIT: Duration = Duration::from_secs(240);

/// What the consumer has done, shared so that a test that times out still reports it.
#[derive(Default)]
struct Tally {
    /// Times each entry was processed.
    processed: Vec<u8>,
    /// Entries processed (distinct).
    consumed: usize,
    /// Stream sequences of the batches processed.
    sequences: HashSet<u64>,
    /// Deliveries of a batch already processed (acknowledged again, not processed).
    redelivered: usize,
    /// Double acks the server did not confirm (the server was away).
    ack_failures: usize,
    /// Errors of the consumer's message stream (missed heartbeats while the server was away).
    stream_errors: usize,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_entry_is_processed_exactly_once_across_a_server_kill_and_restart() {
    bounded(FAULT_LIMIT, async {
        let (mut server, _store) = start_server();
        let client = async_nats::connect(server.url()).await.expect("connect");
        let context = jetstream::ContextBuilder::new()
            .timeout(Duration::from_secs(2))
            .build(client);
        let mut logs = context
            .create_stream(stream::Config {
                name: "LOGS".into(),
                subjects: vec!["logs.>".into()],
                storage: stream::StorageType::File,
                duplicate_window: Duration::from_secs(600),
                ..Default::default()
            })
            .await
            .expect("create stream");
        let consumer: consumer::PullConsumer = logs
            .create_consumer(consumer::pull::Config {
                durable_name: Some("replay".into()),
                ack_policy: consumer::AckPolicy::Explicit,
                ack_wait: Duration::from_secs(2),
                ..Default::default()
            })
            .await
            .expect("create consumer");

        let mut rng = Rng::new(SEED);
        let entries: Arc<Vec<Log>> = Arc::new((0..ENTRIES).map(|_| Log::generate(&mut rng)).collect());
        let tally = Arc::new(Mutex::new(Tally {
            processed: vec![0; ENTRIES],
            ..Tally::default()
        }));

        let publisher = Publisher::new(context.clone())
            .with_batches(BatchCodec::new().with_compression(Compression::Lz4));
        let (halfway, at_half) = oneshot::channel();
        let (stop, stopped) = oneshot::channel();
        let producer = tokio::spawn(produce(publisher, entries.clone(), halfway));
        let reader = tokio::spawn(consume(consumer.clone(), entries.clone(), tally.clone(), stopped));

        // Mid-stream: half the batches are stored, the consumer is working through them.
        at_half.await.expect("the producer reached half way");
        let before = tally.lock().unwrap().consumed;
        let stored_before =
            logs.info().await.expect("stream info").state.messages as usize * PER_BATCH;
        server.kill();
        tokio::time::sleep(Duration::from_millis(500)).await;
        tokio::task::block_in_place(|| server.restart()).expect("restart on the same store");

        let produced = tokio::time::timeout(Duration::from_secs(120), producer)
            .await
            .expect("the producer finished")
            .expect("the producer did not panic");
        // Done when every entry is processed, everything delivered is acknowledged and
        // nothing is left to deliver (redeliveries of processed batches are acknowledged
        // again as they come).
        let mut consumer = consumer;
        let finished = tokio::time::timeout(Duration::from_secs(120), async {
            loop {
                let processed = tally.lock().unwrap().consumed == ENTRIES;
                if processed
                    && let Ok(info) = consumer.info().await
                    && info.num_pending == 0
                    && info.num_ack_pending == 0
                {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
        .await;
        let _ = stop.send(());
        reader.await.expect("the consumer did not panic");
        let stored_messages = logs.info().await.expect("stream info").state.messages;

        let t = tally.lock().unwrap();
        let published = produced.acked * PER_BATCH;
        let stored = stored_messages as usize * PER_BATCH;
        let duplicates = t.processed.iter().filter(|&&n| n > 1).count();
        let lost = t.processed[..published].iter().filter(|&&n| n == 0).count();
        println!(
            "fault test: published {published}, stored {stored}, consumed {}, duplicates \
             {duplicates}, lost {lost} (entries; {BATCHES} batches of {PER_BATCH}, lz4). \
             Killed with {stored_before} entries stored and {before} consumed. Publish retries {}, batches the stream \
             reported as duplicates {}, batches redelivered after processing {}, unconfirmed \
             acks {}, consumer stream errors {}",
            t.consumed,
            produced.retries,
            produced.duplicates,
            t.redelivered,
            t.ack_failures,
            t.stream_errors,
        );
        assert!(
            finished.is_ok(),
            "the consumer did not process every entry, or has messages pending or \
             unacknowledged"
        );
        assert!(before < ENTRIES, "the server was killed after the consumer had finished");
        assert_eq!(published, ENTRIES);
        assert_eq!(stored, ENTRIES);
        assert_eq!(t.consumed, ENTRIES);
        assert_eq!(duplicates, 0);
        assert_eq!(lost, 0);
    })
    .await;
}

/// What the producer did.
struct Produced {
    /// Batches the stream acknowledged.
    acked: usize,
    /// Publishes tried again (not sent, or not acknowledged in time).
    retries: usize,
    /// Acknowledgements that said the batch was a duplicate (dropped by the stream).
    duplicates: usize,
}

/// Publishes the entries in batches, each with a message id, retrying until acknowledged;
/// says when half of them are stored.
async fn produce(
    publisher: Publisher<Log>,
    entries: Arc<Vec<Log>>,
    halfway: oneshot::Sender<()>,
) -> Produced {
    let mut produced = Produced {
        acked: 0,
        retries: 0,
        duplicates: 0,
    };
    let mut halfway = Some(halfway);
    for (b, chunk) in entries.chunks(PER_BATCH).enumerate() {
        if b == BATCHES / 2 {
            let _ = halfway.take().map(|tx| tx.send(()));
        }
        let mut builder = BatchBuilder::new();
        for entry in chunk {
            builder.append(entry).expect("append");
        }
        let batch = builder.finish().expect("finish");
        loop {
            let message = publisher
                .batch_message(&batch)
                .expect("frame the batch")
                .message_id(format!("logs-{b}"));
            let acked = match publisher.send(SUBJECT, message).await {
                Ok(ack) => ack.await.ok(),
                Err(_) => None,
            };
            match acked {
                Some(ack) => {
                    produced.duplicates += usize::from(ack.duplicate);
                    produced.acked += 1;
                    break;
                }
                None => {
                    produced.retries += 1;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    }
    produced
}

/// Processes batches until told to stop, acknowledging each with a double ack. Each batch
/// takes a few milliseconds of simulated work, so the consumer runs behind the producer and
/// the server is killed with batches stored but not yet delivered or acknowledged.
async fn consume(
    consumer: consumer::PullConsumer,
    entries: Arc<Vec<Log>>,
    tally: Arc<Mutex<Tally>>,
    mut stop: oneshot::Receiver<()>,
) {
    loop {
        let stream = tokio::select! {
            _ = &mut stop => return,
            stream = consumer
                .stream()
                .heartbeat(Duration::from_secs(1))
                .expires(Duration::from_secs(4))
                .messages() => stream,
        };
        let Ok(stream) = stream else {
            tally.lock().unwrap().stream_errors += 1;
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        let mut messages = Messages::new(stream, Batches(BatchCodec::<Log>::new()));
        loop {
            let item = tokio::select! {
                _ = &mut stop => return,
                item = messages.next() => item,
            };
            let batch = match item {
                Some(Ok(batch)) => batch,
                Some(Err(Error::Poison(poison))) => panic!("{}", Error::Poison(poison)),
                Some(Err(_)) => {
                    tally.lock().unwrap().stream_errors += 1;
                    continue;
                }
                None => break,
            };
            let first = batch_number(&batch) * PER_BATCH;
            let fresh = tally
                .lock()
                .unwrap()
                .sequences
                .insert(batch.stream_sequence());
            if fresh {
                tokio::time::sleep(Duration::from_millis(5)).await;
                let mut t = tally.lock().unwrap();
                for i in 0..batch.len() {
                    let entry = batch
                        .deserialize(i)
                        .expect("a validated entry deserializes");
                    assert_eq!(entry, entries[first + i], "entry {}", first + i);
                    t.processed[first + i] += 1;
                    t.consumed += usize::from(t.processed[first + i] == 1);
                }
            } else {
                tally.lock().unwrap().redelivered += 1;
            }
            if batch.double_ack().await.is_err() {
                tally.lock().unwrap().ack_failures += 1;
            }
        }
    }
}

/// The batch's number, from the message id the producer gave it.
fn batch_number(batch: &zerocodec_nats::Received<zerocodec_codecs::Batch<Log>>) -> usize {
    let headers = batch.delivery().headers().expect("headers");
    let id = headers.get("Nats-Msg-Id").expect("a message id").as_str();
    id.strip_prefix("logs-")
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("unexpected message id {id}"))
}
