//! The instruction-count gate (`--gate`, run by `ci/gate.sh`): the overhead limits on the
//! deterministic figures, and our figures against the committed baseline.
//!
//! It fails when
//!
//! - an overhead limit is missed (the `Deterministic` overhead targets of [`crate::targets`]:
//!   at most 3% more `Ir` than raw rkyv for encode and access through our `rkyv` and `hybrid`
//!   codecs on `log`, `minecraft`, `mk48` and `mesh` encode, at most 100 `Ir` more per frame
//!   for `mesh` access; at most 3% more than the `bitcode` peer for `hybrid+bitcode` encode
//!   and decode on the same datasets), unless the baseline accepts that miss (a `known-miss` line) and the
//!   figure is no worse than it accepts;
//! - one of *our* figures (`Role::Ours`) grows more than [`MAX_GROWTH_PCT`] over the
//!   baseline;
//! - a benchmark the baseline holds produced no figure, or the baseline is missing.
//!
//! Figures of the references and peers are kept in the baseline to read ours against (when
//! the toolchain or valgrind changes they move too) but never fail the gate.
//!
//! `--gate --update` rewrites the baseline from the figures just measured, keeping its
//! `known-miss` lines; it is a deliberate act, committed on its own.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use zerocodec_datasets::codecs::Role;

use crate::instructions::Instructions;
use crate::output::fmt_int;
use crate::targets;

/// Most an `Ir` figure of ours may grow over the baseline, in percent.
pub(crate) const MAX_GROWTH_PCT: f64 = 2.0;

/// The committed baseline.
#[derive(Debug, Default)]
pub(crate) struct Baseline {
    /// The toolchain the figures were measured with (`rustc`, valgrind, gungraun).
    pub(crate) env: Option<String>,
    /// `Ir` per id.
    pub(crate) ir: BTreeMap<String, u64>,
    /// Accepted misses of an overhead limit: the benchmark id, the worst value accepted, and
    /// the line as written with the comment lines right above it (kept by `--update`).
    pub(crate) known_misses: Vec<(String, f64, String)>,
}

const HEADER: &str = "\
# zerocodec instruction-count gate: the committed baseline (callgrind `Ir` of one call).
#
# Written by `bash ci/gate.sh --update` from benches/instructions.rs (large datasets at
# Scale::Gate, a tenth of the benchmark sizes); do not edit the figures by hand. The gate fails
# when one of our figures grows more than 2% over its line here, or when an overhead limit is
# missed. Figures depend on rustc, valgrind and the gungraun version (the `env` line): after
# changing any of them, refresh this file in a commit of its own.
#
# `known-miss <dataset/codec/op> <worst accepted value> -- <why>` lines accept a miss of an
# overhead limit, at that figure or better, until it is fixed; `--update` keeps them, with the
# comment lines right above them, as they are, and never adds one.
";

impl Baseline {
    /// Parses the baseline file's text.
    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        let mut baseline = Baseline::default();
        // Comment lines right above a `known-miss` line belong to it.
        let mut comments: Vec<&str> = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.starts_with('#') {
                comments.push(line);
                continue;
            }
            if line.is_empty() {
                comments.clear();
                continue;
            }
            let bad = || format!("line {}: cannot read `{line}`", n + 1);
            if let Some(env) = line.strip_prefix("env ") {
                baseline.env = Some(env.trim().to_owned());
            } else if let Some(rest) = line.strip_prefix("known-miss ") {
                let head = rest.split(" -- ").next().unwrap_or(rest).trim();
                let (name, value) = head.split_once(' ').ok_or_else(bad)?;
                let value: f64 = value.trim().parse().map_err(|_| bad())?;
                comments.push(line);
                baseline
                    .known_misses
                    .push((name.trim().to_owned(), value, comments.join("\n")));
            } else {
                let (id, ir) = line.split_once(' ').ok_or_else(bad)?;
                let ir: u64 = ir.trim().parse().map_err(|_| bad())?;
                if id.split('/').count() != 3 {
                    return Err(bad());
                }
                baseline.ir.insert(id.to_owned(), ir);
            }
            comments.clear();
        }
        Ok(baseline)
    }

    /// The file's text for `figures`, measured under `env`, keeping `known_misses`.
    pub(crate) fn render(figures: &Instructions, env: &str, known_misses: &[String]) -> String {
        let mut s = String::from(HEADER);
        s.push('\n');
        let _ = writeln!(s, "env {env}");
        if !known_misses.is_empty() {
            s.push('\n');
            for (i, lines) in known_misses.iter().enumerate() {
                // A commented miss stands apart from the one before it.
                if i > 0 && lines.starts_with('#') {
                    s.push('\n');
                }
                let _ = writeln!(s, "{lines}");
            }
        }
        s.push('\n');
        for (id, ir) in &figures.ir {
            let _ = writeln!(s, "{id} {ir}");
        }
        s
    }
}

