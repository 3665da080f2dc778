//! GitLab's pipeline API beyond the trigger's cases: shapes, lists, pagination, latest, cancel,
//! retry, delete, variables, jobs, create, trigger tokens, rules, projects, the user and auth.

use serde_json::{Value, json};

use super::support::{Answer, TestMock, anonymous, authed};

/// The boundary [`multipart`] uses, as a `Content-Type`.
pub const MULTIPART: &str = "multipart/form-data; boundary=XyZ";

/// `2026-12-03T<time>.000Z`: an instant of the test day as GitLab prints it.
pub fn at(time: &str) -> String {
    format!("2026-12-03T{time}.000Z")
}

/// Registers project 123 as `jdoe/demo`.
pub async fn register_demo(mock: &TestMock) {
    let project = json!({"id": 123, "path": "jdoe/demo"});
    mock.json("POST", "/_mock/projects", project)
        .await
        .expect(201);
}

/// Creates a trigger token for `project` (an `:id` segment) and returns its value.
pub async fn create_trigger_token(mock: &TestMock, project: &str) -> String {
    let path = format!("/projects/{project}/triggers");
    let answer = mock.json("POST", &path, json!({"description": "ci"})).await;
    answer.expect(201)["token"].as_str().unwrap().to_owned()
}

/// A mock with project 123 registered as `jdoe/demo` and one trigger token for it.
pub async fn demo_with_trigger_token() -> (TestMock, String) {
    let mock = TestMock::new();
    register_demo(&mock).await;
    let token = create_trigger_token(&mock, "123").await;
    (mock, token)
}

/// `POST path` with a JSON body and no credentials at all.
pub async fn post_anonymously(mock: &TestMock, path: &str, body: Value) -> Answer {
    let request = anonymous("POST", path)
        .header("content-type", "application/json")
        .json(&body);
    mock.send(request).await
}

/// `POST path` with the mock's token and no body, as python-gitlab's cancel and retry send it.
pub async fn post_empty(mock: &TestMock, path: &str) -> Answer {
    mock.send(authed("POST", path)).await
}

/// A multipart body with the given text fields and boundary `XyZ`.
pub fn multipart(fields: &[(&str, &str)]) -> String {
    let mut body = String::new();
    for (name, value) in fields {
        body.push_str(&format!(
            "--XyZ\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        ));
    }
    body.push_str("--XyZ--\r\n");
    body
}

/// The id of a pipeline a 201 answer describes.
pub fn id_of(answer: &Answer) -> i64 {
    answer.expect(201)["id"].as_i64().unwrap()
}

/// Triggers scenario `scenario_id` on `main` of project 123 (with the mock's token) and returns
/// the new pipeline's id.
pub async fn trigger_scenario(mock: &TestMock, scenario_id: i64) -> i64 {
    let fields = json!({"token": "T", "ref": "main", "scenario_id": scenario_id});
    id_of(&mock.trigger(fields).await)
}

/// The body of `GET /projects/123/pipelines/:id`, asserting 200.
pub async fn pipeline(mock: &TestMock, id: i64) -> Value {
    let answer = mock.get(&format!("/projects/123/pipelines/{id}")).await;
    answer.expect(200).clone()
}

/// How many pipelines the mock stores, in every project.
pub async fn pipeline_count(mock: &TestMock) -> usize {
    let answer = mock.get("/_mock/pipelines").await;
    answer.expect(200).as_array().unwrap().len()
}

/// The variables `GET /projects/123/pipelines/:id/variables` lists.
pub async fn variables(mock: &TestMock, id: i64) -> Vec<Value> {
    let answer = mock
        .get(&format!("/projects/123/pipelines/{id}/variables"))
        .await;
    answer.expect(200).as_array().unwrap().clone()
}

/// A response header as text; panics when it is missing.
fn header<'a>(answer: &'a Answer, name: &str) -> &'a str {
    let value = answer.headers.get(name);
    value
        .unwrap_or_else(|| panic!("no {name} header"))
        .to_str()
        .unwrap()
}

/// The ids of a list answer, in order.
fn ids(answer: &Answer) -> Vec<i64> {
    let items = answer.expect(200).as_array().unwrap();
    items
        .iter()
        .map(|item| item["id"].as_i64().unwrap())
        .collect()
}

/// The keys of a JSON object, sorted.
fn keys(value: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = value
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    keys
}

/// The trigger answers with GitLab's full Pipeline entity, each field with GitLab's JSON type,
/// plus the mock's own fields, and without `name`.
#[tokio::test]
async fn trigger_answers_with_the_full_pipeline_entity() {
    let (mock, token) = demo_with_trigger_token().await;

    let answer = post_anonymously(
        &mock,
        "/api/v4/projects/123/trigger/pipeline",
        json!({"token": token, "ref": "main"}),
    )
    .await;

    let body = answer.expect(201);
    let mut expected = vec![
        "before_sha",
        "committed_at",
        "coverage",
        "created_at",
        "detailed_status",
        "duration",
        "finished_at",
        "id",
        "iid",
        "project_id",
        "queued_duration",
        "ref",
        "scenario_id",
        "sha",
        "source",
        "started_at",
        "status",
        "tag",
        "terminal_after_seconds",
        "terminal_status",
        "updated_at",
        "user",
        "variables",
        "web_url",
        "yaml_errors",
    ];
    expected.sort_unstable();
    assert_eq!(keys(body), expected);
    assert!(body["id"].is_i64() && body["iid"].is_i64());
    assert_eq!(body["project_id"], 123);
    assert_eq!(body["before_sha"], "0".repeat(40));
    assert_eq!(body["tag"], false);
    assert_eq!(body["yaml_errors"], Value::Null);
    assert_eq!(body["committed_at"], Value::Null);
    assert_eq!(body["coverage"], Value::Null);
    assert_eq!(body["source"], "trigger");
    assert_eq!(
        body["web_url"],
        "http://localhost:8000/jdoe/demo/-/pipelines/1"
    );
    let user = &body["user"];
    assert!(user["id"].is_i64());
    assert_eq!(user["username"], "mock-user");
    assert_eq!(user["state"], "active");
    assert!(user["name"].is_string() && user["avatar_url"].is_string());
    assert!(user["web_url"].is_string());
    let status = &body["detailed_status"];
    assert_eq!(status["icon"], "status_running");
    assert_eq!(status["group"], "running");
    assert!(status["text"].is_string() && status["label"].is_string());
    assert!(status["tooltip"].is_string() && status["favicon"].is_string());
    assert_eq!(status["has_details"], true);
    assert_eq!(status["details_path"], "/jdoe/demo/-/pipelines/1");
    assert_eq!(status["illustration"], Value::Null);
}

/// Pipeline durations are integer seconds, and `name` appears (as null) only on the single GET.
#[tokio::test]
async fn single_get_adds_name_and_durations_are_integers() {
    let mock = TestMock::new();
    let created = mock
        .trigger(json!({"token": "T", "ref": "main", "scenario_id": 30}))
        .await;
    let id = id_of(&created);
    mock.advance(30.0).await;

    let body = pipeline(&mock, id).await;

    assert!(created.body.get("name").is_none());
    assert_eq!(body.get("name"), Some(&Value::Null));
    assert_eq!(body["status"], "success");
    assert!(body["duration"].is_i64(), "duration {:?}", body["duration"]);
    assert_eq!(body["duration"], 30);
    assert_eq!(body["queued_duration"], Value::Null);
    assert_eq!(body["started_at"], at("10:00:00"));
    assert_eq!(body["finished_at"], at("10:00:30"));
}

