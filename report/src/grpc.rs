//! gRPC through tonic: zerocodec-tonic against tonic-prost on the same calls (issue 19).
//!
//! Two levels, both on the workspace's seeded chat messages and log dataset, prost's messages
//! holding the same fields:
//!
//! - **the codec level**, per chat message: prost's decode against our decode, in-place
//!   access, and `access_owned` on shared and on unaligned `Bytes` (tonic's usual case), plus
//!   both encodes and the encoded sizes (prost's alone, under zstd-3 as tonic's zstd writes
//!   it, our frame, our frame compressed with a dictionary trained on other messages);
//! - **calls over tonic** on 127.0.0.1, client and server in this process (a tokio runtime of
//!   2 worker threads): unary `post` (a chat message in, a small ack out; our server reads the
//!   request in place), a 10,000-message server stream of chat messages and one of log lines
//!   (our client reads each message in place, or into owned values): calls or messages per
//!   second, p50 and p99 latency (per call; per whole stream for the streams), heap
//!   allocations per call or message (client and server together, counted on calls of their
//!   own after the timed ones, so the counting never enters a timing), bytes on the wire per
//!   call or message (both directions on the server's socket: HTTP/2 framing and headers
//!   included), and how many archived views shared tonic's buffer.
//!
//! Variants: ours read as archived views, ours read into owned values, ours with a zstd
//! dictionary, ours under tonic's zstd, bare rkyv archives with no zerocodec frame read in
//! place (the reference: what any rkyv codec reaches inside tonic), prost, prost under tonic's
//! zstd. Each gets a server
//! and a client of its own. Within a round the timed calls run in blocks (20 unary calls, or
//! one stream), the blocks of a group of variants in turn ([`Variant::GROUPS`]: ours with
//! prost, ours under tonic's zstd with prost under it), so that load from elsewhere on a
//! shared machine falls on the variants compared alike; a rate is the median round's, and a
//! ratio against prost is the median of the rounds' ratios.

mod service;

use std::fmt::{self, Write as _};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use bytes::Bytes;
use prost::Message as _;
use serde_json::json;
use tonic::codec::CompressionEncoding;
use tonic::codegen::http;
use tonic::{Request, Streaming};
use tonic_prost::ProstCodec;
use zerocodec::prelude::*;
use zerocodec_codecs::{Compression, HybridCodec, Policy, RkyvCodec, ZstdDictionary};
use zerocodec_datasets::ChatMessage;
use zerocodec_tonic::FrameOptions;

use self::service::{
    BenchClient, BenchServer, Data, LogLine, Ours, PChat, PLog, PStreamRequest, ProstServer,
    RawServer, Sharing, StreamRequest, channel, serve,
};
use crate::alloc::Usage;
use crate::output::{fmt_int, fmt_ns};
use crate::targets::{Kind, Targets, Unit};

/// How much to measure.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Settings {
    /// Rounds over all variants.
    pub(crate) rounds: usize,
    /// Sequential unary calls per variant and round (after 50 untimed ones).
    pub(crate) unary_calls: usize,
    /// Calls of a stream per variant and round (after one untimed call).
    pub(crate) streams: usize,
    /// The same for the variants under tonic's zstd, whose streams take a hundred times
    /// longer (tonic compresses each message with a new zstd context).
    pub(crate) slow_streams: usize,
    /// Messages per stream.
    pub(crate) stream_len: u32,
    /// Passes over the 1,000 messages at the codec level (the median pass counts).
    pub(crate) codec_passes: usize,
}

impl Settings {
    /// The quick report's settings (CI's).
    pub(crate) const QUICK: Settings = Settings {
        rounds: 5,
        unary_calls: 300,
        streams: 5,
        slow_streams: 1,
        stream_len: 10_000,
        codec_passes: 7,
    };

    /// `--full`.
    pub(crate) const FULL: Settings = Settings {
        rounds: 7,
        unary_calls: 1_000,
        streams: 10,
        slow_streams: 2,
        stream_len: 10_000,
        codec_passes: 21,
    };
}

/// Nanoseconds per chat message at the codec level, and mean encoded sizes.
#[derive(Debug, Clone, Default)]
pub(crate) struct CodecLevel {
    pub(crate) prost_decode: f64,
    pub(crate) ours_decode: f64,
    pub(crate) ours_access: f64,
    pub(crate) ours_access_shared: f64,
    pub(crate) ours_access_copied: f64,
    pub(crate) prost_encode: f64,
    pub(crate) ours_encode: f64,
    /// A clone of the message and its drop, ours and prost's: what the benchmark's servers
    /// do to each message they stream out of their data.
    pub(crate) ours_clone: f64,
    pub(crate) prost_clone: f64,
    /// Mean bytes per message: prost's encoding.
    pub(crate) prost_bytes: f64,
    /// prost's encoding under zstd-3 (what tonic's zstd does to one message).
    pub(crate) prost_zstd_bytes: f64,
    /// Our hybrid frame.
    pub(crate) frame_bytes: f64,
    /// Our hybrid frame compressed with zstd and a dictionary trained on other messages.
    pub(crate) dict_frame_bytes: f64,
}

/// What one variant did in one scenario, over all rounds.
#[derive(Debug, Clone, Default)]
pub(crate) struct Row {
    pub(crate) scenario: &'static str,
    pub(crate) variant: &'static str,
    /// Calls (unary) or messages (streams) per second, one per round.
    pub(crate) rates: Vec<f64>,
    /// This row's rate over prost's, per round; empty for prost's own rows.
    pub(crate) vs_prost: Vec<f64>,
    /// Per call (a whole stream, for streams), over all rounds.
    pub(crate) latencies: Vec<Duration>,
    /// Heap allocations per call (unary) or message (streams), client and server together.
    pub(crate) allocations: f64,
    /// Bytes on the server's socket, both ways, per call or message.
    pub(crate) wire: f64,
    /// CPU time of client and server together per call or message, in ns (the median
    /// round's); `None` where the platform does not say (not Linux).
    pub(crate) cpu: Option<f64>,
    /// Archived views that shared tonic's buffer, and that were copied once; `None` for
    /// variants that read no archived views.
    pub(crate) sharing: Option<(u64, u64)>,
}

