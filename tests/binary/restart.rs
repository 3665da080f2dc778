//! The process and its database file: what survives a kill and a restart,
//! the `--port 0` log line, the flags, and the health check that needs no
//! token.

use jiff::{SignedDuration, Timestamp};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::start_expecting_failure;
use crate::support::{MockProcess, Reply, Scratch, TOKEN, instant, stamp};

/// `pipeline` as a mock listening on `new_base` shows it: every link that
/// named `old_base` (the pipeline's and its user's) names the new address.
fn moved(pipeline: &Value, old_base: &str, new_base: &str) -> Value {
    let text = pipeline.to_string().replace(old_base, new_base);
    serde_json::from_str(&text).expect("still JSON")
}

/// The ids of the presets a fresh database holds: the seed's 0 to 99, 100,
/// 200 and 500, then 1000 to 1011.
fn preset_ids() -> Vec<i64> {
    (0..=99).chain([100, 200, 500]).chain(1000..=1011).collect()
}

fn scenario_ids(scenarios: &Value) -> Vec<i64> {
    let scenarios = scenarios.as_array().expect("scenarios are a list");
    scenarios
        .iter()
        .map(|scenario| scenario["scenario_id"].as_i64().expect("an id"))
        .collect()
}

/// A killed and restarted mock finds its frozen clock at the same instant,
/// its pipelines and custom scenarios unchanged, and moves on from there.
#[tokio::test]
async fn restart_keeps_frozen_clock_pipelines_and_scenarios() {
    let scratch = Scratch::new("restart_keeps_frozen_clock");
    let mut mock = MockProcess::start(&scratch.db(), &[]);

    let (now, frozen) = mock.clock().await;
    assert!(!frozen, "a new database starts on system time");
    let at = Timestamp::from_second(now.as_second() + 60).unwrap();
    assert_eq!(mock.freeze_at(at).await, at);

    let scenario = json!({
        "scenario_id": 901,
        "name": "ninety seconds then fail",
        "terminal_after_seconds": 90,
        "terminal_status": "failed",
        "never_complete": false,
    });
    let created = mock.post("/_mock/scenarios", scenario.clone()).await;
    let mut scenario = scenario;
    scenario["phases"] = Value::Null;
    scenario["reject"] = Value::Null;
    assert_eq!(created.expect(StatusCode::CREATED), scenario);
    let trigger = json!({
        "token": "T", "ref": "release", "variables": { "KEEP": "me" }, "scenario_id": 901,
    });
    let triggered = mock
        .post("/projects/42/trigger/pipeline", trigger.clone())
        .await;
    let triggered = triggered.expect(StatusCode::CREATED);
    assert_eq!(triggered["status"], "running");
    assert_eq!(triggered["created_at"], stamp(at));
    let id = triggered["id"].as_i64().expect("an id");
    let path = format!("/projects/42/pipelines/{id}");
    let web_url = format!("/mock/project-42/-/pipelines/{id}");
    assert_eq!(
        triggered["web_url"],
        format!("{}{web_url}", mock.base_url())
    );
    let old_base = mock.base_url().to_owned();

    mock.restart();

    assert_eq!(mock.clock().await, (at, true), "the clock stays frozen");
    let polled = mock.get(&path).await.expect(StatusCode::OK);
    assert_ne!(mock.base_url(), old_base);
    let new_web_url = format!("{}{web_url}", mock.base_url());
    assert_eq!(polled["web_url"], new_web_url, "links follow the new port");
    let mut expected = moved(&triggered, &old_base, mock.base_url());
    expected["name"] = Value::Null; // the single GET adds `name`
    assert_eq!(polled, expected);
    let scenarios = mock.get("/_mock/scenarios").await.expect(StatusCode::OK);
    let kept = scenarios
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["scenario_id"] == 901);
    assert_eq!(kept, Some(&scenario));

    mock.advance(89).await;
    assert_eq!(mock.status(42, id).await, "running");
    let finished_at = mock.advance(1).await;
    assert_eq!(finished_at, at + SignedDuration::from_secs(90));
    let finished = mock.get(&path).await.expect(StatusCode::OK);
    assert_eq!(finished["status"], "failed");
    assert_eq!(finished["updated_at"], stamp(finished_at));

    mock.restart();

    assert_eq!(
        mock.clock().await,
        (finished_at, true),
        "an advance is saved"
    );
    assert_eq!(mock.status(42, id).await, "failed");
    let next = mock.post("/projects/42/trigger/pipeline", trigger).await;
    let next = next.expect(StatusCode::CREATED);
    assert_eq!(next["id"], id + 1, "ids keep counting after a restart");
    assert_eq!(next["created_at"], stamp(finished_at));
}

