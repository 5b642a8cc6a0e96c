//! Allocation counts on the hot paths, with a counting global allocator.
//!
//! Counts are per thread (the test harness runs tests on several threads at once) and are
//! deterministic, so they are asserted exactly. Each test warms up first: the first message
//! fills the pool, rkyv's per-thread serializer arena and the thread's scratch buffers.
//!
//! `Encode::encode` allocates a fresh aligned buffer per call (no pool, no lock);
//! `Encode::encode_pooled` and `encode_into` a pooled buffer are the allocation-free paths.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use common::chat;
use zerocodec::prelude::*;
use zerocodec::{BufferPool, OwnedArchive, PoolConfig};
use zerocodec_codecs::{Batch, BatchBuilder, BatchRef, RkyvCodec};
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
        let view = codec.access(&buf).unwrap();
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
    drop(codec.decode(&buf).unwrap());
    let (back, allocs, _) = counted(|| codec.decode(&buf).unwrap());
    assert_eq!(back, msg);
    assert_eq!(allocs, 4, "id, content, sender and room_id");
}

/// Serializes the tests that use the global pool: a test running beside another could find
/// the pool empty and count the other's buffers as its own misses.
static GLOBAL_POOL: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[test]
fn global_pool_paths_allocate_only_the_bytes_refcount() {
    let _only = GLOBAL_POOL.lock().unwrap_or_else(|e| e.into_inner());
    let codec = RkyvCodec::new();
    let msg = chat();
    // `Encode::encode_pooled` from the global pool: the buffer is pooled;
    // `Bytes::from_owner` allocates its shared reference count block, once per call, and
    // frees it when the last clone drops (the buffer goes back to the pool).
    drop(codec.encode_pooled(&msg, BufferPool::global()).unwrap());
    let ((), allocs, frees) = counted(|| {
        for _ in 0..MESSAGES {
            let bytes = codec.encode_pooled(&msg, BufferPool::global()).unwrap();
            let view = codec.access(&bytes).unwrap();
            check(view, &msg);
        }
    });
    assert_eq!(allocs, MESSAGES as u64, "one refcount block per encode");
    assert_eq!(frees, MESSAGES as u64);

    // Re-aligning unaligned input for an owned archive copies into a pooled buffer.
    let bytes = codec.encode(&msg).unwrap();
    let mut shifted = vec![0u8; bytes.len() + 1];
    shifted[1..].copy_from_slice(&bytes);
    let unaligned = &shifted[1..];
    drop(OwnedArchive::<ChatMessage>::from_slice(unaligned).unwrap());
    let ((), allocs, frees) = counted(|| {
        for _ in 0..MESSAGES {
            let owned = OwnedArchive::<ChatMessage>::from_slice(unaligned).unwrap();
            assert!(!owned.is_shared(), "a pooled copy");
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
fn plain_encode_allocates_a_fresh_buffer_per_call() {
    let codec = RkyvCodec::new();
    let msg = chat();
    // `Encode::encode` takes nothing from a pool: each call encodes into the thread's reused
    // scratch buffer (grown by the warm-up call), then copies the encoding into a new
    // `AlignedVec` of exactly its length (one allocation), which `Bytes::from_owner` hands
    // over with its reference count block (a second). Dropping the `Bytes` frees both.
    drop(codec.encode(&msg).unwrap());
    let ((), allocs, frees) = counted(|| {
        for _ in 0..MESSAGES {
            let bytes = codec.encode(&msg).unwrap();
            assert_eq!(bytes.as_ptr() as usize % zerocodec::ARCHIVE_ALIGN, 0);
            let view = codec.access(&bytes).unwrap();
            check(view, &msg);
        }
    });
    assert_eq!(
        (allocs, frees),
        (2 * MESSAGES as u64, 2 * MESSAGES as u64),
        "an exact-size buffer and a refcount block per encode"
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

#[test]
fn compressed_hybrid_encode_and_access_owned_allocate_nothing() {
    use zerocodec_codecs::{Compressed, Compression, HybridCodec, Policy};

    /// `access_allocs` is what one `access_owned` of a compressed frame allocates.
    fn steady_state<C: Encode<Item = ChatMessage> + Access>(stack: C, access_allocs: u64) {
        let _only = GLOBAL_POOL.lock().unwrap_or_else(|e| e.into_inner());
        let frames_pool = BufferPool::new(PoolConfig::new());
        let msg = ChatMessage {
            content: "a compressible message body ".repeat(8),
            ..chat()
        };
        // Frames are encoded into pooled buffers (a pool of their own: decompression uses the
        // global one) and handed over as `Bytes` (one refcount block each, as for any
        // `Bytes::from_owner`), so they are encoded outside the count.
        let frames: Vec<_> = (0..MESSAGES)
            .map(|_| {
                let mut buf = frames_pool.take();
                stack.encode_into(&msg, &mut buf).unwrap();
                buf.into_bytes()
            })
            .collect();
        let header = zerocodec::frame::FrameHeader::parse(&frames[0]).unwrap();
        assert_ne!(header.compression, zerocodec::CompressionId::NONE);
        let round = |frame: &zerocodec::bytes::Bytes| {
            let view = stack.access_owned(frame.clone()).unwrap();
            check(&view, &msg);
        };
        round(&frames[0]); // warm-up: contexts and pooled buffers exist
        let ((), allocs, _) = counted(|| frames.iter().for_each(round));
        assert_eq!(
            allocs,
            access_allocs * MESSAGES as u64,
            "allocations for {MESSAGES} decompress + validate"
        );

        // Encoding into a reused buffer allocates nothing either.
        let mut out = Vec::with_capacity(4096);
        stack.encode_into(&msg, &mut out).unwrap();
        let ((), allocs, _) = counted(|| {
            for _ in 0..MESSAGES {
                out.clear();
                stack.encode_into(&msg, &mut out).unwrap();
            }
        });
        assert_eq!(allocs, 0, "allocations for {MESSAGES} compressed encodes");
    }
    // The hybrid decompresses into a buffer from the global pool and keeps it in the owned
    // archive: nothing is allocated.
    let lz4_policy = Policy::new().with_min_size(0);
    steady_state(
        HybridCodec::<ChatMessage>::new()
            .with_compression(Compression::Lz4)
            .with_policy(lz4_policy),
        0,
    );
    steady_state(
        HybridCodec::<ChatMessage>::new().with_compression(Compression::Zstd(3)),
        0,
    );
    // The same frame layer around a plain rkyv codec: `Compressed` decompresses into a pooled
    // buffer too, but hands it to the inner codec through `Access::access_owned`, which takes
    // `Bytes`, so `PooledBuf::into_bytes` allocates one reference count block per frame.
    steady_state(
        Compressed::new(RkyvCodec::new(), Compression::Lz4).with_policy(lz4_policy),
        1,
    );
    steady_state(Compressed::new(RkyvCodec::new(), Compression::Zstd(3)), 1);
}
