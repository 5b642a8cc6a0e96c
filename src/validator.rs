//! [`CappedValidator`]: rkyv's archive bounds checks with the nesting cap as a plain countdown.
//!
//! rkyv's own `ArchiveValidator` makes the cap optional (`Option<NonZeroUsize>`, checked on
//! every push and pop of a subtree): with a cap, each out-of-line string, vector or box costs
//! a handful of instructions more than rkyv's uncapped default (callgrind: +3.1% on the `log`
//! dataset's access). zerocodec always caps, so the count here is an unconditional `usize`
//! countdown, which costs what rkyv's "is there a cap?" test does. Everything else is rkyv's
//! checks as rkyv writes them (0.8's `ArchiveValidator`), and the messages are rkyv's words.
//!
//! This module holds `unsafe` code: the [`ArchiveContext`] impl, whose contract (a pointer is
//! accepted only when its whole layout lies inside the current subtree range and is aligned)
//! is kept by `check_subtree_ptr` below.

use std::alloc::Layout;
use std::error::Error as StdError;
use std::fmt;
use std::marker::PhantomData;
use std::ops::Range;

use rkyv::rancor::{Source, fail};
use rkyv::validation::ArchiveContext;

/// rkyv's archive bounds validator, with a nesting cap that is always on.
///
/// The root and every out-of-line level below it (a box's, vector's or string's contents)
/// count one; validation fails once more than `max_depth - 1` levels are open, as rkyv's
/// `ArchiveValidator::with_max_depth(bytes, NonZeroUsize::new(max_depth))` does. A
/// `max_depth` of 0 means no cap (a countdown from `usize::MAX`, which no archive reaches).
#[doc(hidden)]
pub struct CappedValidator<'a> {
    subtree_range: Range<usize>,
    /// Levels that may still be opened.
    levels_left: usize,
    _bytes: PhantomData<&'a [u8]>,
}

impl<'a> CappedValidator<'a> {
    /// A validator for `bytes`, with the cap `max_depth` (0: none).
    #[inline]
    pub fn new(bytes: &'a [u8], max_depth: usize) -> Self {
        let Range { start, end } = bytes.as_ptr_range();
        Self {
            subtree_range: start as usize..end as usize,
            // rkyv fails when its count reaches zero on a push, so a cap of `d` admits `d - 1`
            // levels; 0 is no cap.
            levels_left: max_depth.wrapping_sub(1),
            _bytes: PhantomData,
        }
    }
}

// SAFETY: `check_subtree_ptr` accepts a pointer only when `[ptr, ptr + layout.size())` lies
// inside the current subtree range (itself inside the archive's bytes, which outlive the
// validator) without wrapping, and `ptr` is aligned to `layout.align()`: the checks of rkyv's
// `ArchiveValidator`, unchanged. The subtree ranges are pushed and popped as rkyv's are; the
// depth countdown only adds a refusal.
unsafe impl<E: Source> ArchiveContext<E> for CappedValidator<'_> {
    #[inline]
    fn check_subtree_ptr(&mut self, ptr: *const u8, layout: &Layout) -> Result<(), E> {
        let start = ptr as usize;
        let end = ptr.wrapping_add(layout.size()) as usize;
        if end < start || start < self.subtree_range.start || end > self.subtree_range.end {
            fail!(InvalidSubtreePointer {
                address: start,
                size: layout.size(),
                subtree_range: self.subtree_range.clone(),
            });
        } else if start & (layout.align() - 1) != 0 {
            fail!(UnalignedPointer {
                address: start,
                align: layout.align(),
            });
        } else {
            Ok(())
        }
    }

    #[inline]
    unsafe fn push_subtree_range(
        &mut self,
        root: *const u8,
        end: *const u8,
    ) -> Result<Range<usize>, E> {
        if self.levels_left == 0 {
            fail!(ExceededMaximumSubtreeDepth);
        }
        self.levels_left -= 1;
        let result = end as usize..self.subtree_range.end;
        self.subtree_range.end = root as usize;
        Ok(result)
    }

    #[inline]
    unsafe fn pop_subtree_range(&mut self, range: Range<usize>) -> Result<(), E> {
        if range.start < self.subtree_range.end {
            fail!(RangePoppedOutOfOrder);
        }
        self.subtree_range = range;
        // Every pop matches an earlier push (the caller's contract), so this stays at most
        // the starting count.
        self.levels_left += 1;
        Ok(())
    }
}

/// An address as rkyv prints one (zero-padded hex, which zerocodec's error messages rewrite
/// as an offset into the input).
struct Address(usize);

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const WIDTH: usize = (usize::BITS / 4 + 2) as usize;
        write!(f, "{:#0w$x}", self.0, w = WIDTH)
    }
}

#[derive(Debug)]
struct UnalignedPointer {
    address: usize,
    align: usize,
}

impl fmt::Display for UnalignedPointer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unaligned pointer: ptr {} unaligned for alignment {}",
            Address(self.address),
            self.align
        )
    }
}

impl StdError for UnalignedPointer {}

#[derive(Debug)]
struct InvalidSubtreePointer {
    address: usize,
    size: usize,
    subtree_range: Range<usize>,
}

impl fmt::Display for InvalidSubtreePointer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "subtree pointer overran range: ptr {} size {} in range {}..{}",
            Address(self.address),
            self.size,
            Address(self.subtree_range.start),
            Address(self.subtree_range.end)
        )
    }
}

impl StdError for InvalidSubtreePointer {}

/// The cap was reached (`is_depth_error` recognises the name in the error's debug text).
#[derive(Debug)]
struct ExceededMaximumSubtreeDepth;

impl fmt::Display for ExceededMaximumSubtreeDepth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("pushed a subtree range that exceeded the maximum subtree depth")
    }
}

impl StdError for ExceededMaximumSubtreeDepth {}

#[derive(Debug)]
struct RangePoppedOutOfOrder;

impl fmt::Display for RangePoppedOutOfOrder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("subtree range popped out of order")
    }
}

impl StdError for RangePoppedOutOfOrder {}
