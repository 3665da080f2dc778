//! The store's guarantees under races it cannot see: a scenario deleted, or
//! the database reset, between a caller's checks and its write.

use jiff::Timestamp;

use gitlab_mock::lifecycle::{InitialStatus, Timeline};
use gitlab_mock::model::{NewPipeline, RuleMatch, Source};
use gitlab_mock::presets::presets;
use gitlab_mock::status::PipelineStatus;
use gitlab_mock::store::Store;

fn new_pipeline(scenario_id: Option<i64>) -> NewPipeline {
    NewPipeline {
        project_id: 1,
        git_ref: "main".into(),
        sha: "0".repeat(40),
        source: Source::Trigger,
        variables: Vec::new(),
        scenario_id,
        timeline: Timeline::seed(Some(5), PipelineStatus::Success, InitialStatus::Running),
        created_at: "2026-12-03T10:00:00Z".parse::<Timestamp>().unwrap(),
    }
}

/// A pipeline naming a scenario that was deleted meanwhile is stored
/// without it, keeping its timeline, instead of failing the write.
#[tokio::test]
async fn a_vanished_scenario_is_dropped_not_fatal() {
    let store = Store::open(":memory:").unwrap();
    store.delete_scenario(5).unwrap();

    let stored = store
        .insert_pipeline(new_pipeline(Some(5)), store.generation())
        .await
        .unwrap();

    let stored = stored.expect("written");
    assert_eq!(stored.scenario_id, None);
    assert_eq!(
        store
            .pipeline(stored.id)
            .unwrap()
            .unwrap()
            .run
            .timeline
            .total_seconds(),
        Some(5)
    );
}

/// A write prepared before a reset is refused, so the caller reads the
/// (reset) clock again.
#[tokio::test]
async fn a_reset_in_between_refuses_the_write() {
    let store = Store::open(":memory:").unwrap();
    let before = store.generation();

    store.reset(&presets()).unwrap();
    let stale = store
        .insert_pipeline(new_pipeline(None), before)
        .await
        .unwrap();
    let fresh = store
        .insert_pipeline(new_pipeline(None), store.generation())
        .await
        .unwrap();

    assert!(stale.is_none());
    assert_eq!(fresh.map(|pipeline| pipeline.id), Some(1));
}

/// A rule naming a scenario that does not exist is not stored.
#[test]
fn a_rule_needs_its_scenario() {
    let store = Store::open(":memory:").unwrap();

    let missing = store.insert_rule(RuleMatch::default(), 4242, None).unwrap();
    let present = store
        .insert_rule(RuleMatch::default(), 500, Some(1))
        .unwrap();

    assert!(missing.is_none());
    assert_eq!(present.map(|rule| rule.scenario_id), Some(500));
    assert_eq!(store.rules().unwrap().len(), 1);
}
