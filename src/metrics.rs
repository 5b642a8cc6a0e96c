//! Codec metrics: relaxed atomic counters any codec can update, and a plain snapshot of them.
//!
//! [`Metrics`] is a set of counters shared by reference (`Arc<Metrics>`) between a codec and
//! whoever reports on it. Every event is one relaxed `fetch_add`; a codec built without
//! metrics holds `None` and does no work at all. Time measurement is opt-in
//! ([`Metrics::with_timing`]), since reading the clock costs more than the counting.
//!
//! Codecs that know about metrics (the hybrid codec counts fallbacks and legacy decodes)
//! take an `Arc<Metrics>` themselves; any other codec can be wrapped in [`Metered`], which
//! counts messages, bytes and errors around it.
//!
//! # Examples
//!
//! ```
//! use std::sync::Arc;
//! use zerocodec::metrics::{Metered, Metrics};
//! use zerocodec::{Codec, CodecId, EncodeBuf, Result};
//!
//! /// A toy codec: a `u32` as 4 little-endian bytes.
//! struct Le32;
//! impl Codec<u32> for Le32 {
//!     fn codec_id(&self) -> CodecId { CodecId::FIRST_PRIVATE }
//!     fn content_type(&self) -> &'static str { "application/x-le32" }
//!     fn encode_into<B: EncodeBuf>(&self, v: &u32, out: &mut B) -> Result<()> {
//!         out.extend_from_slice(&v.to_le_bytes());
//!         Ok(())
//!     }
//!     fn decode(&self, bytes: &[u8]) -> Result<u32> {
//!         let word = bytes.try_into().map_err(|_| {
//!             zerocodec::Error::incomplete("le32", 4, bytes.len())
//!         })?;
//!         Ok(u32::from_le_bytes(word))
//!     }
//! }
//!
//! let metrics = Arc::new(Metrics::new());
//! let codec = Metered::with_metrics(Le32, metrics.clone());
//! let bytes = codec.encode(&7)?;
//! assert_eq!(codec.decode(&bytes)?, 7);
//! assert!(codec.decode(&bytes[..2]).is_err());
//!
//! let snap = metrics.snapshot();
//! assert_eq!((snap.messages_encoded, snap.bytes_encoded), (1, 4));
//! assert_eq!(snap.messages_decoded, 1);
//! assert_eq!(snap.errors_of(zerocodec::ErrorKind::Incomplete), 1);
//! # Ok::<(), zerocodec::Error>(())
//! ```

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Instant;

use bytes::Bytes;

use crate::archive::{OwnedArchive, ZeroCopy};
use crate::buf::EncodeBuf;
use crate::codec::{Codec, CodecId, ZeroCopyCodec};
use crate::error::{ErrorKind, Result};
use crate::transform::Transform;

/// Number of [`ErrorKind`]s counted separately.
pub const ERROR_KINDS: usize = ErrorKind::ALL.len();

/// Live counters for one codec (or several sharing them). Cheap to update from many threads.
///
/// Counters only grow; take a [`snapshot`](Metrics::snapshot) and subtract two snapshots for
/// rates over an interval.
#[derive(Debug, Default)]
pub struct Metrics {
    messages_encoded: AtomicU64,
    bytes_encoded: AtomicU64,
    messages_decoded: AtomicU64,
    bytes_decoded: AtomicU64,
    messages_accessed: AtomicU64,
    bytes_accessed: AtomicU64,
    errors: [AtomicU64; ERROR_KINDS],
    rkyv_encodes: AtomicU64,
    fallbacks: AtomicU64,
    legacy_decodes: AtomicU64,
    raw_bytes: AtomicU64,
    stored_bytes: AtomicU64,
    encode_nanos: AtomicU64,
    decode_nanos: AtomicU64,
    timing: bool,
}

impl Metrics {
    /// Counters without time measurement.
    pub fn new() -> Self {
        Self::default()
    }

