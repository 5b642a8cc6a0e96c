//! Measuring one dataset: round-trip checks, sizes, allocations, and interleaved timing.
//!
//! Timing method (as BASELINES.md): every (codec, operation) pair of a dataset is one task.
//! Each task is calibrated to a batch of iterations that takes at least the sample time, then
//! the tasks run in rounds, one batch each per round, in a new order every round (a seeded
//! shuffle), so a change in machine load hits every codec alike and no task always follows
//! the same other one (whose cache and allocator state it would inherit). A task's figure is the median
//! of its rounds. Ratios are only ever taken between figures of the same run. Batches of
//! operations under a millisecond are preceded by one untimed call, so the allocator state
//! another task left behind is not charged to a short batch.

use std::hint::black_box;
use std::time::{Duration, Instant};

use rkyv::util::AlignedVec;
use zerocodec_datasets::codecs::{CodecAdapter, Op, Role, codecs};
use zerocodec_datasets::{BenchValue, Dataset, DatasetVisitor, Rng};

use crate::alloc::Usage;

/// How much to measure.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Settings {
    /// Rounds (samples per task).
    pub(crate) samples: usize,
    /// Shortest batch: a sample's iterations take at least this long.
    pub(crate) min_sample: Duration,
}

/// One operation of one codec on one dataset.
#[derive(Debug, Clone)]
pub(crate) struct OpResult {
    /// The operation.
    pub(crate) op: Op,
    /// Median time per operation, in nanoseconds.
    pub(crate) ns_per_op: f64,
    /// Allocations made by one warm operation.
    pub(crate) alloc: Usage,
}

/// One codec on one dataset.
#[derive(Debug, Clone)]
pub(crate) struct CodecResult {
    /// The codec's name.
    pub(crate) name: &'static str,
    /// Ours, a raw reference, or a peer.
    pub(crate) role: Role,
    /// Encoded size in bytes.
    pub(crate) bytes: usize,
    /// The encoding compressed with zstd at level 3, in bytes.
    pub(crate) zstd_bytes: usize,
    /// Mean encoded size over the held-out corpus (per-message datasets only).
    pub(crate) held_out_mean: Option<f64>,
    /// Measured operations.
    pub(crate) ops: Vec<OpResult>,
}

impl CodecResult {
    /// The result of `op`, if the codec has it.
    pub(crate) fn op(&self, op: Op) -> Option<&OpResult> {
        self.ops.iter().find(|r| r.op == op)
    }
}

/// One dataset, every codec.
#[derive(Debug, Clone)]
pub(crate) struct DatasetResult {
    /// The dataset's name.
    pub(crate) name: &'static str,
    /// What it is.
    pub(crate) description: &'static str,
    /// The codecs, in table order.
    pub(crate) codecs: Vec<CodecResult>,
}

impl DatasetResult {
    /// The named codec's result.
    pub(crate) fn codec(&self, name: &str) -> Option<&CodecResult> {
        self.codecs.iter().find(|c| c.name == name)
    }
}

/// A visitor that measures each dataset it is given.
pub(crate) struct Measure {
    /// How much to measure.
    pub(crate) settings: Settings,
    /// Results so far.
    pub(crate) results: Vec<DatasetResult>,
    /// Problems that stopped a dataset from being measured (a failed round trip, ...).
    pub(crate) errors: Vec<String>,
}

impl DatasetVisitor for Measure {
    fn visit<T: BenchValue>(&mut self, dataset: Dataset<T>) {
        let started = Instant::now();
        match measure(&dataset, self.settings) {
            Ok(result) => {
                eprintln!(
                    "  {:<10} {} codecs in {:.1} s",
                    dataset.name,
                    result.codecs.len(),
                    started.elapsed().as_secs_f64()
                );
                self.results.push(result);
            }
            Err(err) => self.errors.push(format!("{}: {err}", dataset.name)),
        }
    }
}

type Adapter<T> = Box<dyn CodecAdapter<T>>;

