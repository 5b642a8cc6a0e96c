//! A chat-room RPC service over TCP with zerocodec frames, and a legacy JSON client the same
//! server still serves.
//!
//! ```text
//! cargo run --release --example rpc                  # demo: server + both clients, one process
//! cargo run --release --example rpc -- server 127.0.0.1:7878
//! cargo run --release --example rpc -- client 127.0.0.1:7878
//! cargo run --release --example rpc -- legacy-client 127.0.0.1:7878
//! ```

mod service;

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::time::Instant;

use service::{Call, Client, LegacyClient, Request, Response};

type AnyError = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main]
async fn main() -> Result<(), AnyError> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        [] | ["demo"] => demo().await,
        ["server", addr] => {
            let server = service::start(addr).await?;
            println!("serving on {}", server.addr);
            server.task.await?;
            Ok(())
        }
        ["client", addr] => modern_session(addr.parse()?, "ada", 1000).await,
        ["legacy-client", addr] => legacy_session(addr.parse()?, "grace", 1000).await,
        _ => Err("usage: rpc [demo | server ADDR | client ADDR | legacy-client ADDR]".into()),
    }
}

/// Starts a server on an ephemeral port and runs a modern and a legacy client against it.
async fn demo() -> Result<(), AnyError> {
    let server = service::start("127.0.0.1:0").await?;
    println!("server on {}", server.addr);
    let (modern, legacy) = tokio::join!(
        modern_session(server.addr, "ada", 2000),
        legacy_session(server.addr, "grace", 2000)
    );
    modern?;
    legacy?;
    let stats = &server.stats;
    // Each request was answered in the format it arrived in.
    assert_eq!(stats.legacy_requests.load(Ordering::Relaxed), 2000);
    println!(
        "server answered {} requests ({} from the legacy JSON client) on {} connections",
        stats.requests.load(Ordering::Relaxed),
        stats.legacy_requests.load(Ordering::Relaxed),
        stats.connections.load(Ordering::Relaxed),
    );
    server.task.abort();
    Ok(())
}

fn requests(sender: &str, n: usize) -> impl Iterator<Item = Request> + '_ {
    (0..n).map(move |i| match i % 3 {
        0 => Request::Post {
            room: format!("room-{}", i % 5),
            sender: sender.to_owned(),
            content: format!("message {i} from {sender}"),
        },
        1 => Request::History {
            room: format!("room-{}", i % 5),
            limit: 3,
        },
        _ => Request::Ping { seq: i as u64 },
    })
}

fn check(request: &Request, response: &Response) -> Result<(), AnyError> {
    let ok = matches!(
        (request, response),
        (Request::Post { .. }, Response::Posted { .. })
            | (Request::History { .. }, Response::Messages(_))
    ) || matches!((request, response), (Request::Ping { seq }, Response::Pong { seq: s }) if s == seq);
    if ok {
        Ok(())
    } else {
        Err(format!("{request:?} was answered with {response:?}").into())
    }
}

/// Makes `n` calls through `client`, checking every answer, and prints the round-trip time.
async fn session(client: &mut impl Call, label: &str, who: &str, n: usize) -> Result<(), AnyError> {
    let start = Instant::now();
    for request in requests(who, n) {
        let response = client.call(&request).await?;
        check(&request, &response)?;
    }
    let elapsed = start.elapsed();
    println!(
        "{who} ({label}): {n} calls in {elapsed:.2?} ({:.1} µs per round trip)",
        elapsed.as_secs_f64() * 1e6 / n as f64
    );
    Ok(())
}

async fn modern_session(addr: SocketAddr, who: &str, n: usize) -> Result<(), AnyError> {
    session(
        &mut Client::connect(addr).await?,
        "zerocodec frames",
        who,
        n,
    )
    .await
}

async fn legacy_session(addr: SocketAddr, who: &str, n: usize) -> Result<(), AnyError> {
    session(
        &mut LegacyClient::connect(addr).await?,
        "legacy JSON",
        who,
        n,
    )
    .await
}
