//! The benchmark datasets by name, and the bounds a dataset's value type meets.
//!
//! Datasets differ in type, so they are handed out through a visitor: [`visit`] generates the
//! named dataset from [`SEED`](crate::SEED) and calls [`DatasetVisitor::visit`] with it,
//! generic over the value's type.

use std::fmt::Debug;

use serde::Serialize;
use serde::de::DeserializeOwned;
use zerocodec::ZeroCopyDecode;
use zerocodec_codecs::ZeroCopyEncode;

use crate::codecs::{Bitcode, BitcodeSerde, CodecAdapter, Postcard, RawRkyvValue, bitcode_stacks};
use crate::log::{LOG_ENTRIES, Logs};
use crate::mesh::{MESH_TRIANGLES, Mesh};
use crate::messages::{chat_message, chat_messages, rpc_request, rpc_requests};
use crate::minecraft::{MINECRAFT_PLAYERS, Players};
use crate::mk48::{MK48_UPDATES, Updates};
use crate::rng::{Rng, SEED};
use crate::seed::{ChatMessage, RpcRequest};

/// What every dataset's value type supports: serde (JSON, postcard), rkyv through zerocodec
/// and directly, equality for round-trip checks.
pub trait BenchValue:
    zerocodec::Message
    + Serialize
    + DeserializeOwned
    + ZeroCopyEncode
    + ZeroCopyDecode
    + RawRkyvValue
    + Clone
    + PartialEq
    + Debug
    + 'static
{
    /// Adapters for the peer formats (postcard, bitcode) that can carry this type.
    fn peer_codecs() -> Vec<Box<dyn CodecAdapter<Self>>>;

    /// Our hybrid stacks with a bitcode payload ([`bitcode_stacks`]), for types with bitcode's
    /// derives; none for the others.
    fn bitcode_stacks() -> Vec<Box<dyn CodecAdapter<Self>>> {
        Vec::new()
    }
}

/// Peers for types with bitcode derives.
fn derived_peers<T>() -> Vec<Box<dyn CodecAdapter<T>>>
where
    T: Serialize + DeserializeOwned + bitcode::Encode + bitcode::DecodeOwned,
{
    vec![Box::new(Postcard::default()), Box::new(Bitcode::default())]
}

impl BenchValue for ChatMessage {
    fn peer_codecs() -> Vec<Box<dyn CodecAdapter<Self>>> {
        // The seed type has no bitcode derives: bitcode runs through its serde support (and
        // there are no hybrid+bitcode stacks).
        vec![
            Box::new(Postcard::default()),
            Box::new(BitcodeSerde::default()),
        ]
    }
}

impl BenchValue for RpcRequest {
    /// None: `params` is a free-form `serde_json::Value`, which only self-describing formats
    /// can decode (postcard and bitcode have no `deserialize_any`).
    fn peer_codecs() -> Vec<Box<dyn CodecAdapter<Self>>> {
        Vec::new()
    }
}

impl BenchValue for Logs {
    fn peer_codecs() -> Vec<Box<dyn CodecAdapter<Self>>> {
        derived_peers()
    }
    fn bitcode_stacks() -> Vec<Box<dyn CodecAdapter<Self>>> {
        bitcode_stacks()
    }
}

impl BenchValue for Mesh {
    fn peer_codecs() -> Vec<Box<dyn CodecAdapter<Self>>> {
        derived_peers()
    }
    fn bitcode_stacks() -> Vec<Box<dyn CodecAdapter<Self>>> {
        bitcode_stacks()
    }
}

impl BenchValue for Players {
    fn peer_codecs() -> Vec<Box<dyn CodecAdapter<Self>>> {
        derived_peers()
    }
    fn bitcode_stacks() -> Vec<Box<dyn CodecAdapter<Self>>> {
        bitcode_stacks()
    }
}

impl BenchValue for Updates {
    fn peer_codecs() -> Vec<Box<dyn CodecAdapter<Self>>> {
        derived_peers()
    }
    fn bitcode_stacks() -> Vec<Box<dyn CodecAdapter<Self>>> {
        bitcode_stacks()
    }
}

/// How large the generated datasets are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    /// The sizes the benchmark issue specifies (10,000 log entries, 125,000 triangles, ...).
    Benchmark,
    /// One tenth of that, with full-size corpora: what the instruction-count gate
    /// (`benches/instructions.rs`) runs under callgrind, where every operation is about 50
    /// times slower.
    Gate,
    /// One hundredth of that (at least one element), for tests.
    Test,
}

