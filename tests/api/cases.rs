//! The cases from real bug reports (`cases.md`), one test each, asserting what each case's
//! "Assertion" line says.

use serde_json::{Value, json};

use super::gitlab::{MULTIPART, at, create_trigger_token, demo_with_trigger_token, id_of};
use super::gitlab::{multipart, pipeline, pipeline_count, post_anonymously, post_empty};
use super::gitlab::{register_demo, trigger_scenario, variables};
use super::support::{TOKEN, TestMock, anonymous, authed};

/// The value of `key` among the pipeline's variables, if it has one.
async fn variable(mock: &TestMock, id: i64, key: &str) -> Option<String> {
    let listed = variables(mock, id).await;
    let found = listed.iter().find(|variable| variable["key"] == key);
    found.map(|variable| variable["value"].as_str().unwrap().to_owned())
}

/// C01: a JSON key spelled `variables[DEPLOY_ENV]` is ignored (201, no variable), while the
/// nested object and the multipart `variables[DEPLOY_ENV]` field both reach the pipeline.
#[tokio::test]
async fn c01_bracketed_json_key_is_ignored_but_nested_and_multipart_are_stored() {
    let (mock, token) = demo_with_trigger_token().await;
    let path = "/api/v4/projects/123/trigger/pipeline";
    let flat = json!({"token": token, "ref": "main", "variables[DEPLOY_ENV]": "prod"});
    let nested = json!({"token": token, "ref": "main", "variables": {"DEPLOY_ENV": "prod"}});
    let form = multipart(&[
        ("token", &token),
        ("ref", "main"),
        ("variables[DEPLOY_ENV]", "prod"),
    ]);

    let flat = post_anonymously(&mock, path, flat).await;
    let nested = post_anonymously(&mock, path, nested).await;
    let form = anonymous("POST", path)
        .header("content-type", MULTIPART)
        .body(form);
    let form = mock.send(form).await;

    assert_eq!(variable(&mock, id_of(&flat), "DEPLOY_ENV").await, None);
    let stored = Some("prod".to_owned());
    assert_eq!(variable(&mock, id_of(&nested), "DEPLOY_ENV").await, stored);
    assert_eq!(variable(&mock, id_of(&form), "DEPLOY_ENV").await, stored);
}

/// C03: `"variables": []` is 400 with `error == "variables is invalid"` and creates nothing;
/// `"variables": {}` is 201.
#[tokio::test]
async fn c03_empty_array_variables_are_invalid_but_empty_object_is_fine() {
    let (mock, token) = demo_with_trigger_token().await;
    let path = "/api/v4/projects/123/trigger/pipeline";
    let array = json!({"ref": "main", "token": token, "variables": []});
    let object = json!({"ref": "main", "token": token, "variables": {}});

    let array = post_anonymously(&mock, path, array).await;
    let after_array = pipeline_count(&mock).await;
    let object = post_anonymously(&mock, path, object).await;

    assert_eq!(array.expect(400)["error"], "variables is invalid");
    assert_eq!(after_array, 0);
    object.expect(201);
    assert_eq!(pipeline_count(&mock).await, 1);
}

/// C04: a numeric variable value on the trigger endpoint is 400 with GitLab's `message`, not
/// coerced; the same value as a string is 201.
#[tokio::test]
async fn c04_non_string_variable_value_is_refused_on_trigger() {
    let (mock, token) = demo_with_trigger_token().await;
    let path = "/api/v4/projects/123/trigger/pipeline";
    let number = json!({"ref": "main", "token": token, "variables": {"REPLICAS": 3}});
    let text = json!({"ref": "main", "token": token, "variables": {"REPLICAS": "3"}});

    let refused = post_anonymously(&mock, path, number).await;
    let after_refusal = pipeline_count(&mock).await;
    let accepted = post_anonymously(&mock, path, text).await;

    assert_eq!(
        refused.expect(400),
        &json!({"message": "variables needs to be a map of key-valued strings"})
    );
    assert_eq!(after_refusal, 0);
    assert_eq!(
        variable(&mock, id_of(&accepted), "REPLICAS").await,
        Some("3".into())
    );
}

