//! A small chat-room service over TCP, framed with zerocodec's tokio-util codecs.
//!
//! Modern clients send `HybridCodec<Request>` frames; legacy clients send plain JSON in
//! length-delimited frames (tokio-util's `LengthDelimitedCodec` + serde_json, as a service that
//! predates zerocodec would). The server reads both from the same port: each
//! request is decoded as a validated zero-copy view (`OwnedArchive<Request>`) and answered in
//! the format it arrived in.
//!
//! This file is shared by `examples/rpc/main.rs` and the integration test `tests/rpc.rs`.
#![allow(dead_code, reason = "the example and the test use different parts")]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use futures::{SinkExt, StreamExt};
use parking_lot::Mutex;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio_util::bytes::{Bytes, BytesMut};
use tokio_util::codec::{Decoder, Encoder, Framed, LengthDelimitedCodec};
use zerocodec::frame;
use zerocodec::{Error, ErrorKind, OwnedArchive, Result};
use zerocodec_codecs::{
    ArchivedFrameDecoder, FrameCodec, FrameDecoder, FrameEncoder, HybridCodec, JsonCodec,
    LENGTH_PREFIX_LEN,
};

/// A request to the chat service.
#[zerocodec::message]
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Request {
    /// Post a message to a room.
    Post {
        room: String,
        sender: String,
        content: String,
    },
    /// The last `limit` messages of a room, oldest first.
    History { room: String, limit: u32 },
    /// Liveness check; echoes `seq`.
    Ping { seq: u64 },
}

/// One stored chat message.
#[zerocodec::message]
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Entry {
    pub(crate) id: u64,
    pub(crate) sender: String,
    pub(crate) content: String,
}

/// The service's answer to one [`Request`].
#[zerocodec::message]
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Response {
    /// The message was stored under `id`.
    Posted { id: u64 },
    /// A room's recent messages.
    Messages(Vec<Entry>),
    /// The answer to [`Request::Ping`].
    Pong { seq: u64 },
    /// The request could not be served.
    Failed(String),
}

/// The modern wire stack: hybrid frames (rkyv payloads, schema fingerprints), uncompressed.
///
/// The report's recommendation for small messages: compressing a chat-sized message costs
/// more than it saves on a fast link (plain zstd takes microseconds per message and barely
/// shrinks it). For large or repetitive messages, or slow links, turn compression on with
/// `.with_compression(Compression::zstd_dict(dictionary, level)?)`, a dictionary trained on
/// the payloads; readers need no change (every reader reads every algorithm, and dictionaries
/// from its own compression or its `with_dictionaries` registry).
pub(crate) type Stack<T> = HybridCodec<T>;

/// The modern stack for `T`.
pub(crate) fn stack<T>() -> Stack<T> {
    HybridCodec::new()
}

/// Largest request or response frame either side accepts.
pub(crate) const MAX_FRAME_LEN: usize = 1 << 20;

/// How a request arrived, so its response goes back the same way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flavor {
    /// A zerocodec frame.
    Frame,
    /// Header-less JSON from a client that predates zerocodec.
    LegacyJson,
}

/// The server's codec: requests in as zero-copy views tagged with their flavor, responses out
/// in that flavor.
pub(crate) struct ServerCodec {
    requests: ArchivedFrameDecoder<Stack<Request>>,
    modern: FrameEncoder<Stack<Response>>,
    legacy: FrameEncoder<JsonCodec<Response>>,
    /// The flavor of the request being read, once its first payload byte has been seen.
    flavor: Option<Flavor>,
}

impl ServerCodec {
    /// A codec with [`MAX_FRAME_LEN`] in both directions.
    pub(crate) fn new() -> Self {
        Self {
            requests: ArchivedFrameDecoder::with_max_frame_len(stack(), MAX_FRAME_LEN),
            modern: FrameEncoder::with_max_frame_len(stack(), MAX_FRAME_LEN),
            legacy: FrameEncoder::with_max_frame_len(JsonCodec::new(), MAX_FRAME_LEN),
            flavor: None,
        }
    }

