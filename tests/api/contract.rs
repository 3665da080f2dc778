//! API.md stays in step with the routes: every operation it documents is
//! served, and every route served is documented.

use super::support::{TestMock, authed};

/// Every route the mock serves, as `(method, OpenAPI path)`: the
/// GitLab-shaped routes bare and under `/api/v4`, then the `/_mock`
/// routes.
const SERVED: [(&str, &str); 67] = [
    ("post", "/projects/{id}/trigger/pipeline"),
    ("post", "/projects/{id}/ref/{ref}/trigger/pipeline"),
    ("post", "/projects/{id}/pipeline"),
    ("get", "/projects/{id}/pipelines"),
    ("get", "/projects/{id}/pipelines/latest"),
    ("get", "/projects/{id}/pipelines/{pipeline_id}"),
    ("delete", "/projects/{id}/pipelines/{pipeline_id}"),
    ("get", "/projects/{id}/pipelines/{pipeline_id}/variables"),
    ("get", "/projects/{id}/pipelines/{pipeline_id}/jobs"),
    ("post", "/projects/{id}/pipelines/{pipeline_id}/cancel"),
    ("post", "/projects/{id}/pipelines/{pipeline_id}/retry"),
    ("get", "/projects/{id}"),
    ("get", "/user"),
    ("get", "/projects/{id}/triggers"),
    ("post", "/projects/{id}/triggers"),
    ("delete", "/projects/{id}/triggers/{trigger_id}"),
    ("get", "/projects/{id}/hooks"),
    ("post", "/projects/{id}/hooks"),
    ("get", "/projects/{id}/hooks/{hook_id}"),
    ("put", "/projects/{id}/hooks/{hook_id}"),
    ("delete", "/projects/{id}/hooks/{hook_id}"),
    ("post", "/api/v4/projects/{id}/trigger/pipeline"),
    ("post", "/api/v4/projects/{id}/ref/{ref}/trigger/pipeline"),
    ("post", "/api/v4/projects/{id}/pipeline"),
    ("get", "/api/v4/projects/{id}/pipelines"),
    ("get", "/api/v4/projects/{id}/pipelines/latest"),
    ("get", "/api/v4/projects/{id}/pipelines/{pipeline_id}"),
    ("delete", "/api/v4/projects/{id}/pipelines/{pipeline_id}"),
    (
        "get",
        "/api/v4/projects/{id}/pipelines/{pipeline_id}/variables",
    ),
    ("get", "/api/v4/projects/{id}/pipelines/{pipeline_id}/jobs"),
    (
        "post",
        "/api/v4/projects/{id}/pipelines/{pipeline_id}/cancel",
    ),
    (
        "post",
        "/api/v4/projects/{id}/pipelines/{pipeline_id}/retry",
    ),
    ("get", "/api/v4/projects/{id}"),
    ("get", "/api/v4/user"),
    ("get", "/api/v4/projects/{id}/triggers"),
    ("post", "/api/v4/projects/{id}/triggers"),
    ("delete", "/api/v4/projects/{id}/triggers/{trigger_id}"),
    ("get", "/api/v4/projects/{id}/hooks"),
    ("post", "/api/v4/projects/{id}/hooks"),
    ("get", "/api/v4/projects/{id}/hooks/{hook_id}"),
    ("put", "/api/v4/projects/{id}/hooks/{hook_id}"),
    ("delete", "/api/v4/projects/{id}/hooks/{hook_id}"),
    ("get", "/_mock/health"),
    ("get", "/_mock/scenarios"),
    ("post", "/_mock/scenarios"),
    ("put", "/_mock/scenarios/{scenario_id}"),
    ("delete", "/_mock/scenarios/{scenario_id}"),
    ("get", "/_mock/rules"),
    ("post", "/_mock/rules"),
    ("delete", "/_mock/rules/{rule_id}"),
    ("get", "/_mock/projects"),
    ("post", "/_mock/projects"),
    ("get", "/_mock/pipelines"),
    ("delete", "/_mock/pipelines/{pipeline_id}"),
    ("get", "/_mock/clock"),
    ("post", "/_mock/clock/freeze"),
    ("post", "/_mock/clock/advance"),
    ("post", "/_mock/clock/resume"),
    ("post", "/_mock/reset"),
    ("get", "/_mock/requests"),
    ("get", "/_mock/faults"),
    ("post", "/_mock/faults"),
    ("delete", "/_mock/faults"),
    ("delete", "/_mock/faults/{fault_id}"),
    ("get", "/_mock/namespaces"),
    ("delete", "/_mock/namespaces/{name}"),
    ("get", "/_mock/hooks/deliveries"),
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
        .replace("{ref}", "main")
        .replace("{pipeline_id}", "1")
        .replace("{scenario_id}", "1")
        .replace("{rule_id}", "1")
        .replace("{trigger_id}", "1")
        .replace("{fault_id}", "1")
        .replace("{name}", "team-a")
        .replace("{hook_id}", "1")
}

/// Each documented operation reaches a route: never the no-route 404 or a
/// 405.
#[tokio::test]
async fn every_documented_operation_is_served() {
    let mock = TestMock::new();
    let operations = documented();
    assert!(
        operations.len() >= SERVED.len(),
        "API.md lists only {operations:?}"
    );

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
