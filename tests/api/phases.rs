//! Scenarios with phases: validation, every preset from 1000 to 1011 walked over virtual time,
//! and the option that starts seed-style pipelines in `created`.

use serde_json::{Value, json};

use gitlab_mock::lifecycle::InitialStatus;

use super::gitlab::{at, id_of, pipeline, pipeline_count};
use super::support::{Answer, TestMock};

/// The timing fields a poll shows, for comparison with an expectation.
const TIMING: [&str; 6] = [
    "status",
    "updated_at",
    "started_at",
    "finished_at",
    "duration",
    "queued_duration",
];

/// One expected reading: seconds after the trigger, then the fields the GET must show; a field
/// the expectation leaves out is not checked.
type Step = (f64, Value);

/// The expectation for a pipeline that has not started: only `status` and `updated_at` set.
fn waiting(status: &str, updated_at: &str) -> Value {
    json!({"status": status, "updated_at": at(updated_at), "started_at": null,
           "finished_at": null, "duration": null, "queued_duration": null})
}

/// The expectation for a started pipeline that has not finished.
fn started(status: &str, updated_at: &str, started_at: &str, queued: i64) -> Value {
    json!({"status": status, "updated_at": at(updated_at), "started_at": at(started_at),
           "finished_at": null, "duration": null, "queued_duration": queued})
}

/// The expectation for a pipeline that ran and finished.
fn finished(
    status: &str,
    started_at: &str,
    finished_at: &str,
    duration: i64,
    queued: i64,
) -> Value {
    json!({"status": status, "updated_at": at(finished_at), "started_at": at(started_at),
           "finished_at": at(finished_at), "duration": duration, "queued_duration": queued})
}

/// Triggers preset `scenario_id` in a fresh mock and checks the trigger's answer (`created`,
/// nothing stamped), then each step's GET; returns the mock and the pipeline id.
async fn walk(scenario_id: i64, steps: &[Step]) -> (TestMock, i64) {
    let mock = TestMock::new();
    let fields = json!({"token": "T", "ref": "main", "scenario_id": scenario_id});
    let answer = mock.trigger(fields).await;
    let id = id_of(&answer);
    let body = &answer.body;
    let shown = (&body["status"], &body["started_at"], &body["finished_at"]);
    let expected = (&json!("created"), &Value::Null, &Value::Null);
    assert_eq!(shown, expected, "preset {scenario_id} trigger");
    let mut elapsed = 0.0;

    for (seconds, expected) in steps {
        mock.advance(seconds - elapsed).await;
        elapsed = *seconds;
        let body = pipeline(&mock, id).await;

        for (field, value) in expected.as_object().unwrap() {
            assert_eq!(
                &body[field], value,
                "preset {scenario_id} at {seconds}s: {field}"
            );
        }
        for field in TIMING {
            assert!(body.get(field).is_some(), "{field} missing");
        }
    }
    (mock, id)
}

/// Creates a scenario and returns the answer.
async fn create_scenario(mock: &TestMock, scenario: Value) -> Answer {
    mock.json("POST", "/_mock/scenarios", scenario).await
}

/// A scenario with phases is stored as given, with `terminal_after_seconds` and
/// `never_complete` derived from the phases.
#[tokio::test]
async fn phased_scenarios_derive_their_seed_fields() {
    let mock = TestMock::new();
    let bounded = json!({"scenario_id": 3000, "name": "bounded", "terminal_status": "failed",
        "phases": [{"status": "pending", "seconds": 4}, {"status": "running", "seconds": 6}]});
    let forever = json!({"scenario_id": 3001, "name": "forever",
        "phases": [{"status": "created", "seconds": 1}, {"status": "pending", "seconds": null}]});

    let bounded = create_scenario(&mock, bounded).await;
    let forever = create_scenario(&mock, forever).await;

    assert_eq!(
        bounded.expect(201),
        &json!({"scenario_id": 3000, "name": "bounded", "terminal_after_seconds": 10,
                "terminal_status": "failed", "never_complete": false, "reject": null,
                "phases": [{"status": "pending", "seconds": 4},
                           {"status": "running", "seconds": 6}]})
    );
    let body = forever.expect(201);
    assert_eq!(body["terminal_after_seconds"], Value::Null);
    assert_eq!(body["never_complete"], true);
    assert_eq!(
        body["phases"][1],
        json!({"status": "pending", "seconds": null})
    );
}