    /// The flavor of the request starting at the front of `src`, or `None` until its first
    /// payload byte has arrived.
    fn peek_flavor(&self, src: &[u8]) -> Option<Flavor> {
        // The first payload byte tells a frame from legacy JSON with certainty.
        if let Some(&first) = src.get(LENGTH_PREFIX_LEN) {
            return Some(if frame::is_frame(&[first]) {
                Flavor::Frame
            } else {
                Flavor::LegacyJson
            });
        }
        let prefix = src.get(..LENGTH_PREFIX_LEN)?;
        let len = u32::from_be_bytes(prefix.try_into().expect("4 bytes")) as usize;
        // An empty payload is no frame; an oversized one is refused by the frame decoder as
        // soon as it reads the prefix. Either way there is no payload byte to wait for.
        (len == 0 || len > self.requests.max_frame_len()).then_some(Flavor::LegacyJson)
    }
}

impl Decoder for ServerCodec {
    type Item = (Flavor, OwnedArchive<Request>);
    type Error = Error;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Self::Item>> {
        if self.flavor.is_none() {
            // At a request boundary: look at the payload's first byte before the frame
            // decoder takes the length prefix off `src`.
            match self.peek_flavor(src) {
                Some(flavor) => self.flavor = Some(flavor),
                None => return Ok(None),
            }
        }
        match self.requests.decode(src)? {
            Some(request) => Ok(self.flavor.take().map(|flavor| (flavor, request))),
            None => Ok(None),
        }
    }

    fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<Self::Item>> {
        if let Some(item) = self.decode(src)? {
            return Ok(Some(item));
        }
        // The frame decoder tells a stream that ended between requests (`None`) from one that
        // ended inside a request (`Incomplete`), even after it took the length prefix.
        let request = self.requests.decode_eof(src)?;
        Ok(request.map(|request| (self.flavor.take().unwrap_or(Flavor::Frame), request)))
    }
}

impl Encoder<(Flavor, Response)> for ServerCodec {
    type Error = Error;

    fn encode(&mut self, (flavor, response): (Flavor, Response), dst: &mut BytesMut) -> Result<()> {
        match flavor {
            Flavor::Frame => self.modern.encode(&response, dst),
            Flavor::LegacyJson => self.legacy.encode(&response, dst),
        }
    }
}

/// The rooms and their messages.
#[derive(Default)]
pub(crate) struct Rooms {
    rooms: Mutex<HashMap<String, Vec<Entry>>>,
    next_id: AtomicU64,
}

impl Rooms {
    /// Serves one request, read in place: only a `Post` copies anything out of the frame.
    pub(crate) fn serve(&self, request: &ArchivedRequest) -> Response {
        match request {
            ArchivedRequest::Post {
                room,
                sender,
                content,
            } => {
                if content.is_empty() {
                    return Response::Failed("empty message".into());
                }
                // The id is taken under the rooms lock, so each room's history is in id order.
                let mut rooms = self.rooms.lock();
                let id = self.next_id.fetch_add(1, Ordering::Relaxed);
                rooms
                    .entry(room.as_str().to_owned())
                    .or_default()
                    .push(Entry {
                        id,
                        sender: sender.as_str().to_owned(),
                        content: content.as_str().to_owned(),
                    });
                Response::Posted { id }
            }
            ArchivedRequest::History { room, limit } => {
                let rooms = self.rooms.lock();
                let entries = rooms.get(room.as_str()).map_or(&[][..], Vec::as_slice);
                let from = entries.len().saturating_sub(limit.to_native() as usize);
                Response::Messages(entries[from..].to_vec())
            }
            ArchivedRequest::Ping { seq } => Response::Pong {
                seq: seq.to_native(),
            },
        }
    }
}

/// Counters the server keeps, for tests and the demo.
#[derive(Debug, Default)]
pub(crate) struct ServerStats {
    /// Connections accepted.
    pub(crate) connections: AtomicU64,
    /// Requests answered.
    pub(crate) requests: AtomicU64,
    /// Of those, from legacy JSON clients.
    pub(crate) legacy_requests: AtomicU64,
    /// Connections closed because of a bad frame (oversized, corrupt, cut off).
    pub(crate) rejected: AtomicU64,
}

/// A running server.
pub(crate) struct Server {
    /// Where it listens.
    pub(crate) addr: SocketAddr,
    /// Its counters.
    pub(crate) stats: Arc<ServerStats>,
    /// The accept loop (abort it to stop the server).
    pub(crate) task: JoinHandle<()>,
}

/// Binds `addr` (use port 0 for an ephemeral port) and serves until the task is aborted.
///
/// # Errors
///
/// The bind error.
pub(crate) async fn start(addr: &str) -> std::io::Result<Server> {
    let listener = TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let stats = Arc::new(ServerStats::default());
    let rooms = Arc::new(Rooms::default());
    let task = tokio::spawn({
        let stats = stats.clone();
        async move {
            while let Ok((socket, _)) = listener.accept().await {
                stats.connections.fetch_add(1, Ordering::Relaxed);
                tokio::spawn(connection(socket, rooms.clone(), stats.clone()));
            }
        }
    });
    Ok(Server { addr, stats, task })
}