fn measure<T: BenchValue>(
    dataset: &Dataset<T>,
    settings: Settings,
) -> Result<DatasetResult, String> {
    let value = &dataset.value;
    let mut adapters: Vec<Adapter<T>> = codecs(dataset);
    let mut encodings: Vec<AlignedVec<16>> = Vec::with_capacity(adapters.len());
    let mut results = Vec::with_capacity(adapters.len());

    for codec in &mut adapters {
        let name = codec.name();
        let fail = |what: &str, err: &dyn std::fmt::Display| format!("{name}: {what}: {err}");
        let mut encoded = AlignedVec::<16>::new();
        encoded.extend_from_slice(codec.encode(value).map_err(|e| fail("encode", &e))?);

        // The round-trip check: nothing is timed for a codec that does not give the value back.
        let back = codec.decode(&encoded).map_err(|e| fail("decode", &e))?;
        if back != *value {
            return Err(format!("{name}: decode did not round-trip"));
        }
        let mut ops = vec![Op::Encode, Op::Decode];
        if codec.has_access() {
            let viewed = codec
                .access_to_owned(&encoded)
                .map_err(|e| fail("access", &e))?;
            if viewed != *value {
                return Err(format!("{name}: access did not round-trip"));
            }
            ops.push(Op::Access);
        }

        let zstd_bytes = zstd::bulk::compress(&encoded, 3)
            .map_err(|e| fail("zstd", &e))?
            .len();
        let held_out_mean = match &dataset.corpus {
            Some(corpus) if !corpus.held_out.is_empty() => {
                let mut total = 0usize;
                for msg in &corpus.held_out {
                    total += codec.encode(msg).map_err(|e| fail("encode", &e))?.len();
                }
                Some(total as f64 / corpus.held_out.len() as f64)
            }
            _ => None,
        };

        // Allocations of one warm call of each operation (the calls above warmed it up).
        let mut op_results = Vec::new();
        for op in ops {
            run_batch(codec.as_mut(), op, value, &encoded, 1)?;
            let before = Usage::start();
            let kept = match op {
                Op::Encode => {
                    black_box(codec.encode(value).map_err(|e| fail("encode", &e))?.len());
                    None
                }
                Op::Decode => Some(codec.decode(&encoded).map_err(|e| fail("decode", &e))?),
                Op::Access => {
                    codec.access(&encoded).map_err(|e| fail("access", &e))?;
                    None
                }
            };
            let alloc = Usage::since(before);
            drop(kept);
            op_results.push(OpResult {
                op,
                ns_per_op: f64::NAN,
                alloc,
            });
        }
        results.push(CodecResult {
            name,
            role: codec.role(),
            bytes: encoded.len(),
            zstd_bytes,
            held_out_mean,
            ops: op_results,
        });
        encodings.push(encoded);
    }

    // Interleaved timing.
    let tasks: Vec<(usize, usize)> = results
        .iter()
        .enumerate()
        .flat_map(|(c, r)| (0..r.ops.len()).map(move |o| (c, o)))
        .collect();
    let mut iters = Vec::with_capacity(tasks.len());
    let mut cheap = Vec::with_capacity(tasks.len());
    for &(c, o) in &tasks {
        let op = results[c].ops[o].op;
        let (n, per_iter) = calibrate(
            adapters[c].as_mut(),
            op,
            value,
            &encodings[c],
            settings.min_sample,
        )?;
        iters.push(n);
        cheap.push(per_iter < 1e6);
    }
    let mut samples = vec![Vec::with_capacity(settings.samples); tasks.len()];
    let mut order: Vec<usize> = (0..tasks.len()).collect();
    let mut rng = Rng::new(0x005E_ED0F_0DE5);
    for _ in 0..settings.samples {
        // Fisher-Yates, seeded: the same orders in every run.
        for i in (1..order.len()).rev() {
            order.swap(i, rng.below(i as u64 + 1) as usize);
        }
        for &t in &order {
            let (c, o) = tasks[t];
            let op = results[c].ops[o].op;
            if cheap[t] {
                // One untimed call first: the previous task may have freed memory this one
                // now allocates again, and that refill belongs to neither.
                run_batch(adapters[c].as_mut(), op, value, &encodings[c], 1)?;
            }
            let elapsed = run_batch(adapters[c].as_mut(), op, value, &encodings[c], iters[t])?;
            samples[t].push(elapsed.as_nanos() as f64 / iters[t] as f64);
        }
    }
    for (t, &(c, o)) in tasks.iter().enumerate() {
        results[c].ops[o].ns_per_op = median(&mut samples[t]);
    }

    Ok(DatasetResult {
        name: dataset.name,
        description: dataset.description,
        codecs: results,
    })
}

