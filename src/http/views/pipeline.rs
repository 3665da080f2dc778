//! Pipelines, their jobs and their variables, as GitLab prints them.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Value, json};

use crate::clock::rfc3339_millis;
use crate::mock::ObservedPipeline;
use crate::model::{Variable, VariableType};
use crate::status::PipelineStatus;

use super::{UserView, instant};

/// GitLab's `before_sha` for pipelines with no previous commit.
const BLANK_SHA: &str = "0000000000000000000000000000000000000000";

/// The fields every pipeline entity starts with (GitLab's PipelineBasic).
#[derive(Debug, Serialize)]
pub struct BasicPipeline<'a> {
    pub id: i64,
    pub iid: i64,
    pub project_id: i64,
    pub sha: &'a str,
    #[serde(rename = "ref")]
    pub git_ref: &'a str,
    pub status: PipelineStatus,
    pub source: &'static str,
    pub created_at: String,
    pub updated_at: String,
    pub web_url: String,
}

impl<'a> BasicPipeline<'a> {
    pub fn new(observed: &'a ObservedPipeline, base_url: &str) -> Self {
        Self::at_page(observed, base_url, &pipeline_page(observed))
    }

    /// The fields, given the pipeline's page (see [`pipeline_page`]).
    fn at_page(observed: &'a ObservedPipeline, base_url: &str, page: &str) -> Self {
        let pipeline = &observed.pipeline;
        Self {
            id: pipeline.id,
            iid: pipeline.iid,
            project_id: pipeline.project_id,
            sha: &pipeline.sha,
            git_ref: &pipeline.git_ref,
            status: observed.observation.status,
            source: pipeline.source.as_str(),
            created_at: rfc3339_millis(pipeline.created_at()),
            updated_at: rfc3339_millis(observed.observation.updated_at),
            web_url: [base_url, page].concat(),
        }
    }
}

/// `/namespace/project/-/pipelines/:id`, GitLab's page for the pipeline.
/// The pipeline entity's URLs are built by `concat`, which sizes its
/// buffer from its parts once; `format!` goes through the formatter and
/// grows its buffer as it writes.
fn pipeline_page(observed: &ObservedPipeline) -> String {
    let id = observed.pipeline.id.to_string();
    ["/", &observed.project.path, "/-/pipelines/", &id].concat()
}

/// The path part of `base_url`: `/ns/name` inside a namespace, empty at
/// the root. GitLab's own relative paths (`details_path`, `favicon`) start
/// with it, as they start with a GitLab's relative URL root.
fn root_path(base_url: &str) -> &str {
    let authority_on = base_url
        .split_once("://")
        .map_or(base_url, |(_, rest)| rest);
    authority_on
        .find('/')
        .map_or("", |slash| &authority_on[slash..])
}

/// One item of `GET /projects/:id/pipelines` (PipelineBasicWithMetadata).
#[derive(Debug, Serialize)]
pub struct ListedPipeline<'a> {
    #[serde(flatten)]
    pub basic: BasicPipeline<'a>,
    pub name: Option<String>,
}

impl<'a> ListedPipeline<'a> {
    pub fn new(observed: &'a ObservedPipeline, base_url: &str) -> Self {
        Self {
            basic: BasicPipeline::new(observed, base_url),
            name: None,
        }
    }
}

/// GitLab's full Pipeline entity, plus the mock's own fields saying what
/// the pipeline was told to do.
#[derive(Debug, Serialize)]
pub struct PipelineView<'a> {
    #[serde(flatten)]
    pub basic: BasicPipeline<'a>,
    pub before_sha: &'static str,
    pub tag: bool,
    pub yaml_errors: Option<String>,
    pub user: UserView,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub committed_at: Option<String>,
    pub duration: Option<i64>,
    pub queued_duration: Option<i64>,
    pub coverage: Option<String>,
    pub detailed_status: DetailedStatus,
    /// Only on the single GET and `latest` (PipelineWithMetadata).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<Option<String>>,
    pub variables: BTreeMap<&'a str, &'a str>,
    pub scenario_id: Option<i64>,
    pub terminal_after_seconds: Option<i64>,
    pub terminal_status: PipelineStatus,
}

