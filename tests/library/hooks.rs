//! Pipeline events from a namespace: sent on that namespace's clock, with
//! links into it.

use serde_json::json;

use crate::receiver::Receiver;
use crate::support::{Client, frozen};

#[tokio::test]
async fn a_namespace_sends_its_own_events_with_its_own_links() {
    let gitlab = frozen().await;
    let receiver = Receiver::start().await;
    let (a, b) = (
        Client::namespace(&gitlab, "hooked"),
        Client::namespace(&gitlab, "quiet"),
    );
    a.post_json(
        "/_mock/clock/freeze",
        json!({ "at": "2030-01-01T00:00:00Z" }),
    )
    .await;
    let hook = json!({ "url": receiver.url, "pipeline_events": true });
    assert_eq!(
        a.post_json("/api/v4/projects/1/hooks", hook).await.status,
        201
    );

    a.trigger(1, 60).await;
    b.trigger(1, 60).await;
    b.advance(60.0).await;
    // The trigger's own event may be on its way; nothing has finished.
    let early = receiver.statuses();
    assert!(
        !early.contains(&"success".to_owned()),
        "b's clock moved a's pipeline: {early:?}"
    );
    a.advance(60.0).await;

    assert_eq!(receiver.statuses(), ["running", "success"]);
    let event = &receiver.all()[1].body;
    let url = event["object_attributes"]["url"].as_str().unwrap();
    assert!(url.starts_with(&gitlab.namespace_url("hooked")), "{url}");
    assert_eq!(
        event["object_attributes"]["finished_at"],
        "2030-01-01 00:01:00 UTC"
    );
}

#[tokio::test]
async fn the_handle_delivers_what_its_advance_crosses() {
    let gitlab = frozen().await;
    let receiver = Receiver::start().await;
    let client = Client::root(&gitlab);
    let hook = json!({ "url": receiver.url, "pipeline_events": true });
    client.post_json("/api/v4/projects/1/hooks", hook).await;
    client.trigger(1, 30).await;

    let stepped = gitlab.advance_to_next_transition().await.unwrap();
    let none_left = gitlab.advance_to_next_transition().await.unwrap();

    assert_eq!(
        stepped.unwrap().now,
        crate::support::start() + std::time::Duration::from_secs(30)
    );
    assert!(none_left.is_none(), "a finished pipeline changes no more");
    assert_eq!(receiver.statuses(), ["running", "success"]);
}
