//! A mock on a frozen clock and helpers to talk to it.

use std::sync::Arc;

use jiff::Timestamp;
use serde_json::Value;
use warp::filters::BoxedFilter;
use warp::reply::Response;
use warp::test::RequestBuilder;

use gitlab_mock::clock::VirtualClock;
use gitlab_mock::http::{Settings, routes};
use gitlab_mock::mock::{Mock, MockOptions};
use gitlab_mock::namespaces::Directory;
use gitlab_mock::store::Store;

/// Where every test's clock starts.
pub const START: &str = "2026-12-03T10:00:00Z";
/// The token the test mock accepts.
pub const TOKEN: &str = "MOCK_SUPER_SECRET";

/// The instant [`START`] names.
pub fn start() -> Timestamp {
    START.parse().unwrap()
}

/// A mock with an in-memory store and a clock frozen at [`START`].
pub struct TestMock {
    routes: BoxedFilter<(Response,)>,
    pub clock: Arc<VirtualClock>,
}

/// What a request got back.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub content_type: Option<String>,
    pub headers: warp::http::HeaderMap,
    pub body: Value,
    pub raw: bytes::Bytes,
}

impl TestMock {
    pub fn new() -> Self {
        Self::with_reset(true)
    }

    pub fn with_reset(allow_reset: bool) -> Self {
        Self::configured(|settings, _| settings.allow_reset = allow_reset)
    }

    /// A mock whose settings and options `configure` adjusts; reset is
    /// allowed unless it says otherwise.
    pub fn configured(configure: impl FnOnce(&mut Settings, &mut MockOptions)) -> Self {
        let mut settings = Settings::new(TOKEN, "http://fallback.invalid");
        settings.allow_reset = true;
        let mut options = MockOptions::default();
        configure(&mut settings, &mut options);

        let directory = Directory::new(":memory:", settings.clone(), options.clone());
        settings.namespaces = Some(Arc::new(directory));
        let store = Store::open(":memory:").unwrap();
        let clock = Arc::new(VirtualClock::frozen_at(start()));
        let mock = Mock::with_options(store, clock.clone(), options);
        Self {
            routes: routes(mock, settings),
            clock,
        }
    }

    /// Sends `request` as it is.
    pub async fn send(&self, request: RequestBuilder) -> Answer {
        let response = request.reply(&self.routes).await;
        let content_type = response
            .headers()
            .get("content-type")
            .map(|value| value.to_str().unwrap().to_owned());
        let raw = response.body().clone();
        let body = serde_json::from_slice(&raw).unwrap_or(Value::Null);
        Answer {
            status: response.status().as_u16(),
            content_type,
            headers: response.headers().clone(),
            body,
            raw,
        }
    }

    /// `GET path` with the token.
    pub async fn get(&self, path: &str) -> Answer {
        self.send(authed("GET", path)).await
    }

    /// `DELETE path` with the token.
    pub async fn delete(&self, path: &str) -> Answer {
        self.send(authed("DELETE", path)).await
    }

    /// `method path` with the token and a JSON body.
    pub async fn json(&self, method: &str, path: &str, body: Value) -> Answer {
        let request = authed(method, path)
            .header("content-type", "application/json")
            .json(&body);
        self.send(request).await
    }

    /// `POST path` with the token and a urlencoded form body.
    pub async fn form(&self, path: &str, body: &str) -> Answer {
        let request = authed("POST", path)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        self.send(request).await
    }

    /// Triggers a pipeline in project 123 with a JSON body.
    pub async fn trigger(&self, fields: Value) -> Answer {
        self.json("POST", "/projects/123/trigger/pipeline", fields)
            .await
    }

    /// Triggers a pipeline in the project a path segment names.
    pub async fn trigger_in(&self, project: &str) -> Answer {
        let path = format!("/projects/{project}/trigger/pipeline");
        self.json(
            "POST",
            &path,
            serde_json::json!({"token": "T", "ref": "main"}),
        )
        .await
    }

    /// Moves the clock forward by `seconds`.
    pub async fn advance(&self, seconds: f64) -> Answer {
        let answer = self
            .json(
                "POST",
                "/_mock/clock/advance",
                serde_json::json!({ "seconds": seconds }),
            )
            .await;
        assert_eq!(answer.status, 200, "advance failed: {:?}", answer.body);
        answer
    }

    /// The status a GET of pipeline `id` of project 123 shows now.
    pub async fn status_of(&self, id: &Value) -> String {
        let answer = self.get(&format!("/projects/123/pipelines/{id}")).await;
        assert_eq!(answer.status, 200, "poll failed: {:?}", answer.body);
        answer.body["status"].as_str().unwrap().to_owned()
    }
}

/// A request with the token and the `Host` a client on port 8000 sends.
pub fn authed(method: &str, path: &str) -> RequestBuilder {
    anonymous(method, path).header("private-token", TOKEN)
}

/// A request without credentials.
pub fn anonymous(method: &str, path: &str) -> RequestBuilder {
    warp::test::request()
        .method(method)
        .path(path)
        .header("host", "localhost:8000")
}

impl Answer {
    /// Asserts the status and that the body is JSON sent as JSON.
    pub fn expect(&self, status: u16) -> &Value {
        assert_eq!(
            self.status,
            status,
            "unexpected status; body: {}",
            String::from_utf8_lossy(&self.raw)
        );
        if status != 204 {
            assert_eq!(self.content_type.as_deref(), Some("application/json"));
            assert!(!self.body.is_null(), "body is not JSON: {:?}", self.raw);
        }
        &self.body
    }

    /// Asserts an error status with `{"message": text}`.
    pub fn expect_message(&self, status: u16, text: &str) {
        assert_eq!(self.expect(status)["message"], text);
    }

    /// Asserts an error status whose `message` or `error` contains `part`.
    pub fn expect_error_mentioning(&self, status: u16, part: &str) {
        let body = self.expect(status);
        let text = body["message"]
            .as_str()
            .or(body["error"].as_str())
            .unwrap_or_default();
        assert!(text.contains(part), "{text:?} does not mention {part:?}");
    }
}
