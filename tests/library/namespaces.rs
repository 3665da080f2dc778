//! Isolated namespaces under `/ns/{name}`.

use serde_json::json;

use crate::support::{Client, frozen};

#[tokio::test]
async fn namespaces_number_pipelines_and_keep_clocks_on_their_own() {
    let gitlab = frozen().await;
    let (a, b) = (
        Client::namespace(&gitlab, "a"),
        Client::namespace(&gitlab, "b"),
    );
    a.post_json(
        "/_mock/clock/freeze",
        json!({ "at": "2030-01-01T00:00:00Z" }),
    )
    .await;
    b.post_json(
        "/_mock/clock/freeze",
        json!({ "at": "2030-01-01T00:00:00Z" }),
    )
    .await;

    assert_eq!(a.trigger(7, 500).await.body["id"], 1);
    assert_eq!(b.trigger(7, 10).await.body["id"], 1);
    a.advance(300.0).await;

    assert_eq!(a.status(7, 1).await.body["status"], "success");
    assert_eq!(b.status(7, 1).await.body["status"], "running");
    let b_clock = b.get("/_mock/clock").await;
    assert_eq!(b_clock.body["now"], "2030-01-01T00:00:00.000Z");
    assert_eq!(Client::root(&gitlab).status(7, 1).await.status, 404);
}

#[tokio::test]
async fn scenarios_and_rules_stay_in_their_namespace() {
    let gitlab = frozen().await;
    let (a, b) = (
        Client::namespace(&gitlab, "a"),
        Client::namespace(&gitlab, "b"),
    );
    let scenario = json!({ "scenario_id": 4242, "name": "only in a", "terminal_after_seconds": 1 });

    assert_eq!(a.post_json("/_mock/scenarios", scenario).await.status, 201);
    let in_b = b.get("/_mock/scenarios").await;

    let ids: Vec<i64> = (in_b.body.as_array().unwrap().iter())
        .map(|scenario| scenario["scenario_id"].as_i64().unwrap())
        .collect();
    assert!(ids.contains(&500), "b has the presets");
    assert!(!ids.contains(&4242), "b does not see a's scenario");
}

#[tokio::test]
async fn links_lead_back_into_the_namespace() {
    let gitlab = frozen().await;
    let a = Client::namespace(&gitlab, "team-1");
    for _ in 0..3 {
        a.trigger(3, 500).await;
    }

    let created = a.trigger(3, 500).await;
    let listed = a.get("/api/v4/projects/3/pipelines?per_page=2").await;

    let web_url = created.body["web_url"].as_str().unwrap();
    assert!(
        web_url.starts_with(&format!("{}/", gitlab.namespace_url("team-1"))),
        "{web_url}"
    );
    let link = listed.header("link").unwrap();
    let next = format!(
        "<{}/api/v4/projects/3/pipelines?",
        gitlab.namespace_url("team-1")
    );
    assert!(link.contains(&next), "{link}");
}

#[tokio::test]
async fn the_root_lists_and_deletes_namespaces() {
    let gitlab = frozen().await;
    let root = Client::root(&gitlab);
    Client::namespace(&gitlab, "beta").trigger(1, 500).await;
    Client::namespace(&gitlab, "alpha")
        .get("/_mock/clock")
        .await;

    let listed = root.get("/_mock/namespaces").await;
    assert_eq!(
        listed.body,
        json!([
            { "name": "alpha", "base_path": "/ns/alpha" },
            { "name": "beta", "base_path": "/ns/beta" },
        ])
    );

    assert_eq!(root.delete("/_mock/namespaces/beta").await.status, 204);
    let after = root.get("/_mock/namespaces").await;
    assert_eq!(
        after.body,
        json!([{ "name": "alpha", "base_path": "/ns/alpha" }])
    );
    let fresh = Client::namespace(&gitlab, "beta").status(1, 1).await;
    assert_eq!(fresh.status, 404, "a deleted namespace comes back empty");
}

