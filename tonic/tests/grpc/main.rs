//! The grpc example's chat service on a real tonic server and client over 127.0.0.1: every
//! method, concurrent clients, bad messages of every kind, a deadline mid-stream, and both
//! kinds of compression; and (`kinds.rs`) every kind of method `service!` makes. Every test
//! is bounded by a timeout. One test binary, so tonic's generic code is compiled once.

#[path = "../../examples/grpc/chat.rs"]
mod chat;
mod kinds;

use std::collections::HashSet;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use bytes::{Buf, BufMut, Bytes};
use chat::{ChatClient, Entry, HistoryRequest, LegacyClient, Post};
use futures::StreamExt;
use tonic::codec::{Codec, CompressionEncoding, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::transport::Channel;
use tonic::{Code, Request, Status};
use zerocodec::prelude::*;
use zerocodec_codecs::{
    Compression, DictionaryRegistry, HybridCodec, Policy, RkyvCodec, ZstdDictionary,
};
use zerocodec_tonic::FrameOptions;

/// The bound on each test: a hang fails instead of stalling CI.
const LIMIT: Duration = Duration::from_secs(60);
/// tonic's limit on a received message, for the servers here.
const MAX_MESSAGE: usize = 256 * 1024;

async fn bounded<F: Future<Output = ()>>(test: F) {
    tokio::time::timeout(LIMIT, test)
        .await
        .expect("the test did not finish within its time limit");
}

async fn server(frames: FrameOptions) -> chat::Server {
    chat::start("127.0.0.1:0", frames, MAX_MESSAGE)
        .await
        .expect("bind 127.0.0.1:0")
}

async fn client(addr: SocketAddr) -> ChatClient<Channel> {
    ChatClient::new(chat::channel(addr).await.expect("connect"))
}

fn post(room: &str, sender: &str, content: &str) -> Post {
    Post {
        room: room.into(),
        sender: sender.into(),
        content: content.into(),
    }
}

fn query(room: &str, limit: u32) -> HistoryRequest {
    HistoryRequest {
        room: room.into(),
        limit,
        follow: false,
    }
}

async fn history(client: &mut ChatClient<Channel>, room: &str, limit: u32) -> Vec<Entry> {
    let stream = client
        .history(query(room, limit))
        .await
        .unwrap()
        .into_inner();
    stream.map(|entry| entry.unwrap()).collect().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_method_round_trips_and_legacy_json_clients_are_answered_in_json() {
    bounded(async {
        let server = server(FrameOptions::new()).await;
        let mut modern = client(server.addr).await;

        let first = modern
            .post(post("r", "ada", "one"))
            .await
            .unwrap()
            .into_inner();
        let posts = (0..3).map(|i| post("r", "ada", &format!("live {i}")));
        let live: Vec<Entry> = modern
            .live(futures::stream::iter(posts))
            .await
            .unwrap()
            .into_inner()
            .map(|entry| entry.unwrap())
            .collect()
            .await;
        assert_eq!(
            live.iter().map(|e| e.content.as_str()).collect::<Vec<_>>(),
            ["live 0", "live 1", "live 2"]
        );
        assert!(live.iter().all(|e| e.id > first.id && e.sender == "ada"));

        // The legacy client sends JSON and reads JSON: the same server, the same paths.
        let mut legacy = LegacyClient::new(chat::channel(server.addr).await.unwrap());
        let legacy_posted = legacy.post(post("r", "grace", "json")).await.unwrap();
        let legacy_history = legacy.history(query("r", 2)).await.unwrap();
        assert_eq!(
            legacy_history
                .iter()
                .map(|e| e.content.as_str())
                .collect::<Vec<_>>(),
            ["live 2", "json"]
        );
        assert_eq!(legacy_history[1].id, legacy_posted.id);

        let all = history(&mut modern, "r", 100).await;
        assert_eq!(all.len(), 5);
        assert_eq!(all[0].id, first.id);
        assert!(all.windows(2).all(|w| w[0].id < w[1].id));
        assert_eq!(all[4], legacy_history[1]);
        assert_eq!(history(&mut modern, "nobody", 10).await, []);

        // An empty message is refused by the handler, not the codec.
        let status = modern.post(post("r", "ada", "")).await.unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument);
        assert_eq!(status.message(), "empty message");
        assert_eq!(server.stats.posts.load(Relaxed), 5);
        server.task.abort();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_concurrent_clients_make_a_thousand_calls_each() {
    const CLIENTS: usize = 4;
    const CALLS: usize = 1_000;
    bounded(async {
        let server = server(FrameOptions::new()).await;
        let tasks: Vec<_> = (0..CLIENTS)
            .map(|c| {
                let addr = server.addr;
                tokio::spawn(async move {
                    let mut client = client(addr).await;
                    let room = format!("room-{c}");
                    let mut ids = Vec::with_capacity(CALLS);
                    for i in 0..CALLS {
                        let posted = client
                            .post(post(&room, &format!("client-{c}"), &format!("message {i}")))
                            .await
                            .unwrap()
                            .into_inner();
                        ids.push(posted.id);
                    }
                    // Every post is stored, in order, with the id its reply named.
                    let stored = history(&mut client, &room, CALLS as u32).await;
                    assert_eq!(stored.len(), CALLS);
                    for (i, (entry, id)) in stored.iter().zip(&ids).enumerate() {
                        assert_eq!(entry.id, *id);
                        assert_eq!(entry.content, format!("message {i}"));
                        assert_eq!(entry.sender, format!("client-{c}"));
                    }
                    ids
                })
            })
            .collect();
        let mut all = HashSet::new();
        for task in tasks {
            for id in task.await.unwrap() {
                assert!(all.insert(id), "id {id} was given twice");
            }
        }
        assert_eq!(all.len(), CLIENTS * CALLS);
        assert_eq!(server.stats.posts.load(Relaxed), (CLIENTS * CALLS) as u64);
        server.task.abort();
    })
    .await;
}

/// Sends raw message bytes: what a broken or hostile client can put on the wire.
#[derive(Clone, Copy, Default)]
struct RawCodec;

impl Codec for RawCodec {
    type Encode = Bytes;
    type Decode = Bytes;
    type Encoder = RawCodec;
    type Decoder = RawCodec;

    fn encoder(&mut self) -> RawCodec {
        RawCodec
    }

    fn decoder(&mut self) -> RawCodec {
        RawCodec
    }
}

impl Encoder for RawCodec {
    type Item = Bytes;
    type Error = Status;

    fn encode(&mut self, item: Bytes, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.put(item);
        Ok(())
    }
}

impl Decoder for RawCodec {
    type Item = Bytes;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Bytes>, Status> {
        Ok(Some(src.copy_to_bytes(src.remaining())))
    }
}

/// Calls `post` with `body` as the message.
async fn raw_post(addr: SocketAddr, body: impl Into<Bytes>) -> Result<Bytes, Status> {
    let mut grpc = tonic::client::Grpc::new(chat::channel(addr).await.unwrap());
    grpc.ready().await.unwrap();
    let path = tonic::codegen::http::uri::PathAndQuery::from_static("/chat.Chat/post");
    grpc.unary(Request::new(body.into()), path, RawCodec)
        .await
        .map(tonic::Response::into_inner)
}

/// A good call on a connection that stayed open while the bad ones were refused.
async fn still_serving(good: &mut ChatClient<Channel>) {
    good.post(post("ok", "ada", "still here")).await.unwrap();
}

fn expect_status(result: Result<Bytes, Status>, code: Code, needles: &[&str]) -> Status {
    let status = result.expect_err("the server accepted a bad message");
    assert_eq!(status.code(), code, "{status:?}");
    for needle in needles {
        assert!(
            status.message().contains(needle),
            "{:?} does not say {needle:?}",
            status.message()
        );
    }
    status
}

/// Text that zstd compresses well, but less than the ratio limit (64) allows.
fn compressible_text(len: usize) -> String {
    let mut text = String::with_capacity(len + 32);
    let mut i = 0u64;
    while text.len() < len {
        i = i
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        text.push_str("the quick brown fox jumps over the lazy dog ");
        text.push_str(&((i >> 40) % 100).to_string());
        text.push(' ');
    }
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_messages_get_their_status_and_the_server_keeps_serving() {
    bounded(async {
        let policy = Policy::new().with_max_decompressed_len(1 << 20);
        let server = server(FrameOptions::new().with_policy(policy)).await;
        let addr = server.addr;
        // A well-behaved client stays connected throughout.
        let mut good = client(addr).await;

        // Garbage: neither a frame nor JSON.
        let status = expect_status(
            raw_post(addr, &b"\x00\x01\x02 not a message"[..]).await,
            Code::InvalidArgument,
            &["corrupt", "neither a frame", "chat.Post"],
        );
        assert!(!status.message().contains("0x7f"), "{}", status.message());
        still_serving(&mut good).await;

        // Truncated frame.
        let frame = HybridCodec::<Post>::new()
            .encode(&post("r", "a", "cut"))
            .unwrap();
        expect_status(
            raw_post(addr, frame.slice(..frame.len() - 3)).await,
            Code::InvalidArgument,
            &["incomplete"],
        );
        still_serving(&mut good).await;

        // A frame of another message type, named by its type.
        let other = HybridCodec::<HistoryRequest>::new()
            .encode(&query("r", 1))
            .unwrap();
        expect_status(
            raw_post(addr, other).await,
            Code::InvalidArgument,
            &[
                "type mismatch",
                "expected `chat.Post`",
                "the frame holds a `chat.HistoryRequest`",
            ],
        );
        // A response type sent as a request is named too.
        let foreign = HybridCodec::<Entry>::new()
            .encode(&Entry {
                id: 1,
                room: "r".into(),
                sender: "s".into(),
                content: "c".into(),
                timestamp: 0,
            })
            .unwrap();
        expect_status(
            raw_post(addr, foreign).await,
            Code::InvalidArgument,
            &["the frame holds a `chat.Entry`"],
        );
        still_serving(&mut good).await;

        // A compression bomb: 8 MiB of one letter in a frame of a few hundred bytes. The
        // writer allowed it; the server's ratio limit refuses it before allocating.
        let bomb_writer = HybridCodec::<Post>::new()
            .with_compression(Compression::zstd())
            .with_policy(
                Policy::new()
                    .with_max_ratio(1 << 20)
                    .with_max_decompressed_len(1 << 30),
            );
        let bomb = bomb_writer
            .encode(&post("r", "mallory", &"a".repeat(8 << 20)))
            .unwrap();
        assert!(bomb.len() < 4096, "{}", bomb.len());
        expect_status(
            raw_post(addr, bomb).await,
            Code::ResourceExhausted,
            &["too large"],
        );
        still_serving(&mut good).await;

        // A frame that decompresses past the server's 1 MiB limit at a modest ratio.
        let big_writer = HybridCodec::<Post>::new()
            .with_compression(Compression::zstd())
            .with_policy(Policy::new().with_max_decompressed_len(1 << 30));
        let big = big_writer
            .encode(&post("r", "mallory", &compressible_text(2 << 20)))
            .unwrap();
        assert!(
            big.len() < MAX_MESSAGE && big.len() > (2 << 20) / 64,
            "{}",
            big.len()
        );
        expect_status(
            raw_post(addr, big).await,
            Code::ResourceExhausted,
            &["too large", "1048576"],
        );
        still_serving(&mut good).await;

        // An oversized message is tonic's to refuse, before it is buffered (tonic answers
        // `OutOfRange`).
        let oversized = HybridCodec::<Post>::new()
            .encode(&post("r", "mallory", &"b".repeat(MAX_MESSAGE)))
            .unwrap();
        expect_status(
            raw_post(addr, oversized).await,
            Code::OutOfRange,
            &["too large"],
        );
        still_serving(&mut good).await;

        // A frame compressed with a dictionary the server does not have.
        let samples: Vec<Post> = (0..300)
            .map(|i| {
                post(
                    &format!("room-{}", i % 7),
                    "ada",
                    &format!("sample message {i}"),
                )
            })
            .collect();
        let dictionary = ZstdDictionary::train_with(&RkyvCodec::new(), &samples, 4096).unwrap();
        let with_dictionary = HybridCodec::<Post>::new()
            .with_compression(Compression::zstd_dict(dictionary, 3).unwrap())
            .with_policy(Policy::new().with_min_size(16));
        let frame = with_dictionary.encode(&samples[1]).unwrap();
        expect_status(
            raw_post(addr, frame).await,
            Code::FailedPrecondition,
            &["unknown dictionary"],
        );
        still_serving(&mut good).await;

        // Malformed legacy JSON.
        expect_status(
            raw_post(addr, &br#"{"room": "r", "sender": 7}"#[..]).await,
            Code::InvalidArgument,
            &["chat.Post"],
        );
        still_serving(&mut good).await;

        // A path the service does not have.
        let mut grpc = tonic::client::Grpc::new(chat::channel(addr).await.unwrap());
        grpc.ready().await.unwrap();
        let path = tonic::codegen::http::uri::PathAndQuery::from_static("/chat.Chat/delete");
        let status = grpc
            .unary(Request::new(Bytes::from_static(b"x")), path, RawCodec)
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::Unimplemented);

        // A bad message in the middle of a bidirectional call ends that call with its status
        // after answering the good ones.
        let good_frame = HybridCodec::<Post>::new()
            .encode(&post("r", "ada", "fine"))
            .unwrap();
        let wrong_frame = HybridCodec::<HistoryRequest>::new()
            .encode(&query("r", 1))
            .unwrap();
        let path = tonic::codegen::http::uri::PathAndQuery::from_static("/chat.Chat/live");
        grpc.ready().await.unwrap();
        let mut answers = grpc
            .streaming(
                Request::new(futures::stream::iter([
                    good_frame.clone(),
                    wrong_frame,
                    good_frame,
                ])),
                path,
                RawCodec,
            )
            .await
            .unwrap()
            .into_inner();
        let first = answers
            .message()
            .await
            .unwrap()
            .expect("the first post's entry");
        let entry = HybridCodec::<Entry>::new().decode(&first).unwrap();
        assert_eq!(entry.content, "fine");
        let status = answers.message().await.unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument);
        assert!(
            status.message().contains("chat.HistoryRequest"),
            "{status:?}"
        );
        still_serving(&mut good).await;

        assert_eq!(history(&mut good, "ok", 100).await.len(), 9);
        server.task.abort();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deadline_that_passes_mid_stream_ends_the_stream_on_both_sides() {
    bounded(async {
        let server = server(FrameOptions::new()).await;
        let mut poster = client(server.addr).await;
        poster.post(post("watched", "ada", "before")).await.unwrap();

        let mut follower = client(server.addr).await;
        let mut request = Request::new(HistoryRequest {
            room: "watched".into(),
            limit: 10,
            follow: true,
        });
        // Long enough for the two messages below on a loaded machine; the stream then idles.
        request.set_timeout(Duration::from_millis(1500));
        let mut stream = follower.history(request).await.unwrap().into_inner();
        let first = stream.message().await.unwrap().unwrap();
        assert_eq!(first.content, "before");

        // Posted while the stream is open: followed live.
        poster.post(post("watched", "ada", "during")).await.unwrap();
        poster
            .post(post("elsewhere", "ada", "not followed"))
            .await
            .unwrap();
        let second = stream.message().await.unwrap().unwrap();
        assert_eq!(second.content, "during");

        // Then nothing comes until the deadline, which ends the stream with its status.
        let status = stream.message().await.unwrap_err();
        assert_eq!(status.code(), Code::DeadlineExceeded, "{status:?}");
        assert_eq!(server.stats.deadlines.load(Relaxed), 1);

        // A follower that hangs up is noticed too, and the server serves on.
        let mut request = Request::new(HistoryRequest {
            room: "watched".into(),
            limit: 1,
            follow: true,
        });
        request.set_timeout(Duration::from_secs(30));
        let mut stream = follower.history(request).await.unwrap().into_inner();
        assert_eq!(stream.message().await.unwrap().unwrap().content, "during");
        drop(stream);
        poster.post(post("watched", "ada", "after")).await.unwrap();
        while server.stats.hangups.load(Relaxed) == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert_eq!(history(&mut poster, "watched", 10).await.len(), 3);
        server.task.abort();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dictionaries_and_tonic_s_zstd_work_side_by_side() {
    bounded(async {
        let samples: Vec<Post> = (0..500)
            .map(|i| {
                post(
                    &format!("room-{}", i % 5),
                    "ada",
                    &format!("message number {i}"),
                )
            })
            .collect();
        let dictionary = ZstdDictionary::train_with(&RkyvCodec::new(), &samples, 4096).unwrap();
        let registry = DictionaryRegistry::new();
        registry.insert(dictionary);
        // The server reads the dictionary from its registry; the client writes with it.
        let server = server(FrameOptions::new().with_dictionaries(registry.clone())).await;
        let dictionary = registry.get(registry.ids()[0]).unwrap();
        let frames = FrameOptions::new()
            .with_compression(Compression::zstd_dict(dictionary, 3).unwrap())
            .with_policy(Policy::new().with_min_size(16));

        let channel = chat::channel(server.addr).await.unwrap();
        let mut ours = ChatClient::new(channel.clone()).with_frames(frames.clone());
        let mut both = ChatClient::new(channel.clone())
            .with_frames(frames)
            .send_compressed(CompressionEncoding::Zstd)
            .accept_compressed(CompressionEncoding::Zstd);
        let mut theirs = ChatClient::new(channel)
            .send_compressed(CompressionEncoding::Zstd)
            .accept_compressed(CompressionEncoding::Zstd);
        for (i, sample) in samples.iter().take(30).enumerate() {
            let client = match i % 3 {
                0 => &mut ours,
                1 => &mut both,
                _ => &mut theirs,
            };
            client.post(sample.clone()).await.unwrap();
        }
        let read = history(&mut theirs, "room-0", 100).await;
        assert_eq!(read.len(), 6);
        assert!(read.iter().all(|e| e.room == "room-0"));
        let live: Vec<Entry> = both
            .live(futures::stream::iter(samples[30..40].to_vec()))
            .await
            .unwrap()
            .into_inner()
            .map(|entry| entry.unwrap())
            .collect()
            .await;
        assert_eq!(live.len(), 10);
        assert_eq!(live[9].content, "message number 39");
        assert_eq!(server.stats.posts.load(Relaxed), 40);
        server.task.abort();
    })
    .await;
}