/// Runs `op` `iters` times and returns the elapsed time.
///
/// Each decoded value is dropped inside the loop, as criterion's `iter` (and so the public
/// rust_serialization_benchmark) does: keeping a whole sample's values alive instead puts
/// thousands of live allocations, and the page faults of a growing heap, into the timing,
/// which swamped small decodes (rpc) with allocator noise. Both sides of every ratio pay the
/// same steady-state `free`s.
fn run_batch<T>(
    codec: &mut dyn CodecAdapter<T>,
    op: Op,
    value: &T,
    encoded: &[u8],
    iters: u64,
) -> Result<Duration, String> {
    let name = codec.name();
    let err = |e: zerocodec::Error| format!("{name}: {op} failed while timing: {e}");
    let elapsed = match op {
        Op::Encode => {
            let start = Instant::now();
            for _ in 0..iters {
                black_box(codec.encode(black_box(value)).map_err(err)?.len());
            }
            start.elapsed()
        }
        Op::Decode => {
            let start = Instant::now();
            for _ in 0..iters {
                drop(black_box(codec.decode(black_box(encoded)).map_err(err)?));
            }
            start.elapsed()
        }
        Op::Access => {
            let start = Instant::now();
            for _ in 0..iters {
                codec.access(black_box(encoded)).map_err(err)?;
            }
            start.elapsed()
        }
    };
    Ok(elapsed)
}

/// An iteration count whose batch takes at least `min_sample`, and the estimated time per
/// operation in nanoseconds.
///
/// The estimate starts from the fastest of three single runs, so one slow outlier (the
/// machine busy elsewhere) cannot leave a fast operation timed one iteration at a time.
fn calibrate<T>(
    codec: &mut dyn CodecAdapter<T>,
    op: Op,
    value: &T,
    encoded: &[u8],
    min_sample: Duration,
) -> Result<(u64, f64), String> {
    let mut fastest = Duration::MAX;
    for _ in 0..3 {
        fastest = fastest.min(run_batch(codec, op, value, encoded, 1)?);
    }
    let mut per_iter = (fastest.as_nanos() as f64).max(0.1);
    let mut iters = ((min_sample.as_nanos() as f64 / per_iter).ceil() as u64).max(1);
    loop {
        let elapsed = run_batch(codec, op, value, encoded, iters)?;
        per_iter = (elapsed.as_nanos() as f64 / iters as f64).max(0.1);
        if elapsed >= min_sample || iters >= 1 << 32 {
            return Ok((iters, per_iter));
        }
        let wanted = (min_sample.as_nanos() as f64 * 1.2 / per_iter).ceil() as u64;
        iters = wanted.clamp(iters * 2, iters * 100);
    }
}

/// The median of `xs` (NaN for none).
pub(crate) fn median(xs: &mut [f64]) -> f64 {
    if xs.is_empty() {
        return f64::NAN;
    }
    xs.sort_by(f64::total_cmp);
    let mid = xs.len() / 2;
    if xs.len() % 2 == 1 {
        xs[mid]
    } else {
        (xs[mid - 1] + xs[mid]) / 2.0
    }
}
