//! [`service!`](crate::service!): a gRPC service without protobuf, its server and its client.

/// Defines a gRPC service whose messages are zerocodec messages: a server trait, a tonic
/// server for it, and a client.
///
/// ```text
/// service! {
///     /// Docs of the trait.
///     pub service Chat = "chat.Chat" {      // trait name = gRPC service name
///         server ChatServer;                // the tonic service that serves a `T: Chat`
///         client ChatClient;                // the client
///
///         rpc post(Post) returns (Posted);                 // unary
///         rpc history(Query) returns (stream Entry);       // server streaming
///         rpc upload(stream Entry) returns (Summary);      // client streaming
///         rpc live(stream Post) returns (stream Event);    // bidirectional
///     }
/// }
/// ```
///
/// The method's gRPC path is `/{service name}/{method}` (`/chat.Chat/post`), so a client of
/// any kind calls it by that path. Every message type must be a [`HybridMessage`]
/// (`#[zerocodec::message]` gives all it needs); each message is one hybrid frame
/// ([`GrpcCodec`]). Write `archived` before a type to read it as a validated archived view,
/// [`OwnedArchive<T>`]: before a request type for the server, before a response type for the
/// client (`rpc post(archived Post) returns (Posted);` hands the server an
/// `OwnedArchive<Post>`).
///
/// # What it generates
///
/// - `trait Chat: Send + Sync + 'static`, one method per rpc, implemented with `async fn`:
///   `async fn post(&self, request: tonic::Request<Post>) -> Result<tonic::Response<Posted>,
///   tonic::Status>`. A streamed request comes as `tonic::Request<tonic::Streaming<Post>>`; a
///   streamed response is a [`BoxStream<Event>`].
/// - `ChatServer<T>`: a tonic service (`Server::builder().add_service(ChatServer::new(chat))`)
///   with the builders tonic-build's servers have (`accept_compressed`, `send_compressed`,
///   `max_decoding_message_size`, `max_encoding_message_size`, `from_arc`,
///   `with_interceptor`) and `with_frames(`[`FrameOptions`]`)`.
/// - `ChatClient<T>`: a client over any tonic transport (`ChatClient::new(channel)`, with the
///   `transport` feature `ChatClient::connect("http://...")`), with the same builders and one
///   `async fn` per rpc.
///
/// A macro rather than tonic-build's manual builder in a build script: tonic-build's generated
/// code builds each call's codec with `Default`, so compression, dictionaries and limits could
/// only come from globals, while here they are the server's and client's own
/// ([`FrameOptions`]); and the macro needs no build script, no generated files and no
/// build-time dependencies. ([`HybridGrpcCodec`] is `Default`, so a service built with
/// tonic-build's manual builder can name it as `codec_path` and get default frames.)
///
/// # Examples
///
/// ```
/// use tonic::{Request, Response, Status};
/// use zerocodec_tonic::service;
///
/// #[zerocodec::message]
/// #[derive(Debug)]
/// pub struct Ping { pub seq: u64 }
/// #[zerocodec::message]
/// #[derive(Debug)]
/// pub struct Pong { pub seq: u64 }
///
/// service! {
///     /// Answers pings.
///     pub service Echo = "demo.Echo" {
///         server EchoServer;
///         client EchoClient;
///
///         /// Echoes the sequence number.
///         rpc ping(Ping) returns (Pong);
///     }
/// }
///
/// struct Echoer;
///
/// impl Echo for Echoer {
///     async fn ping(&self, request: Request<Ping>) -> Result<Response<Pong>, Status> {
///         Ok(Response::new(Pong { seq: request.into_inner().seq }))
///     }
/// }
///
/// let server = EchoServer::new(Echoer); // for `tonic::transport::Server::add_service`
/// # let _ = server;
/// ```
///
/// [`HybridMessage`]: zerocodec_codecs::HybridMessage
/// [`GrpcCodec`]: crate::GrpcCodec
/// [`OwnedArchive<T>`]: zerocodec::OwnedArchive
/// [`BoxStream<Event>`]: crate::BoxStream
/// [`FrameOptions`]: crate::FrameOptions
/// [`HybridGrpcCodec`]: crate::HybridGrpcCodec
#[macro_export]
macro_rules! service {
    (
        $(#[$attr:meta])*
        $vis:vis service $trait:ident = $name:literal {
            server $server:ident;
            client $client:ident;
            $(
                $(#[$mattr:meta])*
                rpc $method:ident ( $($req:tt)+ ) returns ( $($resp:tt)+ );
            )*
        }
    ) => {
        $(#[$attr])*
        $vis trait $trait: ::core::marker::Send + ::core::marker::Sync + 'static {
            $(
                $crate::__rpc!(server_trait { $(#[$mattr])* $method } ($($req)+) ($($resp)+));
            )*
        }

        #[doc = concat!("Serves a [`", stringify!($trait), "`] as the gRPC service `", $name, "`.")]
        $vis struct $server<T> {
            inner: $crate::__private::Arc<T>,
            frames: $crate::FrameOptions,
            accept_compression_encodings: $crate::__private::EnabledCompressionEncodings,
            send_compression_encodings: $crate::__private::EnabledCompressionEncodings,
            max_decoding_message_size: ::core::option::Option<usize>,
            max_encoding_message_size: ::core::option::Option<usize>,
        }

        #[allow(dead_code, reason = "tonic-build's builders; a program uses the ones it needs")]
        impl<T> $server<T> {
            /// The request and response types of each method, for naming the type of a
            /// mismatched frame.
            const MESSAGE_TYPES: &'static [[$crate::MessageType; 2]] = &[
                $( [
                    $crate::__rpc!(message_type ($($req)+)),
                    $crate::__rpc!(message_type ($($resp)+)),
                ] ),*
            ];

            /// Serves `inner` with the default frames.
            $vis fn new(inner: T) -> Self {
                Self::from_arc($crate::__private::Arc::new(inner))
            }

            /// Serves a shared `inner`.
            $vis fn from_arc(inner: $crate::__private::Arc<T>) -> Self {
                Self {
                    inner,
                    frames: $crate::FrameOptions::new(),
                    accept_compression_encodings: ::core::default::Default::default(),
                    send_compression_encodings: ::core::default::Default::default(),
                    max_decoding_message_size: ::core::option::Option::None,
                    max_encoding_message_size: ::core::option::Option::None,
                }
            }

            /// Serves `inner` behind a tonic interceptor.
            $vis fn with_interceptor<F>(
                inner: T,
                interceptor: F,
            ) -> $crate::__private::InterceptedService<Self, F>
            where
                F: $crate::__private::tonic::service::Interceptor,
            {
                $crate::__private::InterceptedService::new(Self::new(inner), interceptor)
            }

            /// Writes and reads frames with `frames` (compression, dictionaries, limits).
            #[must_use]
            $vis fn with_frames(mut self, frames: $crate::FrameOptions) -> Self {
                self.frames = frames;
                self
            }

            /// The frame settings.
            $vis fn frames(&self) -> &$crate::FrameOptions {
                &self.frames
            }

            /// Accepts requests that tonic compressed with `encoding`.
            #[must_use]
            $vis fn accept_compressed(
                mut self,
                encoding: $crate::__private::CompressionEncoding,
            ) -> Self {
                self.accept_compression_encodings.enable(encoding);
                self
            }

            /// Compresses responses with tonic's `encoding` when the client accepts it.
            #[must_use]
            $vis fn send_compressed(
                mut self,
                encoding: $crate::__private::CompressionEncoding,
            ) -> Self {
                self.send_compression_encodings.enable(encoding);
                self
            }

            /// tonic's limit on a received message (default 4 MiB).
            #[must_use]
            $vis fn max_decoding_message_size(mut self, limit: usize) -> Self {
                self.max_decoding_message_size = ::core::option::Option::Some(limit);
                self
            }

            /// tonic's limit on a sent message (default `usize::MAX`).
            #[must_use]
            $vis fn max_encoding_message_size(mut self, limit: usize) -> Self {
                self.max_encoding_message_size = ::core::option::Option::Some(limit);
                self
            }
        }

        impl<T> ::core::clone::Clone for $server<T> {
            fn clone(&self) -> Self {
                Self {
                    inner: ::core::clone::Clone::clone(&self.inner),
                    frames: ::core::clone::Clone::clone(&self.frames),
                    accept_compression_encodings: self.accept_compression_encodings,
                    send_compression_encodings: self.send_compression_encodings,
                    max_decoding_message_size: self.max_decoding_message_size,
                    max_encoding_message_size: self.max_encoding_message_size,
                }
            }
        }

        impl<T> ::core::fmt::Debug for $server<T> {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.debug_struct(stringify!($server))
                    .field("frames", &self.frames)
                    .finish_non_exhaustive()
            }
        }

        impl<T> $crate::__private::tonic::server::NamedService for $server<T> {
            const NAME: &'static str = $name;
        }

        impl<T, B> $crate::__private::Service<$crate::__private::http::Request<B>> for $server<T>
        where
            T: $trait,
            B: $crate::__private::Body + ::core::marker::Send + 'static,
            B::Error: ::core::convert::Into<$crate::__private::StdError>
                + ::core::marker::Send
                + 'static,
        {
            type Response = $crate::__private::http::Response<$crate::__private::tonic::body::Body>;
            type Error = ::core::convert::Infallible;
            type Future = $crate::__private::BoxFuture<Self::Response, Self::Error>;

            fn poll_ready(
                &mut self,
                _cx: &mut $crate::__private::Context<'_>,
            ) -> $crate::__private::Poll<::core::result::Result<(), Self::Error>> {
                $crate::__private::Poll::Ready(::core::result::Result::Ok(()))
            }

            fn call(&mut self, req: $crate::__private::http::Request<B>) -> Self::Future {
                $(
                    $crate::__rpc!(
                        server_call { $name $trait $method self req } ($($req)+) ($($resp)+)
                    );
                )*
                $crate::__private::unimplemented()
            }
        }

        #[doc = concat!("A client of the gRPC service `", $name, "` ([`", stringify!($trait), "`]).")]
        #[derive(Debug, Clone)]
        $vis struct $client<T> {
            inner: $crate::__private::tonic::client::Grpc<T>,
            frames: $crate::FrameOptions,
        }

        $crate::__connect!($vis $client);

        #[allow(dead_code, reason = "tonic-build's builders; a program uses the ones it needs")]
        impl<T> $client<T>
        where
            T: $crate::__private::tonic::client::GrpcService<$crate::__private::tonic::body::Body>,
            T::Error: ::core::convert::Into<$crate::__private::StdError>,
            T::ResponseBody: $crate::__private::Body<Data = $crate::__private::Bytes>
                + ::core::marker::Send
                + 'static,
            <T::ResponseBody as $crate::__private::Body>::Error:
                ::core::convert::Into<$crate::__private::StdError> + ::core::marker::Send,
        {
            /// The request and response types of each method, for naming the type of a
            /// mismatched frame.
            const MESSAGE_TYPES: &'static [[$crate::MessageType; 2]] = &[
                $( [
                    $crate::__rpc!(message_type ($($req)+)),
                    $crate::__rpc!(message_type ($($resp)+)),
                ] ),*
            ];

            /// A client over `inner`, a tonic transport (a `Channel`, or any `GrpcService`).
            $vis fn new(inner: T) -> Self {
                Self {
                    inner: $crate::__private::tonic::client::Grpc::new(inner),
                    frames: $crate::FrameOptions::new(),
                }
            }

            /// A client over `inner` that sends requests to `origin`.
            $vis fn with_origin(inner: T, origin: $crate::__private::http::Uri) -> Self {
                Self {
                    inner: $crate::__private::tonic::client::Grpc::with_origin(inner, origin),
                    frames: $crate::FrameOptions::new(),
                }
            }

            /// Writes and reads frames with `frames` (compression, dictionaries, limits).
            #[must_use]
            $vis fn with_frames(mut self, frames: $crate::FrameOptions) -> Self {
                self.frames = frames;
                self
            }

            /// The frame settings.
            $vis fn frames(&self) -> &$crate::FrameOptions {
                &self.frames
            }

            /// Compresses requests with tonic's `encoding` (the server must accept it).
            #[must_use]
            $vis fn send_compressed(
                mut self,
                encoding: $crate::__private::CompressionEncoding,
            ) -> Self {
                self.inner = self.inner.send_compressed(encoding);
                self
            }

            /// Accepts responses that tonic compressed with `encoding`.
            #[must_use]
            $vis fn accept_compressed(
                mut self,
                encoding: $crate::__private::CompressionEncoding,
            ) -> Self {
                self.inner = self.inner.accept_compressed(encoding);
                self
            }

            /// tonic's limit on a received message (default 4 MiB).
            #[must_use]
            $vis fn max_decoding_message_size(mut self, limit: usize) -> Self {
                self.inner = self.inner.max_decoding_message_size(limit);
                self
            }

            /// tonic's limit on a sent message (default `usize::MAX`).
            #[must_use]
            $vis fn max_encoding_message_size(mut self, limit: usize) -> Self {
                self.inner = self.inner.max_encoding_message_size(limit);
                self
            }

            $(
                $crate::__rpc!(
                    client_method { [$vis] $name $(#[$mattr])* $method } ($($req)+) ($($resp)+)
                );
            )*
        }
    };
}

/// The per-method parts of [`service!`]: each side of a method is normalized to
/// `[unary|stream] [owned|archived] [type]`, then the site's code is emitted.
#[doc(hidden)]
#[macro_export]
macro_rules! __rpc {
    // The identity of a side's message type.
    (message_type (stream archived $t:ty)) => { $crate::MessageType::of::<$t>() };
    (message_type (stream $t:ty)) => { $crate::MessageType::of::<$t>() };
    (message_type (archived $t:ty)) => { $crate::MessageType::of::<$t>() };
    (message_type ($t:ty)) => { $crate::MessageType::of::<$t>() };

    // What a side reads as.
    (read_type owned $t:ty) => { $t };
    (read_type archived $t:ty) => { $crate::__private::OwnedArchive<$t> };

    // The codec that writes `$enc`s and reads `$dec`s in mode `$mode`.
    (codec owned $frames:expr, $enc:ty, $dec:ty) => { $frames.codec::<$enc, $dec>() };
    (codec archived $frames:expr, $enc:ty, $dec:ty) => { $frames.archived_codec::<$enc, $dec>() };

    // Normalize the response side, then emit.
    (@resp $site:ident $ctx:tt $req:tt (stream archived $t:ty)) => {
        $crate::__rpc!(@emit $site $ctx $req [stream archived $t]);
    };
    (@resp $site:ident $ctx:tt $req:tt (stream $t:ty)) => {
        $crate::__rpc!(@emit $site $ctx $req [stream owned $t]);
    };
    (@resp $site:ident $ctx:tt $req:tt (archived $t:ty)) => {
        $crate::__rpc!(@emit $site $ctx $req [unary archived $t]);
    };
    (@resp $site:ident $ctx:tt $req:tt ($t:ty)) => {
        $crate::__rpc!(@emit $site $ctx $req [unary owned $t]);
    };

    // ---- the server trait's method ----
    (@emit server_trait { $(#[$m:meta])* $method:ident }
        [$rk:ident $rm:ident $req:ty] [$pk:ident $pm:ident $resp:ty]) => {
        $(#[$m])*
        fn $method(
            &self,
            request: $crate::__private::tonic::Request<$crate::__rpc!(@request_arg $rk $rm $req)>,
        ) -> impl ::core::future::Future<
            Output = ::core::result::Result<
                $crate::__private::tonic::Response<$crate::__rpc!(@response_ret $pk $resp)>,
                $crate::__private::tonic::Status,
            >,
        > + ::core::marker::Send;
    };
    (@request_arg unary $rm:ident $req:ty) => { $crate::__rpc!(read_type $rm $req) };
    (@request_arg stream $rm:ident $req:ty) => {
        $crate::__private::tonic::Streaming<$crate::__rpc!(read_type $rm $req)>
    };
    (@response_ret unary $resp:ty) => { $resp };
    (@response_ret stream $resp:ty) => { $crate::BoxStream<$resp> };

    // ---- the server's dispatch to one method ----
    (@emit server_call { $name:literal $trait:ident $method:ident $this:ident $req_in:ident }
        [unary $rm:ident $req:ty] [unary $pm:ident $resp:ty]) => {
        if $req_in.uri().path() == concat!("/", $name, "/", stringify!($method)) {
        return {
        struct Method<T>($crate::__private::Arc<T>);
        impl<T: $trait> $crate::__private::tonic::server::UnaryService<$crate::__rpc!(read_type $rm $req)>
            for Method<T>
        {
            type Response = $resp;
            type Future = $crate::__private::BoxFuture<
                $crate::__private::tonic::Response<$resp>,
                $crate::__private::tonic::Status,
            >;
            fn call(
                &mut self,
                request: $crate::__private::tonic::Request<$crate::__rpc!(read_type $rm $req)>,
            ) -> Self::Future {
                let inner = $crate::__private::Arc::clone(&self.0);
                ::std::boxed::Box::pin(async move { <T as $trait>::$method(&inner, request).await })
            }
        }
        $crate::__rpc!(@serve unary $this $req_in Method, $rm, $resp, $req)
        };
        }
    };
    (@emit server_call { $name:literal $trait:ident $method:ident $this:ident $req_in:ident }
        [unary $rm:ident $req:ty] [stream $pm:ident $resp:ty]) => {
        if $req_in.uri().path() == concat!("/", $name, "/", stringify!($method)) {
        return {
        struct Method<T>($crate::__private::Arc<T>);
        impl<T: $trait>
            $crate::__private::tonic::server::ServerStreamingService<$crate::__rpc!(read_type $rm $req)>
            for Method<T>
        {
            type Response = $resp;
            type ResponseStream = $crate::BoxStream<$resp>;
            type Future = $crate::__private::BoxFuture<
                $crate::__private::tonic::Response<Self::ResponseStream>,
                $crate::__private::tonic::Status,
            >;
            fn call(
                &mut self,
                request: $crate::__private::tonic::Request<$crate::__rpc!(read_type $rm $req)>,
            ) -> Self::Future {
                let inner = $crate::__private::Arc::clone(&self.0);
                ::std::boxed::Box::pin(async move { <T as $trait>::$method(&inner, request).await })
            }
        }
        $crate::__rpc!(@serve server_streaming $this $req_in Method, $rm, $resp, $req)
        };
        }
    };
    (@emit server_call { $name:literal $trait:ident $method:ident $this:ident $req_in:ident }
        [stream $rm:ident $req:ty] [unary $pm:ident $resp:ty]) => {
        if $req_in.uri().path() == concat!("/", $name, "/", stringify!($method)) {
        return {
        struct Method<T>($crate::__private::Arc<T>);
        impl<T: $trait>
            $crate::__private::tonic::server::ClientStreamingService<$crate::__rpc!(read_type $rm $req)>
            for Method<T>
        {
            type Response = $resp;
            type Future = $crate::__private::BoxFuture<
                $crate::__private::tonic::Response<$resp>,
                $crate::__private::tonic::Status,
            >;
            fn call(
                &mut self,
                request: $crate::__private::tonic::Request<
                    $crate::__private::tonic::Streaming<$crate::__rpc!(read_type $rm $req)>,
                >,
            ) -> Self::Future {
                let inner = $crate::__private::Arc::clone(&self.0);
                ::std::boxed::Box::pin(async move { <T as $trait>::$method(&inner, request).await })
            }
        }
        $crate::__rpc!(@serve client_streaming $this $req_in Method, $rm, $resp, $req)
        };
        }
    };
    (@emit server_call { $name:literal $trait:ident $method:ident $this:ident $req_in:ident }
        [stream $rm:ident $req:ty] [stream $pm:ident $resp:ty]) => {
        if $req_in.uri().path() == concat!("/", $name, "/", stringify!($method)) {
        return {
        struct Method<T>($crate::__private::Arc<T>);
        impl<T: $trait>
            $crate::__private::tonic::server::StreamingService<$crate::__rpc!(read_type $rm $req)>
            for Method<T>
        {
            type Response = $resp;
            type ResponseStream = $crate::BoxStream<$resp>;
            type Future = $crate::__private::BoxFuture<
                $crate::__private::tonic::Response<Self::ResponseStream>,
                $crate::__private::tonic::Status,
            >;
            fn call(
                &mut self,
                request: $crate::__private::tonic::Request<
                    $crate::__private::tonic::Streaming<$crate::__rpc!(read_type $rm $req)>,
                >,
            ) -> Self::Future {
                let inner = $crate::__private::Arc::clone(&self.0);
                ::std::boxed::Box::pin(async move { <T as $trait>::$method(&inner, request).await })
            }
        }
        $crate::__rpc!(@serve streaming $this $req_in Method, $rm, $resp, $req)
        };
        }
    };
    // Runs one call through tonic's server with this server's settings and frames.
    (@serve $kind:ident $this:ident $req_in:ident $svc:ident, $rm:ident, $resp:ty, $req:ty) => {{
        let codec = $crate::__rpc!(codec $rm $this.frames, $resp, $req)
            .with_message_types(Self::MESSAGE_TYPES);
        let accept = $this.accept_compression_encodings;
        let send = $this.send_compression_encodings;
        let max_decoding = $this.max_decoding_message_size;
        let max_encoding = $this.max_encoding_message_size;
        let inner = ::core::clone::Clone::clone(&$this.inner);
        ::std::boxed::Box::pin(async move {
            let mut grpc = $crate::__private::tonic::server::Grpc::new(codec)
                .apply_compression_config(accept, send)
                .apply_max_message_size_config(max_decoding, max_encoding);
            ::core::result::Result::Ok(grpc.$kind($svc(inner), $req_in).await)
        })
    }};

    // ---- the client's method ----
    (@emit client_method { [$vis:vis] $name:literal $(#[$m:meta])* $method:ident }
        [$rk:ident $rm:ident $req:ty] [$pk:ident $pm:ident $resp:ty]) => {
        $(#[$m])*
        $vis async fn $method(
            &mut self,
            request: $crate::__rpc!(@client_arg $rk $req),
        ) -> ::core::result::Result<
            $crate::__private::tonic::Response<$crate::__rpc!(@client_ret $pk $pm $resp)>,
            $crate::__private::tonic::Status,
        > {
            self.inner.ready().await.map_err($crate::__private::not_ready)?;
            let codec = $crate::__rpc!(codec $pm self.frames, $req, $resp)
                .with_message_types(Self::MESSAGE_TYPES);
            let path = $crate::__private::http::uri::PathAndQuery::from_static(
                concat!("/", $name, "/", stringify!($method)),
            );
            $crate::__rpc!(@client_call $rk $pk self, request, path, codec, $name, $method)
        }
    };
    (@client_arg unary $req:ty) => { impl $crate::__private::tonic::IntoRequest<$req> };
    (@client_arg stream $req:ty) => {
        impl $crate::__private::tonic::IntoStreamingRequest<Message = $req>
    };
    (@client_ret unary $pm:ident $resp:ty) => { $crate::__rpc!(read_type $pm $resp) };
    (@client_ret stream $pm:ident $resp:ty) => {
        $crate::__private::tonic::Streaming<$crate::__rpc!(read_type $pm $resp)>
    };
    (@client_call unary unary $this:ident, $request:ident, $path:ident, $codec:ident, $name:literal, $method:ident) => {{
        let mut request = $crate::__private::tonic::IntoRequest::into_request($request);
        request.extensions_mut().insert($crate::__private::GrpcMethod::new($name, stringify!($method)));
        $this.inner.unary(request, $path, $codec).await
    }};
    (@client_call unary stream $this:ident, $request:ident, $path:ident, $codec:ident, $name:literal, $method:ident) => {{
        let mut request = $crate::__private::tonic::IntoRequest::into_request($request);
        request.extensions_mut().insert($crate::__private::GrpcMethod::new($name, stringify!($method)));
        $this.inner.server_streaming(request, $path, $codec).await
    }};
    (@client_call stream unary $this:ident, $request:ident, $path:ident, $codec:ident, $name:literal, $method:ident) => {{
        let mut request =
            $crate::__private::tonic::IntoStreamingRequest::into_streaming_request($request);
        request.extensions_mut().insert($crate::__private::GrpcMethod::new($name, stringify!($method)));
        $this.inner.client_streaming(request, $path, $codec).await
    }};
    (@client_call stream stream $this:ident, $request:ident, $path:ident, $codec:ident, $name:literal, $method:ident) => {{
        let mut request =
            $crate::__private::tonic::IntoStreamingRequest::into_streaming_request($request);
        request.extensions_mut().insert($crate::__private::GrpcMethod::new($name, stringify!($method)));
        $this.inner.streaming(request, $path, $codec).await
    }};

    // Entry: normalize the request side.
    ($site:ident $ctx:tt (stream archived $t:ty) $resp:tt) => {
        $crate::__rpc!(@resp $site $ctx [stream archived $t] $resp);
    };
    ($site:ident $ctx:tt (stream $t:ty) $resp:tt) => {
        $crate::__rpc!(@resp $site $ctx [stream owned $t] $resp);
    };
    ($site:ident $ctx:tt (archived $t:ty) $resp:tt) => {
        $crate::__rpc!(@resp $site $ctx [unary archived $t] $resp);
    };
    ($site:ident $ctx:tt ($t:ty) $resp:tt) => {
        $crate::__rpc!(@resp $site $ctx [unary owned $t] $resp);
    };
}

/// `connect` for a generated client, with the `transport` feature.
#[cfg(feature = "transport")]
#[doc(hidden)]
#[macro_export]
macro_rules! __connect {
    ($vis:vis $client:ident) => {
        impl $client<$crate::__private::tonic::transport::Channel> {
            /// Connects to `dst` (`"http://127.0.0.1:50051"`) over tonic's HTTP/2 transport.
            ///
            /// # Errors
            ///
            /// tonic's transport error when the address is invalid or the connection fails.
            #[allow(dead_code, reason = "a program may build its channel itself")]
            $vis async fn connect<D>(
                dst: D,
            ) -> ::core::result::Result<Self, $crate::__private::tonic::transport::Error>
            where
                D: ::core::convert::TryInto<$crate::__private::tonic::transport::Endpoint>,
                D::Error: ::core::convert::Into<$crate::__private::StdError>,
            {
                let channel = $crate::__private::tonic::transport::Endpoint::new(dst)?
                    .connect()
                    .await?;
                ::core::result::Result::Ok(Self::new(channel))
            }
        }
    };
}

/// Without the `transport` feature, clients have no `connect`.
#[cfg(not(feature = "transport"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __connect {
    ($vis:vis $client:ident) => {};
}
