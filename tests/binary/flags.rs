//! Every start-up setting through the real binary, set once as a flag and
//! once as its `MOCK_*` variable, and a flag beating its variable.
//!
//! `restart.rs` covers `--token`, `--allow-reset`, `--port` and `--db`;
//! this module owns the rest and every variable. Each process sees only the
//! variables its test sets (see [`MockProcess::start_with_env`]), so the
//! environment the suite runs in cannot decide what is tested.

use std::net::TcpListener;
use std::path::Path;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{
    FailedStart, MockProcess, Reply, Scratch, TOKEN, start_expecting_failure,
    start_expecting_failure_with,
};

/// The database of every test that keeps nothing.
const MEMORY: &str = ":memory:";

/// An address no machine running the tests owns (TEST-NET-1, RFC 5737), so
/// binding it fails: a variable that names it must lose to the flag.
const FOREIGN_ADDRESS: &str = "192.0.2.1";

/// The mock started with `flags` on a throw-away database.
fn with_flags(flags: &[&str]) -> MockProcess {
    MockProcess::start(Path::new(MEMORY), flags)
}

/// The mock started on a free port and a throw-away database with only the
/// variables of `env`.
fn with_env(env: &[(&str, &str)]) -> MockProcess {
    MockProcess::start_with_env(&["--port", "0", "--db", MEMORY], env)
}

/// A trigger of `main` in `project` with `token` as its only credential.
async fn trigger_with(mock: &MockProcess, project: &str, token: &str) -> Reply {
    let path = format!("/projects/{project}/trigger/pipeline");
    let body = json!({ "token": token, "ref": "main" });
    Reply::of(mock.request(Method::POST, &path).json(&body)).await
}

/// `GET path` with `token` as `PRIVATE-TOKEN`, or without credentials.
async fn get_as(mock: &MockProcess, path: &str, token: Option<&str>) -> Reply {
    let request = mock.request(Method::GET, path);
    let request = match token {
        Some(token) => request.header("PRIVATE-TOKEN", token),
        None => request,
    };
    Reply::of(request).await
}

/// A port some other socket holds for as long as the listener lives.
fn occupied_port() -> (TcpListener, u16) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a free port can be bound");
    let port = listener.local_addr().expect("it has an address").port();
    (listener, port)
}

/// The port of an `http://127.0.0.1:PORT` base URL.
fn loopback_port(base_url: &str) -> u16 {
    let port = base_url
        .strip_prefix("http://127.0.0.1:")
        .unwrap_or_else(|| panic!("{base_url} is not on 127.0.0.1"));
    port.parse().expect("a port number")
}

#[track_caller]
fn assert_refused_to_listen(failed: &FailedStart, address: &str) {
    assert_eq!(failed.status.code(), Some(1), "{}", failed.stderr);
    assert!(
        failed
            .stderr
            .contains(&format!("cannot listen on {address}")),
        "the refusal does not name {address}: {}",
        failed.stderr
    );
}

/// What `--trigger-token A --trigger-token B` and `MOCK_TRIGGER_TOKENS=A,B`
/// both mean: A and B trigger in any project, a numbered one or a path,
/// with no credentials. A token the project does not know is refused as
/// GitLab refuses it, with a 404, once the project has tokens of its own;
/// without, the project keeps the seed's rule and wants the header (401).
async fn assert_a_and_b_are_trigger_tokens(mock: &MockProcess) {
    for token in ["A", "B"] {
        for project in ["7", "jdoe%2Fdemo"] {
            let triggered = trigger_with(mock, project, token).await;
            let pipeline = triggered.expect(StatusCode::CREATED);
            assert_eq!(pipeline["ref"], "main", "{token} in {project}");
        }
    }

    let unknown = trigger_with(mock, "7", "C").await;
    let refused = unknown.expect(StatusCode::UNAUTHORIZED);
    assert_eq!(refused, json!({ "message": "401 Unauthorized" }));
    let description = json!({ "description": "own" });
    mock.post("/projects/7/triggers", description)
        .await
        .expect(StatusCode::CREATED);
    let unknown = trigger_with(mock, "7", "C").await;
    let refused = unknown.expect(StatusCode::NOT_FOUND);
    assert_eq!(refused, json!({ "message": "404 Not Found" }));
    let with_header = mock
        .authorized(Method::POST, "/projects/7/trigger/pipeline")
        .json(&json!({ "token": "C", "ref": "main" }));
    let refused = Reply::of(with_header).await.expect(StatusCode::NOT_FOUND);
    assert_eq!(refused, json!({ "message": "404 Not Found" }));
    let global = trigger_with(mock, "7", "A").await;
    global.expect(StatusCode::CREATED);
}