/// `iid` counts pipelines within each project, while `id` counts across projects.
#[tokio::test]
async fn iid_counts_within_the_project() {
    let mock = TestMock::new();

    let first = mock.trigger(json!({"token": "T", "ref": "main"})).await;
    let other = mock
        .json(
            "POST",
            "/projects/456/trigger/pipeline",
            json!({"token": "T", "ref": "main"}),
        )
        .await;
    let second = mock.trigger(json!({"token": "T", "ref": "main"})).await;

    assert_eq!(
        (&first.expect(201)["id"], &first.body["iid"]),
        (&json!(1), &json!(1))
    );
    assert_eq!(
        (&other.expect(201)["id"], &other.body["iid"]),
        (&json!(2), &json!(1))
    );
    assert_eq!(
        (&second.expect(201)["id"], &second.body["iid"]),
        (&json!(3), &json!(2))
    );
}

/// Three pipelines in project 123, at 10:00:25: #1 `main` success (updated 10:00:10), #2 `dev`
/// from the create endpoint running (updated 10:00:05), #3 `main` pending (updated 10:00:06).
async fn three_pipelines() -> TestMock {
    let mock = TestMock::new();
    mock.trigger(json!({"token": "T", "ref": "main", "scenario_id": 10}))
        .await
        .expect(201);
    mock.advance(5.0).await;
    let create = json!({"ref": "dev", "terminal_after_seconds": 100, "terminal_status": "failed"});
    mock.json("POST", "/projects/123/pipeline", create)
        .await
        .expect(201);
    mock.trigger(json!({"token": "T", "ref": "main", "scenario_id": 1003}))
        .await
        .expect(201);
    mock.advance(20.0).await;
    mock
}

/// Every filter of the list selects the pipelines GitLab's would, newest first by default.
#[tokio::test]
async fn list_filters_select_matching_pipelines() {
    let mock = three_pipelines().await;
    let sha = pipeline(&mock, 1).await["sha"].as_str().unwrap().to_owned();
    let cases: Vec<(String, Vec<i64>)> = vec![
        ("".into(), vec![3, 2, 1]),
        ("scope=running".into(), vec![2]),
        ("scope=pending".into(), vec![3]),
        ("scope=finished".into(), vec![1]),
        ("scope=branches".into(), vec![3, 2]),
        ("scope=tags".into(), vec![]),
        ("status=success".into(), vec![1]),
        ("status=pending".into(), vec![3]),
        ("status=failed".into(), vec![]),
        ("ref=main".into(), vec![3, 1]),
        ("ref=dev".into(), vec![2]),
        (format!("sha={sha}"), vec![3, 1]),
        ("source=api".into(), vec![2]),
        ("source=trigger".into(), vec![3, 1]),
        ("source=push".into(), vec![]),
        ("username=mock-user".into(), vec![3, 2, 1]),
        ("username=somebody".into(), vec![]),
        ("updated_after=2026-12-03T10:00:05Z".into(), vec![3, 1]),
        ("updated_before=2026-12-03T10:00:06Z".into(), vec![2]),
        ("created_after=2026-12-03T10:00:00Z".into(), vec![3, 2]),
        ("created_before=2026-12-03T10:00:05Z".into(), vec![1]),
        ("yaml_errors=false".into(), vec![3, 2, 1]),
        ("yaml_errors=true".into(), vec![]),
        ("name=Build".into(), vec![]),
        ("ref=main&status=pending".into(), vec![3]),
    ];

    for (query, expected) in cases {
        let answer = mock.get(&format!("/projects/123/pipelines?{query}")).await;

        assert_eq!(ids(&answer), expected, "query {query:?}");
    }
}

/// `order_by` and `sort` order the list; ties fall back to the id.
#[tokio::test]
async fn list_orders_by_each_key_in_both_directions() {
    let mock = three_pipelines().await;
    let cases = [
        ("sort=asc", vec![1, 2, 3]),
        ("sort=desc", vec![3, 2, 1]),
        ("order_by=id&sort=asc", vec![1, 2, 3]),
        ("order_by=ref&sort=asc", vec![2, 1, 3]),
        ("order_by=ref", vec![3, 1, 2]),
        ("order_by=status&sort=asc", vec![3, 2, 1]),
        ("order_by=updated_at&sort=asc", vec![2, 3, 1]),
        ("order_by=updated_at", vec![1, 3, 2]),
        ("order_by=user_id", vec![3, 2, 1]),
    ];

    for (query, expected) in cases {
        let answer = mock.get(&format!("/projects/123/pipelines?{query}")).await;

        assert_eq!(ids(&answer), expected, "query {query:?}");
    }
}

/// List items are GitLab's PipelineBasicWithMetadata: the basic fields and `name`, nothing more.
#[tokio::test]
async fn list_items_have_the_basic_fields_and_name() {
    let mock = three_pipelines().await;

    let answer = mock.get("/projects/123/pipelines").await;

    let item = &answer.expect(200)[0];
    assert_eq!(
        keys(item),
        vec![
            "created_at",
            "id",
            "iid",
            "name",
            "project_id",
            "ref",
            "sha",
            "source",
            "status",
            "updated_at",
            "web_url",
        ]
    );
    assert_eq!(item["status"], "pending");
    assert_eq!(item["name"], Value::Null);
}

/// A filter value outside its set is Grape's 400 with `error`; a malformed date, page or
/// `per_page` is `is invalid`.
#[tokio::test]
async fn invalid_list_parameters_are_400() {
    let mock = TestMock::new();
    let cases = [
        ("scope=done", "scope does not have a valid value"),
        ("status=finished", "status does not have a valid value"),
        ("source=cron", "source does not have a valid value"),
        ("order_by=name", "order_by does not have a valid value"),
        ("sort=up", "sort does not have a valid value"),
        (
            "yaml_errors=maybe",
            "yaml_errors does not have a valid value",
        ),
        ("updated_after=yesterday", "updated_after is invalid"),
        ("updated_before=soon", "updated_before is invalid"),
        ("created_after=2026-13-45", "created_after is invalid"),
        ("created_before=x", "created_before is invalid"),
        ("page=abc", "page is invalid"),
        ("per_page=many", "per_page is invalid"),
    ];

    for (query, expected) in cases {
        let answer = mock.get(&format!("/projects/123/pipelines?{query}")).await;

        assert_eq!(
            answer.expect(400),
            &json!({"error": expected}),
            "query {query:?}"
        );
    }
}

