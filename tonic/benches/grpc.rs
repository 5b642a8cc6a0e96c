//! zerocodec-tonic against tonic-prost on the same calls, over real tonic servers and clients
//! on 127.0.0.1 in one process.
//!
//! `cargo bench -p zerocodec-tonic --bench grpc` (add `-- --quick` for a tenth of the
//! iterations). It prints markdown tables:
//!
//! - the codec level, per chat message: prost's decode against our decode, in-place access,
//!   and `access_owned` on shared and on unaligned `Bytes` (tonic's usual case), plus encodes
//!   and encoded sizes;
//! - unary `post` calls (a chat message in, a small ack out; our server reads the request in
//!   place), a 10,000-message server stream of chat messages, and a 10,000-message stream of
//!   the log dataset (our client reads each message in place): calls or messages per second,
//!   p50 and p99 latency (per call; per whole stream for the streams), heap allocations per
//!   call or message (client and server together: they share the process), bytes on the wire
//!   per call or message (counted on the server's socket: HTTP/2 framing and headers
//!   included), and how many archived views shared tonic's buffer.
//!
//! Five rounds interleave the variants, so that load from elsewhere on a shared machine falls
//! on all of them; rates are the median round's.
//!
//! Variants: ours raw (read as archived views, and read into owned values), ours with a zstd dictionary (trained on the scenario's messages), ours
//! under tonic's zstd, prost raw, prost under tonic's zstd. Each variant gets a server and a
//! client of its own. Messages are the workspace's seeded datasets; prost's messages hold the
//! same fields.

use std::alloc::{GlobalAlloc, Layout, System};
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::task::{Context, Poll, ready};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::StreamExt;
use prost::Message as _;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tonic::codec::CompressionEncoding;
use tonic::codegen::{BoxFuture, Service, http};
use tonic::transport::Channel;
use tonic::transport::server::Connected;
use tonic::{Request, Response, Status, Streaming};
use tonic_prost::ProstCodec;
use zerocodec::OwnedArchive;
use zerocodec::prelude::*;
use zerocodec_codecs::{Compression, HybridCodec, Policy, RkyvCodec, ZstdDictionary};
use zerocodec_datasets::log::Log;
use zerocodec_datasets::messages::chat_messages;
use zerocodec_datasets::{ChatMessage, Rng, SEED};
use zerocodec_tonic::{BoxStream, FrameOptions, service};

// ---- allocation counting --------------------------------------------------------------------

struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

// SAFETY: forwards to the system allocator, only counting calls.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Relaxed);
        // SAFETY: the caller keeps `alloc`'s contract, which `System` has too.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Relaxed);
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

// ---- messages -------------------------------------------------------------------------------

/// The answer to a post.
#[zerocodec::message(name = "bench.Ack")]
struct Ack {
    len: u64,
}

/// How many messages to stream.
#[zerocodec::message(name = "bench.StreamRequest")]
struct StreamRequest {
    count: u32,
}

/// The log dataset's address.
#[zerocodec::message(name = "bench.LogAddress")]
#[derive(Clone)]
struct LogAddress {
    x0: u8,
    x1: u8,
    x2: u8,
    x3: u8,
}

/// One line of the log dataset, as its own message.
#[zerocodec::message(name = "bench.LogLine")]
#[derive(Clone)]
struct LogLine {
    address: LogAddress,
    identity: String,
    userid: String,
    date: String,
    request: String,
    code: u16,
    size: u64,
}

#[derive(Clone, PartialEq, prost::Message)]
struct PChat {
    #[prost(string, tag = "1")]
    id: String,
    #[prost(string, tag = "2")]
    content: String,
    #[prost(uint64, tag = "3")]
    timestamp: u64,
    #[prost(string, tag = "4")]
    sender: String,
    #[prost(string, tag = "5")]
    room_id: String,
}

#[derive(Clone, PartialEq, prost::Message)]
struct PAck {
    #[prost(uint64, tag = "1")]
    len: u64,
}

#[derive(Clone, PartialEq, prost::Message)]
struct PStreamRequest {
    #[prost(uint32, tag = "1")]
    count: u32,
}

