//! Durability: a crash while triggers pour in loses none of those that were
//! answered 201.

use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use tokio::sync::Notify;

use super::support::{MockProcess, Scratch, TOKEN};

/// Writers sending triggers at once.
const WRITERS: usize = 16;
/// Acknowledged triggers to wait for before the crash.
const BEFORE_CRASH: usize = 200;
/// An upper bound on each writer's requests, so the loop always ends.
const MAX_PER_WRITER: usize = 2_000;

/// SIGKILL while sixteen clients trigger, restart on the same file, and
/// find every pipeline that had been acknowledged with a 201.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_mid_flood_keeps_every_acknowledged_trigger() {
    let scratch = Scratch::new("crash_mid_flood");
    let mut mock = MockProcess::start(&scratch.db(), &[]);
    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let enough = Arc::new(Notify::new());

    let writers: Vec<_> = (0..WRITERS)
        .map(|_| {
            tokio::spawn(write(
                mock.base_url().to_owned(),
                acknowledged.clone(),
                enough.clone(),
            ))
        })
        .collect();
    enough.notified().await;
    mock.kill();
    for writer in writers {
        writer.await.expect("a writer finished");
    }

    mock.restart();
    let ids = acknowledged.lock().unwrap().clone();
    assert!(
        ids.len() >= BEFORE_CRASH,
        "only {} triggers were acknowledged",
        ids.len()
    );
    for id in ids {
        let found = mock.get(&format!("/projects/123/pipelines/{id}")).await;
        assert_eq!(
            found.status.as_u16(),
            200,
            "acknowledged pipeline {id} was lost"
        );
    }
}

/// Triggers until the server goes away, recording each acknowledged id.
async fn write(base_url: String, acknowledged: Arc<Mutex<Vec<i64>>>, enough: Arc<Notify>) {
    let client = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client builds");
    let url = format!("{base_url}/projects/123/trigger/pipeline");
    let body = json!({"token": "T", "ref": "main", "variables": {"K": "V"}});

    for _ in 0..MAX_PER_WRITER {
        let sent = client
            .post(&url)
            .header("PRIVATE-TOKEN", TOKEN)
            .json(&body)
            .send()
            .await;
        let Ok(response) = sent else { return };
        if response.status().as_u16() != 201 {
            continue;
        }
        let Ok(pipeline) = response.json::<Value>().await else {
            return;
        };
        let id = pipeline["id"].as_i64().expect("a pipeline id");
        let mut ids = acknowledged.lock().unwrap();
        ids.push(id);
        if ids.len() == BEFORE_CRASH {
            enough.notify_one();
        }
    }
    enough.notify_one();
}
