//! BufferPool under concurrency, and the pooled paths of the codecs and owned archives.

mod common;

use std::collections::HashSet;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;

use common::chat;
use zerocodec::archive::DEFAULT_MAX_DEPTH;
use zerocodec::bytes::Bytes;
use zerocodec::prelude::*;
use zerocodec::{ARCHIVE_ALIGN, BufferPool, EncodeBuf, OwnedArchive, PoolConfig};
use zerocodec_codecs::{JsonCodec, RkyvCodec};
use zerocodec_datasets::ChatMessage;

const THREADS: usize = 4;
const ITERATIONS: usize = 2_000;
/// Bytes in flight between the workers and the collector.
const CHANNEL: usize = 8;
/// The most buffers out at once: two per worker, the channel, one in the collector.
const MAX_OUTSTANDING: usize = THREADS * 2 + CHANNEL + 1;
const TAG_LEN: usize = 16;
const RETAIN: usize = 4096;

/// The addresses of the buffers currently held, to prove no buffer has two holders.
struct Holders(Mutex<HashSet<usize>>);

impl Holders {
    fn claim(&self, ptr: *const u8) {
        let fresh = self.0.lock().unwrap().insert(ptr as usize);
        assert!(fresh, "buffer at {ptr:p} handed to two holders at once");
    }
    fn release(&self, ptr: *const u8) {
        let held = self.0.lock().unwrap().remove(&(ptr as usize));
        assert!(held, "buffer at {ptr:p} released but not held");
    }
}

fn message(thread: usize, i: usize) -> ChatMessage {
    ChatMessage {
        id: format!("msg-{thread}-{i}"),
        content: format!("message {i} from thread {thread}: {}", "x".repeat(i % 64)),
        timestamp: (thread * ITERATIONS + i) as u64,
        ..chat()
    }
}

/// 16 bytes unique to (thread, iteration), written first into a buffer and checked later.
fn tag(thread: usize, i: usize) -> [u8; TAG_LEN] {
    let mut tag = [0u8; TAG_LEN];
    tag[..8].copy_from_slice(&(thread as u64).to_le_bytes());
    tag[8..].copy_from_slice(&(i as u64).to_le_bytes());
    tag
}

fn assert_same(view: &zerocodec_datasets::ArchivedChatMessage, msg: &ChatMessage) {
    assert_eq!(view.id, msg.id);
    assert_eq!(view.content, msg.content);
    assert_eq!(view.timestamp, msg.timestamp);
    assert_eq!(view.room_id, msg.room_id);
}

#[test]
fn threads_share_a_pool_and_codecs_without_ever_sharing_a_buffer() {
    let pool = BufferPool::new(
        PoolConfig::new()
            .max_buffers(MAX_OUTSTANDING)
            .initial_capacity(1024)
            .max_retained_capacity(RETAIN),
    );
    let rkyv = &RkyvCodec::<ChatMessage>::new();
    let json = &JsonCodec::<ChatMessage>::new();
    let holders = &Holders(Mutex::new(HashSet::new()));
    let grown = &AtomicU64::new(0);
    let received = &AtomicU64::new(0);
    let (tx, rx) = mpsc::sync_channel::<(Bytes, ChatMessage, [u8; TAG_LEN])>(CHANNEL);

    std::thread::scope(|s| {
        // The collector holds the last clone of each `Bytes`: dropping it returns the buffer.
        s.spawn(move || {
            for (bytes, msg, tag) in rx {
                assert_eq!(bytes[..TAG_LEN], tag);
                assert_same(rkyv.access(&bytes[TAG_LEN..]).unwrap(), &msg);
                holders.release(bytes.as_ptr());
                drop(bytes);
                received.fetch_add(1, Ordering::Relaxed);
            }
        });
        for thread in 0..THREADS {
            let tx = tx.clone();
            let pool = &pool;
            s.spawn(move || {
                for i in 0..ITERATIONS {
                    let msg = message(thread, i);
                    let tag = tag(thread, i);

                    let mut a = pool.take();
                    assert!(a.is_empty(), "a reused buffer arrives cleared");
                    assert_eq!(a.as_ptr() as usize % ARCHIVE_ALIGN, 0);
                    holders.claim(a.as_ptr());
                    a.extend_from_slice(&tag);
                    rkyv.encode_into(&msg, &mut a).unwrap();

                    let mut b = pool.take();
                    assert!(b.is_empty());
                    holders.claim(b.as_ptr());
                    json.encode_into(&msg, &mut b).unwrap();

                    std::thread::yield_now();

                    // Nobody else wrote into either buffer meanwhile.
                    assert_eq!(a[..TAG_LEN], tag);
                    let view = rkyv.access(&a[TAG_LEN..]).unwrap();
                    assert_same(view, &msg);
                    assert_eq!(rkyv.decode(&a[TAG_LEN..]).unwrap(), msg);
                    assert_eq!(json.decode(&b).unwrap(), msg);

                    // Every fourth buffer outgrows the retention cap and is freed on return.
                    if i % 4 == 1 {
                        holders.release(b.as_ptr()); // growing moves it
                        b.resize_zeroed(RETAIN * 2);
                        grown.fetch_add(1, Ordering::Relaxed);
                    } else {
                        holders.release(b.as_ptr());
                    }
                    drop(b);

                    // The default `encode` allocates its own buffer; `encode_pooled` takes
                    // one from the global pool, concurrently too.
                    let owned = rkyv.encode(&msg).unwrap();
                    assert_same(rkyv.access(&owned).unwrap(), &msg);
                    let pooled = rkyv.encode_pooled(&msg, BufferPool::global()).unwrap();
                    assert_same(rkyv.access(&pooled).unwrap(), &msg);

                    // Every other encoding leaves as `Bytes` for the collector to drop.
                    if i % 2 == 0 {
                        let bytes = a.into_bytes();
                        assert_eq!(bytes.as_ptr() as usize % ARCHIVE_ALIGN, 0);
                        tx.send((bytes, msg, tag)).unwrap();
                    } else {
                        holders.release(a.as_ptr());
                        drop(a);
                    }
                }
            });
        }
        drop(tx);
    });

    let taken = (THREADS * ITERATIONS * 2) as u64;
    let stats = pool.stats();
    assert_eq!(
        received.load(Ordering::Relaxed),
        (THREADS * ITERATIONS / 2) as u64
    );
    assert!(holders.0.lock().unwrap().is_empty());
    assert_eq!(stats.hits + stats.misses, taken, "{stats:?}");
    assert_eq!(stats.returned + stats.dropped, taken, "{stats:?}");
    assert_eq!(stats.outstanding(), 0);
    assert_eq!(stats.idle as u64, stats.returned - stats.hits, "{stats:?}");
    // The pool never filled up, so the only drops are the grown buffers...
    assert_eq!(stats.dropped, grown.load(Ordering::Relaxed), "{stats:?}");
    // ...and every buffer ever allocated was either dropped or is idle now.
    assert_eq!(stats.misses, stats.dropped + stats.idle as u64, "{stats:?}");
    assert!(stats.idle <= MAX_OUTSTANDING, "{stats:?}");
}

