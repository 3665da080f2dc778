//! The seed documents' curl examples, run verbatim through bash against the
//! real binary, and GitLab's own documented multipart trigger.
//!
//! Each example sits in `fixtures/seed_curl/` exactly as the seed prints it.
//! Only the server's address and the placeholder pipeline ids are replaced
//! before the command runs. `curl` and `jq` are required: a machine without
//! them fails these tests rather than skipping them.

use std::process::Command;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{MockProcess, Scratch, TOKEN, stamp};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/seed_curl");

/// The address every seed example uses.
const SEED_BASE_URL: &str = "http://localhost:8000";

/// What the examples write where a real pipeline id belongs.
const PIPELINE_PLACEHOLDERS: [&str; 2] = ["456789", "<ID_FROM_ABOVE>"];

/// Fails the test unless every tool the examples call can run.
fn require_tools() {
    for tool in ["bash", "curl", "jq"] {
        let ran = Command::new(tool).arg("--version").output();
        match ran {
            Ok(output) if output.status.success() => {}
            Ok(output) => panic!(
                "`{tool} --version` failed ({}): the seed's curl examples need {tool}; \
                 install it (apt-get install curl jq)",
                output.status
            ),
            Err(error) => panic!(
                "{tool} cannot run ({error}): the seed's curl examples need it; \
                 install it (apt-get install curl jq)"
            ),
        }
    }
}