/// C05: a bad token is 404 with `message == "404 Not Found"` and no `error` key, even with a
/// valid PRIVATE-TOKEN header or another project's token; no token is 400 with
/// `error == "token is missing"`.
#[tokio::test]
async fn c05_wrong_token_is_404_message_and_missing_token_is_400_error() {
    let (mock, _) = demo_with_trigger_token().await;
    let foreign = create_trigger_token(&mock, "999").await;
    let path = "/api/v4/projects/jdoe%2Fdemo/trigger/pipeline";
    let form = |token: Option<&str>| {
        let mut fields = vec![("ref", "main")];
        fields.extend(token.map(|token| ("token", token)));
        multipart(&fields)
    };
    let request = |token: Option<&str>| {
        anonymous("POST", path)
            .header("content-type", MULTIPART)
            .body(form(token))
    };

    let bad = mock.send(request(Some("NOT_A_TRIGGER_TOKEN"))).await;
    let missing = mock.send(request(None)).await;
    let with_header = request(Some("NOT_A_TRIGGER_TOKEN")).header("private-token", TOKEN);
    let with_header = mock.send(with_header).await;
    let other_project = mock.send(request(Some(&foreign))).await;

    for answer in [&bad, &with_header, &other_project] {
        assert_eq!(answer.expect(404), &json!({"message": "404 Not Found"}));
        assert!(answer.body.get("error").is_none());
    }
    assert_eq!(missing.expect(400), &json!({"error": "token is missing"}));
    assert!(missing.body.get("message").is_none());
    assert_eq!(pipeline_count(&mock).await, 0);
}

/// C06: glab's request (its own PRIVATE-TOKEN, a stray top-level `DEBUG`, no `ref`, no `token`)
/// is one 400 listing every problem; an empty `ref` with a token is 400 naming `ref is empty`.
#[tokio::test]
async fn c06_all_missing_parameters_are_listed_in_one_error() {
    let (mock, token) = demo_with_trigger_token().await;
    let path = "/api/v4/projects/jdoe%2Fdemo/trigger/pipeline";

    let glab = mock.json("POST", path, json!({"DEBUG": true})).await;
    let empty_ref = mock
        .json("POST", path, json!({"ref": "", "token": token}))
        .await;

    assert_eq!(
        glab.expect(400)["error"],
        "ref is missing, ref is empty, token is missing"
    );
    empty_ref.expect(400);
    let error = empty_ref.body["error"].as_str().unwrap();
    assert!(error.contains("ref is empty"), "{error}");
    assert_eq!(pipeline_count(&mock).await, 0);
}

/// C07: a valid trigger token and ref with no authentication header at all is 201 with a
/// numeric `id`.
#[tokio::test]
async fn c07_trigger_token_alone_authenticates() {
    let (mock, token) = demo_with_trigger_token().await;
    let fields = json!({"ref": "main", "token": token, "variables": {"VAR1": "True"}});

    let answer = post_anonymously(&mock, "/api/v4/projects/123/trigger/pipeline", fields).await;

    assert!(
        answer.expect(201)["id"].is_i64(),
        "id {:?}",
        answer.body["id"]
    );
}

/// C09: a webhook carrying `X-Gitlab-Event: Pipeline Hook` is 403 `403 Forbidden` and creates
/// nothing; the same request as a `Push Hook` is 201.
#[tokio::test]
async fn c09_pipeline_hook_into_a_trigger_url_is_forbidden() {
    let (mock, token) = demo_with_trigger_token().await;
    let path = format!("/api/v4/projects/123/ref/main/trigger/pipeline?token={token}");
    let event = json!({
        "object_kind": "pipeline",
        "object_attributes": {"id": 31, "ref": "main", "status": "success", "variables": []},
        "user": {"id": 1, "username": "jdoe"},
        "project": {"id": 77, "path_with_namespace": "jdoe/upstream"},
        "builds": [],
    });
    let hook = |kind: &str| {
        anonymous("POST", &path)
            .header("x-gitlab-event", kind)
            .json(&event)
    };

    let pipeline_hook = mock.send(hook("Pipeline Hook")).await;
    let count_after_hook = pipeline_count(&mock).await;
    let push_hook = mock.send(hook("Push Hook")).await;

    assert_eq!(
        pipeline_hook.expect(403),
        &json!({"message": "403 Forbidden"})
    );
    assert_eq!(count_after_hook, 0);
    assert_eq!(push_hook.expect(201)["ref"], "main");
    assert_eq!(pipeline_count(&mock).await, 1);
}

