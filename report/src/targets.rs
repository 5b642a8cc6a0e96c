//! The targets the report checks (issue 16 restates issue 7's): which decide pass or fail,
//! and which are shown as information.
//!
//! Every target is one of three kinds ([`Kind`]):
//!
//! - **Deterministic**: instruction counts (callgrind `Ir`, from `benches/instructions.rs`),
//!   allocation counts and encoded sizes. The same build gives the same figure every run, so
//!   any miss fails the report.
//! - **Time against JSON**: a ratio of two times of the same run, one of them JSON's. A miss
//!   by more than [`TIME_NOISE`] fails the report; a smaller one is shown as "within noise".
//!   Three quick runs on the shared 2-core machine (issue 16, other builds running) moved
//!   these ratios by 3.5% at the median and under 10% for all but the fastest encodes (chat's
//!   rkyv encode, about 20 ns: 2.0x to 3.0x; mesh's: 386x to 484x; rpc's: 2.1x to 2.3x).
//! - **Time ratio**: a ratio of two times or rates in the same run, other than against JSON:
//!   two of our codecs' (issue 21's bitcode encode against rkyv's), or ours against
//!   tonic-prost's (issue 19's gRPC targets, `grpc.rs`), held like a ratio against JSON: a
//!   miss by more than [`TIME_NOISE`] fails the report.
//! - **Advisory**: other time figures (overhead over raw rkyv in ns or as a time ratio,
//!   against the peers), and `mesh`'s bitcode size saving. Shown, never deciding.
//!
//! The restated targets (issue 16), replacing issue 7's time-based ones:
//!
//! 1. O(1) reads in absolute terms: on `mesh`, where raw rkyv's access is O(1), our access
//!    costs at most 100 instructions more than raw rkyv's per frame (deterministic) and at
//!    most 10 ns more (advisory).
//! 2. rpc encode: rkyv at least 2x json, in instructions (deterministic) and in time (time
//!    against JSON). Issue 7's ">= 4x json" for rpc is retired (both sides walk the same
//!    `serde_json::Value`); the seed floor (>= 1.4x) stays, as on every dataset.
//! 3. Framework overhead on the large datasets (`log`, `mesh`, `minecraft`, `mk48`), encode
//!    and access through our `rkyv` and `hybrid` codecs: at most 3% more instructions than
//!    raw rkyv (deterministic); the time ratios stay as information (advisory).
//!
//! Issue 21's, for the bitcode payload:
//!
//! 4. Framework overhead over raw bitcode on the large datasets: `hybrid+bitcode` encode and
//!    decode at most 3% more instructions than the `bitcode` peer (deterministic, gated).
//! 5. `hybrid+bitcode` encode at least 1.5x faster than `hybrid` (rkyv) on `log` and
//!    `minecraft` (time ratio).
//! 6. `hybrid+bitcode+zstd` frames at least 20% smaller than `hybrid+zstd` on `log`,
//!    `minecraft` and `mk48` (deterministic); `mesh` is shown, with no goal (float data
//!    compresses about 9% better, per the earlier anchor runs).
//!
//! Kept from issue 7 as still valid: the seed floors (rkyv encode >= 1.4x and decode >= 1.5x
//! json in time; rkyv access and large-dataset decode allocate <= 0.7x json decode's bytes),
//! the encode goals of the other datasets (mesh 50x, mk48 20x, chat, log and minecraft 4x),
//! the access goals against json decode (chat 5x, log and minecraft 8x, mesh and mk48 100x),
//! rkyv access >= 2x the fastest peer decode (advisory: not against JSON), chat's per-message
//! overhead over raw rkyv <= 30 ns (advisory) and the dictionary's held-out size gain >= 1.8x
//! (deterministic).
//!
//! Issue 19's, for gRPC through tonic (`grpc.rs`, against tonic-prost on the same calls):
//!
//! 7. Codec level: our decode or access of a chat message at least 3x faster than prost's
//!    decode (time ratio); `access_owned` on unaligned `Bytes`, what a handler gets on
//!    tonic's buffers, is shown against the same goal (advisory).
//! 8. Streaming messages per second at least 1.3x prost's, on the 10,000-message chat stream
//!    and the log stream (time ratio; messages per CPU-second beside it, advisory); unary
//!    calls per second no worse than prost's (time ratio). Client and server share the
//!    machine's two cores: on a loaded machine these ratios move by about 10% between quick
//!    runs, so a verdict near the goal can change from run to run.
//! 9. Dictionary-compressed chat frames smaller than prost's encoding of the same message,
//!    with or without tonic's zstd (zstd-3 of the prost message; deterministic).
//!
//! A target whose figures this run does not have (a codec not in the build, no instruction
//! counts) is listed as not evaluated, with the reason, and never counted as met.

