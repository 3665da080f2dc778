//! Bad input: whatever a client sends, the answer is a JSON 4xx, never a
//! 5xx.

use serde_json::json;

use gitlab_mock::http::MAX_BODY_BYTES;

use super::support::{TestMock, anonymous, authed};

/// A route that does not exist is GitLab's `{"error":"404 Not Found"}`,
/// with or without credentials.
#[tokio::test]
async fn unknown_routes_are_json_404() {
    let mock = TestMock::new();

    for path in [
        "/",
        "/projects",
        "/api/v4/projects/1/pipelines/1/nothing",
        "/_mock/nothing",
        "/api/v3/x",
    ] {
        assert_eq!(
            mock.get(path).await.expect(404),
            &json!({"error": "404 Not Found"}),
            "{path}"
        );
        assert_eq!(
            mock.send(anonymous("GET", path)).await.expect(404)["error"],
            "404 Not Found"
        );
    }
}

/// A known path with the wrong method is a JSON 405.
#[tokio::test]
async fn wrong_methods_are_json_405() {
    let mock = TestMock::new();

    let answer = mock
        .send(authed("GET", "/projects/1/trigger/pipeline"))
        .await;
    let patch = mock.send(anonymous("PATCH", "/_mock/scenarios")).await;

    assert_eq!(
        answer.expect(405),
        &json!({"error": "405 Method Not Allowed"})
    );
    patch.expect(405);
}

/// Broken JSON is a 400 naming the problem, on every route with a body.
#[tokio::test]
async fn malformed_json_is_400() {
    let mock = TestMock::new();
    let routes = [
        ("POST", "/projects/1/trigger/pipeline"),
        ("POST", "/_mock/scenarios"),
        ("PUT", "/_mock/scenarios/1"),
        ("POST", "/_mock/clock/freeze"),
        ("POST", "/_mock/clock/advance"),
    ];

    for (method, path) in routes {
        for body in [&b"{\"token\": "[..], b"[1,2", b"\xff\xfe{}", b"{\"a\":1}}"] {
            let request = authed(method, path)
                .header("content-type", "application/json")
                .body(body);
            let answer = mock.send(request).await;
            answer.expect_error_mentioning(400, "not valid JSON");
        }
    }
}

/// A trigger body that is JSON but not an object is a 400.
#[tokio::test]
async fn non_object_json_trigger_is_400() {
    let mock = TestMock::new();

    for body in [json!([1]), json!("token"), json!(3)] {
        mock.trigger(body)
            .await
            .expect_error_mentioning(400, "must be a JSON object");
    }
}

/// Broken multipart is a 400, not a crash.
#[tokio::test]
async fn broken_multipart_is_400() {
    let mock = TestMock::new();
    let no_boundary = authed("POST", "/projects/1/trigger/pipeline")
        .header("content-type", "multipart/form-data")
        .body("token=T");
    let truncated = authed("POST", "/projects/1/trigger/pipeline")
        .header("content-type", "multipart/form-data; boundary=XyZ")
        .body("--XyZ\r\nContent-Disposition: form-data; name=\"token\"\r\n\r\nT");

    let bad_name = authed("POST", "/projects/1/trigger/pipeline")
        .header("content-type", "multipart/form-data; boundary=XyZ")
        .body(
            [
                &b"--XyZ\r\nContent-Disposition: form-data; "[..],
                b"name=\"variables[K\xff]\"\r\n\r\nv\r\n--XyZ--\r\n",
            ]
            .concat(),
        );

    mock.send(no_boundary)
        .await
        .expect_error_mentioning(400, "multipart");
    mock.send(truncated)
        .await
        .expect_error_mentioning(400, "multipart");
    mock.send(bad_name)
        .await
        .expect_error_mentioning(400, "not UTF-8");
}

/// Form bytes that are not UTF-8 are read lossily and validated like any
/// other value.
#[tokio::test]
async fn invalid_utf8_in_forms_is_not_a_crash() {
    let mock = TestMock::new();
    let request = authed("POST", "/projects/1/trigger/pipeline")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(&b"token=T&ref=ma\xffin&scenario_id=%ff"[..]);

    mock.send(request)
        .await
        .expect_error_mentioning(422, "scenario_id must be an integer");
}

/// Bodies over the cap are a 413 whether or not they declare a length.
#[tokio::test]
async fn oversized_bodies_are_413() {
    let mock = TestMock::new();
    let big = vec![b'a'; MAX_BODY_BYTES + 1];

    for path in ["/projects/1/trigger/pipeline", "/_mock/scenarios"] {
        let answer = mock.send(authed("POST", path).body(big.clone())).await;
        answer.expect_message(413, "413 Request Entity Too Large");
    }
}

/// A header that is not valid text is a 400, not a 500.
#[tokio::test]
async fn unreadable_headers_are_400() {
    let mock = TestMock::new();
    let value = warp::http::HeaderValue::from_bytes(b"\xfa\xfb").unwrap();
    let request = anonymous("GET", "/_mock/clock").header("private-token", value);

    mock.send(request)
        .await
        .expect_error_mentioning(400, "private-token");
}
