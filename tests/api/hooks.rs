//! Project hooks: the CRUD routes, and pipeline events received by a real
//! listener on 127.0.0.1 as the frozen clock is advanced, cancels and
//! retries happen, and `to_next_transition` steps through a scenario.

use std::sync::atomic::Ordering;
use std::time::Duration;

use serde_json::{Value, json};

use gitlab_mock::mock::MAX_HOOKS_PER_PROJECT;
use gitlab_mock::webhook::DeliveryPolicy;

use super::receiver::Receiver;
use super::support::{TestMock, anonymous};

/// A mock whose events link to `http://mock.test` and are retried quickly.
fn mock() -> TestMock {
    mock_with_timeout(Duration::from_millis(500))
}

fn mock_with_timeout(timeout: Duration) -> TestMock {
    TestMock::configured(|_, options| {
        options.public_url = "http://mock.test".into();
        options.hook_delivery = DeliveryPolicy {
            attempts: 3,
            backoff: Duration::from_millis(50),
            timeout,
        };
    })
}

/// A receiver that accepts connections and never answers: its URL, and
/// the task holding the connections open.
async fn silent_receiver() -> (String, tokio::task::JoinHandle<()>) {
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", silent.local_addr().unwrap());
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((socket, _)) = silent.accept().await {
            open.push(socket);
        }
    });
    (url, held)
}

async fn add_hook(mock: &TestMock, fields: Value) -> Value {
    mock.json("POST", "/projects/123/hooks", fields)
        .await
        .expect(201)
        .clone()
}

async fn trigger(mock: &TestMock, fields: Value) -> i64 {
    let mut body = json!({"token": "T", "ref": "main"});
    body.as_object_mut()
        .unwrap()
        .extend(fields.as_object().unwrap().clone());
    mock.trigger(body).await.expect(201)["id"].as_i64().unwrap()
}

async fn deliveries(mock: &TestMock, query: &str) -> Vec<Value> {
    let path = format!("/_mock/hooks/deliveries{query}");
    mock.get(&path)
        .await
        .expect(200)
        .as_array()
        .unwrap()
        .clone()
}

#[tokio::test]
async fn hooks_are_created_read_changed_and_deleted() {
    let mock = mock();
    let form = "url=http%3A%2F%2F127.0.0.1%3A9%2Fa&pipeline_events=true&push_events=false\
                &token=secret&name=ci";
    let created = mock.form("/projects/123/hooks", form).await;
    let created = created.expect(201).clone();
    assert_eq!(created["url"], "http://127.0.0.1:9/a");
    assert_eq!(created["project_id"], 123);
    assert_eq!(created["pipeline_events"], true);
    assert_eq!(created["push_events"], false);
    assert_eq!(created["enable_ssl_verification"], true);
    assert_eq!(created["name"], "ci");
    assert!(created.get("token").is_none(), "the token is never shown");
    let id = created["id"].as_i64().unwrap();

    let second = add_hook(&mock, json!({"url": "http://127.0.0.1:9/b"})).await;
    assert_eq!(second["push_events"], true, "push events are on by default");
    assert_eq!(second["pipeline_events"], false);

    let listed = mock.get("/api/v4/projects/123/hooks").await;
    let ids: Vec<_> = listed
        .expect(200)
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["id"].clone())
        .collect();
    assert_eq!(ids, vec![json!(id), second["id"].clone()]);
    let one = mock.get(&format!("/projects/123/hooks/{id}")).await;
    assert_eq!(one.expect(200)["url"], "http://127.0.0.1:9/a");

    let path = format!("/projects/123/hooks/{id}");
    let changed = mock
        .json(
            "PUT",
            &path,
            json!({"job_events": "yes", "url": "http://127.0.0.1:9/c"}),
        )
        .await;
    let changed = changed.expect(200);
    assert_eq!(changed["job_events"], true);
    assert_eq!(changed["pipeline_events"], true, "fields not sent stay");
    assert_eq!(changed["url"], "http://127.0.0.1:9/c");

    mock.delete(&path).await.expect(204);
    mock.get(&path)
        .await
        .expect_message(404, "404 Project Hook Not Found");
    mock.delete(&path)
        .await
        .expect_message(404, "404 Project Hook Not Found");
    assert_eq!(
        mock.get("/projects/123/hooks")
            .await
            .expect(200)
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let other_project = mock
        .get(&format!("/projects/124/hooks/{}", second["id"]))
        .await;
    other_project.expect_message(404, "404 Project Hook Not Found");
}