fn codec_of(id: &str) -> &str {
    id.split('/').nth(1).unwrap_or("")
}

/// The gate's verdict on `figures`; prints every finding and returns whether it passed.
///
/// With `update`, first rewrites `baseline_path` from `figures` (keeping its `known-miss`
/// lines), then checks the overhead limits.
pub(crate) fn run(
    figures: &Instructions,
    baseline_path: &Path,
    env: &str,
    update: bool,
) -> Result<bool, String> {
    let old = match std::fs::read_to_string(baseline_path) {
        Ok(text) => {
            Some(Baseline::parse(&text).map_err(|e| format!("{}: {e}", baseline_path.display()))?)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(format!("cannot read {}: {e}", baseline_path.display())),
    };
    let baseline = if update {
        let kept: Vec<String> = old
            .as_ref()
            .map(|b| b.known_misses.iter().map(|k| k.2.clone()).collect())
            .unwrap_or_default();
        let text = Baseline::render(figures, env, &kept);
        std::fs::write(baseline_path, &text)
            .map_err(|e| format!("cannot write {}: {e}", baseline_path.display()))?;
        println!(
            "gate: wrote {} ({} figures); commit it on its own, saying why the figures moved",
            baseline_path.display(),
            figures.ir.len()
        );
        Baseline::parse(&text)?
    } else {
        match old {
            Some(b) => b,
            None => {
                println!(
                    "gate: FAIL: no baseline at {}; create it with `bash ci/gate.sh --update`",
                    baseline_path.display()
                );
                return Ok(false);
            }
        }
    };

    let mut failures = Vec::new();
    let mut notes = Vec::new();

    if baseline.env.as_deref() != Some(env) {
        notes.push(format!(
            "the baseline was measured with `{}`, this run with `{env}`: figures may differ \
             for that reason alone (refresh with `bash ci/gate.sh --update` in its own commit)",
            baseline.env.as_deref().unwrap_or("an unrecorded toolchain")
        ));
    }

    // Overhead limits.
    let limits = targets::instruction_targets(figures);
    for t in limits.checked.iter().filter(|t| t.gated) {
        // `log/hybrid/access: 264,051 Ir, raw-rkyv 255,963 Ir: +3.16% (limit +3.00%)`
        let id = t.id.as_deref().unwrap_or(&t.name);
        let figures_of = |id: &str| {
            let mut parts = id.splitn(3, '/');
            let (ds, codec, op) = (parts.next(), parts.next(), parts.next());
            let ir = |codec: &str| {
                figures
                    .get(ds.unwrap_or(""), codec, op.unwrap_or(""))
                    .map_or_else(|_| "?".to_owned(), fmt_int)
            };
            format!(
                "{} Ir, {} {} Ir: {} (limit {})",
                ir(codec.unwrap_or("")),
                t.reference,
                ir(t.reference),
                t.shown(),
                t.shown_goal()
            )
        };
        let line = format!("{id}: {}", figures_of(id));
        if t.met {
            println!("gate: ok    {line}");
            continue;
        }
        match baseline
            .known_misses
            .iter()
            .find(|k| t.id.as_deref() == Some(k.0.as_str()))
        {
            Some((_, accepted, _)) if t.value <= *accepted => {
                println!("gate: KNOWN MISS, accepted up to {accepted} by the baseline: {line}");
            }
            Some((_, accepted, _)) => failures.push(format!(
                "{line}; the baseline accepts this miss only up to {accepted}"
            )),
            None => failures.push(line),
        }
    }
    // An overhead limit without its figures: a benchmark is missing.
    for t in limits.skipped.iter().filter(|t| t.gated) {
        failures.push(format!("{}: not evaluated: {}", t.name, t.reason));
    }

    // Growth of our figures over the baseline.
    let mut checked = 0;
    for (id, &base) in &baseline.ir {
        let ours = Role::of(codec_of(id)) == Some(Role::Ours);
        let Some(&now) = figures.ir.get(id) else {
            if ours {
                failures.push(format!(
                    "{id}: the baseline has {} Ir, this run measured nothing \
                     (a benchmark removed? refresh the baseline)",
                    fmt_int(base)
                ));
            }
            continue;
        };
        let pct = (now as f64 / base as f64 - 1.0) * 100.0;
        if ours {
            checked += 1;
            if pct > MAX_GROWTH_PCT {
                failures.push(format!(
                    "{id}: {} Ir, baseline {} Ir ({pct:+.2}%, limit +{MAX_GROWTH_PCT}%)",
                    fmt_int(now),
                    fmt_int(base)
                ));
            } else if pct < -MAX_GROWTH_PCT {
                notes.push(format!(
                    "{id}: {} Ir, baseline {} Ir ({pct:+.2}%): faster; refresh the baseline \
                     to hold the gain",
                    fmt_int(now),
                    fmt_int(base)
                ));
            }
        } else if pct.abs() > MAX_GROWTH_PCT {
            notes.push(format!(
                "{id} (a reference, not gated): {} Ir, baseline {} Ir ({pct:+.2}%)",
                fmt_int(now),
                fmt_int(base)
            ));
        }
    }
    for id in figures
        .ir
        .keys()
        .filter(|id| !baseline.ir.contains_key(*id))
    {
        notes.push(format!(
            "{id}: not in the baseline (a new benchmark? refresh the baseline)"
        ));
    }

    for note in &notes {
        println!("gate: note: {note}");
    }
    for failure in &failures {
        println!("gate: FAIL: {failure}");
    }
    println!(
        "gate: {} ({} overhead limits, {checked} of our figures against the baseline within \
         +{MAX_GROWTH_PCT}%; figures from {})",
        if failures.is_empty() {
            "passed"
        } else {
            "FAILED"
        },
        limits.checked.iter().filter(|t| t.gated).count(),
        figures.dir.display()
    );
    Ok(failures.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "# header\n\nenv rustc x\n\n# why\n# more\nknown-miss log/rkyv/access 3.25 -- \
                        depth cap\nknown-miss log/hybrid/access 3.16\n\nlog/rkyv/access 10\nlog/raw-rkyv/access 9\n";

    #[test]
    fn parses_figures_env_and_known_misses_with_their_comments() {
        let b = Baseline::parse(TEXT).unwrap();
        assert_eq!(b.env.as_deref(), Some("rustc x"));
        assert_eq!(b.ir["log/rkyv/access"], 10);
        assert_eq!(b.known_misses.len(), 2);
        assert_eq!(b.known_misses[0].0, "log/rkyv/access");
        assert_eq!(b.known_misses[0].1, 3.25);
        assert!(b.known_misses[0].2.starts_with("# why\n# more\nknown-miss"));
        assert_eq!(b.known_misses[1].2, "known-miss log/hybrid/access 3.16");
        assert!(Baseline::parse("log/rkyv 10").is_err());
        assert!(Baseline::parse("log/rkyv/access ten").is_err());
    }

    #[test]
    fn render_keeps_known_misses_and_round_trips() {
        let b = Baseline::parse(TEXT).unwrap();
        let figures = Instructions {
            dir: "x".into(),
            ir: [("log/rkyv/access".to_owned(), 11)].into_iter().collect(),
        };
        let kept: Vec<String> = b.known_misses.iter().map(|k| k.2.clone()).collect();
        let again = Baseline::parse(&Baseline::render(&figures, "rustc y", &kept)).unwrap();
        assert_eq!(again.env.as_deref(), Some("rustc y"));
        assert_eq!(again.ir.len(), 1);
        assert_eq!(again.ir["log/rkyv/access"], 11);
        assert_eq!(
            again.known_misses.iter().map(|k| &k.2).collect::<Vec<_>>(),
            b.known_misses.iter().map(|k| &k.2).collect::<Vec<_>>()
        );
    }
}
