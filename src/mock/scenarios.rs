//! Scenario rules: creating, changing and deleting scenarios.

use crate::lifecycle::Phase;
use crate::model::{Rejection, Scenario};
use crate::status::PipelineStatus;

use super::{Missing, Mock, MockError};

/// A change to some of a scenario's fields; `None` leaves a field alone.
/// Setting `phases` replaces the seed fields; setting a seed field drops
/// explicit phases.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScenarioPatch {
    pub name: Option<String>,
    /// `Some(None)` clears the duration.
    pub terminal_after_seconds: Option<Option<i64>>,
    pub terminal_status: Option<PipelineStatus>,
    pub never_complete: Option<bool>,
    pub phases: Option<Vec<Phase>>,
    /// `Some(None)` removes the rejection.
    pub reject: Option<Option<Rejection>>,
}

impl Mock {
    /// Every scenario, by id.
    pub fn scenarios(&self) -> Result<Vec<Scenario>, MockError> {
        Ok(self.parts.store.scenarios()?)
    }

    /// Adds a scenario; its id must be free.
    pub fn create_scenario(&self, scenario: Scenario) -> Result<Scenario, MockError> {
        scenario.validate().map_err(MockError::Invalid)?;
        if !self.parts.store.insert_scenario(&scenario)? {
            let id = scenario.scenario_id;
            return Err(MockError::Conflict(format!(
                "scenario_id {id} already exists"
            )));
        }
        Ok(scenario)
    }

    /// Changes the given fields of a scenario. Pipelines already triggered
    /// with it keep the timeline they were given.
    pub fn update_scenario(
        &self,
        scenario_id: i64,
        patch: ScenarioPatch,
    ) -> Result<Scenario, MockError> {
        patch.check()?;
        let updated = self.parts.store.update_scenario(scenario_id, |current| {
            let updated = patch.apply(current);
            updated.validate().map_err(MockError::Invalid)?;
            Ok::<_, MockError>(updated)
        })?;
        updated.ok_or(MockError::NotFound(Missing::Scenario))
    }

    /// Removes a scenario; pipelines that used it keep their timeline, and
    /// rules that chose it go with it.
    pub fn delete_scenario(&self, scenario_id: i64) -> Result<(), MockError> {
        match self.parts.store.delete_scenario(scenario_id)? {
            true => Ok(()),
            false => Err(MockError::NotFound(Missing::Scenario)),
        }
    }
}

impl ScenarioPatch {
    /// Refuses a patch that sets phases and seed fields at once.
    fn check(&self) -> Result<(), MockError> {
        let seed_fields = self.terminal_after_seconds.is_some() || self.never_complete.is_some();
        if self.phases.is_some() && seed_fields {
            return Err(MockError::Invalid(
                "give either phases or terminal_after_seconds/never_complete, not both".into(),
            ));
        }
        Ok(())
    }

    fn apply(self, mut scenario: Scenario) -> Scenario {
        if let Some(name) = self.name {
            scenario.name = name;
        }
        if let Some(status) = self.terminal_status {
            scenario.terminal_status = status;
        }
        if let Some(reject) = self.reject {
            scenario.reject = reject;
        }
        if let Some(seconds) = self.terminal_after_seconds {
            if scenario.phases.take().is_some() {
                // never_complete was derived from the phases; it goes with them.
                scenario.never_complete = false;
            }
            scenario.terminal_after_seconds = seconds;
        }
        if let Some(never) = self.never_complete {
            scenario.phases = None;
            scenario.never_complete = never;
        }
        if let Some(phases) = self.phases {
            scenario.set_phases(phases);
        }
        scenario
    }
}
