//! What the report writes: the Markdown summary, docs/benchmarks.md, summary.json, and the
//! speedup table in the README.

use std::fmt::Write as _;

use serde_json::json;
use zerocodec_datasets::codecs::{Op, Role};

use crate::grpc::{self, GrpcResult};
use crate::instructions::Instructions;
use crate::measure::{CodecResult, DatasetResult};
use crate::targets::{NO_INSTRUCTIONS, TIME_NOISE, Targets};

/// Facts about the run that every output names.
pub(crate) struct RunInfo {
    /// `quick` or `full`.
    pub(crate) mode: &'static str,
    /// CPU, cores, OS.
    pub(crate) machine: String,
    /// UTC date, `yyyy-mm-dd`.
    pub(crate) date: String,
    /// Samples per figure.
    pub(crate) samples: usize,
    /// Codecs from the list that this build does not have.
    pub(crate) missing_codecs: Vec<&'static str>,
}

/// A time in the unit that reads best, three significant digits.
pub(crate) fn fmt_ns(ns: f64) -> String {
    let (v, unit) = if ns < 1e3 {
        (ns, "ns")
    } else if ns < 1e6 {
        (ns / 1e3, "µs")
    } else if ns < 1e9 {
        (ns / 1e6, "ms")
    } else {
        (ns / 1e9, "s")
    };
    format!("{} {unit}", sig3(v))
}

fn sig3(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// A byte count with thousands separators.
pub(crate) fn fmt_int(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

fn fmt_speedup(x: f64) -> String {
    if x >= 100.0 {
        format!("{x:.0}x")
    } else {
        format!("{x:.1}x")
    }
}

/// `json`'s time for the operation a speedup of `op` is measured against: access is compared
/// with json's decode (both give the caller something to read).
fn json_baseline(d: &DatasetResult, op: Op) -> Option<f64> {
    let base_op = if op == Op::Access { Op::Decode } else { op };
    d.codec("json")?.op(base_op).map(|r| r.ns_per_op)
}

/// How many times faster than json `codec` does `op` on `d`.
pub(crate) fn speedup(d: &DatasetResult, codec: &CodecResult, op: Op) -> Option<f64> {
    Some(json_baseline(d, op)? / codec.op(op)?.ns_per_op)
}

/// The headline table: each of our codecs (other than json) against json, per dataset.
pub(crate) fn speedup_table(results: &[DatasetResult]) -> String {
    let mut ours: Vec<&'static str> = Vec::new();
    for d in results {
        for c in &d.codecs {
            if c.role == Role::Ours && c.name != "json" && !ours.contains(&c.name) {
                ours.push(c.name);
            }
        }
    }
    let mut s = String::from("| dataset |");
    let mut rule = String::from("|---|");
    for name in &ours {
        for op in Op::ALL {
            let _ = write!(s, " {name} {op} |");
            rule.push_str("---:|");
        }
    }
    s.push('\n');
    s.push_str(&rule);
    s.push('\n');
    for d in results {
        let _ = write!(s, "| {} |", d.name);
        for name in &ours {
            for op in Op::ALL {
                let cell = d
                    .codec(name)
                    .and_then(|c| speedup(d, c, op))
                    .map_or_else(|| "–".to_owned(), fmt_speedup);
                let _ = write!(s, " {cell} |");
            }
        }
        s.push('\n');
    }
    s.push_str(
        "\nTimes faster than our `json` codec on the same data in the same run (access is \
         compared with json's decode: both hand the caller something to read).\n",
    );
    s
}

fn targets_section(targets: &Targets) -> String {
    let mut s = String::new();
    let met = targets.checked.iter().filter(|t| t.met).count();
    let decisive = targets.checked.iter().filter(|t| t.decisive_miss()).count();
    let _ = writeln!(
        s,
        "{met} of {} evaluated targets met; {decisive} missed beyond doubt (deterministic, or a \
         time ratio short by more than {:.0}% run-to-run noise); {} not \
         evaluated. The report fails only on a miss beyond doubt.\n",
        targets.checked.len(),
        TIME_NOISE * 100.0,
        targets.skipped.len()
    );
    s.push_str("| target | kind | value | met |\n|---|---|---:|:---:|\n");
    for t in &targets.checked {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} |",
            t.name,
            t.kind.label(),
            t.shown(),
            t.verdict()
        );
    }
    if !targets.skipped.is_empty() {
        s.push_str("\nNot evaluated (never counted as met):\n\n");
        for t in &targets.skipped {
            let _ = writeln!(s, "- {}: {}", t.name, t.reason);
        }
    }
    s
}

