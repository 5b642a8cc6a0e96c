//! What the gRPC benchmark calls: one service on zerocodec frames (`service!`) and the same
//! calls on tonic-prost with prost messages holding the same fields (written as tonic-build
//! would generate it), the seeded data both serve, and servers on 127.0.0.1 whose socket
//! bytes are counted.

use std::io;
use std::marker::PhantomData;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::task::{Context, Poll, ready};

use futures::StreamExt;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tonic::codec::CompressionEncoding;
use tonic::codegen::{BoxFuture, Service, http};
use tonic::transport::Channel;
use tonic::transport::server::Connected;
use tonic::{Request, Response, Status};
use tonic_prost::ProstCodec;
use zerocodec::OwnedArchive;
use zerocodec_codecs::RkyvCodec;
use zerocodec_datasets::log::Log;
use zerocodec_datasets::messages::chat_messages;
use zerocodec_datasets::{ChatMessage, Rng, SEED};
use zerocodec_tonic::{
    Archived as ReadArchived, BoxStream, GrpcCodec, Owned as ReadOwned, service,
};

// ---- messages -------------------------------------------------------------------------------

/// The answer to a post.
#[zerocodec::message(name = "bench.Ack")]
pub(super) struct Ack {
    pub(super) len: u64,
}

/// How many messages to stream.
#[zerocodec::message(name = "bench.StreamRequest")]
pub(super) struct StreamRequest {
    pub(super) count: u32,
}

/// The log dataset's address.
#[zerocodec::message(name = "bench.LogAddress")]
#[derive(Clone)]
pub(super) struct LogAddress {
    pub(super) x0: u8,
    pub(super) x1: u8,
    pub(super) x2: u8,
    pub(super) x3: u8,
}

/// One line of the log dataset, as its own message.
#[zerocodec::message(name = "bench.LogLine")]
#[derive(Clone)]
pub(super) struct LogLine {
    pub(super) address: LogAddress,
    pub(super) identity: String,
    pub(super) userid: String,
    pub(super) date: String,
    pub(super) request: String,
    pub(super) code: u16,
    pub(super) size: u64,
}

#[derive(Clone, PartialEq, prost::Message)]
pub(super) struct PChat {
    #[prost(string, tag = "1")]
    pub(super) id: String,
    #[prost(string, tag = "2")]
    pub(super) content: String,
    #[prost(uint64, tag = "3")]
    pub(super) timestamp: u64,
    #[prost(string, tag = "4")]
    pub(super) sender: String,
    #[prost(string, tag = "5")]
    pub(super) room_id: String,
}

#[derive(Clone, PartialEq, prost::Message)]
pub(super) struct PAck {
    #[prost(uint64, tag = "1")]
    pub(super) len: u64,
}

#[derive(Clone, PartialEq, prost::Message)]
pub(super) struct PStreamRequest {
    #[prost(uint32, tag = "1")]
    pub(super) count: u32,
}

#[derive(Clone, PartialEq, prost::Message)]
pub(super) struct PAddress {
    #[prost(uint32, tag = "1")]
    pub(super) x0: u32,
    #[prost(uint32, tag = "2")]
    pub(super) x1: u32,
    #[prost(uint32, tag = "3")]
    pub(super) x2: u32,
    #[prost(uint32, tag = "4")]
    pub(super) x3: u32,
}

#[derive(Clone, PartialEq, prost::Message)]
pub(super) struct PLog {
    #[prost(message, optional, tag = "1")]
    pub(super) address: Option<PAddress>,
    #[prost(string, tag = "2")]
    pub(super) identity: String,
    #[prost(string, tag = "3")]
    pub(super) userid: String,
    #[prost(string, tag = "4")]
    pub(super) date: String,
    #[prost(string, tag = "5")]
    pub(super) request: String,
    #[prost(uint32, tag = "6")]
    pub(super) code: u32,
    #[prost(uint64, tag = "7")]
    pub(super) size: u64,
}

pub(super) fn p_chat(m: &ChatMessage) -> PChat {
    PChat {
        id: m.id.clone(),
        content: m.content.clone(),
        timestamp: m.timestamp,
        sender: m.sender.clone(),
        room_id: m.room_id.clone(),
    }
}

