//! The RPC example's service over real TCP on loopback: concurrent modern and legacy clients,
//! bytes in tiny chunks, an oversized length prefix, and a client that hangs up mid-frame.

#[path = "../examples/rpc/service.rs"]
mod service;

use std::collections::HashSet;
use std::sync::atomic::Ordering;
use std::time::Duration;

use futures::StreamExt;
use service::{Call, Client, LegacyClient, Request, Response};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_util::bytes::BytesMut;
use tokio_util::codec::{Encoder, FramedRead, LengthDelimitedCodec};
use zerocodec_codecs::{FrameDecoder, FrameEncoder};

/// Every test is bounded in time: a hang fails instead of stalling CI.
const LIMIT: Duration = Duration::from_secs(60);

fn request(client: usize, i: usize) -> Request {
    match i % 3 {
        0 => Request::Post {
            room: format!("room-{}", i % 4),
            sender: format!("client-{client}"),
            content: format!("hello {i} from client {client} ✓"),
        },
        1 => Request::History {
            room: format!("room-{}", i % 4),
            limit: 5,
        },
        _ => Request::Ping {
            seq: (client * 1_000_000 + i) as u64,
        },
    }
}

/// Checks one response against its request; returns the id of a stored post.
fn check(request: &Request, response: &Response) -> Option<u64> {
    match (request, response) {
        (Request::Post { .. }, Response::Posted { id }) => Some(*id),
        (Request::History { limit, .. }, Response::Messages(entries)) => {
            assert!(entries.len() <= *limit as usize);
            assert!(
                entries.windows(2).all(|w| w[0].id < w[1].id),
                "history out of order"
            );
            None
        }
        (Request::Ping { seq }, Response::Pong { seq: echoed }) => {
            assert_eq!(seq, echoed);
            None
        }
        _ => panic!("{request:?} was answered with {response:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_modern_and_legacy_clients_all_get_their_answers() {
    tokio::time::timeout(LIMIT, async {
        let server = service::start("127.0.0.1:0").await.unwrap();
        const PER_CLIENT: usize = 1000;
        let mut tasks = Vec::new();
        for c in 0..4 {
            let addr = server.addr;
            tasks.push(tokio::spawn(async move {
                let mut client = Client::connect(addr).await.unwrap();
                let mut ids = Vec::new();
                for i in 0..PER_CLIENT {
                    let req = request(c, i);
                    ids.extend(check(&req, &client.call(&req).await.unwrap()));
                }
                ids
            }));
        }
        for c in 4..6 {
            let addr = server.addr;
            tasks.push(tokio::spawn(async move {
                let mut client = LegacyClient::connect(addr).await.unwrap();
                let mut ids = Vec::new();
                for i in 0..PER_CLIENT {
                    let req = request(c, i);
                    ids.extend(check(&req, &client.call(&req).await.unwrap()));
                }
                ids
            }));
        }
        let mut ids = HashSet::new();
        for task in tasks {
            for id in task.await.unwrap() {
                assert!(ids.insert(id), "post id {id} handed out twice");
            }
        }
        assert_eq!(ids.len(), 6 * PER_CLIENT.div_ceil(3));
        let stats = &server.stats;
        assert_eq!(
            stats.requests.load(Ordering::Relaxed),
            6 * PER_CLIENT as u64
        );
        assert_eq!(
            stats.legacy_requests.load(Ordering::Relaxed),
            2 * PER_CLIENT as u64
        );
        assert_eq!(stats.rejected.load(Ordering::Relaxed), 0);
        server.task.abort();
    })
    .await
    .expect("timed out");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_written_in_tiny_chunks_decode_correctly() {
    tokio::time::timeout(LIMIT, async {
        let server = service::start("127.0.0.1:0").await.unwrap();
        let socket = TcpStream::connect(server.addr).await.unwrap();
        socket.set_nodelay(true).unwrap();
        let (read, mut write) = socket.into_split();

        let requests: Vec<Request> = (0..300).map(|i| request(9, i)).collect();
        let mut wire = BytesMut::new();
        let mut encoder = FrameEncoder::new(service::stack::<Request>());
        for r in &requests {
            encoder.encode(r, &mut wire).unwrap();
        }
        let writer = tokio::spawn(async move {
            let mut at = 0;
            let mut step = 0usize;
            while at < wire.len() {
                let n = 1 + step % 7; // 1..=7 bytes per write
                let end = (at + n).min(wire.len());
                write.write_all(&wire[at..end]).await.unwrap();
                write.flush().await.unwrap();
                at = end;
                step += 1;
                if step % 64 == 0 {
                    tokio::task::yield_now().await;
                }
            }
            write
        });

        let mut responses = FramedRead::new(read, FrameDecoder::new(service::stack::<Response>()));
        for r in &requests {
            let response = responses.next().await.expect("a response").unwrap();
            check(r, &response);
        }
        drop(writer.await.unwrap());
        assert_eq!(server.stats.requests.load(Ordering::Relaxed), 300);
        server.task.abort();
    })
    .await
    .expect("timed out");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_length_prefix_ends_only_that_connection() {
    tokio::time::timeout(LIMIT, async {
        let server = service::start("127.0.0.1:0").await.unwrap();
        let mut healthy = Client::connect(server.addr).await.unwrap();
        assert_eq!(
            healthy.call(&Request::Ping { seq: 1 }).await.unwrap(),
            Response::Pong { seq: 1 }
        );

        // Claims a 4 GiB frame: refused on the prefix, before any buffer is reserved for it.
        let mut bad = TcpStream::connect(server.addr).await.unwrap();
        bad.write_all(&[0xFF, 0xFF, 0xFF, 0xFF, b'{'])
            .await
            .unwrap();
        let mut answer = FramedRead::new(&mut bad, LengthDelimitedCodec::new());
        let frame = answer.next().await.expect("an explanation").unwrap();
        match serde_json::from_slice::<Response>(&frame).unwrap() {
            Response::Failed(why) => assert!(why.contains("too large"), "{why}"),
            other => panic!("expected Failed, got {other:?}"),
        }
        assert!(
            answer.next().await.is_none(),
            "the server closes the connection"
        );
        drop(answer);
        let mut rest = Vec::new();
        assert_eq!(bad.read_to_end(&mut rest).await.unwrap(), 0);

        // The other connection is untouched.
        assert_eq!(
            healthy.call(&Request::Ping { seq: 2 }).await.unwrap(),
            Response::Pong { seq: 2 }
        );
        assert_eq!(server.stats.rejected.load(Ordering::Relaxed), 1);
        server.task.abort();
    })
    .await
    .expect("timed out");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_hanging_up_mid_frame_does_not_disturb_the_others() {
    tokio::time::timeout(LIMIT, async {
        let server = service::start("127.0.0.1:0").await.unwrap();
        let mut healthy = Client::connect(server.addr).await.unwrap();
        let mut legacy = LegacyClient::connect(server.addr).await.unwrap();

        for cut_after in [1usize, 3, 4, 5, 20] {
            let mut wire = BytesMut::new();
            FrameEncoder::new(service::stack::<Request>())
                .encode(&request(7, 0), &mut wire)
                .unwrap();
            let mut quitter = TcpStream::connect(server.addr).await.unwrap();
            quitter
                .write_all(&wire[..cut_after.min(wire.len() - 1)])
                .await
                .unwrap();
            drop(quitter);

            let req = request(8, cut_after);
            check(&req, &healthy.call(&req).await.unwrap());
            check(&req, &legacy.call(&req).await.unwrap());
        }
        // Each cut-off connection is counted as rejected once the server notices the hang-up.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while server.stats.rejected.load(Ordering::Relaxed) < 5 {
            assert!(
                tokio::time::Instant::now() < deadline,
                "hang-ups not noticed"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(server.stats.rejected.load(Ordering::Relaxed), 5);
        server.task.abort();
    })
    .await
    .expect("timed out");
}
