//! Inputs found by trying to break the mock: each once crashed it, answered
//! a 5xx, opened a door, or differed from GitLab.

use serde_json::json;

use super::support::{TestMock, anonymous, authed};

/// A form name nested ten thousand deep is a plain field, not a stack
/// overflow.
#[tokio::test]
async fn deeply_nested_form_names_do_not_crash() {
    let mock = TestMock::new();
    let body = format!("ref=main&token=x&variables{}=1", "[a]".repeat(10_000));

    let answer = mock.form("/projects/123/trigger/pipeline", &body).await;

    assert_eq!(answer.expect(201)["variables"], json!({}));
}

/// Paths given an id when first used are numbered within the largest
/// project id: once a pipeline uses that id, a new path is refused with a
/// clear 422 rather than numbered past it, and registering the path with
/// an id of one's own still works.
#[tokio::test]
async fn new_paths_are_never_numbered_past_the_largest_id() {
    let mock = TestMock::new();
    let largest = gitlab_mock::mock::MAX_PROJECT_ID;

    let big = mock.trigger_in(&largest.to_string()).await;
    let beyond = mock.trigger_in(&(largest + 1).to_string()).await;
    let path = mock.get("/api/v4/projects/brand%2Fnew").await;

    big.expect(201);
    beyond.expect_message(404, "404 Not Found");
    path.expect_error_mentioning(422, "no project id is left for brand/new");
    let registered = json!({"id": 77, "path": "brand/new"});
    mock.json("POST", "/_mock/projects", registered)
        .await
        .expect(201);
    let path = mock.get("/api/v4/projects/brand%2Fnew").await;
    assert_eq!(path.expect(200)["id"], 77);
}

/// An empty token given at start-up opens nothing.
#[tokio::test]
async fn empty_global_tokens_open_nothing() {
    let mock = TestMock::configured(|_, options| {
        options.global_trigger_tokens = vec!["GLOBAL".into()];
    });
    mock.json("POST", "/projects/1/triggers", json!({"description": "x"}))
        .await
        .expect(201);

    let empty = mock
        .send(anonymous("POST", "/projects/1/trigger/pipeline").body("ref=main&token="))
        .await;
    let global = mock
        .send(anonymous("POST", "/projects/1/trigger/pipeline").body("ref=main&token=GLOBAL"))
        .await;

    empty.expect_message(404, "404 Not Found");
    global.expect(201);
}

/// A field without a name is ignored, as Rack ignores it.
#[tokio::test]
async fn nameless_fields_are_ignored() {
    let mock = TestMock::new();

    let answer = mock
        .form("/projects/123/trigger/pipeline", "ref=main&=1&token=x&=")
        .await;

    answer.expect(201);
}

/// Only the exact `Pipeline Hook` value is refused, as GitLab compares it.
#[tokio::test]
async fn only_the_exact_pipeline_hook_event_is_refused() {
    let mock = TestMock::new();
    let send = |event: &'static str| {
        authed("POST", "/projects/123/trigger/pipeline")
            .header("x-gitlab-event", event)
            .body("ref=main&token=x")
    };

    mock.send(send("Pipeline Hook"))
        .await
        .expect_message(403, "403 Forbidden");
    mock.send(send("pipeline hook")).await.expect(201);
}

/// Blank filters count as not sent, `yaml_errors=0` is a boolean, and
/// `scope=branches` picks each ref's newest pipeline before other filters.
#[tokio::test]
async fn list_filters_read_values_as_grape_does() {
    let mock = TestMock::new();
    mock.trigger(json!({"token": "T", "ref": "main", "terminal_after_seconds": 0}))
        .await
        .expect(201);
    mock.trigger(json!({"token": "T", "ref": "main", "scenario_id": 0}))
        .await
        .expect(201);

    let blank = mock
        .get("/projects/123/pipelines?ref=&sha=&username=&updated_before=")
        .await;
    let boolean = mock.get("/projects/123/pipelines?yaml_errors=0").await;
    let branches = mock
        .get("/projects/123/pipelines?scope=branches&status=success")
        .await;

    assert_eq!(blank.expect(200).as_array().unwrap().len(), 2);
    assert_eq!(boolean.expect(200).as_array().unwrap().len(), 2);
    assert_eq!(branches.expect(200), &json!([]));
}

/// Past the last page there is no previous page, and an enormous page size
/// is cut to 100 like any large one.
#[tokio::test]
async fn pagination_edges_follow_gitlab() {
    let mock = TestMock::new();
    mock.trigger(json!({"token": "T", "ref": "main"}))
        .await
        .expect(201);

    let beyond = mock.get("/projects/123/pipelines?page=9").await;
    let enormous = mock
        .get("/projects/123/pipelines?per_page=99999999999999999999")
        .await;

    assert_eq!(beyond.expect(200), &json!([]));
    assert_eq!(beyond.headers["x-prev-page"], "");
    assert!(
        !beyond.headers["link"]
            .to_str()
            .unwrap()
            .contains("rel=\"prev\"")
    );
    assert_eq!(enormous.expect(200).as_array().unwrap().len(), 1);
    assert_eq!(enormous.headers["x-per-page"], "100");
}

/// Booleans coerce to strings like numbers do; a variable value that is an
/// object is invalid rather than silently emptied.
#[tokio::test]
async fn parameter_types_follow_grape() {
    let mock = TestMock::new();

    let coerced = mock.trigger(json!({"token": "T", "ref": true})).await;
    let object = mock
        .json(
            "POST",
            "/projects/123/pipeline",
            json!({"ref": "main", "variables": [{"key": "A", "value": {"x": 1}}]}),
        )
        .await;

    assert_eq!(coerced.expect(201)["ref"], "true");
    assert_eq!(object.expect(400)["error"], "variables is invalid");
}

/// Project paths hold only GitLab's characters, and a numbered project's
/// printed path cannot be given to another id.
#[tokio::test]
async fn project_paths_are_checked() {
    let mock = TestMock::new();

    let odd = mock.get("/api/v4/projects/a%2Fb%3Fc").await;
    let dots = mock.get("/api/v4/projects/a%2F..").await;
    let taken = mock
        .json(
            "POST",
            "/_mock/projects",
            json!({"id": 400, "path": "mock/project-5"}),
        )
        .await;

    odd.expect_message(404, "404 Project Not Found");
    dots.expect_message(404, "404 Project Not Found");
    taken.expect_error_mentioning(422, "is the name of project 5");
}

/// An unreadable token on a route that shares its path with another
/// method's is the README's 400, not the other route's 405.
#[tokio::test]
async fn an_unreadable_token_is_400_beside_another_method() {
    let mock = TestMock::new();
    let token = warp::http::HeaderValue::from_bytes(b"\x80").unwrap();

    for (method, path) in [
        ("DELETE", "/api/v4/projects/123/pipelines/1"),
        ("POST", "/_mock/scenarios"),
        ("DELETE", "/_mock/scenarios/500"),
    ] {
        let answer = mock
            .send(anonymous(method, path).header("private-token", token.clone()))
            .await;
        assert_eq!(
            answer.expect(400),
            &json!({"error": "private-token header is invalid"}),
            "{method} {path}"
        );
    }
}