impl Row {
    /// The median round's rate.
    pub(crate) fn rate(&self) -> f64 {
        median(&self.rates)
    }

    /// The median of the rounds' ratios against prost (NaN for prost's rows).
    pub(crate) fn vs_prost(&self) -> f64 {
        if self.vs_prost.is_empty() {
            f64::NAN
        } else {
            median(&self.vs_prost)
        }
    }

    /// The `p` quantile of the latencies.
    pub(crate) fn latency(&self, p: f64) -> Duration {
        let mut sorted = self.latencies.clone();
        sorted.sort_unstable();
        let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
        sorted.get(i).copied().unwrap_or_default()
    }
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted.get(sorted.len() / 2).copied().unwrap_or(f64::NAN)
}

/// The whole gRPC measurement.
#[derive(Debug, Clone)]
pub(crate) struct GrpcResult {
    pub(crate) settings: Settings,
    pub(crate) codec: CodecLevel,
    pub(crate) rows: Vec<Row>,
}

impl GrpcResult {
    fn row(&self, scenario: Scenario, variant: Variant) -> Result<&Row, String> {
        self.rows
            .iter()
            .find(|r| r.scenario == scenario.name() && r.variant == variant.name())
            .ok_or_else(|| format!("no {} row for {}", scenario.name(), variant.name()))
    }
}

// ---- the codec level ------------------------------------------------------------------------

/// Nanoseconds per item of `f` over `items`, the median of `passes` passes.
fn per_item<T>(items: &[T], passes: usize, mut f: impl FnMut(&T) -> usize) -> f64 {
    let mut times = Vec::with_capacity(passes);
    let mut sink = 0usize;
    for _ in 0..passes {
        let start = Instant::now();
        for item in items {
            sink = sink.wrapping_add(f(item));
        }
        times.push(start.elapsed().as_nanos() as f64 / items.len() as f64);
    }
    std::hint::black_box(sink);
    median(&times)
}

fn mean(lens: impl Iterator<Item = usize>) -> f64 {
    let (n, sum) = lens.fold((0usize, 0usize), |(n, s), l| (n + 1, s + l));
    sum as f64 / n as f64
}

/// Per chat message, prost's codec and ours. The timed closures unwrap: every input is
/// checked to decode to what was encoded before any timing starts.
fn codec_level(
    data: &Data,
    chat_dictionary: &FrameOptions,
    passes: usize,
) -> Result<CodecLevel, String> {
    fn failed(what: &'static str) -> impl Fn(zerocodec::Error) -> String {
        move |err| format!("codec level: {what}: {err}")
    }
    let hybrid = HybridCodec::<ChatMessage>::new();
    let frames: Vec<Bytes> = data
        .chats
        .iter()
        .map(|m| hybrid.encode(m))
        .collect::<Result<_, _>>()
        .map_err(failed("encoding a chat message"))?;
    // As on tonic's buffers: after a 5-byte prefix, so not 16-byte aligned.
    let unaligned: Vec<Bytes> = frames
        .iter()
        .map(|f| {
            let mut buf = Vec::with_capacity(f.len() + 5);
            buf.extend_from_slice(&[0; 5]);
            buf.extend_from_slice(f);
            Bytes::from(buf).slice(5..)
        })
        .collect();
    let protos: Vec<Vec<u8>> = data.p_chats.iter().map(|m| m.encode_to_vec()).collect();
    let dictionary = chat_dictionary.hybrid::<ChatMessage>();
    let dict_frames: Vec<Bytes> = data
        .chats
        .iter()
        .map(|m| dictionary.encode(m))
        .collect::<Result<_, _>>()
        .map_err(failed("encoding a chat message with the dictionary"))?;
    for ((frame, dict_frame), chat) in frames.iter().zip(&dict_frames).zip(&data.chats) {
        let decoded = hybrid.decode(frame).map_err(failed("decoding a frame"))?;
        expect("a decoded chat message", &decoded, chat)?;
        let decoded = dictionary
            .decode(dict_frame)
            .map_err(failed("decoding a dictionary-compressed frame"))?;
        expect("a decoded chat message", &decoded, chat)?;
    }
    for (proto, chat) in protos.iter().zip(&data.p_chats) {
        let decoded = PChat::decode(&proto[..])
            .map_err(|err| format!("codec level: prost cannot decode its own encoding: {err}"))?;
        expect("a prost-decoded chat message", &decoded, chat)?;
    }
    let prost_zstd: Vec<usize> = protos
        .iter()
        .map(|p| zstd::bulk::compress(p, 3).map(|z| z.len()))
        .collect::<Result<_, _>>()
        .map_err(|err| format!("codec level: zstd cannot compress prost's encoding: {err}"))?;

    let prost_decode = per_item(&protos, passes, |p| {
        PChat::decode(&p[..]).unwrap().content.len()
    });
    let ours_decode = per_item(&frames, passes, |f| hybrid.decode(f).unwrap().content.len());
    let ours_access = per_item(&frames, passes, |f| hybrid.access(f).unwrap().content.len());
    let ours_access_shared = per_item(&frames, passes, |f| {
        hybrid.access_owned(f.clone()).unwrap().content.len()
    });
    let ours_access_copied = per_item(&unaligned, passes, |f| {
        hybrid.access_owned(f.clone()).unwrap().content.len()
    });
    let mut out = Vec::with_capacity(512);
    let prost_encode = per_item(&data.p_chats, passes, |m| {
        out.clear();
        m.encode(&mut out).unwrap();
        out.len()
    });
    let mut aligned = zerocodec::rkyv::util::AlignedVec::<16>::with_capacity(512);
    let ours_encode = per_item(&data.chats, passes, |m| {
        aligned.clear();
        hybrid.encode_into(m, &mut aligned).unwrap();
        aligned.len()
    });
    let ours_clone = per_item(&data.chats, passes, |m| m.clone().content.len());
    let prost_clone = per_item(&data.p_chats, passes, |m| m.clone().content.len());
    Ok(CodecLevel {
        ours_clone,
        prost_clone,
        prost_decode,
        ours_decode,
        ours_access,
        ours_access_shared,
        ours_access_copied,
        prost_encode,
        ours_encode,
        prost_bytes: mean(protos.iter().map(Vec::len)),
        prost_zstd_bytes: mean(prost_zstd.into_iter()),
        frame_bytes: mean(frames.iter().map(Bytes::len)),
        dict_frame_bytes: mean(dict_frames.iter().map(Bytes::len)),
    })
}

