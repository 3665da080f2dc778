//! python-gitlab, the client many GitLab pipelines are driven with, against
//! the real binary: trigger with variables, poll, move the clock, poll
//! again, then the same pipeline checked from the server's side; and its
//! whole loop, from a non-lazy project to cancel, retry, a listing over
//! several pages and a trigger token used without any other credentials.
//!
//! The client lives in a venv under `CARGO_TARGET_TMPDIR`, installed from
//! the pinned `fixtures/python/requirements.txt` once and reused by later
//! runs. A machine where python3, venv or pip fails fails these tests.

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

use jiff::SignedDuration;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{MockProcess, Scratch, TOKEN, instant, stamp};
use crate::venv::{self, Pinned, succeed};

const SCRIPT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/fixtures/python/trigger_and_poll.py"
);
const FULL_LOOP: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/python/full_loop.py");

/// The version the requirements pin and the summary must report.
const PYTHON_GITLAB: &str = "8.6.0";

/// The client and its dependencies.
const CLIENT: Pinned = Pinned {
    dir: "python-venv",
    requirements: concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/python/requirements.txt"
    ),
    distribution: "python-gitlab",
    version: PYTHON_GITLAB,
};

/// The venv's interpreter, or why it could not be made; set up once per
/// test binary.
static VENV_PYTHON: OnceLock<Result<PathBuf, String>> = OnceLock::new();

/// The python of a venv holding the pinned requirements.
fn venv_python() -> PathBuf {
    let prepared = VENV_PYTHON.get_or_init(|| CLIENT.prepare().map(|root| venv::python(&root)));
    prepared.clone().unwrap_or_else(|error| panic!("{error}"))
}

/// Runs `script` with the venv's python against `mock` and parses the JSON
/// summary it prints last.
fn run_script(script: &str, mock: &MockProcess) -> Value {
    let python = venv_python();
    let output = succeed(
        Command::new(&python)
            .arg(script)
            .args([mock.base_url(), TOKEN])
            .env("NO_PROXY", "*"),
        script,
    )
    .unwrap_or_else(|error| panic!("{error}\n--- mock log ---\n{}", mock.log().join("\n")));
    let stdout = String::from_utf8(output.stdout).expect("the summary is UTF-8");
    let line = stdout.lines().last().expect("the script prints a summary");
    serde_json::from_str(line)
        .unwrap_or_else(|error| panic!("the summary is not JSON ({error}): {line}"))
}

/// python-gitlab's `trigger_pipeline` sends JSON to `/api/v4` and reads
/// back `running`; its polls see `running`, then `success` once the clock
/// moves 300 s; a missing pipeline and a wrong token raise its 404 and 401
/// errors; and the server lists the pipeline with the client's variables.
#[tokio::test]
async fn python_gitlab_triggers_and_polls() {
    let scratch = Scratch::new("python_gitlab");
    let mock = MockProcess::start(&scratch.db(), &[]);
    let summary = run_script(SCRIPT, &mock);

    assert_eq!(summary["python_gitlab"], PYTHON_GITLAB);
    assert_eq!(summary["project_id"], 321);
    assert_eq!(summary["ref"], "main");
    assert_eq!(summary["triggered_status"], "running");
    assert_eq!(summary["polled_before_advance"], "running");
    assert_eq!(summary["polled_after_advance"], "success");
    assert_eq!(summary["variables"], json!({ "DEPLOY_ENV": "staging" }));
    assert_eq!(summary["missing_pipeline_code"], 404);
    assert_eq!(summary["wrong_token_code"], 401);
    let frozen_at = instant(&summary["frozen_at"]);
    let finished_at = frozen_at + SignedDuration::from_secs(300);
    assert_eq!(summary["created_at"], stamp(frozen_at));
    assert_eq!(summary["clock_after_advance"], stamp(finished_at));
    assert_eq!(summary["updated_at_after_advance"], stamp(finished_at));

    let listed = mock.get("/_mock/pipelines").await.expect(StatusCode::OK);
    let listed = listed.as_array().expect("a list");
    assert_eq!(
        listed.len(),
        1,
        "python-gitlab triggered exactly one pipeline"
    );
    let pipeline = &listed[0];
    assert_eq!(pipeline["id"], summary["pipeline_id"]);
    assert_eq!(pipeline["project_id"], 321);
    assert_eq!(pipeline["ref"], "main");
    assert_eq!(pipeline["source"], "trigger");
    assert_eq!(pipeline["status"], "success");
    assert_eq!(pipeline["variables"], json!({ "DEPLOY_ENV": "staging" }));
    assert_eq!(pipeline["terminal_after_seconds"], 300);
    assert_eq!(pipeline["terminal_status"], "success");
}