impl<'a> PipelineView<'a> {
    /// The entity the trigger, create, cancel and retry answer with.
    pub fn new(observed: &'a ObservedPipeline, base_url: &str) -> Self {
        let (pipeline, seen) = (&observed.pipeline, &observed.observation);
        let page = pipeline_page(observed);
        Self {
            basic: BasicPipeline::at_page(observed, base_url, &page),
            before_sha: BLANK_SHA,
            tag: false,
            yaml_errors: None,
            user: UserView::mock(base_url),
            started_at: instant(seen.started_at),
            finished_at: instant(seen.finished_at),
            committed_at: None,
            duration: seen.duration(),
            queued_duration: seen.queued_duration(pipeline.created_at()),
            coverage: None,
            detailed_status: DetailedStatus::new(seen.status, root_path(base_url), &page),
            name: None,
            variables: pipeline.variable_map(),
            scenario_id: pipeline.scenario_id,
            terminal_after_seconds: pipeline.run.timeline.total_seconds(),
            terminal_status: pipeline.run.timeline.terminal_status,
        }
    }

    /// The entity of the single GET and `latest`, which adds `name`.
    pub fn with_metadata(observed: &'a ObservedPipeline, base_url: &str) -> Self {
        Self {
            name: Some(None),
            ..Self::new(observed, base_url)
        }
    }
}

/// GitLab's `detailed_status` object.
#[derive(Debug, Serialize)]
pub struct DetailedStatus {
    pub icon: &'static str,
    pub text: &'static str,
    pub label: &'static str,
    pub group: &'static str,
    pub tooltip: &'static str,
    pub has_details: bool,
    pub details_path: String,
    pub illustration: Option<Value>,
    pub favicon: String,
}

impl DetailedStatus {
    /// `status` on the pipeline at `page` (see [`pipeline_page`]), with
    /// paths under `root` (see [`root_path`]).
    pub fn new(status: PipelineStatus, root: &str, page: &str) -> Self {
        let (text, label, icon, group, favicon) = presentation(status);
        Self {
            icon,
            text,
            label,
            group,
            tooltip: label,
            has_details: true,
            details_path: [root, page].concat(),
            illustration: None,
            favicon: [root, "/assets/ci_favicons/favicon_", favicon, ".png"].concat(),
        }
    }
}

/// The status's label, which webhook bodies give as `detailed_status`.
pub(super) fn label(status: PipelineStatus) -> &'static str {
    presentation(status).1
}

/// Text, label, icon, group and favicon of each status, in the lower-case
/// wording of GitLab's API documentation.
fn presentation(
    status: PipelineStatus,
) -> (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
) {
    use PipelineStatus::*;
    match status {
        Created => (
            "created",
            "created",
            "status_created",
            "created",
            "status_created",
        ),
        WaitingForResource => (
            "waiting",
            "waiting for resource",
            "status_pending",
            "waiting-for-resource",
            "status_pending",
        ),
        Preparing => (
            "preparing",
            "preparing",
            "status_preparing",
            "preparing",
            "status_preparing",
        ),
        WaitingForCallback => (
            "waiting",
            "waiting for callback",
            "status_pending",
            "waiting-for-callback",
            "status_pending",
        ),
        Pending => (
            "pending",
            "pending",
            "status_pending",
            "pending",
            "status_pending",
        ),
        Running => (
            "running",
            "running",
            "status_running",
            "running",
            "status_running",
        ),
        Success => (
            "passed",
            "passed",
            "status_success",
            "success",
            "status_success",
        ),
        Failed => (
            "failed",
            "failed",
            "status_failed",
            "failed",
            "status_failed",
        ),
        Canceling => (
            "canceling",
            "canceling",
            "status_canceled",
            "canceling",
            "status_canceled",
        ),
        Canceled => (
            "canceled",
            "canceled",
            "status_canceled",
            "canceled",
            "status_canceled",
        ),
        Skipped => (
            "skipped",
            "skipped",
            "status_skipped",
            "skipped",
            "status_skipped",
        ),
        Manual => (
            "blocked",
            "waiting for manual action",
            "status_manual",
            "manual",
            "status_manual",
        ),
        Scheduled => (
            "delayed",
            "waiting for delayed job",
            "status_scheduled",
            "scheduled",
            "status_scheduled",
        ),
    }
}