#[derive(Clone, PartialEq, prost::Message)]
struct PAddress {
    #[prost(uint32, tag = "1")]
    x0: u32,
    #[prost(uint32, tag = "2")]
    x1: u32,
    #[prost(uint32, tag = "3")]
    x2: u32,
    #[prost(uint32, tag = "4")]
    x3: u32,
}

#[derive(Clone, PartialEq, prost::Message)]
struct PLog {
    #[prost(message, optional, tag = "1")]
    address: Option<PAddress>,
    #[prost(string, tag = "2")]
    identity: String,
    #[prost(string, tag = "3")]
    userid: String,
    #[prost(string, tag = "4")]
    date: String,
    #[prost(string, tag = "5")]
    request: String,
    #[prost(uint32, tag = "6")]
    code: u32,
    #[prost(uint64, tag = "7")]
    size: u64,
}

fn p_chat(m: &ChatMessage) -> PChat {
    PChat {
        id: m.id.clone(),
        content: m.content.clone(),
        timestamp: m.timestamp,
        sender: m.sender.clone(),
        room_id: m.room_id.clone(),
    }
}

fn log_line(l: &Log) -> LogLine {
    LogLine {
        address: LogAddress {
            x0: l.address.x0,
            x1: l.address.x1,
            x2: l.address.x2,
            x3: l.address.x3,
        },
        identity: l.identity.clone(),
        userid: l.userid.clone(),
        date: l.date.clone(),
        request: l.request.clone(),
        code: l.code,
        size: l.size,
    }
}

fn p_log(l: &LogLine) -> PLog {
    PLog {
        address: Some(PAddress {
            x0: l.address.x0.into(),
            x1: l.address.x1.into(),
            x2: l.address.x2.into(),
            x3: l.address.x3.into(),
        }),
        identity: l.identity.clone(),
        userid: l.userid.clone(),
        date: l.date.clone(),
        request: l.request.clone(),
        code: l.code.into(),
        size: l.size,
    }
}

/// The shared data: 1,000 chat messages and 1,000 log lines, streamed cyclically.
struct Data {
    chats: Vec<ChatMessage>,
    p_chats: Vec<PChat>,
    logs: Vec<LogLine>,
    p_logs: Vec<PLog>,
}

impl Data {
    fn new() -> Self {
        let chats = chat_messages(SEED, 1_000);
        let mut rng = Rng::new(SEED);
        let logs: Vec<LogLine> = (0..1_000)
            .map(|_| log_line(&Log::generate(&mut rng)))
            .collect();
        Self {
            p_chats: chats.iter().map(p_chat).collect(),
            p_logs: logs.iter().map(p_log).collect(),
            chats,
            logs,
        }
    }
}

/// Counts archived views that shared tonic's buffer, and those copied once.
#[derive(Default)]
struct Sharing {
    shared: AtomicU64,
    copied: AtomicU64,
}

impl Sharing {
    fn count<T: zerocodec::ZeroCopy>(&self, archive: &OwnedArchive<T>) {
        let counter = if archive.is_shared() {
            &self.shared
        } else {
            &self.copied
        };
        counter.fetch_add(1, Relaxed);
    }

    fn take(&self) -> (u64, u64) {
        (self.shared.swap(0, Relaxed), self.copied.swap(0, Relaxed))
    }
}

// ---- our service ----------------------------------------------------------------------------

service! {
    /// The benchmark's calls, on zerocodec frames.
    service Bench = "bench.Bench" {
        server BenchServer;
        client BenchClient;

        rpc post(archived ChatMessage) returns (Ack);
        rpc chats(StreamRequest) returns (stream archived ChatMessage);
        rpc logs(StreamRequest) returns (stream archived LogLine);
        // The same calls, read into owned values.
        rpc post_owned(ChatMessage) returns (Ack);
        rpc chats_owned(StreamRequest) returns (stream ChatMessage);
        rpc logs_owned(StreamRequest) returns (stream LogLine);
    }
}

struct Ours {
    data: Arc<Data>,
    sharing: Arc<Sharing>,
}

/// `count` items of `items`, cyclically, cloned (as a server holding its data would).
fn cycle<T: Clone + Send + Sync + 'static, U: Send + 'static>(
    data: Arc<Data>,
    count: u32,
    items: fn(&Data) -> &[T],
    map: fn(&T) -> U,
) -> BoxStream<U> {
    futures::stream::iter(0..count as usize)
        .map(move |i| {
            let items = items(&data);
            Ok(map(&items[i % items.len()]))
        })
        .boxed()
}