    /// Counters that also sum the time spent encoding and decoding (two clock reads per
    /// operation).
    pub fn with_timing() -> Self {
        Self {
            timing: true,
            ..Self::default()
        }
    }

    /// True if time is measured.
    #[inline]
    pub fn timing(&self) -> bool {
        self.timing
    }

    /// Starts timing an operation: `Some(now)` when timing is on, `None` (no clock read)
    /// otherwise.
    #[inline]
    pub fn start_timer(&self) -> Option<Instant> {
        if self.timing {
            Some(Instant::now())
        } else {
            None
        }
    }

    /// Adds the time since `started` (from [`start_timer`](Self::start_timer)) to the encode
    /// time.
    #[inline]
    pub fn record_encode_time(&self, started: Option<Instant>) {
        if let Some(t) = started {
            add(&self.encode_nanos, elapsed_nanos(t));
        }
    }

    /// Adds the time since `started` to the decode time.
    #[inline]
    pub fn record_decode_time(&self, started: Option<Instant>) {
        if let Some(t) = started {
            add(&self.decode_nanos, elapsed_nanos(t));
        }
    }

    /// One message of `bytes` bytes was encoded.
    #[inline]
    pub fn record_encode(&self, bytes: usize) {
        add(&self.messages_encoded, 1);
        add(&self.bytes_encoded, bytes as u64);
    }

    /// One message of `bytes` input bytes was decoded into an owned value.
    #[inline]
    pub fn record_decode(&self, bytes: usize) {
        add(&self.messages_decoded, 1);
        add(&self.bytes_decoded, bytes as u64);
    }

    /// One message of `bytes` input bytes was accessed: validated and read in place (or as an
    /// owned archive), without decoding. Counted apart from decodes, so an access followed by
    /// a decode of the same message counts once in each.
    #[inline]
    pub fn record_access(&self, bytes: usize) {
        add(&self.messages_accessed, 1);
        add(&self.bytes_accessed, bytes as u64);
    }

    /// An operation failed with `kind`.
    #[inline]
    pub fn record_error(&self, kind: ErrorKind) {
        add(&self.errors[kind.index()], 1);
    }

    /// The primary codec, rkyv, encoded a message.
    #[inline]
    pub fn record_rkyv_encode(&self) {
        add(&self.rkyv_encodes, 1);
    }

    /// The primary codec failed to encode a message and the JSON fallback was used.
    #[inline]
    pub fn record_fallback(&self) {
        add(&self.fallbacks, 1);
    }

    /// A header-less legacy message was decoded.
    #[inline]
    pub fn record_legacy_decode(&self) {
        add(&self.legacy_decodes, 1);
    }

    /// A payload of `raw` bytes was stored as `stored` bytes by a compression transform.
    #[inline]
    pub fn record_compression(&self, raw: usize, stored: usize) {
        add(&self.raw_bytes, raw as u64);
        add(&self.stored_bytes, stored as u64);
    }

    /// Counts `result`'s error, if any, and passes it on.
    #[inline]
    pub fn track<R>(&self, result: Result<R>) -> Result<R> {
        if let Err(err) = &result {
            self.record_error(err.kind());
        }
        result
    }

    /// A consistent-enough copy of every counter (each read is relaxed; counters updated
    /// while the snapshot is taken may be off by the events in flight).
    pub fn snapshot(&self) -> MetricsSnapshot {
        MetricsSnapshot {
            messages_encoded: get(&self.messages_encoded),
            bytes_encoded: get(&self.bytes_encoded),
            messages_decoded: get(&self.messages_decoded),
            bytes_decoded: get(&self.bytes_decoded),
            messages_accessed: get(&self.messages_accessed),
            bytes_accessed: get(&self.bytes_accessed),
            errors: std::array::from_fn(|i| get(&self.errors[i])),
            rkyv_encodes: get(&self.rkyv_encodes),
            fallbacks: get(&self.fallbacks),
            legacy_decodes: get(&self.legacy_decodes),
            raw_bytes: get(&self.raw_bytes),
            stored_bytes: get(&self.stored_bytes),
            encode_nanos: self.timing.then(|| get(&self.encode_nanos)),
            decode_nanos: self.timing.then(|| get(&self.decode_nanos)),
        }
    }
}

