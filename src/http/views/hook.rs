//! Project hooks as GitLab's hooks API prints them, the body of the
//! pipeline events posted to them, and the mock's log of those posts.
//!
//! Webhook bodies spell instants differently from the REST API:
//! `2026-12-03 10:00:00 UTC`, whole seconds, as GitLab's event builders
//! print them.

use serde::Serialize;
use serde_json::{Value, json};

use crate::clock::rfc3339_millis;
use crate::mock::{MOCK_USERNAME, ObservedPipeline};
use crate::model::{HOOK_EVENTS, Hook};
use crate::status::PipelineStatus;
use crate::webhook::DeliveryRecord;

use super::job::job_seconds;
use super::people::host_of;
use super::pipeline::label;

/// `GET /projects/:id/hooks/:hook_id`: every field GitLab's ProjectHook
/// entity has, the secret token left out as GitLab leaves it out.
pub struct HookView;

impl HookView {
    pub fn render(hook: &Hook) -> Value {
        let mut fields = json!({
            "id": hook.id,
            "url": hook.url,
            "name": hook.name,
            "description": hook.description,
            "project_id": hook.project_id,
            "created_at": rfc3339_millis(hook.created_at),
            "push_events_branch_filter": hook.push_events_branch_filter,
            "branch_filter_strategy": hook.branch_filter_strategy,
            "enable_ssl_verification": hook.enable_ssl_verification,
            "alert_status": "executable",
            "disabled_until": null,
            "url_variables": [],
            "custom_webhook_template": null,
            "custom_headers": [],
        });
        if let Value::Object(fields) = &mut fields {
            for name in HOOK_EVENTS {
                let on = hook.events.get(name).copied().unwrap_or(false);
                fields.insert(name.into(), Value::Bool(on));
            }
        }
        fields
    }
}

/// An instant as webhook bodies print it.
fn webhook_time(instant: jiff::Timestamp) -> String {
    instant.strftime("%Y-%m-%d %H:%M:%S UTC").to_string()
}

fn optional_time(instant: Option<jiff::Timestamp>) -> Option<String> {
    instant.map(webhook_time)
}

/// The body of a "Pipeline Hook" event: the pipeline as it is right after
/// the change, its project, commit, user and the one job every mock
/// pipeline has.
pub fn pipeline_event_payload(observed: &ObservedPipeline, base_url: &str) -> Value {
    let (pipeline, seen, project) = (&observed.pipeline, &observed.observation, &observed.project);
    let pipeline_url = format!("{base_url}/{}/-/pipelines/{}", project.path, pipeline.id);
    let variables: Vec<Value> = pipeline
        .variables
        .iter()
        .map(|variable| json!({ "key": variable.key, "value": variable.value }))
        .collect();

    json!({
        "object_kind": "pipeline",
        "object_attributes": {
            "id": pipeline.id,
            "iid": pipeline.iid,
            "name": null,
            "ref": pipeline.git_ref,
            "tag": false,
            "sha": pipeline.sha,
            "before_sha": "0000000000000000000000000000000000000000",
            "source": pipeline.source.as_str(),
            "status": seen.status,
            "detailed_status": label(seen.status),
            "stages": ["test"],
            "created_at": webhook_time(pipeline.created_at()),
            "finished_at": optional_time(seen.finished_at),
            "duration": seen.duration(),
            "queued_duration": seen.queued_duration(pipeline.created_at()),
            "protected_ref": pipeline.git_ref == project.default_branch,
            "variables": variables,
            "url": pipeline_url,
        },
        "merge_request": null,
        "user": user(base_url),
        "project": project_attributes(observed, base_url),
        "commit": commit(observed, base_url),
        "builds": [build(observed, base_url)],
    })
}

fn user(base_url: &str) -> Value {
    json!({
        "id": 1,
        "name": "Mock User",
        "username": MOCK_USERNAME,
        "avatar_url": format!("{base_url}/uploads/-/system/user/avatar/1/avatar.png"),
        "email": "[REDACTED]",
    })
}

fn project_attributes(observed: &ObservedPipeline, base_url: &str) -> Value {
    let project = &observed.project;
    let web_url = format!("{base_url}/{}", project.path);
    json!({
        "id": project.id,
        "name": project.name(),
        "description": null,
        "web_url": web_url,
        "avatar_url": null,
        "git_ssh_url": format!("git@{}:{}.git", host_of(base_url), project.path),
        "git_http_url": format!("{web_url}.git"),
        "namespace": project.namespace(),
        "visibility_level": 0,
        "path_with_namespace": project.path,
        "default_branch": project.default_branch,
        "ci_config_path": null,
    })
}

fn commit(observed: &ObservedPipeline, base_url: &str) -> Value {
    let (pipeline, project) = (&observed.pipeline, &observed.project);
    let message = format!("Head of {}", pipeline.git_ref);
    json!({
        "id": pipeline.sha,
        "message": message,
        "title": message,
        "timestamp": rfc3339_millis(pipeline.created_at()),
        "url": format!("{base_url}/{}/-/commit/{}", project.path, pipeline.sha),
        "author": { "name": "Mock User", "email": "mock-user@example.com" },
    })
}

/// The pipeline's one job, as `builds[]` lists it.
fn build(observed: &ObservedPipeline, base_url: &str) -> Value {
    let (pipeline, seen) = (&observed.pipeline, &observed.observation);
    let (duration, queued_duration) = job_seconds(observed, seen.updated_at);
    json!({
        "id": pipeline.id,
        "stage": "test",
        "name": "mock-job",
        "status": seen.status,
        "created_at": webhook_time(pipeline.created_at()),
        "started_at": optional_time(seen.started_at),
        "finished_at": optional_time(seen.finished_at),
        "duration": duration,
        "queued_duration": queued_duration,
        "failure_reason": (seen.status == PipelineStatus::Failed).then_some("script_failure"),
        "when": "on_success",
        "manual": false,
        "allow_failure": false,
        "user": user(base_url),
        "runner": null,
        "artifacts_file": { "filename": null, "size": null },
        "environment": null,
    })
}

/// One attempt of `GET /_mock/hooks/deliveries`.
#[derive(Debug, Serialize)]
pub struct DeliveryView<'a> {
    pub id: u64,
    pub at: String,
    pub real_at: String,
    pub hook_id: i64,
    pub project_id: i64,
    pub pipeline_id: i64,
    pub event: &'static str,
    pub pipeline_status: PipelineStatus,
    pub attempt: u32,
    pub response_status: Option<u16>,
    pub error: Option<&'a str>,
}

impl<'a> From<&'a DeliveryRecord> for DeliveryView<'a> {
    fn from(record: &'a DeliveryRecord) -> Self {
        Self {
            id: record.id,
            at: rfc3339_millis(record.at),
            real_at: rfc3339_millis(record.real_at),
            hook_id: record.hook_id,
            project_id: record.project_id,
            pipeline_id: record.pipeline_id,
            event: record.event,
            pipeline_status: record.pipeline_status,
            attempt: record.attempt,
            response_status: record.response_status,
            error: record.error.as_deref(),
        }
    }
}
