//! zerocodec messages over gRPC, through tonic.
//!
//! [`GrpcCodec`] is a tonic [`Codec`](tonic::codec::Codec) for zerocodec codecs, as
//! tonic-prost's `ProstCodec` is for prost: with [`HybridCodec`]s each gRPC message is one
//! hybrid frame (an rkyv archive with its type's schema fingerprint, compressed with lz4 or
//! zstd, with a trained dictionary or not), and a reader also reads header-less legacy JSON,
//! answering such clients in JSON. A message is read either into an owned value ([`Owned`])
//! or as a validated archived view, [`OwnedArchive<T>`] ([`Archived`]), which a handler reads
//! in place without deserializing it. [`service!`] defines a service without protobuf: a
//! server trait, its tonic server and a client, with unary, server-streaming,
//! client-streaming and bidirectional methods.
//!
//! # Examples
//!
//! A unary service on 127.0.0.1, called by its client:
//!
//! ```
//! use tonic::{Request, Response, Status};
//! use zerocodec::OwnedArchive;
//! use zerocodec_tonic::service;
//!
//! #[zerocodec::message]
//! #[derive(Debug)]
//! pub struct Greet { pub name: String }
//! #[zerocodec::message]
//! #[derive(Debug)]
//! pub struct Greeting { pub text: String }
//!
//! service! {
//!     /// Greets whoever asks.
//!     pub service Greeter = "demo.Greeter" {
//!         server GreeterServer;
//!         client GreeterClient;
//!
//!         /// The request is read in place: an archived view, validated once.
//!         rpc greet(archived Greet) returns (Greeting);
//!     }
//! }
//!
//! struct Polite;
//!
//! impl Greeter for Polite {
//!     async fn greet(
//!         &self,
//!         request: Request<OwnedArchive<Greet>>,
//!     ) -> Result<Response<Greeting>, Status> {
//!         let name: &str = &request.get_ref().name; // no deserialization
//!         Ok(Response::new(Greeting { text: format!("hello, {name}") }))
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let addr = listener.local_addr()?;
//! tokio::spawn(
//!     tonic::transport::Server::builder()
//!         .add_service(GreeterServer::new(Polite))
//!         .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener)),
//! );
//! let mut client = GreeterClient::connect(format!("http://{addr}")).await?;
//! let reply = client.greet(Greet { name: "ada".into() }).await?.into_inner();
//! assert_eq!(reply.text, "hello, ada");
//! # Ok(())
//! # }
//! ```
//!
//! # Compression and limits
//!
//! [`FrameOptions`] (a server's or client's `with_frames`) sets compression, trained
//! dictionaries, decompression limits and checksums for every message of a service; its
//! docs say when to use zerocodec's compression and when tonic's gzip and zstd, and how
//! tonic's message-size limits and zerocodec's decompression limits divide the work.
//!
//! # Errors
//!
//! A message that does not decode becomes a [`tonic::Status`] whose code a client can act on
//! ([`code_of`] has the table): `InvalidArgument` for malformed input or a frame of another
//! type (naming both), `ResourceExhausted` for a size over a limit, `FailedPrecondition` for
//! an unknown dictionary.
//!
//! # Rust version
//!
//! This crate needs Rust 1.88, as tonic 0.14 does; `zerocodec` and `zerocodec-codecs` need
//! 1.85.
//!
//! [`HybridCodec`]: zerocodec_codecs::HybridCodec
//! [`OwnedArchive<T>`]: zerocodec::OwnedArchive

mod codec;
mod options;
mod service;
mod status;

pub use codec::{
    Archived, ArchivedGrpcCodec, GrpcCodec, GrpcDecoder, GrpcEncode, GrpcEncoder, HybridGrpcCodec,
    Owned, Read, ReadMode,
};
pub use options::FrameOptions;
pub use status::{MessageType, code_of, to_status};

/// A server-streaming or bidirectional method's response stream, boxed (what a
/// [`service!`] trait method returns for `returns (stream T)`).
pub type BoxStream<T> = std::pin::Pin<
    Box<dyn tonic::codegen::tokio_stream::Stream<Item = Result<T, tonic::Status>> + Send + 'static>,
>;

/// What [`service!`]'s expansion names; not part of the API.
#[doc(hidden)]
pub mod __private {
    pub use std::sync::Arc;
    pub use std::task::{Context, Poll};

    pub use tonic;
    pub use tonic::codegen::{
        Body, BoxFuture, Bytes, CompressionEncoding, EnabledCompressionEncodings, GrpcMethod,
        InterceptedService, Service, StdError, http,
    };
    pub use zerocodec::OwnedArchive;

    /// The status of a call whose transport was not ready (as tonic-build's clients say it).
    #[cold]
    pub fn not_ready(err: impl Into<StdError>) -> tonic::Status {
        tonic::Status::unknown(format!("service was not ready: {}", err.into()))
    }

    /// The answer to a path that names no method of the service.
    pub fn unimplemented() -> BoxFuture<http::Response<tonic::body::Body>, std::convert::Infallible>
    {
        Box::pin(async {
            let mut response = http::Response::new(tonic::body::Body::default());
            let headers = response.headers_mut();
            headers.insert(
                tonic::Status::GRPC_STATUS,
                (tonic::Code::Unimplemented as i32).into(),
            );
            headers.insert(
                http::header::CONTENT_TYPE,
                tonic::metadata::GRPC_CONTENT_TYPE,
            );
            Ok(response)
        })
    }
}