/// python-gitlab's whole loop on project 321, registered as
/// `acme/deploy-bot`: a non-lazy `projects.get` by path and by id; a
/// trigger whose jobs and variables (`TRIGGER_PAYLOAD` as a file) it
/// lists; `cancel` after 120 s, `retry`, and success 300 s later; 44 more
/// triggers listed with `get_all=True` over three pages of 20 by following
/// `Link` without a warning; then a trigger token from `triggers.create`
/// that triggers for a client without `private_token`, while a wrong one is
/// python-gitlab's 404 with or without a private token.
#[tokio::test]
async fn python_gitlab_full_loop() {
    let scratch = Scratch::new("python_gitlab_full_loop");
    let mock = MockProcess::start(&scratch.db(), &[]);
    let summary = run_script(FULL_LOOP, &mock);
    let base = mock.base_url();

    assert_eq!(summary["python_gitlab"], PYTHON_GITLAB);
    assert_eq!(summary["warnings"], json!([]), "python-gitlab warned");
    let t0 = instant(&summary["t0"]);
    let at = |seconds: i64| stamp(t0 + SignedDuration::from_secs(seconds));
    assert_eq!(summary["expected_finish"], at(420), "the script's own sum");

    let project = json!({
        "id": 321,
        "name": "deploy-bot",
        "path_with_namespace": "acme/deploy-bot",
        "web_url": format!("{base}/acme/deploy-bot"),
    });
    assert_eq!(summary["project"], project);
    let first = json!({
        "id": 1,
        "project_id": 321,
        "ref": "main",
        "source": "trigger",
        "created_at": at(0),
        "username": "mock-user",
    });
    assert_eq!(summary["first"], first);

    let variables = summary["variables"].as_array().expect("a list");
    assert_eq!(variables.len(), 2, "{variables:?}");
    assert_eq!(variables[0], json!(["DEPLOY_ENV", "env_var", "staging"]));
    assert_eq!(variables[1][0], "TRIGGER_PAYLOAD");
    assert_eq!(variables[1][1], "file");
    let payload: Value = serde_json::from_str(variables[1][2].as_str().expect("text"))
        .expect("TRIGGER_PAYLOAD is JSON");
    let sent = json!({
        "id": "321",
        "ref": "main",
        "variables": { "DEPLOY_ENV": "staging" },
        "inputs": {},
    });
    assert_eq!(payload, sent, "every trigger parameter but the token");

    let statuses = json!({
        "triggered": "running",
        "job_triggered": "running",
        "after_120s": "running",
        "cancel_answer": "canceled",
        "after_cancel": "canceled",
        "job_after_cancel": "canceled",
        "retry_answer": "running",
        "after_retry": "running",
        "job_after_retry": "running",
        "after_retry_300s": "success",
        "job_after_retry_300s": "success",
    });
    assert_eq!(summary["statuses"], statuses);
    let canceled = json!({ "finished_at": at(120), "duration": 120, "updated_at": at(120) });
    assert_eq!(summary["after_cancel"], canceled);
    let retried = json!({ "started_at": at(0), "finished_at": null });
    assert_eq!(summary["after_retry"], retried, "a retry keeps started_at");
    let finished = json!({ "started_at": at(0), "finished_at": at(420), "updated_at": at(420) });
    assert_eq!(summary["finished"], finished);

    assert_eq!(summary["bulk_ids"], json!((2..=45).collect::<Vec<i64>>()));
    let newest_first: Vec<i64> = (1..=45).rev().collect();
    assert_eq!(summary["listed_ids"], json!(newest_first));
    assert_eq!(
        summary["listed_statuses"],
        json!({ "running": 44, "success": 1 })
    );
    let list = format!("{base}/api/v4/projects/321/pipelines");
    let pages = json!([
        format!("{list}?per_page=20"),
        format!("{list}?page=2&per_page=20"),
        format!("{list}?page=3&per_page=20"),
    ]);
    assert_eq!(summary["list_requests"], pages, "followed Link's next");
    assert_eq!(summary["succeeded_ids"], json!(newest_first));

    let token = summary["trigger"]["token"].as_str().expect("a token");
    let digits = token.strip_prefix("glptt-").expect("GitLab's prefix");
    assert!(
        digits.len() == 40 && digits.bytes().all(|b| b.is_ascii_hexdigit()),
        "{token}"
    );
    assert_eq!(summary["trigger"]["description"], "ci");
    assert_eq!(summary["trigger"]["listed"], json!([token]));
    let via_token = json!({
        "id": 46,
        "status": "running",
        "ref": "release",
        "source": "trigger",
        "read_back_status": "running",
        "variables": [["TRIGGER_PAYLOAD", "file"], ["VIA", "env_var"]],
    });
    assert_eq!(summary["via_token"], via_token);
    let refused = json!({ "anonymous": 404, "with_private_token": 404 });
    assert_eq!(summary["wrong_token_codes"], refused);

    let listed = mock.get("/_mock/pipelines?project_id=321").await;
    let listed = listed.expect(StatusCode::OK);
    let listed = listed.as_array().expect("a list");
    assert_eq!(
        listed.len(),
        46,
        "45 with the mock's token, 1 with the trigger's"
    );
    let last = &listed[0];
    assert_eq!(last["id"], 46);
    assert_eq!(last["ref"], "release");
    assert_eq!(last["variables"], json!({ "VIA": "trigger-token" }));
    assert_eq!(last["created_at"], at(720));
    let web_url = format!("{base}/acme/deploy-bot/-/pipelines/46");
    assert_eq!(last["web_url"], web_url);
}
