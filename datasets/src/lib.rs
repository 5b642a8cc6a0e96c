//! Message types and seeded datasets shared by zerocodec's tests, benches and report.
//!
//! Everything here is generated deterministically from one seeded generator ([`Rng`],
//! [`SEED`]), so every run of the benches, the report and the tests sees the same data and no
//! data files are needed.
//!
//! - [`seed`](ChatMessage) types: [`ChatMessage`], [`RpcRequest`], with generators in
//!   [`messages`];
//! - the benchmark datasets, modeled on the public rust_serialization_benchmark so figures can
//!   be compared with its tables: [`log`], [`mesh`], [`minecraft`], [`mk48`], plus the
//!   per-message `chat` and `rpc`; [`visit`] generates one by name;
//! - the codec table the benches and the report measure: [`codecs::codecs`].
//!
//! # Examples
//!
//! ```
//! use zerocodec_datasets::{BenchValue, Dataset, DatasetVisitor, Scale, codecs};
//!
//! struct Sizes(Vec<(&'static str, usize)>);
//!
//! impl DatasetVisitor for Sizes {
//!     fn visit<T: BenchValue>(&mut self, dataset: Dataset<T>) {
//!         for mut codec in codecs::codecs(&dataset) {
//!             let len = codec.encode(&dataset.value).unwrap().len();
//!             self.0.push((codec.name(), len));
//!         }
//!     }
//! }
//!
//! let mut sizes = Sizes(Vec::new());
//! zerocodec_datasets::visit("chat", Scale::Test, &mut sizes);
//! assert!(sizes.0.iter().any(|&(name, len)| name == "json" && len > 100));
//! ```

pub mod codecs;
mod dataset;
pub mod log;
pub mod mesh;
pub mod messages;
pub mod minecraft;
pub mod mk48;
mod rng;
mod seed;

pub use dataset::{
    BenchValue, CORPUS_MESSAGES, Corpus, DATASETS, Dataset, DatasetVisitor, Scale, visit, visit_all,
};
pub use rng::{Rng, SEED};
pub use seed::{
    ArchivedChatMessage, ArchivedRpcMethod, ArchivedRpcRequest, ChatMessage, RpcMethod, RpcRequest,
};