impl Bench for Ours {
    async fn post(
        &self,
        request: Request<OwnedArchive<ChatMessage>>,
    ) -> Result<Response<Ack>, Status> {
        let chat = request.into_inner();
        self.sharing.count(&chat);
        Ok(Response::new(Ack {
            len: chat.content.len() as u64,
        }))
    }

    async fn chats(
        &self,
        request: Request<StreamRequest>,
    ) -> Result<Response<BoxStream<ChatMessage>>, Status> {
        let count = request.get_ref().count;
        Ok(Response::new(cycle(
            self.data.clone(),
            count,
            |d| &d.chats,
            ChatMessage::clone,
        )))
    }

    async fn logs(
        &self,
        request: Request<StreamRequest>,
    ) -> Result<Response<BoxStream<LogLine>>, Status> {
        let count = request.get_ref().count;
        Ok(Response::new(cycle(
            self.data.clone(),
            count,
            |d| &d.logs,
            LogLine::clone,
        )))
    }

    async fn post_owned(&self, request: Request<ChatMessage>) -> Result<Response<Ack>, Status> {
        Ok(Response::new(Ack {
            len: request.get_ref().content.len() as u64,
        }))
    }

    async fn chats_owned(
        &self,
        request: Request<StreamRequest>,
    ) -> Result<Response<BoxStream<ChatMessage>>, Status> {
        self.chats(request).await
    }

    async fn logs_owned(
        &self,
        request: Request<StreamRequest>,
    ) -> Result<Response<BoxStream<LogLine>>, Status> {
        self.logs(request).await
    }
}

// ---- the prost service, as tonic-build would generate it -----------------------------------

#[derive(Clone)]
struct ProstServer {
    data: Arc<Data>,
    compress: bool,
}

impl tonic::server::NamedService for ProstServer {
    const NAME: &'static str = "bench.Prost";
}

struct PostSvc;

impl tonic::server::UnaryService<PChat> for PostSvc {
    type Response = PAck;
    type Future = BoxFuture<Response<PAck>, Status>;
    fn call(&mut self, request: Request<PChat>) -> Self::Future {
        Box::pin(async move {
            Ok(Response::new(PAck {
                len: request.get_ref().content.len() as u64,
            }))
        })
    }
}

struct StreamSvc<T: Send + 'static>(Arc<Data>, fn(&Data) -> &[T]);

impl<T: Clone + Send + Sync + 'static> tonic::server::ServerStreamingService<PStreamRequest>
    for StreamSvc<T>
{
    type Response = T;
    type ResponseStream = BoxStream<T>;
    type Future = BoxFuture<Response<BoxStream<T>>, Status>;
    fn call(&mut self, request: Request<PStreamRequest>) -> Self::Future {
        let stream = cycle(self.0.clone(), request.get_ref().count, self.1, T::clone);
        Box::pin(async move { Ok(Response::new(stream)) })
    }
}

impl<B> Service<http::Request<B>> for ProstServer
where
    B: tonic::codegen::Body + Send + 'static,
    B::Error: Into<tonic::codegen::StdError> + Send + 'static,
{
    type Response = http::Response<tonic::body::Body>;
    type Error = std::convert::Infallible;
    type Future = BoxFuture<Self::Response, Self::Error>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        let compress = self.compress;
        match req.uri().path() {
            "/bench.Prost/post" => {
                let mut grpc = zstd(
                    compress,
                    tonic::server::Grpc::new(ProstCodec::<PAck, PChat>::default()),
                );
                Box::pin(async move { Ok(grpc.unary(PostSvc, req).await) })
            }
            "/bench.Prost/chats" => {
                let svc = StreamSvc(self.data.clone(), |d: &Data| &d.p_chats[..]);
                let codec = ProstCodec::<PChat, PStreamRequest>::default();
                let mut grpc = zstd(compress, tonic::server::Grpc::new(codec));
                Box::pin(async move { Ok(grpc.server_streaming(svc, req).await) })
            }
            "/bench.Prost/logs" => {
                let svc = StreamSvc(self.data.clone(), |d: &Data| &d.p_logs[..]);
                let codec = ProstCodec::<PLog, PStreamRequest>::default();
                let mut grpc = zstd(compress, tonic::server::Grpc::new(codec));
                Box::pin(async move { Ok(grpc.server_streaming(svc, req).await) })
            }
            _ => Box::pin(async { Ok(Status::unimplemented("no such method").into_http()) }),
        }
    }
}

