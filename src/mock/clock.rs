//! Moving the mock's clock, persisting each change before it is answered.

use jiff::{SignedDuration, Timestamp};

use crate::clock::{Clock, ClockError, ClockState};
use crate::presets::presets;

use super::{Mock, MockError};

/// What the clock shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClockReading {
    pub now: Timestamp,
    pub frozen: bool,
}

impl Mock {
    /// What the clock shows now.
    pub fn clock(&self) -> ClockReading {
        ClockReading {
            now: self.parts.clock.now(),
            frozen: self.parts.clock.state().is_frozen(),
        }
    }

    /// Stops time at `at`, or now.
    pub async fn freeze_clock(&self, at: Option<Timestamp>) -> Result<ClockReading, MockError> {
        self.move_clock(|state, source_now| state.freeze(at, source_now))
            .await
    }

    /// Moves time forward by `step`.
    pub async fn advance_clock(&self, step: SignedDuration) -> Result<ClockReading, MockError> {
        self.move_clock(|state, source_now| state.advance(step, source_now))
            .await
    }

    /// Lets a frozen clock run again from where it stands.
    pub async fn resume_clock(&self) -> Result<ClockReading, MockError> {
        self.move_clock(|state, source_now| Ok(state.resume(source_now)))
            .await
    }

    /// Saves the new state before installing it, under the clock's lock, so
    /// what a restart finds is always what was last answered.
    pub(super) fn change_clock(
        &self,
        transition: impl FnOnce(ClockState, Timestamp) -> Result<ClockState, ClockError>,
    ) -> Result<ClockReading, MockError> {
        self.parts.clock.update(|state, source_now| {
            let next = transition(state, source_now)?;
            self.parts.store.save_clock_state(next)?;
            Ok::<_, MockError>(next)
        })?;
        let reading = self.clock();
        tracing::info!(now = %reading.now, frozen = reading.frozen, "clock changed");
        Ok(reading)
    }

    /// Back to a fresh database: no pipelines, projects, trigger tokens,
    /// rules or hooks, only the presets, and system time; the delivery log,
    /// the journal and the faults are emptied too.
    pub async fn reset(&self) -> Result<(), MockError> {
        let _alone = self.hook_gate_for_reset().await;
        self.reset_state()
    }

    /// What a reset does, for a caller that holds the hook gate alone. Apart
    /// from [`Mock::reset`], only a test calls it, to let a reset land while
    /// a trigger waits at the gate, between its lookups and its write.
    pub(super) fn reset_state(&self) -> Result<(), MockError> {
        self.parts.clock.update(|_, _| {
            self.parts.store.reset(&presets())?;
            Ok::<_, MockError>(ClockState::SYSTEM)
        })?;
        self.hooks_reset();
        self.parts.journal.clear();
        self.parts.faults.clear();
        tracing::info!("mock reset to presets and system time");
        Ok(())
    }
}
