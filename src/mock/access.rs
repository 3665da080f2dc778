//! Projects, trigger tokens and rules as records the control routes and
//! GitLab's trigger-token routes manage.

use crate::clock::Clock;
use crate::model::{Project, Rule, RuleMatch, TriggerToken};

use super::{Missing, Mock, MockError, ProjectRef};

impl Mock {
    /// Creates a trigger token for the project, as GitLab does, with a
    /// fresh `glptt-` value.
    pub fn create_trigger_token(
        &self,
        reference: &ProjectRef,
        description: &str,
    ) -> Result<TriggerToken, MockError> {
        let project = self.project(reference)?;
        let now = self.parts.clock.now();
        for attempt in 0..1000 {
            let token = token_value(project.id, description, now.as_millisecond(), attempt);
            if let Some(created) =
                self.parts
                    .store
                    .insert_trigger_token(project.id, &token, description, now)?
            {
                return Ok(created);
            }
        }
        Err(MockError::Conflict(
            "cannot find a free trigger token value".into(),
        ))
    }

    /// The project's trigger tokens.
    pub fn trigger_tokens(
        &self,
        reference: &ProjectRef,
    ) -> Result<(Project, Vec<TriggerToken>), MockError> {
        let project = self.project(reference)?;
        let tokens = self.parts.store.trigger_tokens(project.id)?;
        Ok((project, tokens))
    }

    /// Removes one of the project's trigger tokens.
    pub fn delete_trigger_token(&self, reference: &ProjectRef, id: i64) -> Result<(), MockError> {
        let project = self.project(reference)?;
        match self.parts.store.delete_trigger_token(project.id, id)? {
            true => Ok(()),
            false => Err(MockError::NotFound(Missing::TriggerToken)),
        }
    }

    /// Registers a project under a chosen id and path.
    pub fn put_project(&self, project: Project) -> Result<Project, MockError> {
        if ProjectRef::parse(&project.path)
            .is_none_or(|parsed| !matches!(parsed, ProjectRef::Path(_)))
        {
            return Err(MockError::Invalid(
                "path must look like namespace/name".into(),
            ));
        }
        if !super::is_project_id(project.id) {
            return Err(MockError::Invalid(format!(
                "id must be between 1 and {}",
                super::MAX_PROJECT_ID
            )));
        }
        if let Some(ProjectRef::Id(other)) = implicit_id(&project.path)
            && other != project.id
        {
            let path = &project.path;
            return Err(MockError::Invalid(format!(
                "{path} is the name of project {other}"
            )));
        }
        self.parts.store.put_project(&project)?;
        Ok(project)
    }

    /// Every registered project.
    pub fn projects(&self) -> Result<Vec<Project>, MockError> {
        Ok(self.parts.store.projects()?)
    }

    /// Adds a rule choosing `scenario_id` for matching triggers.
    pub fn create_rule(
        &self,
        matching: RuleMatch,
        scenario_id: i64,
        times: Option<i64>,
    ) -> Result<Rule, MockError> {
        if times.is_some_and(|times| times < 1) {
            return Err(MockError::Invalid("times must be 1 or more".into()));
        }
        if matching
            .project_id
            .is_some_and(|id| !super::is_project_id(id))
        {
            let most = super::MAX_PROJECT_ID;
            return Err(MockError::Invalid(format!(
                "project_id must be between 1 and {most}"
            )));
        }
        let missing = || MockError::Invalid(format!("scenario_id {scenario_id} does not exist"));
        self.parts
            .store
            .insert_rule(matching, scenario_id, times)?
            .ok_or_else(missing)
    }

    /// Every rule, in the order triggers try them.
    pub fn rules(&self) -> Result<Vec<Rule>, MockError> {
        Ok(self.parts.store.rules()?)
    }

    /// Removes a rule.
    pub fn delete_rule(&self, id: i64) -> Result<(), MockError> {
        match self.parts.store.delete_rule(id)? {
            true => Ok(()),
            false => Err(MockError::NotFound(Missing::Rule)),
        }
    }
}

/// The id an unregistered `mock/project-<id>` path stands for.
fn implicit_id(path: &str) -> Option<ProjectRef> {
    let id: i64 = path.strip_prefix("mock/project-")?.parse().ok()?;
    (Project::implicit(id).path == path).then_some(ProjectRef::Id(id))
}

/// A token in GitLab's current format: `glptt-` and 40 hex digits,
/// derived from the inputs so a frozen clock gives the same value.
fn token_value(project_id: i64, description: &str, millis: i64, attempt: u32) -> String {
    let seed = format!("{description}\u{0}{millis}\u{0}{attempt}");
    format!("glptt-{}", super::commit_sha(project_id, &seed))
}