impl Scale {
    fn of(self, n: usize) -> usize {
        match self {
            Scale::Benchmark => n,
            Scale::Gate => (n / 10).max(1),
            Scale::Test => (n / 100).max(1),
        }
    }
}

/// Many distinct messages of a per-message dataset's type.
#[derive(Debug, Clone, PartialEq)]
pub struct Corpus<T> {
    /// Messages to train a compression dictionary on.
    pub train: Vec<T>,
    /// Other messages (another seed) to measure it on.
    pub held_out: Vec<T>,
}

/// Messages in each half of a per-message dataset's corpus.
pub const CORPUS_MESSAGES: usize = 1_000;

/// One generated dataset.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset<T> {
    /// Its name in benchmark ids and the report.
    pub name: &'static str,
    /// One line on what it is.
    pub description: &'static str,
    /// The value every codec encodes and decodes.
    pub value: T,
    /// For per-message datasets (`chat`, `rpc`): a corpus for dictionary training.
    pub corpus: Option<Corpus<T>>,
}

/// Receives a generated dataset, whatever its type.
pub trait DatasetVisitor {
    /// Called with the dataset.
    fn visit<T: BenchValue>(&mut self, dataset: Dataset<T>);
}

/// Every dataset's name, in report order.
pub const DATASETS: [&str; 6] = ["chat", "rpc", "log", "mesh", "minecraft", "mk48"];

/// Seed of the held-out half of a corpus.
const HELD_OUT_SEED: u64 = SEED ^ 0xFFFF;

/// Generates the dataset called `name` and hands it to `visitor`; false if there is none.
pub fn visit(name: &str, scale: Scale, visitor: &mut impl DatasetVisitor) -> bool {
    let mut rng = Rng::new(SEED);
    let corpus_len = match scale {
        Scale::Benchmark | Scale::Gate => CORPUS_MESSAGES,
        Scale::Test => 20,
    };
    match name {
        "chat" => visitor.visit(Dataset {
            name: "chat",
            description: "one chat message (per-message cost)",
            value: chat_message(&mut rng),
            corpus: Some(Corpus {
                train: chat_messages(SEED + 1, corpus_len),
                held_out: chat_messages(HELD_OUT_SEED, corpus_len),
            }),
        }),
        "rpc" => visitor.visit(Dataset {
            name: "rpc",
            description: "one RPC request with a JSON params object",
            value: rpc_request(&mut rng),
            corpus: Some(Corpus {
                train: rpc_requests(SEED + 1, corpus_len),
                held_out: rpc_requests(HELD_OUT_SEED, corpus_len),
            }),
        }),
        "log" => visitor.visit(Dataset {
            name: "log",
            description: "10,000 web-server log entries",
            value: Logs::generate(&mut rng, scale.of(LOG_ENTRIES)),
            corpus: None,
        }),
        "mesh" => visitor.visit(Dataset {
            name: "mesh",
            description: "125,000 triangles of four f32 vectors",
            value: Mesh::generate(&mut rng, scale.of(MESH_TRIANGLES)),
            corpus: None,
        }),
        "minecraft" => visitor.visit(Dataset {
            name: "minecraft",
            description: "500 game-save players",
            value: Players::generate(&mut rng, scale.of(MINECRAFT_PLAYERS)),
            corpus: None,
        }),
        "mk48" => visitor.visit(Dataset {
            name: "mk48",
            description: "1,000 game updates of 50-200 entities",
            value: Updates::generate(&mut rng, scale.of(MK48_UPDATES)),
            corpus: None,
        }),
        _ => return false,
    }
    true
}

