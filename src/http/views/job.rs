//! A pipeline's one job and its variables, as GitLab's job and variable
//! endpoints print them.

use serde::Serialize;
use serde_json::{Value, json};

use crate::clock::rfc3339_millis;
use crate::mock::ObservedPipeline;
use crate::model::{Variable, VariableType};
use crate::status::PipelineStatus;

use super::pipeline::BasicPipeline;
use super::{UserView, instant};

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