/// A completed status inside the phases, a forever phase that is not last, and phases sent with
/// the seed's duration fields are each a 422 naming the problem; nothing is stored.
#[tokio::test]
async fn invalid_phases_are_422() {
    let mock = TestMock::new();
    let cases = [
        (
            json!({"scenario_id": 3100, "name": "done early",
                   "phases": [{"status": "running", "seconds": 5},
                              {"status": "success", "seconds": 5}]}),
            "a phase cannot be success",
        ),
        (
            json!({"scenario_id": 3101, "name": "forever first",
                   "phases": [{"status": "pending", "seconds": null},
                              {"status": "running", "seconds": 5}]}),
            "only the last phase may last forever",
        ),
        (
            json!({"scenario_id": 3102, "name": "both", "terminal_after_seconds": 5,
                   "phases": [{"status": "running", "seconds": 5}]}),
            "give either phases or terminal_after_seconds",
        ),
        (
            json!({"scenario_id": 3103, "name": "both again", "never_complete": true,
                   "phases": [{"status": "running", "seconds": 5}]}),
            "give either phases or terminal_after_seconds",
        ),
        (
            json!({"scenario_id": 3104, "name": "negative",
                   "phases": [{"status": "running", "seconds": -1}]}),
            "phase seconds must be between",
        ),
        (
            json!({"scenario_id": 3105, "name": "unknown status",
                   "phases": [{"status": "queued", "seconds": 1}]}),
            "queued",
        ),
    ];

    for (scenario, expected) in cases {
        let answer = create_scenario(&mock, scenario).await;

        answer.expect_error_mentioning(422, expected);
    }
    let listed = mock.get("/_mock/scenarios").await;
    let stored = listed.expect(200).as_array().unwrap();
    assert!(
        stored
            .iter()
            .all(|s| s["scenario_id"].as_i64() < Some(3100))
    );
}

/// Updating a scenario with phases and a seed duration at once is a 422 too; phases alone
/// replace the seed shape.
#[tokio::test]
async fn scenario_updates_apply_the_same_phase_rules() {
    let mock = TestMock::new();
    let seed = json!({"scenario_id": 3200, "name": "seed", "terminal_after_seconds": 5});
    create_scenario(&mock, seed).await.expect(201);
    let phases = json!([{"status": "created", "seconds": 2}, {"status": "running", "seconds": 3}]);

    let both = json!({"phases": phases, "terminal_after_seconds": 9});
    let done_phase = json!({"phases": [{"status": "canceled", "seconds": 1}]});
    let path = "/_mock/scenarios/3200";

    let both = mock.json("PUT", path, both).await;
    let done_phase = mock.json("PUT", path, done_phase).await;
    let replaced = mock.json("PUT", path, json!({"phases": phases})).await;

    both.expect_error_mentioning(422, "give either phases or terminal_after_seconds");
    done_phase.expect_error_mentioning(422, "a phase cannot be canceled");
    let body = replaced.expect(200);
    assert_eq!(body["phases"], phases);
    assert_eq!(body["terminal_after_seconds"], 5);
}

/// A pipeline follows its own scenario's phases, including a status entered twice.
#[tokio::test]
async fn custom_phases_are_followed_to_the_second() {
    let mock = TestMock::new();
    let scenario = json!({"scenario_id": 3300, "name": "flaky runner", "phases": [
        {"status": "pending", "seconds": 2}, {"status": "running", "seconds": 3},
        {"status": "pending", "seconds": 4}, {"status": "running", "seconds": 1},
    ], "terminal_status": "failed"});
    create_scenario(&mock, scenario).await.expect(201);
    let answer = mock
        .trigger(json!({"token": "T", "ref": "main", "scenario_id": 3300}))
        .await;
    let id = id_of(&answer);

    let mut seen = Vec::new();
    for seconds in [1.999, 0.001, 3.0, 4.0, 1.0] {
        mock.advance(seconds).await;
        let body = pipeline(&mock, id).await;
        seen.push((body["status"].clone(), body["started_at"].clone()));
    }

    assert_eq!(answer.body["status"], "pending");
    let started = Value::from(at("10:00:02"));
    assert_eq!(
        seen,
        vec![
            (json!("pending"), Value::Null),
            (json!("running"), started.clone()),
            (json!("pending"), started.clone()),
            (json!("running"), started.clone()),
            (json!("failed"), started),
        ]
    );
}

