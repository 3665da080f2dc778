//! The rest of `/_mock`: listing and deleting pipelines, reset, health.

use serde_json::{Value, json};

use super::support::{TestMock, anonymous};

async fn trigger_in(mock: &TestMock, project: i64) {
    let path = format!("/projects/{project}/trigger/pipeline");
    mock.json("POST", &path, json!({"token": "T", "ref": "m"}))
        .await
        .expect(201);
}

/// Pipelines are listed newest first, filtered by project and paged, with
/// the total in `X-Total`.
#[tokio::test]
async fn pipelines_are_listed_newest_first_in_pages() {
    let mock = TestMock::new();
    for project in [1, 2, 1, 1] {
        trigger_in(&mock, project).await;
    }

    let all = mock.get("/_mock/pipelines").await;
    let page = mock
        .get("/_mock/pipelines?project_id=1&per_page=2&page=2")
        .await;

    let ids: Vec<_> = all
        .expect(200)
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].clone())
        .collect();
    assert_eq!(ids, [json!(4), json!(3), json!(2), json!(1)]);
    assert_eq!(all.headers["x-total"], "4");
    assert_eq!(page.expect(200).as_array().unwrap().len(), 1);
    assert_eq!(page.body[0]["id"], 1);
    assert_eq!(page.headers["x-total"], "3");
}

/// Listing shows each pipeline's status at the clock's instant.
#[tokio::test]
async fn listed_status_follows_the_clock() {
    let mock = TestMock::new();
    mock.trigger(json!({"token": "T", "ref": "m", "scenario_id": 5}))
        .await
        .expect(201);

    mock.advance(5.0).await;

    assert_eq!(
        mock.get("/_mock/pipelines").await.expect(200)[0]["status"],
        "success"
    );
}

/// Bad paging and unknown query parameters are a 400.
#[tokio::test]
async fn listing_refuses_bad_queries() {
    let mock = TestMock::new();

    for query in [
        "per_page=0",
        "per_page=101",
        "page=-1",
        "project_id=x",
        "colour=blue",
    ] {
        let answer = mock.get(&format!("/_mock/pipelines?{query}")).await;
        assert!(answer.expect(400)["error"].is_string(), "{query}");
    }
}

/// Deleting a pipeline answers 204; it is then gone.
#[tokio::test]
async fn deleted_pipelines_are_gone() {
    let mock = TestMock::new();
    trigger_in(&mock, 123).await;

    mock.delete("/_mock/pipelines/1").await.expect(204);

    mock.get("/projects/123/pipelines/1")
        .await
        .expect_message(404, "404 Not found");
    mock.delete("/_mock/pipelines/1")
        .await
        .expect_message(404, "404 Not found");
}

