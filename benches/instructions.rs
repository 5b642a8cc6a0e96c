//! Instruction counts (callgrind through gungraun): every dataset, every codec the gate holds,
//! every operation; deterministic where the criterion suite's times are not.
//!
//! Run with `cargo bench --bench instructions` (needs valgrind and `gungraun-runner` at the
//! version pinned in Cargo.toml; `ci/gate.sh` installs neither, `.ci/run` installs both). The
//! gate (`ci/gate.sh`) runs this file and checks its figures against the limits and the
//! committed baseline.
//!
//! Benchmark ids are `{dataset}/{codec}/{op}`, as in the criterion suite: gungraun shows them
//! as `instructions::{dataset}::{op} {codec}` (a bench id must be an identifier, so
//! `hybrid+lz4` is `hybrid_lz4` there), and the argument (`"chat/hybrid+lz4/encode"`) is the
//! id itself, which is what the gate reads.
//!
//! Codecs: ours (`json`, `rkyv`, `hybrid`, `hybrid+lz4`, `hybrid+zstd-dict` on the
//! per-message datasets `chat` and `rpc`, and `hybrid+bitcode` and `hybrid+bitcode+zstd` on
//! the large datasets, whose types have bitcode's derives), the references `raw-rkyv` and
//! `raw-serde_json`, and the peers `postcard` and `bitcode`, which cannot carry `rpc`'s
//! free-form `serde_json::Value` and so are absent there. `hybrid+zstd` (no dictionary) is left
//! out: its cost is zstd's, which the criterion suite and the report show;
//! `hybrid+bitcode+zstd` is in, so that the gate holds the bitcode payload with compression.
//!
//! Sizes: the large datasets run at [`Scale::Gate`] (a tenth of the benchmark sizes) so the
//! whole file runs in a few minutes under callgrind; per-message datasets are one message and
//! their dictionary is trained on the full corpus, as in the report.
//!
//! Each benchmark's setup (not counted) generates the dataset, builds the one adapter,
//! encodes once, checks the round trip (decode, and access where the codec has it) and runs
//! the operation once more, so the counted call is a warm one: buffers have their capacity,
//! rkyv's arena and the allocator's free lists are primed. The counted function runs the
//! operation once and hands the prepared case back, so its drop (and the decoded value's) is
//! not counted.

use std::hint::black_box;

use gungraun::prelude::*;
use rkyv::util::AlignedVec;
use zerocodec_datasets::codecs::{CodecAdapter, Op, codec};
use zerocodec_datasets::{BenchValue, Dataset, DatasetVisitor, Scale};

/// One prepared benchmark: its adapter, value and encoding, and the operation to count.
pub struct Case(Box<dyn Run>);

impl std::fmt::Debug for Case {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Case")
    }
}

trait Run {
    /// Runs the operation once.
    fn run(&mut self);
}

struct Prepared<T> {
    value: T,
    codec: Box<dyn CodecAdapter<T>>,
    encoded: AlignedVec<16>,
    op: Op,
    /// Where a decode leaves its value, so dropping it is not counted.
    decoded: Option<T>,
}

impl<T: BenchValue> Run for Prepared<T> {
    #[inline(never)]
    fn run(&mut self) {
        match self.op {
            Op::Encode => {
                black_box(self.codec.encode(black_box(&self.value)).unwrap().len());
            }
            Op::Decode => {
                // `decoded` is `None` here (setup leaves it so): nothing is dropped.
                self.decoded = Some(self.codec.decode(black_box(&self.encoded)).unwrap());
            }
            Op::Access => self.codec.access(black_box(&self.encoded)).unwrap(),
        }
    }
}

/// Builds the case for an id `{dataset}/{codec}/{op}`.
struct Prepare<'a> {
    codec: &'a str,
    op: Op,
    case: Option<Case>,
}