use zerocodec_datasets::codecs::Op;

use crate::instructions::Instructions;
use crate::measure::DatasetResult;

/// How far a time ratio against JSON may fall short of its goal before the miss counts: the
/// run-to-run movement of most such ratios in quick runs on the shared 2-core machine.
pub(crate) const TIME_NOISE: f64 = 0.10;

/// Large datasets: the instruction overhead limit applies to them.
pub(crate) const LARGE: [&str; 4] = ["log", "mesh", "minecraft", "mk48"];

/// Most instructions our access may add per frame where raw rkyv's is O(1) (`mesh`).
pub(crate) const MAX_O1_ACCESS_IR: f64 = 100.0;
/// Most time it may add, in ns (advisory).
pub(crate) const MAX_O1_ACCESS_NS: f64 = 10.0;
/// Most instructions our encode and access may add over raw rkyv's on a large dataset, in %.
pub(crate) const MAX_OVERHEAD_PCT: f64 = 3.0;

/// Peer formats the access target compares with.
const PEERS: [&str; 2] = ["postcard", "bitcode"];

/// What a target's figure is, and so whether a miss decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Instructions, allocations, sizes: the same every run.
    Deterministic,
    /// A time ratio against JSON: decides only beyond [`TIME_NOISE`].
    TimeVsJson,
    /// A time ratio between two of our codecs, or ours and tonic-prost's, in one run:
    /// decides only beyond [`TIME_NOISE`], as [`Kind::TimeVsJson`] does.
    TimeRatio,
    /// Other time figures, and mesh's bitcode size saving: information.
    Advisory,
}

impl Kind {
    /// A short label for tables.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Kind::Deterministic => "deterministic",
            Kind::TimeVsJson => "time vs json",
            Kind::TimeRatio => "time ratio",
            Kind::Advisory => "advisory",
        }
    }
}

/// The unit a target's value is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unit {
    /// A ratio (`x`).
    Ratio,
    /// Percent more than the reference.
    Percent,
    /// Instructions more than the reference.
    Instructions,
    /// Nanoseconds more than the reference.
    Nanoseconds,
}

/// A checked target.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    /// What is compared, with the direction and the goal.
    pub(crate) name: String,
    /// The benchmark id (`{dataset}/{codec}/{op}`) an instruction limit is about.
    pub(crate) id: Option<String>,
    /// The codec an instruction limit measures against (`raw-rkyv`, `bitcode`).
    pub(crate) reference: &'static str,
    /// The measured value.
    pub(crate) value: f64,
    /// The goal.
    pub(crate) goal: f64,
    /// The value's unit.
    pub(crate) unit: Unit,
    /// Whether the goal is a ceiling (else a floor).
    pub(crate) at_most: bool,
    /// What kind of figure it is.
    pub(crate) kind: Kind,
    /// Whether the value meets the goal.
    pub(crate) met: bool,
    /// Whether the gate (`ci/gate.sh`) holds it: the overhead limits.
    pub(crate) gated: bool,
}