/// Serves one connection until the peer closes it or sends a bad frame; a bad frame ends this
/// connection only.
async fn connection(socket: TcpStream, rooms: Arc<Rooms>, stats: Arc<ServerStats>) {
    let _ = socket.set_nodelay(true);
    let mut framed = Framed::new(socket, ServerCodec::new());
    while let Some(next) = framed.next().await {
        match next {
            Ok((flavor, request)) => {
                stats.requests.fetch_add(1, Ordering::Relaxed);
                if flavor == Flavor::LegacyJson {
                    stats.legacy_requests.fetch_add(1, Ordering::Relaxed);
                }
                let response = rooms.serve(&request);
                if framed.send((flavor, response)).await.is_err() {
                    break;
                }
            }
            Err(err) => {
                stats.rejected.fetch_add(1, Ordering::Relaxed);
                // Tell the client why (in the legacy format, which every client can read),
                // then close. An I/O error means the peer is gone: nothing to tell.
                if err.kind() != ErrorKind::Io {
                    let _ = framed
                        .send((Flavor::LegacyJson, Response::Failed(err.to_string())))
                        .await;
                }
                break;
            }
        }
    }
}

/// Anything that can make a call to the service (the modern and the legacy client).
pub(crate) trait Call {
    /// Sends `request` and waits for its response.
    async fn call(&mut self, request: &Request) -> Result<Response>;
}

/// The client's codec: requests out and responses in, both on the modern stack.
pub(crate) type ClientCodec =
    FrameCodec<FrameDecoder<Stack<Response>>, FrameEncoder<Stack<Request>>>;

/// A modern client: hybrid frames both ways.
pub(crate) struct Client {
    framed: Framed<TcpStream, ClientCodec>,
}

impl Client {
    /// Connects to `addr`.
    ///
    /// # Errors
    ///
    /// The connect error.
    pub(crate) async fn connect(addr: SocketAddr) -> std::io::Result<Self> {
        let socket = TcpStream::connect(addr).await?;
        socket.set_nodelay(true)?;
        let codec = FrameCodec::new(
            FrameDecoder::with_max_frame_len(stack(), MAX_FRAME_LEN),
            FrameEncoder::with_max_frame_len(stack(), MAX_FRAME_LEN),
        );
        Ok(Self {
            framed: Framed::new(socket, codec),
        })
    }
}

impl Call for Client {
    /// # Errors
    ///
    /// A transport or decode error, or `Incomplete` if the server closed the connection.
    async fn call(&mut self, request: &Request) -> Result<Response> {
        self.framed.send(request).await?;
        match self.framed.next().await {
            Some(response) => response,
            None => Err(Error::new(
                ErrorKind::Incomplete,
                "server closed the connection",
            )),
        }
    }
}

/// A client from before zerocodec: serde_json in `LengthDelimitedCodec` frames.
pub(crate) struct LegacyClient {
    framed: Framed<TcpStream, LengthDelimitedCodec>,
}

impl LegacyClient {
    /// Connects to `addr`.
    ///
    /// # Errors
    ///
    /// The connect error.
    pub(crate) async fn connect(addr: SocketAddr) -> std::io::Result<Self> {
        let socket = TcpStream::connect(addr).await?;
        socket.set_nodelay(true)?;
        Ok(Self {
            framed: Framed::new(socket, LengthDelimitedCodec::new()),
        })
    }
}

impl Call for LegacyClient {
    /// Sends `request` as JSON and parses the JSON response.
    ///
    /// # Errors
    ///
    /// A transport or JSON error, or `Incomplete` if the server closed the connection.
    async fn call(&mut self, request: &Request) -> Result<Response> {
        let json = serde_json::to_vec(request)
            .map_err(|e| Error::new(ErrorKind::Encode, e.to_string()))?;
        self.framed.send(Bytes::from(json)).await?;
        match self.framed.next().await {
            Some(frame) => serde_json::from_slice(&frame?)
                .map_err(|e| Error::new(ErrorKind::Corrupt, format!("legacy response: {e}"))),
            None => Err(Error::new(
                ErrorKind::Incomplete,
                "server closed the connection",
            )),
        }
    }
}
