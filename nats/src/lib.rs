//! zerocodec messages and batches through NATS JetStream.
//!
//! [`Publisher`] publishes typed values as hybrid frames (an rkyv archive with its type's
//! schema fingerprint, compressed or not) and whole [`Batch`](zerocodec_codecs::Batch)es as
//! one message each, compressed and checksummed as a unit, with NATS headers naming the
//! content type and the message ([`CONTENT_TYPE`], [`MESSAGE_NAME`], [`BATCH_LEN`]).
//! [`Messages`] reads a consumer's deliveries (pull, push or ordered push) with a [`Reader`]:
//! into owned values ([`Owned`]), as validated archived views ([`Archived`],
//! [`OwnedArchive<T>`]), or as whole batches ([`Batches`]) whose item *i* is read in O(1). [`fetch`] reads one stored message by
//! its stream sequence.
//!
//! Publishers that still send JSON on the same subject (header-less, or with
//! `Content-Type: application/json`) are read by the same [`HybridCodec`], as on TCP. A
//! message whose bytes do not decode is a [`Poison`] item ([`Error::Poison`]) naming its
//! stream sequence, which the caller acknowledges or terminates; the stream goes on after it.
//!
//! JetStream is what makes this durable: a stream stores what is published, a durable
//! consumer remembers what was acknowledged, and both survive a server restart. The crate's
//! tests stop the server in the middle of 100,000 log entries and check that every entry is
//! processed exactly once.
//!
//! # Examples
//!
//! ```no_run
//! use async_nats::jetstream::{self, consumer, stream};
//! use futures::StreamExt;
//! use zerocodec_codecs::HybridCodec;
//! use zerocodec_nats::{Archived, Error, Messages, Publisher};
//!
//! #[zerocodec::message]
//! #[derive(Debug)]
//! struct Order { id: u64, item: String }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let client = async_nats::connect("127.0.0.1:4222").await?;
//! let context = jetstream::new(client);
//! let orders = context
//!     .get_or_create_stream(stream::Config {
//!         name: "ORDERS".into(),
//!         subjects: vec!["orders.>".into()],
//!         ..Default::default()
//!     })
//!     .await?;
//!
//! let publisher = Publisher::new(context.clone());
//! publisher.publish("orders.new", &Order { id: 1, item: "tea".into() }).await?.await?;
//!
//! let consumer = orders
//!     .get_or_create_consumer("billing", consumer::pull::Config {
//!         durable_name: Some("billing".into()),
//!         ..Default::default()
//!     })
//!     .await?;
//! let mut messages = Messages::new(consumer.messages().await?, Archived(HybridCodec::<Order>::new()));
//! if let Some(item) = messages.next().await {
//!     match item {
//!         Ok(order) => {
//!             assert_eq!(order.item, "tea"); // an archived view, read in place
//!             order.double_ack().await?;
//!         }
//!         Err(Error::Poison(poison)) => poison.term().await?,
//!         Err(err) => return Err(err.into()),
//!     }
//! }
//! # Ok(())
//! # }
//! ```
//!
//! # Server versions
//!
//! The crate uses async-nats with none of its `server_2_10` and later features, so it works
//! with nats-server 2.9 (Debian's package) and later.
//!
//! [`OwnedArchive<T>`]: zerocodec::OwnedArchive
//! [`HybridCodec`]: zerocodec_codecs::HybridCodec

// The README's example compiles as a doctest, so the README cannot drift from the crate.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

mod consume;
mod error;
mod headers;
mod publish;

pub use consume::{
    Archived, Batches, Delivery, Messages, Owned, Poison, Reader, Received, fetch, read,
};
pub use error::{ConsumeError, Error, Result};
pub use headers::{BATCH_LEN, CONTENT_TYPE, MESSAGE_NAME};
pub use publish::Publisher;