/// Pagination headers and absolute `Link` URLs, built from the request's host and full path
/// (the `/api/v4` prefix included), on the first, a middle and the last page.
#[tokio::test]
async fn list_pages_carry_headers_and_links() {
    let mock = TestMock::new();
    for _ in 0..5 {
        mock.trigger(json!({"token": "T", "ref": "main"}))
            .await
            .expect(201);
    }
    let base = "http://localhost:8000/api/v4/projects/123/pipelines?ref=main";
    let link = |page: u32| format!("<{base}&page={page}&per_page=2>");

    let first = mock
        .get("/api/v4/projects/123/pipelines?ref=main&per_page=2")
        .await;
    let middle = mock
        .get("/api/v4/projects/123/pipelines?ref=main&per_page=2&page=2")
        .await;
    let last = mock
        .get("/api/v4/projects/123/pipelines?page=3&ref=main&per_page=2")
        .await;

    assert_eq!(ids(&first), vec![5, 4]);
    assert_eq!(ids(&middle), vec![3, 2]);
    assert_eq!(ids(&last), vec![1]);
    let expected = [
        (&first, "1", "2", ""),
        (&middle, "2", "3", "1"),
        (&last, "3", "", "2"),
    ];
    for (answer, page, next, prev) in expected {
        assert_eq!(header(answer, "x-page"), page);
        assert_eq!(header(answer, "x-per-page"), "2");
        assert_eq!(header(answer, "x-next-page"), next);
        assert_eq!(header(answer, "x-prev-page"), prev);
        assert_eq!(header(answer, "x-total"), "5");
        assert_eq!(header(answer, "x-total-pages"), "3");
    }
    let (first_page, last_page) = (link(1), link(3));
    assert_eq!(
        header(&first, "link"),
        format!(
            "{}; rel=\"next\", {first_page}; rel=\"first\", {last_page}; rel=\"last\"",
            link(2)
        )
    );
    assert_eq!(
        header(&middle, "link"),
        format!(
            "{}; rel=\"prev\", {}; rel=\"next\", {first_page}; rel=\"first\", {last_page}; \
             rel=\"last\"",
            link(1),
            link(3)
        )
    );
    assert_eq!(
        header(&last, "link"),
        format!(
            "{}; rel=\"prev\", {first_page}; rel=\"first\", {last_page}; rel=\"last\"",
            link(2)
        )
    );
}

/// `Link` URLs keep the project path encoded as the client sent it (`jdoe%2Fdemo`), so a client
/// following `next` reaches the rest of the same list.
#[tokio::test]
async fn list_links_keep_an_encoded_project_path() {
    let mock = TestMock::new();
    register_demo(&mock).await;
    for _ in 0..2 {
        mock.trigger(json!({"token": "T", "ref": "main"}))
            .await
            .expect(201);
    }
    let next_url = "http://localhost:8000/api/v4/projects/jdoe%2Fdemo/pipelines?page=2&per_page=1";

    let first = mock
        .get("/api/v4/projects/jdoe%2Fdemo/pipelines?per_page=1")
        .await;
    let next = mock
        .get(next_url.trim_start_matches("http://localhost:8000"))
        .await;

    let link = header(&first, "link");
    assert!(
        link.starts_with(&format!("<{next_url}>; rel=\"next\"")),
        "{link}"
    );
    assert_eq!(ids(&first), vec![2]);
    assert_eq!(ids(&next), vec![1]);
}

/// Without the prefix the links follow the bare path; `per_page` defaults to 20 and is cut to
/// 100; a page past the end is empty but keeps the totals.
#[tokio::test]
async fn list_page_sizes_default_and_cap() {
    let mock = TestMock::new();
    for _ in 0..3 {
        mock.trigger(json!({"token": "T", "ref": "main"}))
            .await
            .expect(201);
    }

    let default = mock.get("/projects/123/pipelines").await;
    let capped = mock.get("/projects/123/pipelines?per_page=1000").await;
    let beyond = mock.get("/projects/123/pipelines?page=9").await;

    assert_eq!(header(&default, "x-per-page"), "20");
    assert_eq!(header(&default, "x-total-pages"), "1");
    let first = "<http://localhost:8000/projects/123/pipelines?page=1&per_page=20>";
    assert_eq!(
        header(&default, "link"),
        format!("{first}; rel=\"first\", {first}; rel=\"last\"")
    );
    assert_eq!(header(&capped, "x-per-page"), "100");
    assert_eq!(ids(&capped), vec![3, 2, 1]);
    assert_eq!(ids(&beyond), Vec::<i64>::new());
    assert_eq!(header(&beyond, "x-total"), "3");
    assert_eq!(header(&beyond, "x-next-page"), "");
}

/// `latest` answers the newest pipeline of the ref, or of the default branch, with `name`; a
/// ref without pipelines is GitLab's 403.
#[tokio::test]
async fn latest_pipeline_follows_the_ref_and_default_branch() {
    let mock = TestMock::new();
    let project = json!({"id": 123, "path": "jdoe/demo", "default_branch": "develop"});
    mock.json("POST", "/_mock/projects", project)
        .await
        .expect(201);
    for git_ref in ["develop", "feature", "develop", "main"] {
        mock.trigger(json!({"token": "T", "ref": git_ref}))
            .await
            .expect(201);
    }

    let default = mock.get("/api/v4/projects/123/pipelines/latest").await;
    let feature = mock
        .get("/projects/jdoe%2Fdemo/pipelines/latest?ref=feature")
        .await;
    let missing = mock.get("/projects/123/pipelines/latest?ref=nothing").await;

    assert_eq!(default.expect(200)["id"], 3);
    assert_eq!(default.body["ref"], "develop");
    assert_eq!(default.body.get("name"), Some(&Value::Null));
    assert_eq!(feature.expect(200)["id"], 2);
    missing.expect_message(403, "403 Forbidden");
}

/// Cancel answers 200 with the canceled pipeline: `started_at` kept, `finished_at` and
/// `duration` stamped, and the scenario's later success never comes.
#[tokio::test]
async fn cancel_stops_a_running_pipeline() {
    let mock = TestMock::new();
    let id = trigger_scenario(&mock, 60).await;
    mock.advance(10.0).await;

    let canceled = post_empty(&mock, &format!("/projects/123/pipelines/{id}/cancel")).await;
    mock.advance(100.0).await;
    let later = pipeline(&mock, id).await;

    let body = canceled.expect(200);
    assert_eq!(body["status"], "canceled");
    assert_eq!(body["started_at"], at("10:00:00"));
    assert_eq!(body["finished_at"], at("10:00:10"));
    assert_eq!(body["updated_at"], at("10:00:10"));
    assert_eq!(body["duration"], 10);
    assert!(body.get("name").is_none());
    assert_eq!(later["status"], "canceled");
    assert_eq!(later["finished_at"], at("10:00:10"));
}

/// Cancel on a pipeline that already finished is 200 with the pipeline unchanged.
#[tokio::test]
async fn cancel_leaves_a_finished_pipeline_unchanged() {
    let mock = TestMock::new();
    let id = trigger_scenario(&mock, 5).await;
    mock.advance(20.0).await;
    let before = pipeline(&mock, id).await;

    let answer = post_empty(&mock, &format!("/projects/123/pipelines/{id}/cancel")).await;

    let body = answer.expect(200);
    for field in [
        "status",
        "started_at",
        "finished_at",
        "updated_at",
        "duration",
    ] {
        assert_eq!(body[field], before[field], "{field}");
    }
    assert_eq!(body["status"], "success");
}