#[inline]
fn add(counter: &AtomicU64, n: u64) {
    counter.fetch_add(n, Relaxed);
}

#[inline]
fn get(counter: &AtomicU64) -> u64 {
    counter.load(Relaxed)
}

fn elapsed_nanos(since: Instant) -> u64 {
    u64::try_from(since.elapsed().as_nanos()).unwrap_or(u64::MAX)
}

/// A plain copy of a [`Metrics`]' counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MetricsSnapshot {
    /// Messages encoded successfully.
    pub messages_encoded: u64,
    /// Bytes those encodings appended (frames included).
    pub bytes_encoded: u64,
    /// Messages decoded into owned values successfully.
    pub messages_decoded: u64,
    /// Input bytes of those messages.
    pub bytes_decoded: u64,
    /// Messages accessed (validated and read in place, or as owned archives) successfully.
    pub messages_accessed: u64,
    /// Input bytes of those messages.
    pub bytes_accessed: u64,
    /// Failed operations by [`ErrorKind`], indexed by [`ErrorKind::index`].
    pub errors: [u64; ERROR_KINDS],
    /// Messages the hybrid codec encoded with its primary codec, rkyv.
    pub rkyv_encodes: u64,
    /// Messages whose rkyv encoding failed, so the JSON fallback was used.
    pub fallbacks: u64,
    /// Header-less legacy JSON messages decoded.
    pub legacy_decodes: u64,
    /// Payload bytes before compression (frames written through a transform).
    pub raw_bytes: u64,
    /// The same payloads' bytes as stored after compression.
    pub stored_bytes: u64,
    /// Total time spent encoding, when timing is on.
    pub encode_nanos: Option<u64>,
    /// Total time spent decoding and accessing, when timing is on.
    pub decode_nanos: Option<u64>,
}

impl MetricsSnapshot {
    /// Failed operations of `kind`.
    #[inline]
    pub fn errors_of(&self, kind: ErrorKind) -> u64 {
        self.errors[kind.index()]
    }

    /// Failed operations of every kind.
    pub fn total_errors(&self) -> u64 {
        self.errors.iter().sum()
    }

    /// Of the messages the hybrid codec tried to encode with rkyv, the fraction that
    /// succeeded: `rkyv_encodes / (rkyv_encodes + fallbacks)`. `None` before any attempt.
    pub fn rkyv_success_rate(&self) -> Option<f64> {
        ratio(self.rkyv_encodes, self.rkyv_encodes + self.fallbacks)
    }

    /// Of the same attempts, the fraction that fell back to JSON:
    /// `fallbacks / (rkyv_encodes + fallbacks)`. `None` before any attempt.
    pub fn json_fallback_rate(&self) -> Option<f64> {
        ratio(self.fallbacks, self.rkyv_encodes + self.fallbacks)
    }

    /// Of the messages read (decoded or accessed), the fraction that were header-less legacy
    /// JSON.
    pub fn legacy_rate(&self) -> Option<f64> {
        ratio(
            self.legacy_decodes,
            self.messages_decoded + self.messages_accessed,
        )
    }

    /// Stored bytes over raw bytes for compressed payloads (below 1 means smaller).
    pub fn compression_ratio(&self) -> Option<f64> {
        ratio(self.stored_bytes, self.raw_bytes)
    }

