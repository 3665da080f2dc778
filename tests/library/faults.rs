//! `/_mock/faults`: scripted failures for the next matching requests.

use std::time::Instant;

use serde_json::json;

use crate::support::{Client, frozen};

#[tokio::test]
async fn a_429_with_retry_after_fires_its_times_then_clears() {
    let gitlab = frozen().await;
    let client = Client::root(&gitlab);
    client.trigger(1, 500).await;
    let fault = json!({
        "path": "/api/v4/projects/1/pipelines", "status": 429, "retry_after": 7, "times": 2,
    });

    let armed = client.post_json("/_mock/faults", fault).await;
    let first = client.status(1, 1).await;
    let listed = client.get("/_mock/faults").await;
    let second = client.status(1, 1).await;
    let third = client.status(1, 1).await;

    assert_eq!(armed.status, 201);
    assert_eq!(armed.body["times"], 2);
    assert_eq!(first.status, 429);
    assert_eq!(first.header("retry-after"), Some("7"));
    assert_eq!(first.header("content-type"), Some("application/json"));
    assert_eq!(first.body, json!({ "message": "429 Too Many Requests" }));
    assert_eq!(listed.body[0]["times"], 1);
    assert_eq!(second.status, 429);
    assert_eq!(third.status, 200);
    assert_eq!(client.get("/_mock/faults").await.body, json!([]));
}

#[tokio::test]
async fn a_fault_matches_by_method_and_path_prefix() {
    let gitlab = frozen().await;
    let client = Client::root(&gitlab);
    client.trigger(1, 500).await;
    let fault = json!({
        "method": "post", "path": "/api/v4/projects/1/", "status": 502,
        "body": { "message": "bad gateway" },
    });
    client.post_json("/_mock/faults", fault).await;

    let read = client.status(1, 1).await;
    let other_project = client.trigger(2, 500).await;
    let hit = client.trigger(1, 500).await;

    assert_eq!(read.status, 200, "GET is not POST");
    assert_eq!(
        other_project.status, 201,
        "/projects/2 does not start with /projects/1/"
    );
    assert_eq!(hit.status, 502);
    assert_eq!(hit.body, json!({ "message": "bad gateway" }));
    assert_eq!(
        client.status(1, 2).await.status,
        404,
        "the faulted trigger made no pipeline"
    );
}

#[tokio::test]
async fn a_delay_alone_slows_the_real_answer() {
    let gitlab = frozen().await;
    let client = Client::root(&gitlab);
    client.trigger(1, 500).await;
    client
        .post_json(
            "/_mock/faults",
            json!({ "path": "/api/v4/", "delay_ms": 300 }),
        )
        .await;

    let began = Instant::now();
    let slow = client.status(1, 1).await;
    let slow_took = began.elapsed();

    assert_eq!(slow.status, 200);
    assert_eq!(slow.body["status"], "running");
    assert!(slow_took.as_millis() >= 300, "answered after {slow_took:?}");
}

#[tokio::test]
async fn faults_are_journaled_with_their_id() {
    let gitlab = frozen().await;
    let client = Client::root(&gitlab);
    let armed = client
        .post_json("/_mock/faults", json!({ "path": "/x", "status": 503 }))
        .await;
    client.get("/x/y").await;

    let journal = client.get("/_mock/requests?method=GET").await;

    assert_eq!(journal.body[0]["status_code"], 503);
    assert_eq!(journal.body[0]["fault_id"], armed.body["id"]);
}

#[tokio::test]
async fn faults_are_deleted_one_by_one_or_all_at_once() {
    let gitlab = frozen().await;
    let client = Client::root(&gitlab);
    let first = client
        .post_json("/_mock/faults", json!({ "path": "/a", "status": 500 }))
        .await;
    client
        .post_json("/_mock/faults", json!({ "path": "/b", "status": 500 }))
        .await;
    client
        .post_json("/_mock/faults", json!({ "path": "/c", "status": 500 }))
        .await;

    let one = client
        .delete(&format!("/_mock/faults/{}", first.body["id"]))
        .await;
    let again = client
        .delete(&format!("/_mock/faults/{}", first.body["id"]))
        .await;
    let left = client.get("/_mock/faults").await;
    let all = client.delete("/_mock/faults").await;

    assert_eq!(one.status, 204);
    assert_eq!(again.status, 404);
    assert_eq!(again.body, json!({ "message": "404 Fault Not Found" }));
    assert_eq!(left.body.as_array().unwrap().len(), 2);
    assert_eq!(all.status, 204);
    assert_eq!(client.get("/_mock/faults").await.body, json!([]));
    assert_eq!(client.get("/a").await.status, 404, "no fault left to fire");
}

#[tokio::test]
async fn faults_never_touch_the_control_routes() {
    let gitlab = frozen().await;
    let client = Client::root(&gitlab);
    client
        .post_json("/_mock/faults", json!({ "path": "/", "status": 500 }))
        .await;

    assert_eq!(client.get("/_mock/faults").await.status, 200);
    assert_eq!(client.get("/api/v4/user").await.status, 500);
}

#[tokio::test]
async fn nonsense_faults_are_refused() {
    let gitlab = frozen().await;
    let client = Client::root(&gitlab);
    let refused = [
        json!({ "path": "/x" }),
        json!({ "path": "x", "status": 500 }),
        json!({ "path": "/_mock/clock", "status": 500 }),
        json!({ "path": "/x", "status": 99 }),
        json!({ "path": "/x", "status": 600 }),
        json!({ "path": "/x", "delay_ms": 60001 }),
        json!({ "path": "/x", "status": 500, "times": 0 }),
        json!({ "path": "/x", "delay_ms": 5, "retry_after": 3 }),
        json!({ "path": "/x", "status": 500, "method": "GE T" }),
        json!({ "path": "/x", "status": 500, "colour": "red" }),
        json!({ "path": "/x", "status": -1 }),
    ];

    for body in refused {
        let answer = client.post_json("/_mock/faults", body.clone()).await;
        assert_eq!(answer.status, 422, "{body}");
        assert_eq!(answer.header("content-type"), Some("application/json"));
    }
    let broken = client
        .send(
            client
                .request(reqwest::Method::POST, "/_mock/faults")
                .body("{\"path\""),
        )
        .await;
    assert_eq!(broken.status, 400);
    assert_eq!(client.get("/_mock/faults").await.body, json!([]));
}

#[tokio::test]
async fn a_fault_path_with_a_query_is_refused() {
    let gitlab = frozen().await;
    let client = Client::root(&gitlab);

    let answer = client
        .post_json("/_mock/faults", json!({ "path": "/x?a=1", "status": 500 }))
        .await;

    assert_eq!(answer.status, 422);
    assert!(answer.body["message"].as_str().unwrap().contains("query"));
}
