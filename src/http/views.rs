//! The JSON shapes the API answers with.
//!
//! Views borrow from the domain values and add what only the HTTP side
//! knows, such as the base URL for `web_url`.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::clock::rfc3339_millis;
use crate::mock::{ClockReading, ObservedPipeline};
use crate::model::Scenario;
use crate::status::PipelineStatus;

/// A pipeline as GitLab's pipeline endpoints show it, plus the mock's own
/// fields saying which behaviour it follows.
#[derive(Debug, Serialize)]
pub struct PipelineView<'a> {
    pub id: i64,
    pub project_id: i64,
    pub sha: &'a str,
    #[serde(rename = "ref")]
    pub git_ref: &'a str,
    pub status: PipelineStatus,
    pub source: &'static str,
    pub created_at: String,
    pub updated_at: String,
    pub web_url: String,
    pub variables: &'a BTreeMap<String, String>,
    pub scenario_id: Option<i64>,
    pub terminal_after_seconds: Option<i64>,
    pub terminal_status: PipelineStatus,
}

impl<'a> PipelineView<'a> {
    pub fn new(observed: &'a ObservedPipeline, base_url: &str) -> Self {
        let pipeline = &observed.pipeline;
        Self {
            id: pipeline.id,
            project_id: pipeline.project_id,
            sha: &pipeline.sha,
            git_ref: &pipeline.git_ref,
            status: observed.observation.status,
            source: "trigger",
            created_at: rfc3339_millis(pipeline.created_at),
            updated_at: rfc3339_millis(observed.observation.updated_at),
            web_url: format!(
                "{base_url}/projects/{}/pipelines/{}",
                pipeline.project_id, pipeline.id
            ),
            variables: &pipeline.variables,
            scenario_id: pipeline.scenario_id,
            terminal_after_seconds: pipeline.behaviour.terminal_after_seconds,
            terminal_status: pipeline.behaviour.terminal_status,
        }
    }
}

/// A scenario, field for field.
#[derive(Debug, Serialize)]
pub struct ScenarioView<'a> {
    pub scenario_id: i64,
    pub name: &'a str,
    pub terminal_after_seconds: Option<i64>,
    pub terminal_status: PipelineStatus,
    pub never_complete: bool,
}

impl<'a> From<&'a Scenario> for ScenarioView<'a> {
    fn from(scenario: &'a Scenario) -> Self {
        Self {
            scenario_id: scenario.scenario_id,
            name: &scenario.name,
            terminal_after_seconds: scenario.terminal_after_seconds,
            terminal_status: scenario.terminal_status,
            never_complete: scenario.never_complete,
        }
    }
}

/// The clock's state: `{"now": …, "frozen": …}`.
#[derive(Debug, Serialize)]
pub struct ClockView {
    pub now: String,
    pub frozen: bool,
}

impl From<ClockReading> for ClockView {
    fn from(reading: ClockReading) -> Self {
        Self {
            now: rfc3339_millis(reading.now),
            frozen: reading.frozen,
        }
    }
}
