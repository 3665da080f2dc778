//! API.md stays in step with the routes: every operation it documents is
//! served, and every route served is documented.

use super::support::{TestMock, authed};

/// Every route the mock serves, as `(method, OpenAPI path)`.
const SERVED: [(&str, &str); 16] = [
    ("post", "/projects/{id}/trigger/pipeline"),
    ("get", "/projects/{id}/pipelines/{pipeline_id}"),
    ("post", "/api/v4/projects/{id}/trigger/pipeline"),
    ("get", "/api/v4/projects/{id}/pipelines/{pipeline_id}"),
    ("get", "/_mock/health"),
    ("get", "/_mock/scenarios"),
    ("post", "/_mock/scenarios"),
    ("put", "/_mock/scenarios/{scenario_id}"),
    ("delete", "/_mock/scenarios/{scenario_id}"),
    ("get", "/_mock/pipelines"),
    ("delete", "/_mock/pipelines/{pipeline_id}"),
    ("get", "/_mock/clock"),
    ("post", "/_mock/clock/freeze"),
    ("post", "/_mock/clock/advance"),
    ("post", "/_mock/clock/resume"),
    ("post", "/_mock/reset"),
];

/// `(method, path)` of every operation in API.md's `paths` section.
fn documented() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/API.md")).unwrap();
    let mut operations = Vec::new();
    let mut path = None;
    let mut in_paths = false;

    for line in text.lines() {
        if line.starts_with("paths:") || line.starts_with("components:") {
            in_paths = line.starts_with("paths:");
            continue;
        }
        if !in_paths {
            continue;
        }
        if let Some(found) = line
            .strip_prefix("  /")
            .and_then(|rest| rest.strip_suffix(':'))
        {
            path = Some(format!("/{found}"));
        } else if let (Some(method), Some(path)) = (operation(line), &path) {
            operations.push((method.to_owned(), path.clone()));
        }
    }
    operations
}

fn operation(line: &str) -> Option<&str> {
    let method = line.strip_prefix("    ")?.strip_suffix(':')?;
    ["get", "post", "put", "delete", "patch"]
        .contains(&method)
        .then_some(method)
}

/// A concrete URL for an OpenAPI path.
fn concrete(path: &str) -> String {
    path.replace("{id}", "123")
        .replace("{pipeline_id}", "1")
        .replace("{scenario_id}", "1")
}

/// Each documented operation reaches a route: never the no-route 404 or a
/// 405.
#[tokio::test]
async fn every_documented_operation_is_served() {
    let mock = TestMock::new();
    let operations = documented();
    assert!(operations.len() >= 16, "API.md lists only {operations:?}");

    for (method, path) in operations {
        let answer = mock
            .send(authed(&method.to_uppercase(), &concrete(&path)))
            .await;
        assert_ne!(answer.status, 405, "{method} {path}");
        assert_ne!(
            answer.body["error"], "404 Not Found",
            "{method} {path} is not served"
        );
    }
}

/// Each served route appears in API.md.
#[test]
fn every_served_route_is_documented() {
    let operations = documented();

    for (method, path) in SERVED {
        let listed = operations.iter().any(|(m, p)| m == method && p == path);
        assert!(listed, "{method} {path} is missing from API.md");
    }
}
