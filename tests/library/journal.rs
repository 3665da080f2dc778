//! `GET /_mock/requests`: the journal of answered requests.

use serde_json::{Value, json};

use gitlab_mock::MockGitLab;

use crate::support::{Client, frozen, start};

fn paths(entries: &Value) -> Vec<String> {
    (entries.as_array().unwrap().iter())
        .map(|entry| {
            format!(
                "{} {}",
                entry["method"].as_str().unwrap(),
                entry["path"].as_str().unwrap()
            )
        })
        .collect()
}

#[tokio::test]
async fn the_journal_shows_how_a_pipeline_was_polled() {
    let gitlab = frozen().await;
    let client = Client::root(&gitlab);
    client.trigger(5, 60).await;
    client.status(5, 1).await;
    client.advance(60.0).await;
    client.status(5, 1).await;

    let polls = client.get("/_mock/requests?pipeline_id=1&method=get").await;

    let seen: Vec<(&str, &str)> = (polls.body.as_array().unwrap().iter())
        .map(|entry| {
            (
                entry["at"].as_str().unwrap(),
                entry["pipeline_status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("2026-12-03T10:00:00.000Z", "running"),
            ("2026-12-03T10:01:00.000Z", "success")
        ]
    );
    let first = &polls.body[0];
    assert_eq!(first["path"], "/api/v4/projects/5/pipelines/1");
    assert_eq!(first["status_code"], 200);
    assert_eq!(first["project_id"], 5);
    assert!(first["real_at"].as_str().unwrap().ends_with('Z'));
}

#[tokio::test]
async fn every_answer_is_journaled_oldest_first_except_journal_reads() {
    let gitlab = frozen().await;
    let client = Client::root(&gitlab);
    client.get("/_mock/requests").await;
    client.get("/api/v4/projects/5/pipelines/9?x=1").await;
    client.get("/nowhere").await;

    let all = client.get("/_mock/requests").await;

    assert_eq!(
        paths(&all.body),
        ["GET /api/v4/projects/5/pipelines/9", "GET /nowhere"]
    );
    assert_eq!(all.body[0]["status_code"], 404);
    assert_eq!(all.body[0]["query"], "x=1");
    assert_eq!(all.body[1]["query"], Value::Null);
    assert!(all.body[0]["id"].as_u64() < all.body[1]["id"].as_u64());
}

#[tokio::test]
async fn filters_narrow_the_journal() {
    let gitlab = frozen().await;
    let client = Client::root(&gitlab);
    client.trigger(5, 500).await;
    client.trigger(6, 500).await;
    client.advance(10.0).await;
    client.status(6, 2).await;

    let project_6 = client.get("/_mock/requests?project_id=6").await;
    let posts = client.get("/_mock/requests?method=POST").await;
    let later = client
        .get("/_mock/requests?since=2026-12-03T10:00:10Z")
        .await;

    assert_eq!(
        paths(&project_6.body),
        [
            "POST /api/v4/projects/6/trigger/pipeline",
            "GET /api/v4/projects/6/pipelines/2"
        ]
    );
    assert_eq!(posts.body.as_array().unwrap().len(), 3);
    assert_eq!(paths(&later.body), ["GET /api/v4/projects/6/pipelines/2"]);
}

#[tokio::test]
async fn bad_filters_are_400() {
    let gitlab = frozen().await;
    let client = Client::root(&gitlab);

    for query in ["since=yesterday", "pipeline_id=abc", "colour=red"] {
        let answer = client.get(&format!("/_mock/requests?{query}")).await;
        assert_eq!(answer.status, 400, "{query}");
        assert_eq!(answer.header("content-type"), Some("application/json"));
    }
}

#[tokio::test]
async fn the_journal_is_bounded_and_cleared_by_reset() {
    let gitlab = MockGitLab::builder()
        .frozen_at(start())
        .journal_limit(3)
        .start()
        .await;
    let client = Client::root(&gitlab);
    for n in 1..=5 {
        client.get(&format!("/n/{n}")).await;
    }

    let kept = client.get("/_mock/requests").await;
    client.post_json("/_mock/reset", json!({})).await;
    let after_reset = client.get("/_mock/requests").await;

    assert_eq!(paths(&kept.body), ["GET /n/3", "GET /n/4", "GET /n/5"]);
    assert_eq!(paths(&after_reset.body), ["POST /_mock/reset"]);
}

#[tokio::test]
async fn each_namespace_keeps_its_own_journal() {
    let gitlab = frozen().await;
    let (root, a) = (Client::root(&gitlab), Client::namespace(&gitlab, "a"));
    a.get("/in/a").await;
    root.get("/in/root").await;

    assert_eq!(paths(&a.get("/_mock/requests").await.body), ["GET /in/a"]);
    assert_eq!(
        paths(&root.get("/_mock/requests").await.body),
        ["GET /in/root"]
    );
}

#[tokio::test]
async fn long_paths_and_queries_are_cut_in_the_journal() {
    let gitlab = frozen().await;
    let client = Client::root(&gitlab);
    let long = "a".repeat(10_000);
    client.get(&format!("/{long}?q={long}")).await;

    let entry = &client.get("/_mock/requests").await.body[0];

    let limit = gitlab_mock::mock::MAX_KEPT_TEXT;
    assert_eq!(entry["path"].as_str().unwrap().len(), limit);
    assert_eq!(entry["query"].as_str().unwrap().len(), limit);
    assert_eq!(entry["status_code"], 404);
}

#[tokio::test]
async fn journal_reads_with_a_trailing_slash_are_not_journaled_either() {
    let gitlab = frozen().await;
    let client = Client::root(&gitlab);
    client.get("/_mock/requests/").await;

    assert_eq!(client.get("/_mock/requests/").await.body, json!([]));
}
