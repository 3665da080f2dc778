//! The mock's domain layer: what each operation means, independent of HTTP.
//!
//! [`Mock`] joins the [`Store`] and the [`VirtualClock`]. It resolves which
//! behaviour a trigger gets, observes statuses at the clock's current
//! instant, validates scenarios and moves the clock, persisting every change
//! before it is reported. The HTTP handlers translate requests into these
//! calls and results into GitLab-shaped JSON; they never see SQL.

use std::collections::BTreeMap;
use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};

use crate::clock::{Clock, ClockError, ClockState, VirtualClock};
use crate::lifecycle::{Behaviour, Observation, observe};
use crate::model::{NewPipeline, Pipeline, Scenario, check_terminal_after};
use crate::presets::presets;
use crate::status::PipelineStatus;
use crate::store::{Page, PipelineQuery, Store, StoreError};

/// Why an operation did not happen.
#[derive(Debug, thiserror::Error)]
pub enum MockError {
    #[error("{0} not found")]
    NotFound(Missing),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Clock(#[from] ClockError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a not-found error was looking for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    Pipeline,
    Scenario,
}

impl std::fmt::Display for Missing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Pipeline => "pipeline",
            Self::Scenario => "scenario",
        })
    }
}

/// A trigger, decoded from whichever encoding the client used.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TriggerRequest {
    pub git_ref: String,
    pub variables: BTreeMap<String, String>,
    pub scenario_id: Option<i64>,
    pub terminal_after_seconds: Option<i64>,
    pub terminal_status: Option<PipelineStatus>,
}

/// A change to some of a scenario's fields; `None` leaves a field alone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScenarioPatch {
    pub name: Option<String>,
    /// `Some(None)` clears the duration.
    pub terminal_after_seconds: Option<Option<i64>>,
    pub terminal_status: Option<PipelineStatus>,
    pub never_complete: Option<bool>,
}

/// A pipeline together with what it shows right now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObservedPipeline {
    pub pipeline: Pipeline,
    pub observation: Observation,
}

/// What the clock shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClockReading {
    pub now: Timestamp,
    pub frozen: bool,
}

/// The mock's state and rules; cheap to clone.
#[derive(Debug, Clone)]
pub struct Mock {
    store: Store,
    clock: Arc<VirtualClock>,
}

impl Mock {
    /// A mock over `store`, telling time by `clock`.
    pub fn new(store: Store, clock: Arc<VirtualClock>) -> Self {
        Self { store, clock }
    }

    /// Creates a pipeline in `project_id` with the behaviour the request
    /// resolves to: its scenario, else its inline fields, else the default.
    pub fn trigger(
        &self,
        project_id: i64,
        request: TriggerRequest,
    ) -> Result<ObservedPipeline, MockError> {
        let (scenario_id, behaviour) = self.resolve_behaviour(&request)?;
        let now = self.clock.now();

        let pipeline = self.store.insert_pipeline(NewPipeline {
            project_id,
            sha: commit_sha(project_id, &request.git_ref),
            git_ref: request.git_ref,
            variables: request.variables,
            scenario_id,
            behaviour,
            created_at: now,
        })?;
        tracing::debug!(
            id = pipeline.id,
            project_id,
            ?behaviour,
            "pipeline triggered"
        );
        Ok(self.observed(pipeline, now))
    }

    fn resolve_behaviour(
        &self,
        request: &TriggerRequest,
    ) -> Result<(Option<i64>, Behaviour), MockError> {
        if let Some(seconds) = request.terminal_after_seconds {
            check_terminal_after(seconds).map_err(MockError::Invalid)?;
        }
        if let Some(scenario_id) = request.scenario_id {
            let scenario = self.store.scenario(scenario_id)?.ok_or_else(|| {
                MockError::Invalid(format!("scenario_id {scenario_id} does not exist"))
            })?;
            return Ok((Some(scenario_id), scenario.behaviour()));
        }

        let behaviour = Behaviour {
            terminal_after_seconds: request
                .terminal_after_seconds
                .or(Behaviour::DEFAULT.terminal_after_seconds),
            terminal_status: request
                .terminal_status
                .unwrap_or(Behaviour::DEFAULT.terminal_status),
        };
        Ok((None, behaviour))
    }

    /// A pipeline of `project_id` as it is now.
    pub fn pipeline(&self, project_id: i64, id: i64) -> Result<ObservedPipeline, MockError> {
        let pipeline = self
            .store
            .pipeline(id)?
            .filter(|pipeline| pipeline.project_id == project_id)
            .ok_or(MockError::NotFound(Missing::Pipeline))?;
        Ok(self.observed(pipeline, self.clock.now()))
    }

    /// A page of pipelines, newest first, each as it is now.
    pub fn pipelines(&self, query: &PipelineQuery) -> Result<Page<ObservedPipeline>, MockError> {
        let page = self.store.pipelines(query)?;
        let now = self.clock.now();
        let items = page
            .items
            .into_iter()
            .map(|pipeline| self.observed(pipeline, now))
            .collect();
        Ok(Page {
            items,
            total: page.total,
        })
    }

