//! The mock's domain layer: what each operation means, independent of HTTP.
//!
//! [`Mock`] joins the [`Store`] and the [`VirtualClock`]. It decides who may
//! trigger, which timeline a new pipeline follows, what a pipeline shows at
//! the clock's current instant, how cancel and retry change a run, and how
//! the clock moves, persisting every change before it is reported. The HTTP
//! handlers translate requests into these calls and results into
//! GitLab-shaped JSON; they never see SQL.
//!
//! - `trigger`: triggering and creating pipelines, trigger authentication,
//!   rules and scenario resolution.
//! - `pipelines`: reading, listing, canceling, retrying, deleting.
//! - `scenarios`: scenario rules and changes.
//! - `access`: projects, trigger tokens and rules as records.
//! - `clock`: moving time.
//! - `journal`: the requests answered, for tests to assert on.
//! - `faults`: scripted failures for the next matching requests.
//! - `hooks`: project hooks, and which pipeline events they get when.
//! - `reset_races` (tests only): operations that a reset overtakes half-way.

mod access;
mod clock;
mod faults;
mod hooks;
mod journal;
mod pipelines;
#[cfg(test)]
mod reset_races;
mod scenarios;
mod trigger;

use std::sync::Arc;

use jiff::Timestamp;

use crate::clock::{Clock, ClockError, VirtualClock};
use crate::lifecycle::{InitialStatus, Observation, observe};
use crate::model::{Pipeline, Project, Rejection};
use crate::store::{Store, StoreError};

pub use clock::ClockReading;
pub use faults::{
    Fault, FaultSpec, Faults, MAX_DELAY_MS, MAX_RETRY_AFTER, MAX_TIMES, is_control_path,
};
pub use hooks::MAX_HOOKS_PER_PROJECT;
pub use journal::{
    JOURNAL_LIMIT, Journal, JournalEntry, JournalFilter, MAX_KEPT_METHOD, MAX_KEPT_TEXT, Sighting,
};
pub use pipelines::{ListFilter, MOCK_USERNAME, OrderBy, Scope};
pub use scenarios::ScenarioPatch;
pub use trigger::{Controls, CreateRequest, TriggerRequest, commit_sha};

/// Why an operation did not happen.
#[derive(Debug, thiserror::Error)]
pub enum MockError {
    #[error("{0} not found")]
    NotFound(Missing),
    #[error("{0}")]
    Conflict(String),
    /// A mock-only value that is not acceptable (422).
    #[error("{0}")]
    Invalid(String),
    /// GitLab refused to create the pipeline (400 with `message.base`).
    #[error("{}", .0.message())]
    Refused(Rejection),
    /// The trigger token does not open this project: GitLab's 404, which
    /// does not reveal whether the project exists.
    #[error("trigger token not valid for this project")]
    TriggerDenied,
    /// No trigger token applies and the request carries no valid
    /// credentials.
    #[error("401 Unauthorized")]
    Unauthorized,
    /// A hook's URL is not an http or https URL: GitLab's 422.
    #[error("Invalid url given")]
    InvalidHookUrl,
    /// `pipelines/latest` found nothing: GitLab answers 403.
    #[error("no pipeline for the ref")]
    NoLatest,
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
    Rule,
    TriggerToken,
    Hook,
}

impl std::fmt::Display for Missing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Pipeline => "pipeline",
            Self::Scenario => "scenario",
            Self::Rule => "rule",
            Self::TriggerToken => "trigger token",
            Self::Hook => "project hook",
        })
    }
}

/// How a route names a project: by number or by full path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProjectRef {
    Id(i64),
    Path(String),
}

impl ProjectRef {
    /// Reads a decoded `:id` path segment: digits are an id, a value with a
    /// slash is a full path, anything else names no project.
    pub fn parse(segment: &str) -> Option<Self> {
        if !segment.is_empty() && segment.bytes().all(|byte| byte.is_ascii_digit()) {
            return segment
                .parse()
                .ok()
                .filter(|id| is_project_id(*id))
                .map(Self::Id);
        }
        let valid_path = segment.contains('/') && segment.split('/').all(is_path_part);
        valid_path.then(|| Self::Path(segment.to_owned()))
    }

    /// The value as GitLab would echo it, e.g. in `TRIGGER_PAYLOAD`.
    pub fn as_text(&self) -> String {
        match self {
            Self::Id(id) => id.to_string(),
            Self::Path(path) => path.clone(),
        }
    }
}

