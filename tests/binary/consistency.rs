//! Listings stay whole while pipelines change under them: on the real
//! binary, where reads and writes use separate connections, a listing that
//! sorts by `updated_at` while other clients cancel and retry its
//! pipelines lists each of them exactly once, with a matching `X-Total`.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::support::{MockProcess, Scratch};

/// Pipelines in the listing.
const PIPELINES: i64 = 10;
/// How long cancels and retries race the listings; a bound, not a goal.
const RACE: Duration = Duration::from_secs(3);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listings_neither_lose_nor_repeat_pipelines_that_change_meanwhile() {
    let scratch = Scratch::new("listing_consistency");
    let mock = MockProcess::start(&scratch.db(), &[]);
    mock.freeze().await;
    for _ in 0..PIPELINES {
        let fields = json!({"token": "T", "ref": "main", "scenario_id": 99});
        mock.post("/projects/78/trigger/pipeline", fields)
            .await
            .expect(StatusCode::CREATED);
    }
    let deadline = Instant::now() + RACE;

    let changer = {
        let base = mock.base_url().to_owned();
        let http = mock
            .authorized(Method::GET, "/")
            .build()
            .expect("a request");
        let token = http.headers()["private-token"].clone();
        tokio::spawn(async move {
            let client = reqwest::Client::builder()
                .no_proxy()
                .build()
                .expect("a client");
            while Instant::now() < deadline {
                for id in 1..=PIPELINES {
                    for action in ["cancel", "retry"] {
                        let url = format!("{base}/projects/78/pipelines/{id}/{action}");
                        let sent = client.post(url).header("private-token", token.clone());
                        let answer = sent.send().await.expect("the mock answers");
                        assert!(
                            answer.status().is_success(),
                            "{action}: {}",
                            answer.status()
                        );
                    }
                }
            }
        })
    };

    let mut listings = 0;
    while Instant::now() < deadline {
        for query in ["order_by=updated_at", "order_by=status", "scope=finished"] {
            check_listing(&mock, query).await;
            listings += 1;
        }
    }
    changer.await.expect("the changer finished");
    assert!(listings > 10, "only {listings} listings ran");
}

/// One listing of project 78: no id twice, and as many ids as `X-Total`
/// says; without a status filter, every pipeline.
async fn check_listing(mock: &MockProcess, query: &str) {
    let path = format!("/projects/78/pipelines?{query}&per_page=100");
    let answer = mock
        .authorized(Method::GET, &path)
        .send()
        .await
        .expect("the mock answers");
    assert_eq!(answer.status(), StatusCode::OK);
    let total: usize = answer.headers()["x-total"]
        .to_str()
        .expect("X-Total is text")
        .parse()
        .expect("X-Total is a number");
    let items: Value = answer.json().await.expect("a JSON list");
    let mut ids: Vec<i64> = items
        .as_array()
        .expect("a list")
        .iter()
        .map(|pipeline| pipeline["id"].as_i64().expect("an id"))
        .collect();
    let listed = ids.len();
    ids.sort_unstable();
    ids.dedup();

    assert_eq!(ids.len(), listed, "{query}: a pipeline listed twice");
    assert_eq!(
        listed, total,
        "{query}: X-Total says {total}, the page holds {listed}"
    );
    if !query.starts_with("scope") {
        assert_eq!(listed as i64, PIPELINES, "{query}: pipelines missing");
    }
}
