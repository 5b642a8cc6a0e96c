//! Requests per second and server allocations per request: axum's `Json<T>` against
//! zerocodec-axum, on chat messages and on a 1,000-entry log batch, over real HTTP/1.1 on
//! 127.0.0.1.
//!
//! ```text
//! cargo bench -p zerocodec-axum --bench http                 # 3 rounds, about a minute
//! cargo bench -p zerocodec-axum --bench http -- --rounds 5
//! ```
//!
//! The server runs on a tokio runtime of one worker thread, the client on another, so on a
//! 2-core machine each has a core. The client keeps `CONNECTIONS` keep-alive connections busy
//! with pre-encoded bodies and checks every reply byte for byte against the expected one (each
//! reply was decoded and compared with its value once before timing), so its own cost is the
//! same for every server variant apart from the bytes moved. Allocations are counted on the
//! server's threads only (a counting global allocator that looks at a thread-local flag set by
//! the server runtime's `on_thread_start`): everything hyper, axum and the handler allocate for
//! one request, divided by the requests in the timed phase.
//!
//! Scenarios, each served by three (or two) handlers:
//!
//! - `echo`: the handler takes the message and returns it; JSON in and out through axum's
//!   `Json<T>`; through `Hybrid<T>` and `Reply<T>` with JSON (an old client on the new
//!   endpoint); and with frames.
//! - `ingest` (log batch): the handler reads the batch and returns a small summary; axum's
//!   `Json<T>` against `HybridArchive<T>`, which validates the frame and reads it in place.
//!
//! `handler µs` is the extract-and-respond work alone (the same calls, in a loop on one thread,
//! without HTTP); `share` is that over the time per request at the measured rate, which says
//! how much of a request the codec is.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::hint::black_box;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::http::header::{ACCEPT, CONTENT_TYPE};
use axum::http::{Request, StatusCode};
use axum::response::IntoResponse;
use axum::routing::post;
use axum::{Json, body};
use bytes::Bytes;
use http_body_util::BodyExt;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use zerocodec::Message;
use zerocodec::prelude::*;
use zerocodec::rkyv::Archived;
use zerocodec_axum::{Format, Hybrid, HybridArchive, Reply, ResponseFormat};
use zerocodec_codecs::{HybridCodec, JsonCodec, ZeroCopyEncode};
use zerocodec_datasets::log::Logs;
use zerocodec_datasets::{ChatMessage, Rng, SEED, messages};

// ---- allocation counting, server threads only ---------------------------------------------

thread_local! {
    static SERVER_THREAD: Cell<bool> = const { Cell::new(false) };
}
static SERVER_ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

/// Counts allocations (and reallocations) made on threads marked as the server's.
struct Counting;