/// Preset 1000, realistic success: created 1 s, pending 4 s, running 55 s, then success.
#[tokio::test]
async fn preset_1000_realistic_success() {
    let steps = [
        (0.0, waiting("created", "10:00:00")),
        (0.999, waiting("created", "10:00:00")),
        (1.0, waiting("pending", "10:00:01")),
        (4.999, waiting("pending", "10:00:01")),
        (5.0, started("running", "10:00:05", "10:00:05", 5)),
        (59.999, started("running", "10:00:05", "10:00:05", 5)),
        (60.0, finished("success", "10:00:05", "10:01:00", 55, 5)),
        (3600.0, finished("success", "10:00:05", "10:01:00", 55, 5)),
    ];

    walk(1000, &steps).await;
}

/// Preset 1001, realistic failure: the same queue, running 25 s, then failed.
#[tokio::test]
async fn preset_1001_realistic_failure() {
    let steps = [
        (0.0, waiting("created", "10:00:00")),
        (1.0, waiting("pending", "10:00:01")),
        (5.0, started("running", "10:00:05", "10:00:05", 5)),
        (29.999, started("running", "10:00:05", "10:00:05", 5)),
        (30.0, finished("failed", "10:00:05", "10:00:30", 25, 5)),
        (600.0, finished("failed", "10:00:05", "10:00:30", 25, 5)),
    ];

    walk(1001, &steps).await;
}

/// Preset 1002 stays `created` forever, nothing stamped.
#[tokio::test]
async fn preset_1002_stuck_in_created() {
    let steps = [
        (0.0, waiting("created", "10:00:00")),
        (3600.0, waiting("created", "10:00:00")),
        (10.0 * 365.0 * 86_400.0, waiting("created", "10:00:00")),
    ];

    walk(1002, &steps).await;
}

/// Preset 1003 moves to `pending` after 1 s and stays there.
#[tokio::test]
async fn preset_1003_stuck_pending() {
    let steps = [
        (0.0, waiting("created", "10:00:00")),
        (1.0, waiting("pending", "10:00:01")),
        (86_400.0, waiting("pending", "10:00:01")),
    ];

    walk(1003, &steps).await;
}

/// Preset 1004 stops at a manual job: `manual` from 15 s on, never `finished_at`.
#[tokio::test]
async fn preset_1004_waiting_on_a_manual_job() {
    let manual = json!({"status": "manual", "updated_at": at("10:00:15"),
                        "started_at": at("10:00:05"), "finished_at": null, "queued_duration": 5});
    let steps = [
        (0.0, waiting("created", "10:00:00")),
        (1.0, waiting("pending", "10:00:01")),
        (5.0, started("running", "10:00:05", "10:00:05", 5)),
        (14.999, started("running", "10:00:05", "10:00:05", 5)),
        (15.0, manual.clone()),
        (86_400.0, manual),
    ];

    walk(1004, &steps).await;
}

/// GitLab's state machine updates `duration` on the move to `manual` (while `finished_at`
/// stays null): preset 1004 ran 10 s before blocking.
#[tokio::test]
async fn preset_1004_manual_reports_the_duration_run_so_far() {
    let steps = [(15.0, json!({"status": "manual", "finished_at": null}))];
    let (mock, id) = walk(1004, &steps).await;

    let body = pipeline(&mock, id).await;

    assert_eq!(body["duration"], 10);
}

/// Preset 1005 is canceled while running: `canceling` for 2 s, then `canceled` with
/// `finished_at` and `duration` stamped.
#[tokio::test]
async fn preset_1005_canceled_while_running() {
    let steps = [
        (0.0, waiting("created", "10:00:00")),
        (1.0, waiting("pending", "10:00:01")),
        (5.0, started("running", "10:00:05", "10:00:05", 5)),
        (15.0, started("canceling", "10:00:15", "10:00:05", 5)),
        (16.999, started("canceling", "10:00:15", "10:00:05", 5)),
        (17.0, finished("canceled", "10:00:05", "10:00:17", 12, 5)),
        (600.0, finished("canceled", "10:00:05", "10:00:17", 12, 5)),
    ];

    walk(1005, &steps).await;
}