#[tokio::test]
async fn namespace_mistakes_are_json_4xx() {
    let gitlab = frozen().await;
    let root = Client::root(&gitlab);

    let unknown = root.delete("/_mock/namespaces/nobody").await;
    let invalid = root.get("/ns/no.dots/_mock/clock").await;
    let too_long = root
        .get(&format!("/ns/{}/_mock/clock", "n".repeat(65)))
        .await;
    let nested = Client::namespace(&gitlab, "a")
        .get("/_mock/namespaces")
        .await;
    let bare = root.get("/ns/").await;

    assert_eq!(unknown.status, 404);
    assert_eq!(
        unknown.body,
        json!({ "message": "404 Namespace Not Found" })
    );
    assert_eq!(invalid.status, 400);
    assert!(invalid.body["error"].as_str().unwrap().contains("no.dots"));
    assert_eq!(too_long.status, 400);
    assert_eq!(nested.status, 404, "a namespace cannot manage the others");
    assert_eq!(bare.status, 404);
    for answer in [&unknown, &invalid, &too_long, &nested, &bare] {
        assert_eq!(answer.header("content-type"), Some("application/json"));
    }
}

#[tokio::test]
async fn reset_in_a_namespace_leaves_the_others_alone() {
    let gitlab = frozen().await;
    let (a, b) = (
        Client::namespace(&gitlab, "a"),
        Client::namespace(&gitlab, "b"),
    );
    a.trigger(1, 500).await;
    b.trigger(1, 500).await;

    assert_eq!(a.post_json("/_mock/reset", json!({})).await.status, 200);

    assert_eq!(a.status(1, 1).await.status, 404);
    assert_eq!(b.status(1, 1).await.status, 200);
}

#[tokio::test]
async fn past_a_thousand_open_namespaces_a_new_one_is_refused_with_409() {
    let gitlab = frozen().await;
    let root = Client::root(&gitlab);
    for n in 0..gitlab_mock::namespaces::MAX_OPEN {
        let opened = root.get(&format!("/ns/n{n}/_mock/health")).await;
        assert_eq!(opened.status, 200, "namespace {n}");
    }

    let refused = root.get("/ns/one-too-many/_mock/health").await;
    root.delete("/_mock/namespaces/n0").await;
    let after_delete = root.get("/ns/one-too-many/_mock/health").await;

    assert_eq!(refused.status, 409);
    assert!(
        refused.body["message"]
            .as_str()
            .unwrap()
            .contains("DELETE /_mock/namespaces")
    );
    assert_eq!(after_delete.status, 200);
}

#[tokio::test]
async fn names_are_case_insensitive() {
    let gitlab = frozen().await;
    let upper = Client::namespace(&gitlab, "Team-A");
    upper.trigger(1, 500).await;

    let lower = Client::namespace(&gitlab, "team-a").status(1, 1).await;
    let listed = Client::root(&gitlab).get("/_mock/namespaces").await;

    assert_eq!(lower.status, 200);
    assert_eq!(
        listed.body,
        json!([{ "name": "team-a", "base_path": "/ns/team-a" }])
    );
}

#[tokio::test]
async fn relative_paths_carry_the_prefix_too() {
    let gitlab = frozen().await;
    let created = Client::namespace(&gitlab, "rel").trigger(5, 500).await;

    let status = &created.body["detailed_status"];

    assert_eq!(
        status["details_path"],
        "/ns/rel/mock/project-5/-/pipelines/1"
    );
    assert_eq!(
        status["favicon"],
        "/ns/rel/assets/ci_favicons/favicon_status_running.png"
    );
}

/// Deleting while triggers pour into the namespace never answers a 5xx:
/// each trigger lands in the old namespace or in a fresh one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_under_load_never_fails_a_request() {
    let gitlab = frozen().await;
    for round in 0..10 {
        let name = format!("busy-{round}");
        let client = std::sync::Arc::new(Client::namespace(&gitlab, &name));
        client.trigger(1, 500).await;

        let load: Vec<_> = (0..4)
            .map(|_| {
                let client = std::sync::Arc::clone(&client);
                tokio::spawn(async move {
                    let mut statuses = Vec::new();
                    for _ in 0..20 {
                        statuses.push(client.trigger(1, 500).await.status);
                    }
                    statuses
                })
            })
            .collect();
        let deleted = Client::root(&gitlab)
            .delete(&format!("/_mock/namespaces/{name}"))
            .await;

        assert!(
            matches!(deleted.status, 204 | 409),
            "delete answered {}",
            deleted.status
        );
        for task in load {
            let statuses = task.await.unwrap();
            assert!(statuses.iter().all(|status| *status == 201), "{statuses:?}");
        }
    }
}
