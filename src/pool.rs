//! [`BufferPool`]: a bounded, thread-safe pool of 16-byte aligned buffers, handed out as
//! [`PooledBuf`] guards that return their buffer on drop.
//!
//! # Design
//!
//! The pool is a [`parking_lot::Mutex`] around a `Vec` of idle buffers, with its counters
//! kept under the same lock. Taking a buffer pops from the `Vec`, returning one pushes onto
//! it; both are a few instructions inside an uncontended lock, and neither allocates once
//! the `Vec` has reached its bound. There are no atomics of the pool's own (the only ones
//! are `Arc`'s reference count and, for [`PooledBuf::into_bytes`], the `bytes` crate's) and
//! no `unsafe`, so the pool's correctness rests on the mutex alone: a buffer is either in
//! the `Vec` or owned by exactly one guard, never both, because moving it in or out happens
//! under the lock and Rust's ownership forbids two guards owning one `AlignedVec`. That is
//! why this module has no loom model: there is no lock-free protocol to model.
//!
//! # Cost
//!
//! A take and its return are two uncontended lock round trips, plus an `Arc` count for
//! explicit pools (guards of the global pool skip it). For a small buffer that is about what
//! the system allocator's per-thread cache charges for a `malloc`/`free` pair, so on small
//! messages the pool is not faster than allocating (see `benches/pool.rs`); what it buys is
//! no allocation at all in steady state (asserted in `tests/alloc.rs`), no reallocation as a
//! buffer grows to a large message's size, and a bound on memory kept. A per-thread front
//! cache would remove the lock from the common path; it is not built, because it would make
//! the counters per-thread and the invariants below approximate.
//!
//! # Bounds
//!
//! - At most [`PoolConfig::max_buffers`] idle buffers are kept; a buffer returned to a full
//!   pool is freed and counted as [`dropped`](PoolStats::dropped).
//! - A buffer whose capacity grew past [`PoolConfig::max_retained_capacity`] (one large
//!   message) is freed on return rather than kept, so one outlier cannot pin memory for the
//!   pool's lifetime. It is dropped rather than shrunk: shrinking is a reallocation, which
//!   costs what a fresh allocation costs on the next miss, and the next miss allocates only
//!   [`PoolConfig::initial_capacity`].
//! - Buffers are cleared (length reset to 0) when they come back, so no message's bytes are
//!   observable by the next holder.
//!
//! # `Bytes` without a copy
//!
//! [`PooledBuf::into_bytes`] hands the guard itself to [`Bytes::from_owner`]: the `Bytes`
//! (and every clone and slice of it) points into the pooled buffer, and the guard's `Drop`
//! returns the buffer when the last of them is dropped. `from_owner` allocates one small
//! shared control block per call (the `bytes` crate's reference count); that is the only
//! allocation of a pooled [`Codec::encode`](crate::Codec::encode).
//!
//! A `Bytes` keeps the whole buffer alive, capacity included. Holding many small `Bytes` from
//! a pool with a large retention cap pins that capacity; callers that keep encodings for a
//! long time can use [`Codec::encode_into`](crate::Codec::encode_into) with buffers of their
//! own, or a pool with a small [`max_retained_capacity`](PoolConfig::max_retained_capacity).

#![forbid(unsafe_code)]

use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use parking_lot::Mutex;
use rkyv::util::AlignedVec;

use crate::buf::{ARCHIVE_ALIGN, EncodeBuf};

/// Default [`PoolConfig::max_buffers`].
pub const DEFAULT_MAX_BUFFERS: usize = 64;
/// Default [`PoolConfig::max_retained_capacity`]: 64 KiB.
pub const DEFAULT_MAX_RETAINED_CAPACITY: usize = 64 << 10;
/// Default [`PoolConfig::initial_capacity`]: 1 KiB, room for a typical small message.
pub const DEFAULT_INITIAL_CAPACITY: usize = 1 << 10;

/// The bounds of a [`BufferPool`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolConfig {
    /// Most idle buffers kept; further returned buffers are freed.
    pub max_buffers: usize,
    /// Largest capacity, in bytes, a returned buffer may have and still be kept.
    pub max_retained_capacity: usize,
    /// Capacity, in bytes, of the buffer allocated on a miss (at most
    /// `max_retained_capacity`).
    pub initial_capacity: usize,
}

impl PoolConfig {
    /// The default bounds: [`DEFAULT_MAX_BUFFERS`], [`DEFAULT_MAX_RETAINED_CAPACITY`],
    /// [`DEFAULT_INITIAL_CAPACITY`].
    pub const fn new() -> Self {
        Self {
            max_buffers: DEFAULT_MAX_BUFFERS,
            max_retained_capacity: DEFAULT_MAX_RETAINED_CAPACITY,
            initial_capacity: DEFAULT_INITIAL_CAPACITY,
        }
    }