/// A running clock keeps the offset of an advance, and of a resume from a
/// future instant, across restarts: time never jumps back to system time.
#[tokio::test]
async fn restart_keeps_running_clock_offset() {
    let scratch = Scratch::new("restart_keeps_offset");
    let mut mock = MockProcess::start(&scratch.db(), &[]);

    let advanced = mock.advance(3600).await;
    assert!(advanced > Timestamp::now() + SignedDuration::from_secs(3500));
    mock.restart();
    let (now, frozen) = mock.clock().await;
    assert!(!frozen, "a running clock stays running");
    assert!(
        now >= advanced,
        "{now} is before the advanced instant {advanced}"
    );
    let slack = SignedDuration::from_secs(600);
    assert!(
        now < advanced + slack,
        "{now} is far past {advanced}: offset applied twice?"
    );

    let future = Timestamp::from_second(now.as_second() + 7200).unwrap();
    mock.freeze_at(future).await;
    let resumed = mock.post_empty("/_mock/clock/resume").await;
    let resumed = resumed.expect(StatusCode::OK);
    assert_eq!(resumed["frozen"], false);
    assert!(instant(&resumed["now"]) >= future);
    mock.restart();
    let (now, frozen) = mock.clock().await;
    assert!(!frozen);
    assert!(
        now >= future,
        "{now} went back from the resumed instant {future}"
    );
    assert!(now < future + slack, "{now} is far past {future}");
}

/// A preset deleted before a restart stays deleted: presets are seeded once.
#[tokio::test]
async fn restart_keeps_deleted_preset_deleted() {
    let scratch = Scratch::new("restart_keeps_deleted_preset");
    let mut mock = MockProcess::start(&scratch.db(), &[]);

    let before = mock.get("/_mock/scenarios").await.expect(StatusCode::OK);
    let mut expected = scenario_ids(&before);
    assert_eq!(expected, preset_ids());
    assert_eq!(expected.len(), 115);
    let deleted = mock.delete("/_mock/scenarios/500").await;
    assert_eq!(deleted.expect(StatusCode::NO_CONTENT), Value::Null);
    expected.retain(|id| *id != 500);

    mock.restart();

    let after = mock.get("/_mock/scenarios").await.expect(StatusCode::OK);
    assert_eq!(scenario_ids(&after), expected);
    let trigger = json!({ "token": "T", "ref": "main", "scenario_id": 500 });
    let refused = mock.post("/projects/1/trigger/pipeline", trigger).await;
    let refused = refused.expect(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        refused,
        json!({ "message": "scenario_id 500 does not exist" })
    );
}

/// `--port 0` serves on a free port named in the first log line, each start
/// gets its own, and `GET /_mock/health` needs no token while the rest do.
#[tokio::test]
async fn port_zero_logs_its_port_and_health_needs_no_token() {
    let scratch = Scratch::new("port_zero");
    let mock = MockProcess::start(&scratch.db(), &[]);
    let other = MockProcess::start(&scratch.file("other.db"), &[]);

    let port = |url: &str| -> u16 {
        let port = url
            .strip_prefix("http://127.0.0.1:")
            .expect("bound to 127.0.0.1");
        port.parse().expect("a port number")
    };
    assert_ne!(port(mock.base_url()), 0);
    assert_ne!(port(mock.base_url()), port(other.base_url()));
    let log = mock.log();
    let first = log.first().expect("at least one log line");
    assert!(
        first.contains(&format!("listening on {}", mock.base_url())),
        "the first log line names the address: {first}"
    );

    let health = Reply::of(mock.request(Method::GET, "/_mock/health")).await;
    assert_eq!(health.expect(StatusCode::OK), json!({ "status": "ok" }));
    let clock = Reply::of(mock.request(Method::GET, "/_mock/clock")).await;
    let refused = clock.expect(StatusCode::UNAUTHORIZED);
    assert_eq!(refused, json!({ "message": "401 Unauthorized" }));
    let bearer = mock
        .request(Method::GET, "/_mock/clock")
        .header("Authorization", format!("Bearer {TOKEN}"));
    assert_eq!(Reply::of(bearer).await.status, StatusCode::OK);
}

