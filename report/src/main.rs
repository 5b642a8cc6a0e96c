//! The benchmark report: how much faster, smaller and leaner each codec is than JSON, and
//! whether the performance targets hold.
//!
//! Run with `cargo run --release -p zerocodec-report` (quick: about a minute on 2 cores) or
//! `cargo run --release -p zerocodec-report -- --full` (more and longer samples). It measures
//! every dataset with every codec in `zerocodec_datasets::codecs::codecs`, reads the
//! instruction counts `benches/instructions.rs` left (run `bash ci/gate.sh` first), then
//!
//! - prints a Markdown summary (speedups over JSON, targets) to stdout;
//! - writes `target/zerocodec-report/`: `benchmarks.md` (per-dataset tables, speedups,
//!   instruction counts, targets, machine and date), the charts `img/speedup.svg` and
//!   `img/size.svg`, the README's speedup table (`readme-table.md`) and `summary.json`;
//! - with `--update-docs`, refreshes the committed copies instead: `docs/benchmarks.md`,
//!   `docs/img/*.svg` and the table in README.md between its `speedup-table` markers (a
//!   deliberate act, committed on its own; the checkout is otherwise left untouched);
//! - exits with status 1 if a target is missed beyond doubt (see `targets.rs`: any
//!   deterministic miss, or a time ratio against JSON short by more than run-to-run noise),
//!   2 on a usage or I/O error.
//!
//! It also measures gRPC through tonic (`grpc.rs`): zerocodec-tonic against tonic-prost on the
//! same calls, with issue 19's targets. `--grpc-only` measures only that, and
//! `--datasets chat,log` only those datasets (no gRPC); both write only summary.json (the
//! docs always describe a full run).
//!
//! `--gate` measures nothing: it checks the instruction counts against the overhead limits
//! and the committed baseline `ci/gate-baseline.txt` (`--gate --update` rewrites the
//! baseline). `ci/gate.sh` runs the benches and then this.
//!
//! Every path above is the workspace's, whatever the current directory: the workspace root is
//! this crate's parent directory (`report/` sits at the root), fixed at build time from
//! `CARGO_MANIFEST_DIR`, and the target directory is `CARGO_TARGET_DIR` or the root's
//! `target/`.

mod alloc;
mod charts;
mod gate;
mod grpc;
mod instructions;
mod measure;
mod output;
mod targets;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use zerocodec_datasets::{DATASETS, Scale};

use crate::measure::{Measure, Settings};
use crate::output::RunInfo;

#[global_allocator]
static ALLOCATOR: alloc::Counting = alloc::Counting;

const USAGE: &str = "usage: cargo run --release -p zerocodec-report [-- [--full] \
     [--datasets a,b,.. | --grpc-only] [--update-docs] [--gungraun-home DIR]]\n       \
     cargo run --release -p zerocodec-report -- --gate [--update] [--gungraun-home DIR]";

struct Args {
    full: bool,
    datasets: Option<Vec<String>>,
    grpc_only: bool,
    update_docs: bool,
    gate: bool,
    update_baseline: bool,
    gungraun_home: Option<PathBuf>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        full: false,
        datasets: None,
        grpc_only: false,
        update_docs: false,
        gate: false,
        update_baseline: false,
        gungraun_home: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--full" => args.full = true,
            "--quick" => args.full = false,
            "--update-docs" => args.update_docs = true,
            "--grpc-only" => args.grpc_only = true,
            "--gate" => args.gate = true,
            "--update" => args.update_baseline = true,
            "--gungraun-home" => {
                let dir = it.next().ok_or("--gungraun-home needs a directory")?;
                args.gungraun_home = Some(PathBuf::from(dir));
            }
            "--datasets" => {
                let list = it.next().ok_or("--datasets needs a comma-separated list")?;
                let names: Vec<String> = list.split(',').map(str::to_owned).collect();
                if let Some(bad) = names.iter().find(|n| !DATASETS.contains(&n.as_str())) {
                    return Err(format!(
                        "unknown dataset `{bad}`: expected one of {}",
                        DATASETS.join(", ")
                    ));
                }
                args.datasets = Some(names);
            }
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    if args.update_baseline && !args.gate {
        return Err("--update rewrites the gate's baseline: use it with --gate".to_owned());
    }
    if args.update_docs && (args.datasets.is_some() || args.grpc_only) {
        return Err("--update-docs needs a full run: drop --datasets and --grpc-only".to_owned());
    }
    if args.grpc_only && args.datasets.is_some() {
        return Err("--grpc-only measures no dataset: drop --datasets".to_owned());
    }
    Ok(args)
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.split_whitespace().collect::<Vec<_>>().join(" "))
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!(
        "{cpu}, {cores} cores, {} {}",
        std::env::consts::OS,
        std::env::consts::ARCH
    )
}