/// C10: a trigger for a ref configured with zero jobs is 400 with a one-element
/// `message.base` and stores nothing; the gem's `jdoe%2Fdemo%2Dmirror` names
/// `jdoe/demo-mirror`.
#[tokio::test]
async fn c10_ref_without_jobs_is_400_base_and_encoded_hyphen_resolves() {
    let mock = TestMock::new();
    let mirror = json!({"id": 124, "path": "jdoe/demo-mirror"});
    mock.json("POST", "/_mock/projects", mirror)
        .await
        .expect(201);
    let token = create_trigger_token(&mock, "jdoe%2Fdemo%2Dmirror").await;
    let rule = json!({"project_id": 124, "ref": "docs-only", "scenario_id": 1008});
    mock.json("POST", "/_mock/rules", rule).await.expect(201);
    let path = "/api/v4/projects/jdoe%2Fdemo%2Dmirror/trigger/pipeline";
    let form = |git_ref: &str| format!("token={token}&ref={git_ref}&variables%5BA%5D=1");
    let send = |git_ref: &str| {
        anonymous("POST", path)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form(git_ref))
    };

    let no_jobs = mock.send(send("docs-only")).await;
    let count_after_refusal = pipeline_count(&mock).await;
    let runnable = mock.send(send("main")).await;
    let project = mock.get("/api/v4/projects/jdoe%2Fdemo%2Dmirror").await;

    let base = &no_jobs.expect(400)["message"]["base"];
    assert_eq!(base.as_array().map(Vec::len), Some(1));
    assert_eq!(base[0], "No stages / jobs for this pipeline.");
    assert!(no_jobs.body.get("id").is_none());
    assert_eq!(count_after_refusal, 0);
    assert_eq!(runnable.expect(201)["project_id"], 124);
    assert_eq!(project.expect(200)["id"], 124);
    assert_eq!(project.body["path_with_namespace"], "jdoe/demo-mirror");
}

/// C12: after a 201 trigger, reading the pipeline without credentials (private project, a
/// JOB-TOKEN only) or with a non-member token is 404 `404 Project Not Found` with no `status`
/// key; a member's PRIVATE-TOKEN reads it (200).
#[tokio::test]
async fn c12_polling_needs_read_access_that_the_trigger_token_does_not_grant() {
    let mock = TestMock::configured(|settings, _| {
        settings.private_projects = true;
        settings.non_member_tokens = vec!["USER_TOKEN_OUTSIDER".to_owned()].into();
    });
    register_demo(&mock).await;
    let token = create_trigger_token(&mock, "123").await;
    let trigger = anonymous("POST", "/api/v4/projects/123/trigger/pipeline")
        .header("job-token", "CI_JOB_TOKEN_VALUE")
        .json(&json!({"ref": "main", "token": token, "variables": {"VAR1": "True"}}));
    let id = id_of(&mock.send(trigger).await);
    let path = format!("/api/v4/projects/123/pipelines/{id}");

    let nobody = mock.send(anonymous("GET", &path)).await;
    let job_token = anonymous("GET", &path).header("job-token", "CI_JOB_TOKEN_VALUE");
    let job_token = mock.send(job_token).await;
    let outsider = anonymous("GET", &path).header("private-token", "USER_TOKEN_OUTSIDER");
    let outsider = mock.send(outsider).await;
    let member = mock.send(authed("GET", &path)).await;

    for answer in [&nobody, &job_token, &outsider] {
        assert_eq!(
            answer.expect(404),
            &json!({"message": "404 Project Not Found"})
        );
        assert!(answer.body.get("status").is_none());
    }
    assert_eq!(member.expect(200)["id"], id);
}