// ---- calls over tonic -----------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq)]
enum Variant {
    Ours,
    OursOwned,
    OursDictionary,
    OursTonicZstd,
    /// The reference: bare rkyv archives (no zerocodec frame), read in place as ours are.
    RawRkyv,
    Prost,
    ProstTonicZstd,
}

impl Variant {
    const ALL: [Variant; 7] = [
        Variant::Ours,
        Variant::OursOwned,
        Variant::OursDictionary,
        Variant::OursTonicZstd,
        Variant::RawRkyv,
        Variant::Prost,
        Variant::ProstTonicZstd,
    ];

    /// How they run within a round: the groups one after the other, and within a group the
    /// timed calls in blocks, the variants' blocks in turn, so that each of ours and the prost
    /// variant it is compared with see the same load. The variants under tonic's zstd run
    /// apart: tonic creates a zstd context per message, and what that does to the allocator
    /// slowed whichever variant came next (interleaved with them, the chat stream's ratio fell
    /// from about 1.25x to 1.0x). Each variant's untimed calls run just before its group's.
    const GROUPS: [&'static [Variant]; 3] = [
        &[
            Variant::Ours,
            Variant::Prost,
            Variant::OursOwned,
            Variant::RawRkyv,
        ],
        &[Variant::OursDictionary],
        &[Variant::OursTonicZstd, Variant::ProstTonicZstd],
    ];

    fn name(self) -> &'static str {
        match self {
            Variant::Ours => "zerocodec (archived)",
            Variant::OursOwned => "zerocodec (owned)",
            Variant::OursDictionary => "zerocodec + dictionary",
            Variant::OursTonicZstd => "zerocodec + tonic zstd",
            Variant::RawRkyv => "raw rkyv, no frame (reference)",
            Variant::Prost => "prost",
            Variant::ProstTonicZstd => "prost + tonic zstd",
        }
    }

    /// The prost variant this one is compared with (the same compression or none).
    fn peer(self) -> Option<Variant> {
        match self {
            Variant::Prost | Variant::ProstTonicZstd => None,
            Variant::OursTonicZstd => Some(Variant::ProstTonicZstd),
            _ => Some(Variant::Prost),
        }
    }

    /// A variant served and called through zerocodec-tonic's `service!` (hybrid frames).
    fn ours(self) -> bool {
        !matches!(
            self,
            Variant::RawRkyv | Variant::Prost | Variant::ProstTonicZstd
        )
    }

    /// A variant whose client (and, for unary calls, server) reads archived views.
    fn archived(self) -> bool {
        matches!(self, Variant::Ours | Variant::RawRkyv)
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Scenario {
    Unary,
    Chats,
    Logs,
}

impl Scenario {
    const ALL: [Scenario; 3] = [Scenario::Unary, Scenario::Chats, Scenario::Logs];

    fn name(self) -> &'static str {
        match self {
            Scenario::Unary => "unary post (chat)",
            Scenario::Chats => "stream: chat",
            Scenario::Logs => "stream: log",
        }
    }
}

/// Frame options whose writer compresses with a dictionary trained on `samples`.
fn with_dictionary<T>(samples: &[T]) -> Result<FrameOptions, String>
where
    RkyvCodec<T>: Encode<Item = T>,
{
    let failed = |err: zerocodec::Error| format!("cannot train a zstd dictionary: {err}");
    let dictionary = ZstdDictionary::train_with(&RkyvCodec::new(), samples, 8 << 10);
    let compression = Compression::zstd_dict(dictionary.map_err(failed)?, 3).map_err(failed)?;
    Ok(FrameOptions::new()
        .with_compression(compression)
        .with_policy(Policy::new().with_min_size(16)))
}

/// A call's future: it returns how many messages it moved, or what went wrong (a status, a
/// broken transport, a reply that is not the one expected).
type CallFuture = Pin<Box<dyn Future<Output = Result<usize, String>>>>;

/// One variant's call, by index.
type Call = Box<dyn FnMut(usize) -> CallFuture>;

fn boxed<F, Fut>(mut f: F) -> Call
where
    F: FnMut(usize) -> Fut + 'static,
    Fut: Future<Output = Result<usize, String>> + 'static,
{
    Box::new(move |i| Box::pin(f(i)))
}

/// One variant in one scenario: its server and client, its call, and what its calls of
/// this round did.
struct Bench {
    variant: Variant,
    call: Call,
    /// Bytes on the server's socket, both ways.
    bytes: Arc<AtomicU64>,
    sharing: Arc<Sharing>,
    task: tokio::task::JoinHandle<()>,
    /// Untimed, timed and allocation-counted calls per round.
    calls: (usize, usize, usize),
    /// Timed calls per block: the timed calls run in blocks, the variants' blocks in turn.
    block: usize,
    /// Whether its client reads archived views.
    archived: bool,
    moved: usize,
    total: Duration,
    latencies: Vec<Duration>,
    wire: u64,
    cpu: Option<u64>,
}

/// CPU time so far of all of this process's threads (user and system), in ns: the sum of
/// the first field of each `/proc/self/task/*/schedstat` (Linux; `None` elsewhere). The
/// threads are the tokio workers that run both servers and clients, and this one.
fn cpu_ns() -> Option<u64> {
    let mut total = 0u64;
    for task in std::fs::read_dir("/proc/self/task").ok()? {
        let stat = std::fs::read_to_string(task.ok()?.path().join("schedstat")).ok()?;
        total += stat.split_whitespace().next()?.parse::<u64>().ok()?;
    }
    Some(total)
}

