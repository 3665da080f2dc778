//! Pipelines as GitLab prints them: the entity of triggers, polls and
//! listings, written straight into the response buffer, and the status
//! presentation webhook bodies share.

use serde::Serialize;

use crate::clock::rfc3339_millis;
use crate::json::JsonObject;
use crate::mock::ObservedPipeline;
use crate::status::PipelineStatus;

use super::UserView;

#[cfg(test)]
mod reference;

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

/// Which of GitLab's pipeline entities [`write_pipeline`] writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entity {
    /// An item of a listing (GitLab's PipelineBasicWithMetadata).
    Listed,
    /// What triggers, cancels and retries answer (GitLab's Pipeline, plus
    /// the mock's own fields).
    Full,
    /// The single GET and `latest`, which add `name`.
    WithMetadata,
}

/// The pipeline entity as JSON, appended to `out`: the same bytes
/// serde_json writes for the view `entity` names, without building the
/// view or its strings first (see `crate::json`). Polls and triggers
/// answer this way; the serde views of `reference`, compiled for tests,
/// stay the definition it is held to.
pub fn write_pipeline(
    out: &mut Vec<u8>,
    observed: &ObservedPipeline,
    base_url: &str,
    entity: Entity,
) {
    let (pipeline, seen) = (&observed.pipeline, &observed.observation);
    let mut id = itoa::Buffer::new();
    let page = Page {
        path: &observed.project.path,
        id: id.format(pipeline.id),
    };

    let mut object = JsonObject::open(out);
    object.int("id", pipeline.id);
    object.int("iid", pipeline.iid);
    object.int("project_id", pipeline.project_id);
    object.str("sha", &pipeline.sha);
    object.str("ref", &pipeline.git_ref);
    object.str("status", seen.status.as_str());
    object.str("source", pipeline.source.as_str());
    object.instant("created_at", Some(pipeline.created_at()));
    object.instant("updated_at", Some(seen.updated_at));
    object.str_of("web_url", &page.under(base_url));
    if entity == Entity::Listed {
        object.null("name");
        return object.close();
    }

    object.str("before_sha", BLANK_SHA);
    object.bool("tag", false);
    object.null("yaml_errors");
    UserView::write_mock(object.object("user"), base_url);
    object.instant("started_at", seen.started_at);
    object.instant("finished_at", seen.finished_at);
    object.null("committed_at");
    object.opt_int("duration", seen.duration());
    object.opt_int(
        "queued_duration",
        seen.queued_duration(pipeline.created_at()),
    );
    object.null("coverage");
    write_detailed_status(
        object.object("detailed_status"),
        seen.status,
        base_url,
        page,
    );
    if entity == Entity::WithMetadata {
        object.null("name");
    }
    object.map("variables", pipeline.variable_map());
    object.opt_int("scenario_id", pipeline.scenario_id);
    object.opt_int(
        "terminal_after_seconds",
        pipeline.run.timeline.total_seconds(),
    );
    object.str(
        "terminal_status",
        pipeline.run.timeline.terminal_status.as_str(),
    );
    object.close();
}

/// The parts of [`pipeline_page`], for writing it without building it.
#[derive(Clone, Copy)]
struct Page<'a> {
    path: &'a str,
    id: &'a str,
}

impl<'a> Page<'a> {
    /// The page's address below `prefix`, in parts.
    fn under(self, prefix: &'a str) -> [&'a str; 5] {
        [prefix, "/", self.path, "/-/pipelines/", self.id]
    }
}

/// GitLab's `detailed_status` of a pipeline at `page` showing `status`,
/// written straight into `object` and closed.
fn write_detailed_status(
    mut object: JsonObject<'_>,
    status: PipelineStatus,
    base_url: &str,
    page: Page<'_>,
) {
    let (text, label, icon, group, favicon) = presentation(status);
    let root = root_path(base_url);
    object.str("icon", icon);
    object.str("text", text);
    object.str("label", label);
    object.str("group", group);
    object.str("tooltip", label);
    object.bool("has_details", true);
    object.str_of("details_path", &page.under(root));
    object.null("illustration");
    object.str_of("favicon", &[root, FAVICONS, favicon, ".png"]);
    object.close();
}

/// Where GitLab keeps the status favicons, before the favicon's name.
const FAVICONS: &str = "/assets/ci_favicons/favicon_";

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
