//! Namespaces on the binary: each is a file beside the database, survives
//! a restart, and goes with its file when deleted.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::support::{MockProcess, Reply, Scratch};

#[tokio::test]
async fn a_namespace_survives_a_restart_and_goes_when_deleted() {
    let scratch = Scratch::new("namespace_survives_restart");
    let mut mock = MockProcess::start(&scratch.db(), &[]);
    let trigger = json!({ "token": "T", "ref": "main", "scenario_id": 0 });
    let triggered = mock
        .post("/ns/keep/api/v4/projects/4/trigger/pipeline", trigger)
        .await;
    assert_eq!(triggered.expect(StatusCode::CREATED)["id"], 1);

    mock.restart();
    let listed = mock.get("/_mock/namespaces").await;
    let kept = mock.get("/ns/keep/api/v4/projects/4/pipelines/1").await;

    assert_eq!(
        listed.expect(StatusCode::OK),
        json!([{ "name": "keep", "base_path": "/ns/keep" }])
    );
    assert_eq!(kept.expect(StatusCode::OK)["status"], "running");
    let file = scratch.file("mock.db-namespaces/keep.db");
    assert!(
        file.exists(),
        "{} should hold the namespace",
        file.display()
    );

    let deleted = Reply::of(mock.authorized(Method::DELETE, "/_mock/namespaces/keep")).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert!(!file.exists(), "deleting a namespace deletes its file");
    assert_eq!(
        mock.get("/_mock/namespaces").await.expect(StatusCode::OK),
        json!([])
    );
}
