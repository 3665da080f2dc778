//! Properties of the pure parts of the time model: how a pipeline's status
//! follows from its timeline and the clock, and how the clock may move.

use jiff::{SignedDuration, Timestamp};
use proptest::prelude::*;

use gitlab_mock::clock::ClockState;
use gitlab_mock::lifecycle::{
    Phase, Run, Timeline, at_creation, next_transition, observe, settlement, transitions,
};
use gitlab_mock::status::PipelineStatus;

fn instant() -> impl Strategy<Value = Timestamp> {
    // 2000-01-01 to 2100-01-01, in milliseconds.
    (946_684_800_000i64..4_102_444_800_000).prop_map(|ms| Timestamp::from_millisecond(ms).unwrap())
}

fn any_status() -> impl Strategy<Value = PipelineStatus> {
    proptest::sample::select(PipelineStatus::ALL.to_vec())
}

/// A status a phase may hold: anything but the completed ones.
fn phase_status() -> impl Strategy<Value = PipelineStatus> {
    let open: Vec<_> = PipelineStatus::ALL
        .into_iter()
        .filter(|s| !s.is_completed())
        .collect();
    proptest::sample::select(open)
}

/// Up to six phases, the last possibly lasting forever, then a terminal
/// status.
fn timeline() -> impl Strategy<Value = Timeline> {
    let phase = (phase_status(), 0i64..1_000).prop_map(|(status, seconds)| Phase {
        status,
        seconds: Some(seconds),
    });
    let phases = proptest::collection::vec(phase, 0..6);
    (phases, any::<bool>(), phase_status(), any_status()).prop_map(
        |(mut phases, forever, last, terminal_status)| {
            if forever {
                phases.push(Phase {
                    status: last,
                    seconds: None,
                });
            }
            Timeline {
                phases,
                terminal_status,
            }
        },
    )
}

fn after(start: Timestamp, millis: i64) -> Timestamp {
    start + SignedDuration::from_millis(millis)
}

