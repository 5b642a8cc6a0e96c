//! The extractors and `Reply` behind a real axum server on 127.0.0.1, driven by a real HTTP
//! client (hyper-util's): both formats each way, every rejection with its status and body,
//! bombs and oversized bodies, and 1,000 concurrent requests.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, FromRequest};
use axum::http::header::{ACCEPT, CONTENT_TYPE, VARY};
use axum::http::{HeaderMap, HeaderValue, Method, Request, StatusCode};
use axum::routing::{get, post};
use bytes::Bytes;
use http_body_util::BodyExt;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use zerocodec::prelude::*;
use zerocodec_axum::{Format, Hybrid, HybridArchive, Reply, ResponseFormat};
use zerocodec_codecs::{Compression, HybridCodec, JsonCodec, Policy, RkyvCodec};
use zerocodec_datasets::{ChatMessage, SEED, messages};

/// Every test is bounded in time: a hang fails instead of stalling CI.
const LIMIT: Duration = Duration::from_secs(60);

const JSON: &str = "application/json";
const FRAME: &str = "application/vnd.zerocodec";
const TEXT: &str = "text/plain; charset=utf-8";

/// A message of another type, for fingerprint mismatches.
#[zerocodec::message]
#[derive(Debug, PartialEq)]
struct Other {
    id: String,
}

async fn echo(format: ResponseFormat, Hybrid(msg): Hybrid<ChatMessage>) -> Reply<ChatMessage> {
    format.reply(msg)
}

/// Echoes the archived view (deserialized for the reply), saying whether it shared the body.
async fn echo_archive(
    format: ResponseFormat,
    archive: HybridArchive<ChatMessage>,
) -> ([(&'static str, &'static str); 1], Reply<ChatMessage>) {
    let shared = if archive.is_shared() { "yes" } else { "no" };
    let msg = archive
        .deserialize()
        .expect("a validated archive deserializes");
    ([("x-shared", shared)], format.reply(msg))
}

async fn optional(body: Option<Hybrid<ChatMessage>>) -> String {
    match body {
        Some(Hybrid(msg)) => msg.id,
        None => "none".to_owned(),
    }
}

async fn fixed(format: ResponseFormat) -> Reply<ChatMessage> {
    format.reply(chat(0))
}

fn app() -> Router {
    Router::new()
        .route("/echo", post(echo))
        .route("/archive", post(echo_archive))
        .route("/optional", post(optional))
        .route("/fixed", get(fixed))
        .route(
            "/small",
            post(echo).layer(DefaultBodyLimit::max(SMALL_LIMIT)),
        )
}

const SMALL_LIMIT: usize = 1024;

fn chat(i: usize) -> ChatMessage {
    let mut msg = messages::chat_messages(SEED ^ i as u64, 1).remove(0);
    msg.id = format!("msg-{i}");
    msg
}

/// Serves `app()` on an ephemeral port of 127.0.0.1 until the test's runtime ends.
async fn serve() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app()).await.unwrap() });
    addr
}

type HttpClient = Client<HttpConnector, Body>;

fn client() -> HttpClient {
    Client::builder(TokioExecutor::new()).build_http()
}

/// A reply: status, headers and the whole body.
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl Answer {
    fn content_type(&self) -> &str {
        self.headers
            .get(CONTENT_TYPE)
            .map_or("", |v| v.to_str().unwrap())
    }

    fn text(&self) -> &str {
        std::str::from_utf8(&self.body).unwrap()
    }

    /// The message in the body, read as its `Content-Type` says.
    fn message(&self) -> ChatMessage {
        assert_eq!(
            self.status,
            StatusCode::OK,
            "{}",
            String::from_utf8_lossy(&self.body)
        );
        match self.content_type() {
            JSON => JsonCodec::new().decode(&self.body).unwrap(),
            FRAME => HybridCodec::new().decode(&self.body).unwrap(),
            other => panic!("unexpected content type {other:?}"),
        }
    }

    /// Asserts a plain-text refusal with `status` whose body contains each of `needles`.
    fn assert_refused(&self, status: u16, needles: &[&str]) {
        assert_eq!(self.status.as_u16(), status, "{}", self.text());
        assert_eq!(self.content_type(), TEXT);
        for needle in needles {
            assert!(
                self.text().contains(needle),
                "{:?} does not contain {needle:?}",
                self.text()
            );
        }
    }
}

