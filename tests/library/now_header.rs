//! `X-Mock-Now` on every answer.

use serde_json::json;

use crate::support::{Client, frozen};

#[tokio::test]
async fn every_answer_carries_the_virtual_time() {
    let gitlab = frozen().await;
    let client = Client::root(&gitlab);
    client
        .post_json(
            "/_mock/faults",
            json!({ "path": "/faulted", "status": 502 }),
        )
        .await;

    let answers = [
        client.get("/_mock/clock").await,
        client.get("/nowhere").await,
        client.get("/faulted").await,
        client.get("/ns/bad.name/x").await,
        client.trigger(1, 500).await,
    ];

    for answer in &answers {
        assert_eq!(
            answer.header("x-mock-now"),
            Some("2026-12-03T10:00:00.000Z"),
            "{answer:?}"
        );
    }
}

#[tokio::test]
async fn the_header_moves_with_the_clock_of_the_namespace() {
    let gitlab = frozen().await;
    let (root, a) = (Client::root(&gitlab), Client::namespace(&gitlab, "a"));
    a.post_json(
        "/_mock/clock/freeze",
        json!({ "at": "2031-05-06T07:08:09Z" }),
    )
    .await;

    let advanced = a.advance(1.5).await;
    let at_root = root.get("/_mock/clock").await;

    assert_eq!(
        advanced.header("x-mock-now"),
        Some("2031-05-06T07:08:10.500Z")
    );
    assert_eq!(
        at_root.header("x-mock-now"),
        Some("2026-12-03T10:00:00.000Z")
    );
}