// SAFETY: every method forwards to `System` with the caller's arguments unchanged, so
// `System`'s guarantees hold; the flag is a const-initialized thread local without a
// destructor and the counter a static atomic, so counting never allocates or re-enters.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: forwarded unchanged; the caller upholds `GlobalAlloc::alloc`'s contract.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: forwarded unchanged; the caller upholds `alloc_zeroed`'s contract.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        // SAFETY: forwarded unchanged; `ptr` was allocated by `System` through this type.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged; `ptr` was allocated by `System` through this type.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[inline]
fn count() {
    if SERVER_THREAD.try_with(Cell::get).unwrap_or(false) {
        SERVER_ALLOCATIONS.fetch_add(1, Relaxed);
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

// ---- the server -----------------------------------------------------------------------------

/// What the ingest handlers return.
#[zerocodec::message]
#[derive(Debug, Clone, PartialEq)]
struct Summary {
    entries: u64,
    server_errors: u64,
    bytes: u64,
}

fn summarize(logs: &Logs) -> Summary {
    Summary {
        entries: logs.logs.len() as u64,
        server_errors: logs.logs.iter().filter(|l| l.code >= 500).count() as u64,
        bytes: logs.logs.iter().map(|l| l.size).sum(),
    }
}

fn summarize_archived(logs: &Archived<Logs>) -> Summary {
    Summary {
        entries: logs.logs.len() as u64,
        server_errors: logs
            .logs
            .iter()
            .filter(|l| l.code.to_native() >= 500)
            .count() as u64,
        bytes: logs.logs.iter().map(|l| l.size.to_native()).sum(),
    }
}

async fn axum_echo<T>(Json(value): Json<T>) -> Json<T> {
    Json(value)
}

/// Answers in the negotiated format: the request's own (the client sends `Accept: */*`).
async fn ours_echo<T>(format: ResponseFormat, Hybrid(value): Hybrid<T>) -> Reply<T> {
    format.reply(value)
}

async fn axum_ingest(Json(logs): Json<Logs>) -> Json<Summary> {
    Json(summarize(&logs))
}

async fn ours_ingest(format: ResponseFormat, logs: HybridArchive<Logs>) -> Reply<Summary> {
    format.reply(summarize_archived(&logs))
}

fn app() -> Router {
    Router::new()
        .route("/axum/chat/echo", post(axum_echo::<ChatMessage>))
        .route("/ours/chat/echo", post(ours_echo::<ChatMessage>))
        .route("/axum/log/echo", post(axum_echo::<Logs>))
        .route("/ours/log/echo", post(ours_echo::<Logs>))
        .route("/axum/log/ingest", post(axum_ingest))
        .route("/ours/log/ingest", post(ours_ingest))
}

// ---- scenarios --------------------------------------------------------------------------

/// One server variant under load: the requests it is sent and the replies it must give.
struct Scenario {
    dataset: &'static str,
    op: &'static str,
    variant: &'static str,
    path: &'static str,
    content_type: &'static str,
    /// Request bodies, sent in turn, each with its expected reply.
    bodies: Vec<(Bytes, Bytes)>,
    /// The extract-and-respond work of one request, without HTTP.
    handler: Box<dyn Fn(&Bytes) -> usize>,
}

/// The reply an axum handler gives, as bytes.
fn response_bytes(response: axum::response::Response) -> Bytes {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(body::to_bytes(response.into_body(), usize::MAX))
        .unwrap()
}

/// Body length of a response built synchronously (the handler work, timed).
fn body_len(response: axum::response::Response) -> usize {
    use axum::body::HttpBody as _;
    response.body().size_hint().exact().unwrap_or(0) as usize
}

fn echo_scenarios<T>(dataset: &'static str, values: Vec<T>) -> Vec<Scenario>
where
    T: Message
        + serde::Serialize
        + serde::de::DeserializeOwned
        + ZeroCopyEncode
        + zerocodec::ZeroCopyDecode
        + PartialEq
        + std::fmt::Debug
        + 'static,
{
    let json: Vec<Bytes> = values
        .iter()
        .map(|v| serde_json::to_vec(v).unwrap().into())
        .collect();
    let frames: Vec<Bytes> = values
        .iter()
        .map(|v| HybridCodec::new().encode(v).unwrap())
        .collect();
    // Round-trip checks before timing: each body decodes to its value through the handlers'
    // own extractors, and each expected reply is what the handler answers.
    for ((value, json), frame) in values.iter().zip(&json).zip(&frames) {
        assert_eq!(&Json::<T>::from_bytes(json).unwrap().0, value);
        assert_eq!(
            &Hybrid::<T>::from_bytes(Format::Json, json).unwrap().0,
            value
        );
        assert_eq!(
            &Hybrid::<T>::from_bytes(Format::Frame, frame).unwrap().0,
            value
        );
        assert_eq!(&JsonCodec::<T>::new().decode(json).unwrap(), value);
        assert_eq!(&HybridCodec::<T>::new().decode(frame).unwrap(), value);
    }
    let echo = |bodies: &[Bytes]| bodies.iter().map(|b| (b.clone(), b.clone())).collect();
    vec![
        Scenario {
            dataset,
            op: "echo",
            variant: "axum Json<T>",
            path: if dataset == "chat" {
                "/axum/chat/echo"
            } else {
                "/axum/log/echo"
            },
            content_type: "application/json",
            bodies: echo(&json),
            handler: Box::new(|body| {
                let Json(value) = Json::<T>::from_bytes(body).unwrap();
                body_len(Json(value).into_response())
            }),
        },
        Scenario {
            dataset,
            op: "echo",
            variant: "Hybrid<T>, JSON",
            path: if dataset == "chat" {
                "/ours/chat/echo"
            } else {
                "/ours/log/echo"
            },
            content_type: "application/json",
            bodies: echo(&json),
            handler: Box::new(|body| {
                let Hybrid(value) = Hybrid::<T>::from_bytes(Format::Json, body).unwrap();
                body_len(Reply::json(value).into_response())
            }),
        },
        Scenario {
            dataset,
            op: "echo",
            variant: "Hybrid<T>, frames",
            path: if dataset == "chat" {
                "/ours/chat/echo"
            } else {
                "/ours/log/echo"
            },
            content_type: "application/vnd.zerocodec",
            bodies: echo(&frames),
            handler: Box::new(|body| {
                let Hybrid(value) = Hybrid::<T>::from_bytes(Format::Frame, body).unwrap();
                body_len(Reply::frame(value).into_response())
            }),
        },
    ]
}

fn ingest_scenarios(logs: &Logs) -> Vec<Scenario> {
    let json: Bytes = serde_json::to_vec(logs).unwrap().into();
    let frame = HybridCodec::new().encode(logs).unwrap();
    let summary = summarize(logs);
    let archive = HybridArchive::<Logs>::from_bytes(Format::Frame, frame.clone()).unwrap();
    assert_eq!(summarize_archived(&archive), summary);
    assert_eq!(&Json::<Logs>::from_bytes(&json).unwrap().0, logs);
    let json_reply = response_bytes(Json(summary.clone()).into_response());
    let frame_reply = response_bytes(Reply::frame(summary.clone()).into_response());
    assert_eq!(
        HybridCodec::<Summary>::new().decode(&frame_reply).unwrap(),
        summary
    );
    vec![
        Scenario {
            dataset: "log",
            op: "ingest",
            variant: "axum Json<T>",
            path: "/axum/log/ingest",
            content_type: "application/json",
            bodies: vec![(json, json_reply)],
            handler: Box::new(|body| {
                let Json(logs) = Json::<Logs>::from_bytes(body).unwrap();
                body_len(Json(summarize(&logs)).into_response())
            }),
        },
        Scenario {
            dataset: "log",
            op: "ingest",
            variant: "HybridArchive<T>, frames",
            path: "/ours/log/ingest",
            content_type: "application/vnd.zerocodec",
            bodies: vec![(frame, frame_reply)],
            handler: Box::new(|body| {
                let logs = HybridArchive::<Logs>::from_bytes(Format::Frame, body.clone()).unwrap();
                body_len(Reply::frame(summarize_archived(&logs)).into_response())
            }),
        },
    ]
}

// ---- the load -------------------------------------------------------------------------------

/// Keep-alive connections the client keeps busy.
const CONNECTIONS: usize = 16;
/// How long a warm-up phase runs, which also sets how many requests the timed phase sends.
const WARM_UP: Duration = Duration::from_millis(300);
/// How long the timed phase should take.
const TIMED: Duration = Duration::from_millis(1500);

type HttpClient = Client<HttpConnector, Body>;

/// Sends `total` requests of `scenario` over `CONNECTIONS` concurrent tasks (or until
/// `deadline`), checking every reply; returns how many were sent.
async fn load(
    client: &HttpClient,
    addr: SocketAddr,
    scenario: &Scenario,
    total: usize,
    deadline: Option<Instant>,
) -> usize {
    let next = Arc::new(AtomicU64::new(0));
    let uri: axum::http::Uri = format!("http://{addr}{}", scenario.path).parse().unwrap();
    let bodies = Arc::new(scenario.bodies.clone());
    let tasks: Vec<_> = (0..CONNECTIONS)
        .map(|_| {
            let (client, next, uri, bodies) =
                (client.clone(), next.clone(), uri.clone(), bodies.clone());
            let content_type = scenario.content_type;
            tokio::spawn(async move {
                let mut sent = 0;
                loop {
                    let i = next.fetch_add(1, Relaxed) as usize;
                    if i >= total || deadline.is_some_and(|d| Instant::now() >= d) {
                        return sent;
                    }
                    let (body, expected) = &bodies[i % bodies.len()];
                    let request = Request::post(uri.clone())
                        .header(CONTENT_TYPE, content_type)
                        .header(ACCEPT, "*/*")
                        .body(Body::from(body.clone()))
                        .unwrap();
                    let response = client.request(request).await.expect("the server answers");
                    let status = response.status();
                    let reply = response.into_body().collect().await.unwrap().to_bytes();
                    assert_eq!(
                        status,
                        StatusCode::OK,
                        "{}",
                        String::from_utf8_lossy(&reply)
                    );
                    assert!(
                        reply == *expected,
                        "reply {i} differs from the expected bytes"
                    );
                    sent += 1;
                }
            })
        })
        .collect();
    let mut sent = 0;
    for task in tasks {
        sent += task.await.unwrap();
    }
    sent
}

/// One measurement: requests per second and server allocations per request.
#[derive(Clone, Copy)]
struct Measured {
    rps: f64,
    allocations: f64,
}

async fn measure(client: &HttpClient, addr: SocketAddr, scenario: &Scenario) -> Measured {
    let start = Instant::now();
    let warm = load(client, addr, scenario, usize::MAX, Some(start + WARM_UP)).await;
    let rate = warm as f64 / start.elapsed().as_secs_f64();
    let total = ((rate * TIMED.as_secs_f64()) as usize).max(50);
    let allocations = SERVER_ALLOCATIONS.load(Relaxed);
    let start = Instant::now();
    let sent = load(client, addr, scenario, total, None).await;
    let elapsed = start.elapsed();
    let allocations = SERVER_ALLOCATIONS.load(Relaxed) - allocations;
    assert_eq!(sent, total);
    Measured {
        rps: sent as f64 / elapsed.as_secs_f64(),
        allocations: allocations as f64 / sent as f64,
    }
}

/// The handler's work alone, in microseconds per request (median of 5 batches).
fn handler_micros(scenario: &Scenario) -> f64 {
    let (body, _) = &scenario.bodies[0];
    let once = Instant::now();
    black_box((scenario.handler)(body));
    let per_batch = (Duration::from_millis(20).as_nanos() / once.elapsed().as_nanos().max(1))
        .clamp(1, 100_000) as usize;
    let mut samples: Vec<f64> = (0..5)
        .map(|_| {
            let start = Instant::now();
            for i in 0..per_batch {
                let (body, _) = &scenario.bodies[i % scenario.bodies.len()];
                black_box((scenario.handler)(black_box(body)));
            }
            start.elapsed().as_secs_f64() * 1e6 / per_batch as f64
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    samples[2]
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

fn main() {
    let mut rounds = 3;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--rounds" => {
                rounds = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .filter(|&n| n > 0)
                    .expect("--rounds takes a positive number");
            }
            // `cargo bench` passes `--bench`; filters are not supported.
            "--bench" => {}
            other => panic!("unknown argument {other:?} (expected --rounds N)"),
        }
    }

    let chat = messages::chat_messages(SEED, 64);
    let logs = Logs::generate(&mut Rng::new(SEED), 1000);
    let mut scenarios = echo_scenarios("chat", chat);
    scenarios.extend(echo_scenarios("log", vec![logs.clone()]));
    scenarios.extend(ingest_scenarios(&logs));

    let server = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .on_thread_start(|| SERVER_THREAD.set(true))
        .enable_all()
        .build()
        .unwrap();
    let listener = server
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    server.spawn(async move { axum::serve(listener, app()).await.unwrap() });

    let client_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let client: HttpClient = Client::builder(TokioExecutor::new()).build_http();

    println!(
        "zerocodec-axum against axum's Json<T> over HTTP/1.1 on {addr}: {CONNECTIONS} keep-alive \
         connections, server and client on one worker thread each, {rounds} rounds (medians)"
    );
    let mut results: Vec<Vec<Measured>> = vec![Vec::new(); scenarios.len()];
    for round in 0..rounds {
        for (scenario, results) in scenarios.iter().zip(&mut results) {
            results.push(client_rt.block_on(measure(&client, addr, scenario)));
        }
        eprintln!("round {} of {rounds} done", round + 1);
    }

    println!();
    println!(
        "| dataset | op | server | request bytes | reply bytes | requests/s | vs axum Json | \
         allocations/request | handler µs | handler share of server time |"
    );
    println!("|---|---|---|---:|---:|---:|---:|---:|---:|---:|");
    let mut baseline = 0.0;
    for (scenario, results) in scenarios.iter().zip(&results) {
        let rps = median(results.iter().map(|m| m.rps).collect());
        let allocations = median(results.iter().map(|m| m.allocations).collect());
        if scenario.variant.starts_with("axum") {
            baseline = rps;
        }
        let handler = handler_micros(scenario);
        let (body, reply) = &scenario.bodies[0];
        println!(
            "| {} | {} | {} | {} | {} | {:.0} | {:.2}x | {:.1} | {:.1} | {:.0}% |",
            scenario.dataset,
            scenario.op,
            scenario.variant,
            body.len(),
            reply.len(),
            rps,
            rps / baseline,
            allocations,
            handler,
            handler * rps / 1e6 * 100.0,
        );
    }
    drop(client);
    client_rt.shutdown_timeout(Duration::from_secs(1));
    server.shutdown_timeout(Duration::from_secs(1));
}
