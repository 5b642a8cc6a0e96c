//! A chat service over gRPC (tonic), its messages zerocodec frames, and a legacy JSON client
//! that the same server still serves.
//!
//! - `post` (unary): the server reads the request in place, as an archived view.
//! - `history` (server streaming): a room's last messages, then, with `follow`, every new one
//!   until the call's deadline passes or the client hangs up.
//! - `live` (bidirectional): a stream of posts, each answered with the entry it was stored as.
//!
//! This file is shared by `examples/grpc/main.rs` and the integration test `tests/grpc.rs`.
#![allow(dead_code, reason = "the example and the test use different parts")]

use std::collections::HashMap;
use std::marker::PhantomData;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::{Buf, BufMut};
use futures::StreamExt;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::{broadcast, mpsc};
use tokio::task::JoinHandle;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::transport::Channel;
use tonic::transport::server::TcpIncoming;
use tonic::{Request, Response, Status, Streaming};
use zerocodec::OwnedArchive;
use zerocodec_tonic::{BoxStream, FrameOptions, service};

/// A message to post to a room.
#[zerocodec::message(name = "chat.Post")]
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Post {
    pub(crate) room: String,
    pub(crate) sender: String,
    pub(crate) content: String,
}

/// The answer to a post: the id it was stored under.
#[zerocodec::message(name = "chat.Posted")]
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Posted {
    pub(crate) id: u64,
}

/// Which messages of a room to stream.
#[zerocodec::message(name = "chat.HistoryRequest")]
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct HistoryRequest {
    pub(crate) room: String,
    /// How many of the latest messages to send first.
    pub(crate) limit: u32,
    /// Then keep the stream open and send each new message as it is posted.
    pub(crate) follow: bool,
}

/// One stored message.
#[zerocodec::message(name = "chat.Entry")]
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Entry {
    pub(crate) id: u64,
    pub(crate) room: String,
    pub(crate) sender: String,
    pub(crate) content: String,
    /// Milliseconds since the Unix epoch, when the server stored it.
    pub(crate) timestamp: u64,
}

service! {
    /// Chat rooms over gRPC.
    pub(crate) service Chat = "chat.Chat" {
        server ChatServer;
        client ChatClient;

        /// Posts a message. The server reads it in place (an archived view).
        rpc post(archived Post) returns (Posted);
        /// A room's latest messages, oldest first; with `follow`, then each new one until
        /// the call's deadline or the client hangs up.
        rpc history(HistoryRequest) returns (stream Entry);
        /// Posts a stream of messages; each is answered with the entry it was stored as.
        rpc live(stream archived Post) returns (stream Entry);
    }
}

/// Counters the server keeps, for the tests and the demo.
#[derive(Debug, Default)]
pub(crate) struct Stats {
    /// Messages posted (through `post` or `live`).
    pub(crate) posts: AtomicU64,
    /// Of the requests read as archived views, those that shared tonic's buffer (no copy).
    pub(crate) shared: AtomicU64,
    /// Those that were copied once into an aligned buffer.
    pub(crate) copied: AtomicU64,
    /// Streams the server ended because the call's deadline passed.
    pub(crate) deadlines: AtomicU64,
    /// Following streams that ended because the client went away.
    pub(crate) hangups: AtomicU64,
}

/// The rooms, and the feed that following streams read.
pub(crate) struct Rooms {
    rooms: Mutex<HashMap<String, Vec<Entry>>>,
    next_id: AtomicU64,
    feed: broadcast::Sender<Entry>,
    /// The server's counters.
    pub(crate) stats: Arc<Stats>,
}

impl Default for Rooms {
    fn default() -> Self {
        Self {
            rooms: Mutex::default(),
            next_id: AtomicU64::new(1),
            feed: broadcast::channel(1024).0,
            stats: Arc::default(),
        }
    }
}

impl Rooms {
    /// Stores a post read in place; only here is anything copied out of the request.
    fn store(&self, post: &OwnedArchive<Post>) -> Result<Entry, Status> {
        let counter = if post.is_shared() {
            &self.stats.shared
        } else {
            &self.stats.copied
        };
        counter.fetch_add(1, Relaxed);
        if post.content.is_empty() {
            return Err(Status::invalid_argument("empty message"));
        }
        let timestamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        let mut rooms = self.rooms.lock().map_err(|_| Status::internal("lock"))?;
        // The id is taken under the lock, so each room's messages are in id order.
        let entry = Entry {
            id: self.next_id.fetch_add(1, Relaxed),
            room: post.room.as_str().to_owned(),
            sender: post.sender.as_str().to_owned(),
            content: post.content.as_str().to_owned(),
            timestamp,
        };
        rooms
            .entry(entry.room.clone())
            .or_default()
            .push(entry.clone());
        drop(rooms);
        self.stats.posts.fetch_add(1, Relaxed);
        // No follower is not an error.
        let _ = self.feed.send(entry.clone());
        Ok(entry)
    }