#[tokio::test]
async fn hook_requests_are_checked() {
    let mock = mock();
    let missing = mock.json("POST", "/projects/123/hooks", json!({})).await;
    assert_eq!(missing.expect(400)["error"], "url is missing");
    let flag = json!({"url": "http://127.0.0.1:9/", "pipeline_events": "maybe"});
    let bad_flag = mock.json("POST", "/projects/123/hooks", flag).await;
    assert_eq!(bad_flag.expect(400)["error"], "pipeline_events is invalid");
    for url in ["not a url", "ftp://127.0.0.1/", "", "http://"] {
        let answer = mock
            .json("POST", "/projects/123/hooks", json!({"url": url}))
            .await;
        answer.expect_message(422, "Invalid url given");
    }
    let strategy = json!({"url": "http://127.0.0.1:9/", "branch_filter_strategy": "any"});
    let answer = mock.json("POST", "/projects/123/hooks", strategy).await;
    answer.expect_error_mentioning(400, "branch_filter_strategy");

    mock.get("/projects/123/hooks/abc").await.expect(400);
    let put = mock.json("PUT", "/projects/123/hooks/7", json!({})).await;
    put.expect_message(404, "404 Project Hook Not Found");
    mock.get("/projects/0/hooks")
        .await
        .expect_message(404, "404 Project Not Found");
    let stranger = mock.send(anonymous("GET", "/projects/123/hooks")).await;
    stranger.expect_message(401, "401 Unauthorized");
    let log = mock.send(anonymous("GET", "/_mock/hooks/deliveries")).await;
    log.expect(401);
    mock.get("/_mock/hooks/deliveries?hook=1").await.expect(400);

    for _ in 0..MAX_HOOKS_PER_PROJECT {
        add_hook(&mock, json!({"url": "http://127.0.0.1:9/"})).await;
    }
    let over = mock
        .json(
            "POST",
            "/projects/123/hooks",
            json!({"url": "http://127.0.0.1:9/"}),
        )
        .await;
    over.expect_message(422, "Maximum number of project hooks (100) exceeded");
}

/// The first status comes from the trigger, each later one from the
/// advance that crosses it, with GitLab's headers and the hook's token.
#[tokio::test]
async fn advance_delivers_every_crossed_transition_in_order() {
    let mock = mock();
    let receiver = Receiver::start().await;
    let hook = add_hook(
        &mock,
        json!({"url": receiver.url, "pipeline_events": true, "token": "s3cret"}),
    )
    .await;
    let quiet = add_hook(&mock, json!({"url": receiver.url})).await;

    // created 0 s, pending 10 s, running 20 s, then failed.
    let phases = json!({"scenario_id": 4000, "name": "walk", "terminal_status": "failed",
        "phases": [{"status": "created", "seconds": 0}, {"status": "pending", "seconds": 10},
                   {"status": "running", "seconds": 20}]});
    mock.json("POST", "/_mock/scenarios", phases)
        .await
        .expect(201);
    let id = trigger(&mock, json!({"scenario_id": 4000})).await;

    // The trigger's events are queued; an advance by nothing waits for them.
    mock.advance(0.0).await;
    assert_eq!(receiver.statuses(), ["created", "pending"]);
    mock.advance(15.0).await;
    assert_eq!(receiver.statuses(), ["created", "pending", "running"]);
    mock.advance(100.0).await;
    assert_eq!(
        receiver.statuses(),
        ["created", "pending", "running", "failed"]
    );
    mock.advance(100.0).await;
    assert_eq!(
        receiver.all().len(),
        4,
        "a settled pipeline sends nothing more"
    );

    let first = &receiver.all()[0];
    let header = |name: &str| {
        first
            .headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    };
    assert_eq!(header("content-type").as_deref(), Some("application/json"));
    assert_eq!(header("x-gitlab-event").as_deref(), Some("Pipeline Hook"));
    assert_eq!(header("x-gitlab-token").as_deref(), Some("s3cret"));
    assert_eq!(
        header("x-gitlab-instance").as_deref(),
        Some("http://mock.test")
    );
    assert!(header("user-agent").unwrap().starts_with("GitLab/"));
    for name in [
        "x-gitlab-event-uuid",
        "x-gitlab-webhook-uuid",
        "idempotency-key",
    ] {
        assert_eq!(header(name).unwrap().len(), 36, "{name} is a UUID");
    }
    let uuids: std::collections::HashSet<_> = receiver
        .all()
        .iter()
        .map(|got| got.headers["x-gitlab-event-uuid"].clone())
        .collect();
    assert_eq!(uuids.len(), 4, "one event UUID per event");

    let failed = &receiver.all()[3].body["object_attributes"];
    assert_eq!(failed["id"], id);
    assert_eq!(failed["detailed_status"], "failed");
    assert_eq!(failed["created_at"], "2026-12-03 10:00:00 UTC");
    assert_eq!(failed["finished_at"], "2026-12-03 10:00:30 UTC");
    assert_eq!(failed["duration"], 20);
    assert_eq!(failed["queued_duration"], 10);

    let log = deliveries(&mock, &format!("?hook_id={}", hook["id"])).await;
    let logged: Vec<_> = log
        .iter()
        .map(|entry| entry["pipeline_status"].clone())
        .collect();
    assert_eq!(
        logged,
        [
            json!("created"),
            json!("pending"),
            json!("running"),
            json!("failed")
        ]
    );
    assert_eq!(log[2]["at"], "2026-12-03T10:00:10.000Z");
    assert_eq!(log[2]["response_status"], 200);
    assert_eq!(log[2]["error"], Value::Null);
    assert_eq!(log[2]["event"], "Pipeline Hook");
    assert_eq!(log[2]["attempt"], 1);
    let none = deliveries(&mock, &format!("?hook_id={}", quiet["id"])).await;
    assert!(none.is_empty(), "a hook without pipeline_events gets none");
    assert_eq!(
        deliveries(&mock, &format!("?pipeline_id={}", id + 1))
            .await
            .len(),
        0
    );
}