/// One variant's server and client in one scenario, and its call.
async fn bench(
    data: &Arc<Data>,
    dictionaries: &(FrameOptions, FrameOptions),
    scenario: Scenario,
    variant: Variant,
    settings: Settings,
) -> Result<Bench, String> {
    let data = Arc::clone(data);
    let sharing = Arc::new(Sharing::default());
    let tonic_zstd = matches!(variant, Variant::OursTonicZstd | Variant::ProstTonicZstd);
    let frames = match (variant, scenario) {
        (Variant::OursDictionary, Scenario::Logs) => dictionaries.1.clone(),
        (Variant::OursDictionary, _) => dictionaries.0.clone(),
        _ => FrameOptions::new(),
    };
    let owned = variant == Variant::OursOwned;
    let stream_len = settings.stream_len;
    let builder = tonic::transport::Server::builder();
    let router = if variant == Variant::RawRkyv {
        builder.clone().add_service(RawServer {
            data: data.clone(),
            sharing: sharing.clone(),
        })
    } else if variant.ours() {
        let mut server = BenchServer::new(Ours {
            data: data.clone(),
            sharing: sharing.clone(),
        })
        .with_frames(frames.clone());
        if tonic_zstd {
            server = server
                .accept_compressed(CompressionEncoding::Zstd)
                .send_compressed(CompressionEncoding::Zstd);
        }
        builder.clone().add_service(server)
    } else {
        builder.clone().add_service(ProstServer {
            data: data.clone(),
            compress: tonic_zstd,
        })
    };
    let (addr, bytes, task) = serve(router).await?;
    let channel = channel(addr).await?;
    let unary = (50, settings.unary_calls, 50);
    // Under tonic's zstd a stream takes long enough to need no untimed one before it.
    let streams = match tonic_zstd {
        true => (0, settings.slow_streams, 1),
        false => (1, settings.streams, 1),
    };
    let call = if variant.ours() {
        let mut client = BenchClient::new(channel).with_frames(frames);
        if tonic_zstd {
            client = client
                .send_compressed(CompressionEncoding::Zstd)
                .accept_compressed(CompressionEncoding::Zstd);
        }
        let client_sharing = sharing.clone();
        match scenario {
            Scenario::Unary => boxed(move |i| {
                let mut client = client.clone();
                let chat = data.chats[i % data.chats.len()].clone();
                async move {
                    let expected = chat.content.len() as u64;
                    let ack = match owned {
                        true => client.post_owned(chat).await,
                        false => client.post(chat).await,
                    };
                    let ack = ack.map_err(failed("post"))?.into_inner();
                    expect("post's ack", ack.len, expected)?;
                    Ok(1)
                }
            }),
            Scenario::Chats => boxed(move |_| {
                let mut client = client.clone();
                let sharing = client_sharing.clone();
                async move {
                    let request = StreamRequest { count: stream_len };
                    let n = if owned {
                        let stream = client.chats_owned(request).await;
                        let stream = stream.map_err(failed("chats"))?.into_inner();
                        drain(stream, |c: &ChatMessage| !c.content.is_empty()).await?
                    } else {
                        let stream = client.chats(request).await.map_err(failed("chats"))?;
                        let check =
                            |c: &zerocodec::OwnedArchive<ChatMessage>| !c.content.is_empty();
                        drain_archived(stream.into_inner(), &sharing, check).await?
                    };
                    expect("chat messages streamed", n, stream_len as usize)
                }
            }),
            Scenario::Logs => boxed(move |_| {
                let mut client = client.clone();
                let sharing = client_sharing.clone();
                async move {
                    let request = StreamRequest { count: stream_len };
                    let n = if owned {
                        let stream = client.logs_owned(request).await;
                        let stream = stream.map_err(failed("logs"))?.into_inner();
                        drain(stream, |l: &LogLine| !l.request.is_empty()).await?
                    } else {
                        let stream = client.logs(request).await.map_err(failed("logs"))?;
                        let check = |l: &zerocodec::OwnedArchive<LogLine>| !l.request.is_empty();
                        drain_archived(stream.into_inner(), &sharing, check).await?
                    };
                    expect("log lines streamed", n, stream_len as usize)
                }
            }),
        }
    } else if variant == Variant::RawRkyv {
        raw_call(
            scenario,
            tonic::client::Grpc::new(channel),
            data,
            &sharing,
            stream_len,
        )
    } else {
        let mut grpc = tonic::client::Grpc::new(channel);
        if tonic_zstd {
            grpc = grpc
                .send_compressed(CompressionEncoding::Zstd)
                .accept_compressed(CompressionEncoding::Zstd);
        }
        match scenario {
            Scenario::Unary => boxed(move |i| {
                let mut grpc = grpc.clone();
                let chat = data.p_chats[i % data.p_chats.len()].clone();
                async move {
                    let expected = chat.content.len() as u64;
                    grpc.ready().await.map_err(not_ready)?;
                    let path = http::uri::PathAndQuery::from_static("/bench.Prost/post");
                    let codec = ProstCodec::<PChat, service::PAck>::default();
                    let ack = grpc.unary(Request::new(chat), path, codec).await;
                    expect(
                        "post's ack",
                        ack.map_err(failed("post"))?.get_ref().len,
                        expected,
                    )?;
                    Ok(1)
                }
            }),
            Scenario::Chats | Scenario::Logs => {
                let chats = scenario == Scenario::Chats;
                boxed(move |_| {
                    let mut grpc = grpc.clone();
                    async move {
                        grpc.ready().await.map_err(not_ready)?;
                        let request = Request::new(PStreamRequest { count: stream_len });
                        let n = if chats {
                            let path = http::uri::PathAndQuery::from_static("/bench.Prost/chats");
                            let codec = ProstCodec::<PStreamRequest, PChat>::default();
                            let stream = grpc.server_streaming(request, path, codec).await;
                            let stream = stream.map_err(failed("chats"))?.into_inner();
                            drain(stream, |c: &PChat| !c.content.is_empty()).await?
                        } else {
                            let path = http::uri::PathAndQuery::from_static("/bench.Prost/logs");
                            let codec = ProstCodec::<PStreamRequest, PLog>::default();
                            let stream = grpc.server_streaming(request, path, codec).await;
                            let stream = stream.map_err(failed("logs"))?.into_inner();
                            drain(stream, |l: &PLog| !l.request.is_empty()).await?
                        };
                        expect("messages streamed", n, stream_len as usize)
                    }
                })
            }
        }
    };
    let (calls, block) = match scenario {
        Scenario::Unary => (unary, 20),
        _ => (streams, 1),
    };
    Ok(Bench {
        variant,
        call,
        bytes,
        sharing,
        task,
        calls,
        block,
        archived: variant.archived(),
        moved: 0,
        total: Duration::ZERO,
        latencies: Vec::new(),
        wire: 0,
        cpu: Some(0),
    })
}

