//! How a pipeline's status follows from its timeline and the clock.
//!
//! Status is never stored as truth: it is computed on every read by
//! [`observe`], a pure function of the pipeline's [`Run`] (its timeline,
//! when the run began, whether it was canceled) and the current instant.
//! That is what makes a frozen clock enough to make every answer
//! deterministic, and what lets the property tests check the invariants
//! without a server.
//!
//! A [`Timeline`] is an ordered list of phases, each a status held for some
//! seconds (or forever), followed by a terminal status. The seed's
//! scenarios are the one-phase case: `running` for N seconds, then the
//! terminal status.

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::status::PipelineStatus;

/// One status held for a while.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Phase {
    pub status: PipelineStatus,
    /// How long the status lasts; `None` holds it forever.
    pub seconds: Option<i64>,
}

/// What a pipeline does over time, fixed when it is triggered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timeline {
    pub phases: Vec<Phase>,
    /// The status reached after the last phase, unless a phase lasts
    /// forever.
    pub terminal_status: PipelineStatus,
}

/// Which status a pipeline shows before its scenario's phases begin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum InitialStatus {
    /// The seed's choice: triggered pipelines start `running`.
    #[default]
    Running,
    /// GitLab's: the trigger answers `created`, and the pipeline runs from
    /// the same instant.
    Created,
}

impl Timeline {
    /// The seed's shape: `running` for `seconds` (forever when `None`), then
    /// `terminal_status`, preceded by a zero-length `created` phase when
    /// the mock starts pipelines as GitLab does.
    pub fn seed(
        seconds: Option<i64>,
        terminal_status: PipelineStatus,
        initial: InitialStatus,
    ) -> Self {
        let running = Phase {
            status: PipelineStatus::Running,
            seconds,
        };
        let phases = match initial {
            InitialStatus::Running => vec![running],
            InitialStatus::Created => {
                vec![
                    Phase {
                        status: PipelineStatus::Created,
                        seconds: Some(0),
                    },
                    running,
                ]
            }
        };
        Self {
            phases,
            terminal_status,
        }
    }

    /// Seconds from start to the terminal status; `None` if it is never
    /// reached.
    pub fn total_seconds(&self) -> Option<i64> {
        self.phases.iter().map(|phase| phase.seconds).sum()
    }

    /// The status shown at the very instant the run begins, before any
    /// zero-length phase has passed: what the trigger answers.
    pub fn first_status(&self) -> PipelineStatus {
        self.phases
            .first()
            .map_or(self.terminal_status, |phase| phase.status)
    }

    /// Every transition the timeline makes, as (seconds from start, status
    /// entered), starting with the first status at 0. Stops at a phase that
    /// lasts forever.
    pub fn transitions(&self) -> Vec<(i64, PipelineStatus)> {
        let mut transitions = vec![(0, self.first_status())];
        let mut elapsed = 0i64;

        for (index, phase) in self.phases.iter().enumerate() {
            let Some(seconds) = phase.seconds else { break };
            elapsed = elapsed.saturating_add(seconds);
            let next = self
                .phases
                .get(index + 1)
                .map_or(self.terminal_status, |p| p.status);
            transitions.push((elapsed, next));
        }
        transitions
    }
}

/// One run of a pipeline: its timeline from an anchor instant (creation,
/// or the latest retry), possibly cut short by a cancel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    pub timeline: Timeline,
    pub created_at: Timestamp,
    /// When the current run began: `created_at`, or the latest retry.
    pub anchor: Timestamp,
    /// When a cancel request took effect, if one did during this run.
    pub canceled_at: Option<Timestamp>,
    /// `started_at` of earlier runs; GitLab keeps the first one.
    pub earlier_started_at: Option<Timestamp>,
}

/// What a read of the pipeline shows at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Observation {
    pub status: PipelineStatus,
    /// The instant of the last transition at or before the reading.
    pub updated_at: Timestamp,
    /// When the pipeline first entered `running`.
    pub started_at: Option<Timestamp>,
    /// When the run entered `success`, `failed` or `canceled`.
    pub finished_at: Option<Timestamp>,
    /// When the run stopped at a manual job; GitLab counts `duration` up to
    /// there but leaves `finished_at` empty.
    pub blocked_at: Option<Timestamp>,
}

impl Observation {
    /// Whole seconds from start to finish, once finished or stopped at a
    /// manual job.
    pub fn duration(&self) -> Option<i64> {
        let end = self.finished_at.or(self.blocked_at)?;
        Some(end.duration_since(self.started_at?).as_secs())
    }

    /// Whole seconds the pipeline waited before running; GitLab prints
    /// `null` for zero.
    pub fn queued_duration(&self, created_at: Timestamp) -> Option<i64> {
        let seconds = self.started_at?.duration_since(created_at).as_secs();
        (seconds != 0).then_some(seconds)
    }
}

impl Run {
    /// A fresh run starting at `created_at`.
    pub fn new(timeline: Timeline, created_at: Timestamp) -> Self {
        Self {
            timeline,
            created_at,
            anchor: created_at,
            canceled_at: None,
            earlier_started_at: None,
        }
    }