/// Preset 1006 is skipped after 1 s; `skipped` never stamps `finished_at`.
#[tokio::test]
async fn preset_1006_skipped() {
    let steps = [
        (0.0, waiting("created", "10:00:00")),
        (1.0, waiting("skipped", "10:00:01")),
        (600.0, waiting("skipped", "10:00:01")),
    ];

    walk(1006, &steps).await;
}

/// Presets 1007 and 1008 refuse the trigger with GitLab's 400 `message.base` and store nothing.
#[tokio::test]
async fn presets_1007_and_1008_refuse_the_trigger() {
    let mock = TestMock::new();

    let no_ref = mock
        .trigger(json!({"token": "T", "ref": "gone", "scenario_id": 1007}))
        .await;
    let no_jobs = mock
        .trigger(json!({"token": "T", "ref": "docs", "scenario_id": 1008}))
        .await;

    assert_eq!(
        no_ref.expect(400),
        &json!({"message": {"base": ["Reference not found"]}})
    );
    assert_eq!(
        no_jobs.expect(400),
        &json!({"message": {"base": ["No stages / jobs for this pipeline."]}})
    );
    assert_eq!(pipeline_count(&mock).await, 0);
}

/// Preset 1009 fails before it ever runs: `finished_at` set, `started_at` and `duration` null.
#[tokio::test]
async fn preset_1009_failed_before_it_started() {
    let failed = json!({"status": "failed", "updated_at": at("10:00:05"), "started_at": null,
                        "finished_at": at("10:00:05"), "duration": null,
                        "queued_duration": null});
    let steps = [
        (0.0, waiting("created", "10:00:00")),
        (1.0, waiting("pending", "10:00:01")),
        (4.999, waiting("pending", "10:00:01")),
        (5.0, failed.clone()),
        (600.0, failed),
    ];

    walk(1009, &steps).await;
}

/// Preset 1010 passes through every waiting status; `started_at` keeps the first entry into
/// `running` across `waiting_for_callback`.
#[tokio::test]
async fn preset_1010_every_waiting_status_then_success() {
    let steps = [
        (0.0, waiting("created", "10:00:00")),
        (1.0, waiting("waiting_for_resource", "10:00:01")),
        (4.0, waiting("preparing", "10:00:04")),
        (6.0, waiting("pending", "10:00:06")),
        (8.0, started("running", "10:00:08", "10:00:08", 8)),
        (
            18.0,
            started("waiting_for_callback", "10:00:18", "10:00:08", 8),
        ),
        (23.0, started("running", "10:00:23", "10:00:08", 8)),
        (29.999, started("running", "10:00:23", "10:00:08", 8)),
        (30.0, finished("success", "10:00:08", "10:00:30", 22, 8)),
    ];

    walk(1010, &steps).await;
}

/// Preset 1011 is scheduled after 1 s and stays so, unfinished.
#[tokio::test]
async fn preset_1011_scheduled_for_later() {
    let steps = [
        (0.0, waiting("created", "10:00:00")),
        (1.0, waiting("scheduled", "10:00:01")),
        (86_400.0, waiting("scheduled", "10:00:01")),
    ];

    walk(1011, &steps).await;
}

/// Every preset from 1000 up is listed with its phases and terminal status.
#[tokio::test]
async fn lifelike_presets_are_listed_with_phases() {
    let mock = TestMock::new();

    let answer = mock.get("/_mock/scenarios").await;

    let all = answer.expect(200).as_array().unwrap();
    let lifelike: Vec<&Value> = all
        .iter()
        .filter(|s| s["scenario_id"].as_i64() >= Some(1000))
        .collect();
    let terminal: Vec<&str> = lifelike
        .iter()
        .map(|s| s["terminal_status"].as_str().unwrap())
        .collect();
    assert_eq!(lifelike.len(), 12);
    assert_eq!(
        terminal[..7],
        [
            "success", "failed", "success", "success", "manual", "canceled", "skipped"
        ]
    );
    assert_eq!(terminal[9..], ["failed", "success", "scheduled"]);
    assert_eq!(lifelike[7]["reject"], "ref_not_found");
    assert_eq!(lifelike[8]["reject"], "no_jobs");
    assert_eq!(lifelike[2]["never_complete"], true);
    assert_eq!(lifelike[0]["terminal_after_seconds"], 60);
    assert_eq!(
        lifelike[0]["phases"][0],
        json!({"status": "created", "seconds": 1})
    );
}