/// The raw rkyv reference's call: the same calls as ours, each message a bare rkyv archive.
fn raw_call(
    scenario: Scenario,
    grpc: tonic::client::Grpc<tonic::transport::Channel>,
    data: Arc<Data>,
    sharing: &Arc<Sharing>,
    stream_len: u32,
) -> Call {
    let path = |method: &'static str| http::uri::PathAndQuery::from_static(method);
    match scenario {
        Scenario::Unary => boxed(move |i| {
            let mut grpc = grpc.clone();
            let chat = data.chats[i % data.chats.len()].clone();
            async move {
                let expected = chat.content.len() as u64;
                grpc.ready().await.map_err(not_ready)?;
                let codec = service::raw::<ChatMessage, service::Ack>();
                let ack = grpc
                    .unary(Request::new(chat), path("/bench.Raw/post"), codec)
                    .await;
                let len = ack.map_err(failed("post"))?.get_ref().len;
                expect("post's ack", len, expected)?;
                Ok(1)
            }
        }),
        Scenario::Chats => {
            let check = |c: &zerocodec::OwnedArchive<ChatMessage>| !c.content.is_empty();
            raw_stream(grpc, sharing, stream_len, "/bench.Raw/chats", check)
        }
        Scenario::Logs => {
            let check = |l: &zerocodec::OwnedArchive<LogLine>| !l.request.is_empty();
            raw_stream(grpc, sharing, stream_len, "/bench.Raw/logs", check)
        }
    }
}

/// The raw rkyv reference's server stream of `T`s at `method`, read in place and checked.
fn raw_stream<T>(
    grpc: tonic::client::Grpc<tonic::transport::Channel>,
    sharing: &Arc<Sharing>,
    stream_len: u32,
    method: &'static str,
    check: fn(&zerocodec::OwnedArchive<T>) -> bool,
) -> Call
where
    T: zerocodec::ZeroCopy + Send + 'static,
    T::Archived: Send + Sync,
    RkyvCodec<T>: Access<Item = T> + Clone + Send + 'static,
{
    let sharing = sharing.clone();
    boxed(move |_| {
        let mut grpc = grpc.clone();
        let sharing = sharing.clone();
        async move {
            grpc.ready().await.map_err(not_ready)?;
            let request = Request::new(StreamRequest { count: stream_len });
            let codec = service::raw_archived::<StreamRequest, T>();
            let path = http::uri::PathAndQuery::from_static(method);
            let stream = grpc
                .server_streaming(request, path, codec)
                .await
                .map_err(failed(method))?;
            let n = drain_archived(stream.into_inner(), &sharing, check).await?;
            expect("messages streamed", n, stream_len as usize)
        }
    })
}

/// A call's error: which call, and tonic's status (its code and message).
fn failed(call: &'static str) -> impl Fn(tonic::Status) -> String {
    move |status| format!("the {call} call failed: {status}")
}

fn not_ready(err: tonic::transport::Error) -> String {
    format!("the prost client's channel is not ready: {err}")
}

/// `Ok(got)` when it is what was expected, else an error naming `what`.
fn expect<T: PartialEq + fmt::Debug>(what: &str, got: T, expected: T) -> Result<T, String> {
    match got == expected {
        true => Ok(got),
        false => Err(format!("{what}: got {got:?}, expected {expected:?}")),
    }
}

/// Reads every message of `stream`, checking each, and returns how many there were.
async fn drain<T>(mut stream: Streaming<T>, check: fn(&T) -> bool) -> Result<usize, String> {
    let mut n = 0;
    while let Some(item) = stream
        .message()
        .await
        .map_err(failed("stream's next message"))?
    {
        if !check(&item) {
            return Err(format!("streamed message {n} is not one the server sent"));
        }
        n += 1;
    }
    Ok(n)
}

/// [`drain`] of a stream of archived views, counting which shared tonic's buffer.
async fn drain_archived<T: zerocodec::ZeroCopy>(
    mut stream: Streaming<zerocodec::OwnedArchive<T>>,
    sharing: &Sharing,
    check: fn(&zerocodec::OwnedArchive<T>) -> bool,
) -> Result<usize, String> {
    let mut n = 0;
    while let Some(item) = stream
        .message()
        .await
        .map_err(failed("stream's next message"))?
    {
        sharing.count(&item);
        if !check(&item) {
            return Err(format!("streamed message {n} is not one the server sent"));
        }
        n += 1;
    }
    Ok(n)
}