    /// Deletes a pipeline of any project.
    pub fn delete_pipeline(&self, id: i64) -> Result<(), MockError> {
        match self.store.delete_pipeline(id)? {
            true => Ok(()),
            false => Err(MockError::NotFound(Missing::Pipeline)),
        }
    }

    fn observed(&self, pipeline: Pipeline, now: Timestamp) -> ObservedPipeline {
        let observation = observe(&pipeline.behaviour, pipeline.created_at, now);
        ObservedPipeline {
            pipeline,
            observation,
        }
    }

    /// Every scenario, by id.
    pub fn scenarios(&self) -> Result<Vec<Scenario>, MockError> {
        Ok(self.store.scenarios()?)
    }

    /// Adds a scenario; its id must be free.
    pub fn create_scenario(&self, scenario: Scenario) -> Result<Scenario, MockError> {
        scenario.validate().map_err(MockError::Invalid)?;
        if !self.store.insert_scenario(&scenario)? {
            let id = scenario.scenario_id;
            return Err(MockError::Conflict(format!(
                "scenario_id {id} already exists"
            )));
        }
        Ok(scenario)
    }

    /// Changes the given fields of a scenario. Pipelines already triggered
    /// with it keep the behaviour they were given.
    pub fn update_scenario(
        &self,
        scenario_id: i64,
        patch: ScenarioPatch,
    ) -> Result<Scenario, MockError> {
        let updated = self.store.update_scenario(scenario_id, |current| {
            let updated = patch.apply(current);
            updated.validate().map_err(MockError::Invalid)?;
            Ok::<_, MockError>(updated)
        })?;
        updated.ok_or(MockError::NotFound(Missing::Scenario))
    }

    /// Removes a scenario; pipelines that used it keep their behaviour.
    pub fn delete_scenario(&self, scenario_id: i64) -> Result<(), MockError> {
        match self.store.delete_scenario(scenario_id)? {
            true => Ok(()),
            false => Err(MockError::NotFound(Missing::Scenario)),
        }
    }

    /// What the clock shows now.
    pub fn clock(&self) -> ClockReading {
        ClockReading {
            now: self.clock.now(),
            frozen: self.clock.state().is_frozen(),
        }
    }

    /// Stops time at `at`, or now.
    pub fn freeze_clock(&self, at: Option<Timestamp>) -> Result<ClockReading, MockError> {
        self.change_clock(|state, source_now| state.freeze(at, source_now))
    }

    /// Moves time forward by `step`.
    pub fn advance_clock(&self, step: SignedDuration) -> Result<ClockReading, MockError> {
        self.change_clock(|state, source_now| state.advance(step, source_now))
    }

    /// Lets a frozen clock run again from where it stands.
    pub fn resume_clock(&self) -> Result<ClockReading, MockError> {
        self.change_clock(|state, source_now| Ok(state.resume(source_now)))
    }

    /// Saves the new state before installing it, under the clock's lock, so
    /// what a restart finds is always what was last answered.
    fn change_clock(
        &self,
        transition: impl FnOnce(ClockState, Timestamp) -> Result<ClockState, ClockError>,
    ) -> Result<ClockReading, MockError> {
        self.clock.update(|state, source_now| {
            let next = transition(state, source_now)?;
            self.store.save_clock_state(next)?;
            Ok::<_, MockError>(next)
        })?;
        let reading = self.clock();
        tracing::info!(now = %reading.now, frozen = reading.frozen, "clock changed");
        Ok(reading)
    }

    /// Back to a fresh database: no pipelines, only the presets, system time.
    pub fn reset(&self) -> Result<(), MockError> {
        self.clock.update(|_, _| {
            self.store.reset(&presets())?;
            Ok::<_, MockError>(ClockState::SYSTEM)
        })?;
        tracing::info!("mock reset to presets and system time");
        Ok(())
    }
}

impl ScenarioPatch {
    fn apply(self, mut scenario: Scenario) -> Scenario {
        if let Some(name) = self.name {
            scenario.name = name;
        }
        if let Some(seconds) = self.terminal_after_seconds {
            scenario.terminal_after_seconds = seconds;
        }
        if let Some(status) = self.terminal_status {
            scenario.terminal_status = status;
        }
        if let Some(never) = self.never_complete {
            scenario.never_complete = never;
        }
        scenario
    }
}

/// A stand-in commit sha: 40 hex digits that depend only on the project and
/// the ref, as a real ref's head commit would, so snapshots stay stable and
/// two triggers of one ref report one commit.
pub fn commit_sha(project_id: i64, git_ref: &str) -> String {
    let mut state = fnv1a(project_id.to_le_bytes().iter().chain(git_ref.as_bytes()));
    (0..3)
        .map(|_| format!("{:016x}", splitmix64(&mut state)))
        .collect::<String>()[..40]
        .to_owned()
}

fn fnv1a<'a>(bytes: impl Iterator<Item = &'a u8>) -> u64 {
    bytes.fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}
