//! The records the mock keeps: scenarios and pipelines.
//!
//! These are plain values shared by the store, the domain layer and the HTTP
//! views. Validation that belongs to the values themselves (a scenario must
//! say when it ends) lives here so every entry point applies it the same way.

use std::collections::BTreeMap;

use jiff::Timestamp;

use crate::lifecycle::Behaviour;
use crate::status::PipelineStatus;

/// The longest a scenario may run before its terminal status: ten years,
/// far beyond any test and far inside the range of a timestamp.
pub const MAX_TERMINAL_AFTER_SECONDS: i64 = 10 * 365 * 24 * 60 * 60;

/// A named behaviour that triggers can refer to by id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scenario {
    pub scenario_id: i64,
    pub name: String,
    pub terminal_after_seconds: Option<i64>,
    pub terminal_status: PipelineStatus,
    pub never_complete: bool,
}

impl Scenario {
    /// What a pipeline bound to this scenario does.
    pub fn behaviour(&self) -> Behaviour {
        if self.never_complete {
            return Behaviour::never_complete(self.terminal_status);
        }
        Behaviour {
            terminal_after_seconds: self.terminal_after_seconds,
            terminal_status: self.terminal_status,
        }
    }

    /// Checks the rules every scenario obeys, whichever route wrote it.
    pub fn validate(&self) -> Result<(), String> {
        if self.scenario_id < 0 {
            return Err("scenario_id must be zero or more".into());
        }
        if self.name.trim().is_empty() {
            return Err("name must not be empty".into());
        }
        if let Some(seconds) = self.terminal_after_seconds {
            check_terminal_after(seconds)?;
        }
        if !self.never_complete && self.terminal_after_seconds.is_none() {
            return Err(
                "a scenario needs terminal_after_seconds unless never_complete is true".into(),
            );
        }
        Ok(())
    }
}

/// Refuses a duration outside `0..=MAX_TERMINAL_AFTER_SECONDS`.
pub fn check_terminal_after(seconds: i64) -> Result<(), String> {
    if (0..=MAX_TERMINAL_AFTER_SECONDS).contains(&seconds) {
        return Ok(());
    }
    Err(format!(
        "terminal_after_seconds must be between 0 and {MAX_TERMINAL_AFTER_SECONDS}"
    ))
}

/// A stored pipeline: everything fixed at trigger time. Its status is not
/// here; it is observed from `behaviour`, `created_at` and the clock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pipeline {
    pub id: i64,
    pub project_id: i64,
    pub git_ref: String,
    pub sha: String,
    pub variables: BTreeMap<String, String>,
    /// The scenario it was triggered with, if any; cleared if the scenario is
    /// deleted, while `behaviour` keeps what the pipeline was promised.
    pub scenario_id: Option<i64>,
    pub behaviour: Behaviour,
    pub created_at: Timestamp,
}

/// A pipeline about to be stored; the store assigns the id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPipeline {
    pub project_id: i64,
    pub git_ref: String,
    pub sha: String,
    pub variables: BTreeMap<String, String>,
    pub scenario_id: Option<i64>,
    pub behaviour: Behaviour,
    pub created_at: Timestamp,
}