/// A variable as `GET …/pipelines/:id/variables` lists it.
#[derive(Debug, Serialize)]
pub struct VariableView<'a> {
    pub variable_type: VariableType,
    pub key: &'a str,
    pub value: &'a str,
}

impl<'a> From<&'a Variable> for VariableView<'a> {
    fn from(variable: &'a Variable) -> Self {
        Self {
            variable_type: variable.variable_type,
            key: &variable.key,
            value: &variable.value,
        }
    }
}

/// The one job each mock pipeline has, following the pipeline's status.
pub struct JobView;

impl JobView {
    /// GitLab's Job entity for the pipeline's single job. Job durations are
    /// floats, unlike the pipeline's.
    pub fn render(observed: &ObservedPipeline, base_url: &str, now: jiff::Timestamp) -> Value {
        let (pipeline, seen) = (&observed.pipeline, &observed.observation);
        let (duration, queued) = job_seconds(observed, now);
        json!({
            "id": pipeline.id,
            "status": seen.status,
            "stage": "test",
            "name": "mock-job",
            "ref": pipeline.git_ref,
            "tag": false,
            "coverage": null,
            "allow_failure": false,
            "created_at": rfc3339_millis(pipeline.created_at()),
            "started_at": instant(seen.started_at),
            "finished_at": instant(seen.finished_at),
            "erased_at": null,
            "duration": duration,
            "queued_duration": queued,
            "user": UserView::mock(base_url),
            "commit": commit(observed),
            "pipeline": BasicPipeline::new(observed, base_url),
            "web_url": format!("{base_url}/{}/-/jobs/{}", observed.project.path, pipeline.id),
            "project": { "ci_job_token_scope_enabled": false },
            "artifacts": [],
            "runner": null,
            "artifacts_expire_at": null,
            "tag_list": [],
        })
    }
}

/// The job's `duration` (running so far, or until it finished) and
/// `queued_duration` at `now`, in seconds as floats.
pub(super) fn job_seconds(
    observed: &ObservedPipeline,
    now: jiff::Timestamp,
) -> (Option<f64>, Option<f64>) {
    let seen = &observed.observation;
    let ended = match seen.status {
        PipelineStatus::Running => Some(now),
        _ => seen.finished_at,
    };
    let duration = seen
        .started_at
        .zip(ended)
        .map(|(start, end)| seconds(end.duration_since(start)));
    let queued = seen
        .started_at
        .map(|start| seconds(start.duration_since(observed.pipeline.created_at())));
    (duration, queued)
}

fn seconds(duration: jiff::SignedDuration) -> f64 {
    duration.as_millis() as f64 / 1000.0
}

fn commit(observed: &ObservedPipeline) -> Value {
    let pipeline = &observed.pipeline;
    let created = rfc3339_millis(pipeline.created_at());
    json!({
        "id": pipeline.sha,
        "short_id": &pipeline.sha[..8],
        "title": format!("Head of {}", pipeline.git_ref),
        "message": format!("Head of {}", pipeline.git_ref),
        "author_name": "Mock User",
        "author_email": "mock-user@example.com",
        "created_at": created,
        "committed_date": created,
        "authored_date": created,
    })
}