    /// Sets [`max_buffers`](PoolConfig::max_buffers).
    #[must_use]
    pub const fn max_buffers(mut self, max_buffers: usize) -> Self {
        self.max_buffers = max_buffers;
        self
    }

    /// Sets [`max_retained_capacity`](PoolConfig::max_retained_capacity).
    #[must_use]
    pub const fn max_retained_capacity(mut self, bytes: usize) -> Self {
        self.max_retained_capacity = bytes;
        self
    }

    /// Sets [`initial_capacity`](PoolConfig::initial_capacity).
    #[must_use]
    pub const fn initial_capacity(mut self, bytes: usize) -> Self {
        self.initial_capacity = bytes;
        self
    }
}

impl Default for PoolConfig {
    fn default() -> Self {
        Self::new()
    }
}

/// A snapshot of a pool's counters, all taken under one lock, so they are consistent with
/// each other.
///
/// Every [`take`](BufferPool::take) is a hit or a miss, and every buffer that comes back is
/// returned (kept) or dropped (freed), so at any quiet moment:
///
/// - `hits + misses` buffers have been handed out,
/// - `hits + misses - returned - dropped` are still held by guards or `Bytes`,
/// - `idle == returned - hits` buffers wait in the pool.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolStats {
    /// Takes served by an idle buffer.
    pub hits: u64,
    /// Takes that allocated a new buffer because the pool was empty.
    pub misses: u64,
    /// Buffers that came back and were kept.
    pub returned: u64,
    /// Buffers that came back and were freed (pool full, or grown past the retention cap).
    pub dropped: u64,
    /// Buffers idle in the pool now.
    pub idle: usize,
}

impl PoolStats {
    /// Buffers handed out and not yet back: `hits + misses - returned - dropped`.
    pub fn outstanding(&self) -> u64 {
        (self.hits + self.misses) - (self.returned + self.dropped)
    }
}

struct State {
    idle: Vec<AlignedVec<ARCHIVE_ALIGN>>,
    stats: PoolStats,
}

struct Shared {
    /// True only for [`BufferPool::global`]'s pool, whose guards skip the `Arc` count.
    global: bool,
    config: PoolConfig,
    state: Mutex<State>,
}

/// A bounded, thread-safe pool of 16-byte aligned buffers.
///
/// Cloning a `BufferPool` is cheap and yields a handle to the *same* pool. Use
/// [`BufferPool::global`] for the process-wide default (where frame codecs decompress and
/// re-align payloads unless given a pool of their own) or [`BufferPool::new`] for a pool of
/// your own, with its own bounds and counters; [`Encode::encode_pooled`](crate::Encode)
/// encodes into one.
///
/// # Examples
///
/// ```
/// use zerocodec::{BufferPool, EncodeBuf, PoolConfig};
///
/// let pool = BufferPool::new(PoolConfig::new().max_buffers(8));
/// let mut buf = pool.take();
/// buf.extend_from_slice(b"hello");
/// let bytes = buf.into_bytes(); // no copy; 16-byte aligned
/// assert_eq!(&bytes[..], b"hello");
/// drop(bytes); // the buffer goes back to the pool
///
/// let again = pool.take(); // reused, and empty
/// assert!(again.is_empty());
/// let stats = pool.stats();
/// assert_eq!((stats.misses, stats.hits, stats.returned), (1, 1, 1));
/// ```
#[derive(Clone)]
pub struct BufferPool {
    shared: Arc<Shared>,
}

impl BufferPool {
    /// A new, empty pool with the given bounds.
    pub fn new(config: PoolConfig) -> Self {
        Self::build(config, false)
    }

    fn build(config: PoolConfig, global: bool) -> Self {
        Self {
            shared: Arc::new(Shared {
                global,
                config,
                state: Mutex::new(State {
                    idle: Vec::new(),
                    stats: PoolStats::default(),
                }),
            }),
        }
    }