/// Reset empties pipelines, restores exactly the presets and puts the
/// clock back on system time.
#[tokio::test]
async fn reset_restores_a_fresh_database() {
    let mock = TestMock::new();
    trigger_in(&mock, 123).await;
    mock.json(
        "POST",
        "/_mock/scenarios",
        json!({"scenario_id": 900, "name": "x", "never_complete": true}),
    )
    .await
    .expect(201);
    mock.delete("/_mock/scenarios/500").await.expect(204);

    let reset = mock
        .send(super::support::authed("POST", "/_mock/reset"))
        .await;

    reset.expect(200);
    assert_eq!(mock.get("/_mock/pipelines").await.expect(200), &json!([]));
    let ids: Vec<i64> = mock
        .get("/_mock/scenarios")
        .await
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["scenario_id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids.len(), 115);
    assert!(ids.contains(&500) && !ids.contains(&900));
    assert_eq!(mock.get("/_mock/clock").await.body["frozen"], false);
    trigger_in(&mock, 123).await;
    assert_eq!(mock.get("/_mock/pipelines").await.body[0]["id"], 1);
}

/// Without `--allow-reset`, reset is forbidden and changes nothing.
#[tokio::test]
async fn reset_is_forbidden_unless_allowed() {
    let mock = TestMock::with_reset(false);
    trigger_in(&mock, 123).await;

    let answer = mock
        .send(super::support::authed("POST", "/_mock/reset"))
        .await;

    answer.expect_error_mentioning(403, "--allow-reset");
    assert_eq!(
        mock.get("/_mock/pipelines")
            .await
            .body
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

/// Health needs no token.
#[tokio::test]
async fn health_answers_without_auth() {
    let mock = TestMock::new();

    let answer = mock.send(anonymous("GET", "/_mock/health")).await;

    assert_eq!(answer.expect(200), &json!({"status": "ok"}));
}

/// Every other control route needs the token.
#[tokio::test]
async fn control_routes_require_the_token() {
    let mock = TestMock::new();
    let routes = [
        ("GET", "/_mock/scenarios"),
        ("POST", "/_mock/scenarios"),
        ("PUT", "/_mock/scenarios/1"),
        ("DELETE", "/_mock/scenarios/1"),
        ("GET", "/_mock/pipelines"),
        ("DELETE", "/_mock/pipelines/1"),
        ("POST", "/_mock/reset"),
        ("GET", "/projects/1/pipelines/1"),
    ];

    for (method, path) in routes {
        mock.send(anonymous(method, path))
            .await
            .expect_message(401, "401 Unauthorized");
    }
}

/// Reset undoes every kind of change the control and GitLab routes can
/// make, not only pipelines: a preset edited with `PUT` comes back exactly
/// as seeded, and custom scenarios, rules, registered and path-named
/// projects and trigger tokens are gone. Each table's ids start over at 1,
/// so a suite that resets between tests sees the same ids in every test.
#[tokio::test]
async fn reset_restores_exactly_the_presets_and_forgets_everything_else() {
    let mock = TestMock::new();
    let presets = mock.get("/_mock/scenarios").await.expect(200).clone();
    let edit = json!({"name": "edited", "terminal_status": "canceled"});
    let edited = mock.json("PUT", "/_mock/scenarios/1000", edit).await;
    assert_eq!(edited.expect(200)["terminal_status"], "canceled");
    let edit = json!({"terminal_after_seconds": 1});
    let edited = mock.json("PUT", "/_mock/scenarios/500", edit).await;
    assert_eq!(edited.expect(200)["terminal_after_seconds"], 1);
    let custom = json!({"scenario_id": 900, "name": "x", "never_complete": true});
    mock.json("POST", "/_mock/scenarios", custom)
        .await
        .expect(201);
    assert_ne!(mock.get("/_mock/scenarios").await.expect(200), &presets);
    let rule = json!({"project_id": 123, "ref": "release", "scenario_id": 1006});
    mock.json("POST", "/_mock/rules", rule).await.expect(201);
    let registered = json!({"id": 321, "path": "acme/deploy-bot"});
    mock.json("POST", "/_mock/projects", registered)
        .await
        .expect(201);
    let named = mock.get("/projects/jdoe%2Fdemo").await;
    assert_eq!(named.expect(200)["id"], 322, "a new path takes the next id");
    trigger_in(&mock, 123).await;
    trigger_in(&mock, 123).await;
    let token = create_trigger_token(&mock).await;
    let token = token["token"].as_str().unwrap().to_owned();

    mock.send(super::support::authed("POST", "/_mock/reset"))
        .await
        .expect(200);

    assert_eq!(mock.get("/_mock/scenarios").await.expect(200), &presets);
    assert_eq!(mock.get("/_mock/rules").await.expect(200), &json!([]));
    assert_eq!(mock.get("/_mock/projects").await.expect(200), &json!([]));
    assert_eq!(
        mock.get("/projects/123/triggers").await.expect(200),
        &json!([])
    );
    // With no trigger token left, project 123 is back to needing the header.
    let anonymous_trigger = anonymous("POST", "/projects/123/trigger/pipeline")
        .header("content-type", "application/json")
        .json(&json!({"token": token, "ref": "main"}));
    mock.send(anonymous_trigger)
        .await
        .expect_message(401, "401 Unauthorized");
    let unregistered = mock.get("/projects/321").await;
    assert_eq!(
        unregistered.expect(200)["path_with_namespace"],
        "mock/project-321"
    );

    let rule = json!({"scenario_id": 5});
    let rule = mock.json("POST", "/_mock/rules", rule).await;
    assert_eq!(rule.expect(201)["id"], 1, "rule ids start over");
    let ruled = mock
        .json(
            "POST",
            "/projects/123/trigger/pipeline",
            json!({"token": "T", "ref": "release"}),
        )
        .await;
    let ruled = ruled.expect(201);
    assert_eq!(ruled["id"], 1, "pipeline ids start over");
    assert_eq!(ruled["iid"], 1, "iids start over");
    assert_eq!(ruled["scenario_id"], 5, "the old release rule is gone");
    let token = create_trigger_token(&mock).await;
    assert_eq!(token["id"], 1, "trigger token ids start over");
    let named = mock.get("/projects/acme%2Fnew").await;
    assert_eq!(named.expect(200)["id"], 124, "after project 123's token");
}

/// Creates a trigger token for project 123 and answers it.
async fn create_trigger_token(mock: &TestMock) -> Value {
    let answer = mock
        .json(
            "POST",
            "/projects/123/triggers",
            json!({"description": "ci"}),
        )
        .await;
    answer.expect(201).clone()
}
