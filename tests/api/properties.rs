//! Property: whatever a pipeline's behaviour and however the clock moves,
//! what the HTTP API answers is what the pure lifecycle function computes.

use jiff::{SignedDuration, Timestamp};
use proptest::prelude::*;
use serde_json::json;

use gitlab_mock::clock::rfc3339_millis;
use gitlab_mock::lifecycle::{InitialStatus, Run, Timeline, observe};
use gitlab_mock::status::PipelineStatus;

use super::support::{TestMock, start};

fn any_status() -> impl Strategy<Value = PipelineStatus> {
    proptest::sample::select(PipelineStatus::ALL.to_vec())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Every poll after every advance agrees with `observe`.
    #[test]
    fn http_answers_agree_with_the_lifecycle(
        seconds in 0i64..600,
        terminal in any_status(),
        steps in proptest::collection::vec(0i64..400_000, 1..8),
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(check_agreement(seconds, terminal, steps))?;
    }
}

async fn check_agreement(
    seconds: i64,
    terminal: PipelineStatus,
    steps: Vec<i64>,
) -> Result<(), TestCaseError> {
    let mock = TestMock::new();
    let fields = json!({
        "token": "T", "ref": "m",
        "terminal_after_seconds": seconds, "terminal_status": terminal,
    });
    let id = mock.trigger(fields).await.expect(201)["id"].clone();
    let timeline = Timeline::seed(Some(seconds), terminal, InitialStatus::Running);
    let run = Run::new(timeline, start());
    let mut now: Timestamp = start();

    for millis in steps {
        mock.advance(millis as f64 / 1000.0).await;
        now += SignedDuration::from_millis(millis);

        let answer = mock.get(&format!("/projects/123/pipelines/{id}")).await;
        let expected = observe(&run, now);
        prop_assert_eq!(&answer.body["status"], expected.status.as_str());
        prop_assert_eq!(
            &answer.body["updated_at"],
            &rfc3339_millis(expected.updated_at)
        );
    }
    Ok(())
}
