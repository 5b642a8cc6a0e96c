//! The per-thread scratch buffers every zerocodec crate borrows: one helper, one policy.

use std::cell::RefCell;

use rkyv::util::AlignedVec;

/// Largest buffer kept for reuse; a larger one is freed when it is given back.
const MAX_RETAINED: usize = 1 << 20;
/// Most idle buffers kept per thread (nested uses take one each: an encode inside a
/// compression inside a frame).
const MAX_IDLE: usize = 4;

thread_local! {
    static IDLE: RefCell<Vec<AlignedVec>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` with an empty, 16-byte aligned buffer reused across calls on this thread.
///
/// The buffer is cleared after use, so no message's bytes linger between calls, and kept
/// only if its capacity is at most 1 MiB. Re-entrant: a nested call gets a buffer of its own.
#[inline]
pub fn with_scratch<R>(f: impl FnOnce(&mut AlignedVec) -> R) -> R {
    let mut buf = IDLE
        .try_with(|idle| idle.borrow_mut().pop())
        .ok()
        .flatten()
        .unwrap_or_default();
    let result = f(&mut buf);
    buf.clear();
    if buf.capacity() <= MAX_RETAINED {
        // Ignored during thread teardown, when the buffer is simply freed.
        let _ = IDLE.try_with(|idle| {
            let mut idle = idle.borrow_mut();
            if idle.len() < MAX_IDLE {
                idle.push(buf);
            }
        });
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_come_back_empty_nested_ones_are_distinct_and_big_ones_are_freed() {
        with_scratch(|outer| {
            outer.extend_from_slice(b"outer");
            with_scratch(|inner| {
                assert!(inner.is_empty());
                inner.extend_from_slice(b"inner");
            });
            assert_eq!(outer.as_slice(), b"outer");
        });
        with_scratch(|buf| {
            assert!(buf.is_empty());
            buf.reserve(MAX_RETAINED + 1);
        });
        let kept = with_scratch(|buf| buf.capacity());
        assert!(kept <= MAX_RETAINED, "{kept}");
    }
}