    /// The counters accumulated since `earlier` (for rates over an interval).
    #[must_use]
    pub fn since(&self, earlier: &MetricsSnapshot) -> MetricsSnapshot {
        let d = |now: u64, then: u64| now.saturating_sub(then);
        let dt = |now: Option<u64>, then: Option<u64>| now.map(|n| d(n, then.unwrap_or(0)));
        MetricsSnapshot {
            messages_encoded: d(self.messages_encoded, earlier.messages_encoded),
            bytes_encoded: d(self.bytes_encoded, earlier.bytes_encoded),
            messages_decoded: d(self.messages_decoded, earlier.messages_decoded),
            bytes_decoded: d(self.bytes_decoded, earlier.bytes_decoded),
            messages_accessed: d(self.messages_accessed, earlier.messages_accessed),
            bytes_accessed: d(self.bytes_accessed, earlier.bytes_accessed),
            errors: std::array::from_fn(|i| d(self.errors[i], earlier.errors[i])),
            rkyv_encodes: d(self.rkyv_encodes, earlier.rkyv_encodes),
            fallbacks: d(self.fallbacks, earlier.fallbacks),
            legacy_decodes: d(self.legacy_decodes, earlier.legacy_decodes),
            raw_bytes: d(self.raw_bytes, earlier.raw_bytes),
            stored_bytes: d(self.stored_bytes, earlier.stored_bytes),
            encode_nanos: dt(self.encode_nanos, earlier.encode_nanos),
            decode_nanos: dt(self.decode_nanos, earlier.decode_nanos),
        }
    }
}

fn ratio(num: u64, den: u64) -> Option<f64> {
    (den != 0).then(|| num as f64 / den as f64)
}

impl fmt::Display for MetricsSnapshot {
    /// One line per group of counters; error kinds that never occurred are left out.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pct = |r: Option<f64>| match r {
            Some(r) => format!("{:.1}%", r * 100.0),
            None => "n/a".to_string(),
        };
        writeln!(
            f,
            "encoded {} messages / {} bytes; decoded {} messages / {} bytes; accessed {} \
             messages / {} bytes",
            self.messages_encoded,
            self.bytes_encoded,
            self.messages_decoded,
            self.bytes_decoded,
            self.messages_accessed,
            self.bytes_accessed
        )?;
        writeln!(
            f,
            "rkyv success rate {}, json fallback rate {} ({} fallbacks), legacy json decodes {}",
            pct(self.rkyv_success_rate()),
            pct(self.json_fallback_rate()),
            self.fallbacks,
            self.legacy_decodes
        )?;
        write!(f, "errors {}", self.total_errors())?;
        for kind in ErrorKind::ALL {
            let n = self.errors_of(kind);
            if n > 0 {
                write!(f, ", {kind}: {n}")?;
            }
        }
        if let (Some(enc), Some(dec)) = (self.encode_nanos, self.decode_nanos) {
            write!(f, "\ntime encoding {enc} ns, decoding {dec} ns")?;
        }
        Ok(())
    }
}

/// Wraps any codec and counts its messages, bytes and errors in a shared [`Metrics`].
///
/// The wrapper is transparent on the wire: it forwards every call, including the
/// compression hooks, so `Metered<C>` writes exactly what `C` writes. (The hybrid codec
/// counts itself, including fallbacks; wrap it only with metrics of its own.)
#[derive(Debug, Clone)]
pub struct Metered<C> {
    inner: C,
    metrics: Arc<Metrics>,
}

impl<C> Metered<C> {
    /// Wraps `inner` with fresh counters (no timing).
    pub fn new(inner: C) -> Self {
        Self::with_metrics(inner, Arc::new(Metrics::new()))
    }

    /// Wraps `inner`, counting into `metrics` (which may be shared with other codecs).
    pub fn with_metrics(inner: C, metrics: Arc<Metrics>) -> Self {
        Self { inner, metrics }
    }

    /// The counters.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// The wrapped codec.
    pub fn inner(&self) -> &C {
        &self.inner
    }

    /// Unwraps the codec.
    pub fn into_inner(self) -> C {
        self.inner
    }

    #[inline]
    fn encoded<B: EncodeBuf>(&self, result: Result<()>, out: &B, start: usize) -> Result<()> {
        if result.is_ok() {
            self.metrics.record_encode(out.len() - start);
        }
        self.metrics.track(result)
    }

