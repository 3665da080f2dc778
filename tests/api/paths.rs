//! Project ids spelt as paths: a URL-encoded full path of any depth names
//! the same project as its numeric id on every pipeline route, and an
//! unencoded slash names no project at all.
//!
//! Clients that know a project by its path (`group/sub/project`) send it
//! encoded as one segment, as GitLab requires, and subgroups make that
//! segment hold more than one `%2F`.

use serde_json::{Value, json};

use super::gitlab::{create_trigger_token, pipeline_count, post_empty};
use super::support::{Answer, TestMock, anonymous};

/// A project two groups deep, as one encoded `:id` segment.
const NESTED: &str = "group%2Fsub%2Fproject";

/// `/api/v4/projects/<NESTED>` followed by `rest`.
fn nested(rest: &str) -> String {
    format!("/api/v4/projects/{NESTED}{rest}")
}

/// The JSON body of a trigger on `ref` whose pipeline runs ten seconds and
/// then fails, so that cancel and retry both have something to act on.
fn failing_trigger(git_ref: &str) -> Value {
    json!({"token": "T", "ref": git_ref, "variables": {"FOO": "bar"},
           "terminal_after_seconds": 10, "terminal_status": "failed"})
}

fn status(answer: &Answer) -> &str {
    answer.body["status"].as_str().unwrap_or_default()
}

/// Trigger, get, variables, jobs, cancel, retry and delete all reach the
/// pipeline through the nested path, which stands for the one project its
/// first use numbered: the numeric id shows the same pipeline, and a
/// pipeline of another project is not found through the path.
#[tokio::test]
async fn a_nested_group_path_works_on_every_pipeline_route() {
    let mock = TestMock::new();
    let other = mock.trigger(failing_trigger("main")).await;
    let other_id = other.expect(201)["id"].clone();

    let triggered = mock
        .json(
            "POST",
            &nested("/trigger/pipeline"),
            failing_trigger("main"),
        )
        .await;
    let body = triggered.expect(201);
    let (id, project_id) = (body["id"].clone(), body["project_id"].clone());
    assert_eq!(id, 2);
    let project = mock.get(&nested("")).await;
    assert_eq!(project.expect(200)["id"], project_id);
    assert_eq!(project.body["path_with_namespace"], "group/sub/project");
    assert_eq!(project.body["namespace"]["full_path"], "group/sub");
    assert_eq!(
        body["web_url"],
        "http://localhost:8000/group/sub/project/-/pipelines/2"
    );

    let by_path = mock.get(&nested("/pipelines/2")).await;
    let by_id = mock
        .get(&format!("/api/v4/projects/{project_id}/pipelines/2"))
        .await;
    assert_eq!(status(&by_path), "running");
    assert_eq!(by_path.expect(200), by_id.expect(200));
    mock.get(&nested(&format!("/pipelines/{other_id}")))
        .await
        .expect_message(404, "404 Not found");

    let variables = mock.get(&nested("/pipelines/2/variables")).await;
    let variables = variables.expect(200).as_array().unwrap();
    assert_eq!(
        variables[0],
        json!({"variable_type": "env_var", "key": "FOO", "value": "bar"})
    );
    let payload = variables[1]["value"].as_str().unwrap();
    let payload: Value = serde_json::from_str(payload).unwrap();
    assert_eq!(
        payload["id"], "group/sub/project",
        "the id as the client sent it"
    );

    let jobs = mock.get(&nested("/pipelines/2/jobs")).await;
    let job = &jobs.expect(200)[0];
    assert_eq!(job["status"], "running");
    assert_eq!(job["pipeline"]["project_id"], project_id);
    assert_eq!(
        job["web_url"],
        "http://localhost:8000/group/sub/project/-/jobs/2"
    );

    let canceled = post_empty(&mock, &nested("/pipelines/2/cancel")).await;
    assert_eq!(canceled.expect(200)["status"], "canceled");
    let retried = post_empty(&mock, &nested("/pipelines/2/retry")).await;
    assert_eq!(retried.expect(201)["status"], "running");
    mock.advance(10.0).await;
    assert_eq!(status(&mock.get(&nested("/pipelines/2")).await), "failed");

    mock.delete(&nested("/pipelines/2")).await.expect(204);
    mock.get(&nested("/pipelines/2"))
        .await
        .expect_message(404, "404 Not found");
    assert_eq!(pipeline_count(&mock).await, 1, "only the other project's");
}

/// The nested path also carries trigger tokens: one created through the
/// path is listed there, triggers the webhook form without credentials and
/// is deleted through the path.
#[tokio::test]
async fn a_nested_group_path_owns_its_trigger_tokens() {
    let mock = TestMock::new();
    let token = create_trigger_token(&mock, NESTED).await;

    let listed = mock.get(&nested("/triggers")).await;
    let trigger_id = listed.expect(200)[0]["id"].clone();
    assert_eq!(listed.body[0]["token"], token.as_str());
    let webhook = nested(&format!(
        "/ref/release%2F1.2/trigger/pipeline?token={token}"
    ));
    let triggered = mock.send(anonymous("POST", &webhook)).await;
    assert_eq!(triggered.expect(201)["ref"], "release/1.2");
    let project = mock.get(&nested("")).await;
    assert_eq!(triggered.body["project_id"], project.expect(200)["id"]);

    mock.delete(&nested(&format!("/triggers/{trigger_id}")))
        .await
        .expect(204);
    assert_eq!(mock.get(&nested("/triggers")).await.expect(200), &json!([]));
}

/// `jdoe/demo` sent with a bare slash is two path segments, so the URL
/// matches no route at all: every pipeline route answers the router's
/// `{"error":"404 Not Found"}`, with or without `/api/v4`, and nothing
/// happens to the pipeline that `jdoe%2Fdemo` does hold.
#[tokio::test]
async fn an_unencoded_slash_is_no_project() {
    let mock = TestMock::new();
    mock.json(
        "POST",
        "/projects/jdoe%2Fdemo/trigger/pipeline",
        failing_trigger("main"),
    )
    .await
    .expect(201);

    let routes = [
        ("POST", "/projects/jdoe/demo/trigger/pipeline"),
        ("POST", "/projects/jdoe/demo/ref/main/trigger/pipeline"),
        ("POST", "/projects/jdoe/demo/pipeline"),
        ("GET", "/projects/jdoe/demo/pipelines"),
        ("GET", "/projects/jdoe/demo/pipelines/1"),
        ("GET", "/projects/jdoe/demo/pipelines/1/variables"),
        ("GET", "/projects/jdoe/demo/pipelines/1/jobs"),
        ("POST", "/projects/jdoe/demo/pipelines/1/cancel"),
        ("POST", "/projects/jdoe/demo/pipelines/1/retry"),
        ("DELETE", "/projects/jdoe/demo/pipelines/1"),
        ("GET", "/projects/jdoe/demo/triggers"),
        ("GET", "/projects/jdoe/demo"),
    ];
    for (method, path) in routes {
        for prefix in ["", "/api/v4"] {
            let path = format!("{prefix}{path}");
            let body = json!({"token": "T", "ref": "main"});
            let answer = mock.json(method, &path, body).await;
            assert_eq!(
                answer.expect(404),
                &json!({"error": "404 Not Found"}),
                "{method} {path}"
            );
        }
    }

    assert_eq!(pipeline_count(&mock).await, 1, "no trigger went through");
    let kept = mock.get("/projects/jdoe%2Fdemo/pipelines/1").await;
    assert_eq!(kept.expect(200)["status"], "running", "not canceled");
}
