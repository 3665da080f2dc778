//! Properties of the pure parts of the time model: how a pipeline's status
//! follows from its behaviour and the clock, and how the clock may move.

use jiff::{SignedDuration, Timestamp};
use proptest::prelude::*;

use gitlab_mock::clock::ClockState;
use gitlab_mock::lifecycle::{Behaviour, INITIAL_STATUS, observe};
use gitlab_mock::status::PipelineStatus;

fn instant() -> impl Strategy<Value = Timestamp> {
    // 2000-01-01 to 2100-01-01, in milliseconds.
    (946_684_800_000i64..4_102_444_800_000).prop_map(|ms| Timestamp::from_millisecond(ms).unwrap())
}

fn behaviour() -> impl Strategy<Value = Behaviour> {
    let seconds = proptest::option::weighted(0.8, 0i64..100_000);
    let status = proptest::sample::select(PipelineStatus::ALL.to_vec());
    (seconds, status).prop_map(|(terminal_after_seconds, terminal_status)| Behaviour {
        terminal_after_seconds,
        terminal_status,
    })
}

/// A clock operation (0 freeze, 1 advance, 2 resume), its amount in
/// milliseconds, and how far the source clock moves first.
fn operation() -> impl Strategy<Value = (u8, i64, i64)> {
    (0u8..3, -5_000i64..5_000_000, 0i64..5_000_000)
}

proptest! {
    /// Status is initial before `created_at + N` and terminal from exactly
    /// that instant.
    #[test]
    fn terminal_exactly_at_the_boundary(behaviour in behaviour(), created in instant()) {
        let Some(seconds) = behaviour.terminal_after_seconds else { return Ok(()) };
        let boundary = created + SignedDuration::from_secs(seconds);
        let just_before = boundary - SignedDuration::from_millis(1);

        if just_before >= created {
            prop_assert_eq!(observe(&behaviour, created, just_before).status, INITIAL_STATUS);
        }
        let at = observe(&behaviour, created, boundary);
        prop_assert_eq!(at.status, behaviour.terminal_status);
        prop_assert_eq!(at.updated_at, boundary);
    }

    /// Once terminal, a later reading is the same terminal observation.
    #[test]
    fn terminal_stays_terminal(
        behaviour in behaviour(),
        created in instant(),
        first in 0i64..200_000_000,
        later in 0i64..200_000_000,
    ) {
        let first_at = created + SignedDuration::from_millis(first);
        let later_at = first_at + SignedDuration::from_millis(later);
        let before = observe(&behaviour, created, first_at);
        let after = observe(&behaviour, created, later_at);

        let finished = behaviour.finishes_at(created).is_some_and(|end| first_at >= end);
        if finished {
            prop_assert_eq!(after, before);
        }
        prop_assert!(after.updated_at >= before.updated_at, "updated_at went back");
    }

    /// A never-completing behaviour shows the initial status forever.
    #[test]
    fn never_complete_never_changes(
        status in proptest::sample::select(PipelineStatus::ALL.to_vec()),
                                    created in instant(), elapsed in 0i64..i64::from(u32::MAX)) {
        let behaviour = Behaviour::never_complete(status);
        let seen = observe(&behaviour, created, created + SignedDuration::from_millis(elapsed));
        prop_assert_eq!(seen.status, INITIAL_STATUS);
        prop_assert_eq!(seen.updated_at, created);
    }

    /// `created_at <= updated_at <= now` for every reading at or after
    /// creation.
    #[test]
    fn updated_at_lies_between_creation_and_now(
        behaviour in behaviour(), created in instant(), elapsed in 0i64..200_000_000,
    ) {
        let now = created + SignedDuration::from_millis(elapsed);
        let seen = observe(&behaviour, created, now);
        prop_assert!(created <= seen.updated_at && seen.updated_at <= now);
    }

    /// However freeze, advance and resume are mixed, and however the source
    /// clock moves forward, the clock never shows an earlier instant.
    #[test]
    fn clock_never_goes_backwards(
        start in instant(),
        operations in proptest::collection::vec(operation(), 1..40),
    ) {
        let mut state = ClockState::SYSTEM;
        let mut source = start;
        let mut shown = state.now(source);

        for (kind, amount, source_step) in operations {
            source += SignedDuration::from_millis(source_step);
            prop_assert!(state.now(source) >= shown, "source moving forward moved the clock back");
            let before = state.now(source);

            let next = match kind {
                0 => state.freeze(Some(before + SignedDuration::from_millis(amount)), source),
                1 => state.advance(SignedDuration::from_millis(amount.abs()), source),
                _ => Ok(state.resume(source)),
            };
            match next {
                Ok(next) => state = next,
                Err(_) => prop_assert!(kind == 0 && amount < 0, "only a backwards freeze may fail"),
            }
            shown = state.now(source);
            prop_assert!(shown >= before);
        }
    }
}
