//! Pipeline events from the real binary: delivered by an advance on a
//! frozen clock, and by the scheduler at their instants on a running one.

use reqwest::StatusCode;
use serde_json::json;

use crate::receiver::Receiver;
use crate::support::{MockProcess, Scratch};

/// The binary names itself in `X-Gitlab-Instance` and links, and an
/// advance answers only once the events it crossed were sent.
#[tokio::test]
async fn advance_delivers_events_from_the_binary() {
    let scratch = Scratch::new("hooks_advance");
    let mock = MockProcess::start(&scratch.db(), &[]);
    let receiver = Receiver::start().await;
    mock.freeze().await;
    let hook = json!({"url": receiver.url, "pipeline_events": true});
    mock.post("/api/v4/projects/5/hooks", hook)
        .await
        .expect(StatusCode::CREATED);

    let trigger = json!({"token": "T", "ref": "main", "terminal_after_seconds": 300});
    let pipeline = mock
        .post("/projects/5/trigger/pipeline", trigger)
        .await
        .expect(StatusCode::CREATED);
    mock.advance(300).await;

    assert_eq!(receiver.statuses(), ["running", "success"]);
    let event = &receiver.all()[1];
    let instance = event.headers["x-gitlab-instance"].to_str().unwrap();
    assert_eq!(instance, mock.base_url());
    let url = event.body["object_attributes"]["url"].as_str().unwrap();
    assert_eq!(
        url,
        format!(
            "{}/mock/project-5/-/pipelines/{}",
            mock.base_url(),
            pipeline["id"]
        )
    );
}

/// With the clock running, nobody advances it: the scheduler sends each
/// event when its instant comes. Real time by definition, so the test
/// waits for the receiver, at most ten seconds.
#[tokio::test]
async fn the_running_clock_delivers_events_on_time() {
    let scratch = Scratch::new("hooks_running");
    let mock = MockProcess::start(&scratch.db(), &[]);
    let receiver = Receiver::start().await;
    let hook = json!({"url": receiver.url, "pipeline_events": true});
    mock.post("/projects/5/hooks", hook)
        .await
        .expect(StatusCode::CREATED);

    let trigger = json!({"token": "T", "ref": "main", "terminal_after_seconds": 1});
    mock.post("/projects/5/trigger/pipeline", trigger)
        .await
        .expect(StatusCode::CREATED);

    receiver.wait_for(2).await;
    assert_eq!(receiver.statuses(), ["running", "success"]);
    let log = mock
        .get("/_mock/hooks/deliveries")
        .await
        .expect(StatusCode::OK);
    // The second attempt is logged once its answer is back, which may be
    // just after the receiver counted it; the first is long done.
    assert_eq!(log[0]["pipeline_status"], "running");
    assert_eq!(log[0]["response_status"], 200);
}

/// Hooks are kept in the database: after a restart they are listed, and
/// the next pipeline's events still reach them.
#[tokio::test]
async fn hooks_survive_a_restart() {
    let scratch = Scratch::new("hooks_restart");
    let mut mock = MockProcess::start(&scratch.db(), &[]);
    let receiver = Receiver::start().await;
    mock.freeze().await;
    let hook = json!({"url": receiver.url, "pipeline_events": true, "token": "kept"});
    mock.post("/projects/5/hooks", hook)
        .await
        .expect(StatusCode::CREATED);

    mock.restart();
    let listed = mock.get("/projects/5/hooks").await.expect(StatusCode::OK);
    assert_eq!(listed[0]["url"], receiver.url.as_str());
    let trigger = json!({"token": "T", "ref": "main", "terminal_after_seconds": 60});
    mock.post("/projects/5/trigger/pipeline", trigger)
        .await
        .expect(StatusCode::CREATED);
    mock.advance(60).await;
    assert_eq!(receiver.statuses(), ["running", "success"]);
    assert_eq!(receiver.all()[0].headers["x-gitlab-token"], "kept");
}