/// Two pipelines changing at the same instants arrive by instant, then by
/// pipeline id.
#[tokio::test]
async fn events_of_one_instant_go_by_pipeline_id() {
    let mock = mock();
    let receiver = Receiver::start().await;
    add_hook(&mock, json!({"url": receiver.url, "pipeline_events": true})).await;
    let first = trigger(&mock, json!({"terminal_after_seconds": 30})).await;
    let second = trigger(&mock, json!({"terminal_after_seconds": 10})).await;
    let third = trigger(&mock, json!({"terminal_after_seconds": 10})).await;
    mock.advance(60.0).await;

    let order: Vec<(i64, String)> = receiver
        .all()
        .iter()
        .map(|got| {
            let attributes = &got.body["object_attributes"];
            (
                attributes["id"].as_i64().unwrap(),
                attributes["status"].as_str().unwrap().into(),
            )
        })
        .collect();
    let expected = [
        (first, "running"),
        (second, "running"),
        (third, "running"),
        (second, "success"),
        (third, "success"),
        (first, "success"),
    ];
    let expected: Vec<(i64, String)> = expected
        .iter()
        .map(|(id, s)| (*id, s.to_string()))
        .collect();
    assert_eq!(order, expected);
}

/// A freeze at a later instant moves the clock too, and sends what it
/// crosses before it answers.
#[tokio::test]
async fn a_freeze_forward_delivers_what_it_crosses() {
    let mock = mock();
    let receiver = Receiver::start().await;
    add_hook(&mock, json!({"url": receiver.url, "pipeline_events": true})).await;
    trigger(&mock, json!({"terminal_after_seconds": 60})).await;
    let later = json!({"at": "2026-12-03T10:05:00Z"});
    mock.json("POST", "/_mock/clock/freeze", later)
        .await
        .expect(200);
    assert_eq!(receiver.statuses(), ["running", "success"]);
}

#[tokio::test]
async fn cancel_and_retry_send_their_transitions() {
    let mock = mock();
    let receiver = Receiver::start().await;
    add_hook(&mock, json!({"url": receiver.url, "pipeline_events": true})).await;
    let id = trigger(&mock, json!({"terminal_after_seconds": 60})).await;
    mock.advance(5.0).await;
    mock.form(&format!("/projects/123/pipelines/{id}/cancel"), "")
        .await
        .expect(200);
    mock.advance(0.0).await;
    assert_eq!(receiver.statuses(), ["running", "canceling", "canceled"]);

    mock.form(&format!("/projects/123/pipelines/{id}/retry"), "")
        .await
        .expect(201);
    mock.advance(60.0).await;
    assert_eq!(
        receiver.statuses(),
        ["running", "canceling", "canceled", "running", "success"]
    );
    let retried = &receiver.all()[3].body["object_attributes"];
    assert_eq!(retried["finished_at"], Value::Null);
}