#[tokio::test]
async fn trigger_tokens_from_the_repeated_flag() {
    let mock = with_flags(&["--trigger-token", "A", "--trigger-token", "B"]);
    assert_a_and_b_are_trigger_tokens(&mock).await;
}

/// The variable is split at commas, so `A,B` itself is no token.
#[tokio::test]
async fn trigger_tokens_from_the_comma_separated_variable() {
    let mock = with_env(&[("MOCK_TRIGGER_TOKENS", "A,B")]);
    assert_a_and_b_are_trigger_tokens(&mock).await;
    let whole = trigger_with(&mock, "7", "A,B").await;
    whole.expect(StatusCode::NOT_FOUND);
}

/// `created` makes the trigger answer `created`, as GitLab's does; the
/// pipeline runs from that same instant, so the next poll on the frozen
/// clock already says `running`.
async fn assert_triggers_answer_created(mock: &MockProcess) {
    mock.freeze().await;
    let trigger = json!({ "token": "T", "ref": "main", "terminal_after_seconds": 60 });
    let triggered = mock.post("/projects/3/trigger/pipeline", trigger).await;
    let pipeline = triggered.expect(StatusCode::CREATED);
    assert_eq!(pipeline["status"], "created");
    assert_eq!(pipeline["started_at"], Value::Null);
    let id = pipeline["id"].as_i64().expect("an id");
    assert_eq!(mock.status(3, id).await, "running");
    mock.advance(60).await;
    assert_eq!(mock.status(3, id).await, "success");
}

#[tokio::test]
async fn initial_status_created_from_the_flag() {
    let mock = with_flags(&["--initial-status", "created"]);
    assert_triggers_answer_created(&mock).await;
}

#[tokio::test]
async fn initial_status_created_from_the_variable() {
    let mock = with_env(&[("MOCK_INITIAL_STATUS", "created")]);
    assert_triggers_answer_created(&mock).await;
}

/// With private projects, a read without credentials is told the project
/// does not exist, as GitLab tells it for a private project; a write
/// without credentials is still a 401, and the token still reads.
async fn assert_projects_are_private(mock: &MockProcess) {
    let trigger = json!({ "token": "T", "ref": "main" });
    mock.post("/projects/1/trigger/pipeline", trigger)
        .await
        .expect(StatusCode::CREATED);
    for path in [
        "/projects/1",
        "/projects/1/pipelines/1",
        "/api/v4/projects/1/pipelines",
    ] {
        let read = get_as(mock, path, None).await.expect(StatusCode::NOT_FOUND);
        assert_eq!(
            read,
            json!({ "message": "404 Project Not Found" }),
            "{path}"
        );
        get_as(mock, path, Some(TOKEN)).await.expect(StatusCode::OK);
    }
    let cancel = mock.request(Method::POST, "/projects/1/pipelines/1/cancel");
    let refused = Reply::of(cancel).await.expect(StatusCode::UNAUTHORIZED);
    assert_eq!(refused, json!({ "message": "401 Unauthorized" }));
}

#[tokio::test]
async fn private_projects_from_the_flag() {
    let mock = with_flags(&["--private-projects"]);
    assert_projects_are_private(&mock).await;
}

/// `1` switches it on; `0` leaves the seed's 401.
#[tokio::test]
async fn private_projects_from_the_variable() {
    let mock = with_env(&[("MOCK_PRIVATE_PROJECTS", "1")]);
    assert_projects_are_private(&mock).await;

    let public = with_env(&[("MOCK_PRIVATE_PROJECTS", "0")]);
    let read = get_as(&public, "/projects/1", None).await;
    let refused = read.expect(StatusCode::UNAUTHORIZED);
    assert_eq!(refused, json!({ "message": "401 Unauthorized" }));
}

