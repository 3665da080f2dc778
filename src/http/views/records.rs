//! The mock's own records: scenarios, rules, projects, trigger tokens and
//! the clock.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::clock::rfc3339_millis;
use crate::lifecycle::Phase;
use crate::mock::ClockReading;
use crate::model::{Project, Rejection, Rule, Scenario, TriggerToken};
use crate::status::PipelineStatus;

use super::UserView;

/// A scenario, field for field. `phases` is `null` for the seed's shape.
#[derive(Debug, Serialize)]
pub struct ScenarioView<'a> {
    pub scenario_id: i64,
    pub name: &'a str,
    pub terminal_after_seconds: Option<i64>,
    pub terminal_status: PipelineStatus,
    pub never_complete: bool,
    pub phases: Option<&'a [Phase]>,
    pub reject: Option<Rejection>,
}

impl<'a> From<&'a Scenario> for ScenarioView<'a> {
    fn from(scenario: &'a Scenario) -> Self {
        Self {
            scenario_id: scenario.scenario_id,
            name: &scenario.name,
            terminal_after_seconds: scenario.terminal_after_seconds,
            terminal_status: scenario.terminal_status,
            never_complete: scenario.never_complete,
            phases: scenario.phases.as_deref(),
            reject: scenario.reject,
        }
    }
}

/// A rule and how often it has been used.
#[derive(Debug, Serialize)]
pub struct RuleView<'a> {
    pub id: i64,
    pub project_id: Option<i64>,
    #[serde(rename = "ref")]
    pub git_ref: Option<&'a str>,
    pub token: Option<&'a str>,
    pub variables: &'a BTreeMap<String, String>,
    pub scenario_id: i64,
    pub times: Option<i64>,
    pub used: i64,
}

impl<'a> From<&'a Rule> for RuleView<'a> {
    fn from(rule: &'a Rule) -> Self {
        Self {
            id: rule.id,
            project_id: rule.matching.project_id,
            git_ref: rule.matching.git_ref.as_deref(),
            token: rule.matching.token.as_deref(),
            variables: &rule.matching.variables,
            scenario_id: rule.scenario_id,
            times: rule.times,
            used: rule.used,
        }
    }
}

/// A registered project.
#[derive(Debug, Serialize)]
pub struct ProjectRecordView<'a> {
    pub id: i64,
    pub path: &'a str,
    pub default_branch: &'a str,
}

impl<'a> From<&'a Project> for ProjectRecordView<'a> {
    fn from(project: &'a Project) -> Self {
        Self {
            id: project.id,
            path: &project.path,
            default_branch: &project.default_branch,
        }
    }
}

/// A trigger token as GitLab's `/projects/:id/triggers` shows it.
#[derive(Debug, Serialize)]
pub struct TriggerTokenView<'a> {
    pub id: i64,
    pub token: &'a str,
    pub description: &'a str,
    pub created_at: String,
    pub updated_at: String,
    pub last_used: Option<String>,
    pub expires_at: Option<String>,
    pub owner: UserView,
}

impl<'a> TriggerTokenView<'a> {
    pub fn new(token: &'a TriggerToken, base_url: &str) -> Self {
        let created_at = rfc3339_millis(token.created_at);
        Self {
            id: token.id,
            token: &token.token,
            description: &token.description,
            updated_at: created_at.clone(),
            created_at,
            last_used: None,
            expires_at: None,
            owner: UserView::mock(base_url),
        }
    }
}

/// The clock's state: `{"now": …, "frozen": …}`.
#[derive(Debug, Serialize)]
pub struct ClockView {
    pub now: String,
    pub frozen: bool,
}

/// What `{"to_next_transition": true}` answers: the clock, and whether it
/// moved (it does not when no pipeline will change status again).
#[derive(Debug, Serialize)]
pub struct NextTransitionView {
    #[serde(flatten)]
    pub clock: ClockView,
    pub advanced: bool,
}

impl NextTransitionView {
    pub fn new(reading: ClockReading, advanced: bool) -> Self {
        Self {
            clock: ClockView::from(reading),
            advanced,
        }
    }
}

impl From<ClockReading> for ClockView {
    fn from(reading: ClockReading) -> Self {
        Self {
            now: rfc3339_millis(reading.now),
            frozen: reading.frozen,
        }
    }
}