/// A receiver answering 500 is tried again, up to three attempts in all,
/// each logged.
#[tokio::test]
async fn a_failing_receiver_is_retried() {
    let mock = mock();
    let receiver = Receiver::start().await;
    receiver.answer.store(500, Ordering::SeqCst);
    add_hook(&mock, json!({"url": receiver.url, "pipeline_events": true})).await;
    trigger(&mock, json!({})).await;

    receiver.wait_for(3).await;
    let mut log = deliveries(&mock, "").await;
    for _ in 0..100 {
        if log.len() == 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        log = deliveries(&mock, "").await;
    }
    let attempts: Vec<_> = log.iter().map(|entry| entry["attempt"].clone()).collect();
    assert_eq!(attempts, [json!(1), json!(2), json!(3)]);
    assert!(log.iter().all(|entry| entry["response_status"] == 500));
    assert_eq!(log[0]["error"], "the receiver answered 500");
    let keys: std::collections::HashSet<_> = receiver
        .all()
        .iter()
        .map(|got| got.headers["idempotency-key"].clone())
        .collect();
    assert_eq!(
        keys.len(),
        1,
        "every attempt of one event has one idempotency key"
    );
    receiver.answer.store(200, Ordering::SeqCst);
}

/// A hook whose receiver is gone or never answers holds up no request:
/// the trigger and polls answer at once, and an advance waits for a
/// receiver that does not answer only until it is known to be down.
#[tokio::test]
async fn a_dead_receiver_does_not_block_the_api() {
    let timeout = Duration::from_millis(1500);
    let mock = mock_with_timeout(timeout);
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/", listener.local_addr().unwrap())
    };
    let (silent_url, held) = silent_receiver().await;
    let closed_hook = add_hook(&mock, json!({"url": closed, "pipeline_events": true})).await;
    let silent_hook = add_hook(&mock, json!({"url": silent_url, "pipeline_events": true})).await;

    let started = std::time::Instant::now();
    let id = trigger(&mock, json!({"terminal_after_seconds": 10})).await;
    assert_eq!(mock.status_of(&json!(id)).await, "running");
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "the API waited for a hook"
    );

    // The first advance waits out the silent receiver's first attempt; the
    // second finds it down and does not wait for it again.
    mock.advance(5.0).await;
    let again = std::time::Instant::now();
    mock.advance(5.0).await;
    assert!(
        again.elapsed() < timeout,
        "an advance waited for a receiver known to be down"
    );

    let firsts = |log: Vec<Value>| -> Vec<Value> {
        log.into_iter()
            .filter(|entry| entry["attempt"] == 1)
            .collect()
    };
    let refused = firsts(deliveries(&mock, &format!("?hook_id={}", closed_hook["id"])).await);
    assert!(refused[0]["response_status"].is_null());
    let error = refused[0]["error"].as_str().unwrap();
    assert!(error.contains("Connection refused"), "{error}");
    let unanswered = firsts(deliveries(&mock, &format!("?hook_id={}", silent_hook["id"])).await);
    assert_eq!(unanswered[0]["error"], "no answer within 1500 ms");
    held.abort();
}

