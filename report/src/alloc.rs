//! A counting global allocator: how many allocations an operation makes, and how many bytes.
//!
//! Every `alloc`, `alloc_zeroed` and `realloc` counts as one allocation; its requested size
//! (the new size, for `realloc`) counts as bytes allocated. Frees are not subtracted: the
//! figure is the allocator traffic an operation causes, as BASELINES.md counts it.
//!
//! This module holds the report's only `unsafe` code: implementing `GlobalAlloc` is unsafe by
//! definition. Each method forwards to the system allocator unchanged.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Counting is on only while [`Usage::start`] is in effect: the timed runs allocate through the
/// plain system allocator plus one relaxed load, so the counters' locked adds (about 10 ns per
/// allocation) never enter a timing.
static ENABLED: AtomicBool = AtomicBool::new(false);
static COUNT: AtomicU64 = AtomicU64::new(0);
static BYTES: AtomicU64 = AtomicU64::new(0);

/// The system allocator, counting.
pub(crate) struct Counting;

// SAFETY: every method forwards its arguments unchanged to `System`, which upholds the
// `GlobalAlloc` contract; the counters are plain relaxed atomics and never allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        record(layout.size());
        // SAFETY: the caller upholds `alloc`'s contract (non-zero size), passed on as is.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        record(layout.size());
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by `System` (through this allocator) with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        record(new_size);
        // SAFETY: `ptr` was allocated by `System` with `layout`; the caller upholds the
        // contract for `new_size`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[inline]
fn record(size: usize) {
    if !ENABLED.load(Ordering::Relaxed) {
        return;
    }
    COUNT.fetch_add(1, Ordering::Relaxed);
    BYTES.fetch_add(size as u64, Ordering::Relaxed);
}

/// Allocations and bytes allocated so far, process-wide.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Usage {
    /// Number of allocations (including reallocations).
    pub(crate) count: u64,
    /// Bytes requested by them.
    pub(crate) bytes: u64,
}

impl Usage {
    /// Turns counting on and returns the counters now; [`Usage::since`] turns it off.
    pub(crate) fn start() -> Self {
        ENABLED.store(true, Ordering::SeqCst);
        Self::now()
    }

    /// The counters now.
    pub(crate) fn now() -> Self {
        Self {
            count: COUNT.load(Ordering::Relaxed),
            bytes: BYTES.load(Ordering::Relaxed),
        }
    }

    /// What was allocated since `earlier` (from [`Usage::start`]); turns counting off.
    pub(crate) fn since(earlier: Usage) -> Self {
        let now = Self::now();
        ENABLED.store(false, Ordering::SeqCst);
        Self {
            count: now.count - earlier.count,
            bytes: now.bytes - earlier.bytes,
        }
    }
}