/// A non-member token signs in (`GET /user` names the outsider) but sees
/// no project, and opens none of the control routes.
async fn assert_is_an_outsider(mock: &MockProcess, token: &str) {
    let user = get_as(mock, "/user", Some(token)).await;
    let user = user.expect(StatusCode::OK);
    assert_eq!(
        (&user["id"], &user["username"]),
        (&json!(2), &json!("outsider"))
    );
    for path in [
        "/projects/1",
        "/projects/1/pipelines",
        "/projects/jdoe%2Fdemo/triggers",
    ] {
        let hidden = get_as(mock, path, Some(token)).await;
        let hidden = hidden.expect(StatusCode::NOT_FOUND);
        assert_eq!(
            hidden,
            json!({ "message": "404 Project Not Found" }),
            "{path}"
        );
    }
    let create = mock
        .request(Method::POST, "/projects/1/pipeline")
        .header("PRIVATE-TOKEN", token)
        .json(&json!({ "ref": "main" }));
    let hidden = Reply::of(create).await.expect(StatusCode::NOT_FOUND);
    assert_eq!(hidden, json!({ "message": "404 Project Not Found" }));
    let control = get_as(mock, "/_mock/clock", Some(token)).await;
    control.expect(StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn non_member_token_from_the_flag() {
    let mock = with_flags(&["--non-member-token", "X"]);
    assert_is_an_outsider(&mock, "X").await;
    let member = get_as(&mock, "/user", Some(TOKEN)).await;
    assert_eq!(member.expect(StatusCode::OK)["username"], "mock-user");
}

#[tokio::test]
async fn non_member_tokens_from_the_comma_separated_variable() {
    let mock = with_env(&[("MOCK_NON_MEMBER_TOKENS", "X,Y")]);
    assert_is_an_outsider(&mock, "X").await;
    assert_is_an_outsider(&mock, "Y").await;
    let whole = get_as(&mock, "/user", Some("X,Y")).await;
    whole.expect(StatusCode::UNAUTHORIZED);
}

/// `MOCK_TOKEN` replaces the default token, and `MOCK_ALLOW_RESET=true`
/// enables reset; `no` leaves it off, as the lenient switches read it.
#[tokio::test]
async fn token_and_allow_reset_from_the_variables() {
    let env = [("MOCK_TOKEN", "from-env"), ("MOCK_ALLOW_RESET", "true")];
    let mock = with_env(&env);

    let default_token = get_as(&mock, "/_mock/clock", Some(TOKEN)).await;
    default_token.expect(StatusCode::UNAUTHORIZED);
    let own = get_as(&mock, "/_mock/clock", Some("from-env")).await;
    own.expect(StatusCode::OK);
    let trigger = json!({ "token": "T", "ref": "main" });
    mock.post("/projects/9/trigger/pipeline", trigger)
        .await
        .expect(StatusCode::CREATED);
    let reset = mock.post_empty("/_mock/reset").await;
    assert_eq!(reset.expect(StatusCode::OK), json!({ "status": "reset" }));
    let listed = mock.get("/_mock/pipelines").await.expect(StatusCode::OK);
    assert_eq!(listed, json!([]));

    let locked = with_env(&[("MOCK_ALLOW_RESET", "no")]);
    let refused = locked.post_empty("/_mock/reset").await;
    refused.expect(StatusCode::FORBIDDEN);
}

/// With no flags at all, `MOCK_PORT=0`, `MOCK_BIND` and `MOCK_DB` decide
/// where the mock listens and keeps its data. Each variable is also shown
/// to be read by a value that makes the start fail.
#[tokio::test]
async fn port_bind_and_db_from_the_variables() {
    let scratch = Scratch::new("port_bind_db_from_env");
    let db = scratch.file("from-env.db");
    let db_text = db.to_str().expect("database path is UTF-8");
    let env = [
        ("MOCK_PORT", "0"),
        ("MOCK_BIND", "127.0.0.1"),
        ("MOCK_DB", db_text),
    ];
    let mock = MockProcess::start_with_env(&[], &env);

    let port = loopback_port(mock.base_url());
    assert!(
        port != 0 && port != 8000,
        "port {port} was not picked for 0"
    );
    let trigger = json!({ "token": "T", "ref": "main" });
    mock.post("/projects/4/trigger/pipeline", trigger)
        .await
        .expect(StatusCode::CREATED);
    assert!(db.exists(), "MOCK_DB names the database file");
    drop(mock);

    let (_holder, taken) = occupied_port();
    let taken_text = taken.to_string();
    let env = [("MOCK_PORT", taken_text.as_str())];
    let failed = start_expecting_failure_with(&["--db", MEMORY], &env);
    assert_refused_to_listen(&failed, &format!("127.0.0.1:{taken}"));
    let env = [("MOCK_PORT", "0"), ("MOCK_BIND", FOREIGN_ADDRESS)];
    let failed = start_expecting_failure_with(&["--db", MEMORY], &env);
    assert_refused_to_listen(&failed, &format!("{FOREIGN_ADDRESS}:0"));
}

/// Every flag given beside a variable that says otherwise wins: a port
/// and an address the variables name could not even be bound, the
/// variable's database file is never created, and each setting behaves as
/// its flag says.
#[tokio::test]
async fn each_flag_wins_over_its_variable() {
    let scratch = Scratch::new("flags_win");
    let (env_db, flag_db) = (scratch.file("env.db"), scratch.file("flag.db"));
    let (_holder, taken) = occupied_port();
    let taken = taken.to_string();
    let env = [
        ("MOCK_PORT", taken.as_str()),
        ("MOCK_BIND", FOREIGN_ADDRESS),
        ("MOCK_DB", env_db.to_str().expect("UTF-8")),
        ("MOCK_TOKEN", "env-token"),
        ("MOCK_ALLOW_RESET", "false"),
        ("MOCK_TRIGGER_TOKENS", "ENV_TRIGGER"),
        ("MOCK_NON_MEMBER_TOKENS", "ENV_OUTSIDER"),
        ("MOCK_PRIVATE_PROJECTS", "0"),
        ("MOCK_INITIAL_STATUS", "created"),
    ];
    let flags = [
        "--port",
        "0",
        "--bind",
        "127.0.0.1",
        "--db",
        flag_db.to_str().expect("UTF-8"),
        "--token",
        "flag-token",
        "--allow-reset",
        "--trigger-token",
        "FLAG_TRIGGER",
        "--non-member-token",
        "FLAG_OUTSIDER",
        "--private-projects",
        "--initial-status",
        "running",
    ];
    let mock = MockProcess::start_with_env(&flags, &env);

    loopback_port(mock.base_url());
    assert!(flag_db.exists() && !env_db.exists());
    get_as(&mock, "/_mock/clock", Some("flag-token"))
        .await
        .expect(StatusCode::OK);
    get_as(&mock, "/_mock/clock", Some("env-token"))
        .await
        .expect(StatusCode::UNAUTHORIZED);

    let triggered = trigger_with(&mock, "5", "FLAG_TRIGGER").await;
    let pipeline = triggered.expect(StatusCode::CREATED);
    assert_eq!(pipeline["status"], "running", "--initial-status wins");
    mock.post("/projects/5/triggers", json!({ "description": "own" }))
        .await
        .expect(StatusCode::CREATED);
    let env_trigger = trigger_with(&mock, "5", "ENV_TRIGGER").await;
    env_trigger.expect(StatusCode::NOT_FOUND);

    let outsider = get_as(&mock, "/user", Some("FLAG_OUTSIDER")).await;
    assert_eq!(outsider.expect(StatusCode::OK)["username"], "outsider");
    let stranger = get_as(&mock, "/user", Some("ENV_OUTSIDER")).await;
    stranger.expect(StatusCode::UNAUTHORIZED);
    let private = get_as(&mock, "/projects/5", None).await;
    assert_eq!(
        private.expect(StatusCode::NOT_FOUND),
        json!({ "message": "404 Project Not Found" })
    );

    let reset = mock.post_empty("/_mock/reset").await;
    reset.expect(StatusCode::OK);
}

/// An empty token would let in every request that sends an empty
/// `PRIVATE-TOKEN` header, control routes and reset included, so an empty
/// `--token` or `MOCK_TOKEN` stops the start with a usage error (exit 2).
#[test]
fn an_empty_token_is_refused_at_start() {
    let refusals = [
        start_expecting_failure(&["--port", "0", "--db", MEMORY, "--token", ""]),
        start_expecting_failure(&["--port", "0", "--db", MEMORY, "--token", "  "]),
        start_expecting_failure_with(&["--port", "0", "--db", MEMORY], &[("MOCK_TOKEN", "")]),
    ];
    for refused in refusals {
        assert_eq!(refused.status.code(), Some(2), "{}", refused.stderr);
        assert!(
            refused.stderr.contains("--token") && refused.stderr.contains("empty"),
            "unclear refusal: {}",
            refused.stderr
        );
    }
}
