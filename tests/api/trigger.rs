//! `POST /projects/:id/trigger/pipeline`: encodings, variables, the order
//! in which mock controls resolve, and validation.

use serde_json::json;

use super::support::{TestMock, anonymous, authed};

/// A JSON trigger answers 201 with the seed's pipeline fields, stamped with
/// the clock's instant and running.
#[tokio::test]
async fn json_trigger_creates_a_running_pipeline() {
    let mock = TestMock::new();

    let answer = mock
        .trigger(json!({"token": "T", "ref": "main", "variables": {"FOO": "bar"}}))
        .await;

    let body = answer.expect(201);
    assert_eq!(body["id"], 1);
    assert_eq!(body["project_id"], 123);
    assert_eq!(body["status"], "running");
    assert_eq!(body["ref"], "main");
    assert_eq!(body["source"], "trigger");
    assert_eq!(body["created_at"], "2026-12-03T10:00:00.000Z");
    assert_eq!(body["updated_at"], "2026-12-03T10:00:00.000Z");
    assert_eq!(
        body["web_url"],
        "http://localhost:8000/mock/project-123/-/pipelines/1"
    );
    assert_eq!(body["variables"], json!({"FOO": "bar"}));
    assert_eq!(body["sha"].as_str().unwrap().len(), 40);
}

/// `variables[KEY]=VALUE` fields of a urlencoded form become variables, and
/// numeric mock controls arrive as text.
#[tokio::test]
async fn urlencoded_trigger_reads_bracketed_variables() {
    let mock = TestMock::new();

    let answer = mock
        .form(
            "/projects/123/trigger/pipeline",
            "token=T&ref=main&variables%5BFOO%5D=bar&variables[RUN_MODE]=smoke&scenario_id=500",
        )
        .await;

    let body = answer.expect(201);
    assert_eq!(
        body["variables"],
        json!({"FOO": "bar", "RUN_MODE": "smoke"})
    );
    assert_eq!(body["scenario_id"], 500);
    assert_eq!(body["terminal_after_seconds"], 300);
}

/// What `curl --form` sends: multipart/form-data fields.
#[tokio::test]
async fn multipart_trigger_reads_fields() {
    let mock = TestMock::new();
    let body = multipart(&[
        ("token", "T"),
        ("ref", "release"),
        ("variables[UPLOAD]", "true"),
    ]);

    let answer = mock
        .send(
            authed("POST", "/api/v4/projects/123/trigger/pipeline")
                .header("content-type", "multipart/form-data; boundary=XyZ")
                .body(body),
        )
        .await;

    let body = answer.expect(201);
    assert_eq!(body["ref"], "release");
    assert_eq!(body["variables"], json!({"UPLOAD": "true"}));
}

/// Multipart values are the bytes sent, read as UTF-8 as form values
/// are: a leading U+FEFF stays, and bytes that look like a UTF-16 byte
/// order mark are not taken for one. Names may be any UTF-8.
#[tokio::test]
async fn multipart_values_are_kept_as_sent() {
    let mock = TestMock::new();
    let mut body = multipart(&[
        ("token", "T"),
        ("ref", "\u{feff}main"),
        ("variables[NAÏVE]", "é"),
    ])
    .into_bytes();
    body.truncate(body.len() - "--XyZ--\r\n".len());
    body.extend_from_slice(b"--XyZ\r\nContent-Disposition: form-data; name=\"variables[WIDE]\"");
    body.extend_from_slice(b"\r\n\r\n\xff\xfeh\x00\r\n--XyZ--\r\n");

    let answer = mock
        .send(
            authed("POST", "/projects/123/trigger/pipeline")
                .header("content-type", "multipart/form-data; boundary=XyZ")
                .body(body),
        )
        .await;

    let body = answer.expect(201);
    assert_eq!(body["ref"], "\u{feff}main");
    assert_eq!(
        body["variables"],
        json!({"NAÏVE": "é", "WIDE": "\u{fffd}\u{fffd}h\u{0}"})
    );
}

