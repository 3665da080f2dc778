//! Operations that a reset overtakes half-way. Each test holds one at the
//! hook gate, where it waits once it has read what it depends on (or,
//! for an advance to the next transition, before it reads anything), lands
//! a reset there, and checks that the operation's outcome belongs to the
//! reset state. No request can hold an operation at that point, so these
//! tests sit beside the code rather than in `tests/`.

use std::future::Future;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::task::{Context, Waker};

use jiff::Timestamp;

use super::TriggerRequest;
use super::{Controls, CreateRequest, Mock, MockError, ObservedPipeline, ProjectRef};
use crate::clock::VirtualClock;
use crate::model::{HookChanges, Project, Source};
use crate::store::Store;

/// Where the mock's clock stands before the reset, far beyond the system
/// time the reset brings back.
const FROZEN: &str = "2100-01-01T00:00:00Z";

fn frozen() -> Timestamp {
    FROZEN.parse().unwrap()
}

/// A mock whose project `team/app` is id 500 and has a pipeline hook,
/// so that making a pipeline of it waits at the hook gate.
fn mock_with_hooked_path() -> (Mock, ProjectRef) {
    let clock = Arc::new(VirtualClock::frozen_at(frozen()));
    let mock = Mock::new(Store::open(":memory:").unwrap(), clock);
    let path = ProjectRef::Path("team/app".into());
    let project = Project {
        id: 500,
        path: "team/app".into(),
        default_branch: "main".into(),
    };
    mock.put_project(project).unwrap();
    let hook = HookChanges {
        url: Some("http://127.0.0.1:9/hook".into()),
        events: [("pipeline_events".to_owned(), true)].into(),
        ..HookChanges::default()
    };
    mock.create_hook(&path, hook).unwrap();
    (mock, path)
}

/// Runs `future` up to its first wait, which must not be its end.
fn run_until_it_waits<F: Future>(future: Pin<&mut F>) {
    let mut context = Context::from_waker(Waker::noop());
    assert!(future.poll(&mut context).is_pending(), "it did not wait");
}

/// Lets a reset land while `operation` waits at the hook gate, then lets
/// it finish.
async fn across_a_reset<T>(mock: &Mock, operation: impl Future<Output = T>) -> T {
    let gate = mock.hook_gate_for_reset().await;
    let mut operation = pin!(operation);
    run_until_it_waits(operation.as_mut());

    mock.reset_state().unwrap();
    drop(gate);
    operation.await
}

/// The pipeline is the reset state's: stored under the id the path names
/// now, found through the path, and made at the reset's system time.
fn assert_made_after_the_reset(mock: &Mock, path: &ProjectRef, made: &ObservedPipeline) {
    let project = mock.project(path).unwrap();
    assert_ne!(project.id, 500, "the reset should have dropped id 500");
    assert_eq!(made.pipeline.project_id, project.id);
    assert_eq!(made.project, project);

    let found = mock.pipeline(path, made.pipeline.id).unwrap();
    assert_eq!(found.pipeline, made.pipeline);
    assert!(made.pipeline.run.created_at < frozen());
}

#[tokio::test]
async fn a_trigger_overlapping_a_reset_is_made_against_the_reset_state() {
    let (mock, path) = mock_with_hooked_path();
    let request = TriggerRequest {
        git_ref: "main".into(),
        ..TriggerRequest::default()
    };

    let made: Result<ObservedPipeline, MockError> =
        across_a_reset(&mock, mock.trigger(&path, request, true)).await;
    let made = made.unwrap();

    assert_made_after_the_reset(&mock, &path, &made);
    assert_eq!(made.pipeline.source, Source::Trigger);
}

#[tokio::test]
async fn a_create_overlapping_a_reset_is_made_against_the_reset_state() {
    let (mock, path) = mock_with_hooked_path();
    let request = CreateRequest {
        git_ref: "main".into(),
        ..CreateRequest::default()
    };

    let made = across_a_reset(&mock, mock.create_pipeline(&path, request)).await;
    let made = made.unwrap();

    assert_made_after_the_reset(&mock, &path, &made);
    assert_eq!(made.pipeline.source, Source::Api);
}

/// The next transition is that of a pipeline the reset removes; the
/// advance must find nothing left to move to rather than carry the
/// distance to it over to the reset's clock.
#[tokio::test]
async fn an_advance_to_the_next_transition_overlapping_a_reset_leaves_the_reset_clock() {
    let (mock, path) = mock_with_hooked_path();
    let controls = Controls {
        terminal_after_seconds: Some(300),
        ..Controls::default()
    };
    let request = TriggerRequest {
        git_ref: "main".into(),
        controls,
        ..TriggerRequest::default()
    };
    mock.trigger(&path, request, true).await.unwrap();

    let moved = across_a_reset(&mock, mock.advance_to_next_transition()).await;

    assert_eq!(moved.unwrap(), None);
    let clock = mock.clock();
    assert!(!clock.frozen, "a reset leaves the clock running");
    assert!(
        clock.now < frozen(),
        "the clock was moved on to {}",
        clock.now
    );
}