    /// The process-wide default pool, with [`PoolConfig::new`]'s bounds, created on first
    /// use.
    pub fn global() -> &'static BufferPool {
        static GLOBAL: OnceLock<BufferPool> = OnceLock::new();
        GLOBAL.get_or_init(|| BufferPool::build(PoolConfig::new(), true))
    }

    /// The pool's bounds.
    pub fn config(&self) -> &PoolConfig {
        &self.shared.config
    }

    /// Takes an empty buffer: an idle one if there is one (a hit), else a new one of
    /// [`initial_capacity`](PoolConfig::initial_capacity) (a miss). The guard returns it on
    /// drop.
    pub fn take(&self) -> PooledBuf {
        let reused = {
            let mut state = self.shared.state.lock();
            let reused = state.idle.pop();
            match reused {
                Some(_) => state.stats.hits += 1,
                None => state.stats.misses += 1,
            }
            reused
        };
        let buf = reused.unwrap_or_else(|| {
            let config = &self.shared.config;
            AlignedVec::with_capacity(config.initial_capacity.min(config.max_retained_capacity))
        });
        let home = if self.shared.global {
            Home::Global
        } else {
            Home::Pool(self.clone())
        };
        PooledBuf { buf, home }
    }

    /// A consistent snapshot of the counters.
    pub fn stats(&self) -> PoolStats {
        let state = self.shared.state.lock();
        PoolStats {
            idle: state.idle.len(),
            ..state.stats
        }
    }

    /// Frees every idle buffer (counted as neither returned nor dropped: they were counted
    /// when they came back). Buffers held by guards are unaffected.
    pub fn clear(&self) {
        let idle = std::mem::take(&mut self.shared.state.lock().idle);
        drop(idle);
    }

    /// True if `self` and `other` are handles to the same pool.
    pub fn same_pool(&self, other: &BufferPool) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }

    fn give_back(&self, mut buf: AlignedVec<ARCHIVE_ALIGN>) {
        buf.clear();
        let config = &self.shared.config;
        let keep = buf.capacity() > 0 && buf.capacity() <= config.max_retained_capacity;
        let mut state = self.shared.state.lock();
        if keep && state.idle.len() < config.max_buffers {
            state.idle.push(buf);
            state.stats.returned += 1;
        } else {
            state.stats.dropped += 1;
            // Free outside the lock.
            drop(state);
            drop(buf);
        }
    }
}

impl Default for BufferPool {
    /// A new pool with [`PoolConfig::new`]'s bounds (not the global pool).
    fn default() -> Self {
        Self::new(PoolConfig::new())
    }
}

impl fmt::Debug for BufferPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BufferPool")
            .field("config", &self.shared.config)
            .field("stats", &self.stats())
            .finish()
    }
}

/// An empty-on-arrival, 16-byte aligned buffer on loan from a [`BufferPool`]; it goes back
/// to its pool when dropped.
///
/// It derefs to rkyv's [`AlignedVec`] and implements [`EncodeBuf`], so codecs encode into it
/// directly (rkyv archives are serialized straight into it, with no intermediate copy).
/// [`into_bytes`](PooledBuf::into_bytes) turns it into `Bytes` without a copy.
pub struct PooledBuf {
    buf: AlignedVec<ARCHIVE_ALIGN>,
    home: Home,
}

/// Where a [`PooledBuf`] returns to. The global pool lives for the whole process, so its
/// guards name it rather than hold a reference count (two atomic operations saved per take).
enum Home {
    Global,
    Pool(BufferPool),
}

impl PooledBuf {
    /// Turns the filled buffer into `Bytes` without copying; the buffer returns to its pool
    /// when the last clone or slice of the `Bytes` is dropped.
    ///
    /// The `Bytes` start at a 16-byte aligned address. This allocates one small reference
    /// count block (the `bytes` crate's `from_owner`), not the data.
    pub fn into_bytes(self) -> Bytes {
        Bytes::from_owner(self)
    }

    /// The pool this buffer returns to.
    pub fn pool(&self) -> &BufferPool {
        match &self.home {
            Home::Global => BufferPool::global(),
            Home::Pool(pool) => pool,
        }
    }
}

impl Drop for PooledBuf {
    fn drop(&mut self) {
        let buf = std::mem::take(&mut self.buf);
        self.pool().give_back(buf);
    }
}

impl Deref for PooledBuf {
    type Target = AlignedVec<ARCHIVE_ALIGN>;

    #[inline]
    fn deref(&self) -> &Self::Target {
        &self.buf
    }
}

impl DerefMut for PooledBuf {
    #[inline]
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.buf
    }
}

impl AsRef<[u8]> for PooledBuf {
    #[inline]
    fn as_ref(&self) -> &[u8] {
        self.buf.as_slice()
    }
}

impl fmt::Debug for PooledBuf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PooledBuf")
            .field("len", &self.buf.len())
            .field("capacity", &self.buf.capacity())
            .finish()
    }
}

