//! The http example's service over real HTTP on 127.0.0.1: the example's own client session,
//! which checks every answer, and its figures.

#[path = "../examples/http/service.rs"]
mod service;

use std::time::Duration;

/// Bounded in time: a hang fails instead of stalling CI.
const LIMIT: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_example_service_answers_both_formats() {
    let server = service::start("127.0.0.1:0").await.unwrap();
    let report = tokio::time::timeout(LIMIT, service::exercise(server.addr))
        .await
        .expect("the session finished in time")
        .unwrap();
    // 4 POSTs, each read back 3 ways, and 3 refusals.
    assert_eq!(report.requests, 4 + 4 * 3 + 3);
    assert!(
        report.frame_bytes > 0 && report.json_bytes > 0,
        "{report:?}"
    );
    server.task.abort();
}
