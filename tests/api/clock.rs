//! `/_mock/clock`: reading, freezing, advancing and resuming time.

use serde_json::json;

use gitlab_mock::clock::Clock;

use super::support::{TestMock, anonymous, authed, start};

/// The test clock starts frozen at the fixed instant.
#[tokio::test]
async fn clock_reports_its_state() {
    let mock = TestMock::new();

    let answer = mock.get("/_mock/clock").await;

    assert_eq!(
        answer.expect(200),
        &json!({"now": "2026-12-03T10:00:00.000Z", "frozen": true})
    );
}

/// Freezing at a later instant jumps there; an earlier one is refused and
/// leaves the clock alone; no body freezes where the clock stands.
#[tokio::test]
async fn freeze_moves_forward_only() {
    let mock = TestMock::new();

    let later = mock
        .json(
            "POST",
            "/_mock/clock/freeze",
            json!({"at": "2026-12-04T00:00:00Z"}),
        )
        .await;
    let earlier = mock
        .json(
            "POST",
            "/_mock/clock/freeze",
            json!({"at": "2026-12-03T23:59:59.999Z"}),
        )
        .await;
    let in_place = mock.send(authed("POST", "/_mock/clock/freeze")).await;

    assert_eq!(
        later.expect(200),
        &json!({"now": "2026-12-04T00:00:00.000Z", "frozen": true})
    );
    earlier.expect_error_mentioning(422, "before the clock's current time");
    assert_eq!(in_place.expect(200)["now"], "2026-12-04T00:00:00.000Z");
}

/// Freeze refuses a malformed instant.
#[tokio::test]
async fn freeze_refuses_a_malformed_instant() {
    let mock = TestMock::new();

    let answer = mock
        .json("POST", "/_mock/clock/freeze", json!({"at": "tomorrow"}))
        .await;

    answer.expect(422);
}

/// Advance adds seconds, fractions included, and refuses negatives,
/// non-numbers and steps past the end of time.
#[tokio::test]
async fn advance_adds_seconds() {
    let mock = TestMock::new();

    let moved = mock.advance(90.25).await;
    let negative = mock
        .json("POST", "/_mock/clock/advance", json!({"seconds": -1}))
        .await;
    let text = mock
        .json("POST", "/_mock/clock/advance", json!({"seconds": "10"}))
        .await;
    let missing = mock.json("POST", "/_mock/clock/advance", json!({})).await;
    let wraps = mock
        .json(
            "POST",
            "/_mock/clock/advance",
            json!({"seconds": 18446744073709548.0}),
        )
        .await;
    let huge = mock
        .json("POST", "/_mock/clock/advance", json!({"seconds": 1e15}))
        .await;

    assert_eq!(
        moved.body,
        json!({"now": "2026-12-03T10:01:30.250Z", "frozen": true})
    );
    negative.expect_error_mentioning(422, "zero or more");
    text.expect(422);
    missing.expect_error_mentioning(422, "give seconds, or to_next_transition: true");
    huge.expect_error_mentioning(422, "largest supported instant");
    wraps.expect_error_mentioning(422, "largest supported instant");
    assert_eq!(
        mock.get("/_mock/clock").await.body["now"],
        "2026-12-03T10:01:30.250Z"
    );
}

/// Resume lets time run on from the frozen instant, not from the wall
/// clock, and advancing a running clock shifts it.
#[tokio::test]
async fn resume_runs_on_from_the_frozen_instant() {
    let mock = TestMock::new();
    mock.json(
        "POST",
        "/_mock/clock/freeze",
        json!({"at": "2030-01-01T00:00:00Z"}),
    )
    .await
    .expect(200);

    let resumed = mock.send(authed("POST", "/_mock/clock/resume")).await;
    let advanced = mock.advance(3600.0).await;

    let resumed_at: jiff::Timestamp = resumed.expect(200)["now"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let target: jiff::Timestamp = "2030-01-01T00:00:00Z".parse().unwrap();
    assert_eq!(resumed.body["frozen"], false);
    assert!(resumed_at >= target && resumed_at < target + jiff::SignedDuration::from_secs(60));
    let advanced_at: jiff::Timestamp = advanced.body["now"].as_str().unwrap().parse().unwrap();
    assert!(advanced_at >= target + jiff::SignedDuration::from_secs(3600));
    assert_eq!(advanced.body["frozen"], false);
}

/// Clock routes need the token like every other control route.
#[tokio::test]
async fn clock_routes_require_the_token() {
    let mock = TestMock::new();

    for (method, path) in [
        ("GET", "/_mock/clock"),
        ("POST", "/_mock/clock/freeze"),
        ("POST", "/_mock/clock/advance"),
        ("POST", "/_mock/clock/resume"),
    ] {
        mock.send(anonymous(method, path))
            .await
            .expect_message(401, "401 Unauthorized");
    }
    assert_eq!(mock.clock.now(), start());
}