impl Target {
    /// True if this miss fails the report: any deterministic miss, a time ratio against
    /// JSON beyond [`TIME_NOISE`], never an advisory one.
    pub(crate) fn decisive_miss(&self) -> bool {
        match self.kind {
            _ if self.met => false,
            Kind::Deterministic => true,
            Kind::TimeVsJson | Kind::TimeRatio if self.at_most => {
                self.value > self.goal * (1.0 + TIME_NOISE)
            }
            Kind::TimeVsJson | Kind::TimeRatio => self.value < self.goal * (1.0 - TIME_NOISE),
            Kind::Advisory => false,
        }
    }

    /// The verdict as a table cell.
    pub(crate) fn verdict(&self) -> &'static str {
        if self.met {
            "yes"
        } else if self.decisive_miss() {
            "**no**"
        } else if matches!(self.kind, Kind::TimeVsJson | Kind::TimeRatio) {
            "no (within noise)"
        } else {
            "no (advisory)"
        }
    }

    /// The value with its unit.
    pub(crate) fn shown(&self) -> String {
        fmt_value(self.value, self.unit)
    }

    /// The goal with its unit and direction (`at most +3.00%`).
    pub(crate) fn shown_goal(&self) -> String {
        let direction = if self.at_most { "at most" } else { "at least" };
        format!("{direction} {}", fmt_value(self.goal, self.unit))
    }
}

fn fmt_value(v: f64, unit: Unit) -> String {
    match unit {
        Unit::Ratio => format!("{v:.2}x"),
        Unit::Percent => format!("{v:+.2}%"),
        Unit::Instructions => format!("{v:+.0} Ir"),
        Unit::Nanoseconds => format!("{v:+.2} ns"),
    }
}

/// A target that could not be evaluated in this run.
#[derive(Debug, Clone)]
pub(crate) struct Skipped {
    /// The target.
    pub(crate) name: String,
    /// Why it was not evaluated.
    pub(crate) reason: String,
    /// Whether the gate holds it.
    pub(crate) gated: bool,
}

/// Checked and skipped targets.
#[derive(Debug, Default)]
pub(crate) struct Targets {
    /// Evaluated targets.
    pub(crate) checked: Vec<Target>,
    /// Targets not evaluated, with reasons.
    pub(crate) skipped: Vec<Skipped>,
}

/// One target to check.
struct Spec {
    name: String,
    id: Option<String>,
    reference: &'static str,
    goal: f64,
    unit: Unit,
    at_most: bool,
    kind: Kind,
    gated: bool,
    value: Result<f64, String>,
}

impl Targets {
    /// True if no evaluated target is a decisive miss.
    pub(crate) fn passed(&self) -> bool {
        !self.checked.iter().any(Target::decisive_miss)
    }

    fn push(&mut self, spec: Spec) {
        let sign = if spec.at_most { "≤" } else { "≥" };
        let name = format!(
            "{} {sign} {}",
            spec.name,
            fmt_value(spec.goal, spec.unit).trim_start_matches('+')
        );
        match spec.value {
            Ok(value) if value.is_finite() => {
                let met = if spec.at_most {
                    value <= spec.goal
                } else {
                    value >= spec.goal
                };
                self.checked.push(Target {
                    name,
                    id: spec.id,
                    reference: spec.reference,
                    value,
                    goal: spec.goal,
                    unit: spec.unit,
                    at_most: spec.at_most,
                    kind: spec.kind,
                    met,
                    gated: spec.gated,
                });
            }
            Ok(value) => self.skipped.push(Skipped {
                name,
                reason: format!("the measured value is not a number ({value})"),
                gated: spec.gated,
            }),
            Err(reason) => self.skipped.push(Skipped {
                name,
                reason,
                gated: spec.gated,
            }),
        }
    }

