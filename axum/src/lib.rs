//! axum extractors and responses that speak JSON and zerocodec frames on one endpoint.
//!
//! Most Rust services that speak JSON do it over HTTP with axum's `Json<T>`. This crate lets
//! the same endpoint also take and give zerocodec frames (rkyv archives behind a small tagged
//! header with the message type's schema fingerprint), so old JSON clients and new binary
//! clients share a service with no flag day. Over HTTP the `Content-Type` tells the formats
//! apart, so nothing is guessed:
//!
//! | media type | format |
//! |---|---|
//! | `application/json`, `application/*+json` | JSON |
//! | `application/vnd.zerocodec` | a zerocodec frame ([`FRAME_MEDIA_TYPE`]; docs/wire-format.md) |
//!
//! - [`Hybrid<T>`] reads a message from either, as axum's `Json<T>` reads JSON;
//! - [`HybridArchive<T>`] reads its validated archived view instead, in place, sharing the
//!   body's bytes when they are aligned;
//! - [`ResponseFormat`] negotiates the response's format from `Accept` (q-values honoured;
//!   by default the format the request came in), and [`Reply<T>`] writes it;
//! - refusals are [`HybridRejection`] (415, 413, 400, 422) and [`NotAcceptable`] (406), with
//!   plain-text bodies that say what was expected and what was found.
//!
//! The body limit is axum's: [`DefaultBodyLimit`](axum_core::extract::DefaultBodyLimit),
//! 2 MB unless a layer changes it.
//!
//! # Examples
//!
//! ```
//! use axum::{Router, http::StatusCode, routing::{get, post}};
//! use zerocodec_axum::{Hybrid, Reply, ResponseFormat};
//!
//! #[zerocodec::message]
//! #[derive(Clone)]
//! struct Message { id: u64, room: String, text: String }
//!
//! #[zerocodec::message]
//! struct NewMessage { room: String, text: String }
//!
//! // JSON or a frame in; by default the same format out, or what `Accept` asks for.
//! async fn post_message(
//!     format: ResponseFormat,
//!     Hybrid(new): Hybrid<NewMessage>,
//! ) -> (StatusCode, Reply<Message>) {
//!     let message = Message { id: 1, room: new.room, text: new.text };
//!     (StatusCode::CREATED, format.reply(message))
//! }
//!
//! // No body: `Accept` decides, JSON when it does not.
//! async fn get_message(format: ResponseFormat) -> Reply<Message> {
//!     format.reply(Message { id: 1, room: "general".into(), text: "hi".into() })
//! }
//!
//! let app: Router = Router::new()
//!     .route("/messages", post(post_message))
//!     .route("/messages/1", get(get_message));
//! ```
//!
//! With that service on port 3000, a JSON client and a binary one:
//!
//! ```text
//! curl -H 'Content-Type: application/json' -d '{"room":"general","text":"hi"}' \
//!      http://127.0.0.1:3000/messages
//! curl -H 'Accept: application/vnd.zerocodec' http://127.0.0.1:3000/messages/1 -o message.bin
//! ```
//!
//! # Features
//!
//! `lz4` and `zstd` (both default) read frames compressed with those algorithms; without
//! them such a frame is refused with 415.

// The README's example runs as a doctest, so the README cannot drift from the crate.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

mod extract;
mod format;
mod negotiate;
mod rejection;
mod reply;

pub use extract::{Hybrid, HybridArchive};
pub use format::{FRAME_MEDIA_TYPE, Format, JSON_MEDIA_TYPE};
pub use negotiate::ResponseFormat;
pub use rejection::{HybridRejection, NotAcceptable};
pub use reply::Reply;