/// Today's UTC date, `yyyy-mm-dd` (civil-from-days, no time-zone database needed).
fn today() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let z = (secs / 86_400) as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

fn write(path: &Path, contents: &str) -> Result<(), String> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    std::fs::write(path, contents).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(msg) => {
            if !msg.is_empty() {
                eprintln!("error: {msg}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(msg) => {
            eprintln!("error: {msg}");
            ExitCode::from(2)
        }
    }
}

/// The workspace root: this crate's parent directory (the crate is `report/` in the
/// workspace), fixed at build time, so the report finds it from any current directory.
fn workspace_root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir
        .parent()
        .map_or_else(|| manifest_dir.join(".."), Path::to_path_buf)
}

/// The workspace root and the cargo target directory (`CARGO_TARGET_DIR`, relative to the
/// root when relative; the root's `target/` by default).
fn dirs() -> (PathBuf, PathBuf) {
    let root = workspace_root();
    let target_dir =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
    let target_dir = if target_dir.is_relative() {
        root.join(target_dir)
    } else {
        target_dir
    };
    (root, target_dir)
}

/// The instruction counts, where `benches/instructions.rs` left them.
fn load_instructions(
    args: &Args,
    target_dir: &Path,
) -> Result<Option<instructions::Instructions>, String> {
    let home = args
        .gungraun_home
        .clone()
        .or_else(|| std::env::var_os("GUNGRAUN_HOME").map(PathBuf::from))
        .unwrap_or_else(|| target_dir.join("gungraun"));
    instructions::load(&instructions::bench_dir(&home))
}

/// `--gate`: the instruction counts against the limits and the baseline.
fn run_gate(args: &Args) -> Result<bool, String> {
    let (root, target_dir) = dirs();
    let figures = load_instructions(args, &target_dir)?.ok_or_else(|| {
        format!(
            "{}; found none under {}",
            targets::NO_INSTRUCTIONS,
            target_dir.join("gungraun").display()
        )
    })?;
    // What the figures depend on, as `ci/gate.sh` describes it (rustc, valgrind, gungraun).
    let env = std::env::var("ZEROCODEC_GATE_ENV").unwrap_or_else(|_| "unknown".to_owned());
    gate::run(
        &figures,
        &root.join("ci").join("gate-baseline.txt"),
        &env,
        args.update_baseline,
    )
}

