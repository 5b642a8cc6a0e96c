//! A small REST service for chat messages, over axum with zerocodec-axum: `POST /messages`
//! and `GET /messages/{id}`, each in JSON or zerocodec frames on the same route.
//!
//! The request's `Content-Type` says what its body is (`application/json` or
//! `application/vnd.zerocodec`); the response follows `Accept` (q-values honoured) and
//! otherwise the format the request came in, JSON for a `GET` that says nothing.
//!
//! This file is shared by `examples/http/main.rs` and the integration test `tests/http.rs`.
#![allow(dead_code, reason = "the example and the test use different parts")]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::header::{ACCEPT, CONTENT_TYPE, LOCATION};
use axum::http::{Request, StatusCode};
use axum::routing::{get, post};
use http_body_util::BodyExt;
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use parking_lot::RwLock;
use tokio::task::JoinHandle;
use zerocodec::bytes::Bytes;
use zerocodec::prelude::*;
use zerocodec_axum::{Format, Hybrid, Reply, ResponseFormat};
use zerocodec_codecs::{HybridCodec, JsonCodec};

/// What a client posts.
#[zerocodec::message]
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct NewMessage {
    pub(crate) room: String,
    pub(crate) sender: String,
    pub(crate) content: String,
}

/// A stored message, as the service returns it.
#[zerocodec::message]
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Message {
    pub(crate) id: u64,
    pub(crate) room: String,
    pub(crate) sender: String,
    pub(crate) content: String,
    /// Milliseconds since the Unix epoch, when it was stored.
    pub(crate) timestamp: u64,
}

/// The messages, in the order they were posted (message `id` is at index `id - 1`).
#[derive(Default)]
pub(crate) struct Store {
    messages: RwLock<Vec<Message>>,
}

type Shared = Arc<Store>;

async fn create(
    State(store): State<Shared>,
    format: ResponseFormat,
    Hybrid(new): Hybrid<NewMessage>,
) -> (
    StatusCode,
    [(axum::http::HeaderName, String); 1],
    Reply<Message>,
) {
    let timestamp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let message = {
        let mut messages = store.messages.write();
        let message = Message {
            id: messages.len() as u64 + 1,
            room: new.room,
            sender: new.sender,
            content: new.content,
            timestamp,
        };
        messages.push(message.clone());
        message
    };
    let location = format!("/messages/{}", message.id);
    (
        StatusCode::CREATED,
        [(LOCATION, location)],
        format.reply(message),
    )
}

async fn read(
    State(store): State<Shared>,
    Path(id): Path<u64>,
    format: ResponseFormat,
) -> Result<Reply<Message>, (StatusCode, String)> {
    let found = id
        .checked_sub(1)
        .and_then(|i| store.messages.read().get(i as usize).cloned());
    match found {
        Some(message) => Ok(format.reply(message)),
        None => Err((StatusCode::NOT_FOUND, format!("no message {id}"))),
    }
}

/// The service's routes.
pub(crate) fn app() -> Router {
    Router::new()
        .route("/messages", post(create))
        .route("/messages/{id}", get(read))
        .with_state(Shared::default())
}

/// A running server.
pub(crate) struct Server {
    pub(crate) addr: SocketAddr,
    pub(crate) task: JoinHandle<std::io::Result<()>>,
}

/// Binds `addr` (port 0 for any free port) and serves [`app`] on it.
pub(crate) async fn start(addr: &str) -> std::io::Result<Server> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let task = tokio::spawn(async move { axum::serve(listener, app()).await });
    Ok(Server { addr, task })
}

type AnyError = Box<dyn std::error::Error + Send + Sync>;

/// A client of the service: hyper's, keeping its connections alive.
#[derive(Clone)]
pub(crate) struct Client {
    http: HyperClient<HttpConnector, Body>,
    base: String,
}

/// What the service answered.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) format: Option<Format>,
    pub(crate) location: Option<String>,
    pub(crate) body: Bytes,
}

impl Answer {
    /// The message in the body, read in the format its `Content-Type` names.
    pub(crate) fn message(&self) -> Result<Message, AnyError> {
        if self.status.is_client_error() || self.status.is_server_error() {
            return Err(format!("{}: {}", self.status, String::from_utf8_lossy(&self.body)).into());
        }
        Ok(match self.format {
            Some(Format::Frame) => HybridCodec::new().decode(&self.body)?,
            _ => JsonCodec::new().decode(&self.body)?,
        })
    }
}

impl Client {
    pub(crate) fn new(addr: SocketAddr) -> Self {
        Self {
            http: HyperClient::builder(TokioExecutor::new()).build_http(),
            base: format!("http://{addr}"),
        }
    }

    /// Posts `new` in `format`, asking for `accept` (none: the service's default).
    pub(crate) async fn post(
        &self,
        new: &NewMessage,
        format: Format,
        accept: Option<Format>,
    ) -> Result<Answer, AnyError> {
        let body = match format {
            Format::Json => JsonCodec::new().encode(new)?,
            _ => HybridCodec::new().encode(new)?,
        };
        self.post_bytes(body, format.media_type(), accept).await
    }