/// Retry answers 201 and reruns a failed pipeline from now, keeping the first `started_at` and
/// clearing `finished_at` until the rerun ends.
#[tokio::test]
async fn retry_reruns_a_failed_pipeline_from_now() {
    let mock = TestMock::new();
    let failing = json!({"token": "T", "ref": "main", "terminal_after_seconds": 10,
                         "terminal_status": "failed"});
    let id = id_of(&mock.trigger(failing).await);
    mock.advance(15.0).await;

    let retried = post_empty(&mock, &format!("/projects/123/pipelines/{id}/retry")).await;
    mock.advance(9.0).await;
    let running = pipeline(&mock, id).await;
    mock.advance(1.0).await;
    let failed = pipeline(&mock, id).await;

    let body = retried.expect(201);
    assert_eq!(body["status"], "running");
    assert_eq!(body["started_at"], at("10:00:00"));
    assert_eq!(body["finished_at"], Value::Null);
    assert_eq!(body["duration"], Value::Null);
    assert_eq!(body["updated_at"], at("10:00:15"));
    assert!(body.get("name").is_none());
    assert_eq!(running["status"], "running");
    assert_eq!(failed["status"], "failed");
    assert_eq!(failed["started_at"], at("10:00:00"));
    assert_eq!(failed["finished_at"], at("10:00:25"));
    assert_eq!(failed["updated_at"], at("10:00:25"));
}

/// Retry reruns a canceled pipeline too.
#[tokio::test]
async fn retry_reruns_a_canceled_pipeline() {
    let mock = TestMock::new();
    let id = trigger_scenario(&mock, 20).await;
    mock.advance(5.0).await;
    let cancel = format!("/projects/123/pipelines/{id}/cancel");
    post_empty(&mock, &cancel).await.expect(200);
    mock.advance(5.0).await;

    let retried = post_empty(&mock, &format!("/projects/123/pipelines/{id}/retry")).await;
    mock.advance(20.0).await;
    let done = pipeline(&mock, id).await;

    assert_eq!(retried.expect(201)["status"], "running");
    assert_eq!(retried.body["finished_at"], Value::Null);
    assert_eq!(done["status"], "success");
    assert_eq!(done["started_at"], at("10:00:00"));
    assert_eq!(done["finished_at"], at("10:00:30"));
}

/// Retry of a pipeline with nothing to retry (succeeded or still running) is a 201 no-op.
#[tokio::test]
async fn retry_is_a_no_op_unless_failed_or_canceled() {
    let mock = TestMock::new();
    let done = trigger_scenario(&mock, 5).await;
    let busy = trigger_scenario(&mock, 0).await;
    mock.advance(10.0).await;
    let (done_before, busy_before) = (pipeline(&mock, done).await, pipeline(&mock, busy).await);

    let retry = |id: i64| format!("/projects/123/pipelines/{id}/retry");
    let done_after = post_empty(&mock, &retry(done)).await;
    let busy_after = post_empty(&mock, &retry(busy)).await;

    for (after, before) in [(&done_after, &done_before), (&busy_after, &busy_before)] {
        let body = after.expect(201);
        for field in [
            "status",
            "started_at",
            "finished_at",
            "updated_at",
            "duration",
        ] {
            assert_eq!(body[field], before[field], "{field}");
        }
    }
    assert_eq!(done_after.body["status"], "success");
    assert_eq!(busy_after.body["status"], "running");
}

/// DELETE answers 204 with an empty body; the pipeline is then a 404 with GitLab's
/// lower-case "Not found", and so is a second delete.
#[tokio::test]
async fn delete_removes_the_pipeline() {
    let mock = TestMock::new();
    let id = id_of(&mock.trigger(json!({"token": "T", "ref": "main"})).await);

    let deleted = mock
        .delete(&format!("/api/v4/projects/123/pipelines/{id}"))
        .await;
    let gone = mock.get(&format!("/projects/123/pipelines/{id}")).await;
    let again = mock.delete(&format!("/projects/123/pipelines/{id}")).await;

    deleted.expect(204);
    assert!(deleted.raw.is_empty());
    gone.expect_message(404, "404 Not found");
    again.expect_message(404, "404 Not found");
    assert_eq!(pipeline_count(&mock).await, 0);
}

/// A pipeline is reachable only through its own project: another project's routes answer 404
/// and cannot delete it.
#[tokio::test]
async fn pipelines_belong_to_their_project() {
    let mock = TestMock::new();
    let id = id_of(&mock.trigger(json!({"token": "T", "ref": "main"})).await);

    let read = mock.get(&format!("/projects/456/pipelines/{id}")).await;
    let deleted = mock.delete(&format!("/projects/456/pipelines/{id}")).await;

    read.expect_message(404, "404 Not found");
    deleted.expect_message(404, "404 Not found");
    assert_eq!(pipeline(&mock, id).await["id"], id);
}

/// The variables endpoint lists the trigger's variables and `TRIGGER_PAYLOAD`, a file variable
/// holding every parameter but the token, with the project id as the client wrote it.
#[tokio::test]
async fn variables_include_the_trigger_payload() {
    let (mock, token) = demo_with_trigger_token().await;
    let fields = json!({"token": token, "ref": "main", "variables": {"B": "two", "A": "1"}});

    let created = post_anonymously(&mock, "/projects/jdoe%2Fdemo/trigger/pipeline", fields).await;
    let listed = variables(&mock, id_of(&created)).await;

    assert_eq!(listed.len(), 3);
    assert_eq!(
        listed[0],
        json!({"variable_type": "env_var", "key": "A", "value": "1"})
    );
    assert_eq!(
        listed[1],
        json!({"variable_type": "env_var", "key": "B", "value": "two"})
    );
    assert_eq!(listed[2]["key"], "TRIGGER_PAYLOAD");
    assert_eq!(listed[2]["variable_type"], "file");
    let payload: Value = serde_json::from_str(listed[2]["value"].as_str().unwrap()).unwrap();
    assert_eq!(
        payload,
        json!({"ref": "main", "id": "jdoe/demo", "variables": {"A": "1", "B": "two"}})
    );
    assert!(!listed[2]["value"].as_str().unwrap().contains(&token));
}

/// The pipeline's job follows its status, with float `duration` and `queued_duration` that
/// grow with the clock while it runs, and the list's pagination headers.
#[tokio::test]
async fn jobs_follow_the_pipeline_with_float_durations() {
    let mock = TestMock::new();
    let id = trigger_scenario(&mock, 1000).await;
    let jobs = format!("/api/v4/projects/123/pipelines/{id}/jobs");

    mock.advance(2.0).await;
    let pending = mock.get(&jobs).await;
    mock.advance(3.25).await;
    let running = mock.get(&jobs).await;
    mock.advance(54.75).await;
    let done = mock.get(&jobs).await;

    let job = &pending.expect(200)[0];
    assert_eq!(job["status"], "pending");
    assert_eq!(
        (
            &job["started_at"],
            &job["duration"],
            &job["queued_duration"]
        ),
        (&Value::Null, &Value::Null, &Value::Null)
    );
    let job = &running.expect(200)[0];
    assert_eq!(job["status"], "running");
    assert_eq!(job["started_at"], at("10:00:05"));
    assert!(job["duration"].is_f64() && job["queued_duration"].is_f64());
    assert_eq!(job["duration"].as_f64(), Some(0.25));
    assert_eq!(job["queued_duration"].as_f64(), Some(5.0));
    assert_eq!(job["finished_at"], Value::Null);
    let job = &done.expect(200)[0];
    assert_eq!(job["status"], "success");
    assert_eq!(job["finished_at"], at("10:01:00"));
    assert!(job["duration"].is_f64());
    assert_eq!(job["duration"].as_f64(), Some(55.0));
    assert_eq!(job["pipeline"]["id"], id);
    assert_eq!(job["pipeline"]["status"], "success");
    assert_eq!(header(&done, "x-total"), "1");
    assert_eq!(header(&done, "x-page"), "1");
}

