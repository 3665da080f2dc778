//! Snapshots of the main responses, byte for byte. The clock is frozen and
//! the sha derives from project and ref, so every run prints the same.
//! Snapshots live in the top-level `snapshots/` folder.

use serde_json::json;

use super::support::{Answer, TestMock};

/// Pins the status line, content type and the body exactly as sent.
fn snapshot(name: &str, answer: &Answer) {
    let content_type = answer.content_type.as_deref().unwrap_or("-");
    let body = String::from_utf8_lossy(&answer.raw);
    let text = format!("{} {content_type}\n{body}", answer.status);
    insta::with_settings!({
        snapshot_path => concat!(env!("CARGO_MANIFEST_DIR"), "/snapshots"),
        prepend_module_to_snapshot => false,
        omit_expression => true,
    }, {
        insta::assert_snapshot!(name, text);
    });
}

/// The trigger answer, a poll while running and a poll once finished.
#[tokio::test]
async fn trigger_and_poll_timeline() {
    let mock = TestMock::new();
    let fields = json!({"token": "TRIGGER_TOKEN_ABC", "ref": "main",
                        "variables": {"FOO": "bar", "RUN_MODE": "smoke"}, "scenario_id": 500});

    let created = mock.trigger(fields).await;
    mock.advance(83.0).await;
    let running = mock.get("/projects/123/pipelines/1").await;
    mock.advance(217.0).await;
    let finished = mock.get("/projects/123/pipelines/1").await;

    snapshot("trigger_201", &created);
    snapshot("poll_running_at_83s", &running);
    snapshot("poll_success_at_300s", &finished);
}

/// A created scenario and the whole list.
#[tokio::test]
async fn scenarios() {
    let mock = TestMock::new();
    let created = mock
        .json(
            "POST",
            "/_mock/scenarios",
            json!({"scenario_id": 900, "name": "ten minutes then fail",
              "terminal_after_seconds": 600, "terminal_status": "failed", "never_complete": false}),
        )
        .await;
    let listed = mock.get("/_mock/scenarios").await;

    snapshot("scenario_created", &created);
    snapshot("scenarios", &listed);
}

/// The clock's state after each control.
#[tokio::test]
async fn clock_states() {
    let mock = TestMock::new();

    let frozen = mock
        .json(
            "POST",
            "/_mock/clock/freeze",
            json!({"at": "2026-12-03T12:00:00Z"}),
        )
        .await;
    let advanced = mock.advance(1.5).await;

    snapshot("clock_frozen", &frozen);
    snapshot("clock_advanced", &advanced);
}

/// One of each error body.
#[tokio::test]
async fn error_bodies() {
    let mock = TestMock::new();
    let unauthorized = mock
        .send(super::support::anonymous("GET", "/_mock/scenarios"))
        .await;
    let no_route = mock.get("/nowhere").await;
    let invalid = mock.trigger(json!({"ref": "main"})).await;
    let missing = mock.get("/projects/1/pipelines/9").await;

    snapshot("error_401", &unauthorized);
    snapshot("error_no_route", &no_route);
    snapshot("error_400_token_missing", &invalid);
    snapshot("error_404_pipeline", &missing);
}
