//! A chat service over gRPC with zerocodec messages: unary `post`, server-streaming
//! `history`, bidirectional `live`, and a legacy JSON client served by the same server.
//!
//! ```text
//! cargo run --release -p zerocodec-tonic --example grpc          # server and clients, one process
//! cargo run --release -p zerocodec-tonic --example grpc -- server 127.0.0.1:50051
//! cargo run --release -p zerocodec-tonic --example grpc -- client 127.0.0.1:50051
//! cargo run --release -p zerocodec-tonic --example grpc -- legacy-client 127.0.0.1:50051
//! ```

mod chat;

use std::net::SocketAddr;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use chat::{ChatClient, HistoryRequest, LegacyClient, Post};
use futures::StreamExt;
use tonic::Request;
use zerocodec_tonic::FrameOptions;

type AnyError = Box<dyn std::error::Error + Send + Sync>;

/// tonic's limit on one received message, on both sides.
const MAX_MESSAGE: usize = 1 << 20;

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
            let server = chat::start(addr, FrameOptions::new(), MAX_MESSAGE).await?;
            println!("serving chat.Chat on {}", server.addr);
            server.task.await??;
            Ok(())
        }
        ["client", addr] => modern_session(addr.parse()?, "ada").await,
        ["legacy-client", addr] => legacy_session(addr.parse()?, "grace").await,
        _ => Err("usage: grpc [demo | server ADDR | client ADDR | legacy-client ADDR]".into()),
    }
}

/// Starts a server on an ephemeral port, runs a modern and a legacy client against it, and
/// prints what the server saw.
async fn demo() -> Result<(), AnyError> {
    let server = chat::start("127.0.0.1:0", FrameOptions::new(), MAX_MESSAGE).await?;
    println!("server: chat.Chat on {}", server.addr);
    modern_session(server.addr, "ada").await?;
    legacy_session(server.addr, "grace").await?;
    deadline_session(server.addr).await?;
    let stats = &server.stats;
    println!(
        "server: {} posts stored; requests read in place: {} shared tonic's buffer, {} were \
         copied once into an aligned buffer; {} following stream ended at its deadline",
        stats.posts.load(Relaxed),
        stats.shared.load(Relaxed),
        stats.copied.load(Relaxed),
        stats.deadlines.load(Relaxed),
    );
    server.task.abort();
    Ok(())
}

/// A zerocodec client: every method, hybrid frames both ways.
async fn modern_session(addr: SocketAddr, name: &str) -> Result<(), AnyError> {
    let mut client = ChatClient::new(chat::channel(addr).await?);

    // Unary.
    for content in ["hello over gRPC", "frames, read in place"] {
        let post = Post {
            room: "general".into(),
            sender: name.into(),
            content: content.into(),
        };
        let posted = client.post(post).await?.into_inner();
        println!("{name} -> post {content:?}: stored as #{}", posted.id);
    }

    // Bidirectional: three posts out, three entries back, on one call.
    let posts = ["one", "two", "three"].map(|content| Post {
        room: "general".into(),
        sender: name.into(),
        content: format!("live {content}"),
    });
    let mut entries = client
        .live(futures::stream::iter(posts))
        .await?
        .into_inner();
    while let Some(entry) = entries.message().await? {
        println!("{name} <- live: #{} {:?}", entry.id, entry.content);
    }

    // Server streaming.
    let query = HistoryRequest {
        room: "general".into(),
        limit: 10,
        follow: false,
    };
    let history: Vec<_> = client.history(query).await?.into_inner().collect().await;
    println!("{name} <- history: {} entries", history.len());
    for entry in history {
        let entry = entry?;
        println!("    #{} {}: {}", entry.id, entry.sender, entry.content);
    }
    Ok(())
}

/// A client from before the migration: JSON bodies, the same paths, the same server.
async fn legacy_session(addr: SocketAddr, name: &str) -> Result<(), AnyError> {
    let mut legacy = LegacyClient::new(chat::channel(addr).await?);
    let posted = legacy
        .post(Post {
            room: "general".into(),
            sender: name.into(),
            content: "still speaking JSON".into(),
        })
        .await?;
    println!("{name} (legacy JSON) -> post: stored as #{}", posted.id);
    let history = legacy
        .history(HistoryRequest {
            room: "general".into(),
            limit: 3,
            follow: false,
        })
        .await?;
    println!(
        "{name} (legacy JSON) <- history, answered in JSON: {:?}",
        history.iter().map(|e| &e.content).collect::<Vec<_>>()
    );
    Ok(())
}

/// Follows a room with a deadline: the server ends the stream when it passes.
async fn deadline_session(addr: SocketAddr) -> Result<(), AnyError> {
    let mut client = ChatClient::new(chat::channel(addr).await?);
    let mut request = Request::new(HistoryRequest {
        room: "general".into(),
        limit: 1,
        follow: true,
    });
    request.set_timeout(Duration::from_millis(200));
    let mut stream = client.history(request).await?.into_inner();
    let mut received = 0;
    let status = loop {
        match stream.message().await {
            Ok(Some(_)) => received += 1,
            Ok(None) => break None,
            Err(status) => break Some(status),
        }
    };
    match status {
        Some(status) => println!(
            "follower: {received} entry, then {:?}: {}",
            status.code(),
            status.message()
        ),
        None => println!("follower: {received} entry, then the stream ended"),
    }
    Ok(())
}
