//! Namespaces on the binary: each is a file beside the database, survives
//! a restart, and goes with its file when deleted.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::support::{FileLimit, MockProcess, Reply, Scratch};

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

/// Opens the namespace `name` with a health check, and says how it answered.
async fn open_namespace(mock: &MockProcess, name: &str) -> StatusCode {
    mock.get(&format!("/ns/{name}/_mock/health")).await.status
}

/// Under a low hard limit of open files the binary takes only the
/// namespaces the limit holds (six files each, 256 kept free): the next is
/// a 409 that names the limit, not a 500, and the root goes on answering.
#[tokio::test]
async fn a_low_open_file_limit_caps_the_open_namespaces_with_a_409() {
    let scratch = Scratch::new("namespaces_under_file_limit");
    let limit = FileLimit {
        soft: 300,
        hard: 300,
    };
    let mock = MockProcess::start_under_file_limit(&scratch.db(), limit);
    let fitting = (300 - 256) / 6;

    for n in 0..fitting {
        assert_eq!(
            open_namespace(&mock, &format!("n{n}")).await,
            StatusCode::OK,
            "n{n}"
        );
    }
    let refused = mock.get("/ns/one-too-many/_mock/health").await;

    let body = refused.expect(StatusCode::CONFLICT);
    let message = body["message"].as_str().unwrap();
    assert!(
        message.starts_with(&format!("{fitting} namespaces are open")),
        "{message}"
    );
    assert!(message.contains("open-file limit"), "{message}");
    let log = mock.log().join("\n");
    assert!(
        log.contains("leaves room for only this many open namespaces"),
        "{log}"
    );
    assert_eq!(mock.get("/_mock/health").await.status, StatusCode::OK);

    let deleted = Reply::of(mock.authorized(Method::DELETE, "/_mock/namespaces/n0")).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_eq!(open_namespace(&mock, "one-too-many").await, StatusCode::OK);
}

/// A soft limit below the hard one is raised to it at start, so a shell's
/// usual soft 1024 does not hold the binary to its share of namespaces.
#[tokio::test]
async fn the_binary_raises_its_soft_open_file_limit_to_the_hard_one() {
    let scratch = Scratch::new("namespaces_raised_file_limit");
    let limit = FileLimit {
        soft: 300,
        hard: 2048,
    };
    let mock = MockProcess::start_under_file_limit(&scratch.db(), limit);

    let limits = std::fs::read_to_string(format!("/proc/{}/limits", mock.pid())).unwrap();
    let open_files = limits
        .lines()
        .find(|line| line.starts_with("Max open files"))
        .expect("a line for open files");
    let numbers: Vec<&str> = open_files.split_whitespace().skip(3).take(2).collect();
    assert_eq!(numbers, ["2048", "2048"], "{open_files}");

    // Under the soft limit of 300 only seven would fit.
    for n in 0..40 {
        assert_eq!(
            open_namespace(&mock, &format!("n{n}")).await,
            StatusCode::OK,
            "n{n}"
        );
    }
}