/// `grpc` with tonic's zstd both ways, when `on`.
fn zstd<C: tonic::codec::Codec>(on: bool, grpc: tonic::server::Grpc<C>) -> tonic::server::Grpc<C> {
    match on {
        true => grpc
            .accept_compressed(CompressionEncoding::Zstd)
            .send_compressed(CompressionEncoding::Zstd),
        false => grpc,
    }
}

// ---- counting the bytes on the server's socket ----------------------------------------------

struct Counted {
    inner: TcpStream,
    bytes: Arc<AtomicU64>,
}

impl Connected for Counted {
    type ConnectInfo = ();
    fn connect_info(&self) {}
}

impl AsyncRead for Counted {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        ready!(Pin::new(&mut self.inner).poll_read(cx, buf))?;
        self.bytes
            .fetch_add((buf.filled().len() - before) as u64, Relaxed);
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for Counted {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let n = ready!(Pin::new(&mut self.inner).poll_write(cx, buf))?;
        self.bytes.fetch_add(n as u64, Relaxed);
        Poll::Ready(Ok(n))
    }
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let n = ready!(Pin::new(&mut self.inner).poll_write_vectored(cx, bufs))?;
        self.bytes.fetch_add(n as u64, Relaxed);
        Poll::Ready(Ok(n))
    }
    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Serves `router`'s services on an ephemeral port, counting the socket's bytes.
async fn serve(
    router: tonic::transport::server::Router,
) -> (SocketAddr, Arc<AtomicU64>, tokio::task::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let bytes = Arc::new(AtomicU64::new(0));
    let counter = bytes.clone();
    let incoming = futures::stream::unfold(listener, move |listener| {
        let bytes = counter.clone();
        async move {
            let accepted = listener.accept().await.map(|(inner, _)| {
                inner.set_nodelay(true).unwrap();
                Counted { inner, bytes }
            });
            Some((accepted, listener))
        }
    });
    let task = tokio::spawn(async move {
        router.serve_with_incoming(incoming).await.unwrap();
    });
    (addr, bytes, task)
}

async fn channel(addr: SocketAddr) -> Channel {
    tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .unwrap()
        .tcp_nodelay(true)
        .connect()
        .await
        .unwrap()
}

// ---- measuring ------------------------------------------------------------------------------

/// What one variant did in one scenario, over all rounds.
#[derive(Default)]
struct Row {
    scenario: &'static str,
    variant: &'static str,
    /// Calls (unary) or messages (streams) per second, one per round.
    rates: Vec<f64>,
    latencies: Vec<Duration>,
    moved: usize,
    allocations: u64,
    wire: u64,
    /// Archived views that shared tonic's buffer, and that were copied; `None` for
    /// variants that read no archived views.
    sharing: Option<(u64, u64)>,
}

impl Row {
    fn add(&mut self, sample: Sample, sharing: Option<(u64, u64)>) {
        self.rates
            .push(sample.moved as f64 / sample.total.as_secs_f64());
        self.latencies.extend(sample.latencies);
        self.moved += sample.moved;
        self.allocations += sample.allocations;
        self.wire += sample.wire;
        self.sharing = sharing.map(|(s, c)| {
            let (s0, c0) = self.sharing.unwrap_or_default();
            (s0 + s, c0 + c)
        });
    }

    /// The median round's rate.
    fn rate(&self) -> f64 {
        let mut rates = self.rates.clone();
        rates.sort_by(f64::total_cmp);
        rates[rates.len() / 2]
    }
}

fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort_unstable();
    let i = ((samples.len() as f64 - 1.0) * p).round() as usize;
    samples[i]
}

/// What the timed calls of one run did.
struct Sample {
    /// Messages moved (one per unary call).
    moved: usize,
    total: Duration,
    /// Per call.
    latencies: Vec<Duration>,
    allocations: u64,
    wire: u64,
}