impl DatasetVisitor for Prepare<'_> {
    fn visit<T: BenchValue>(&mut self, dataset: Dataset<T>) {
        let id = format!("{}/{}/{}", dataset.name, self.codec, self.op);
        let mut adapter = codec(&dataset, self.codec)
            .unwrap_or_else(|| panic!("{id}: no such codec for this dataset"));
        let value = dataset.value;
        let mut encoded = AlignedVec::<16>::new();
        encoded.extend_from_slice(
            adapter
                .encode(&value)
                .unwrap_or_else(|e| panic!("{id}: encode failed: {e}")),
        );
        // The round-trip check: a codec that does not give the value back is not counted.
        let back = adapter
            .decode(&encoded)
            .unwrap_or_else(|e| panic!("{id}: decode failed: {e}"));
        assert!(back == value, "{id}: decode did not round-trip");
        drop(back);
        if adapter.has_access() {
            let viewed = adapter
                .access_to_owned(&encoded)
                .unwrap_or_else(|e| panic!("{id}: access failed: {e}"));
            assert!(viewed == value, "{id}: access did not round-trip");
        } else {
            assert!(self.op != Op::Access, "{id}: the codec has no access");
        }
        let mut prepared = Prepared {
            value,
            codec: adapter,
            encoded,
            op: self.op,
            decoded: None,
        };
        // One warm-up of the very operation, its output dropped here.
        prepared.run();
        prepared.decoded = None;
        self.case = Some(Case(Box::new(prepared)));
    }
}

/// The size of the large datasets (`log`, `mesh`, `minecraft`, `mk48`).
const SCALE: Scale = Scale::Gate;

/// The setup of every benchmark: `id` is `{dataset}/{codec}/{op}`.
fn prepare(id: &str) -> Case {
    let mut parts = id.split('/');
    let (Some(dataset), Some(codec), Some(op), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        panic!("benchmark id `{id}`: expected dataset/codec/op")
    };
    let op = Op::ALL
        .into_iter()
        .find(|o| o.name() == op)
        .unwrap_or_else(|| panic!("benchmark id `{id}`: unknown op `{op}`"));
    let mut visitor = Prepare {
        codec,
        op,
        case: None,
    };
    let scale = match dataset {
        "chat" | "rpc" => Scale::Benchmark,
        _ => SCALE,
    };
    assert!(
        zerocodec_datasets::visit(dataset, scale, &mut visitor),
        "benchmark id `{id}`: unknown dataset `{dataset}`"
    );
    visitor.case.expect("the visitor prepares a case")
}

/// The counted call: one operation.
#[inline(always)]
fn once(mut case: Case) -> Case {
    case.0.run();
    case
}