    #[allow(clippy::too_many_arguments)] // one call per target reads as a table
    pub(crate) fn check(
        &mut self,
        name: String,
        value: Result<f64, String>,
        goal: f64,
        unit: Unit,
        at_most: bool,
        kind: Kind,
    ) {
        self.push(Spec {
            name,
            id: None,
            reference: "",
            goal,
            unit,
            at_most,
            kind,
            gated: false,
            value,
        });
    }
}

struct Lookup<'a>(&'a DatasetResult);

impl Lookup<'_> {
    fn ns(&self, codec: &str, op: Op) -> Result<f64, String> {
        let c = self
            .0
            .codec(codec)
            .ok_or_else(|| format!("codec `{codec}` is not in this build"))?;
        c.op(op)
            .map(|r| r.ns_per_op)
            .ok_or_else(|| format!("codec `{codec}` has no {op}"))
    }

    /// The encoded size (for a compressed stack, the compressed frame's).
    fn bytes(&self, codec: &str) -> Result<f64, String> {
        self.0
            .codec(codec)
            .map(|c| c.bytes as f64)
            .ok_or_else(|| format!("codec `{codec}` is not in this build"))
    }

    fn alloc_bytes(&self, codec: &str, op: Op) -> Result<f64, String> {
        let c = self
            .0
            .codec(codec)
            .ok_or_else(|| format!("codec `{codec}` is not in this build"))?;
        c.op(op)
            .map(|r| r.alloc.bytes as f64)
            .ok_or_else(|| format!("codec `{codec}` has no {op}"))
    }

    fn held_out(&self, codec: &str) -> Result<f64, String> {
        self.0
            .codec(codec)
            .ok_or_else(|| format!("codec `{codec}` is not in this build"))?
            .held_out_mean
            .ok_or_else(|| format!("dataset `{}` has no held-out corpus", self.0.name))
    }

    /// How many times faster `a` is than `b`.
    fn speedup(&self, a: (&str, Op), b: (&str, Op)) -> Result<f64, String> {
        Ok(self.ns(b.0, b.1)? / self.ns(a.0, a.1)?)
    }
}

/// Allocation ratio `a / b`; 0 when neither allocates.
fn alloc_ratio(a: f64, b: f64) -> f64 {
    if a == 0.0 { 0.0 } else { a / b }
}

/// Why instruction targets are not evaluated when there are no figures.
pub(crate) const NO_INSTRUCTIONS: &str = "no instruction counts: run `bash ci/gate.sh` (or \
     `cargo bench --bench instructions -- --save-summary=json`) before the report";

/// The deterministic instruction targets on `datasets`: the overhead limits the gate holds
/// (decisions 1 and 3) and rpc's encode goal (decision 2).
pub(crate) fn instruction_targets_for(
    ir: Result<&Instructions, &str>,
    datasets: &[&str],
) -> Targets {
    let mut t = Targets::default();
    let get = |ds: &str, codec: &str, op: &str| -> Result<f64, String> {
        ir.map_err(str::to_owned)
            .and_then(|ir| ir.get(ds, codec, op))
            .map(|v| v as f64)
    };
    for &ds in datasets {
        if LARGE.contains(&ds) {
            for ours in ["rkyv", "hybrid"] {
                for op in ["encode", "access"] {
                    let (name, value, goal, unit) = if ds == "mesh" && op == "access" {
                        (
                            format!("{ds}: {ours} {op} instructions over raw-rkyv's (O(1) read)"),
                            get(ds, ours, op).and_then(|a| Ok(a - get(ds, "raw-rkyv", op)?)),
                            MAX_O1_ACCESS_IR,
                            Unit::Instructions,
                        )
                    } else {
                        (
                            format!("{ds}: {ours} {op} instructions over raw-rkyv's"),
                            get(ds, ours, op)
                                .and_then(|a| Ok((a / get(ds, "raw-rkyv", op)? - 1.0) * 100.0)),
                            MAX_OVERHEAD_PCT,
                            Unit::Percent,
                        )
                    };
                    t.push(Spec {
                        name,
                        id: Some(format!("{ds}/{ours}/{op}")),
                        reference: "raw-rkyv",
                        goal,
                        unit,
                        at_most: true,
                        kind: Kind::Deterministic,
                        gated: true,
                        value,
                    });
                }
            }
            // The bitcode payload's framework overhead: the frame around raw bitcode.
            for op in ["encode", "decode"] {
                t.push(Spec {
                    name: format!("{ds}: hybrid+bitcode {op} instructions over bitcode's"),
                    id: Some(format!("{ds}/hybrid+bitcode/{op}")),
                    reference: "bitcode",
                    goal: MAX_OVERHEAD_PCT,
                    unit: Unit::Percent,
                    at_most: true,
                    kind: Kind::Deterministic,
                    gated: true,
                    value: get(ds, "hybrid+bitcode", op)
                        .and_then(|a| Ok((a / get(ds, "bitcode", op)? - 1.0) * 100.0)),
                });
            }
        }
        if ds == "rpc" {
            t.check(
                format!("{ds}: rkyv encode instructions, json's / rkyv's"),
                get(ds, "json", "encode").and_then(|j| Ok(j / get(ds, "rkyv", "encode")?)),
                2.0,
                Unit::Ratio,
                false,
                Kind::Deterministic,
            );
        }
    }
    t
}