    /// Posts `body` labelled `content_type`.
    pub(crate) async fn post_bytes(
        &self,
        body: Bytes,
        content_type: &str,
        accept: Option<Format>,
    ) -> Result<Answer, AnyError> {
        let mut request =
            Request::post(format!("{}/messages", self.base)).header(CONTENT_TYPE, content_type);
        if let Some(accept) = accept {
            request = request.header(ACCEPT, accept.media_type());
        }
        self.send(request.body(Body::from(body))?).await
    }

    /// Reads message `id`, asking for `accept`.
    pub(crate) async fn get(&self, id: u64, accept: Option<Format>) -> Result<Answer, AnyError> {
        let mut request = Request::get(format!("{}/messages/{id}", self.base));
        if let Some(accept) = accept {
            request = request.header(ACCEPT, accept.media_type());
        }
        self.send(request.body(Body::empty())?).await
    }

    async fn send(&self, request: Request<Body>) -> Result<Answer, AnyError> {
        let response = self.http.request(request).await?;
        let (parts, body) = response.into_parts();
        let header = |name| {
            parts
                .headers
                .get(name)
                .and_then(|v: &axum::http::HeaderValue| v.to_str().ok())
                .map(str::to_owned)
        };
        let format = header(CONTENT_TYPE).and_then(|t| Format::from_media_type(&t));
        let location = header(LOCATION);
        let body = body.collect().await?.to_bytes();
        Ok(Answer {
            status: parts.status,
            format,
            location,
            body,
        })
    }
}

/// What [`exercise`] saw.
#[derive(Debug, Default)]
pub(crate) struct Report {
    /// Requests made, each answer checked.
    pub(crate) requests: usize,
    /// The same message's size as JSON and as a frame.
    pub(crate) json_bytes: usize,
    pub(crate) frame_bytes: usize,
}

fn check(condition: bool, what: impl FnOnce() -> String) -> Result<(), AnyError> {
    if condition {
        Ok(())
    } else {
        Err(what().into())
    }
}

/// Exercises every route in both formats, with old (JSON) and new (frame) clients on the
/// same server, checking every answer.
pub(crate) async fn exercise(addr: SocketAddr) -> Result<Report, AnyError> {
    let client = Client::new(addr);
    let mut report = Report::default();
    let new = |i: usize| NewMessage {
        room: "general".to_owned(),
        sender: if i % 2 == 0 { "ada" } else { "grace" }.to_owned(),
        content: format!("message {i}: the build is green again ✓"),
    };

    // Each format in, and by default the same format out; then the other one, by Accept.
    let cases = [
        (Format::Json, None, Format::Json),
        (Format::Frame, None, Format::Frame),
        (Format::Json, Some(Format::Frame), Format::Frame),
        (Format::Frame, Some(Format::Json), Format::Json),
    ];
    for (i, (sent, accept, expected)) in cases.into_iter().enumerate() {
        let posted = client.post(&new(i), sent, accept).await?;
        report.requests += 1;
        check(posted.status == StatusCode::CREATED, || {
            format!("POST answered {}", posted.status)
        })?;
        check(posted.format == Some(expected), || {
            format!(
                "{sent:?} in with Accept {accept:?}: answered {:?}",
                posted.format
            )
        })?;
        let message = posted.message()?;
        check(
            message.content == new(i).content
                && posted.location.as_deref() == Some(&format!("/messages/{}", message.id)),
            || format!("POST answered {message:?} at {:?}", posted.location),
        )?;

        // The stored message reads back the same in both formats.
        for accept in [None, Some(Format::Json), Some(Format::Frame)] {
            let read = client.get(message.id, accept).await?;
            report.requests += 1;
            check(read.format == Some(accept.unwrap_or(Format::Json)), || {
                format!("GET with Accept {accept:?} answered {:?}", read.format)
            })?;
            check(read.message()? == message, || {
                "GET changed the message".into()
            })?;
            match read.format {
                Some(Format::Frame) => report.frame_bytes = read.body.len(),
                _ => report.json_bytes = read.body.len(),
            }
        }
    }

    // What clients get wrong is refused with a status and a reason.
    let missing = client.get(1_000_000, None).await?;
    let unlabelled = client
        .post_bytes(Bytes::from_static(b"hello"), "text/plain", None)
        .await?;
    let wrong_shape = client
        .post_bytes(
            Bytes::from_static(b"{\"room\":1}"),
            "application/json",
            None,
        )
        .await?;
    report.requests += 3;
    for (answer, status) in [
        (&missing, StatusCode::NOT_FOUND),
        (&unlabelled, StatusCode::UNSUPPORTED_MEDIA_TYPE),
        (&wrong_shape, StatusCode::UNPROCESSABLE_ENTITY),
    ] {
        check(answer.status == status, || {
            format!(
                "expected {status}, got {}: {:?}",
                answer.status, answer.body
            )
        })?;
    }
    Ok(report)
}