/// Runs `call` `n` times after `warmup` untimed calls (and then `sharing.take()`, so only
/// timed calls are counted); each call returns how many messages it moved.
async fn measure<F, Fut>(
    n: usize,
    warmup: usize,
    bytes: &AtomicU64,
    sharing: &Sharing,
    mut call: F,
) -> Sample
where
    F: FnMut(usize) -> Fut,
    Fut: Future<Output = usize>,
{
    for i in 0..warmup {
        call(i).await;
    }
    sharing.take();
    let mut latencies = Vec::with_capacity(n);
    let bytes_before = bytes.load(Relaxed);
    let allocations_before = ALLOCATIONS.load(Relaxed);
    let start = Instant::now();
    let mut moved = 0;
    for i in 0..n {
        let t = Instant::now();
        moved += call(i).await;
        latencies.push(t.elapsed());
    }
    Sample {
        moved,
        total: start.elapsed(),
        latencies,
        allocations: ALLOCATIONS.load(Relaxed) - allocations_before,
        wire: bytes.load(Relaxed) - bytes_before,
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Variant {
    Ours,
    OursOwned,
    OursDictionary,
    OursTonicZstd,
    Prost,
    ProstTonicZstd,
}

impl Variant {
    const ALL: [Variant; 6] = [
        Variant::Ours,
        Variant::OursOwned,
        Variant::OursDictionary,
        Variant::OursTonicZstd,
        Variant::Prost,
        Variant::ProstTonicZstd,
    ];

    fn name(self) -> &'static str {
        match self {
            Variant::Ours => "zerocodec (archived)",
            Variant::OursOwned => "zerocodec (owned)",
            Variant::OursDictionary => "zerocodec + dictionary",
            Variant::OursTonicZstd => "zerocodec + tonic zstd",
            Variant::Prost => "prost",
            Variant::ProstTonicZstd => "prost + tonic zstd",
        }
    }
}

/// Frame options whose writer compresses with a dictionary trained on `samples`.
fn with_dictionary<T>(samples: &[T]) -> FrameOptions
where
    RkyvCodec<T>: Encode<Item = T>,
{
    let dictionary = ZstdDictionary::train_with(&RkyvCodec::new(), samples, 8 << 10).unwrap();
    FrameOptions::new()
        .with_compression(Compression::zstd_dict(dictionary, 3).unwrap())
        .with_policy(Policy::new().with_min_size(16))
}

#[derive(Clone, Copy)]
enum Scenario {
    Unary,
    Chats,
    Logs,
}

impl Scenario {
    fn name(self) -> &'static str {
        match self {
            Scenario::Unary => "unary post",
            Scenario::Chats => "stream: chat",
            Scenario::Logs => "stream: log",
        }
    }
}