    #[inline]
    fn decoded<R>(&self, result: Result<R>, len: usize, started: Option<Instant>) -> Result<R> {
        self.metrics.record_decode_time(started);
        if result.is_ok() {
            self.metrics.record_decode(len);
        }
        self.metrics.track(result)
    }

    #[inline]
    fn accessed<R>(&self, result: Result<R>, len: usize, started: Option<Instant>) -> Result<R> {
        self.metrics.record_decode_time(started);
        if result.is_ok() {
            self.metrics.record_access(len);
        }
        self.metrics.track(result)
    }
}

impl<T, C: Codec<T>> Codec<T> for Metered<C> {
    #[inline]
    fn codec_id(&self) -> CodecId {
        self.inner.codec_id()
    }

    #[inline]
    fn content_type(&self) -> &'static str {
        self.inner.content_type()
    }

    #[inline]
    fn encode_into<B: EncodeBuf>(&self, value: &T, out: &mut B) -> Result<()> {
        let started = self.metrics.start_timer();
        let start = out.len();
        let result = self.inner.encode_into(value, out);
        self.metrics.record_encode_time(started);
        self.encoded(result, out, start)
    }

    #[inline]
    fn decode(&self, bytes: &[u8]) -> Result<T> {
        let started = self.metrics.start_timer();
        self.decoded(self.inner.decode(bytes), bytes.len(), started)
    }

    fn encode_transformed_into<X, B>(&self, value: &T, transform: &X, out: &mut B) -> Result<()>
    where
        X: Transform,
        B: EncodeBuf,
    {
        let started = self.metrics.start_timer();
        let start = out.len();
        let result = self.inner.encode_transformed_into(value, transform, out);
        self.metrics.record_encode_time(started);
        self.encoded(result, out, start)
    }

    fn decode_transformed<X: Transform>(&self, bytes: &[u8], transform: &X) -> Result<T> {
        let started = self.metrics.start_timer();
        let result = self.inner.decode_transformed(bytes, transform);
        self.decoded(result, bytes.len(), started)
    }
}

impl<T: ZeroCopy, C: ZeroCopyCodec<T>> ZeroCopyCodec<T> for Metered<C> {
    #[inline]
    fn access<'a>(&self, bytes: &'a [u8]) -> Result<&'a T::Archived> {
        let started = self.metrics.start_timer();
        self.accessed(self.inner.access(bytes), bytes.len(), started)
    }

    fn access_owned(&self, bytes: Bytes) -> Result<OwnedArchive<T>> {
        let started = self.metrics.start_timer();
        let len = bytes.len();
        self.accessed(self.inner.access_owned(bytes), len, started)
    }

    fn access_transformed<X: Transform>(
        &self,
        bytes: Bytes,
        transform: &X,
    ) -> Result<OwnedArchive<T>> {
        let started = self.metrics.start_timer();
        let len = bytes.len();
        let result = self.inner.access_transformed(bytes, transform);
        self.accessed(result, len, started)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_and_deltas() {
        let m = Metrics::new();
        assert_eq!(m.snapshot().rkyv_success_rate(), None);
        for _ in 0..3 {
            m.record_rkyv_encode();
        }
        let before = m.snapshot();
        m.record_fallback();
        m.record_error(ErrorKind::Corrupt);
        let snap = m.snapshot();
        assert_eq!(snap.rkyv_success_rate(), Some(0.75));
        assert_eq!(snap.json_fallback_rate(), Some(0.25));
        assert_eq!(snap.errors_of(ErrorKind::Corrupt), 1);
        assert_eq!(snap.encode_nanos, None);
        let delta = snap.since(&before);
        assert_eq!((delta.rkyv_encodes, delta.fallbacks), (0, 1));
        assert!(snap.to_string().contains("corrupt: 1"), "{snap}");
    }

    #[test]
    fn timing_is_opt_in() {
        assert!(Metrics::new().start_timer().is_none());
        let m = Metrics::with_timing();
        let t = m.start_timer();
        assert!(t.is_some());
        m.record_encode_time(t);
        assert!(m.snapshot().encode_nanos.is_some());
    }
}