/// Measures the codec level and every scenario and variant.
pub(crate) fn measure_all(settings: Settings) -> Result<GrpcResult, String> {
    let data = Arc::new(Data::new());
    let dictionaries = (
        with_dictionary(&data.train_chats)?,
        with_dictionary(&data.train_logs)?,
    );
    let codec = codec_level(&data, &dictionaries.0, settings.codec_passes)?;

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start a tokio runtime: {e}"))?;
    let mut rows: Vec<Row> = Vec::new();
    for scenario in Scenario::ALL {
        for variant in Variant::ALL {
            rows.push(Row {
                scenario: scenario.name(),
                variant: variant.name(),
                ..Row::default()
            });
        }
    }
    let index = |scenario: Scenario, variant: Variant| {
        let s = Scenario::ALL
            .iter()
            .position(|&x| x == scenario)
            .unwrap_or(0);
        let v = Variant::ALL.iter().position(|&x| x == variant).unwrap_or(0);
        s * Variant::ALL.len() + v
    };
    let mut allocations = vec![Vec::new(); rows.len()];
    let mut wire = vec![Vec::new(); rows.len()];
    let mut cpu = vec![Vec::new(); rows.len()];
    for _ in 0..settings.rounds {
        for scenario in Scenario::ALL {
            for group in Variant::GROUPS {
                let mut benches: Vec<Bench> = group
                    .iter()
                    .map(|&v| runtime.block_on(bench(&data, &dictionaries, scenario, v, settings)))
                    .collect::<Result<_, String>>()?;
                for b in &mut benches {
                    for i in 0..b.calls.0 {
                        runtime.block_on((b.call)(i))?;
                    }
                    b.sharing.take();
                }
                // The timed calls in blocks (20 unary calls, or one stream), the variants' blocks
                // in turn, so that all of them see the same load.
                let blocks = benches
                    .iter()
                    .map(|b| b.calls.1.div_ceil(b.block))
                    .max()
                    .unwrap_or(0);
                for k in 0..blocks {
                    for b in &mut benches {
                        let calls = (k * b.block)..((k + 1) * b.block).min(b.calls.1);
                        if calls.is_empty() {
                            continue;
                        }
                        let bytes_before = b.bytes.load(Relaxed);
                        let cpu_before = cpu_ns();
                        let start = Instant::now();
                        let call = &mut b.call;
                        let latencies = &mut b.latencies;
                        b.moved += runtime.block_on(async {
                            let mut moved = 0;
                            for i in calls {
                                let t = Instant::now();
                                moved += call(i).await?;
                                latencies.push(t.elapsed());
                            }
                            Ok::<_, String>(moved)
                        })?;
                        b.total += start.elapsed();
                        b.cpu = b
                            .cpu
                            .zip(cpu_before)
                            .zip(cpu_ns())
                            .map(|((sum, before), after)| sum + after.saturating_sub(before));
                        b.wire += b.bytes.load(Relaxed) - bytes_before;
                    }
                }
                for mut b in benches {
                    let sharing = b.sharing.take();
                    // Allocations, on calls of their own: counting never enters a timing.
                    let calls = b.calls.2;
                    let call = &mut b.call;
                    let usage = Usage::start();
                    let counted = runtime.block_on(async {
                        let mut moved = 0;
                        for i in 0..calls {
                            moved += call(i).await?;
                        }
                        Ok::<_, String>(moved)
                    })?;
                    let allocated = Usage::since(usage).count as f64 / counted as f64;
                    b.task.abort();
                    let i = index(scenario, b.variant);
                    let row = &mut rows[i];
                    row.rates.push(b.moved as f64 / b.total.as_secs_f64());
                    row.latencies.extend(b.latencies);
                    allocations[i].push(allocated);
                    wire[i].push(b.wire as f64 / b.moved as f64);
                    cpu[i].extend(b.cpu.map(|ns| ns as f64 / b.moved as f64));
                    if b.archived {
                        let (s0, c0) = row.sharing.unwrap_or_default();
                        row.sharing = Some((s0 + sharing.0, c0 + sharing.1));
                    }
                }
            }
            // This round's ratios against prost, taken between figures of the round.
            for variant in Variant::ALL {
                if let Some(peer) = variant.peer() {
                    let ours = *rows[index(scenario, variant)].rates.last().unwrap_or(&0.0);
                    let theirs = *rows[index(scenario, peer)].rates.last().unwrap_or(&1.0);
                    rows[index(scenario, variant)].vs_prost.push(ours / theirs);
                }
            }
        }
    }
    for (i, row) in rows.iter_mut().enumerate() {
        row.allocations = median(&allocations[i]);
        row.wire = median(&wire[i]);
        row.cpu = (!cpu[i].is_empty()).then(|| median(&cpu[i]));
    }
    Ok(GrpcResult {
        settings,
        codec,
        rows,
    })
}

// ---- targets --------------------------------------------------------------------------------

/// Issue 19's targets, in the report's kinds: codec-level and call rates against prost are
/// time ratios of one run ([`Kind::TimeRatio`]: a miss decides only beyond the noise);
/// frame sizes are deterministic.
pub(crate) fn targets(r: &GrpcResult, t: &mut Targets) {
    let c = &r.codec;
    t.check(
        "grpc: chat access (in place) speedup over prost's decode, codec level".to_owned(),
        // The issue asks for decode or access; access is ours in place, the one measured.
        Ok(c.prost_decode / c.ours_access),
        3.0,
        Unit::Ratio,
        false,
        Kind::TimeRatio,
    );
    t.check(
        "grpc: chat access_owned on unaligned `Bytes` (tonic's usual case) speedup over \
         prost's decode, codec level"
            .to_owned(),
        Ok(c.prost_decode / c.ours_access_copied),
        3.0,
        Unit::Ratio,
        false,
        Kind::Advisory,
    );
    let ratio = |scenario, variant| r.row(scenario, variant).map(Row::vs_prost);
    t.check(
        "grpc: unary post calls/s, zerocodec (archived) / prost".to_owned(),
        ratio(Scenario::Unary, Variant::Ours),
        1.0,
        Unit::Ratio,
        false,
        Kind::TimeRatio,
    );
    // Streams: decided on messages per second, as the issue states the target; messages per
    // CPU-second is shown beside it (advisory): on the shared 2-core machine it moved more
    // between quick runs than the rate did.
    let cpu_ratio = |scenario| -> Result<f64, String> {
        let cpu = |variant| {
            r.row(scenario, variant)?
                .cpu
                .ok_or_else(|| "no CPU time on this platform (Linux only)".to_owned())
        };
        Ok(cpu(Variant::Prost)? / cpu(Variant::Ours)?)
    };
    for scenario in [Scenario::Chats, Scenario::Logs] {
        t.check(
            format!(
                "grpc: {} messages/s, zerocodec (archived) / prost",
                scenario.name()
            ),
            ratio(scenario, Variant::Ours),
            1.3,
            Unit::Ratio,
            false,
            Kind::TimeRatio,
        );
        t.check(
            format!(
                "grpc: {} messages per CPU-second, zerocodec (archived) / prost",
                scenario.name()
            ),
            cpu_ratio(scenario),
            1.3,
            Unit::Ratio,
            false,
            Kind::Advisory,
        );
        // What any rkyv codec reaches inside tonic on the same calls: the ceiling that the
        // target above is held against (information, not a target of ours).
        t.check(
            format!(
                "grpc: {} messages/s, raw rkyv with no frame (reference) / prost",
                scenario.name()
            ),
            ratio(scenario, Variant::RawRkyv),
            1.3,
            Unit::Ratio,
            false,
            Kind::Advisory,
        );
    }
    t.check(
        "grpc: chat size, prost's encoding / our dictionary-compressed frame".to_owned(),
        Ok(c.prost_bytes / c.dict_frame_bytes),
        1.0,
        Unit::Ratio,
        false,
        Kind::Deterministic,
    );
    t.check(
        "grpc: chat size, prost's encoding under zstd-3 (tonic's zstd) / our \
         dictionary-compressed frame"
            .to_owned(),
        Ok(c.prost_zstd_bytes / c.dict_frame_bytes),
        1.0,
        Unit::Ratio,
        false,
        Kind::Deterministic,
    );
}