/// [`instruction_targets_for`] on every dataset.
pub(crate) fn instruction_targets(ir: &Instructions) -> Targets {
    instruction_targets_for(Ok(ir), &zerocodec_datasets::DATASETS)
}

/// Evaluates every target on `results` (times, sizes, allocations) and `ir` (instruction
/// counts, or why there are none).
pub(crate) fn evaluate(results: &[DatasetResult], ir: Result<&Instructions, &str>) -> Targets {
    let names: Vec<&str> = results.iter().map(|d| d.name).collect();
    let mut t = instruction_targets_for(ir, &names);
    for d in results {
        let ds = d.name;
        let l = Lookup(d);

        // The seed design's floors.
        t.check(
            format!("{ds}: rkyv encode speedup over json (seed floor)"),
            l.speedup(("rkyv", Op::Encode), ("json", Op::Encode)),
            1.4,
            Unit::Ratio,
            false,
            Kind::TimeVsJson,
        );
        t.check(
            format!("{ds}: rkyv decode speedup over json (seed floor)"),
            l.speedup(("rkyv", Op::Decode), ("json", Op::Decode)),
            1.5,
            Unit::Ratio,
            false,
            Kind::TimeVsJson,
        );
        t.check(
            format!("{ds}: rkyv access bytes allocated / json decode's (seed floor)"),
            l.alloc_bytes("rkyv", Op::Access)
                .and_then(|a| Ok(alloc_ratio(a, l.alloc_bytes("json", Op::Decode)?))),
            0.7,
            Unit::Ratio,
            true,
            Kind::Deterministic,
        );
        if LARGE.contains(&ds) {
            t.check(
                format!("{ds}: rkyv decode bytes allocated / json decode's (seed floor)"),
                l.alloc_bytes("rkyv", Op::Decode)
                    .and_then(|a| Ok(alloc_ratio(a, l.alloc_bytes("json", Op::Decode)?))),
                0.7,
                Unit::Ratio,
                true,
                Kind::Deterministic,
            );
        }

        // Goals against JSON.
        let encode_goal = match ds {
            "mesh" => 50.0,
            "mk48" => 20.0,
            "rpc" => 2.0,
            _ => 4.0,
        };
        t.check(
            format!("{ds}: rkyv encode speedup over json"),
            l.speedup(("rkyv", Op::Encode), ("json", Op::Encode)),
            encode_goal,
            Unit::Ratio,
            false,
            Kind::TimeVsJson,
        );
        let access_goal = match ds {
            "chat" => Some(5.0),
            "log" | "minecraft" => Some(8.0),
            "mk48" | "mesh" => Some(100.0),
            _ => None,
        };
        if let Some(goal) = access_goal {
            t.check(
                format!("{ds}: rkyv access speedup over json decode"),
                l.speedup(("rkyv", Op::Access), ("json", Op::Decode)),
                goal,
                Unit::Ratio,
                false,
                Kind::TimeVsJson,
            );
        }
        let fastest_peer = PEERS
            .iter()
            .filter_map(|p| l.ns(p, Op::Decode).ok())
            .min_by(f64::total_cmp);
        t.check(
            format!("{ds}: rkyv access speedup over the fastest peer decode (postcard, bitcode)"),
            match fastest_peer {
                Some(ns) => l.ns("rkyv", Op::Access).map(|a| ns / a),
                None => Err(
                    "no peer format (postcard, bitcode) can carry this dataset's \
                     serde_json::Value field"
                        .to_owned(),
                ),
            },
            2.0,
            Unit::Ratio,
            false,
            Kind::Advisory,
        );

        // Framework overhead over raw rkyv in time: information beside the instruction limits.
        for ours in ["rkyv", "hybrid"] {
            for op in [Op::Encode, Op::Access] {
                let over_ns = l.ns(ours, op).and_then(|a| Ok(a - l.ns("raw-rkyv", op)?));
                if ds == "mesh" && op == Op::Access {
                    t.check(
                        format!("{ds}: {ours} {op} ns over raw-rkyv's (O(1) read)"),
                        over_ns,
                        MAX_O1_ACCESS_NS,
                        Unit::Nanoseconds,
                        true,
                        Kind::Advisory,
                    );
                } else if LARGE.contains(&ds) {
                    t.check(
                        format!("{ds}: {ours} {op} time over raw-rkyv's"),
                        l.ns(ours, op)
                            .and_then(|a| Ok((a / l.ns("raw-rkyv", op)? - 1.0) * 100.0)),
                        MAX_OVERHEAD_PCT,
                        Unit::Percent,
                        true,
                        Kind::Advisory,
                    );
                } else if ds == "chat" {
                    t.check(
                        format!("{ds}: {ours} {op} ns over raw-rkyv's"),
                        over_ns,
                        30.0,
                        Unit::Nanoseconds,
                        true,
                        Kind::Advisory,
                    );
                }
            }
        }

        // The bitcode payload: faster writes than rkyv's, smaller compressed frames.
        if ds == "log" || ds == "minecraft" {
            t.check(
                format!("{ds}: hybrid+bitcode encode speedup over hybrid (rkyv)"),
                l.speedup(("hybrid+bitcode", Op::Encode), ("hybrid", Op::Encode)),
                1.5,
                Unit::Ratio,
                false,
                Kind::TimeRatio,
            );
        }
        if LARGE.contains(&ds) {
            // `mesh` is shown, never deciding: float data leaves bitcode little to pack.
            t.check(
                format!("{ds}: hybrid+bitcode+zstd frame smaller than hybrid+zstd's by"),
                l.bytes("hybrid+bitcode+zstd")
                    .and_then(|b| Ok((1.0 - b / l.bytes("hybrid+zstd")?) * 100.0)),
                20.0,
                Unit::Percent,
                false,
                if ds == "mesh" {
                    Kind::Advisory
                } else {
                    Kind::Deterministic
                },
            );
        }

        // Dictionaries on small messages.
        if ds == "chat" || ds == "rpc" {
            t.check(
                format!("{ds}: held-out size with hybrid+zstd / with hybrid+zstd-dict"),
                l.held_out("hybrid+zstd-dict")
                    .and_then(|dict| Ok(l.held_out("hybrid+zstd")? / dict)),
                1.8,
                Unit::Ratio,
                false,
                Kind::Deterministic,
            );
        }
    }
    t
}
