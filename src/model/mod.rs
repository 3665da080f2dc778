//! The records the mock keeps: scenarios, pipelines, projects, trigger
//! tokens and rules.
//!
//! These are plain values shared by the store, the domain layer and the HTTP
//! views. Validation that belongs to the values themselves (a scenario must
//! say when it ends) lives here so every entry point applies it the same way.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::lifecycle::{Run, Timeline};

mod hook;
mod scenario;

pub use hook::{HOOK_EVENTS, Hook, HookChanges};
pub use scenario::{
    MAX_PHASES, MAX_TERMINAL_AFTER_SECONDS, Rejection, Scenario, check_terminal_after,
};

/// The largest project id: 2^53 - 1, the largest integer every JSON client
/// reads exactly. Paths given an id when first used are numbered below it.
pub const MAX_PROJECT_ID: i64 = (1 << 53) - 1;

/// How the pipeline came to be, as GitLab's `source` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// `POST /projects/:id/trigger/pipeline`.
    Trigger,
    /// `POST /projects/:id/pipeline`.
    Api,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Trigger => "trigger",
            Self::Api => "api",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::Trigger, Self::Api]
            .into_iter()
            .find(|source| source.as_str() == text)
    }
}

/// A CI/CD variable of a pipeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Variable {
    pub key: String,
    pub value: String,
    pub variable_type: VariableType,
}

/// Whether a variable's value is the value, or a file holding it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VariableType {
    EnvVar,
    File,
}

impl VariableType {
    /// The spelling GitLab and serde use.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::EnvVar => "env_var",
            Self::File => "file",
        }
    }
}

/// A stored pipeline: everything fixed at trigger time plus the changes
/// made to its run. Its status is not here; it is observed from `run` and
/// the clock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pipeline {
    pub id: i64,
    /// The pipeline's number within its project.
    pub iid: i64,
    pub project_id: i64,
    pub git_ref: String,
    pub sha: String,
    pub source: Source,
    /// Variables as given, `TRIGGER_PAYLOAD` included for triggers.
    pub variables: Vec<Variable>,
    /// The scenario it was triggered with, if any; cleared if the scenario is
    /// deleted, while `run` keeps what the pipeline was promised.
    pub scenario_id: Option<i64>,
    pub run: Run,
}

impl Pipeline {
    /// The environment variables as the seed's `variables` object, which
    /// leaves out file variables such as `TRIGGER_PAYLOAD`.
    pub fn variable_map(&self) -> BTreeMap<&str, &str> {
        self.variables
            .iter()
            .filter(|variable| variable.variable_type == VariableType::EnvVar)
            .map(|variable| (variable.key.as_str(), variable.value.as_str()))
            .collect()
    }

    pub fn created_at(&self) -> Timestamp {
        self.run.created_at
    }

    /// Roughly the bytes its variables hold on the heap, which is what can
    /// make one pipeline large: a trigger's body may carry up to a
    /// mebibyte of them, and `TRIGGER_PAYLOAD` repeats it.
    pub fn variable_bytes(&self) -> usize {
        self.variables
            .iter()
            .map(|variable| variable.key.len() + variable.value.len())
            .sum()
    }
}

/// The most variable bytes ([`Pipeline::variable_bytes`]) a pipeline may
/// hold for the in-memory caches of polls to keep a copy of it. Nearly
/// every pipeline is far below; the few above are read and written afresh
/// on each poll, so that a thousand large pipelines polled in turn cannot
/// fill the memory.
pub const MAX_CACHED_VARIABLE_BYTES: usize = 4 * 1024;

/// A pipeline about to be stored; the store assigns the id and iid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPipeline {
    pub project_id: i64,
    pub git_ref: String,
    pub sha: String,
    pub source: Source,
    pub variables: Vec<Variable>,
    pub scenario_id: Option<i64>,
    pub timeline: Timeline,
    pub created_at: Timestamp,
}

/// A project as the mock knows it. Any positive id names a project; a full
/// path names one too and is given an id the first time it is seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    pub id: i64,
    /// `namespace/name`, e.g. `jdoe/demo`.
    pub path: String,
    pub default_branch: String,
}

impl Project {
    /// The project an unregistered numeric id stands for.
    pub fn implicit(id: i64) -> Self {
        Self {
            id,
            path: format!("mock/project-{id}"),
            default_branch: "main".into(),
        }
    }

    /// The last segment of the path.
    pub fn name(&self) -> &str {
        self.path.rsplit('/').next().unwrap_or(&self.path)
    }

    /// Everything before the last segment.
    pub fn namespace(&self) -> &str {
        self.path
            .rsplit_once('/')
            .map_or("", |(namespace, _)| namespace)
    }
}

/// A project's trigger token, as `POST /projects/:id/triggers` makes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TriggerToken {
    pub id: i64,
    pub project_id: i64,
    pub token: String,
    pub description: String,
    pub created_at: Timestamp,
}

/// Which triggers a rule applies to; every given field must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuleMatch {
    pub project_id: Option<i64>,
    pub git_ref: Option<String>,
    pub token: Option<String>,
    /// Variables that must all be present with these values.
    pub variables: BTreeMap<String, String>,
}

/// A scenario chosen for triggers that match, for clients that cannot
/// send mock fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub id: i64,
    pub matching: RuleMatch,
    pub scenario_id: i64,
    /// How many triggers it may still serve in all; `None` is unlimited.
    pub times: Option<i64>,
    pub used: i64,
}

impl RuleMatch {
    /// Whether a trigger with these values matches.
    pub fn matches(
        &self,
        project_id: i64,
        git_ref: &str,
        token: &str,
        variables: &[Variable],
    ) -> bool {
        let has =
            |key: &str, value: &str| variables.iter().any(|v| v.key == key && v.value == value);
        self.project_id.is_none_or(|id| id == project_id)
            && self
                .git_ref
                .as_deref()
                .is_none_or(|wanted| wanted == git_ref)
            && self.token.as_deref().is_none_or(|wanted| wanted == token)
            && self.variables.iter().all(|(key, value)| has(key, value))
    }
}