/// C13: the trigger answers `created`; a scripted pipeline walks
/// `created -> pending -> running -> canceling -> canceled` with every GET showing that exact
/// string, and a pipeline can hold `created` forever.
#[tokio::test]
async fn c13_status_walks_created_pending_running_canceling_canceled() {
    let mock = TestMock::new();
    let scenario = json!({"scenario_id": 2013, "name": "graceful cancel", "phases": [
        {"status": "created", "seconds": 2},
        {"status": "pending", "seconds": 3},
        {"status": "running", "seconds": 5},
        {"status": "canceling", "seconds": 2},
    ], "terminal_status": "canceled"});
    mock.json("POST", "/_mock/scenarios", scenario)
        .await
        .expect(201);
    let walking = mock
        .trigger(json!({"token": "T", "ref": "main", "scenario_id": 2013}))
        .await;
    let stuck = mock
        .trigger(json!({"token": "T", "ref": "main", "scenario_id": 1002}))
        .await;
    let (walking_id, stuck_id) = (id_of(&walking), id_of(&stuck));
    let steps = [
        (1.0, "created"),
        (1.0, "pending"),
        (2.0, "pending"),
        (1.0, "running"),
        (4.0, "running"),
        (1.0, "canceling"),
        (1.0, "canceling"),
        (1.0, "canceled"),
        (3600.0, "canceled"),
    ];

    let mut seen = vec![pipeline(&mock, walking_id).await["status"].clone()];
    for (seconds, _) in steps {
        mock.advance(seconds).await;
        seen.push(pipeline(&mock, walking_id).await["status"].clone());
    }
    mock.advance(365.0 * 86_400.0).await;
    let held = pipeline(&mock, stuck_id).await;

    assert_eq!(walking.body["status"], "created");
    assert_eq!(stuck.body["status"], "created");
    let expected: Vec<Value> = std::iter::once("created")
        .chain(steps.iter().map(|(_, status)| *status))
        .map(Value::from)
        .collect();
    assert_eq!(seen, expected);
    assert_eq!(held["status"], "created");
    assert_eq!(held["started_at"], Value::Null);
}

/// C14: a pipeline stopped at a manual job shows `manual` with `finished_at == null` on every
/// later GET; a canceled pipeline, by scenario or by the cancel endpoint, has `finished_at`.
#[tokio::test]
async fn c14_manual_never_finishes_but_canceled_does() {
    let mock = TestMock::new();
    let manual = trigger_scenario(&mock, 1004).await;
    let scripted = trigger_scenario(&mock, 1005).await;
    let endpoint = trigger_scenario(&mock, 0).await;

    let mut polls = Vec::new();
    for seconds in [15.0, 1.0, 60.0, 86_400.0] {
        mock.advance(seconds).await;
        polls.push(pipeline(&mock, manual).await);
    }
    let canceled = post_empty(&mock, &format!("/projects/123/pipelines/{endpoint}/cancel")).await;
    let scripted = pipeline(&mock, scripted).await;

    for poll in &polls {
        assert_eq!(poll["status"], "manual");
        assert_eq!(poll["finished_at"], Value::Null);
    }
    assert_eq!(scripted["status"], "canceled");
    assert_eq!(scripted["finished_at"], at("10:00:17"));
    assert_eq!(canceled.expect(200)["status"], "canceled");
    assert!(canceled.body["finished_at"].is_string());
}

/// C16: right after the trigger `started_at`, `finished_at` and `duration` are null; after a
/// scripted success `finished_at` is an ISO-8601 string and `duration` a number; a pipeline can
/// finish with `started_at == null`.
#[tokio::test]
async fn c16_timing_fields_are_null_until_set_and_started_at_can_stay_null() {
    let mock = TestMock::new();
    let success = trigger_scenario(&mock, 1000).await;
    let never_ran = trigger_scenario(&mock, 1009).await;

    let fresh = pipeline(&mock, success).await;
    mock.advance(60.0).await;
    let done = pipeline(&mock, success).await;
    let failed = pipeline(&mock, never_ran).await;

    for field in ["started_at", "finished_at", "duration"] {
        assert_eq!(fresh[field], Value::Null, "{field}");
    }
    assert_eq!(done["status"], "success");
    let finished = done["finished_at"].as_str().unwrap();
    assert!(finished.parse::<jiff::Timestamp>().is_ok(), "{finished}");
    assert_eq!(finished, at("10:01:00"));
    assert!(done["duration"].is_number());
    assert_eq!(done["duration"], 55);
    assert_eq!(failed["status"], "failed");
    assert_eq!(failed["started_at"], Value::Null);
    assert!(failed["finished_at"].is_string());
}