/// Each `to_next_transition` lands on the next change, and once nothing
/// will change it answers `advanced: false` with the clock where it was.
#[tokio::test]
async fn to_next_transition_steps_through_a_scenario() {
    let mock = mock();
    let receiver = Receiver::start().await;
    add_hook(&mock, json!({"url": receiver.url, "pipeline_events": true})).await;
    let phases = json!({"scenario_id": 4001, "name": "steps", "terminal_status": "success",
        "phases": [{"status": "pending", "seconds": 10}, {"status": "running", "seconds": 20}]});
    mock.json("POST", "/_mock/scenarios", phases)
        .await
        .expect(201);
    let id = json!(trigger(&mock, json!({"scenario_id": 4001})).await);
    trigger(&mock, json!({"terminal_after_seconds": 15})).await;

    let next = json!({"to_next_transition": true});
    let mut seen = Vec::new();
    loop {
        let answer = mock
            .json("POST", "/_mock/clock/advance", next.clone())
            .await;
        let body = answer.expect(200).clone();
        if body["advanced"] == false {
            assert_eq!(body["now"], "2026-12-03T10:00:30.000Z", "the clock stays");
            break;
        }
        seen.push((
            body["now"].as_str().unwrap().to_owned(),
            mock.status_of(&id).await,
        ));
    }
    let expected = [
        ("2026-12-03T10:00:10.000Z", "running"),
        ("2026-12-03T10:00:15.000Z", "running"),
        ("2026-12-03T10:00:30.000Z", "success"),
    ];
    let expected: Vec<_> = expected
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    assert_eq!(seen, expected);
    assert_eq!(
        receiver.statuses(),
        ["pending", "running", "running", "success", "success"]
    );

    let both = json!({"to_next_transition": true, "seconds": 1});
    let answer = mock.json("POST", "/_mock/clock/advance", both).await;
    answer.expect_error_mentioning(422, "not both");
}

#[tokio::test]
async fn reset_forgets_hooks_and_deliveries() {
    let mock = mock();
    let receiver = Receiver::start().await;
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/", listener.local_addr().unwrap())
    };
    add_hook(&mock, json!({"url": closed, "pipeline_events": true})).await;
    trigger(&mock, json!({})).await;
    mock.advance(0.0).await;
    assert_eq!(
        deliveries(&mock, "").await[0]["response_status"],
        Value::Null
    );

    mock.json("POST", "/_mock/reset", json!({}))
        .await
        .expect(200);
    assert!(
        mock.get("/projects/123/hooks")
            .await
            .expect(200)
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert!(deliveries(&mock, "").await.is_empty());

    // The new hook 1 does not inherit the old one's outage: the advance
    // waits for its event.
    let hook = add_hook(&mock, json!({"url": receiver.url, "pipeline_events": true})).await;
    assert_eq!(hook["id"], 1);
    trigger(&mock, json!({})).await;
    mock.advance(0.0).await;
    assert_eq!(receiver.statuses(), ["running"]);
}

/// One event's body, pinned.
#[tokio::test]
async fn pipeline_event_payload() {
    let mock = mock();
    let receiver = Receiver::start().await;
    add_hook(&mock, json!({"url": receiver.url, "pipeline_events": true})).await;
    trigger(
        &mock,
        json!({"terminal_after_seconds": 90, "variables": {"DEPLOY": "yes"}}),
    )
    .await;
    mock.advance(90.0).await;
    let finished = receiver.all()[1].body.clone();
    insta::with_settings!({
        snapshot_path => concat!(env!("CARGO_MANIFEST_DIR"), "/snapshots"),
        prepend_module_to_snapshot => false,
        omit_expression => true,
    }, {
        insta::assert_json_snapshot!("pipeline_hook_success", finished);
    });
}

/// A hook made after a reset may take an old hook's id; it must not wait
/// behind, or be marked down by, the old hook's post still in flight.
#[tokio::test]
async fn a_hook_after_a_reset_does_not_inherit_an_old_post() {
    let mock = mock_with_timeout(Duration::from_secs(3));
    let (silent_url, held) = silent_receiver().await;
    let old = add_hook(&mock, json!({"url": silent_url, "pipeline_events": true})).await;
    trigger(&mock, json!({"terminal_after_seconds": 10})).await;
    // Let the old hook's first post reach the silent receiver.
    tokio::task::yield_now().await;

    mock.json("POST", "/_mock/reset", json!({}))
        .await
        .expect(200);
    mock.json("POST", "/_mock/clock/freeze", json!({}))
        .await
        .expect(200);
    let receiver = Receiver::start().await;
    let new = add_hook(&mock, json!({"url": receiver.url, "pipeline_events": true})).await;
    trigger(&mock, json!({"terminal_after_seconds": 10})).await;
    let started = std::time::Instant::now();
    mock.advance(10.0).await;

    assert_eq!(old["id"], new["id"], "the new hook reuses the old id");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "the advance waited for the old post"
    );
    assert_eq!(receiver.statuses(), ["running", "success"]);
    held.abort();
}