pub use crate::model::MAX_PROJECT_ID;

/// Whether `id` can name a project.
pub fn is_project_id(id: i64) -> bool {
    (1..=MAX_PROJECT_ID).contains(&id)
}

/// One segment of a project path, with the characters GitLab allows:
/// letters, digits, `_`, `-` and `.`, but not `.` or `..` alone.
fn is_path_part(part: &str) -> bool {
    let allowed = |c: char| c.is_ascii_alphanumeric() || "_-.".contains(c);
    !part.is_empty() && part != "." && part != ".." && part.chars().all(allowed)
}

/// A pipeline together with its project and what it shows right now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObservedPipeline {
    pub pipeline: Pipeline,
    pub project: Project,
    pub observation: Observation,
}

/// Choices that make the mock behave more like the seed or more like
/// GitLab.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MockOptions {
    /// The status seed-shaped scenarios start in.
    pub initial_status: InitialStatus,
    /// Trigger tokens valid for every project.
    pub global_trigger_tokens: Vec<String>,
    /// How many requests the journal keeps.
    pub journal_limit: usize,
    /// The mock's own base URL, such as `http://127.0.0.1:8000`, which
    /// pipeline events link to and name as `X-Gitlab-Instance`. Requests
    /// carry their own base in `Host`; events answer no request, so the
    /// server says where it can be reached. Left empty, the links are
    /// paths without a host.
    pub public_url: String,
    /// How pipeline events are retried.
    pub hook_delivery: crate::webhook::DeliveryPolicy,
}

impl Default for MockOptions {
    fn default() -> Self {
        Self {
            initial_status: InitialStatus::default(),
            global_trigger_tokens: Vec::new(),
            journal_limit: JOURNAL_LIMIT,
            public_url: String::new(),
            hook_delivery: crate::webhook::DeliveryPolicy::default(),
        }
    }
}

/// The mock's state and rules; cheap to clone: one reference count, since
/// every request takes a clone (six counts, one per part, were about 3% of
/// a poll's CPU time).
#[derive(Debug, Clone)]
pub struct Mock {
    parts: Arc<Parts>,
}

/// What every clone of a [`Mock`] shares.
#[derive(Debug)]
struct Parts {
    store: Store,
    clock: Arc<VirtualClock>,
    options: Arc<MockOptions>,
    journal: Arc<Journal>,
    faults: Arc<Faults>,
    hooks: Arc<hooks::HookHub>,
}

impl Mock {
    /// A mock over `store`, telling time by `clock`, with default options.
    pub fn new(store: Store, clock: Arc<VirtualClock>) -> Self {
        Self::with_options(store, clock, MockOptions::default())
    }

    /// A mock with the given options.
    pub fn with_options(store: Store, clock: Arc<VirtualClock>, options: MockOptions) -> Self {
        let hooks = Arc::new(hooks::HookHub::new(
            store.clone(),
            Arc::clone(&clock),
            &options,
        ));
        let parts = Parts {
            store,
            clock,
            journal: Arc::new(Journal::new(options.journal_limit)),
            faults: Arc::new(Faults::default()),
            options: Arc::new(options),
            hooks,
        };
        Self {
            parts: Arc::new(parts),
        }
    }

    /// The requests this mock answered.
    pub fn journal(&self) -> &Journal {
        &self.parts.journal
    }

    /// The faults armed for the next requests.
    pub fn faults(&self) -> &Faults {
        &self.parts.faults
    }

    /// The project a route names; every reference names one (see [`ProjectRef`]).
    pub fn project(&self, reference: &ProjectRef) -> Result<Project, MockError> {
        Ok(match reference {
            ProjectRef::Id(id) => self.parts.store.project_by_id(*id)?,
            ProjectRef::Path(path) => self.parts.store.project_by_path(path)?.ok_or_else(|| {
                MockError::Invalid(format!(
                    "no project id is left for {path}: ids stop at {MAX_PROJECT_ID}; \
                     register the path with POST /_mock/projects"
                ))
            })?,
        })
    }

    /// The clock's current instant.
    pub fn now(&self) -> Timestamp {
        self.parts.clock.now()
    }

    fn observed(&self, pipeline: Pipeline, project: Project, now: Timestamp) -> ObservedPipeline {
        let observation = observe(&pipeline.run, now);
        ObservedPipeline {
            pipeline,
            project,
            observation,
        }
    }
}
