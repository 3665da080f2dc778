//! The records the mock keeps: scenarios, pipelines, projects, trigger
//! tokens and rules.
//!
//! These are plain values shared by the store, the domain layer and the HTTP
//! views. Validation that belongs to the values themselves (a scenario must
//! say when it ends) lives here so every entry point applies it the same way.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::lifecycle::{InitialStatus, Phase, Run, Timeline};
use crate::status::PipelineStatus;

/// The largest project id: 2^53 - 1, the largest integer every JSON client
/// reads exactly. Paths given an id when first used are numbered below it.
pub const MAX_PROJECT_ID: i64 = (1 << 53) - 1;

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

/// The events a project hook can subscribe to, as GitLab names its
/// switches. The mock sends only pipeline events; the others are kept and
/// shown so a client that sets them reads back what it wrote.
pub const HOOK_EVENTS: [&str; 18] = [
    "push_events",
    "tag_push_events",
    "issues_events",
    "confidential_issues_events",
    "merge_requests_events",
    "note_events",
    "confidential_note_events",
    "job_events",
    "pipeline_events",
    "wiki_page_events",
    "deployment_events",
    "feature_flag_events",
    "releases_events",
    "milestone_events",
    "emoji_events",
    "resource_access_token_events",
    "vulnerability_events",
    "repository_update_events",
];

/// A project hook: where GitLab posts the project's events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hook {
    pub id: i64,
    pub project_id: i64,
    pub url: String,
    pub name: String,
    pub description: String,
    /// Sent as `X-Gitlab-Token`; never shown by the API.
    pub token: Option<String>,
    /// Each of [`HOOK_EVENTS`] and whether it is on.
    pub events: BTreeMap<String, bool>,
    pub push_events_branch_filter: Option<String>,
    pub branch_filter_strategy: String,
    pub enable_ssl_verification: bool,
    pub created_at: Timestamp,
}

impl Hook {
    /// Whether the hook wants pipeline events.
    pub fn pipeline_events(&self) -> bool {
        self.events.get("pipeline_events").copied().unwrap_or(false)
    }
}

/// The fields of a hook a request sets; `None` leaves a field as it is
/// (or at GitLab's default, for a new hook).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HookChanges {
    pub url: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    /// `Some("")` removes the token.
    pub token: Option<String>,
    pub events: BTreeMap<String, bool>,
    pub push_events_branch_filter: Option<String>,
    pub branch_filter_strategy: Option<String>,
    pub enable_ssl_verification: Option<bool>,
}

impl HookChanges {
    /// A new hook of `project_id` with these fields over GitLab's defaults:
    /// push events on, every other event off, TLS verified.
    pub fn new_hook(self, project_id: i64, created_at: Timestamp) -> Hook {
        let events = HOOK_EVENTS
            .iter()
            .map(|name| (name.to_string(), *name == "push_events"))
            .collect();
        let mut hook = Hook {
            id: 0,
            project_id,
            url: String::new(),
            name: String::new(),
            description: String::new(),
            token: None,
            events,
            push_events_branch_filter: None,
            branch_filter_strategy: "wildcard".into(),
            enable_ssl_verification: true,
            created_at,
        };
        self.apply(&mut hook);
        hook
    }

    /// Writes the given fields over `hook`.
    pub fn apply(self, hook: &mut Hook) {
        if let Some(url) = self.url {
            hook.url = url;
        }
        if let Some(name) = self.name {
            hook.name = name;
        }
        if let Some(description) = self.description {
            hook.description = description;
        }
        if let Some(token) = self.token {
            hook.token = (!token.is_empty()).then_some(token);
        }
        hook.events.extend(self.events);
        if let Some(filter) = self.push_events_branch_filter {
            hook.push_events_branch_filter = (!filter.is_empty()).then_some(filter);
        }
        if let Some(strategy) = self.branch_filter_strategy {
            hook.branch_filter_strategy = strategy;
        }
        if let Some(verify) = self.enable_ssl_verification {
            hook.enable_ssl_verification = verify;
        }
    }
}