    fn latest(&self, room: &str, limit: u32) -> Result<Vec<Entry>, Status> {
        let rooms = self.rooms.lock().map_err(|_| Status::internal("lock"))?;
        let entries = rooms.get(room).map_or(&[][..], Vec::as_slice);
        let from = entries.len().saturating_sub(limit as usize);
        Ok(entries[from..].to_vec())
    }
}

/// The server's implementation of [`Chat`].
#[derive(Clone, Default)]
pub(crate) struct ChatService {
    rooms: Arc<Rooms>,
}

impl ChatService {
    /// The server's counters.
    pub(crate) fn stats(&self) -> Arc<Stats> {
        self.rooms.stats.clone()
    }
}

impl Chat for ChatService {
    async fn post(&self, request: Request<OwnedArchive<Post>>) -> Result<Response<Posted>, Status> {
        let entry = self.rooms.store(request.get_ref())?;
        Ok(Response::new(Posted { id: entry.id }))
    }

    async fn history(
        &self,
        request: Request<HistoryRequest>,
    ) -> Result<Response<BoxStream<Entry>>, Status> {
        let deadline = deadline_of(&request);
        let query = request.into_inner();
        // Subscribe before reading the history, so no message falls between the two.
        let mut feed = query.follow.then(|| self.rooms.feed.subscribe());
        let latest = self.rooms.latest(&query.room, query.limit)?;
        let stats = self.rooms.stats.clone();
        let (tx, rx) = mpsc::channel(64);
        tokio::spawn(async move {
            let mut last = 0;
            for entry in latest {
                last = entry.id;
                if tx.send(Ok(entry)).await.is_err() {
                    return;
                }
            }
            let Some(feed) = feed.as_mut() else { return };
            let expiry = async {
                match deadline {
                    Some(deadline) => tokio::time::sleep_until(deadline).await,
                    None => std::future::pending().await,
                }
            };
            tokio::pin!(expiry);
            loop {
                tokio::select! {
                    () = &mut expiry => {
                        stats.deadlines.fetch_add(1, Relaxed);
                        let _ = tx.send(Err(Status::deadline_exceeded(
                            "the call's deadline passed while following the room",
                        ))).await;
                        return;
                    }
                    () = tx.closed() => {
                        stats.hangups.fetch_add(1, Relaxed);
                        return;
                    }
                    next = feed.recv() => match next {
                        Ok(entry) if entry.room == query.room && entry.id > last => {
                            if tx.send(Ok(entry)).await.is_err() {
                                stats.hangups.fetch_add(1, Relaxed);
                                return;
                            }
                        }
                        Ok(_) => {}
                        Err(broadcast::error::RecvError::Lagged(missed)) => {
                            let _ = tx.send(Err(Status::data_loss(format!(
                                "this follower fell {missed} messages behind"
                            )))).await;
                            return;
                        }
                        Err(broadcast::error::RecvError::Closed) => return,
                    },
                }
            }
        });
        Ok(Response::new(receiver_stream(rx)))
    }

    async fn live(
        &self,
        request: Request<Streaming<OwnedArchive<Post>>>,
    ) -> Result<Response<BoxStream<Entry>>, Status> {
        let mut posts = request.into_inner();
        let rooms = self.rooms.clone();
        let (tx, rx) = mpsc::channel(64);
        tokio::spawn(async move {
            loop {
                let answer = match posts.message().await {
                    Ok(Some(post)) => rooms.store(&post),
                    Ok(None) => return,
                    // A bad message ends the call with its status.
                    Err(status) => Err(status),
                };
                let last = answer.is_err();
                if tx.send(answer).await.is_err() || last {
                    return;
                }
            }
        });
        Ok(Response::new(receiver_stream(rx)))
    }
}

/// The items of `rx` as a response stream.
fn receiver_stream<T: Send + 'static>(rx: mpsc::Receiver<Result<T, Status>>) -> BoxStream<T> {
    futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    })
    .boxed()
}

/// The call's deadline, from the `grpc-timeout` header a client sets with
/// `Request::set_timeout` (`None` without one, or if it does not parse).
pub(crate) fn deadline_of<T>(request: &Request<T>) -> Option<tokio::time::Instant> {
    let value = request.metadata().get("grpc-timeout")?.to_str().ok()?;
    let (digits, unit) = value.split_at(value.len().checked_sub(1)?);
    // The spec allows at most 8 digits.
    if digits.is_empty() || digits.len() > 8 {
        return None;
    }
    let amount: u64 = digits.parse().ok()?;
    let timeout = match unit {
        "H" => Duration::from_secs(amount * 3600),
        "M" => Duration::from_secs(amount * 60),
        "S" => Duration::from_secs(amount),
        "m" => Duration::from_millis(amount),
        "u" => Duration::from_micros(amount),
        "n" => Duration::from_nanos(amount),
        _ => return None,
    };
    Some(tokio::time::Instant::now() + timeout)
}

/// A running server.
pub(crate) struct Server {
    /// Where it listens.
    pub(crate) addr: SocketAddr,
    /// Its counters.
    pub(crate) stats: Arc<Stats>,
    /// The server task (abort it to stop the server).
    pub(crate) task: JoinHandle<Result<(), tonic::transport::Error>>,
}