fn dataset_table(d: &DatasetResult) -> String {
    let per_message = d.codecs.iter().any(|c| c.held_out_mean.is_some());
    let mut s = String::new();
    let _ = writeln!(s, "### {}: {}\n", d.name, d.description);
    s.push_str(
        "| codec | role | size (B) | zstd-3 (B) | encode | decode | access | encode MB/s | \
         decode MB/s | allocs enc / dec / acc | bytes allocated enc / dec / acc |",
    );
    if per_message {
        s.push_str(" held-out mean size (B) |");
    }
    s.push_str("\n|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    if per_message {
        s.push_str("---:|");
    }
    s.push('\n');
    for c in &d.codecs {
        let time = |op| {
            c.op(op)
                .map_or_else(|| "–".to_owned(), |r| fmt_ns(r.ns_per_op))
        };
        let mbps = |op| {
            c.op(op).map_or_else(
                || "–".to_owned(),
                |r| format!("{:.0}", c.bytes as f64 / r.ns_per_op * 1e3),
            )
        };
        let allocs = |f: &dyn Fn(&crate::measure::OpResult) -> u64| {
            Op::ALL
                .iter()
                .map(|&op| c.op(op).map_or_else(|| "–".to_owned(), |r| fmt_int(f(r))))
                .collect::<Vec<_>>()
                .join(" / ")
        };
        let _ = write!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            c.name,
            c.role.name(),
            fmt_int(c.bytes as u64),
            fmt_int(c.zstd_bytes as u64),
            time(Op::Encode),
            time(Op::Decode),
            time(Op::Access),
            mbps(Op::Encode),
            mbps(Op::Decode),
            allocs(&|r| r.alloc.count),
            allocs(&|r| r.alloc.bytes),
        );
        if per_message {
            let _ = write!(
                s,
                " {} |",
                c.held_out_mean
                    .map_or_else(|| "–".to_owned(), |m| format!("{m:.1}"))
            );
        }
        s.push('\n');
    }
    s
}

