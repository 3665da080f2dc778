//! How a pipeline's status follows from its behaviour and the clock.
//!
//! Status is never stored as truth: it is computed on every read by
//! [`observe`], a pure function of what the pipeline was told to do, when it
//! was created and what time it is now. That is what makes a frozen clock
//! enough to make every answer deterministic, and what lets the property
//! tests check the invariants without a server.

use jiff::{SignedDuration, Timestamp};

use crate::status::PipelineStatus;

/// The status every pipeline shows until its scenario says otherwise.
pub const INITIAL_STATUS: PipelineStatus = PipelineStatus::Running;

/// What a pipeline does over time, fixed when it is triggered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Behaviour {
    /// Seconds from creation until the terminal status; `None` means the
    /// pipeline never completes.
    pub terminal_after_seconds: Option<i64>,
    /// The status reached once the time is up.
    pub terminal_status: PipelineStatus,
}

/// What a read of the pipeline shows at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Observation {
    pub status: PipelineStatus,
    /// The instant of the last transition at or before the reading.
    pub updated_at: Timestamp,
}

impl Behaviour {
    /// The seed's default: success after five minutes.
    pub const DEFAULT: Behaviour = Behaviour {
        terminal_after_seconds: Some(300),
        terminal_status: PipelineStatus::Success,
    };

    /// A pipeline that stays running forever.
    pub fn never_complete(terminal_status: PipelineStatus) -> Self {
        Self {
            terminal_after_seconds: None,
            terminal_status,
        }
    }

    /// The instant the terminal status begins for a pipeline created at
    /// `created_at`, if it ever does.
    pub fn finishes_at(&self, created_at: Timestamp) -> Option<Timestamp> {
        let seconds = self.terminal_after_seconds?;
        created_at
            .checked_add(SignedDuration::from_secs(seconds))
            .ok()
    }
}

/// The status and `updated_at` of a pipeline created at `created_at`, read
/// at `now`. The terminal status starts at exactly `created_at + N`.
pub fn observe(behaviour: &Behaviour, created_at: Timestamp, now: Timestamp) -> Observation {
    match behaviour.finishes_at(created_at) {
        Some(finished_at) if now >= finished_at => Observation {
            status: behaviour.terminal_status,
            updated_at: finished_at,
        },
        _ => Observation {
            status: INITIAL_STATUS,
            updated_at: created_at,
        },
    }
}