/// `POST /projects/:id/pipeline` with JSON takes variables as a list of
/// `{key, value, variable_type}`, answers 201 with source `api`, and adds no
/// `TRIGGER_PAYLOAD`.
#[tokio::test]
async fn create_pipeline_reads_a_json_variable_list() {
    let mock = TestMock::new();
    let body = json!({"ref": "main", "variables": [
        {"key": "A", "value": "1"},
        {"key": "CONFIG", "value": "x: 1", "variable_type": "file"},
    ]});

    let created = mock
        .json("POST", "/api/v4/projects/123/pipeline", body)
        .await;
    let listed = variables(&mock, id_of(&created)).await;

    assert_eq!(created.body["source"], "api");
    assert_eq!(created.body["ref"], "main");
    assert!(created.body.get("name").is_none());
    assert_eq!(
        listed,
        vec![
            json!({"variable_type": "env_var", "key": "A", "value": "1"}),
            json!({"variable_type": "file", "key": "CONFIG", "value": "x: 1"}),
        ]
    );
}

/// The create endpoint also reads the Rust crate's urlencoded `variables[][key]=` form and the
/// indexed `variables[0][key]=` form.
#[tokio::test]
async fn create_pipeline_reads_form_variable_lists() {
    let mock = TestMock::new();
    let listed = "ref=main&variables[][key]=A&variables[][value]=1\
                  &variables[][variable_type]=env_var&variables[][key]=B\
                  &variables[][value]=2&variables[][variable_type]=file";
    let indexed = "ref=main&variables[1][key]=Y&variables[1][value]=y\
                   &variables[0][key]=X&variables[0][value]=x";

    let from_list = mock.form("/projects/123/pipeline", listed).await;
    let from_indexed = mock.form("/projects/123/pipeline", indexed).await;

    assert_eq!(
        variables(&mock, id_of(&from_list)).await,
        vec![
            json!({"variable_type": "env_var", "key": "A", "value": "1"}),
            json!({"variable_type": "file", "key": "B", "value": "2"}),
        ]
    );
    assert_eq!(
        variables(&mock, id_of(&from_indexed)).await,
        vec![
            json!({"variable_type": "env_var", "key": "X", "value": "x"}),
            json!({"variable_type": "env_var", "key": "Y", "value": "y"}),
        ]
    );
}

/// `POST /projects/:id/pipeline` ignores `inputs` altogether, whatever its shape: unlike the
/// trigger, which checks it is a map and keeps it in `TRIGGER_PAYLOAD`, create neither checks
/// nor stores it (GitLab would pass the inputs to the pipeline's configuration).
#[tokio::test]
async fn create_pipeline_ignores_inputs() {
    let mock = TestMock::new();

    for inputs in [json!({"env": "prod"}), json!("not a map"), json!([1, 2])] {
        let body = json!({"ref": "main", "inputs": inputs});
        let created = mock.json("POST", "/projects/123/pipeline", body).await;
        let id = id_of(&created);
        let answer = String::from_utf8_lossy(&created.raw);
        assert!(
            !answer.contains("inputs") && !answer.contains("prod"),
            "{answer}"
        );
        assert_eq!(variables(&mock, id).await, Vec::<Value>::new(), "{inputs}");
    }
}

/// `detailed_status.text` is the lower-case word older GitLab printed (`passed`, `blocked`,
/// `delayed`), and `has_details` is `true` whatever the status.
#[tokio::test]
async fn detailed_status_text_is_lower_case_and_has_details_is_always_true() {
    let mock = TestMock::new();
    let expected = [
        (0, "running", "running"),
        (1002, "created", "created"),
        (1003, "pending", "pending"),
        (5, "success", "passed"),
        (1001, "failed", "failed"),
        (1004, "manual", "blocked"),
        (1006, "skipped", "skipped"),
        (1011, "scheduled", "delayed"),
    ];
    let mut ids = Vec::new();
    for (scenario_id, _, _) in expected {
        ids.push(trigger_scenario(&mock, scenario_id).await);
    }

    mock.advance(100.0).await;

    for ((scenario_id, status, text), id) in expected.into_iter().zip(ids) {
        let body = pipeline(&mock, id).await;
        assert_eq!(body["status"], status, "scenario {scenario_id}");
        let detailed = &body["detailed_status"];
        assert_eq!(detailed["text"], text, "scenario {scenario_id}");
        assert_eq!(detailed["has_details"], true, "scenario {scenario_id}");
    }
}

/// The create endpoint needs credentials (401), a ref (400 `error`) and a variable list (a map
/// is `variables is invalid`).
#[tokio::test]
async fn create_pipeline_refuses_bad_requests() {
    let mock = TestMock::new();
    let path = "/projects/123/pipeline";

    let anonymous_create = post_anonymously(&mock, path, json!({"ref": "main"})).await;
    let no_ref = mock.json("POST", path, json!({})).await;
    let map = mock
        .json(
            "POST",
            path,
            json!({"ref": "main", "variables": {"A": "1"}}),
        )
        .await;

    anonymous_create.expect_message(401, "401 Unauthorized");
    assert_eq!(
        no_ref.expect(400),
        &json!({"error": "ref is missing, ref is empty"})
    );
    assert_eq!(map.expect(400), &json!({"error": "variables is invalid"}));
    assert_eq!(pipeline_count(&mock).await, 0);
}

