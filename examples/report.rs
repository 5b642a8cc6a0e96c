//! The benchmark report: how much faster, smaller and leaner each codec is than JSON.
//!
//! Run with `cargo run --release --example report` (quick: about a minute on 2 cores) or
//! `cargo run --release --example report -- --full` (more and longer samples). It measures
//! every dataset with every codec in `zerocodec_datasets::codecs::codecs`, then
//!
//! - prints a Markdown summary (speedups over JSON, targets) to stdout;
//! - writes `docs/benchmarks.md` (per-dataset tables, speedups, targets, machine and date),
//!   the charts `docs/img/speedup.svg` and `docs/img/size.svg`, and refreshes the speedup
//!   table in README.md between its `speedup-table` markers;
//! - writes `target/zerocodec-report/summary.json`;
//! - exits with status 1 if any evaluated target is missed (2 on a usage or I/O error).
//!
//! `--datasets chat,log` measures only those datasets and then writes only summary.json (the
//! committed docs always describe a full run).

#[path = "report/alloc.rs"]
mod alloc;
#[path = "report/charts.rs"]
mod charts;
#[path = "report/measure.rs"]
mod measure;
#[path = "report/output.rs"]
mod output;
#[path = "report/targets.rs"]
mod targets;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use zerocodec_datasets::{DATASETS, Scale};

use crate::measure::{Measure, Settings};
use crate::output::RunInfo;

#[global_allocator]
static ALLOCATOR: alloc::Counting = alloc::Counting;

const USAGE: &str = "usage: cargo run --release --example report [-- [--full] [--datasets a,b,..]]";

struct Args {
    full: bool,
    datasets: Option<Vec<String>>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        full: false,
        datasets: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--full" => args.full = true,
            "--quick" => args.full = false,
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

/// Runs the report; `Ok(false)` when a target is missed.
fn run(args: &Args) -> Result<bool, String> {
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
    let targets = targets::evaluate(&results);

    println!("{}", output::summary(&results, &targets, &info));

    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let target_dir =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
    let target_dir = if target_dir.is_relative() {
        root.join(target_dir)
    } else {
        target_dir
    };
    let summary = target_dir.join("zerocodec-report").join("summary.json");
    write(&summary, &output::summary_json(&results, &targets, &info))?;
    eprintln!("wrote {}", summary.display());

    if args.datasets.is_none() {
        let docs = root.join("docs");
        write(
            &docs.join("benchmarks.md"),
            &output::benchmarks_md(&results, &targets, &info),
        )?;
        std::fs::create_dir_all(docs.join("img"))
            .map_err(|e| format!("cannot create docs/img: {e}"))?;
        charts::speedup_svg(&docs.join("img").join("speedup.svg"), &results)
            .map_err(|e| format!("cannot draw docs/img/speedup.svg: {e}"))?;
        charts::size_svg(&docs.join("img").join("size.svg"), &results)
            .map_err(|e| format!("cannot draw docs/img/size.svg: {e}"))?;
        eprintln!("wrote docs/benchmarks.md, docs/img/speedup.svg, docs/img/size.svg");
        let readme_path = root.join("README.md");
        if let Ok(readme) = std::fs::read_to_string(&readme_path) {
            match output::update_readme(&readme, &results, &info) {
                Some(updated) => {
                    write(&readme_path, &updated)?;
                    eprintln!("refreshed the speedup table in README.md");
                }
                None => eprintln!(
                    "README.md has no {} ... {} markers; left as is",
                    output::README_START,
                    output::README_END
                ),
            }
        }
    } else {
        eprintln!("partial run (--datasets): docs, charts and README left as they are");
    }
    eprintln!(
        "report finished in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(targets.all_met())
}