// ---- output ---------------------------------------------------------------------------------

/// The report's gRPC section (Markdown).
pub(crate) fn section(r: &GrpcResult) -> String {
    let c = &r.codec;
    let s_ = r.settings;
    let mut s = String::from(
        "zerocodec-tonic against tonic-prost on the same calls, prost's messages holding the \
         same fields (the workspace's seeded chat messages and log dataset). Reproduce with \
         `cargo run --release -p zerocodec-report` (the whole report; `-- --grpc-only` for \
         this section alone, `-- --full` for more rounds).\n\n",
    );
    s.push_str("### Codec level: one chat message (mean of 1,000 seeded messages)\n\n");
    s.push_str("| operation | time per message | vs prost decode |\n|---|---:|---:|\n");
    let mut row = |name: &str, ns: f64, vs: bool| {
        let ratio = if vs {
            format!("{:.2}x", c.prost_decode / ns)
        } else {
            String::new()
        };
        let _ = writeln!(s, "| {name} | {} | {ratio} |", fmt_ns(ns));
    };
    row("prost decode", c.prost_decode, true);
    row("zerocodec decode (owned)", c.ours_decode, true);
    row("zerocodec access (in place, aligned)", c.ours_access, true);
    row(
        "zerocodec access_owned, aligned `Bytes` (shared)",
        c.ours_access_shared,
        true,
    );
    row(
        "zerocodec access_owned, unaligned `Bytes` (one copy; tonic's usual case)",
        c.ours_access_copied,
        true,
    );
    row("prost encode", c.prost_encode, false);
    row("zerocodec encode (hybrid frame)", c.ours_encode, false);
    row("prost message: clone and drop", c.prost_clone, false);
    row("zerocodec message: clone and drop", c.ours_clone, false);
    let _ = writeln!(
        s,
        "\n| encoding | mean bytes per chat message |\n|---|---:|\n\
         | prost | {:.1} |\n\
         | prost, zstd-3 alone (what tonic's zstd does to one message) | {:.1} |\n\
         | zerocodec hybrid frame | {:.1} |\n\
         | zerocodec hybrid frame, zstd with a dictionary trained on other messages | {:.1} |\n",
        c.prost_bytes, c.prost_zstd_bytes, c.frame_bytes, c.dict_frame_bytes
    );
    let _ = writeln!(
        s,
        "### Calls over tonic on 127.0.0.1\n\nClient and server in one process (2 tokio \
         worker threads). {} rounds; within a round the calls run in blocks (20 unary calls \
         or one stream), the blocks of ours and of the prost variant each is compared with in \
         turn; per round and variant {} \
         sequential unary calls, or {} calls of a {}-message stream ({} under tonic's zstd, \
         whose streams take a hundred times longer). Rates are the median \
         round's; \"vs prost\" is the median of the rounds' ratios against prost (ours with \
         tonic's zstd against prost with it); latency is per call (for a stream, the whole \
         stream) over all rounds; allocations (client and server together, counted on \
         calls of their own) and wire bytes (both ways, HTTP/2 framing included) are per \
         call or per message.\n",
        s_.rounds,
        s_.unary_calls,
        s_.streams,
        fmt_int(u64::from(s_.stream_len)),
        s_.slow_streams,
    );
    s.push_str(
        "| scenario | variant | calls or messages/s | vs prost | p50 | p99 | CPU time | \
         allocations | bytes on the wire | archived views shared / copied |\n\
         |---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for row in &r.rows {
        let vs = row.vs_prost();
        let vs = if vs.is_nan() {
            "–".to_owned()
        } else {
            format!("{vs:.2}x")
        };
        let sharing = row
            .sharing
            .map_or_else(|| "–".to_owned(), |(s, c)| format!("{s} / {c}"));
        let _ = writeln!(
            s,
            "| {} | {} | {} | {vs} | {} | {} | {} | {:.1} | {:.1} | {sharing} |",
            row.scenario,
            row.variant,
            fmt_int(row.rate().round() as u64),
            fmt_ns(row.latency(0.5).as_nanos() as f64),
            fmt_ns(row.latency(0.99).as_nanos() as f64),
            row.cpu.map_or_else(|| "–".to_owned(), fmt_ns),
            row.allocations,
            row.wire,
        );
    }
    s.push_str(
        "\nCPU time is that of all the process's threads (client, server, tokio, HTTP/2; user \
         and system) over the timed calls, per call or message (the median round's); idle \
         workers that spin before they park count too, so on a shared machine it moves \
         between runs about as much as the rates do.\n",
    );
    if let Some(breakdown) = chat_stream_breakdown(r) {
        s.push('\n');
        s.push_str(&breakdown);
    }
    s
}

/// Where a streamed chat message's CPU time goes: the codec's share (from the codec level)
/// against the whole (from the stream), ours and prost's; `None` without CPU figures.
fn chat_stream_breakdown(r: &GrpcResult) -> Option<String> {
    let c = &r.codec;
    let ours = r.row(Scenario::Chats, Variant::Ours).ok()?.cpu?;
    let prost = r.row(Scenario::Chats, Variant::Prost).ok()?.cpu?;
    let ours_codec = c.ours_encode + c.ours_access_copied;
    let prost_codec = c.prost_encode + c.prost_decode;
    let mut s = String::from(
        "**Where a streamed chat message's time goes** (CPU time per message, client and \
         server together; the codec's part and the server's clone from the codec level \
         above: one encode, and one read as tonic's buffers give it, that is \
         `access_owned` with its copy for ours, a decode and its drop for prost; the server \
         clones each message out of its data and the encoder drops it, both alike; the rest \
         is tonic, HTTP/2, tokio and the socket):\n\n\
         | | CPU per message | codec | server's clone | rest |\n|---|---:|---:|---:|---:|\n",
    );
    let mut line = |name: &str, total: f64, codec: f64, clone: f64| {
        let _ = writeln!(
            s,
            "| {name} | {} | {} ({:.0}%) | {} | {} ({:.0}%) |",
            fmt_ns(total),
            fmt_ns(codec),
            codec / total * 100.0,
            fmt_ns(clone),
            fmt_ns(total - codec - clone),
            (total - codec - clone) / total * 100.0
        );
    };
    line("zerocodec (archived)", ours, ours_codec, c.ours_clone);
    line("prost", prost, prost_codec, c.prost_clone);
    let _ = writeln!(
        s,
        "\nIn CPU time ours is {:.2}x prost's rate; a codec that cost nothing would take it \
         to at most {:.2}x (prost's CPU per message over ours less our codec's part).",
        prost / ours,
        prost / (ours - ours_codec).max(1.0)
    );
    Some(s)
}