/// Sends an oversized request and returns the server's answer.
///
/// HTTP/1.1 lets a server answer before it has read the whole body and then close the
/// connection; the client can meet that close while still writing the body (a broken pipe)
/// before it reads the answer. That race is the client's, not the server's, so a request
/// whose write was cut short is sent again, on a fresh connection, until the answer is read.
async fn send_oversized(request: impl Fn() -> Request<Body>) -> Answer {
    const ATTEMPTS: usize = 20;
    let mut last = None;
    for _ in 0..ATTEMPTS {
        match client().request(request()).await {
            Ok(response) => {
                let (parts, body) = response.into_parts();
                let body = body.collect().await.expect("the body arrives").to_bytes();
                return Answer {
                    status: parts.status,
                    headers: parts.headers,
                    body,
                };
            }
            Err(err) => last = Some(err),
        }
    }
    panic!("no answer to an oversized request in {ATTEMPTS} attempts: {last:?}");
}

async fn send(client: &HttpClient, request: Request<Body>) -> Answer {
    let response = client
        .request(request)
        .await
        .expect("the request is answered");
    let (parts, body) = response.into_parts();
    let body = body.collect().await.expect("the body arrives").to_bytes();
    Answer {
        status: parts.status,
        headers: parts.headers,
        body,
    }
}

/// A POST to `path` with `body` labelled `content_type` (none when `None`) and `accept`.
fn post_to(
    addr: SocketAddr,
    path: &str,
    content_type: Option<&str>,
    accept: Option<&str>,
    body: impl Into<Bytes>,
) -> Request<Body> {
    let mut request = Request::builder()
        .method(Method::POST)
        .uri(format!("http://{addr}{path}"));
    if let Some(content_type) = content_type {
        request = request.header(CONTENT_TYPE, content_type);
    }
    if let Some(accept) = accept {
        request = request.header(ACCEPT, accept);
    }
    request.body(Body::from(body.into())).unwrap()
}

fn json(msg: &ChatMessage) -> Bytes {
    JsonCodec::new().encode(msg).unwrap()
}

fn frame(msg: &ChatMessage) -> Bytes {
    HybridCodec::new().encode(msg).unwrap()
}

async fn run<F: Future<Output = ()>>(test: F) {
    tokio::time::timeout(LIMIT, test)
        .await
        .expect("the test finished within its time limit");
}