/// `--token` replaces the default token, and `POST /_mock/reset` answers
/// 403 unless `--allow-reset` was given; with it, reset brings back the
/// presets, an empty pipeline list and system time, also after a restart.
#[tokio::test]
async fn token_and_allow_reset_flags() {
    let scratch = Scratch::new("token_and_allow_reset");
    let locked = MockProcess::start(&scratch.db(), &[]);
    let refused = locked.post_empty("/_mock/reset").await;
    let refused = refused.expect(StatusCode::FORBIDDEN);
    assert!(
        refused["message"]
            .as_str()
            .unwrap()
            .starts_with("403 Forbidden")
    );
    drop(locked);

    let mut mock = MockProcess::start(&scratch.db(), &["--token", "s3cret", "--allow-reset"]);
    let default_token = mock
        .request(Method::GET, "/_mock/clock")
        .header("PRIVATE-TOKEN", TOKEN);
    assert_eq!(
        Reply::of(default_token).await.status,
        StatusCode::UNAUTHORIZED
    );

    mock.freeze_at(Timestamp::now() + SignedDuration::from_secs(86_400))
        .await;
    mock.delete("/_mock/scenarios/0")
        .await
        .expect(StatusCode::NO_CONTENT);
    let trigger = json!({ "token": "T", "ref": "main" });
    let triggered = mock
        .post("/projects/7/trigger/pipeline", trigger.clone())
        .await;
    triggered.expect(StatusCode::CREATED);

    let reset = mock.post_empty("/_mock/reset").await;
    assert_eq!(reset.expect(StatusCode::OK), json!({ "status": "reset" }));
    mock.restart();

    let (now, frozen) = mock.clock().await;
    assert!(!frozen, "reset unfreezes the clock");
    assert!(
        now < Timestamp::now() + SignedDuration::from_secs(60),
        "{now} is not system time"
    );
    let listed = mock.get("/_mock/pipelines").await.expect(StatusCode::OK);
    assert_eq!(listed, json!([]));
    let scenarios = mock.get("/_mock/scenarios").await.expect(StatusCode::OK);
    assert_eq!(scenario_ids(&scenarios), preset_ids());
    let again = mock.post("/projects/7/trigger/pipeline", trigger).await;
    assert_eq!(again.expect(StatusCode::CREATED)["id"], 1, "ids start over");
}

/// Two mocks on one file would hand out the same pipeline ids and fight
/// over the clock, so the second is refused with a message that names the
/// file, and the file is free again once the first is gone.
#[tokio::test]
async fn a_second_process_on_the_same_database_is_refused() {
    let scratch = Scratch::new("second_process_refused");
    let db = scratch.db();
    let db_text = db.to_str().expect("database path is UTF-8");
    let mut first = MockProcess::start(&db, &[]);
    let created = first
        .post(
            "/projects/5/trigger/pipeline",
            json!({"token": "T", "ref": "main"}),
        )
        .await
        .expect(StatusCode::CREATED);

    let refused = start_expecting_failure(&["--port", "0", "--db", db_text]);
    assert_eq!(refused.status.code(), Some(1), "{}", refused.stderr);
    assert!(
        refused
            .stderr
            .contains("in use by another gitlab-mock process")
            && refused.stderr.contains(db_text),
        "unclear refusal: {}",
        refused.stderr
    );
    assert!(!refused.stderr.contains("panicked"), "{}", refused.stderr);

    first.kill();
    let second = MockProcess::start(&db, &[]);
    second
        .get(&format!("/projects/5/pipelines/{}", created["id"]))
        .await
        .expect(StatusCode::OK);
}