async fn run(
    data: &Arc<Data>,
    scenario: Scenario,
    variant: Variant,
    (unary_n, stream_n): (usize, usize),
    stream_len: u32,
) -> (Sample, Option<(u64, u64)>) {
    let sharing = Arc::new(Sharing::default());
    let tonic_zstd = matches!(variant, Variant::OursTonicZstd | Variant::ProstTonicZstd);
    let frames = match (variant, scenario) {
        (Variant::OursDictionary, Scenario::Logs) => with_dictionary(&data.logs),
        (Variant::OursDictionary, _) => with_dictionary(&data.chats),
        _ => FrameOptions::new(),
    };
    let ours = matches!(
        variant,
        Variant::Ours | Variant::OursOwned | Variant::OursDictionary | Variant::OursTonicZstd
    );
    let owned = variant == Variant::OursOwned;
    let mut builder = tonic::transport::Server::builder();
    let router = if ours {
        let mut server = BenchServer::new(Ours {
            data: data.clone(),
            sharing: sharing.clone(),
        })
        .with_frames(frames.clone());
        if tonic_zstd {
            server = server
                .accept_compressed(CompressionEncoding::Zstd)
                .send_compressed(CompressionEncoding::Zstd);
        }
        builder.add_service(server)
    } else {
        builder.add_service(ProstServer {
            data: data.clone(),
            compress: tonic_zstd,
        })
    };
    let (addr, bytes, task) = serve(router).await;
    let channel = channel(addr).await;
    let sample = if ours {
        let mut client = BenchClient::new(channel).with_frames(frames);
        if tonic_zstd {
            client = client
                .send_compressed(CompressionEncoding::Zstd)
                .accept_compressed(CompressionEncoding::Zstd);
        }
        let client_sharing = sharing.clone();
        match scenario {
            Scenario::Unary => {
                measure(unary_n, 200, &bytes, &sharing, |i| {
                    let mut client = client.clone();
                    let chat = data.chats[i % data.chats.len()].clone();
                    async move {
                        let expected = chat.content.len() as u64;
                        let ack = match owned {
                            true => client.post_owned(chat).await,
                            false => client.post(chat).await,
                        };
                        let ack = ack.unwrap().into_inner();
                        assert_eq!(ack.len, expected);
                        1
                    }
                })
                .await
            }
            Scenario::Chats => {
                measure(stream_n, 1, &bytes, &sharing, |_| {
                    let mut client = client.clone();
                    let sharing = client_sharing.clone();
                    async move {
                        let request = StreamRequest { count: stream_len };
                        if owned {
                            let stream = client.chats_owned(request).await.unwrap().into_inner();
                            let n = drain(stream, |c: &ChatMessage| !c.content.is_empty()).await;
                            assert_eq!(n, stream_len as usize);
                            return n;
                        }
                        let mut stream = client.chats(request).await.unwrap().into_inner();
                        let mut n = 0;
                        while let Some(chat) = stream.message().await.unwrap() {
                            sharing.count(&chat);
                            assert!(!chat.content.is_empty());
                            n += 1;
                        }
                        assert_eq!(n, stream_len as usize);
                        n
                    }
                })
                .await
            }
            Scenario::Logs => {
                measure(stream_n, 1, &bytes, &sharing, |_| {
                    let mut client = client.clone();
                    let sharing = client_sharing.clone();
                    async move {
                        let request = StreamRequest { count: stream_len };
                        if owned {
                            let stream = client.logs_owned(request).await.unwrap().into_inner();
                            let n = drain(stream, |l: &LogLine| !l.request.is_empty()).await;
                            assert_eq!(n, stream_len as usize);
                            return n;
                        }
                        let mut stream = client.logs(request).await.unwrap().into_inner();
                        let mut n = 0;
                        while let Some(log) = stream.message().await.unwrap() {
                            sharing.count(&log);
                            assert!(!log.request.is_empty());
                            n += 1;
                        }
                        assert_eq!(n, stream_len as usize);
                        n
                    }
                })
                .await
            }
        }
    } else {
        let mut grpc = tonic::client::Grpc::new(channel);
        if tonic_zstd {
            grpc = grpc
                .send_compressed(CompressionEncoding::Zstd)
                .accept_compressed(CompressionEncoding::Zstd);
        }
        match scenario {
            Scenario::Unary => {
                measure(unary_n, 200, &bytes, &sharing, |i| {
                    let mut grpc = grpc.clone();
                    let chat = data.p_chats[i % data.p_chats.len()].clone();
                    async move {
                        let expected = chat.content.len() as u64;
                        grpc.ready().await.unwrap();
                        let path = http::uri::PathAndQuery::from_static("/bench.Prost/post");
                        let codec = ProstCodec::<PChat, PAck>::default();
                        let ack = grpc.unary(Request::new(chat), path, codec).await.unwrap();
                        assert_eq!(ack.get_ref().len, expected);
                        1
                    }
                })
                .await
            }
            Scenario::Chats | Scenario::Logs => {
                let chats = matches!(scenario, Scenario::Chats);
                measure(stream_n, 1, &bytes, &sharing, |_| {
                    let mut grpc = grpc.clone();
                    async move {
                        grpc.ready().await.unwrap();
                        let request = Request::new(PStreamRequest { count: stream_len });
                        let n = if chats {
                            let path = http::uri::PathAndQuery::from_static("/bench.Prost/chats");
                            let codec = ProstCodec::<PStreamRequest, PChat>::default();
                            let stream = grpc.server_streaming(request, path, codec).await;
                            drain(stream.unwrap().into_inner(), |c: &PChat| {
                                !c.content.is_empty()
                            })
                            .await
                        } else {
                            let path = http::uri::PathAndQuery::from_static("/bench.Prost/logs");
                            let codec = ProstCodec::<PStreamRequest, PLog>::default();
                            let stream = grpc.server_streaming(request, path, codec).await;
                            drain(stream.unwrap().into_inner(), |l: &PLog| {
                                !l.request.is_empty()
                            })
                            .await
                        };
                        assert_eq!(n, stream_len as usize);
                        n
                    }
                })
                .await
            }
        }
    };
    task.abort();
    let (shared, copied) = sharing.take();
    (sample, (ours && !owned).then_some((shared, copied)))
}