#[test]
fn default_encode_returns_aligned_bytes_that_decode() {
    let codec = RkyvCodec::new();
    let json_codec = JsonCodec::new();
    for i in 0..100 {
        let msg = message(9, i);
        let bytes = codec.encode(&msg).unwrap();
        assert_eq!(bytes.as_ptr() as usize % ARCHIVE_ALIGN, 0);
        assert_same(codec.access(&bytes).unwrap(), &msg);
        let json = json_codec.encode(&msg).unwrap();
        assert_eq!(json_codec.decode(&json).unwrap(), msg);
    }
}

#[test]
fn owned_archives_keep_pooled_buffers_and_return_them() {
    let pool = BufferPool::new(PoolConfig::new());
    let codec = RkyvCodec::new();
    let msg = chat();
    let mut buf = pool.take();
    codec.encode_into(&msg, &mut buf).unwrap();
    let owned = OwnedArchive::<ChatMessage>::from_pooled(buf, DEFAULT_MAX_DEPTH).unwrap();
    // Pooled, not shared: the buffer stays out of the pool while the archive lives.
    assert!(!owned.is_shared());
    assert_eq!(pool.stats().outstanding(), 1);
    let copy = owned.clone();
    assert!(!copy.is_shared());
    assert_ne!(copy.as_bytes().as_ptr(), owned.as_bytes().as_ptr());
    assert_same(&copy, &msg);
    assert_eq!(
        pool.stats().outstanding(),
        2,
        "the clone took a second buffer"
    );
    drop((owned, copy));
    let stats = pool.stats();
    assert_eq!((stats.outstanding(), stats.idle), (0, 2));

    // A range inside a pooled buffer (as aligned `Bytes`, shared, keeping the buffer out),
    // and an empty pooled buffer, where the archive is not there.
    let mut buf = pool.take();
    buf.extend_from_slice(&[0u8; 16]);
    codec.encode_into(&msg, &mut buf).unwrap();
    let len = buf.len();
    let owned = OwnedArchive::<ChatMessage>::from_bytes(buf.into_bytes().slice(16..len)).unwrap();
    assert!(owned.is_shared());
    assert_eq!(owned.deserialize().unwrap(), msg);
    let err = OwnedArchive::<ChatMessage>::from_pooled(pool.take(), DEFAULT_MAX_DEPTH).unwrap_err();
    assert!(err.is_incomplete(), "{err}");

    // Bad bytes in a pooled buffer are a typed error, and the buffer still goes back.
    let before = pool.stats().returned;
    let mut buf = pool.take();
    buf.extend_from_slice(&[0xFF; 8]);
    let err = OwnedArchive::<ChatMessage>::from_pooled(buf, DEFAULT_MAX_DEPTH).unwrap_err();
    assert!(err.is_incomplete(), "{err}");
    assert_eq!(pool.stats().returned, before + 1);
    assert_eq!(pool.stats().outstanding(), 1, "only `owned` is still out");
    drop(owned);
}

#[test]
fn a_guard_is_an_encode_buf_for_every_codec() {
    fn encode_with<C: Encode<Item = ChatMessage>>(codec: &C, pool: &BufferPool) -> Bytes {
        let mut buf = pool.take();
        buf.extend_from_slice(b"0123456789abcdef");
        codec.encode_into(&chat(), &mut buf).unwrap();
        assert!(EncodeBuf::len(&buf) > 16);
        buf.into_bytes().slice(16..)
    }
    let pool = BufferPool::default();
    let rkyv = RkyvCodec::new();
    let r = encode_with(&rkyv, &pool);
    assert_eq!(rkyv.decode(&r).unwrap(), chat());
    let json = JsonCodec::new();
    let j = encode_with(&json, &pool);
    assert_eq!(json.decode(&j).unwrap(), chat());
    assert_eq!(pool.stats().outstanding(), 2);
    drop((r, j));
    assert_eq!(pool.stats().returned, 2);
}
