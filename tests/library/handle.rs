//! The embedded handle itself: start, the clock methods, drop.

use std::time::Duration;

use gitlab_mock::MockGitLab;
use gitlab_mock::mock::{FaultSpec, JournalFilter};
use gitlab_mock::model::{RuleMatch, Scenario};

use crate::support::{Client, frozen, start};

#[tokio::test]
async fn the_handle_moves_the_clock_the_routes_read() {
    let gitlab = frozen().await;
    let client = Client::root(&gitlab);
    client.trigger(1, 100).await;

    let advanced = gitlab.advance(Duration::from_secs(60)).await.unwrap();
    let polled = client.status(1, 1).await;

    assert_eq!(advanced.now, start() + Duration::from_secs(60));
    assert!(advanced.frozen);
    assert_eq!(polled.body["status"], "success");
    assert_eq!(gitlab.now(), advanced.now);
}

#[tokio::test]
async fn freeze_and_resume_switch_the_clock() {
    let gitlab = MockGitLab::start().await;
    assert!(
        !gitlab.mock().clock().frozen,
        "a default mock runs on system time"
    );

    let later = gitlab.now() + Duration::from_secs(3600);
    let frozen = gitlab.freeze_at(later).await.unwrap();
    let resumed = gitlab.resume().await.unwrap();

    assert!(frozen.frozen);
    assert_eq!(frozen.now, later);
    assert!(!resumed.frozen);
}

#[tokio::test]
async fn the_journal_is_read_without_http() {
    let gitlab = frozen().await;
    let client = Client::root(&gitlab);
    client.get("/api/v4/projects/1/pipelines/1").await;

    let entries = gitlab.requests(&JournalFilter::default());

    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].path, "/api/v4/projects/1/pipelines/1");
    assert_eq!(entries[0].status_code, 404);
}

#[tokio::test]
async fn a_custom_token_is_the_one_the_routes_want() {
    let gitlab = MockGitLab::builder().token("s3cret").start().await;
    let client = Client::root(&gitlab);

    let with_token = client.get("/_mock/clock").await;
    let without = reqwest::get(format!("{}/_mock/clock", gitlab.url()))
        .await
        .unwrap();

    assert_eq!(gitlab.token(), "s3cret");
    assert_eq!(with_token.status, 200);
    assert_eq!(without.status(), 401);
}

#[tokio::test]
async fn dropping_the_handle_stops_the_server() {
    let gitlab = frozen().await;
    let url = format!("{}/_mock/health", gitlab.url());
    assert!(reqwest::get(&url).await.unwrap().status().is_success());

    drop(gitlab);
    tokio::task::yield_now().await;

    let after = reqwest::Client::new().get(&url).send().await;
    assert!(after.is_err(), "still answering after drop: {after:?}");
}

#[tokio::test]
async fn scenarios_rules_and_faults_are_set_without_http() {
    let gitlab = frozen().await;
    let client = Client::root(&gitlab);
    let scenario = Scenario::seed(4321, "ten seconds", Some(10));
    gitlab.add_scenario(scenario.clone()).unwrap();
    let matching = RuleMatch {
        git_ref: Some("main".into()),
        ..RuleMatch::default()
    };
    gitlab.add_rule(matching, 4321, Some(1)).unwrap();
    let fault = FaultSpec {
        method: Some("GET".into()),
        path: "/api/v4/user".into(),
        status: Some(503),
        body: None,
        retry_after: None,
        delay_ms: None,
        times: 1,
    };
    gitlab.add_fault(fault).unwrap();

    let form = [("token", "T"), ("ref", "main")];
    let path = "/api/v4/projects/1/trigger/pipeline";
    let created = client
        .send(client.request(reqwest::Method::POST, path).form(&form))
        .await;
    let user = client.get("/api/v4/user").await;

    assert!(gitlab.scenarios().unwrap().contains(&scenario));
    assert_eq!(created.body["scenario_id"], 4321);
    assert_eq!(gitlab.rules().unwrap()[0].used, 1);
    assert_eq!(user.status, 503);
}