/// One group per dataset, one function per operation, one bench per codec; the argument is
/// the `{dataset}/{codec}/{op}` id.
macro_rules! dataset {
    (
        $group:ident, $module:ident,
        encode: [$($e:ident = $eid:literal),* $(,)?],
        decode: [$($d:ident = $did:literal),* $(,)?],
        access: [$($a:ident = $aid:literal),* $(,)?] $(,)?
    ) => {
        mod $module {
            use super::*;

            #[library_benchmark(setup = prepare)]
            $(#[bench::$e($eid)])*
            fn encode(case: Case) -> Case {
                once(case)
            }

            #[library_benchmark(setup = prepare)]
            $(#[bench::$d($did)])*
            fn decode(case: Case) -> Case {
                once(case)
            }

            #[library_benchmark(setup = prepare)]
            $(#[bench::$a($aid)])*
            fn access(case: Case) -> Case {
                once(case)
            }

            library_benchmark_group!(name = $group; benchmarks = encode, decode, access);
        }
        use $module::$group;
    };
}

dataset!(
    chat, chat_benches,
    encode: [
        json = "chat/json/encode",
        rkyv = "chat/rkyv/encode",
        hybrid = "chat/hybrid/encode",
        hybrid_lz4 = "chat/hybrid+lz4/encode",
        hybrid_zstd_dict = "chat/hybrid+zstd-dict/encode",
        raw_serde_json = "chat/raw-serde_json/encode",
        raw_rkyv = "chat/raw-rkyv/encode",
        postcard = "chat/postcard/encode",
        bitcode = "chat/bitcode/encode",
    ],
    decode: [
        json = "chat/json/decode",
        rkyv = "chat/rkyv/decode",
        hybrid = "chat/hybrid/decode",
        hybrid_lz4 = "chat/hybrid+lz4/decode",
        hybrid_zstd_dict = "chat/hybrid+zstd-dict/decode",
        raw_serde_json = "chat/raw-serde_json/decode",
        raw_rkyv = "chat/raw-rkyv/decode",
        postcard = "chat/postcard/decode",
        bitcode = "chat/bitcode/decode",
    ],
    access: [
        rkyv = "chat/rkyv/access",
        hybrid = "chat/hybrid/access",
        raw_rkyv = "chat/raw-rkyv/access",
    ],
);

dataset!(
    rpc, rpc_benches,
    encode: [
        json = "rpc/json/encode",
        rkyv = "rpc/rkyv/encode",
        hybrid = "rpc/hybrid/encode",
        hybrid_lz4 = "rpc/hybrid+lz4/encode",
        hybrid_zstd_dict = "rpc/hybrid+zstd-dict/encode",
        raw_serde_json = "rpc/raw-serde_json/encode",
        raw_rkyv = "rpc/raw-rkyv/encode",
    ],
    decode: [
        json = "rpc/json/decode",
        rkyv = "rpc/rkyv/decode",
        hybrid = "rpc/hybrid/decode",
        hybrid_lz4 = "rpc/hybrid+lz4/decode",
        hybrid_zstd_dict = "rpc/hybrid+zstd-dict/decode",
        raw_serde_json = "rpc/raw-serde_json/decode",
        raw_rkyv = "rpc/raw-rkyv/decode",
    ],
    access: [
        rkyv = "rpc/rkyv/access",
        hybrid = "rpc/hybrid/access",
        raw_rkyv = "rpc/raw-rkyv/access",
    ],
);

dataset!(
    log, log_benches,
    encode: [
        json = "log/json/encode",
        rkyv = "log/rkyv/encode",
        hybrid = "log/hybrid/encode",
        hybrid_lz4 = "log/hybrid+lz4/encode",
        hybrid_bitcode = "log/hybrid+bitcode/encode",
        hybrid_bitcode_zstd = "log/hybrid+bitcode+zstd/encode",
        raw_serde_json = "log/raw-serde_json/encode",
        raw_rkyv = "log/raw-rkyv/encode",
        postcard = "log/postcard/encode",
        bitcode = "log/bitcode/encode",
    ],
    decode: [
        json = "log/json/decode",
        rkyv = "log/rkyv/decode",
        hybrid = "log/hybrid/decode",
        hybrid_lz4 = "log/hybrid+lz4/decode",
        hybrid_bitcode = "log/hybrid+bitcode/decode",
        hybrid_bitcode_zstd = "log/hybrid+bitcode+zstd/decode",
        raw_serde_json = "log/raw-serde_json/decode",
        raw_rkyv = "log/raw-rkyv/decode",
        postcard = "log/postcard/decode",
        bitcode = "log/bitcode/decode",
    ],
    access: [
        rkyv = "log/rkyv/access",
        hybrid = "log/hybrid/access",
        raw_rkyv = "log/raw-rkyv/access",
    ],
);

dataset!(
    mesh, mesh_benches,
    encode: [
        json = "mesh/json/encode",
        rkyv = "mesh/rkyv/encode",
        hybrid = "mesh/hybrid/encode",
        hybrid_lz4 = "mesh/hybrid+lz4/encode",
        hybrid_bitcode = "mesh/hybrid+bitcode/encode",
        hybrid_bitcode_zstd = "mesh/hybrid+bitcode+zstd/encode",
        raw_serde_json = "mesh/raw-serde_json/encode",
        raw_rkyv = "mesh/raw-rkyv/encode",
        postcard = "mesh/postcard/encode",
        bitcode = "mesh/bitcode/encode",
    ],
    decode: [
        json = "mesh/json/decode",
        rkyv = "mesh/rkyv/decode",
        hybrid = "mesh/hybrid/decode",
        hybrid_lz4 = "mesh/hybrid+lz4/decode",
        hybrid_bitcode = "mesh/hybrid+bitcode/decode",
        hybrid_bitcode_zstd = "mesh/hybrid+bitcode+zstd/decode",
        raw_serde_json = "mesh/raw-serde_json/decode",
        raw_rkyv = "mesh/raw-rkyv/decode",
        postcard = "mesh/postcard/decode",
        bitcode = "mesh/bitcode/decode",
    ],
    access: [
        rkyv = "mesh/rkyv/access",
        hybrid = "mesh/hybrid/access",
        raw_rkyv = "mesh/raw-rkyv/access",
    ],
);

dataset!(
    minecraft, minecraft_benches,
    encode: [
        json = "minecraft/json/encode",
        rkyv = "minecraft/rkyv/encode",
        hybrid = "minecraft/hybrid/encode",
        hybrid_lz4 = "minecraft/hybrid+lz4/encode",
        hybrid_bitcode = "minecraft/hybrid+bitcode/encode",
        hybrid_bitcode_zstd = "minecraft/hybrid+bitcode+zstd/encode",
        raw_serde_json = "minecraft/raw-serde_json/encode",
        raw_rkyv = "minecraft/raw-rkyv/encode",
        postcard = "minecraft/postcard/encode",
        bitcode = "minecraft/bitcode/encode",
    ],
    decode: [
        json = "minecraft/json/decode",
        rkyv = "minecraft/rkyv/decode",
        hybrid = "minecraft/hybrid/decode",
        hybrid_lz4 = "minecraft/hybrid+lz4/decode",
        hybrid_bitcode = "minecraft/hybrid+bitcode/decode",
        hybrid_bitcode_zstd = "minecraft/hybrid+bitcode+zstd/decode",
        raw_serde_json = "minecraft/raw-serde_json/decode",
        raw_rkyv = "minecraft/raw-rkyv/decode",
        postcard = "minecraft/postcard/decode",
        bitcode = "minecraft/bitcode/decode",
    ],
    access: [
        rkyv = "minecraft/rkyv/access",
        hybrid = "minecraft/hybrid/access",
        raw_rkyv = "minecraft/raw-rkyv/access",
    ],
);

dataset!(
    mk48, mk48_benches,
    encode: [
        json = "mk48/json/encode",
        rkyv = "mk48/rkyv/encode",
        hybrid = "mk48/hybrid/encode",
        hybrid_lz4 = "mk48/hybrid+lz4/encode",
        hybrid_bitcode = "mk48/hybrid+bitcode/encode",
        hybrid_bitcode_zstd = "mk48/hybrid+bitcode+zstd/encode",
        raw_serde_json = "mk48/raw-serde_json/encode",
        raw_rkyv = "mk48/raw-rkyv/encode",
        postcard = "mk48/postcard/encode",
        bitcode = "mk48/bitcode/encode",
    ],
    decode: [
        json = "mk48/json/decode",
        rkyv = "mk48/rkyv/decode",
        hybrid = "mk48/hybrid/decode",
        hybrid_lz4 = "mk48/hybrid+lz4/decode",
        hybrid_bitcode = "mk48/hybrid+bitcode/decode",
        hybrid_bitcode_zstd = "mk48/hybrid+bitcode+zstd/decode",
        raw_serde_json = "mk48/raw-serde_json/decode",
        raw_rkyv = "mk48/raw-rkyv/decode",
        postcard = "mk48/postcard/decode",
        bitcode = "mk48/bitcode/decode",
    ],
    access: [
        rkyv = "mk48/rkyv/access",
        hybrid = "mk48/hybrid/access",
        raw_rkyv = "mk48/raw-rkyv/access",
    ],
);

main!(
    library_benchmark_groups = chat,
    rpc,
    log,
    mesh,
    minecraft,
    mk48
);