/// Runs the example in `file` against `mock`, with `pipeline_id` in place
/// of the placeholder id, and returns what it printed.
fn run(mock: &MockProcess, file: &str, pipeline_id: Option<i64>) -> String {
    let path = format!("{FIXTURES}/{file}");
    let example = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("cannot read {path}: {error}"));
    assert!(
        example.contains(SEED_BASE_URL),
        "{file} does not call {SEED_BASE_URL}"
    );
    let mut script = example.replace(SEED_BASE_URL, mock.base_url());
    if let Some(id) = pipeline_id {
        let placeholder = PIPELINE_PLACEHOLDERS
            .into_iter()
            .find(|placeholder| script.contains(placeholder))
            .unwrap_or_else(|| panic!("{file} has no placeholder pipeline id"));
        script = script.replace(placeholder, &id.to_string());
    }

    let output = Command::new("bash")
        .args(["-o", "pipefail", "-c", &script])
        .env("MOCK_TOKEN", TOKEN)
        .env("NO_PROXY", "*")
        .output()
        .unwrap_or_else(|error| panic!("cannot run bash for {file}: {error}"));
    let stdout = String::from_utf8(output.stdout).expect("the output is UTF-8");
    assert!(
        output.status.success(),
        "{file} failed ({}):\n{script}\n--- stdout ---\n{stdout}\n--- stderr ---\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// Runs the example and parses its output as one JSON value.
fn run_json(mock: &MockProcess, file: &str, pipeline_id: Option<i64>) -> Value {
    let stdout = run(mock, file, pipeline_id);
    serde_json::from_str(&stdout)
        .unwrap_or_else(|error| panic!("{file} printed no JSON value ({error}): {stdout:?}"))
}

fn id_of(pipeline: &Value) -> i64 {
    pipeline["id"]
        .as_i64()
        .unwrap_or_else(|| panic!("no id: {pipeline}"))
}

/// Triggers a pipeline of project 123 with `scenario_id` through the API.
async fn trigger_with_scenario(mock: &MockProcess, scenario_id: i64) -> i64 {
    let body = json!({ "token": "T", "ref": "main", "scenario_id": scenario_id });
    let reply = mock.post("/projects/123/trigger/pipeline", body).await;
    id_of(&reply.expect(StatusCode::CREATED))
}

/// API.md 2.1 to 2.5 on one fresh server: both trigger encodings, the poll
/// through jq, a custom scenario and the deletion of a preset all do what
/// the seed says.
#[tokio::test]
async fn api_md_examples_work_verbatim() {
    require_tools();
    let scratch = Scratch::new("seed_api_md");
    let mock = MockProcess::start(&scratch.db(), &[]);
    let start = mock.freeze().await;
    let poll = |id| run_json(&mock, "api_2_3_poll.sh", Some(id));

    let form = run_json(&mock, "api_2_1_trigger_form.sh", None);
    let variables = json!({ "FOO": "bar", "RUN_MODE": "smoke" });
    assert_eq!(form["status"], "running", "{form}");
    assert_eq!(form["project_id"], 123);
    assert_eq!(form["ref"], "main");
    assert_eq!(form["source"], "trigger");
    assert_eq!(form["variables"], variables);
    assert_eq!(form["scenario_id"], 500);
    assert_eq!(form["terminal_after_seconds"], 300);
    assert_eq!(form["terminal_status"], "success");
    assert_eq!(form["created_at"], stamp(start));

    let inline = run_json(&mock, "api_2_2_trigger_json.sh", None);
    assert_eq!(inline["status"], "running", "{inline}");
    assert_eq!(inline["variables"], variables);
    assert_eq!(inline["scenario_id"], Value::Null);
    assert_eq!(inline["terminal_after_seconds"], 10);
    assert_eq!(inline["terminal_status"], "success");
    let (form_id, inline_id) = (id_of(&form), id_of(&inline));
    assert_eq!(inline_id, form_id + 1);

    assert_eq!(poll(form_id), "running");
    assert_eq!(poll(inline_id), "running");
    mock.advance(10).await;
    assert_eq!(poll(inline_id), "success");
    assert_eq!(poll(form_id), "running");
    mock.advance(290).await;
    assert_eq!(poll(form_id), "success");

    let scenario = run_json(&mock, "api_2_4_create_scenario.sh", None);
    let expected = json!({
        "scenario_id": 900,
        "name": "ten minutes then fail",
        "terminal_after_seconds": 600,
        "terminal_status": "failed",
        "never_complete": false,
        "phases": null,
        "reject": null,
    });
    assert_eq!(scenario, expected);
    let failing = trigger_with_scenario(&mock, 900).await;
    mock.advance(599).await;
    assert_eq!(poll(failing), "running");
    mock.advance(1).await;
    assert_eq!(poll(failing), "failed");

    let deleted = run(&mock, "api_2_5_delete_scenario.sh", None);
    assert_eq!(deleted, "", "a deletion answers 204 with no body");
    let scenarios = mock.get("/_mock/scenarios").await.expect(StatusCode::OK);
    let scenarios = scenarios.as_array().expect("a list");
    assert!(
        scenarios.iter().all(|s| s["scenario_id"] != 500),
        "500 is gone"
    );
    let body = json!({ "token": "T", "ref": "main", "scenario_id": 500 });
    let refused = mock.post("/projects/123/trigger/pipeline", body).await;
    refused.expect(StatusCode::UNPROCESSABLE_ENTITY);
    let kept = mock
        .get(&format!("/projects/123/pipelines/{form_id}"))
        .await;
    let kept = kept.expect(StatusCode::OK);
    assert_eq!(
        kept["status"], "success",
        "a pipeline keeps its deleted scenario's timing"
    );
    assert_eq!(kept["terminal_after_seconds"], 300);
}

/// The README's quick start on one fresh server: preset 500 finishes after
/// exactly five minutes, scenario 0 never does, and the custom "fail in 3m"
/// scenario fails after three.
#[tokio::test]
async fn readme_examples_work_verbatim() {
    require_tools();
    let scratch = Scratch::new("seed_readme");
    let mock = MockProcess::start(&scratch.db(), &[]);
    mock.freeze().await;
    let poll = |id| run_json(&mock, "readme_poll.sh", Some(id));

    let printed = run_json(&mock, "readme_trigger.sh", None);
    let id = printed
        .as_i64()
        .unwrap_or_else(|| panic!("jq .id printed {printed}"));
    assert_eq!(poll(id), "running");
    mock.advance(299).await;
    assert_eq!(poll(id), "running");
    mock.advance(1).await;
    assert_eq!(poll(id), "success");

    let never = run_json(&mock, "readme_never_complete.sh", None);
    assert_eq!(never["status"], "running", "{never}");
    assert_eq!(never["project_id"], 123);
    assert_eq!(never["scenario_id"], 0);
    assert_eq!(never["terminal_after_seconds"], Value::Null);
    mock.advance(365 * 24 * 60 * 60).await;
    assert_eq!(poll(id_of(&never)), "running", "a year later");

    let scenario = run_json(&mock, "readme_failing_scenario.sh", None);
    let expected = json!({
        "scenario_id": 900,
        "name": "fail in 3m",
        "terminal_after_seconds": 180,
        "terminal_status": "failed",
        "never_complete": false,
        "phases": null,
        "reject": null,
    });
    assert_eq!(scenario, expected);
    let failing = trigger_with_scenario(&mock, 900).await;
    mock.advance(179).await;
    assert_eq!(poll(failing), "running");
    mock.advance(1).await;
    assert_eq!(poll(failing), "failed");
}

/// GitLab's documented multipart trigger (`--form ... variables[KEY]=...`)
/// under `/api/v4` creates a pipeline with that variable and the default
/// five-minute success, readable under both prefixes.
#[tokio::test]
async fn gitlab_docs_multipart_trigger() {
    require_tools();
    let scratch = Scratch::new("gitlab_docs_multipart");
    let mock = MockProcess::start(&scratch.db(), &[]);
    let start = mock.freeze().await;

    let pipeline = run_json(&mock, "gitlab_docs_trigger_multipart.sh", None);
    assert_eq!(pipeline["status"], "running", "{pipeline}");
    assert_eq!(pipeline["project_id"], 123);
    assert_eq!(pipeline["ref"], "main");
    assert_eq!(pipeline["variables"], json!({ "UPLOAD_TO_S3": "true" }));
    assert_eq!(pipeline["scenario_id"], Value::Null);
    assert_eq!(pipeline["terminal_after_seconds"], 300);
    assert_eq!(pipeline["terminal_status"], "success");
    assert_eq!(pipeline["created_at"], stamp(start));

    let id = id_of(&pipeline);
    let web_url = format!("{}/mock/project-123/-/pipelines/{id}", mock.base_url());
    assert_eq!(pipeline["web_url"], web_url);
    assert_eq!(pipeline.get("name"), None, "only the single GET has `name`");
    let v4 = mock
        .get(&format!("/api/v4/projects/123/pipelines/{id}"))
        .await;
    let mut expected = pipeline;
    expected["name"] = Value::Null;
    assert_eq!(v4.expect(StatusCode::OK), expected);
    mock.advance(300).await;
    assert_eq!(mock.status(123, id).await, "success");
}
