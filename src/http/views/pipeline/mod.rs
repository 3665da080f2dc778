//! Pipelines, their jobs and their variables, as GitLab prints them.

#[cfg(test)]
use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Value, json};

use crate::clock::rfc3339_millis;
use crate::mock::ObservedPipeline;
use crate::model::{Variable, VariableType};
use crate::status::PipelineStatus;

use super::{UserView, instant};
use crate::json::JsonObject;

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
///
/// This and [`PipelineView`] define the entities field by field as serde
/// writes them; answers are written by [`write_pipeline`], which the tests
/// hold to these byte for byte.
#[cfg(test)]
#[derive(Debug, Serialize)]
pub struct ListedPipeline<'a> {
    #[serde(flatten)]
    pub basic: BasicPipeline<'a>,
    pub name: Option<String>,
}

#[cfg(test)]
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
#[cfg(test)]
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

#[cfg(test)]
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

/// Which of GitLab's pipeline entities [`write_pipeline`] writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entity {
    /// An item of a listing: [`ListedPipeline`].
    Listed,
    /// What triggers, cancels and retries answer: [`PipelineView::new`].
    Full,
    /// The single GET and `latest`: [`PipelineView::with_metadata`].
    WithMetadata,
}

/// The pipeline entity as JSON, appended to `out`: the same bytes
/// serde_json writes for the view `entity` names, without building the
/// view or its strings first (see [`super::json`]). Polls and triggers
/// answer this way; the views stay the definition it is tested against.
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

/// GitLab's `detailed_status` object.
#[cfg(test)]
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

#[cfg(test)]
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
            favicon: [root, FAVICONS, favicon, ".png"].concat(),
        }
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

#[cfg(test)]
mod tests {
    use jiff::{SignedDuration, Timestamp};
    use proptest::prelude::*;

    use crate::lifecycle::{InitialStatus, Run, Timeline, observe};
    use crate::model::{Pipeline, Project, Source, Variable, VariableType};

    use super::*;

    prop_compose! {
        fn variables()(items in prop::collection::vec(
            (any::<String>(), any::<String>(), any::<bool>()), 0..4,
        )) -> Vec<Variable> {
            items
                .into_iter()
                .map(|(key, value, file)| Variable {
                    key,
                    value,
                    variable_type: match file {
                        true => VariableType::File,
                        false => VariableType::EnvVar,
                    },
                })
                .collect()
        }
    }

    prop_compose! {
        /// Any pipeline, read at any instant of its run, with any strings
        /// where the API prints text, and instants across jiff's range
        /// (years below zero take the timestamp printer's other branch).
        fn observed()(
            (id, iid, project_id) in (any::<i64>(), any::<i64>(), any::<i64>()),
            (git_ref, sha, path) in (any::<String>(), any::<String>(), any::<String>()),
            api in any::<bool>(),
            variables in variables(),
            scenario_id in any::<Option<i64>>(),
            seconds in prop::option::of(0..400_i64),
            terminal in prop::sample::select(PipelineStatus::ALL.to_vec()),
            created in any::<bool>(),
            created_ms in -300_000_000_000_000_i64..250_000_000_000_000,
            later_ms in 0..500_000_i64,
        ) -> ObservedPipeline {
            let initial = match created {
                true => InitialStatus::Created,
                false => InitialStatus::Running,
            };
            let created_at = Timestamp::from_millisecond(created_ms).unwrap();
            let run = Run::new(Timeline::seed(seconds, terminal, initial), created_at);
            let now = created_at.saturating_add(SignedDuration::from_millis(later_ms)).unwrap();
            let observation = observe(&run, now);
            let source = match api {
                true => Source::Api,
                false => Source::Trigger,
            };
            let pipeline = Pipeline {
                id, iid, project_id, git_ref, sha, source, variables, scenario_id, run,
            };
            let project = Project { id: project_id, path, default_branch: "main".into() };
            ObservedPipeline { pipeline, project, observation }
        }
    }

    fn base_url() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("http://127.0.0.1:8000".to_owned()),
            Just("http://localhost/ns/team-a".to_owned()),
            "[a-z0-9.:-]{1,20}".prop_map(|host| format!("http://{host}")),
        ]
    }

    fn written(observed: &ObservedPipeline, base_url: &str, entity: Entity) -> Vec<u8> {
        let mut out = Vec::new();
        write_pipeline(&mut out, observed, base_url, entity);
        out
    }

    proptest! {
        #[test]
        fn the_written_entities_are_the_serde_views_byte_for_byte(
            observed in observed(),
            base_url in base_url(),
        ) {
            let listed = serde_json::to_vec(&ListedPipeline::new(&observed, &base_url)).unwrap();
            let full = serde_json::to_vec(&PipelineView::new(&observed, &base_url)).unwrap();
            let with_metadata =
                serde_json::to_vec(&PipelineView::with_metadata(&observed, &base_url)).unwrap();

            prop_assert_eq!(written(&observed, &base_url, Entity::Listed), listed);
            prop_assert_eq!(written(&observed, &base_url, Entity::Full), full);
            prop_assert_eq!(written(&observed, &base_url, Entity::WithMetadata), with_metadata);
        }
    }
}
