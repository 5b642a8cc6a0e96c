//! A REST service for chat messages that speaks JSON and zerocodec frames on the same routes,
//! with axum and zerocodec-axum.
//!
//! ```text
//! cargo run --release --example http                              # demo: server + client, one process
//! cargo run --release --example http -- serve 127.0.0.1:3000      # serve until Ctrl-C, for curl
//! ```
//!
//! Then, with the server running (README.md, "HTTP"):
//!
//! ```text
//! curl -i -H 'Content-Type: application/json' \
//!      -d '{"room":"general","sender":"ada","content":"hello"}' http://127.0.0.1:3000/messages
//! curl -s -H 'Accept: application/vnd.zerocodec' http://127.0.0.1:3000/messages/1 | xxd
//! ```

mod service;

use std::time::Instant;

use service::{Client, NewMessage};
use zerocodec_axum::Format;

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
        ["serve", addr] => serve(addr).await,
        _ => Err("usage: http [demo | serve ADDR]".into()),
    }
}

/// Serves on `addr` until interrupted, saying how to try it.
async fn serve(addr: &str) -> Result<(), AnyError> {
    let server = service::start(addr).await?;
    let base = format!("http://{}", server.addr);
    println!("serving on {base} (Ctrl-C stops it); try:");
    println!(
        "  curl -i -H 'Content-Type: application/json' \\\n       \
         -d '{{\"room\":\"general\",\"sender\":\"ada\",\"content\":\"hello\"}}' {base}/messages"
    );
    println!("  curl -s -H 'Accept: application/vnd.zerocodec' {base}/messages/1 | xxd");
    server.task.await??;
    Ok(())
}

/// Starts a server on an ephemeral port, exercises every route in both formats, then has a
/// legacy JSON client and a frame client post at once.
async fn demo() -> Result<(), AnyError> {
    let server = service::start("127.0.0.1:0").await?;
    println!("server on http://{}", server.addr);

    let report = service::exercise(server.addr).await?;
    println!(
        "{} requests, every answer checked: JSON and frames in, either out by Accept, \
         refusals with 404, 415 and 422",
        report.requests
    );
    println!(
        "one stored message: {} bytes as JSON, {} bytes as a frame",
        report.json_bytes, report.frame_bytes
    );

    let (json, frames) = tokio::join!(
        session(server.addr, Format::Json, 2000),
        session(server.addr, Format::Frame, 2000)
    );
    json?;
    frames?;
    server.task.abort();
    Ok(())
}

/// Posts `n` messages in `format` from 8 concurrent tasks, checking every answer.
async fn session(addr: std::net::SocketAddr, format: Format, n: usize) -> Result<(), AnyError> {
    const TASKS: usize = 8;
    let client = Client::new(addr);
    let start = Instant::now();
    let mut tasks = Vec::with_capacity(TASKS);
    for t in 0..TASKS {
        let client = client.clone();
        tasks.push(tokio::spawn(async move {
            for i in (t..n).step_by(TASKS) {
                let new = NewMessage {
                    room: format!("room-{}", i % 4),
                    sender: format!("client-{t}"),
                    content: format!("message {i} in {format}"),
                };
                let message = client.post(&new, format, None).await?.message()?;
                if message.content != new.content {
                    return Err::<(), AnyError>(format!("{new:?} stored as {message:?}").into());
                }
            }
            Ok(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    let elapsed = start.elapsed();
    println!(
        "{n} POSTs as {format} from {TASKS} concurrent tasks in {elapsed:.2?} \
         (both clients at once on one server)"
    );
    Ok(())
}