/// Trigger tokens: created with a `glptt-` value, listed, used without credentials, deleted
/// (204), after which the project is back to needing a PRIVATE-TOKEN.
#[tokio::test]
async fn trigger_tokens_are_created_listed_and_deleted() {
    let mock = TestMock::new();
    register_demo(&mock).await;
    let path = "/api/v4/projects/jdoe%2Fdemo/triggers";

    let empty = mock.get(path).await;
    let created = mock
        .json("POST", path, json!({"description": "deploys"}))
        .await;
    let listed = mock.get(path).await;
    let token = created.body["token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let fields = json!({"token": token, "ref": "main"});
    let used = post_anonymously(&mock, "/projects/123/trigger/pipeline", fields.clone()).await;
    let id = created.body["id"].clone();
    let deleted = mock.delete(&format!("{path}/{id}")).await;
    let after = mock.get(path).await;
    let refused = post_anonymously(&mock, "/projects/123/trigger/pipeline", fields).await;

    assert_eq!(empty.expect(200), &json!([]));
    let body = created.expect(201);
    assert!(
        token.starts_with("glptt-") && token.len() == 46,
        "token {token}"
    );
    assert!(body["id"].is_i64());
    assert_eq!(body["description"], "deploys");
    assert_eq!(body["created_at"], at("10:00:00"));
    assert_eq!(body["owner"]["username"], "mock-user");
    assert_eq!(listed.expect(200).as_array().unwrap().len(), 1);
    assert_eq!(listed.body[0]["token"], token.as_str());
    used.expect(201);
    deleted.expect(204);
    assert_eq!(after.expect(200), &json!([]));
    refused.expect_message(401, "401 Unauthorized");
}

/// Creating a token needs a description (400 `error`); deleting an unknown one is a 404.
#[tokio::test]
async fn trigger_token_requests_are_validated() {
    let mock = TestMock::new();

    let missing = mock.json("POST", "/projects/123/triggers", json!({})).await;
    let unknown = mock.delete("/projects/123/triggers/99").await;

    assert_eq!(
        missing.expect(400),
        &json!({"error": "description is missing"})
    );
    unknown.expect(404);
}

/// A rule with `times` serves that many matching triggers, then the default applies again;
/// the rule list counts the uses, and a deleted rule no longer applies.
#[tokio::test]
async fn rules_choose_scenarios_a_limited_number_of_times() {
    let mock = TestMock::new();
    let rule = json!({"project_id": 123, "ref": "main", "scenario_id": 1001, "times": 1});
    let created = mock.json("POST", "/_mock/rules", rule).await;

    let other_ref = mock.trigger(json!({"token": "T", "ref": "dev"})).await;
    let first = mock.trigger(json!({"token": "T", "ref": "main"})).await;
    let second = mock.trigger(json!({"token": "T", "ref": "main"})).await;
    let listed = mock.get("/_mock/rules").await;
    let deleted = mock
        .delete(&format!("/_mock/rules/{}", created.body["id"]))
        .await;
    let after = mock.get("/_mock/rules").await;

    let body = created.expect(201);
    assert_eq!((&body["times"], &body["used"]), (&json!(1), &json!(0)));
    assert_eq!(other_ref.expect(201)["scenario_id"], Value::Null);
    assert_eq!(first.expect(201)["scenario_id"], 1001);
    assert_eq!(first.body["status"], "created");
    assert_eq!(second.expect(201)["scenario_id"], Value::Null);
    assert_eq!(listed.expect(200)[0]["used"], 1);
    deleted.expect(204);
    assert_eq!(after.expect(200), &json!([]));
}

/// Rules match on the trigger token and on variables, and the first matching rule wins.
#[tokio::test]
async fn rules_match_token_and_variables() {
    let mock = TestMock::new();
    let by_token = json!({"token": "NIGHTLY", "scenario_id": 1006});
    let by_variables = json!({"variables": {"MODE": "slow"}, "scenario_id": 500});
    mock.json("POST", "/_mock/rules", by_token)
        .await
        .expect(201);
    mock.json("POST", "/_mock/rules", by_variables)
        .await
        .expect(201);

    let token = mock
        .trigger(json!({"token": "NIGHTLY", "ref": "main"}))
        .await;
    let variable = mock
        .trigger(json!({"token": "T", "ref": "main", "variables": {"MODE": "slow", "X": "1"}}))
        .await;
    let other = mock
        .trigger(json!({"token": "T", "ref": "main", "variables": {"MODE": "fast"}}))
        .await;
    let both = mock
        .trigger(json!({"token": "NIGHTLY", "ref": "main", "variables": {"MODE": "slow"}}))
        .await;

    assert_eq!(token.expect(201)["scenario_id"], 1006);
    assert_eq!(variable.expect(201)["scenario_id"], 500);
    assert_eq!(other.expect(201)["scenario_id"], Value::Null);
    assert_eq!(both.expect(201)["scenario_id"], 1006);
}

/// A rule naming a scenario that does not exist, or `times` below 1, is a 422.
#[tokio::test]
async fn invalid_rules_are_422() {
    let mock = TestMock::new();

    let unknown = mock
        .json("POST", "/_mock/rules", json!({"scenario_id": 4242}))
        .await;
    let zero = mock
        .json(
            "POST",
            "/_mock/rules",
            json!({"scenario_id": 1, "times": 0}),
        )
        .await;

    unknown.expect_error_mentioning(422, "scenario_id 4242 does not exist");
    zero.expect_error_mentioning(422, "times must be 1 or more");
}

/// `GET /projects/:id` by id or encoded path answers GitLab's project with exact JSON types.
#[tokio::test]
async fn project_has_gitlab_shape_by_id_and_by_path() {
    let mock = TestMock::new();
    register_demo(&mock).await;

    let by_path = mock.get("/api/v4/projects/jdoe%2Fdemo").await;
    let by_id = mock.get("/projects/123").await;

    let body = by_path.expect(200);
    assert_eq!(body, by_id.expect(200));
    assert!(body["id"].is_i64());
    assert_eq!(body["id"], 123);
    assert_eq!(body["name"], "demo");
    assert_eq!(body["path"], "demo");
    assert_eq!(body["path_with_namespace"], "jdoe/demo");
    assert_eq!(body["name_with_namespace"], "jdoe / demo");
    assert_eq!(body["default_branch"], "main");
    assert_eq!(body["web_url"], "http://localhost:8000/jdoe/demo");
    assert_eq!(
        body["http_url_to_repo"],
        "http://localhost:8000/jdoe/demo.git"
    );
    assert_eq!(body["namespace"]["full_path"], "jdoe");
    assert!(body["namespace"]["id"].is_i64());
    assert_eq!(body["visibility"], "private");
    assert_eq!(body["archived"], false);
    assert_eq!(body["empty_repo"], false);
    assert!(body["forks_count"].is_i64() && body["star_count"].is_i64());
    assert_eq!(body["tag_list"], json!([]));
    assert_eq!(body["topics"], json!([]));
    assert_eq!(body["description"], Value::Null);
    assert!(body["created_at"].is_string() && body["last_activity_at"].is_string());
}

/// A path never seen gets an id on first use, keeps it, and `%2D` decodes like `%2F`; a bare
/// name is no project.
#[tokio::test]
async fn project_paths_get_an_id_on_first_use() {
    let mock = TestMock::new();
    register_demo(&mock).await;

    let first = mock.get("/projects/acme%2Fnew%2Dthing").await;
    let again = mock.get("/projects/acme%2Fnew-thing").await;
    let bare = mock.get("/projects/demo").await;

    assert_eq!(first.expect(200)["path_with_namespace"], "acme/new-thing");
    let id = first.body["id"].as_i64().unwrap();
    assert_eq!(id, 124);
    assert_eq!(again.expect(200)["id"], id);
    assert_eq!(
        mock.get(&format!("/projects/{id}")).await.expect(200)["name"],
        "new-thing"
    );
    bare.expect_message(404, "404 Project Not Found");
}

/// A path seen for the first time gets an id no project uses yet: not the id of a numeric
/// project that already owns a trigger token, whose token must stay foreign to the new path.
#[tokio::test]
async fn new_paths_do_not_take_the_id_of_a_project_with_trigger_tokens() {
    let mock = TestMock::new();
    let token = create_trigger_token(&mock, "1").await;
    let fields = json!({"token": token, "ref": "main"});

    let project = mock.get("/projects/acme%2Ftool").await;
    let foreign = post_anonymously(&mock, "/projects/acme%2Ftool/trigger/pipeline", fields).await;

    assert_ne!(
        project.expect(200)["id"],
        1,
        "acme/tool took the id of project 1"
    );
    foreign.expect_message(404, "404 Not Found");
}

/// `GET /user` answers the fields typed clients require, with their JSON types; without
/// credentials it is a 401.
#[tokio::test]
async fn user_has_the_fields_typed_clients_require() {
    let mock = TestMock::new();

    let user = mock.get("/api/v4/user").await;
    let nobody = mock.send(anonymous("GET", "/api/v4/user")).await;

    let body = user.expect(200);
    assert_eq!(body["id"], 1);
    assert_eq!(body["username"], "mock-user");
    assert_eq!(body["state"], "active");
    for field in [
        "name",
        "web_url",
        "avatar_url",
        "email",
        "skype",
        "linkedin",
        "twitter",
    ] {
        assert!(body[field].is_string(), "{field}");
    }
    assert!(body["website_url"].is_string());
    for field in ["projects_limit", "color_scheme_id", "theme_id"] {
        assert!(body[field].is_i64(), "{field}");
    }
    let flags = [
        "can_create_group",
        "can_create_project",
        "two_factor_enabled",
        "external",
    ];
    for field in flags.into_iter().chain(["locked", "bot", "is_admin"]) {
        assert!(body[field].is_boolean(), "{field}");
    }
    assert_eq!(body["identities"], json!([]));
    nobody.expect_message(401, "401 Unauthorized");
}

/// The webhook form takes the ref from the path, dots and slashes (encoded or not) included,
/// and the path's ref beats a ref in the body.
#[tokio::test]
async fn webhook_form_takes_the_ref_from_the_path() {
    let (mock, token) = demo_with_trigger_token().await;
    let url = |project: &str, git_ref: &str| {
        format!("/api/v4/projects/{project}/ref/{git_ref}/trigger/pipeline?token={token}")
    };
    let cases = [
        (url("123", "v.1-branch"), "v.1-branch"),
        (url("123", "feature%2Flogin"), "feature/login"),
        (url("123", "feature/login"), "feature/login"),
        (url("jdoe%2Fdemo", "release/1.2.3"), "release/1.2.3"),
    ];

    let body = json!({"ref": "refs/heads/other-branch"});

    let overridden = post_anonymously(&mock, &url("123", "main"), body).await;
    for (path, expected) in cases {
        let answer = mock.send(anonymous("POST", &path)).await;

        assert_eq!(answer.expect(201)["ref"], expected, "{path}");
        assert_eq!(answer.body["project_id"], 123);
    }

    assert_eq!(overridden.expect(201)["ref"], "main");
}

/// GitLab stores every parameter but the token as `TRIGGER_PAYLOAD`, so a webhook's JSON body
/// reaches the pipeline (GitLab's documented "use a webhook payload"), with the path's ref.
#[tokio::test]
async fn webhook_body_is_kept_in_the_trigger_payload() {
    let (mock, token) = demo_with_trigger_token().await;
    let path = format!("/projects/123/ref/main/trigger/pipeline?token={token}");
    let push = json!({"object_kind": "push", "ref": "refs/heads/main", "checkout_sha": "abc123",
                      "project": {"id": 77, "path_with_namespace": "jdoe/upstream"}});
    let request = anonymous("POST", &path)
        .header("x-gitlab-event", "Push Hook")
        .json(&push);

    let answer = mock.send(request).await;
    let listed = variables(&mock, id_of(&answer)).await;

    let payload = listed
        .iter()
        .find(|v| v["key"] == "TRIGGER_PAYLOAD")
        .unwrap();
    let payload: Value = serde_json::from_str(payload["value"].as_str().unwrap()).unwrap();
    assert_eq!(payload["ref"], "main");
    assert_eq!(payload["id"], "123");
    assert!(payload.get("token").is_none());
    assert_eq!(payload["object_kind"], "push", "payload {payload}");
    assert_eq!(payload["checkout_sha"], "abc123");
    assert_eq!(payload["project"]["path_with_namespace"], "jdoe/upstream");
}

/// A form's `variables=value` (not a hash) is Grape's `variables is invalid`, as in GitLab's
/// spec, and creates nothing.
#[tokio::test]
async fn form_variables_given_as_a_plain_value_are_invalid() {
    let (mock, token) = demo_with_trigger_token().await;
    let request = anonymous("POST", "/projects/123/trigger/pipeline")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("token={token}&ref=main&variables=value"));

    let answer = mock.send(request).await;

    assert_eq!(
        answer.expect(400),
        &json!({"error": "variables is invalid"})
    );
    assert_eq!(pipeline_count(&mock).await, 0);
}

