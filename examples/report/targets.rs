//! The targets the report checks: the seed design's floors and the project's goals, each a
//! ratio of figures measured in the same run.
//!
//! A target that needs a codec this build does not have (the hybrid codec and its compressed
//! stacks, until they land) is listed as not evaluated, with the reason, and never counted as
//! met.

use zerocodec_datasets::codecs::Op;

use crate::measure::DatasetResult;

/// A checked target.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    /// What is compared, with the direction of the goal.
    pub(crate) name: String,
    /// The measured ratio (or difference, in ns, for the per-message overhead targets).
    pub(crate) value: f64,
    /// The goal.
    pub(crate) goal: f64,
    /// Whether the value meets the goal.
    pub(crate) met: bool,
}

/// A target that could not be evaluated in this build.
#[derive(Debug, Clone)]
pub(crate) struct Skipped {
    /// The target.
    pub(crate) name: String,
    /// Why it was not evaluated.
    pub(crate) reason: String,
}

/// Checked and skipped targets.
#[derive(Debug, Default)]
pub(crate) struct Targets {
    /// Evaluated targets.
    pub(crate) checked: Vec<Target>,
    /// Targets not evaluated, with reasons.
    pub(crate) skipped: Vec<Skipped>,
}

impl Targets {
    /// True if every evaluated target is met.
    pub(crate) fn all_met(&self) -> bool {
        self.checked.iter().all(|t| t.met)
    }

    fn check(&mut self, name: String, value: Result<f64, String>, goal: f64, at_most: bool) {
        let sign = if at_most { "≤" } else { "≥" };
        let name = format!("{name} {sign} {goal}");
        match value {
            Ok(value) if value.is_finite() => {
                let met = if at_most {
                    value <= goal
                } else {
                    value >= goal
                };
                self.checked.push(Target {
                    name,
                    value,
                    goal,
                    met,
                });
            }
            Ok(value) => self.skipped.push(Skipped {
                name,
                reason: format!("the measured value is not a number ({value})"),
            }),
            Err(reason) => self.skipped.push(Skipped { name, reason }),
        }
    }
}

/// Large datasets: the "within 5% of raw rkyv" overhead target applies to them.
const LARGE: [&str; 4] = ["log", "mesh", "minecraft", "mk48"];
/// Peer formats the access target compares with.
const PEERS: [&str; 2] = ["postcard", "bitcode"];

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

/// Evaluates every target on `results`.
pub(crate) fn evaluate(results: &[DatasetResult]) -> Targets {
    let mut t = Targets::default();
    for d in results {
        let ds = d.name;
        let l = Lookup(d);

        // The seed design's floors.
        t.check(
            format!("{ds}: rkyv encode speedup over json (seed floor)"),
            l.speedup(("rkyv", Op::Encode), ("json", Op::Encode)),
            1.4,
            false,
        );
        t.check(
            format!("{ds}: rkyv decode speedup over json (seed floor)"),
            l.speedup(("rkyv", Op::Decode), ("json", Op::Decode)),
            1.5,
            false,
        );
        t.check(
            format!("{ds}: rkyv access bytes allocated / json decode's (seed floor)"),
            l.alloc_bytes("rkyv", Op::Access)
                .and_then(|a| Ok(alloc_ratio(a, l.alloc_bytes("json", Op::Decode)?))),
            0.7,
            true,
        );
        if LARGE.contains(&ds) {
            t.check(
                format!("{ds}: rkyv decode bytes allocated / json decode's (seed floor)"),
                l.alloc_bytes("rkyv", Op::Decode)
                    .and_then(|a| Ok(alloc_ratio(a, l.alloc_bytes("json", Op::Decode)?))),
                0.7,
                true,
            );
        }

        // Our goals.
        let encode_goal = match ds {
            "mesh" => 50.0,
            "mk48" => 20.0,
            _ => 4.0,
        };
        t.check(
            format!("{ds}: rkyv encode speedup over json"),
            l.speedup(("rkyv", Op::Encode), ("json", Op::Encode)),
            encode_goal,
            false,
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
                false,
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
            false,
        );

        // Framework overhead over raw rkyv.
        for ours in ["rkyv", "hybrid"] {
            for op in [Op::Encode, Op::Access] {
                if LARGE.contains(&ds) {
                    t.check(
                        format!("{ds}: {ours} {op} time / raw-rkyv's"),
                        l.ns(ours, op).and_then(|a| Ok(a / l.ns("raw-rkyv", op)?)),
                        1.05,
                        true,
                    );
                } else if ds == "chat" {
                    t.check(
                        format!("{ds}: {ours} {op} ns over raw-rkyv's"),
                        l.ns(ours, op).and_then(|a| Ok(a - l.ns("raw-rkyv", op)?)),
                        30.0,
                        true,
                    );
                }
            }
        }

        // Dictionaries on small messages.
        if ds == "chat" || ds == "rpc" {
            t.check(
                format!("{ds}: held-out size with hybrid+zstd / with hybrid+zstd-dict"),
                l.held_out("hybrid+zstd-dict")
                    .and_then(|dict| Ok(l.held_out("hybrid+zstd")? / dict)),
                1.8,
                false,
            );
        }
    }
    t
}