/// A request that must be refused: path, content type, accept, body; then the status and
/// what the reply's body says.
type Refusal<'a> = (
    &'a str,
    Option<&'a str>,
    Option<&'a str>,
    Bytes,
    u16,
    Vec<&'a str>,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_in_json_out() {
    run(async {
        let addr = serve().await;
        let client = client();
        let msg = chat(1);
        for path in ["/echo", "/archive"] {
            let answer = send(&client, post_to(addr, path, Some(JSON), None, json(&msg))).await;
            assert_eq!(answer.content_type(), JSON);
            assert_eq!(answer.headers[VARY], "accept");
            assert_eq!(answer.message(), msg);
            // Byte for byte what serde_json writes.
            assert_eq!(answer.body, serde_json::to_vec(&msg).unwrap());
        }
        // `+json` types and parameters are JSON too.
        for content_type in ["application/json; charset=utf-8", "application/chat+json"] {
            let request = post_to(addr, "/echo", Some(content_type), None, json(&msg));
            let answer = send(&client, request).await;
            assert_eq!(answer.content_type(), JSON);
            assert_eq!(answer.message(), msg);
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn frame_in_frame_out() {
    run(async {
        let addr = serve().await;
        let client = client();
        let msg = chat(2);
        for path in ["/echo", "/archive"] {
            let answer = send(&client, post_to(addr, path, Some(FRAME), None, frame(&msg))).await;
            assert_eq!(answer.content_type(), FRAME);
            assert_eq!(answer.message(), msg);
            // The reply is the frame a default `HybridCodec` writes.
            assert_eq!(answer.body, frame(&msg));
        }
        // Compressed frames, and frames with a JSON payload, are frames too.
        let writers = [
            HybridCodec::new().with_compression(Compression::Lz4),
            HybridCodec::new().with_compression(Compression::zstd()),
            HybridCodec::new().with_primary(zerocodec_codecs::Primary::Json),
            HybridCodec::new().with_checksum(true),
        ];
        for writer in writers {
            for path in ["/echo", "/archive"] {
                let body = writer.encode(&msg).unwrap();
                let answer = send(&client, post_to(addr, path, Some(FRAME), None, body)).await;
                assert_eq!(answer.content_type(), FRAME);
                assert_eq!(answer.message(), msg, "{writer:?} to {path}");
            }
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reply_format_follows_accept() {
    run(async {
        let addr = serve().await;
        let client = client();
        let msg = chat(3);
        let cases = [
            // (request format, Accept, reply format)
            (
                JSON,
                "application/json;q=0.5, application/vnd.zerocodec",
                FRAME,
            ),
            (JSON, FRAME, FRAME),
            (FRAME, JSON, JSON),
            (
                FRAME,
                "application/vnd.zerocodec;q=0.1, application/json;q=0.2",
                JSON,
            ),
            (FRAME, "*/*", FRAME),
            (JSON, "*/*", JSON),
            (FRAME, "application/*, application/json;q=0", FRAME),
        ];
        for (content_type, accept, expected) in cases {
            for path in ["/echo", "/archive"] {
                let body = if content_type == JSON {
                    json(&msg)
                } else {
                    frame(&msg)
                };
                let request = post_to(addr, path, Some(content_type), Some(accept), body);
                let answer = send(&client, request).await;
                assert_eq!(answer.content_type(), expected, "{content_type} + {accept}");
                assert_eq!(answer.headers[VARY], "accept");
                assert_eq!(answer.message(), msg);
            }
        }
        // Without a body, Accept alone decides, and JSON when it does not.
        for (accept, expected) in [(None, JSON), (Some("*/*"), JSON), (Some(FRAME), FRAME)] {
            let mut request = Request::get(format!("http://{addr}/fixed"));
            if let Some(accept) = accept {
                request = request.header(ACCEPT, accept);
            }
            let answer = send(&client, request.body(Body::empty()).unwrap()).await;
            assert_eq!(answer.content_type(), expected, "{accept:?}");
            assert_eq!(answer.message(), chat(0));
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_rejection_has_its_status_and_a_clear_body() {
    run(async {
        let addr = serve().await;
        let client = client();
        let msg = chat(4);
        let good = frame(&msg);
        let other = HybridCodec::new()
            .encode(&Other { id: "x".into() })
            .unwrap();
        let mut unknown_version = good.to_vec();
        unknown_version[1] = 9;
        let mut unknown_codec = good.to_vec();
        unknown_codec[2] = 200;
        let mut unknown_compression = HybridCodec::new()
            .with_compression(Compression::zstd())
            .with_policy(Policy::new().with_min_size(0).with_min_saving_percent(0))
            .encode(&chat(5))
            .unwrap()
            .to_vec();
        assert_eq!(
            unknown_compression[3] & 0x08,
            0x08,
            "the frame is compressed"
        );
        unknown_compression[4] = 77;
        let mut corrupt_payload = good.to_vec();
        let len = corrupt_payload.len();
        corrupt_payload[len - 4..].copy_from_slice(&0x7fff_fff0_u32.to_le_bytes());
        let rkyv_archive = RkyvCodec::new().encode(&msg).unwrap();

        // (path, content type, accept, body, status, what the body says)
        let cases: Vec<Refusal<'_>> = vec![
            (
                "/echo",
                None,
                None,
                json(&msg),
                415,
                vec![
                    "Expected request with `Content-Type: application/json`",
                    "found no Content-Type",
                ],
            ),
            (
                "/echo",
                Some("text/plain"),
                None,
                json(&msg),
                415,
                vec![
                    "`Content-Type: application/vnd.zerocodec`",
                    "found `Content-Type: text/plain`",
                ],
            ),
            (
                "/archive",
                Some("application/x-rkyv"),
                None,
                rkyv_archive,
                415,
                vec!["found `Content-Type: application/x-rkyv`"],
            ),
            (
                "/echo",
                Some("application/vnd.zerocodec.batch"),
                None,
                good.clone(),
                415,
                vec!["found `Content-Type: application/vnd.zerocodec.batch`"],
            ),
            (
                "/echo",
                Some(JSON),
                None,
                Bytes::from_static(b"{\"id\": \"msg-1\", \"content\""),
                400,
                vec![
                    "Failed to decode the application/json request body",
                    "incomplete",
                    "truncated JSON",
                ],
            ),
            (
                "/archive",
                Some(JSON),
                None,
                Bytes::from_static(b"{\"id\" 1}"),
                400,
                vec!["corrupt", "invalid JSON", "`ChatMessage`"],
            ),
            (
                "/echo",
                Some(JSON),
                None,
                Bytes::from_static(b"{\"id\": \"msg-1\"}"),
                422,
                vec![
                    "type mismatch",
                    "JSON of another shape",
                    "`ChatMessage`",
                    "missing field `content`",
                ],
            ),
            (
                "/archive",
                Some(JSON),
                None,
                Bytes::from_static(b"[1, 2, 3]"),
                422,
                vec!["JSON of another shape"],
            ),
            (
                "/echo",
                Some(FRAME),
                None,
                json(&msg),
                400,
                vec![
                    "Failed to decode the application/vnd.zerocodec request body",
                    "expected a zerocodec frame, whose first byte is the magic 0xfa, found 0x7b",
                    "JSON is sent as `Content-Type: application/json`",
                ],
            ),
            (
                "/archive",
                Some(FRAME),
                None,
                Bytes::new(),
                400,
                vec!["empty body: expected a zerocodec frame"],
            ),
            (
                "/echo",
                Some(FRAME),
                None,
                good.slice(..good.len() / 2),
                400,
                vec!["incomplete"],
            ),
            (
                "/archive",
                Some(FRAME),
                None,
                Bytes::from(corrupt_payload),
                400,
                vec!["corrupt"],
            ),
            (
                "/echo",
                Some(FRAME),
                None,
                other.clone(),
                422,
                vec![
                    "type mismatch",
                    "written for another message type",
                    "expected `ChatMessage`",
                ],
            ),
            (
                "/archive",
                Some(FRAME),
                None,
                other,
                422,
                vec!["written for another message type"],
            ),
            (
                "/echo",
                Some(FRAME),
                None,
                Bytes::from(unknown_version),
                415,
                vec!["unknown version", "this reader reads version 2"],
            ),
            (
                "/archive",
                Some(FRAME),
                None,
                Bytes::from(unknown_codec),
                415,
                vec!["unknown codec"],
            ),
            (
                "/echo",
                Some(FRAME),
                None,
                Bytes::from(unknown_compression),
                415,
                vec!["unknown compression"],
            ),
            (
                "/small",
                Some(JSON),
                None,
                Bytes::from(vec![b' '; 4 * SMALL_LIMIT]),
                413,
                vec!["Failed to buffer the request body", "length limit exceeded"],
            ),
            (
                "/echo",
                Some(JSON),
                Some("text/html"),
                json(&msg),
                406,
                vec![
                    "accepts `application/json` or `application/vnd.zerocodec`",
                    "found `Accept: text/html`",
                ],
            ),
            (
                "/fixed",
                None,
                Some("application/json;q=0, application/vnd.zerocodec;q=0"),
                Bytes::new(),
                406,
                vec!["found `Accept: application/json;q=0, application/vnd.zerocodec;q=0`"],
            ),
        ];
        for (path, content_type, accept, body, status, needles) in cases {
            let mut request = post_to(addr, path, content_type, accept, body);
            if path == "/fixed" {
                *request.method_mut() = Method::GET;
            }
            let answer = send(&client, request).await;
            answer.assert_refused(status, &needles);
            // Refusals say what was wrong, never where in memory.
            assert!(!answer.text().contains("0x7f"), "{}", answer.text());
        }
        // Still serving.
        let answer = send(
            &client,
            post_to(addr, "/echo", Some(FRAME), None, frame(&msg)),
        )
        .await;
        assert_eq!(answer.message(), msg);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_optional_extractor_is_none_without_a_content_type() {
    run(async {
        let addr = serve().await;
        let client = client();
        let msg = chat(6);
        let answer = send(
            &client,
            post_to(addr, "/optional", None, None, Bytes::new()),
        )
        .await;
        assert_eq!((answer.status, answer.text()), (StatusCode::OK, "none"));
        let answer = send(
            &client,
            post_to(addr, "/optional", Some(FRAME), None, frame(&msg)),
        )
        .await;
        assert_eq!((answer.status, answer.text()), (StatusCode::OK, "msg-6"));
        let answer = send(
            &client,
            post_to(addr, "/optional", Some("text/csv"), None, "a,b"),
        )
        .await;
        answer.assert_refused(415, &["found `Content-Type: text/csv`"]);
        let answer = send(&client, post_to(addr, "/optional", Some(JSON), None, "{")).await;
        answer.assert_refused(400, &["truncated JSON"]);
    })
    .await;
}

/// A frame that claims far more than the reader's limits once decompressed: written by a
/// writer whose own limits were raised, in a few kilobytes.
fn bomb(compression: Compression) -> Bytes {
    let mut msg = chat(7);
    msg.content = "a".repeat(24 << 20);
    let writer = HybridCodec::new()
        .with_compression(compression)
        .with_policy(
            Policy::new()
                .with_max_decompressed_len(64 << 20)
                .with_max_ratio(1 << 20),
        );
    writer.encode(&msg).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compression_bombs_are_refused_and_the_server_stays_healthy() {
    run(async {
        let addr = serve().await;
        let client = client();
        for compression in [Compression::zstd(), Compression::Lz4] {
            let bomb = bomb(compression);
            assert!(
                bomb.len() < 2 << 20,
                "the bomb fits the body limit: {}",
                bomb.len()
            );
            for path in ["/echo", "/archive"] {
                let request = post_to(addr, path, Some(FRAME), None, bomb.clone());
                send(&client, request)
                    .await
                    .assert_refused(413, &["too large", "exceeds the limit"]);
            }
        }
        let msg = chat(8);
        let answer = send(
            &client,
            post_to(addr, "/archive", Some(FRAME), None, frame(&msg)),
        )
        .await;
        assert_eq!(answer.message(), msg);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_bodies_are_refused_and_the_server_stays_healthy() {
    run(async {
        let addr = serve().await;
        let msg = chat(9);
        let oversized = Bytes::from(vec![b' '; 3 << 20]);
        // With a Content-Length, and streamed in chunks without one.
        for path in ["/echo", "/archive"] {
            let answer =
                send_oversized(|| post_to(addr, path, Some(JSON), None, oversized.clone())).await;
            answer.assert_refused(413, &["length limit exceeded"]);

            let answer = send_oversized(|| {
                let chunks = oversized
                    .chunks(64 << 10)
                    .map(|chunk| Ok::<_, std::io::Error>(Bytes::copy_from_slice(chunk)))
                    .collect::<Vec<_>>();
                Request::post(format!("http://{addr}{path}"))
                    .header(CONTENT_TYPE, FRAME)
                    .body(Body::from_stream(futures::stream::iter(chunks)))
                    .unwrap()
            })
            .await;
            answer.assert_refused(413, &["length limit exceeded"]);
        }
        let answer = send(
            &client(),
            post_to(addr, "/echo", Some(JSON), None, json(&msg)),
        )
        .await;
        assert_eq!(answer.message(), msg);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zero_copy_shares_aligned_bodies_and_copies_others_once() {
    run(async {
        let msg = chat(10);
        let aligned = frame(&msg);
        assert!(zerocodec::archive::is_aligned(&aligned));
        let request = |body: Bytes| {
            Request::post("/")
                .header(CONTENT_TYPE, FRAME)
                .body(Body::from(body))
                .unwrap()
        };
        let shared = HybridArchive::<ChatMessage>::from_request(request(aligned.clone()), &())
            .await
            .unwrap();
        assert!(shared.is_shared());
        assert_eq!(shared.as_bytes().as_ptr(), aligned[16..].as_ptr());
        assert_eq!(shared.deserialize().unwrap(), msg);

        let mut offset = Vec::with_capacity(aligned.len() + 1);
        offset.push(0);
        offset.extend_from_slice(&aligned);
        let unaligned = Bytes::from(offset).slice(1..);
        assert!(!zerocodec::archive::is_aligned(&unaligned));
        let copied = HybridArchive::<ChatMessage>::from_request(request(unaligned), &())
            .await
            .unwrap();
        assert!(!copied.is_shared());
        assert_eq!(copied.content, msg.content);

        // A JSON body is archived once, into a pooled buffer.
        let from_json = HybridArchive::<ChatMessage>::from_request(
            Request::post("/")
                .header(CONTENT_TYPE, JSON)
                .body(Body::from(json(&msg)))
                .unwrap(),
            &(),
        )
        .await
        .unwrap();
        assert!(!from_json.is_shared());
        assert_eq!(from_json.deserialize().unwrap(), msg);
    })
    .await;
}

/// Raises this process's soft limit on open files to its hard limit, as servers do at start
/// (1,024 is a common default), and checks there is room for `needed` descriptors.
fn ensure_open_files(needed: u64) {
    #[cfg(unix)]
    {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: `getrlimit` writes one `rlimit` through the valid pointer it is given.
        if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
            return;
        }
        if limit.rlim_cur < limit.rlim_max {
            limit.rlim_cur = limit.rlim_max;
            // SAFETY: `setrlimit` reads one `rlimit` through the valid pointer it is given;
            // raising the soft limit up to the hard one needs no privilege.
            unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) };
            // SAFETY: as above.
            unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) };
        }
        #[allow(
            clippy::unnecessary_cast,
            reason = "rlim_t is u64 on Linux, i64 on some BSDs"
        )]
        let current = limit.rlim_cur as u64;
        assert!(
            current >= needed,
            "this test opens {needed} sockets, but the hard limit on open files is {}: \
             raise it (ulimit -Hn) to run it",
            limit.rlim_max
        );
    }
    #[cfg(not(unix))]
    let _ = needed;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_requests_in_both_formats_all_get_their_answers() {
    // A connection per request in flight, at both ends, beside the other tests'.
    ensure_open_files(2_500);
    run(async {
        let addr = serve().await;
        let client = client();
        let tasks: Vec<_> = (0..1000)
            .map(|i| {
                let client = client.clone();
                tokio::spawn(async move {
                    let msg = chat(1000 + i);
                    let (content_type, body) = if i % 2 == 0 {
                        (JSON, json(&msg))
                    } else {
                        (FRAME, frame(&msg))
                    };
                    let accept = match i % 3 {
                        0 => None,
                        1 => Some(JSON),
                        _ => Some(FRAME),
                    };
                    let path = if i % 5 < 3 { "/echo" } else { "/archive" };
                    let request = post_to(addr, path, Some(content_type), accept, body);
                    let answer = send(&client, request).await;
                    assert_eq!(answer.content_type(), accept.unwrap_or(content_type));
                    assert_eq!(answer.message(), msg);
                    Format::from_media_type(answer.content_type()).unwrap()
                })
            })
            .collect();
        let mut frames = 0;
        for task in tasks {
            if task.await.expect("every request succeeded") == Format::Frame {
                frames += 1;
            }
        }
        // i % 3 == 2 asks for frames; i % 3 == 0 answers in the request's format (odd i).
        let expected = (0..1000)
            .filter(|i| i % 3 == 2 || (i % 3 == 0 && i % 2 == 1))
            .count();
        assert_eq!(frames, expected);
    })
    .await;
}

#[test]
fn replies_encode_what_the_format_cannot_represent_as_500() {
    use axum::response::IntoResponse;

    #[zerocodec::message]
    struct Reading {
        value: f64,
    }

    let response = Reply::json(Reading { value: f64::NAN }).into_response();
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        response.headers()[CONTENT_TYPE],
        HeaderValue::from_static(TEXT)
    );
    let response = Reply::frame(Reading { value: f64::NAN }).into_response();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers().get(VARY).is_none());
}