/// A trigger with everything in the query string and no body at all is a 201, query variables
/// included.
#[tokio::test]
async fn query_string_only_trigger_needs_no_body() {
    let (mock, token) = demo_with_trigger_token().await;
    let path = format!("/projects/123/trigger/pipeline?token={token}&ref=main&variables%5BK%5D=v");

    let answer = mock.send(anonymous("POST", &path)).await;

    assert_eq!(answer.expect(201)["ref"], "main");
    assert_eq!(answer.body["variables"], json!({"K": "v"}));
}

/// gitbeaker's shape: `token` and `ref` in the query string, variables as multipart
/// `variables[KEY]` fields; body fields win over query fields.
#[tokio::test]
async fn gitbeaker_query_and_multipart_trigger() {
    let (mock, token) = demo_with_trigger_token().await;
    let path = format!("/api/v4/projects/jdoe%2Fdemo/trigger/pipeline?token={token}&ref=main");
    let body = multipart(&[("variables[DEPLOY]", "yes"), ("variables[TIER]", "web")]);
    let overriding = multipart(&[("ref", "from-body")]);

    let send = |body: String| {
        anonymous("POST", &path)
            .header("content-type", MULTIPART)
            .body(body)
    };

    let answer = mock.send(send(body)).await;
    let merged = mock.send(send(overriding)).await;

    assert_eq!(answer.expect(201)["ref"], "main");
    assert_eq!(
        answer.body["variables"],
        json!({"DEPLOY": "yes", "TIER": "web"})
    );
    assert_eq!(merged.expect(201)["ref"], "from-body");
}

/// The trigger's checks run in GitLab's order: parameters, the pipeline-hook guard, variable
/// values, the project, the token, then the scenario's refusal.
#[tokio::test]
async fn trigger_checks_run_in_gitlab_order() {
    let (mock, token) = demo_with_trigger_token().await;
    let hook = |path: &str, body: Value| {
        anonymous("POST", path)
            .header("x-gitlab-event", "Pipeline Hook")
            .json(&body)
    };
    let plain = "/projects/123/trigger/pipeline";
    let typed = json!({"token": token, "ref": "main", "variables": {"N": 1}});

    let params_first = mock.send(hook(plain, json!({"ref": "main"}))).await;
    let hook_second = mock.send(hook(plain, typed.clone())).await;
    let values_third =
        post_anonymously(&mock, "/projects/nope/trigger/pipeline", typed.clone()).await;
    let fields = json!({"token": "WRONG", "ref": "main"});
    let project_fourth = post_anonymously(&mock, "/projects/0/trigger/pipeline", fields).await;
    let rejecting = json!({"token": "WRONG", "ref": "main", "scenario_id": 1007});
    let token_fifth = post_anonymously(&mock, plain, rejecting).await;
    let scenario_last = json!({"token": token, "ref": "main", "scenario_id": 1007});
    let refused = post_anonymously(&mock, plain, scenario_last).await;

    assert_eq!(
        params_first.expect(400),
        &json!({"error": "token is missing"})
    );
    hook_second.expect_message(403, "403 Forbidden");
    values_third.expect_message(400, "variables needs to be a map of key-valued strings");
    project_fourth.expect_message(404, "404 Not Found");
    token_fifth.expect_message(404, "404 Not Found");
    assert_eq!(
        refused.expect(400),
        &json!({"message": {"base": ["Reference not found"]}})
    );
    assert_eq!(pipeline_count(&mock).await, 0);
}

