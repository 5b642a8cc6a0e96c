//! zerocodec-nats against a real `nats-server -js`, started by each test on 127.0.0.1 with an
//! ephemeral port and a temporary store: round trips of single messages and batches, legacy
//! JSON publishers, poison messages, and (`fault.rs`) a server killed and restarted in the
//! middle of 100,000 log entries. Every test is bounded by a timeout. A missing nats-server
//! fails the tests, saying how to install it.

#[path = "../../examples/queue/server.rs"]
mod server;

mod fault;
mod messages;
mod poison;

use std::future::Future;
use std::time::Duration;

use async_nats::jetstream::{self, consumer, stream};
use server::NatsServer;
use tempfile::TempDir;

/// The bound on each test but the fault test: a hang fails instead of stalling CI.
const LIMIT: Duration = Duration::from_secs(60);

async fn bounded<F: Future<Output = ()>>(limit: Duration, test: F) {
    tokio::time::timeout(limit, test)
        .await
        .expect("the test did not finish within its time limit");
}

/// A server with its store, and a JetStream context on it.
struct Fixture {
    // Dropped first: the server is killed before its store is removed.
    server: NatsServer,
    context: jetstream::Context,
    _store: TempDir,
}

fn start_server() -> (NatsServer, TempDir) {
    let store = tempfile::tempdir().expect("a temporary store directory");
    let server = NatsServer::start(store.path()).unwrap_or_else(|err| panic!("{err}"));
    (server, store)
}

async fn fixture() -> Fixture {
    let (server, store) = start_server();
    let client = async_nats::connect(server.url()).await.expect("connect");
    let context = jetstream::ContextBuilder::new()
        .timeout(Duration::from_secs(5))
        .build(client);
    Fixture {
        server,
        context,
        _store: store,
    }
}

impl Fixture {
    /// A file-backed stream `name` on `{subject}.>`.
    async fn stream(&self, name: &str, subject: &str) -> stream::Stream {
        self.context
            .create_stream(stream::Config {
                name: name.into(),
                subjects: vec![format!("{subject}.>")],
                storage: stream::StorageType::File,
                ..Default::default()
            })
            .await
            .expect("create stream")
    }
}

/// A durable pull consumer with explicit acks.
async fn durable(
    stream: &stream::Stream,
    name: &str,
    ack_wait: Duration,
) -> consumer::PullConsumer {
    stream
        .get_or_create_consumer(
            name,
            consumer::pull::Config {
                durable_name: Some(name.into()),
                ack_policy: consumer::AckPolicy::Explicit,
                ack_wait,
                ..Default::default()
            },
        )
        .await
        .expect("create consumer")
}

/// An order: the message type of the round-trip and poison tests.
#[zerocodec::message]
#[derive(Debug, Clone, PartialEq)]
struct Order {
    id: u64,
    item: String,
    quantity: u32,
}

/// A message type that is not an `Order` (another schema fingerprint).
#[zerocodec::message]
#[derive(Debug, Clone, PartialEq)]
struct Refund {
    order: u64,
    cents: i64,
}

fn order(id: u64) -> Order {
    Order {
        id,
        item: format!("item-{id}"),
        quantity: (id % 7) as u32 + 1,
    }
}

#[test]
fn a_missing_server_is_an_error_that_says_how_to_install_it() {
    let err = server::find_in(Some("/nonexistent/nats-server".into()), None, &[]).unwrap_err();
    assert!(err.contains("apt-get install -y nats-server"), "{err}");
    let err =
        server::find_in(None, Some("/nonexistent".into()), &["/nonexistent/sbin"]).unwrap_err();
    assert!(
        err.contains("not found") && err.contains("apt-get install"),
        "{err}"
    );
}

#[test]
fn public_types_cross_threads_and_errors_stay_small() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}
    send_sync::<zerocodec_nats::Publisher<Order>>();
    send_sync::<zerocodec_nats::Error>();
    send_sync::<zerocodec_nats::Poison>();
    send_sync::<zerocodec_nats::Delivery>();
    send_sync::<zerocodec_nats::Received<zerocodec::OwnedArchive<Order>>>();
    send::<zerocodec_nats::Messages<zerocodec_nats::Archived<Order>>>();
    // A poison message (the delivery, its payload and headers) is boxed: an `Err` costs
    // seven words (the largest variants hold a subject or a zerocodec error beside a boxed
    // source), not a message.
    let size = size_of::<zerocodec_nats::Error>();
    assert!(size <= 56, "zerocodec_nats::Error is {size} bytes");
}
