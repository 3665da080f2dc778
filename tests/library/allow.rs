//! A 405 names the methods the path has, in an `Allow` header.

use reqwest::Method;

use crate::support::{Client, frozen};

#[tokio::test]
async fn a_405_says_which_methods_the_path_takes() {
    let gitlab = frozen().await;
    let client = Client::root(&gitlab);
    let cases = [
        (Method::PUT, "/api/v4/projects/1/pipelines/1", "GET, DELETE"),
        (Method::GET, "/projects/1/trigger/pipeline", "POST"),
        (Method::DELETE, "/_mock/health", "GET"),
        (Method::PATCH, "/ns/a/_mock/faults", "GET, POST, DELETE"),
        (Method::OPTIONS, "/_mock/scenarios", "GET, POST"),
    ];

    for (method, path, allow) in cases {
        let answer = client.send(client.request(method.clone(), path)).await;
        assert_eq!(answer.status, 405, "{method} {path}");
        assert_eq!(answer.header("allow"), Some(allow), "{method} {path}");
        assert_eq!(
            answer.body,
            serde_json::json!({ "error": "405 Method Not Allowed" })
        );
    }
}

#[tokio::test]
async fn probing_the_methods_changes_nothing() {
    let gitlab = frozen().await;
    let client = Client::root(&gitlab);

    for path in [
        "/projects/1/trigger/pipeline",
        "/projects/1/pipeline",
        "/_mock/reset",
    ] {
        client.send(client.request(Method::PATCH, path)).await;
    }

    let pipelines = client.get("/_mock/pipelines").await;
    assert_eq!(pipelines.body, serde_json::json!([]));
}