/// A body without `Content-Type` is read as JSON when it looks like an
/// object and as a form otherwise.
#[tokio::test]
async fn untyped_bodies_are_sniffed() {
    let mock = TestMock::new();

    let as_json =
        authed("POST", "/projects/123/trigger/pipeline").body(r#"{"token":"T","ref":"a"}"#);
    let as_form = authed("POST", "/projects/123/trigger/pipeline").body("token=T&ref=b");

    assert_eq!(mock.send(as_json).await.expect(201)["ref"], "a");
    assert_eq!(mock.send(as_form).await.expect(201)["ref"], "b");
}

/// Real clients prefix every route with `/api/v4`; both forms reach the
/// same pipelines.
#[tokio::test]
async fn api_v4_prefix_serves_the_same_routes() {
    let mock = TestMock::new();

    let created = mock
        .json(
            "POST",
            "/api/v4/projects/123/trigger/pipeline",
            json!({"token": "T", "ref": "main"}),
        )
        .await;
    let id = created.expect(201)["id"].clone();

    assert_eq!(
        mock.get(&format!("/api/v4/projects/123/pipelines/{id}"))
            .await
            .expect(200)["id"],
        id
    );
    assert_eq!(
        mock.get(&format!("/projects/123/pipelines/{id}"))
            .await
            .expect(200)["id"],
        id
    );
}

/// Resolution order: a scenario beats inline fields, inline fields beat
/// the default, and a missing inline field falls back to the default's.
#[tokio::test]
async fn mock_controls_resolve_scenario_then_inline_then_default() {
    let mock = TestMock::new();

    let by_scenario = mock
        .trigger(json!({"token": "T", "ref": "m", "scenario_id": 7,
                        "terminal_after_seconds": 99, "terminal_status": "failed"}))
        .await;
    let inline = mock
        .trigger(json!({"token": "T", "ref": "m", "terminal_status": "failed"}))
        .await;
    let default = mock.trigger(json!({"token": "T", "ref": "m"})).await;

    let by_scenario = by_scenario.expect(201);
    assert_eq!(
        (
            &by_scenario["terminal_after_seconds"],
            &by_scenario["terminal_status"]
        ),
        (&json!(7), &json!("success"))
    );
    let inline = inline.expect(201);
    assert_eq!(
        (
            &inline["terminal_after_seconds"],
            &inline["terminal_status"]
        ),
        (&json!(300), &json!("failed"))
    );
    assert_eq!(inline["scenario_id"], json!(null));
    let default = default.expect(201);
    assert_eq!(
        (
            &default["terminal_after_seconds"],
            &default["terminal_status"]
        ),
        (&json!(300), &json!("success"))
    );
}

/// A JSON key spelled like a form field is not a variable, as in GitLab:
/// the client's mistake stays visible.
#[tokio::test]
async fn bracketed_json_keys_are_not_variables() {
    let mock = TestMock::new();

    let answer = mock
        .trigger(json!({"token": "T", "ref": "m", "variables[DEPLOY_ENV]": "prod"}))
        .await;

    assert_eq!(answer.expect(201)["variables"], json!({}));
}

/// Fields the mock does not know are ignored, whatever their type.
#[tokio::test]
async fn unknown_trigger_fields_are_ignored() {
    let mock = TestMock::new();

    let answer = mock
        .trigger(json!({"token": "T", "ref": "m", "inputs": {"a": [1, 2]}, "x": null}))
        .await;

    answer.expect(201);
}

/// GitLab's own parameters fail GitLab's way: 400 with `error`, every
/// problem listed; non-string variable values get their own `message`.
#[tokio::test]
async fn invalid_gitlab_parameters_are_400() {
    let mock = TestMock::new();
    let cases = [
        (json!({"ref": "m"}), "token is missing"),
        (json!({"token": "T"}), "ref is missing, ref is empty"),
        (json!({"token": "T", "ref": ""}), "ref is empty"),
        (json!({"token": "T", "ref": ["m"]}), "ref is invalid"),
        (
            json!({"token": "T", "ref": "m", "variables": ["A"]}),
            "variables is invalid",
        ),
        (
            json!({"token": "T", "ref": "m", "inputs": "x"}),
            "inputs is invalid",
        ),
    ];

    for (fields, expected) in cases {
        assert_eq!(mock.trigger(fields).await.expect(400)["error"], expected);
    }
    let typed = mock
        .trigger(json!({"token": "T", "ref": "m", "variables": {"A": 1}}))
        .await;
    typed.expect_message(400, "variables needs to be a map of key-valued strings");
    assert_eq!(mock.get("/_mock/pipelines").await.expect(200), &json!([]));
}

/// Each malformed mock-only field is named in a 422 and no pipeline is
/// stored.
#[tokio::test]
async fn invalid_mock_fields_are_refused_with_422() {
    let mock = TestMock::new();
    let cases = [
        (
            json!({"token": "T", "ref": "m", "scenario_id": "five"}),
            "scenario_id must be an integer",
        ),
        (
            json!({"token": "T", "ref": "m", "scenario_id": 1.5}),
            "scenario_id must be an integer",
        ),
        (
            json!({"token": "T", "ref": "m", "scenario_id": 4242}),
            "scenario_id 4242 does not exist",
        ),
        (
            json!({"token": "T", "ref": "m", "terminal_after_seconds": -1}),
            "terminal_after_seconds must be between",
        ),
        (
            json!({"token": "T", "ref": "m", "terminal_after_seconds": 1e12 as i64}),
            "terminal_after_seconds must be between",
        ),
        (
            json!({"token": "T", "ref": "m", "terminal_status": "finished"}),
            "terminal_status must be one of",
        ),
    ];

    for (fields, expected) in cases {
        mock.trigger(fields)
            .await
            .expect_error_mentioning(422, expected);
    }

    assert_eq!(mock.get("/_mock/pipelines").await.expect(200), &json!([]));
}

/// Both credential headers work; anything else is a 401 in GitLab's words.
#[tokio::test]
async fn trigger_requires_the_token() {
    let mock = TestMock::new();
    let fields = json!({"token": "T", "ref": "m"});
    let path = "/projects/123/trigger/pipeline";

    let bearer = anonymous("POST", path)
        .header("authorization", "bearer MOCK_SUPER_SECRET")
        .json(&fields);
    let wrong = anonymous("POST", path)
        .header("private-token", "nope")
        .json(&fields);
    let none = anonymous("POST", path).json(&fields);

    mock.send(bearer).await.expect(201);
    mock.send(wrong)
        .await
        .expect_message(401, "401 Unauthorized");
    mock.send(none)
        .await
        .expect_message(401, "401 Unauthorized");
}

/// A content type the mock cannot read is a 415, not a guess.
#[tokio::test]
async fn unsupported_media_type_is_refused() {
    let mock = TestMock::new();
    let request = authed("POST", "/projects/123/trigger/pipeline")
        .header("content-type", "text/csv")
        .body("token,ref\nT,m\n");

    mock.send(request)
        .await
        .expect_error_mentioning(415, "text/csv");
}

/// The stand-in sha depends only on project and ref, as a real head
/// commit would.
#[tokio::test]
async fn sha_follows_project_and_ref() {
    let mock = TestMock::new();

    let first = mock
        .trigger(json!({"token": "T", "ref": "main"}))
        .await
        .expect(201)["sha"]
        .clone();
    let again = mock
        .trigger(json!({"token": "T", "ref": "main"}))
        .await
        .expect(201)["sha"]
        .clone();
    let other = mock
        .trigger(json!({"token": "T", "ref": "dev"}))
        .await
        .expect(201)["sha"]
        .clone();

    assert_eq!(first, again);
    assert_ne!(first, other);
    assert!(
        first
            .as_str()
            .unwrap()
            .chars()
            .all(|c| c.is_ascii_hexdigit())
    );
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