/// A project path that names no project (no slash) is the trigger's plain 404.
#[tokio::test]
async fn trigger_on_a_bare_project_name_is_404() {
    let mock = TestMock::new();
    let fields = json!({"token": "T", "ref": "main"});

    let answer = mock
        .json("POST", "/projects/demo/trigger/pipeline", fields)
        .await;

    answer.expect_message(404, "404 Not Found");
}

/// A project without trigger tokens needs the PRIVATE-TOKEN header: 401 without it.
#[tokio::test]
async fn project_without_trigger_tokens_needs_credentials() {
    let mock = TestMock::new();
    let fields = json!({"token": "ANY", "ref": "main"});

    let refused = post_anonymously(&mock, "/projects/123/trigger/pipeline", fields.clone()).await;
    let accepted = mock.trigger(fields).await;

    refused.expect_message(401, "401 Unauthorized");
    accepted.expect(201);
}

/// Mock-only fields with a wrong value are a 422 even with a valid trigger token.
#[tokio::test]
async fn wrong_mock_fields_are_422_with_a_trigger_token() {
    let (mock, token) = demo_with_trigger_token().await;
    let path = "/projects/123/trigger/pipeline";
    let cases = [
        (
            json!({"token": token, "ref": "main", "scenario_id": "x"}),
            "scenario_id",
        ),
        (
            json!({"token": token, "ref": "main", "terminal_status": "done"}),
            "terminal_status",
        ),
        (
            json!({"token": token, "ref": "main", "scenario_id": 31337}),
            "31337",
        ),
    ];

    for (fields, named) in cases {
        let answer = post_anonymously(&mock, path, fields).await;

        answer.expect_error_mentioning(422, named);
    }
    assert_eq!(pipeline_count(&mock).await, 0);
}

/// Global trigger tokens open every project without credentials, even a project that has
/// tokens of its own.
#[tokio::test]
async fn global_trigger_tokens_work_for_every_project() {
    let mock = TestMock::configured(|_, options| {
        options.global_trigger_tokens = vec!["GLOBAL_TOKEN".into()];
    });
    register_demo(&mock).await;
    create_trigger_token(&mock, "123").await;
    let fields = json!({"token": "GLOBAL_TOKEN", "ref": "main"});

    let own_tokens =
        post_anonymously(&mock, "/projects/123/trigger/pipeline", fields.clone()).await;
    let no_tokens = post_anonymously(&mock, "/projects/777/trigger/pipeline", fields).await;

    assert_eq!(own_tokens.expect(201)["project_id"], 123);
    assert_eq!(no_tokens.expect(201)["project_id"], 777);
}

/// Every GET route of a project, for the visibility checks.
fn project_reads() -> Vec<&'static str> {
    vec![
        "/projects/123",
        "/api/v4/projects/123/pipelines",
        "/projects/123/pipelines/latest",
        "/projects/123/pipelines/1",
        "/projects/123/pipelines/1/variables",
        "/projects/123/pipelines/1/jobs",
        "/projects/jdoe%2Fdemo/triggers",
    ]
}

/// With private projects, anonymous reads of every project route are GitLab's
/// `404 Project Not Found` with no `status` key, while anonymous writes are still 401.
#[tokio::test]
async fn private_projects_hide_from_anonymous_reads() {
    let mock = TestMock::configured(|settings, _| settings.private_projects = true);
    register_demo(&mock).await;
    mock.trigger(json!({"token": "T", "ref": "main"}))
        .await
        .expect(201);

    let cancel = mock
        .send(anonymous("POST", "/projects/123/pipelines/1/cancel"))
        .await;

    for path in project_reads() {
        let answer = mock.send(anonymous("GET", path)).await;

        answer.expect_message(404, "404 Project Not Found");
        assert!(answer.body.get("status").is_none(), "{path}");
        mock.get(path).await.expect(200);
    }
    cancel.expect_message(401, "401 Unauthorized");
}

/// A non-member token gets `404 Project Not Found` on every project route, reads and writes,
/// while `GET /user` names the outsider.
#[tokio::test]
async fn non_member_tokens_see_no_project() {
    let mock = TestMock::configured(|settings, _| {
        settings.non_member_tokens = vec!["OUTSIDER".to_owned()].into();
    });
    register_demo(&mock).await;
    mock.trigger(json!({"token": "T", "ref": "main"}))
        .await
        .expect(201);
    let outsider =
        |method: &str, path: &str| anonymous(method, path).header("private-token", "OUTSIDER");

    let cancel = mock
        .send(outsider("POST", "/projects/123/pipelines/1/cancel"))
        .await;
    let delete = mock
        .send(outsider("DELETE", "/projects/123/pipelines/1"))
        .await;
    let user = mock.send(outsider("GET", "/user")).await;

    for path in project_reads() {
        let answer = mock.send(outsider("GET", path)).await;

        answer.expect_message(404, "404 Project Not Found");
    }
    cancel.expect_message(404, "404 Project Not Found");
    delete.expect_message(404, "404 Project Not Found");
    assert_eq!(user.expect(200)["username"], "outsider");
    assert_eq!(pipeline(&mock, 1).await["status"], "running");
}

/// Without private projects, anonymous reads keep the seed's 401.
#[tokio::test]
async fn public_setting_answers_anonymous_reads_with_401() {
    let mock = TestMock::new();
    mock.trigger(json!({"token": "T", "ref": "main"}))
        .await
        .expect(201);

    let answer = mock
        .send(anonymous("GET", "/projects/123/pipelines/1"))
        .await;
    let authed_answer = mock.send(authed("GET", "/projects/123/pipelines/1")).await;

    answer.expect_message(401, "401 Unauthorized");
    authed_answer.expect(200);
}

/// Deleting the newest pipeline does not free its `iid`: GitLab never
/// reuses a pipeline number.
#[tokio::test]
async fn iid_is_never_reused() {
    let mock = TestMock::new();
    mock.trigger(json!({"token": "T", "ref": "m"}))
        .await
        .expect(201);
    let second = mock.trigger(json!({"token": "T", "ref": "m"})).await;
    let second_id = second.expect(201)["id"].as_i64().unwrap();

    mock.delete(&format!("/projects/123/pipelines/{second_id}"))
        .await
        .expect(204);
    let third = mock.trigger(json!({"token": "T", "ref": "m"})).await;

    assert_eq!(third.expect(201)["iid"], 3);
}