    /// The instant a transition `seconds` after the anchor happens.
    fn at(&self, seconds: i64) -> Option<Timestamp> {
        self.anchor
            .checked_add(SignedDuration::from_secs(seconds))
            .ok()
    }
}

/// The pipeline's state at `now`. Transitions take effect at exactly their
/// instant; a cancel takes effect at `canceled_at`.
pub fn observe(run: &Run, now: Timestamp) -> Observation {
    let horizon = run
        .canceled_at
        .map_or(now, |canceled_at| canceled_at.min(now));
    let mut seen = before_start(run);

    for (seconds, status) in run.timeline.transitions() {
        match run.at(seconds) {
            Some(instant) if instant <= horizon => enter(&mut seen, status, instant),
            _ => break,
        }
    }

    if let Some(canceled_at) = run.canceled_at.filter(|canceled_at| *canceled_at <= now) {
        enter(&mut seen, PipelineStatus::Canceled, canceled_at);
    }
    seen
}

/// What the walk of a run's transitions starts from, before its first.
fn before_start(run: &Run) -> Observation {
    Observation {
        status: run.timeline.first_status(),
        updated_at: run.anchor,
        started_at: run.earlier_started_at,
        finished_at: None,
        blocked_at: None,
    }
}

/// The state the pipeline comes to rest in, and from when: the instant of
/// its last transition (a cancel, the terminal status, or the start of a
/// phase that lasts forever). From that instant on, [`observe`] answers
/// this same observation whatever `now` is.
///
/// This is what lets the store index pipelines by status: one whose
/// settling instant has passed needs no walk of its timeline to be
/// filtered or sorted, and only those still moving do.
pub fn settlement(run: &Run) -> Observation {
    // A cancel is always the last transition: nothing follows it.
    let settles_at = run.canceled_at.unwrap_or_else(|| {
        run.timeline
            .transitions()
            .into_iter()
            .map_while(|(seconds, _)| run.at(seconds))
            .last()
            .unwrap_or(run.anchor)
    });
    observe(run, settles_at)
}

/// The state right at creation, before zero-length phases pass: what the
/// trigger answers.
pub fn at_creation(run: &Run) -> Observation {
    let first = run.timeline.first_status();
    let mut seen = Observation {
        status: first,
        updated_at: run.created_at,
        started_at: None,
        finished_at: None,
        blocked_at: None,
    };
    enter(&mut seen, first, run.created_at);
    seen
}

fn enter(seen: &mut Observation, status: PipelineStatus, instant: Timestamp) {
    seen.status = status;
    seen.updated_at = instant;
    if status == PipelineStatus::Running && seen.started_at.is_none() {
        seen.started_at = Some(instant);
    }
    seen.finished_at = status.stamps_finish().then_some(instant);
    seen.blocked_at = (status == PipelineStatus::Manual).then_some(instant);
}

/// Every status change of the run whose instant lies after `after` (all of
/// them when `None`) and at or before `until`, in order, each as a read
/// right after it would show it. This is what the pipeline webhook sends:
/// one event per change.
///
/// The walk is [`observe`]'s, step by step. Several changes can share an
/// instant, as a zero-length phase and the one after it do; a read at that
/// instant shows only the last, but each is a change GitLab reports. A
/// cancel passes through `canceling` on its way to `canceled`, at the same
/// instant, as GitLab's state machine does. A phase that repeats the
/// status before it is no change and is left out.
pub fn transitions(run: &Run, after: Option<Timestamp>, until: Timestamp) -> Vec<Observation> {
    let mut previous = None;
    walk(run, until)
        .into_iter()
        .filter(|seen| previous.replace(seen.status) != Some(seen.status))
        .filter(|seen| after.is_none_or(|after| seen.updated_at > after))
        .collect()
}

/// The first instant after `after` at which the run changes status, if it
/// ever does again.
pub fn next_transition(run: &Run, after: Timestamp) -> Option<Timestamp> {
    transitions(run, Some(after), Timestamp::MAX)
        .first()
        .map(|seen| seen.updated_at)
}

/// What a read shows after each step of the run up to `until`, loops from
/// a status to itself included.
fn walk(run: &Run, until: Timestamp) -> Vec<Observation> {
    let horizon = run
        .canceled_at
        .map_or(until, |canceled_at| canceled_at.min(until));
    let mut seen = before_start(run);
    let mut steps = Vec::new();

    for (seconds, status) in run.timeline.transitions() {
        match run.at(seconds) {
            Some(instant) if instant <= horizon => enter(&mut seen, status, instant),
            _ => break,
        }
        steps.push(seen);
    }

    if let Some(canceled_at) = run.canceled_at.filter(|canceled_at| *canceled_at <= until) {
        for status in [PipelineStatus::Canceling, PipelineStatus::Canceled] {
            enter(&mut seen, status, canceled_at);
            steps.push(seen);
        }
    }
    steps
}