impl EncodeBuf for PooledBuf {
    #[inline]
    fn len(&self) -> usize {
        self.buf.len()
    }
    #[inline]
    fn extend_from_slice(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }
    #[inline]
    fn reserve(&mut self, additional: usize) {
        self.buf.reserve(additional);
    }
    #[inline]
    fn truncate(&mut self, len: usize) {
        EncodeBuf::truncate(&mut self.buf, len);
    }
    #[inline]
    fn resize_zeroed(&mut self, new_len: usize) {
        EncodeBuf::resize_zeroed(&mut self.buf, new_len);
    }
    #[inline]
    fn as_slice(&self) -> &[u8] {
        self.buf.as_slice()
    }
    #[inline]
    fn as_mut_slice(&mut self) -> &mut [u8] {
        self.buf.as_mut_slice()
    }
    #[inline]
    fn as_aligned_vec(&mut self) -> Option<&mut AlignedVec> {
        Some(&mut self.buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn public_types_are_send_and_sync() {
        assert_send_sync::<BufferPool>();
        assert_send_sync::<PooledBuf>();
        assert_eq!(size_of::<BufferPool>(), size_of::<usize>());
        assert_eq!(size_of::<PooledBuf>(), 4 * size_of::<usize>());
    }

    #[test]
    fn buffers_are_reused_cleared_and_aligned() {
        let pool = BufferPool::new(PoolConfig::new().initial_capacity(64));
        let mut a = pool.take();
        a.extend_from_slice(b"secret");
        let ptr = a.as_ptr();
        drop(a);
        let b = pool.take();
        assert_eq!(b.as_ptr(), ptr, "the idle buffer is reused");
        assert!(b.is_empty(), "contents are cleared on return");
        assert_eq!(b.as_ptr() as usize % ARCHIVE_ALIGN, 0);
        assert!(b.capacity() >= 64);
        let stats = pool.stats();
        assert_eq!((stats.misses, stats.hits, stats.returned), (1, 1, 1));
        assert_eq!(stats.outstanding(), 1);
    }

    #[test]
    fn full_pool_drops_extra_buffers() {
        let pool = BufferPool::new(PoolConfig::new().max_buffers(2));
        let held: Vec<_> = (0..5).map(|_| pool.take()).collect();
        drop(held);
        let stats = pool.stats();
        assert_eq!(stats.misses, 5);
        assert_eq!(stats.returned, 2);
        assert_eq!(stats.dropped, 3);
        assert_eq!(stats.idle, 2);
        assert_eq!(stats.outstanding(), 0);
    }

    #[test]
    fn oversized_buffers_are_not_retained() {
        let pool = BufferPool::new(
            PoolConfig::new()
                .initial_capacity(16)
                .max_retained_capacity(128),
        );
        let mut big = pool.take();
        big.resize_zeroed(1000);
        drop(big);
        let stats = pool.stats();
        assert_eq!((stats.returned, stats.dropped, stats.idle), (0, 1, 0));
        let small = pool.take();
        assert!(small.capacity() <= 128);
        // A buffer swapped for an unallocated one is not worth keeping either.
        let mut swapped = small;
        *swapped = AlignedVec::new();
        drop(swapped);
        assert_eq!(pool.stats().dropped, 2);
    }

    #[test]
    fn bytes_return_the_buffer_when_the_last_clone_drops() {
        let pool = BufferPool::new(PoolConfig::new());
        let mut buf = pool.take();
        buf.extend_from_slice(b"payload");
        let ptr = buf.as_ptr();
        let bytes = buf.into_bytes();
        assert_eq!(bytes.as_ptr(), ptr, "no copy");
        let tail = bytes.slice(3..);
        drop(bytes);
        assert_eq!(pool.stats().idle, 0, "a slice still holds the buffer");
        assert_eq!(&tail[..], b"load");
        drop(tail);
        let stats = pool.stats();
        assert_eq!((stats.idle, stats.returned), (1, 1));
    }

    #[test]
    fn pooled_buf_obeys_the_encode_buf_contract() {
        let pool = BufferPool::new(PoolConfig::new().initial_capacity(8));
        let mut b = pool.take();
        assert!(EncodeBuf::is_empty(&b));
        b.extend_from_slice(b"abc");
        b.resize_zeroed(5);
        assert_eq!(EncodeBuf::as_slice(&b), b"abc\0\0");
        EncodeBuf::as_mut_slice(&mut b)[0] = b'x';
        EncodeBuf::truncate(&mut b, 2);
        assert_eq!(EncodeBuf::as_slice(&b), b"xb");
        EncodeBuf::truncate(&mut b, 10);
        assert_eq!(EncodeBuf::len(&b), 2);
        EncodeBuf::reserve(&mut b, 100);
        assert!(b.capacity() >= 102);
        assert!(b.as_aligned_vec().is_some_and(|vec| vec.len() == 2));
    }

    #[test]
    fn clear_frees_idle_buffers_and_handles_compare() {
        let pool = BufferPool::default();
        drop(pool.take());
        assert_eq!(pool.stats().idle, 1);
        pool.clear();
        assert_eq!(pool.stats().idle, 0);
        assert!(pool.same_pool(&pool.clone()));
        assert!(!pool.same_pool(BufferPool::global()));
        assert!(BufferPool::global().same_pool(BufferPool::global()));
        let from_global = BufferPool::global().take();
        assert!(from_global.pool().same_pool(BufferPool::global()));
        assert!(pool.take().pool().same_pool(&pool));
    }
}