fn header(info: &RunInfo) -> String {
    let mut s = format!(
        "Measured {} on {}, {} mode ({} interleaved samples per figure; medians).\n",
        info.date, info.machine, info.mode, info.samples
    );
    if !info.missing_codecs.is_empty() {
        let _ = writeln!(
            s,
            "\nCodecs not in this build, so not measured: {}.",
            info.missing_codecs
                .iter()
                .map(|c| format!("`{c}`"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    s
}

/// The gRPC section with its heading, or nothing when it was not measured.
fn grpc_section(grpc: Option<&GrpcResult>) -> String {
    grpc.map_or_else(String::new, |g| {
        format!("\n## gRPC through tonic\n\n{}", grpc::section(g))
    })
}

/// The summary printed to stdout.
pub(crate) fn summary(
    results: &[DatasetResult],
    grpc: Option<&GrpcResult>,
    targets: &Targets,
    info: &RunInfo,
) -> String {
    let speedups = if results.is_empty() {
        String::new()
    } else {
        format!("\n## Speedup over JSON\n\n{}", speedup_table(results))
    };
    format!(
        "# zerocodec benchmark report\n\n{}{speedups}{}\n## Targets\n\n{}",
        header(info),
        grpc_section(grpc),
        targets_section(targets)
    )
}

/// The instruction counts per dataset: one row per codec, one column per operation.
fn instructions_section(ir: Option<&Instructions>) -> String {
    let Some(ir) = ir else {
        return format!("Not in this run: {NO_INSTRUCTIONS}.\n");
    };
    let mut s = String::from(
        "Callgrind `Ir` of one warm call, from `benches/instructions.rs` (gungraun); the large \
         datasets at a tenth of the sizes above (`Scale::Gate`), so compare codecs within a \
         row group, not with the times. These figures decide the overhead targets; \
         `ci/gate.sh` holds ours within 2% of `ci/gate-baseline.txt`.\n\n",
    );
    for dataset in zerocodec_datasets::DATASETS {
        let mut rows = Vec::new();
        for codec in zerocodec_datasets::codecs::CODEC_NAMES {
            let cells: Vec<String> = Op::ALL
                .iter()
                .map(|op| {
                    ir.get(dataset, codec, op.name())
                        .map_or_else(|_| "–".to_owned(), fmt_int)
                })
                .collect();
            if cells.iter().any(|c| c != "–") {
                rows.push(format!("| {codec} | {} |", cells.join(" | ")));
            }
        }
        if rows.is_empty() {
            continue;
        }
        let _ = writeln!(
            s,
            "**{dataset}**\n\n| codec | encode | decode | access |\n|---|---:|---:|---:|\n{}\n",
            rows.join("\n")
        );
    }
    s
}

/// docs/benchmarks.md.
pub(crate) fn benchmarks_md(
    results: &[DatasetResult],
    grpc: Option<&GrpcResult>,
    targets: &Targets,
    info: &RunInfo,
    ir: Option<&Instructions>,
) -> String {
    let mut s = String::from(
        "# Benchmarks\n\n<!-- Written by `cargo run --release -p zerocodec-report -- \
         --update-docs`; do not edit by hand. -->\n\n",
    );
    s.push_str(&header(info));
    s.push_str(
        "\nReproduce with `bash ci/gate.sh` (instruction counts) then `cargo run --release \
         -p zerocodec-report` (quick; `-- --full` for more samples; both write under `target/`), \
         or time each operation with criterion: `cargo bench` (ids `{dataset}/{codec}/{op}`).\n\n\
         **Method.** Datasets are generated from one seeded generator \
         (`zerocodec-datasets`), modeled on the public rust_serialization_benchmark. Every \
         codec's encoding is decoded (and accessed) and compared with the original before \
         anything is timed. Encode writes into a reused buffer; decode builds an owned value \
         (its drop is not timed); access validates the archive and reads it in place. All \
         (codec, operation) pairs of a dataset run in rounds, each a batch of at least the \
         sample time, in a new (seeded, shuffled) order every round, and each figure is the \
         median of its rounds, so ratios compare figures taken under the same load. Allocations are counted by a counting global allocator \
         for one warm call (reallocations count as allocations, with their new size). Sizes \
         are of one encoding; zstd-3 is that encoding compressed with zstd at level 3. \
         Codec roles: *ours* are zerocodec's codecs; *reference* is the library one of them \
         wraps, called directly (our overhead is the gap); *peer* formats are for \
         comparison (they cannot carry `rpc`'s free-form `serde_json::Value`).\n\n",
    );
    s.push_str("## Speedup over JSON\n\n");
    s.push_str(&speedup_table(results));
    s.push_str(
        "\n![Speedup over JSON per dataset and operation](img/speedup.svg)\n\n\
         ![Encoded and zstd-compressed size per codec, relative to JSON](img/size.svg)\n\n",
    );
    s.push_str("## Targets\n\n");
    s.push_str(&targets_section(targets));
    s.push_str("\n## Instruction counts\n\n");
    s.push_str(&instructions_section(ir));
    s.push_str("\n## Per dataset\n\n");
    for d in results {
        s.push_str(&dataset_table(d));
        s.push('\n');
    }
    s.push_str(&grpc_section(grpc));
    s
}

/// target/zerocodec-report/summary.json, in the shape the benchmark issue fixes.
pub(crate) fn summary_json(
    results: &[DatasetResult],
    grpc: Option<&GrpcResult>,
    targets: &Targets,
    info: &RunInfo,
    ir: Option<&Instructions>,
) -> String {
    let mut rows = Vec::new();
    for d in results {
        for c in &d.codecs {
            for r in &c.ops {
                rows.push(json!({
                    "dataset": d.name,
                    "codec": c.name,
                    "op": r.op.name(),
                    "ns_per_op": r.ns_per_op,
                    "bytes": c.bytes,
                    "alloc_count": r.alloc.count,
                    "alloc_bytes": r.alloc.bytes,
                }));
            }
        }
    }
    let targets: Vec<_> = targets
        .checked
        .iter()
        .map(|t| {
            json!({
                "name": t.name,
                "kind": t.kind.label(),
                "value": t.value,
                "goal": t.goal,
                "met": t.met,
                "decisive_miss": t.decisive_miss(),
            })
        })
        .collect();
    let doc = json!({
        "version": 1,
        "mode": info.mode,
        "machine": info.machine,
        "results": rows,
        "instructions": ir.map(|ir| &ir.ir),
        "grpc": grpc.map(grpc::json),
        "targets": targets,
    });
    let mut text = serde_json::to_string_pretty(&doc).unwrap_or_default();
    text.push('\n');
    text
}

/// Marks the README's generated speedup table.
pub(crate) const README_START: &str = "<!-- speedup-table:start -->";
/// Ends it.
pub(crate) const README_END: &str = "<!-- speedup-table:end -->";

/// The README's speedup table with its provenance line.
pub(crate) fn readme_table(results: &[DatasetResult], info: &RunInfo) -> String {
    format!(
        "\n{}\n(From `cargo run --release -p zerocodec-report -- --update-docs`, {} mode, {} \
         on {}.)\n",
        speedup_table(results),
        info.mode,
        info.date,
        info.machine
    )
}

/// `readme` with the text between the markers replaced by the latest table; `None` if the
/// markers are missing.
pub(crate) fn update_readme(
    readme: &str,
    results: &[DatasetResult],
    info: &RunInfo,
) -> Option<String> {
    let start = readme.find(README_START)? + README_START.len();
    let end = start + readme[start..].find(README_END)?;
    let table = readme_table(results, info);
    Some(format!("{}{}{}", &readme[..start], table, &readme[end..]))
}