proptest! {
    /// Each transition takes effect at exactly its instant: the status just
    /// before is the previous one, the status at it is the new one.
    #[test]
    fn transitions_happen_exactly_on_time(timeline in timeline(), created in instant()) {
        let run = Run::new(timeline.clone(), created);
        let transitions = timeline.transitions();

        for (seconds, _) in &transitions {
            let at = after(created, seconds * 1000);
            let expected = transitions.iter().rev().find(|(t, _)| t <= seconds).unwrap().1;
            prop_assert_eq!(observe(&run, at).status, expected);

            if *seconds > 0 {
                let before = transitions.iter().rev().find(|(t, _)| t < seconds).unwrap().1;
                prop_assert_eq!(observe(&run, after(at, -1)).status, before);
            }
        }
    }

    /// Once a completed status is seen, every later reading is identical.
    #[test]
    fn completed_stays_completed(
        timeline in timeline(), created in instant(),
        first in 0i64..10_000_000, later in 0i64..100_000_000,
    ) {
        let run = Run::new(timeline, created);
        let before = observe(&run, after(created, first));
        let later = observe(&run, after(created, first + later));

        if before.status.is_completed() {
            prop_assert_eq!(later, before);
        }
        prop_assert!(later.updated_at >= before.updated_at, "updated_at went back");
    }

    /// A timeline whose last phase lasts forever never reaches its terminal
    /// status.
    #[test]
    fn forever_never_finishes(
        timeline in timeline(), created in instant(), elapsed in 0i64..i64::from(u32::MAX),
    ) {
        prop_assume!(timeline.total_seconds().is_none());
        let seen = observe(&Run::new(timeline.clone(), created), after(created, elapsed));

        prop_assert!(timeline.phases.iter().any(|phase| phase.status == seen.status));
        prop_assert_eq!(seen.finished_at, None);
    }

    /// The lifecycle timestamps are consistent with each other and the
    /// clock: `created_at <= started_at <= finished_at`, `updated_at <= now`,
    /// `finished_at` only on success, failed or canceled, `started_at` once
    /// running was entered.
    #[test]
    fn timestamps_are_consistent(
        timeline in timeline(), created in instant(), elapsed in 0i64..10_000_000,
    ) {
        let now = after(created, elapsed);
        let seen = observe(&Run::new(timeline, created), now);

        prop_assert!(created <= seen.updated_at && seen.updated_at <= now);
        prop_assert_eq!(seen.finished_at.is_some(), seen.status.stamps_finish());
        if let Some(started) = seen.started_at {
            prop_assert!(created <= started && started <= now);
            prop_assert!(seen.finished_at.is_none_or(|finished| started <= finished));
        }
        if seen.status == PipelineStatus::Running {
            prop_assert!(seen.started_at.is_some());
        }
        prop_assert!(seen.duration().is_none_or(|seconds| seconds >= 0));
    }

    /// The trigger answers the first phase's status, stamped at creation.
    #[test]
    fn creation_shows_the_first_status(timeline in timeline(), created in instant()) {
        let seen = at_creation(&Run::new(timeline.clone(), created));
        prop_assert_eq!(seen.status, timeline.first_status());
        prop_assert_eq!(seen.updated_at, created);
    }

    /// A cancel at an instant when the pipeline is cancelable shows
    /// `canceled` from then on, with `finished_at` at the cancel.
    #[test]
    fn cancel_is_final(
        timeline in timeline(), created in instant(),
        at in 0i64..5_000_000, later in 0i64..50_000_000,
    ) {
        let canceled_at = after(created, at);
        let mut run = Run::new(timeline, created);
        prop_assume!(observe(&run, canceled_at).status.is_cancelable());
        run.canceled_at = Some(canceled_at);

        let seen = observe(&run, after(canceled_at, later));
        prop_assert_eq!(seen.status, PipelineStatus::Canceled);
        prop_assert_eq!(seen.finished_at, Some(canceled_at));
    }

    /// A run comes to rest at its settling instant: every reading from then
    /// on equals the settlement, and the settlement's `updated_at` is that
    /// instant. This is what the store's status index relies on.
    #[test]
    fn a_settled_run_never_changes(
        timeline in timeline(), created in instant(),
        cancel in proptest::option::of(0i64..5_000_000), later in 0i64..100_000_000,
    ) {
        let mut run = Run::new(timeline, created);
        if let Some(at) = cancel.map(|at| after(created, at)) {
            prop_assume!(observe(&run, at).status.is_cancelable());
            run.canceled_at = Some(at);
        }
        let settled = settlement(&run);

        prop_assert_eq!(observe(&run, settled.updated_at), settled);
        prop_assert_eq!(observe(&run, after(settled.updated_at, later)), settled);
        if settled.updated_at > created {
            prop_assert_ne!(observe(&run, after(settled.updated_at, -1)), settled);
        }
    }

    /// The transitions listed in an interval agree with `observe`: each
    /// lies in the interval, in order; at each instant listed, the last
    /// one listed is what a read shows, with the same `started_at` and
    /// `finished_at`; no two in a row repeat a status; and a read at the
    /// interval's end shows the last one listed, or what a read at its
    /// start showed when none is. `next_transition` is the first one
    /// listed after an instant.
    #[test]
    fn transitions_agree_with_observe(
        timeline in timeline(), created in instant(),
        cancel in proptest::option::of(0i64..5_000_000),
        from in 0i64..3_000_000, length in 0i64..3_000_000,
    ) {
        let mut run = Run::new(timeline, created);
        if let Some(at) = cancel.map(|at| after(created, at)) {
            prop_assume!(observe(&run, at).status.is_cancelable());
            run.canceled_at = Some(at);
        }
        let (start, end) = (after(created, from), after(created, from + length));
        let listed = transitions(&run, Some(start), end);

        for (index, seen) in listed.iter().enumerate() {
            prop_assert!(start < seen.updated_at && seen.updated_at <= end);
            let next = listed.get(index + 1);
            if let Some(next) = next {
                prop_assert!(seen.updated_at <= next.updated_at);
                prop_assert_ne!(seen.status, next.status);
            }
            if next.is_none_or(|next| next.updated_at > seen.updated_at) {
                let read = observe(&run, seen.updated_at);
                prop_assert_eq!(read.status, seen.status);
                prop_assert_eq!(read.started_at, seen.started_at);
                prop_assert_eq!(read.finished_at, seen.finished_at);
            }
        }
        let at_end = observe(&run, end).status;
        match listed.last() {
            Some(last) => prop_assert_eq!(last.status, at_end),
            None => prop_assert_eq!(observe(&run, start).status, at_end),
        }
        prop_assert_eq!(
            next_transition(&run, start),
            transitions(&run, Some(start), Timestamp::MAX).first().map(|seen| seen.updated_at)
        );
    }

    /// Listed from the beginning, the transitions start with the first
    /// status at creation, as the trigger answers it.
    #[test]
    fn transitions_start_with_the_first_status(timeline in timeline(), created in instant()) {
        let run = Run::new(timeline, created);
        let listed = transitions(&run, None, created);
        prop_assert_eq!(listed.first().map(|seen| seen.status), Some(at_creation(&run).status));
        prop_assert_eq!(listed.last().map(|seen| seen.status), Some(observe(&run, created).status));
    }

    /// However freeze, advance and resume are mixed, and however the source
    /// clock moves forward, the clock never shows an earlier instant.
    #[test]
    fn clock_never_goes_backwards(
        start in instant(), operations in proptest::collection::vec(operation(), 1..40),
    ) {
        let mut state = ClockState::SYSTEM;
        let mut source = start;
        let mut shown = state.now(source);

        for (kind, amount, source_step) in operations {
            source += SignedDuration::from_millis(source_step);
            prop_assert!(state.now(source) >= shown, "source moving forward moved the clock back");
            let before = state.now(source);

            let next = match kind {
                0 => state.freeze(Some(after(before, amount)), source),
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

/// A clock operation (0 freeze, 1 advance, 2 resume), its amount in
/// milliseconds, and how far the source clock moves first.
fn operation() -> impl Strategy<Value = (u8, i64, i64)> {
    (0u8..3, -5_000i64..5_000_000, 0i64..5_000_000)
}

/// An advance by zero is always allowed, even when a running clock stands
/// at the last instant it can show, where any real step is out of range.
#[test]
fn advancing_by_nothing_works_at_the_end_of_time() {
    let source: Timestamp = "2026-12-03T10:00:00Z".parse().unwrap();
    let end = Timestamp::MAX.duration_since(source);
    let state = ClockState::Running { offset: end };
    let later = source + SignedDuration::from_secs(1);

    assert_eq!(state.advance(SignedDuration::ZERO, later), Ok(state));
    assert!(state.advance(SignedDuration::from_secs(1), later).is_err());
}