/// The gRPC figures for summary.json.
pub(crate) fn json(r: &GrpcResult) -> serde_json::Value {
    let c = &r.codec;
    let rows: Vec<_> = r
        .rows
        .iter()
        .map(|row| {
            json!({
                "scenario": row.scenario,
                "variant": row.variant,
                "per_second": row.rate(),
                "vs_prost": if row.vs_prost.is_empty() { None } else { Some(row.vs_prost()) },
                "p50_ns": row.latency(0.5).as_nanos() as u64,
                "p99_ns": row.latency(0.99).as_nanos() as u64,
                "allocations": row.allocations,
                "wire_bytes": row.wire,
                "cpu_ns": row.cpu,
                "archived_shared_copied": row.sharing,
            })
        })
        .collect();
    json!({
        "codec_level_ns": {
            "prost_decode": c.prost_decode,
            "decode": c.ours_decode,
            "access": c.ours_access,
            "access_owned_shared": c.ours_access_shared,
            "access_owned_copied": c.ours_access_copied,
            "prost_encode": c.prost_encode,
            "encode": c.ours_encode,
            "prost_clone_and_drop": c.prost_clone,
            "clone_and_drop": c.ours_clone,
        },
        "chat_bytes": {
            "prost": c.prost_bytes,
            "prost_zstd3": c.prost_zstd_bytes,
            "frame": c.frame_bytes,
            "frame_dictionary": c.dict_frame_bytes,
        },
        "calls": rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A result whose chat stream runs at `chat_stream` times prost's rate, in messages per
    /// second and per CPU-second, and whose dictionary frames are `dict_bytes` long.
    fn result(chat_stream: f64, dict_bytes: f64) -> GrpcResult {
        let mut rows = Vec::new();
        for scenario in Scenario::ALL {
            for variant in Variant::ALL {
                let ratio = match scenario {
                    Scenario::Chats => chat_stream,
                    _ => 1.5,
                };
                rows.push(Row {
                    scenario: scenario.name(),
                    variant: variant.name(),
                    rates: vec![1e6; 3],
                    vs_prost: variant.peer().map_or_else(Vec::new, |_| vec![ratio; 3]),
                    latencies: vec![Duration::from_micros(10); 3],
                    cpu: Some(if variant.ours() { 400.0 / ratio } else { 400.0 }),
                    ..Row::default()
                });
            }
        }
        GrpcResult {
            settings: Settings::QUICK,
            codec: CodecLevel {
                prost_decode: 100.0,
                ours_decode: 50.0,
                ours_access: 20.0,
                ours_access_shared: 40.0,
                ours_access_copied: 80.0,
                prost_encode: 20.0,
                ours_encode: 30.0,
                ours_clone: 40.0,
                prost_clone: 60.0,
                prost_bytes: 150.0,
                prost_zstd_bytes: 140.0,
                frame_bytes: 190.0,
                dict_frame_bytes: dict_bytes,
            },
            rows,
        }
    }

    fn verdicts(r: &GrpcResult) -> Targets {
        let mut t = Targets::default();
        targets(r, &mut t);
        t
    }

    #[test]
    fn every_target_is_evaluated_and_the_kinds_decide_as_the_report_s() {
        let t = verdicts(&result(1.5, 100.0));
        assert_eq!(t.checked.len(), 11);
        assert!(t.skipped.is_empty());
        assert!(t.passed());
        // A stream short of 1.3x by less than the noise is shown, not decisive.
        let t = verdicts(&result(1.2, 100.0));
        let stream = t
            .checked
            .iter()
            .find(|x| x.name.contains("stream: chat messages/s, zerocodec"))
            .unwrap();
        assert!(!stream.met && !stream.decisive_miss());
        assert_eq!(stream.kind, Kind::TimeRatio);
        assert!(t.passed());
        // The raw rkyv reference is shown and never decides.
        let reference = t
            .checked
            .iter()
            .find(|x| x.name.contains("stream: chat messages/s, raw rkyv"))
            .unwrap();
        assert_eq!(reference.kind, Kind::Advisory);
        // Beyond the noise it decides.
        assert!(!verdicts(&result(1.0, 100.0)).passed());
        // A frame larger than prost's under zstd is a deterministic miss, however small.
        let t = verdicts(&result(1.5, 141.0));
        let size = t
            .checked
            .iter()
            .find(|x| x.name.contains("zstd-3"))
            .unwrap();
        assert!(size.decisive_miss());
        assert!(!t.passed());
    }

    #[test]
    fn the_section_splits_a_streamed_message_s_cpu_time() {
        let r = result(4.0 / 3.0, 100.0);
        let section = section(&r);
        assert!(section.contains("| stream: chat | zerocodec (archived) |"));
        let breakdown = chat_stream_breakdown(&r).unwrap();
        // Ours: 300 ns, of which 30 + 80 codec; prost: 400 ns, of which 20 + 100.
        assert!(
            breakdown.contains(
                "| zerocodec (archived) | 300 ns | 110 ns (37%) | 40.0 ns | 150 ns (50%) |"
            )
        );
        assert!(breakdown.contains("| prost | 400 ns | 120 ns (30%) | 60.0 ns | 220 ns (55%) |"));
        assert!(breakdown.contains("1.33x"), "{breakdown}");
        assert!(breakdown.contains("at most 2.11x"), "{breakdown}");
        assert!(
            r.row(Scenario::Chats, Variant::Prost)
                .unwrap()
                .vs_prost()
                .is_nan()
        );
    }
}
