//! Codec metrics: relaxed atomic counters any codec can update, and a plain snapshot of them.
//!
//! [`Metrics`] is a set of counters shared by reference (`Arc<Metrics>`) between a codec and
//! whoever reports on it. Every event is one relaxed `fetch_add`; a codec built without
//! metrics holds `None` and does no work at all. Time measurement is opt-in
//! ([`Metrics::with_timing`]), since reading the clock costs more than the counting.
//!
//! Wrap any codec in [`Metered`] to count messages, bytes and errors around it. Events only
//! one codec has (the hybrid codec's JSON fallbacks and legacy reads) are counted by that
//! codec, in counters of its own.
//!
//! # Examples
//!
//! ```
//! use std::sync::Arc;
//! use zerocodec::prelude::*;
//! use zerocodec::{CodecId, EncodeBuf, Metered, Metrics, Result};
//!
//! /// A toy codec: a `u32` as 4 little-endian bytes.
//! struct Le32;
//! impl Codec for Le32 {
//!     type Item = u32;
//!     fn codec_id(&self) -> CodecId { CodecId::FIRST_PRIVATE }
//!     fn content_type(&self) -> &'static str { "application/x-le32" }
//! }
//! impl Encode for Le32 {
//!     fn encode_into<B: EncodeBuf>(&self, v: &u32, out: &mut B) -> Result<()> {
//!         out.extend_from_slice(&v.to_le_bytes());
//!         Ok(())
//!     }
//! }
//! impl Decode for Le32 {
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

use crate::archived::OwnedArchive;
use crate::buf::EncodeBuf;
use crate::codec::{Access, Codec, CodecId, Decode, Encode};
use crate::error::{ErrorKind, Result};

/// Number of [`ErrorKind`]s counted separately.
const ERROR_KINDS: usize = ErrorKind::ALL.len();

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
///
/// Later releases may add counters, so the type is `#[non_exhaustive]`: read its fields, and
/// build one only with [`Metrics::snapshot`] or [`since`](MetricsSnapshot::since).
#[non_exhaustive]
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
    /// Failed operations by [`ErrorKind`] (read with [`errors_of`](Self::errors_of)).
    errors: [u64; ERROR_KINDS],
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
            encode_nanos: dt(self.encode_nanos, earlier.encode_nanos),
            decode_nanos: dt(self.decode_nanos, earlier.decode_nanos),
        }
    }
}

impl fmt::Display for MetricsSnapshot {
    /// One line per group of counters; error kinds that never occurred are left out.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
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
/// The wrapper is transparent on the wire: it forwards every call, so `Metered<C>` writes
/// exactly what `C` writes, and reads through `C`'s own paths. (The hybrid codec counts what
/// only it does, fallbacks and legacy reads, in counters of its own.)
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

impl<C: Codec> Codec for Metered<C> {
    type Item = C::Item;

    #[inline]
    fn codec_id(&self) -> CodecId {
        self.inner.codec_id()
    }

    #[inline]
    fn content_type(&self) -> &'static str {
        self.inner.content_type()
    }
}

impl<C: Encode> Encode for Metered<C> {
    #[inline]
    fn encode_into<B: EncodeBuf>(&self, item: &C::Item, out: &mut B) -> Result<()> {
        let started = self.metrics.start_timer();
        let start = out.len();
        let result = self.inner.encode_into(item, out);
        self.metrics.record_encode_time(started);
        self.encoded(result, out, start)
    }
}

impl<C: Decode> Decode for Metered<C> {
    #[inline]
    fn decode(&self, bytes: &[u8]) -> Result<C::Item> {
        let started = self.metrics.start_timer();
        self.decoded(self.inner.decode(bytes), bytes.len(), started)
    }
}

impl<C: Access> Access for Metered<C> {
    #[inline]
    fn access<'a>(&self, bytes: &'a [u8]) -> Result<&'a rkyv::Archived<C::Item>> {
        let started = self.metrics.start_timer();
        self.accessed(self.inner.access(bytes), bytes.len(), started)
    }

    fn access_owned(&self, bytes: Bytes) -> Result<OwnedArchive<C::Item>> {
        let started = self.metrics.start_timer();
        let len = bytes.len();
        self.accessed(self.inner.access_owned(bytes), len, started)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deltas_and_display() {
        let m = Metrics::new();
        m.record_encode(10);
        let before = m.snapshot();
        m.record_decode(4);
        m.record_error(ErrorKind::Corrupt);
        let snap = m.snapshot();
        assert_eq!(snap.errors_of(ErrorKind::Corrupt), 1);
        assert_eq!(snap.total_errors(), 1);
        assert_eq!(snap.encode_nanos, None);
        let delta = snap.since(&before);
        assert_eq!((delta.messages_encoded, delta.messages_decoded), (0, 1));
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
