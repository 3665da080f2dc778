//! Scenarios: the named behaviours a trigger can ask for, and the checks
//! every way of making one applies.

use serde::{Deserialize, Serialize};

use crate::lifecycle::{InitialStatus, Phase, Timeline};
use crate::status::PipelineStatus;

/// The longest a scenario may run before its terminal status: ten years,
/// far beyond any test and far inside the range of a timestamp.
pub const MAX_TERMINAL_AFTER_SECONDS: i64 = 10 * 365 * 24 * 60 * 60;

/// The most phases one scenario may have.
pub const MAX_PHASES: usize = 64;

/// A named behaviour that triggers can refer to by id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scenario {
    pub scenario_id: i64,
    pub name: String,
    /// Seconds until the terminal status; derived from `phases` when they
    /// are given.
    pub terminal_after_seconds: Option<i64>,
    pub terminal_status: PipelineStatus,
    /// Whether the terminal status is never reached; derived from `phases`
    /// when they are given.
    pub never_complete: bool,
    /// An explicit timeline; `None` is the seed's single running phase.
    pub phases: Option<Vec<Phase>>,
    /// Refuse the trigger instead of creating a pipeline.
    pub reject: Option<Rejection>,
}

/// How GitLab can refuse to create a pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rejection {
    /// The ref has no commit: `{"message":{"base":["Reference not found"]}}`.
    RefNotFound,
    /// The configuration yields no jobs for this ref.
    NoJobs,
}

impl Rejection {
    /// GitLab's text for the refusal, under `message.base`.
    pub fn message(self) -> &'static str {
        match self {
            Self::RefNotFound => "Reference not found",
            Self::NoJobs => "No stages / jobs for this pipeline.",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::RefNotFound => "ref_not_found",
            Self::NoJobs => "no_jobs",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::RefNotFound, Self::NoJobs]
            .into_iter()
            .find(|r| r.as_str() == text)
    }
}

impl Scenario {
    /// A scenario following the seed's shape.
    pub fn seed(scenario_id: i64, name: &str, seconds: Option<i64>) -> Self {
        Self {
            scenario_id,
            name: name.into(),
            terminal_after_seconds: seconds,
            terminal_status: PipelineStatus::Success,
            never_complete: seconds.is_none(),
            phases: None,
            reject: None,
        }
    }

    /// A scenario walking explicit phases; the seed fields are derived.
    pub fn phased(
        scenario_id: i64,
        name: &str,
        phases: Vec<Phase>,
        terminal: PipelineStatus,
    ) -> Self {
        let mut scenario = Self::seed(scenario_id, name, None);
        scenario.terminal_status = terminal;
        scenario.set_phases(phases);
        scenario
    }

    /// Installs explicit phases and derives the seed fields from them.
    pub fn set_phases(&mut self, phases: Vec<Phase>) {
        let timeline = Timeline {
            phases,
            terminal_status: self.terminal_status,
        };
        self.terminal_after_seconds = timeline.total_seconds();
        self.never_complete = self.terminal_after_seconds.is_none();
        self.phases = Some(timeline.phases);
    }

    /// What a pipeline bound to this scenario does.
    pub fn timeline(&self, initial: InitialStatus) -> Timeline {
        if let Some(phases) = &self.phases {
            return Timeline {
                phases: phases.clone(),
                terminal_status: self.terminal_status,
            };
        }
        let seconds = if self.never_complete {
            None
        } else {
            self.terminal_after_seconds
        };
        Timeline::seed(seconds, self.terminal_status, initial)
    }

    /// Checks the rules every scenario obeys, whichever route wrote it.
    pub fn validate(&self) -> Result<(), String> {
        if self.scenario_id < 0 {
            return Err("scenario_id must be zero or more".into());
        }
        if self.name.trim().is_empty() {
            return Err("name must not be empty".into());
        }
        if let Some(phases) = &self.phases {
            return check_phases(phases);
        }
        if let Some(seconds) = self.terminal_after_seconds {
            check_terminal_after(seconds)?;
        }
        if !self.never_complete && self.terminal_after_seconds.is_none() && self.reject.is_none() {
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

fn check_phases(phases: &[Phase]) -> Result<(), String> {
    if phases.len() > MAX_PHASES {
        return Err(format!("a scenario has at most {MAX_PHASES} phases"));
    }
    if let Some(done) = phases.iter().find(|phase| phase.status.is_completed()) {
        return Err(format!(
            "a phase cannot be {}: a completed status ends a pipeline, \
             so only terminal_status may be one",
            done.status
        ));
    }
    let last = phases.len().saturating_sub(1);
    for (index, phase) in phases.iter().enumerate() {
        match phase.seconds {
            None if index != last => return Err("only the last phase may last forever".into()),
            Some(seconds) if !(0..=MAX_TERMINAL_AFTER_SECONDS).contains(&seconds) => {
                return Err(format!(
                    "phase seconds must be between 0 and {MAX_TERMINAL_AFTER_SECONDS}"
                ));
            }
            _ => {}
        }
    }
    let total: i64 = phases.iter().filter_map(|phase| phase.seconds).sum();
    check_terminal_after(total).map_err(|_| "the phases last longer than ten years".into())
}