/// With `initial_status: Created`, a seed-style trigger answers `created`; the next GET, at the
/// same instant, shows `running` with `started_at` at creation, and the scenario ends on time.
#[tokio::test]
async fn created_option_starts_seed_pipelines_in_created() {
    let mock = TestMock::configured(|_, options| options.initial_status = InitialStatus::Created);
    let inline = json!({"token": "T", "ref": "main", "terminal_after_seconds": 10,
                        "terminal_status": "failed"});

    let default = mock.trigger(json!({"token": "T", "ref": "main"})).await;
    let timed = mock
        .trigger(json!({"token": "T", "ref": "main", "scenario_id": 30}))
        .await;
    let inline = mock.trigger(inline).await;
    let (default_id, timed_id, inline_id) = (id_of(&default), id_of(&timed), id_of(&inline));
    let polled = pipeline(&mock, timed_id).await;
    mock.advance(30.0).await;
    let timed_done = pipeline(&mock, timed_id).await;
    let inline_done = pipeline(&mock, inline_id).await;
    let default_later = pipeline(&mock, default_id).await;

    for answer in [&default, &timed, &inline] {
        assert_eq!(answer.body["status"], "created");
        assert_eq!(answer.body["started_at"], Value::Null);
    }
    assert_eq!(polled["status"], "running");
    assert_eq!(polled["started_at"], at("10:00:00"));
    assert_eq!(polled["queued_duration"], Value::Null);
    assert_eq!(timed_done["status"], "success");
    assert_eq!(timed_done["finished_at"], at("10:00:30"));
    assert_eq!(timed_done["duration"], 30);
    assert_eq!(inline_done["status"], "failed");
    assert_eq!(inline_done["finished_at"], at("10:00:10"));
    assert_eq!(default_later["status"], "running");
}

/// The option changes only seed-style pipelines: phased presets keep their own first status,
/// and without the option a seed-style trigger answers `running`.
#[tokio::test]
async fn created_option_leaves_phased_scenarios_alone() {
    let with_option =
        TestMock::configured(|_, options| options.initial_status = InitialStatus::Created);
    let without = TestMock::new();

    let phased = with_option
        .trigger(json!({"token": "T", "ref": "main", "scenario_id": 1003}))
        .await;
    let seed = without.trigger(json!({"token": "T", "ref": "main"})).await;
    with_option.advance(1.0).await;
    let pending = pipeline(&with_option, id_of(&phased)).await;

    assert_eq!(phased.expect(201)["status"], "created");
    assert_eq!(pending["status"], "pending");
    assert_eq!(seed.expect(201)["status"], "running");
    assert_eq!(seed.body["started_at"], at("10:00:00"));
}

/// A misspelt phase field is refused rather than read as "forever", and
/// `never_complete` cannot ride along with phases, on create as on update.
#[tokio::test]
async fn phase_typos_and_mixed_shapes_are_refused() {
    let mock = TestMock::new();
    let typo = json!({"scenario_id": 950, "name": "x", "terminal_status": "success",
                      "phases": [{"status": "running", "second": 5}]});
    let mixed = json!({"scenario_id": 951, "name": "x", "never_complete": false,
                       "phases": [{"status": "running", "seconds": 5}]});

    let typo = mock.json("POST", "/_mock/scenarios", typo).await;
    let mixed = mock.json("POST", "/_mock/scenarios", mixed).await;

    typo.expect_error_mentioning(422, "unknown field `second`");
    mixed.expect_error_mentioning(422, "not both");
}

/// Giving a phased scenario that never ends a duration turns it back into
/// the seed's shape, and it then finishes.
#[tokio::test]
async fn a_duration_replaces_endless_phases() {
    let mock = TestMock::new();

    let changed = mock
        .json(
            "PUT",
            "/_mock/scenarios/1002",
            json!({"terminal_after_seconds": 7}),
        )
        .await;

    let body = changed.expect(200);
    assert_eq!(body["never_complete"], false);
    assert_eq!(body["phases"], Value::Null);
    let id = mock
        .trigger(json!({"token": "T", "ref": "m", "scenario_id": 1002}))
        .await
        .expect(201)["id"]
        .clone();
    mock.advance(7.0).await;
    assert_eq!(mock.status_of(&id).await, "success");
}
