//! `GET /projects/:id/pipelines/:pipeline_id`: the status over virtual time.

use serde_json::{Value, json};

use super::support::TestMock;

/// Running until exactly `created_at + N`, terminal from that instant on,
/// with `updated_at` at the transition.
#[tokio::test]
async fn status_turns_terminal_at_exactly_n_seconds() {
    let mock = TestMock::new();
    let id = mock
        .trigger(json!({"token": "T", "ref": "m", "scenario_id": 30}))
        .await
        .expect(201)["id"]
        .clone();

    mock.advance(29.999).await;
    let before = mock.get(&format!("/projects/123/pipelines/{id}")).await;
    mock.advance(0.001).await;
    let at = mock.get(&format!("/projects/123/pipelines/{id}")).await;

    assert_eq!(before.expect(200)["status"], "running");
    assert_eq!(before.body["updated_at"], "2026-12-03T10:00:00.000Z");
    assert_eq!(at.expect(200)["status"], "success");
    assert_eq!(at.body["updated_at"], "2026-12-03T10:00:30.000Z");
    assert_eq!(at.body["created_at"], "2026-12-03T10:00:00.000Z");
}

/// The five-minute preset finishes in one advance, and stays finished.
#[tokio::test]
async fn five_minute_pipeline_finishes_in_one_advance() {
    let mock = TestMock::new();
    let id = mock
        .trigger(json!({"token": "T", "ref": "m", "scenario_id": 500}))
        .await
        .expect(201)["id"]
        .clone();

    mock.advance(300.0).await;
    assert_eq!(mock.status_of(&id).await, "success");
    mock.advance(86_400.0).await;
    assert_eq!(mock.status_of(&id).await, "success");
}

/// Every preset finishes after the time its id promises.
#[tokio::test]
async fn presets_finish_when_their_ids_say() {
    let expectations = [
        (1, 1),
        (42, 42),
        (99, 99),
        (100, 60),
        (200, 120),
        (500, 300),
    ];

    for (scenario_id, seconds) in expectations {
        let mock = TestMock::new();
        let id = mock
            .trigger(json!({"token": "T", "ref": "m", "scenario_id": scenario_id}))
            .await
            .expect(201)["id"]
            .clone();

        mock.advance(seconds as f64 - 0.001).await;
        assert_eq!(
            mock.status_of(&id).await,
            "running",
            "scenario {scenario_id}"
        );
        mock.advance(0.001).await;
        assert_eq!(
            mock.status_of(&id).await,
            "success",
            "scenario {scenario_id}"
        );
    }
}

/// Scenario 0 never completes, however far the clock moves.
#[tokio::test]
async fn never_complete_stays_running() {
    let mock = TestMock::new();
    let id = mock
        .trigger(json!({"token": "T", "ref": "m", "scenario_id": 0}))
        .await
        .expect(201)["id"]
        .clone();

    mock.advance(10.0 * 365.0 * 86_400.0).await;

    let body = mock.get(&format!("/projects/123/pipelines/{id}")).await;
    assert_eq!(body.expect(200)["status"], "running");
    assert_eq!(body.body["updated_at"], "2026-12-03T10:00:00.000Z");
}

/// Inline controls can end a pipeline in any status, e.g. failed.
#[tokio::test]
async fn inline_terminal_status_is_reached() {
    let mock = TestMock::new();
    let fields =
        json!({"token": "T", "ref": "m", "terminal_after_seconds": 0, "terminal_status": "failed"});
    let id = mock.trigger(fields).await.expect(201)["id"].clone();

    assert_eq!(mock.status_of(&id).await, "failed");
}

/// Changing or deleting a scenario does not rewrite the pipelines that
/// were triggered with it.
#[tokio::test]
async fn pipelines_keep_the_behaviour_they_were_given() {
    let mock = TestMock::new();
    let id = mock
        .trigger(json!({"token": "T", "ref": "m", "scenario_id": 10}))
        .await
        .expect(201)["id"]
        .clone();

    mock.json(
        "PUT",
        "/_mock/scenarios/10",
        json!({"terminal_after_seconds": 1000}),
    )
    .await
    .expect(200);
    mock.advance(10.0).await;
    assert_eq!(mock.status_of(&id).await, "success");

    mock.delete("/_mock/scenarios/10").await.expect(204);
    let body = mock.get(&format!("/projects/123/pipelines/{id}")).await;
    assert_eq!(body.expect(200)["scenario_id"], json!(null));
    assert_eq!(body.body["status"], "success");
}

/// A pipeline is found only under its own project; GitLab's texts for
/// each miss.
#[tokio::test]
async fn missing_pipelines_are_404() {
    let mock = TestMock::new();
    mock.trigger(json!({"token": "T", "ref": "m"}))
        .await
        .expect(201);

    mock.get("/projects/999/pipelines/1")
        .await
        .expect_message(404, "404 Not found");
    mock.get("/projects/123/pipelines/77")
        .await
        .expect_message(404, "404 Not found");
    mock.get("/projects/abc/pipelines/1")
        .await
        .expect_message(404, "404 Project Not Found");
    assert_eq!(
        mock.get("/projects/123/pipelines/1x").await.expect(400)["error"],
        "pipeline_id is invalid"
    );
}

/// A poll answered once is kept in memory by the store; every write that
/// changes what a poll shows must show through on the next poll of the
/// same pipeline: a cancel, a retry, a deleted scenario, a project given a
/// new path, a deleted pipeline and a reset.
#[tokio::test]
async fn a_poll_after_any_change_shows_the_change() {
    let mock = TestMock::new();
    let poll = |id: i64| format!("/projects/123/pipelines/{id}");
    let scenario = json!({"scenario_id": 777, "name": "slow", "terminal_after_seconds": 60});
    mock.json("POST", "/_mock/scenarios", scenario)
        .await
        .expect(201);
    let fields = json!({"token": "T", "ref": "main", "scenario_id": 777});
    let id = mock.trigger(fields).await.expect(201)["id"]
        .as_i64()
        .unwrap();

    let first = mock.get(&poll(id)).await;
    assert_eq!(first.expect(200)["status"], "running");
    assert_eq!(first.body["scenario_id"], 777);
    mock.json("POST", &format!("{}/cancel", poll(id)), json!({}))
        .await
        .expect(200);
    assert_eq!(mock.get(&poll(id)).await.expect(200)["status"], "canceled");
    mock.json("POST", &format!("{}/retry", poll(id)), json!({}))
        .await
        .expect(201);
    assert_eq!(mock.get(&poll(id)).await.expect(200)["status"], "running");

    mock.delete("/_mock/scenarios/777").await.expect(204);
    assert_eq!(
        mock.get(&poll(id)).await.expect(200)["scenario_id"],
        Value::Null
    );

    let renamed = json!({"id": 123, "path": "acme/renamed", "default_branch": "main"});
    mock.json("POST", "/_mock/projects", renamed)
        .await
        .expect(201);
    let web_url = mock.get(&poll(id)).await.expect(200)["web_url"].clone();
    assert!(
        web_url.as_str().unwrap().contains("/acme/renamed/"),
        "{web_url}"
    );

    mock.delete(&poll(id)).await.expect(204);
    mock.get(&poll(id)).await.expect(404);

    let again = mock.trigger(json!({"token": "T", "ref": "main"})).await;
    let again = again.expect(201)["id"].as_i64().unwrap();
    assert_eq!(mock.get(&poll(again)).await.expect(200)["ref"], "main");
    mock.json("POST", "/_mock/reset", json!({}))
        .await
        .expect(200);
    mock.get(&poll(again)).await.expect(404);
}