pub(super) fn log_line(l: &Log) -> LogLine {
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

pub(super) fn p_log(l: &LogLine) -> PLog {
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

/// The shared data: 1,000 chat messages and 1,000 log lines, streamed cyclically, and as
/// many others of each (another seed) to train the dictionaries on, so that the dictionary
/// variants are measured on messages their dictionary has not seen.
pub(super) struct Data {
    pub(super) chats: Vec<ChatMessage>,
    pub(super) p_chats: Vec<PChat>,
    pub(super) logs: Vec<LogLine>,
    pub(super) p_logs: Vec<PLog>,
    pub(super) train_chats: Vec<ChatMessage>,
    pub(super) train_logs: Vec<LogLine>,
}

/// `n` log lines from `seed`.
fn log_lines(seed: u64, n: usize) -> Vec<LogLine> {
    let mut rng = Rng::new(seed);
    (0..n).map(|_| log_line(&Log::generate(&mut rng))).collect()
}

impl Data {
    pub(super) fn new() -> Self {
        let chats = chat_messages(SEED, 1_000);
        let logs = log_lines(SEED, 1_000);
        Self {
            p_chats: chats.iter().map(p_chat).collect(),
            p_logs: logs.iter().map(p_log).collect(),
            chats,
            logs,
            train_chats: chat_messages(SEED + 1, 1_000),
            train_logs: log_lines(SEED + 1, 1_000),
        }
    }
}

/// Counts archived views that shared tonic's buffer, and those copied once.
#[derive(Default)]
pub(super) struct Sharing {
    shared: AtomicU64,
    copied: AtomicU64,
}

impl Sharing {
    pub(super) fn count<T: zerocodec::ZeroCopy>(&self, archive: &OwnedArchive<T>) {
        let counter = if archive.is_shared() {
            &self.shared
        } else {
            &self.copied
        };
        counter.fetch_add(1, Relaxed);
    }

    pub(super) fn take(&self) -> (u64, u64) {
        (self.shared.swap(0, Relaxed), self.copied.swap(0, Relaxed))
    }
}

// ---- our service ----------------------------------------------------------------------------

service! {
    /// The benchmark's calls, on zerocodec frames.
    pub(super) service Bench = "bench.Bench" {
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

pub(super) struct Ours {
    pub(super) data: Arc<Data>,
    pub(super) sharing: Arc<Sharing>,
}

/// `count` items of `items`, cyclically, cloned (as a server holding its data would).
pub(super) fn cycle<T: Clone + Send + Sync + 'static, U: Send + 'static>(
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
pub(super) struct ProstServer {
    pub(super) data: Arc<Data>,
    pub(super) compress: bool,
}

impl tonic::server::NamedService for ProstServer {
    const NAME: &'static str = "bench.Prost";
}

pub(super) struct PostSvc;

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

/// A stream request: how many messages to stream.
pub(super) trait Count {
    fn count(&self) -> u32;
}

impl Count for PStreamRequest {
    fn count(&self) -> u32 {
        self.count
    }
}

impl Count for StreamRequest {
    fn count(&self) -> u32 {
        self.count
    }
}

/// A server stream of `T`s from `Data`, asked for by an `R`.
pub(super) struct StreamSvc<T: Send + 'static, R = PStreamRequest>(
    Arc<Data>,
    fn(&Data) -> &[T],
    PhantomData<fn(R)>,
);

impl<T, R> tonic::server::ServerStreamingService<R> for StreamSvc<T, R>
where
    T: Clone + Send + Sync + 'static,
    R: Count + Send + 'static,
{
    type Response = T;
    type ResponseStream = BoxStream<T>;
    type Future = BoxFuture<Response<BoxStream<T>>, Status>;
    fn call(&mut self, request: Request<R>) -> Self::Future {
        let stream = cycle(self.0.clone(), request.get_ref().count(), self.1, T::clone);
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
                let svc = StreamSvc(self.data.clone(), |d: &Data| &d.p_chats[..], PhantomData);
                let codec = ProstCodec::<PChat, PStreamRequest>::default();
                let mut grpc = zstd(compress, tonic::server::Grpc::new(codec));
                Box::pin(async move { Ok(grpc.server_streaming(svc, req).await) })
            }
            "/bench.Prost/logs" => {
                let svc = StreamSvc(self.data.clone(), |d: &Data| &d.p_logs[..], PhantomData);
                let codec = ProstCodec::<PLog, PStreamRequest>::default();
                let mut grpc = zstd(compress, tonic::server::Grpc::new(codec));
                Box::pin(async move { Ok(grpc.server_streaming(svc, req).await) })
            }
            _ => Box::pin(async { Ok(Status::unimplemented("no such method").into_http()) }),
        }
    }
}

/// `grpc` with tonic's zstd both ways, when `on`.
pub(super) fn zstd<C: tonic::codec::Codec>(
    on: bool,
    grpc: tonic::server::Grpc<C>,
) -> tonic::server::Grpc<C> {
    match on {
        true => grpc
            .accept_compressed(CompressionEncoding::Zstd)
            .send_compressed(CompressionEncoding::Zstd),
        false => grpc,
    }
}

// ---- raw rkyv: the reference with no zerocodec frame ----------------------------------------

/// The same calls with each message a bare rkyv archive ([`RkyvCodec`]: no frame header, no
/// fingerprint, no compression), read in place as ours are: the reference that shows what any
/// rkyv codec inside tonic reaches on these calls.
#[derive(Clone)]
pub(super) struct RawServer {
    pub(super) data: Arc<Data>,
    pub(super) sharing: Arc<Sharing>,
}

impl tonic::server::NamedService for RawServer {
    const NAME: &'static str = "bench.Raw";
}

/// A raw codec that writes `E`s and reads `D`s into owned values.
pub(super) fn raw<E, D>() -> GrpcCodec<RkyvCodec<E>, ReadOwned<RkyvCodec<D>>> {
    GrpcCodec::new(RkyvCodec::new(), ReadOwned(RkyvCodec::new()))
}

/// A raw codec that writes `E`s and reads `D`s as validated archived views.
pub(super) fn raw_archived<E, D>() -> GrpcCodec<RkyvCodec<E>, ReadArchived<RkyvCodec<D>>> {
    GrpcCodec::new(RkyvCodec::new(), ReadArchived(RkyvCodec::new()))
}

pub(super) struct RawPostSvc(Arc<Sharing>);

impl tonic::server::UnaryService<OwnedArchive<ChatMessage>> for RawPostSvc {
    type Response = Ack;
    type Future = BoxFuture<Response<Ack>, Status>;
    fn call(&mut self, request: Request<OwnedArchive<ChatMessage>>) -> Self::Future {
        let chat = request.into_inner();
        self.0.count(&chat);
        let len = chat.content.len() as u64;
        Box::pin(async move { Ok(Response::new(Ack { len })) })
    }
}

impl<B> Service<http::Request<B>> for RawServer
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
        match req.uri().path() {
            "/bench.Raw/post" => {
                let svc = RawPostSvc(self.sharing.clone());
                let mut grpc = tonic::server::Grpc::new(raw_archived::<Ack, ChatMessage>());
                Box::pin(async move { Ok(grpc.unary(svc, req).await) })
            }
            "/bench.Raw/chats" => {
                let svc = StreamSvc(self.data.clone(), |d: &Data| &d.chats[..], PhantomData);
                let mut grpc = tonic::server::Grpc::new(raw::<ChatMessage, StreamRequest>());
                Box::pin(async move { Ok(grpc.server_streaming(svc, req).await) })
            }
            "/bench.Raw/logs" => {
                let svc = StreamSvc(self.data.clone(), |d: &Data| &d.logs[..], PhantomData);
                let mut grpc = tonic::server::Grpc::new(raw::<LogLine, StreamRequest>());
                Box::pin(async move { Ok(grpc.server_streaming(svc, req).await) })
            }
            _ => Box::pin(async { Ok(Status::unimplemented("no such method").into_http()) }),
        }
    }
}