async fn drain<T>(mut stream: Streaming<T>, check: fn(&T) -> bool) -> usize {
    let mut n = 0;
    while let Some(item) = stream.message().await.unwrap() {
        assert!(check(&item));
        n += 1;
    }
    n
}

// ---- the codec level ------------------------------------------------------------------------

/// Nanoseconds per item of `f` over `items`, the median of `rounds` passes.
fn per_item<T>(items: &[T], rounds: usize, mut f: impl FnMut(&T) -> usize) -> f64 {
    let mut times = Vec::with_capacity(rounds);
    let mut sink = 0usize;
    for _ in 0..rounds {
        let start = Instant::now();
        for item in items {
            sink = sink.wrapping_add(f(item));
        }
        times.push(start.elapsed().as_nanos() as f64 / items.len() as f64);
    }
    std::hint::black_box(sink);
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

fn codec_level(data: &Data, rounds: usize) {
    let hybrid = HybridCodec::<ChatMessage>::new();
    let frames: Vec<Bytes> = data
        .chats
        .iter()
        .map(|m| hybrid.encode(m).unwrap())
        .collect();
    // As on tonic's buffers: after a 5-byte prefix, so not 16-byte aligned.
    let unaligned: Vec<Bytes> = frames
        .iter()
        .map(|f| {
            let mut buf = Vec::with_capacity(f.len() + 5);
            buf.extend_from_slice(&[0; 5]);
            buf.extend_from_slice(f);
            Bytes::from(buf).slice(5..)
        })
        .collect();
    let protos: Vec<Vec<u8>> = data.p_chats.iter().map(|m| m.encode_to_vec()).collect();
    let dict_frames = {
        let options = with_dictionary(&data.chats);
        let codec = options.hybrid::<ChatMessage>();
        data.chats
            .iter()
            .map(|m| codec.encode(m).unwrap())
            .collect::<Vec<_>>()
    };
    for (frame, chat) in frames.iter().zip(&data.chats) {
        assert_eq!(&hybrid.decode(frame).unwrap(), chat);
    }
    for (proto, chat) in protos.iter().zip(&data.p_chats) {
        assert_eq!(&PChat::decode(&proto[..]).unwrap(), chat);
    }

    let prost_decode = per_item(&protos, rounds, |p| {
        PChat::decode(&p[..]).unwrap().content.len()
    });
    let ours_decode = per_item(&frames, rounds, |f| hybrid.decode(f).unwrap().content.len());
    let ours_access = per_item(&frames, rounds, |f| hybrid.access(f).unwrap().content.len());
    let ours_shared = per_item(&frames, rounds, |f| {
        hybrid.access_owned(f.clone()).unwrap().content.len()
    });
    let ours_copied = per_item(&unaligned, rounds, |f| {
        hybrid.access_owned(f.clone()).unwrap().content.len()
    });
    let mut out = Vec::with_capacity(512);
    let prost_encode = per_item(&data.p_chats, rounds, |m| {
        out.clear();
        m.encode(&mut out).unwrap();
        out.len()
    });
    let mut aligned = zerocodec::rkyv::util::AlignedVec::<16>::with_capacity(512);
    let ours_encode = per_item(&data.chats, rounds, |m| {
        aligned.clear();
        hybrid.encode_into(m, &mut aligned).unwrap();
        aligned.len()
    });
    let avg = |lens: &mut dyn Iterator<Item = usize>| {
        let (n, sum) = lens.fold((0, 0), |(n, s), l| (n + 1, s + l));
        sum as f64 / n as f64
    };
    let zstd_proto = avg(&mut protos
        .iter()
        .map(|p| zstd::bulk::compress(p, 3).unwrap().len()));
    println!("### Codec level: one chat message (mean of 1,000 seeded messages)\n");
    println!("| operation | ns per message | vs prost decode |");
    println!("|---|---:|---:|");
    let row = |name: &str, ns: f64| {
        println!("| {name} | {ns:.1} | {:.2}x |", prost_decode / ns);
    };
    row("prost decode", prost_decode);
    row("zerocodec decode (owned)", ours_decode);
    row("zerocodec access (in place, aligned)", ours_access);
    row(
        "zerocodec access_owned, aligned `Bytes` (shared)",
        ours_shared,
    );
    row(
        "zerocodec access_owned, unaligned `Bytes` (one copy; tonic's usual case)",
        ours_copied,
    );
    println!("| prost encode | {prost_encode:.1} | |");
    println!("| zerocodec encode (hybrid frame) | {ours_encode:.1} | |");
    println!();
    println!("| encoding | mean bytes per chat message |");
    println!("|---|---:|");
    println!("| prost | {:.1} |", avg(&mut protos.iter().map(Vec::len)));
    println!("| prost, zstd-3 alone (what tonic's zstd does to one message) | {zstd_proto:.1} |");
    println!(
        "| zerocodec hybrid frame | {:.1} |",
        avg(&mut frames.iter().map(Bytes::len))
    );
    println!(
        "| zerocodec hybrid frame, zstd with a dictionary | {:.1} |",
        avg(&mut dict_frames.iter().map(Bytes::len))
    );
    println!();
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    // `cargo bench` passes `--bench`; any filter argument is ignored: this runs everything.
    let scale = if quick { 10 } else { 1 };
    let data = Arc::new(Data::new());
    println!("## zerocodec-tonic against tonic-prost\n");
    codec_level(&data, if quick { 5 } else { 21 });

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let stream_len = 10_000;
    // Rounds interleave the variants, so that load from elsewhere on the machine falls on all
    // of them; each figure is the median round's (latencies: over all rounds' calls).
    let rounds = if quick { 1 } else { 5 };
    let per_round = (1_000 / scale, 4 / scale.min(4) + usize::from(quick));
    let scenarios = [Scenario::Unary, Scenario::Chats, Scenario::Logs];
    let mut rows: Vec<Row> = Vec::new();
    for scenario in scenarios {
        for variant in Variant::ALL {
            rows.push(Row {
                scenario: scenario.name(),
                variant: variant.name(),
                ..Row::default()
            });
        }
    }
    for _ in 0..rounds {
        let mut row = rows.iter_mut();
        for scenario in scenarios {
            for variant in Variant::ALL {
                let (sample, sharing) =
                    runtime.block_on(run(&data, scenario, variant, per_round, stream_len));
                row.next().unwrap().add(sample, sharing);
            }
        }
    }
    println!(
        "### Calls over tonic on 127.0.0.1 (client and server in one process, 2 worker threads)\n"
    );
    println!(
        "{rounds} rounds, the variants interleaved; per round and variant {} sequential unary \
         calls, or {} calls of a {stream_len}-message stream. Rates are the median round's; \
         latency is per call (for a stream, the whole stream) over all rounds; allocations \
         and wire bytes are per call (unary) or per message (streams).\n",
        per_round.0, per_round.1,
    );
    println!(
        "| scenario | variant | calls or messages/s | vs prost | p50 | p99 | allocations | bytes on the wire | archived views shared / copied |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|");
    let prost: Vec<(&str, f64)> = rows
        .iter()
        .filter(|r| r.variant == Variant::Prost.name())
        .map(|r| (r.scenario, r.rate()))
        .collect();
    for row in &mut rows {
        let vs_prost = prost
            .iter()
            .find(|(scenario, _)| *scenario == row.scenario)
            .map_or(f64::NAN, |(_, rate)| row.rate() / rate);
        let p50 = percentile(&mut row.latencies, 0.5);
        let p99 = percentile(&mut row.latencies, 0.99);
        let sharing = row
            .sharing
            .map_or("–".to_string(), |(s, c)| format!("{s} / {c}"));
        println!(
            "| {} | {} | {:.0} | {vs_prost:.2}x | {:.1} µs | {:.1} µs | {:.1} | {:.1} | {sharing} |",
            row.scenario,
            row.variant,
            row.rate(),
            p50.as_secs_f64() * 1e6,
            p99.as_secs_f64() * 1e6,
            row.allocations as f64 / row.moved as f64,
            row.wire as f64 / row.moved as f64,
        );
    }
}
