//! Instruction counts: the deterministic figures, read from what `benches/instructions.rs`
//! (gungraun, callgrind) wrote.
//!
//! Each benchmark leaves a `summary.json` (written when gungraun runs with
//! `--save-summary=json`, as `ci/gate.sh` runs it) under
//! `{gungraun home}/zerocodec/instructions/{dataset}/{op}.{codec}/`. Its `details` field holds
//! the benchmark's argument, the id `{dataset}/{codec}/{op}`, and its total `Ir` is the figure.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

/// Instruction counts by benchmark id.
#[derive(Debug, Clone, Default)]
pub(crate) struct Instructions {
    /// Where they were read from.
    pub(crate) dir: PathBuf,
    /// `Ir` per `{dataset}/{codec}/{op}`.
    pub(crate) ir: BTreeMap<String, u64>,
}

impl Instructions {
    /// The figure of `{dataset}/{codec}/{op}`.
    pub(crate) fn get(&self, dataset: &str, codec: &str, op: &str) -> Result<u64, String> {
        let id = format!("{dataset}/{codec}/{op}");
        self.ir
            .get(&id)
            .copied()
            .ok_or_else(|| format!("no instruction count for `{id}` in {}", self.dir.display()))
    }
}

/// The directory gungraun writes this package's `instructions` bench into, under `home`
/// (gungraun's home: `GUNGRAUN_HOME`, by default `{target}/gungraun`).
pub(crate) fn bench_dir(home: &Path) -> PathBuf {
    home.join("zerocodec").join("instructions")
}

/// Reads every benchmark's summary under `dir`; `Ok(None)` when there is none.
///
/// # Errors
///
/// A summary that cannot be read or lacks an id or an `Ir` figure.
pub(crate) fn load(dir: &Path) -> Result<Option<Instructions>, String> {
    let Ok(groups) = std::fs::read_dir(dir) else {
        return Ok(None);
    };
    let mut ir = BTreeMap::new();
    for group in groups {
        let group = group.map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
        let Ok(benches) = std::fs::read_dir(group.path()) else {
            continue;
        };
        for bench in benches {
            let bench = bench.map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
            let path = bench.path().join("summary.json");
            if !path.is_file() {
                continue;
            }
            let text = std::fs::read_to_string(&path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            let (id, count) =
                parse_summary(&text).map_err(|e| format!("{}: {e}", path.display()))?;
            if ir.insert(id.clone(), count).is_some() {
                return Err(format!("{}: benchmark `{id}` appears twice", dir.display()));
            }
        }
    }
    if ir.is_empty() {
        return Ok(None);
    }
    Ok(Some(Instructions {
        dir: dir.to_owned(),
        ir,
    }))
}

/// The id and total `Ir` of one gungraun `summary.json`.
fn parse_summary(text: &str) -> Result<(String, u64), String> {
    let doc: Value =
        serde_json::from_str(text).map_err(|e| format!("not a gungraun summary: {e}"))?;
    // `details` is the argument as written: `(prepare("log/rkyv/access"))`.
    let details = doc["details"]
        .as_str()
        .ok_or("expected a `details` string (the benchmark's argument), found none")?;
    let id = details
        .split('"')
        .nth(1)
        .filter(|id| id.split('/').count() == 3)
        .ok_or_else(|| format!("expected a `dataset/codec/op` id in `{details}`"))?;
    let profiles = doc["profiles"]
        .as_array()
        .ok_or("expected a `profiles` array")?;
    let callgrind = profiles
        .iter()
        .find(|p| p["tool"].as_str().is_none_or(|t| t == "Callgrind"))
        .ok_or("expected a callgrind profile")?;
    let metrics = &callgrind["summaries"]["total"]["summary"]["Callgrind"]["Ir"]["metrics"];
    // `Left` when there is no earlier run to compare with; `Both` [new, old] when there is.
    let new = if metrics["Left"].is_object() {
        &metrics["Left"]
    } else {
        &metrics["Both"][0]
    };
    let count = new["Int"]
        .as_u64()
        .ok_or_else(|| format!("expected an integer `Ir` for `{id}`, found {metrics}"))?;
    Ok((id.to_owned(), count))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_id_and_the_new_figure() {
        let left = r#"{"details":"(prepare(\"log/rkyv/access\"))","profiles":[{"tool":"Callgrind",
            "summaries":{"total":{"summary":{"Callgrind":{"Ir":{"metrics":{"Left":{"Int":42}}}}}}}}]}"#;
        assert_eq!(parse_summary(left).unwrap(), ("log/rkyv/access".into(), 42));
        let both = left.replace(
            r#"{"Left":{"Int":42}}"#,
            r#"{"Both":[{"Int":7},{"Int":9}]}"#,
        );
        assert_eq!(parse_summary(&both).unwrap().1, 7);
        assert!(parse_summary(&left.replace("log/rkyv/access", "nope")).is_err());
    }
}