/// Generates every dataset in turn (one at a time, so only one is in memory).
pub fn visit_all(scale: Scale, visitor: &mut impl DatasetVisitor) {
    for name in DATASETS {
        visit(name, scale, visitor);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codecs::{Role, codecs};

    /// Round-trips every dataset through every codec in the table.
    struct RoundTrip {
        seen: Vec<(&'static str, Vec<&'static str>)>,
    }

    impl DatasetVisitor for RoundTrip {
        fn visit<T: BenchValue>(&mut self, dataset: Dataset<T>) {
            let mut names = Vec::new();
            for mut codec in codecs(&dataset) {
                let name = codec.name();
                let mut aligned = rkyv::util::AlignedVec::<16>::new();
                aligned.extend_from_slice(codec.encode(&dataset.value).unwrap());
                let back = codec.decode(&aligned).unwrap();
                assert_eq!(back, dataset.value, "{}/{name}", dataset.name);
                // A warm encode gives the same bytes as the first.
                assert_eq!(codec.encode(&dataset.value).unwrap(), &aligned[..]);
                if codec.has_access() {
                    codec.access(&aligned).unwrap();
                    assert_eq!(codec.access_to_owned(&aligned).unwrap(), dataset.value);
                    // Validation rejects input too short to hold the archive's root.
                    assert!(codec.access(&aligned[..1]).is_err(), "{name}");
                } else {
                    assert!(codec.access(&aligned).is_err());
                }
                // Decoding garbage is an error, never a panic.
                assert!(codec.decode(&[0xFF; 3]).is_err(), "{}/{name}", dataset.name);
                names.push(name);
            }
            self.seen.push((dataset.name, names));
        }
    }

    #[test]
    fn every_codec_round_trips_every_dataset() {
        let mut visitor = RoundTrip { seen: Vec::new() };
        visit_all(Scale::Test, &mut visitor);
        let names: Vec<_> = visitor.seen.iter().map(|s| s.0).collect();
        assert_eq!(names, DATASETS);
        let ours = [
            "json",
            "rkyv",
            "hybrid",
            "hybrid+crc32c",
            "hybrid+lz4",
            "hybrid+zstd",
        ];
        let references = ["raw-serde_json", "raw-rkyv"];
        for (dataset, codecs) in &visitor.seen {
            let per_message = matches!(*dataset, "chat" | "rpc");
            let expected: Vec<&str> = ours
                .iter()
                .copied()
                .chain(per_message.then_some("hybrid+zstd-dict"))
                // The bitcode stacks, for the types with bitcode's derives.
                .chain(
                    if per_message {
                        None
                    } else {
                        Some(["hybrid+bitcode", "hybrid+bitcode+zstd"])
                    }
                    .into_iter()
                    .flatten(),
                )
                .chain(references)
                .chain(
                    if *dataset == "rpc" {
                        None
                    } else {
                        Some(["postcard", "bitcode"])
                    }
                    .into_iter()
                    .flatten(),
                )
                .collect();
            assert_eq!(codecs, &expected, "{dataset}");
        }
        assert!(!visit("nope", Scale::Test, &mut visitor));
    }

    struct Capture<F>(F);

    impl<F: FnMut(&dyn std::any::Any, Option<usize>)> DatasetVisitor for Capture<F> {
        fn visit<T: BenchValue>(&mut self, dataset: Dataset<T>) {
            (self.0)(&dataset.value, dataset.corpus.map(|c| c.held_out.len()));
        }
    }

    #[test]
    fn benchmark_scale_has_the_specified_sizes_and_is_deterministic() {
        let mut lens = Vec::new();
        for name in ["log", "mesh", "minecraft", "mk48", "chat"] {
            visit(
                name,
                Scale::Benchmark,
                &mut Capture(|value: &dyn std::any::Any, corpus: Option<usize>| {
                    let len = if let Some(v) = value.downcast_ref::<Logs>() {
                        v.logs.len()
                    } else if let Some(v) = value.downcast_ref::<Mesh>() {
                        v.triangles.len()
                    } else if let Some(v) = value.downcast_ref::<Players>() {
                        v.players.len()
                    } else if let Some(v) = value.downcast_ref::<Updates>() {
                        assert!(
                            v.updates
                                .iter()
                                .all(|u| (50..=200).contains(&u.contacts.len()))
                        );
                        v.updates.len()
                    } else {
                        corpus.unwrap()
                    };
                    lens.push(len);
                }),
            );
        }
        assert_eq!(lens, [10_000, 125_000, 500, 1_000, CORPUS_MESSAGES]);

        let mut rng = Rng::new(SEED);
        let a = Players::generate(&mut rng, 5);
        let mut rng = Rng::new(SEED);
        assert_eq!(a, Players::generate(&mut rng, 5));
    }

    #[test]
    fn roles_put_ours_first() {
        let dataset = Dataset {
            name: "chat",
            description: "",
            value: chat_message(&mut Rng::new(1)),
            corpus: None,
        };
        let roles: Vec<Role> = codecs(&dataset).iter().map(|c| c.role()).collect();
        for c in codecs(&dataset) {
            assert_eq!(Role::of(c.name()), Some(c.role()), "{}", c.name());
        }
        assert_eq!(Role::of("nope"), None);
        assert_eq!(roles[..2], [Role::Ours, Role::Ours]);
        assert!(roles.contains(&Role::Reference) && roles.contains(&Role::Peer));
    }
}