/// Runs the report; `Ok(false)` when a target is missed beyond doubt.
fn run(args: &Args) -> Result<bool, String> {
    if args.gate {
        return run_gate(args);
    }
    let settings = if args.full {
        Settings {
            samples: 41,
            min_sample: Duration::from_millis(20),
        }
    } else {
        Settings {
            samples: 15,
            min_sample: Duration::from_millis(5),
        }
    };
    let names: Vec<&str> = match &args.datasets {
        _ if args.grpc_only => Vec::new(),
        Some(list) => DATASETS
            .iter()
            .copied()
            .filter(|d| list.iter().any(|n| n == d))
            .collect(),
        None => DATASETS.to_vec(),
    };
    let started = Instant::now();
    eprintln!(
        "measuring {} dataset(s), {} mode: {} samples of at least {} ms",
        names.len(),
        if args.full { "full" } else { "quick" },
        settings.samples,
        settings.min_sample.as_millis()
    );
    let mut measure = Measure {
        settings,
        results: Vec::new(),
        errors: Vec::new(),
    };
    for name in &names {
        zerocodec_datasets::visit(name, Scale::Benchmark, &mut measure);
    }
    if !measure.errors.is_empty() {
        return Err(format!(
            "measurement failed:\n  {}",
            measure.errors.join("\n  ")
        ));
    }
    eprintln!("measured in {:.1} s", started.elapsed().as_secs_f64());
    // gRPC through tonic, unless only some datasets were asked for.
    let grpc = if args.datasets.is_none() {
        let grpc_started = Instant::now();
        let settings = if args.full {
            grpc::Settings::FULL
        } else {
            grpc::Settings::QUICK
        };
        let grpc = grpc::measure_all(settings)?;
        eprintln!(
            "measured gRPC through tonic in {:.1} s",
            grpc_started.elapsed().as_secs_f64()
        );
        Some(grpc)
    } else {
        None
    };

    let results = measure.results;
    let present: Vec<&str> = results
        .iter()
        .flat_map(|d| d.codecs.iter().map(|c| c.name))
        .collect();
    let info = RunInfo {
        mode: if args.full { "full" } else { "quick" },
        machine: machine(),
        date: today(),
        samples: settings.samples,
        missing_codecs: charts::KNOWN_CODECS
            .iter()
            .copied()
            .filter(|c| !present.contains(c))
            .collect(),
    };
    let (root, target_dir) = dirs();
    let ir = load_instructions(args, &target_dir)?;
    match &ir {
        Some(ir) => eprintln!(
            "read {} instruction counts from {}",
            ir.ir.len(),
            ir.dir.display()
        ),
        None => eprintln!("{}", targets::NO_INSTRUCTIONS),
    }
    let mut targets = targets::evaluate(&results, ir.as_ref().ok_or(targets::NO_INSTRUCTIONS));
    if let Some(grpc) = &grpc {
        grpc::targets(grpc, &mut targets);
    }

    println!(
        "{}",
        output::summary(&results, grpc.as_ref(), &targets, &info)
    );

    let out = target_dir.join("zerocodec-report");
    let summary = out.join("summary.json");
    write(
        &summary,
        &output::summary_json(&results, grpc.as_ref(), &targets, &info, ir.as_ref()),
    )?;
    eprintln!("wrote {}", summary.display());

    if args.datasets.is_some() || args.grpc_only {
        eprintln!(
            "partial run (--datasets or --grpc-only): no docs, charts or README table written"
        );
    } else if args.update_docs {
        let docs = root.join("docs");
        write_docs(&docs, &results, grpc.as_ref(), &targets, &info, ir.as_ref())?;
        let readme_path = root.join("README.md");
        let readme = std::fs::read_to_string(&readme_path)
            .map_err(|e| format!("cannot read {}: {e}", readme_path.display()))?;
        let updated = output::update_readme(&readme, &results, &info).ok_or_else(|| {
            format!(
                "README.md has no {} ... {} markers",
                output::README_START,
                output::README_END
            )
        })?;
        write(&readme_path, &updated)?;
        eprintln!("refreshed docs/benchmarks.md, docs/img/*.svg and the table in README.md");
    } else {
        write_docs(&out, &results, grpc.as_ref(), &targets, &info, ir.as_ref())?;
        write(
            &out.join("readme-table.md"),
            &output::readme_table(&results, &info),
        )?;
        eprintln!(
            "wrote benchmarks.md, img/*.svg and readme-table.md in {} (the committed docs are \
             refreshed with --update-docs)",
            out.display()
        );
    }
    eprintln!(
        "report finished in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(targets.passed())
}

/// Writes `benchmarks.md` and the charts in `img/` under `dir`.
fn write_docs(
    dir: &Path,
    results: &[measure::DatasetResult],
    grpc: Option<&grpc::GrpcResult>,
    targets: &targets::Targets,
    info: &RunInfo,
    ir: Option<&instructions::Instructions>,
) -> Result<(), String> {
    write(
        &dir.join("benchmarks.md"),
        &output::benchmarks_md(results, grpc, targets, info, ir),
    )?;
    let img = dir.join("img");
    std::fs::create_dir_all(&img).map_err(|e| format!("cannot create {}: {e}", img.display()))?;
    charts::speedup_svg(&img.join("speedup.svg"), results)
        .map_err(|e| format!("cannot draw {}: {e}", img.join("speedup.svg").display()))?;
    charts::size_svg(&img.join("size.svg"), results)
        .map_err(|e| format!("cannot draw {}: {e}", img.join("size.svg").display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_workspace_root() {
        let (root, target_dir) = dirs();
        let manifest = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
        assert!(manifest.contains("[workspace]"), "{}", root.display());
        assert!(
            manifest.contains("\"report\""),
            "report/ is a workspace member"
        );
        assert!(root.join("ci").join("gate-baseline.txt").is_file());
        assert!(root.join("docs").is_dir() && root.join("README.md").is_file());
        if std::env::var_os("CARGO_TARGET_DIR").is_none() {
            assert_eq!(target_dir, root.join("target"));
        }
    }
}