/// Serves the chat on `addr` (port 0 for an ephemeral port) with `frames`, until the task is
/// aborted. tonic's limit on a received message is `max_message`.
///
/// # Errors
///
/// The bind error.
pub(crate) async fn start(
    addr: &str,
    frames: FrameOptions,
    max_message: usize,
) -> std::io::Result<Server> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let service = ChatService::default();
    let stats = service.stats();
    let server = ChatServer::new(service)
        .with_frames(frames)
        .max_decoding_message_size(max_message)
        // tonic's own compression, for clients that ask for it.
        .accept_compressed(tonic::codec::CompressionEncoding::Zstd)
        .send_compressed(tonic::codec::CompressionEncoding::Zstd);
    let task = tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(server)
            .serve_with_incoming(TcpIncoming::from(listener).with_nodelay(Some(true))),
    );
    Ok(Server { addr, stats, task })
}

/// A channel to the server at `addr`.
///
/// # Errors
///
/// tonic's transport error.
pub(crate) async fn channel(addr: SocketAddr) -> Result<Channel, tonic::transport::Error> {
    tonic::transport::Endpoint::from_shared(format!("http://{addr}"))?
        .tcp_nodelay(true)
        .connect()
        .await
}

/// A client from before the migration: serde_json bodies through a JSON codec, as in tonic's
/// own `json-codec` example. It calls the same paths and knows nothing of frames.
#[derive(Clone)]
pub(crate) struct LegacyClient {
    grpc: tonic::client::Grpc<Channel>,
}

impl LegacyClient {
    /// A legacy client over `channel`.
    pub(crate) fn new(channel: Channel) -> Self {
        Self {
            grpc: tonic::client::Grpc::new(channel),
        }
    }

    /// Calls `post` with a JSON body.
    ///
    /// # Errors
    ///
    /// The call's status.
    pub(crate) async fn post(&mut self, post: Post) -> Result<Posted, Status> {
        self.ready().await?;
        let path = tonic::codegen::http::uri::PathAndQuery::from_static("/chat.Chat/post");
        let response = self
            .grpc
            .unary(Request::new(post), path, JsonCodec::default())
            .await?;
        Ok(response.into_inner())
    }

    /// Calls `history` with a JSON body and collects the JSON entries.
    ///
    /// # Errors
    ///
    /// The call's status.
    pub(crate) async fn history(&mut self, query: HistoryRequest) -> Result<Vec<Entry>, Status> {
        self.ready().await?;
        let path = tonic::codegen::http::uri::PathAndQuery::from_static("/chat.Chat/history");
        let mut stream = self
            .grpc
            .server_streaming(Request::new(query), path, JsonCodec::default())
            .await?
            .into_inner();
        let mut entries = Vec::new();
        while let Some(entry) = stream.message().await? {
            entries.push(entry);
        }
        Ok(entries)
    }

    async fn ready(&mut self) -> Result<(), Status> {
        self.grpc
            .ready()
            .await
            .map_err(|err| Status::unavailable(err.to_string()))
    }
}

/// serde_json as a tonic codec (tonic's `json-codec` example): what a legacy client uses.
pub(crate) struct JsonCodec<E, D>(PhantomData<(E, D)>);

impl<E, D> Default for JsonCodec<E, D> {
    fn default() -> Self {
        Self(PhantomData)
    }
}

impl<E, D> Codec for JsonCodec<E, D>
where
    E: Serialize + Send + 'static,
    D: DeserializeOwned + Send + 'static,
{
    type Encode = E;
    type Decode = D;
    type Encoder = JsonEncoder<E>;
    type Decoder = JsonDecoder<D>;

    fn encoder(&mut self) -> JsonEncoder<E> {
        JsonEncoder(PhantomData)
    }

    fn decoder(&mut self) -> JsonDecoder<D> {
        JsonDecoder(PhantomData)
    }
}

/// [`JsonCodec`]'s encoder.
pub(crate) struct JsonEncoder<E>(PhantomData<E>);

impl<E: Serialize> Encoder for JsonEncoder<E> {
    type Item = E;
    type Error = Status;

    fn encode(&mut self, item: E, buf: &mut EncodeBuf<'_>) -> Result<(), Status> {
        serde_json::to_writer(buf.writer(), &item).map_err(|e| Status::internal(e.to_string()))
    }
}

/// [`JsonCodec`]'s decoder.
pub(crate) struct JsonDecoder<D>(PhantomData<D>);

impl<D: DeserializeOwned> Decoder for JsonDecoder<D> {
    type Item = D;
    type Error = Status;

    fn decode(&mut self, buf: &mut DecodeBuf<'_>) -> Result<Option<D>, Status> {
        if !buf.has_remaining() {
            return Ok(None);
        }
        serde_json::from_reader(buf.reader())
            .map(Some)
            .map_err(|e| Status::internal(e.to_string()))
    }
}
