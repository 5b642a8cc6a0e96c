//! The criterion suite: every dataset, every codec in the adapter table, every operation.
//!
//! Benchmark ids are `{dataset}/{codec}/{op}` (for example `log/rkyv/access`), with
//! `Throughput::Bytes` set to the codec's encoded size, so criterion reports MB/s of each
//! format's own bytes. Datasets come from the seeded generator in `zerocodec-datasets`, and
//! the codec list is `zerocodec_datasets::codecs::codecs`, the same table the report uses.
//!
//! Before anything is timed, each codec's encoding is decoded (and, for zero-copy codecs,
//! accessed and deserialized) and compared with the original, so a fast wrong codec fails the
//! run instead of winning it. Buffers are built outside the timed loops.
//!
//! Run with `cargo bench` (all groups) or `cargo bench -- log/rkyv` (a filter).

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rkyv::util::AlignedVec;
use zerocodec_datasets::codecs::codecs;
use zerocodec_datasets::{BenchValue, Dataset, DatasetVisitor, Scale, visit_all};

struct Suite<'c> {
    criterion: &'c mut Criterion,
}

impl DatasetVisitor for Suite<'_> {
    fn visit<T: BenchValue>(&mut self, dataset: Dataset<T>) {
        let value = &dataset.value;
        for mut codec in codecs(&dataset) {
            let id = format!("{}/{}", dataset.name, codec.name());

            // Buffers first, outside any timed loop; an aligned copy so access reads in place.
            let mut encoded = AlignedVec::<16>::new();
            encoded.extend_from_slice(
                codec
                    .encode(value)
                    .unwrap_or_else(|e| panic!("{id}: encode failed: {e}")),
            );

            // The round-trip check: a codec that does not give the value back is not timed.
            let back = codec
                .decode(&encoded)
                .unwrap_or_else(|e| panic!("{id}: decode failed: {e}"));
            assert!(back == *value, "{id}: decode did not round-trip");
            if codec.has_access() {
                let viewed = codec
                    .access_to_owned(&encoded)
                    .unwrap_or_else(|e| panic!("{id}: access failed: {e}"));
                assert!(viewed == *value, "{id}: access did not round-trip");
            }

            let mut group = self.criterion.benchmark_group(&id);
            group.throughput(Throughput::Bytes(encoded.len() as u64));
            if dataset.corpus.is_none() {
                // Large datasets: milliseconds per operation; criterion's minimum sample count.
                group
                    .sample_size(10)
                    .warm_up_time(Duration::from_millis(500))
                    .measurement_time(Duration::from_secs(2));
            } else {
                group
                    .warm_up_time(Duration::from_millis(500))
                    .measurement_time(Duration::from_secs(2));
            }
            group.bench_function("encode", |b| {
                b.iter(|| codec.encode(black_box(value)).map(<[u8]>::len).unwrap())
            });
            group.bench_function("decode", |b| {
                b.iter_with_large_drop(|| codec.decode(black_box(&encoded)).unwrap())
            });
            if codec.has_access() {
                group.bench_function("access", |b| {
                    b.iter(|| codec.access(black_box(&encoded)).unwrap())
                });
            }
            group.finish();
        }
    }
}

fn all_codecs(criterion: &mut Criterion) {
    visit_all(Scale::Benchmark, &mut Suite { criterion });
}

/// Where `access` spends its time beyond raw rkyv's: groups `access-overhead/{dataset}` with
/// raw `rkyv::access` (rancor's zero-sized error in release builds), validation with
/// `BoxedError` and the depth cap (zerocodec's path until the fast check), and
/// `zerocodec::archive::access` as it is now. Run with `cargo bench -- access-overhead`.
struct AccessOverhead<'c> {
    criterion: &'c mut Criterion,
}

impl DatasetVisitor for AccessOverhead<'_> {
    fn visit<T: BenchValue>(&mut self, dataset: Dataset<T>) {
        use rkyv::rancor::{BoxedError, Error as RancorError};
        use rkyv::validation::Validator;
        use rkyv::validation::shared::SharedValidator;
        use zerocodec::__private::CappedValidator;
        use zerocodec::archive::{DEFAULT_MAX_DEPTH, access};

        let mut bytes = AlignedVec::<16>::new();
        bytes.extend_from_slice(&rkyv::to_bytes::<RancorError>(&dataset.value).unwrap());
        let mut group = self
            .criterion
            .benchmark_group(format!("access-overhead/{}", dataset.name));
        group
            .sample_size(10)
            .warm_up_time(Duration::from_millis(300))
            .measurement_time(Duration::from_secs(1));
        group.bench_function("raw-rkyv", |b| {
            b.iter(|| {
                rkyv::access::<T::Archived, RancorError>(black_box(&bytes))
                    .map(|_| ())
                    .unwrap()
            })
        });
        group.bench_function("boxed-error", |b| {
            b.iter(|| {
                let bytes = black_box(&bytes[..]);
                let mut validator = Validator::new(
                    CappedValidator::new(bytes, DEFAULT_MAX_DEPTH),
                    SharedValidator::new(),
                );
                rkyv::api::access_with_context::<T::Archived, _, BoxedError>(bytes, &mut validator)
                    .map(|_| ())
                    .unwrap()
            })
        });
        group.bench_function("zerocodec", |b| {
            b.iter(|| access::<T>(black_box(&bytes)).map(|_| ()).unwrap())
        });
        group.finish();
    }
}

fn access_overhead(criterion: &mut Criterion) {
    for name in ["chat", "log", "mesh", "mk48"] {
        zerocodec_datasets::visit(name, Scale::Benchmark, &mut AccessOverhead { criterion });
    }
}

criterion_group!(benches, all_codecs, access_overhead);
criterion_main!(benches);
