//! A frozen embedded mock and a client that speaks to it.

use jiff::Timestamp;
use reqwest::{Method, RequestBuilder};
use serde_json::Value;

use gitlab_mock::MockGitLab;

/// Where every test's clock starts.
pub const START: &str = "2026-12-03T10:00:00Z";

pub fn start() -> Timestamp {
    START.parse().unwrap()
}

/// A mock frozen at [`START`].
pub async fn frozen() -> MockGitLab {
    MockGitLab::builder().frozen_at(start()).start().await
}

/// What a request got back.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|value| value.to_str().unwrap())
    }
}

/// A client for one base URL (the root or a namespace) of `gitlab`.
pub struct Client {
    base: String,
    token: String,
    http: reqwest::Client,
}

impl Client {
    pub fn root(gitlab: &MockGitLab) -> Self {
        Self::at(gitlab.url(), gitlab)
    }

    pub fn namespace(gitlab: &MockGitLab, name: &str) -> Self {
        Self::at(gitlab.namespace_url(name), gitlab)
    }

    fn at(base: String, gitlab: &MockGitLab) -> Self {
        Self {
            base,
            token: gitlab.token().to_owned(),
            http: reqwest::Client::new(),
        }
    }

    /// A request to `path` below the base URL, with the mock's token.
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.base))
            .header("PRIVATE-TOKEN", &self.token)
    }

    pub async fn send(&self, request: RequestBuilder) -> Answer {
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.unwrap();
        Answer {
            status,
            headers,
            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        }
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.send(self.request(Method::GET, path)).await
    }

    pub async fn delete(&self, path: &str) -> Answer {
        self.send(self.request(Method::DELETE, path)).await
    }

    pub async fn post_json(&self, path: &str, body: Value) -> Answer {
        self.send(self.request(Method::POST, path).json(&body))
            .await
    }

    /// Triggers a pipeline of `scenario` on `main` in `project`.
    pub async fn trigger(&self, project: i64, scenario: i64) -> Answer {
        let path = format!("/api/v4/projects/{project}/trigger/pipeline");
        let form = [
            ("token", "T"),
            ("ref", "main"),
            ("scenario_id", &scenario.to_string()),
        ];
        self.send(self.request(Method::POST, &path).form(&form))
            .await
    }

    /// The status pipeline `id` of `project` shows.
    pub async fn status(&self, project: i64, id: i64) -> Answer {
        self.get(&format!("/api/v4/projects/{project}/pipelines/{id}"))
            .await
    }

    pub async fn advance(&self, seconds: f64) -> Answer {
        self.post_json(
            "/_mock/clock/advance",
            serde_json::json!({ "seconds": seconds }),
        )
        .await
    }
}
