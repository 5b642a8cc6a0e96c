//! Allocation counts on the hot paths, with a counting global allocator.
//!
//! Counts are per thread (the test harness runs tests on several threads at once) and are
//! deterministic, so they are asserted exactly. Each test warms up first: the first message
//! fills the pool, rkyv's per-thread serializer arena and the thread's scratch buffers.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use common::chat;
use zerocodec::{Batch, BatchBuilder, BatchRef, BufferPool, Codec, OwnedArchive, PoolConfig};
use zerocodec_codecs::RkyvCodec;
use zerocodec_datasets::ChatMessage;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
    static FREES: Cell<u64> = const { Cell::new(0) };
}

/// Counts every allocation and reallocation (and every free) made by the current thread.
struct Counting;

// SAFETY: every method forwards to `System` with the caller's arguments unchanged, so
// `System`'s guarantees hold; the counters are const-initialized thread locals without a
// destructor, so touching them never allocates or re-enters the allocator.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        // SAFETY: forwarded unchanged; the caller upholds `GlobalAlloc::alloc`'s contract.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        // SAFETY: forwarded unchanged; the caller upholds `alloc_zeroed`'s contract.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        // SAFETY: forwarded unchanged; `ptr` was allocated by `System` through this type.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let _ = FREES.try_with(|n| n.set(n.get() + 1));
        // SAFETY: forwarded unchanged; `ptr` was allocated by `System` through this type.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Runs `f` and returns its result with the allocations and frees it made on this thread.
fn counted<R>(f: impl FnOnce() -> R) -> (R, u64, u64) {
    let (a0, f0) = (ALLOCATIONS.with(Cell::get), FREES.with(Cell::get));
    let result = f();
    let (a1, f1) = (ALLOCATIONS.with(Cell::get), FREES.with(Cell::get));
    (result, a1 - a0, f1 - f0)
}

const MESSAGES: usize = 1_000;

fn check(view: &zerocodec_datasets::ArchivedChatMessage, msg: &ChatMessage) {
    assert_eq!(view.id, msg.id);
    assert_eq!(view.content, msg.content);
    assert_eq!(view.timestamp, msg.timestamp);
    assert_eq!(view.sender, msg.sender);
    assert_eq!(view.room_id, msg.room_id);
}

#[test]
fn the_counter_sees_allocations() {
    let (v, allocs, frees) = counted(|| vec![1u8; 100]);
    assert_eq!((allocs, frees), (1, 0));
    let ((), allocs, frees) = counted(|| drop(v));
    assert_eq!((allocs, frees), (0, 1));
}

#[test]
fn pooled_encode_and_access_allocate_nothing() {
    let pool = BufferPool::new(PoolConfig::new());
    let codec = RkyvCodec::new();
    let msg = chat();
    let round = || {
        let mut buf = pool.take();
        codec.encode_into(&msg, &mut buf).unwrap();
        let view = codec.access::<ChatMessage>(&buf).unwrap();
        check(view, &msg);
    };
    round(); // warm-up: fills the pool and rkyv's arena
    let ((), allocs, frees) = counted(|| (0..MESSAGES).for_each(|_| round()));
    assert_eq!(allocs, 0, "allocations for {MESSAGES} encode + access");
    assert_eq!(frees, 0);
    let stats = pool.stats();
    assert_eq!(stats.misses, 1);
    assert_eq!(stats.hits, MESSAGES as u64);
}

#[test]
fn decoding_to_owned_allocates_once_per_string() {
    let codec = RkyvCodec::new();
    let msg = chat();
    let mut buf = rkyv::util::AlignedVec::<16>::new();
    codec.encode_into(&msg, &mut buf).unwrap();
    drop(codec.decode::<ChatMessage>(&buf).unwrap());
    let (back, allocs, _) = counted(|| codec.decode::<ChatMessage>(&buf).unwrap());
    assert_eq!(back, msg);
    assert_eq!(allocs, 4, "id, content, sender and room_id");
}

/// The only test in this binary that uses the global pool, so its counts are its own.
#[test]
fn global_pool_paths_allocate_only_the_bytes_refcount() {
    let codec = RkyvCodec::new();
    let msg = chat();
    // `Codec::encode`: the buffer is pooled; `Bytes::from_owner` allocates its shared
    // reference count block, once per call, and frees it when the last clone drops.
    drop(Codec::<ChatMessage>::encode(&codec, &msg).unwrap());
    let ((), allocs, frees) = counted(|| {
        for _ in 0..MESSAGES {
            let bytes = Codec::<ChatMessage>::encode(&codec, &msg).unwrap();
            let view = codec.access::<ChatMessage>(&bytes).unwrap();
            check(view, &msg);
        }
    });
    assert_eq!(allocs, MESSAGES as u64, "one refcount block per encode");
    assert_eq!(frees, MESSAGES as u64);

    // Re-aligning unaligned input for an owned archive copies into a pooled buffer.
    let bytes = Codec::<ChatMessage>::encode(&codec, &msg).unwrap();
    let mut shifted = vec![0u8; bytes.len() + 1];
    shifted[1..].copy_from_slice(&bytes);
    let unaligned = &shifted[1..];
    drop(OwnedArchive::<ChatMessage>::from_slice(unaligned).unwrap());
    let ((), allocs, frees) = counted(|| {
        for _ in 0..MESSAGES {
            let owned = OwnedArchive::<ChatMessage>::from_slice(unaligned).unwrap();
            assert!(owned.is_pooled());
            check(&owned, &msg);
        }
    });
    assert_eq!(
        (allocs, frees),
        (0, 0),
        "unaligned access_owned re-aligns in a pool"
    );
}

#[test]
fn batch_append_finish_and_read_allocate_nothing() {
    let pool = BufferPool::new(PoolConfig::new().max_retained_capacity(1 << 20));
    let msg = chat();
    let build = || {
        let mut builder = BatchBuilder::<ChatMessage>::with_pool(&pool);
        for i in 0..MESSAGES {
            assert_eq!(builder.append(&msg).unwrap(), i);
        }
        builder.finish().unwrap()
    };
    drop(build()); // warm-up: grows the two pooled buffers to a batch's size

    let (batch, allocs, frees) = counted(build);
    assert_eq!(
        (allocs, frees),
        (0, 0),
        "append {MESSAGES} messages + finish"
    );

    let ((), allocs, frees) = counted(|| {
        for i in 0..batch.len() {
            check(batch.get(i).unwrap(), &msg);
        }
        for view in &batch {
            check(view, &msg);
        }
        let borrowed = BatchRef::<ChatMessage>::open(batch.as_bytes()).unwrap();
        assert_eq!(borrowed.len(), MESSAGES);
        check(borrowed.get(MESSAGES - 1).unwrap(), &msg);
    });
    assert_eq!(
        (allocs, frees),
        (0, 0),
        "get, iterate and re-open {MESSAGES}"
    );

    // Handing the batch over as `Bytes` and opening it again: one refcount block.
    let (reopened, allocs, _) = counted(|| Batch::<ChatMessage>::open(batch.into_bytes()));
    let reopened = reopened.unwrap();
    assert_eq!(allocs, 1);
    assert!(reopened.is_shared(), "aligned bytes are not copied");
    assert_eq!(reopened.len(), MESSAGES);
}