// ---- counting the bytes on the server's socket ----------------------------------------------

pub(super) struct Counted {
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
pub(super) async fn serve(
    router: tonic::transport::server::Router,
) -> Result<(SocketAddr, Arc<AtomicU64>, tokio::task::JoinHandle<()>), String> {
    let bound = |err: io::Error| format!("cannot listen on 127.0.0.1: {err}");
    let listener = TcpListener::bind("127.0.0.1:0").await.map_err(bound)?;
    let addr = listener.local_addr().map_err(bound)?;
    let bytes = Arc::new(AtomicU64::new(0));
    let counter = bytes.clone();
    let incoming = futures::stream::unfold(listener, move |listener| {
        let bytes = counter.clone();
        async move {
            let accepted = listener.accept().await.and_then(|(inner, _)| {
                inner.set_nodelay(true)?;
                Ok(Counted { inner, bytes })
            });
            Some((accepted, listener))
        }
    });
    let task = tokio::spawn(async move {
        // Its clients' calls fail when it stops, and say so; this says why.
        if let Err(err) = router.serve_with_incoming(incoming).await {
            eprintln!("the benchmark's gRPC server on {addr} stopped: {err}");
        }
    });
    Ok((addr, bytes, task))
}

pub(super) async fn channel(addr: SocketAddr) -> Result<Channel, String> {
    let endpoint = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .map_err(|err| format!("no endpoint for {addr}: {err}"))?;
    endpoint
        .tcp_nodelay(true)
        .connect()
        .await
        .map_err(|err| format!("cannot connect to the benchmark's gRPC server on {addr}: {err}"))
}
