//! GitLab's pipeline endpoints: get, list, latest, cancel, retry, delete,
//! variables and jobs.

use std::collections::HashMap;
use std::sync::Arc;

use jiff::Timestamp;
use warp::http::StatusCode;
use warp::reply::Response;

use crate::http::error::ApiError;
use crate::http::pagination::{DEFAULT_PER_PAGE, MAX_PER_PAGE, PageLinks};
use crate::http::params::BOOLEANS;
use crate::http::rendered::RenderedPipelines;
use crate::http::views::{Entity, JobView, VariableView};
use crate::mock::{ListFilter, Mock, OrderBy, ProjectRef, Scope, Sighting};
use crate::status::PipelineStatus;

use super::{
    id_param, json, no_content, pipeline_json, pipelines_json, polled_json, project_param, sighted,
};

/// The project and pipeline a `…/pipelines/:pipeline_id…` route names.
fn target(project: &str, pipeline: &str) -> Result<(ProjectRef, i64), ApiError> {
    let reference = project_param(project, "404 Project Not Found")?;
    Ok((reference, id_param(pipeline, "pipeline_id")?))
}

/// `GET /projects/:id/pipelines/:pipeline_id`
pub async fn get(
    project: String,
    pipeline: String,
    base_url: Arc<str>,
    mock: Mock,
    rendered: Arc<RenderedPipelines>,
) -> Result<Response, ApiError> {
    let (reference, id) = target(&project, &pipeline)?;
    let observed = mock.pipeline(&reference, id)?;
    Ok(polled_json(observed, &base_url, &rendered))
}

/// `GET /projects/:id/pipelines/latest?ref=`
pub async fn latest(
    project: String,
    query: String,
    base_url: Arc<str>,
    mock: Mock,
    rendered: Arc<RenderedPipelines>,
) -> Result<Response, ApiError> {
    let reference = project_param(&project, "404 Project Not Found")?;
    let params = query_map(&query);
    let observed = mock.latest_pipeline(&reference, params.get("ref").map(String::as_str))?;
    Ok(polled_json(observed, &base_url, &rendered))
}

/// `POST /projects/:id/pipelines/:pipeline_id/cancel`: 200 whatever the
/// pipeline's state.
pub async fn cancel(
    project: String,
    pipeline: String,
    base_url: Arc<str>,
    mock: Mock,
) -> Result<Response, ApiError> {
    let (reference, id) = target(&project, &pipeline)?;
    let observed = mock.cancel_pipeline(&reference, id).await?;
    Ok(pipeline_json(
        &observed,
        &base_url,
        Entity::Full,
        StatusCode::OK,
    ))
}

/// `POST /projects/:id/pipelines/:pipeline_id/retry`: 201, a no-op when
/// there is nothing to retry.
pub async fn retry(
    project: String,
    pipeline: String,
    base_url: Arc<str>,
    mock: Mock,
) -> Result<Response, ApiError> {
    let (reference, id) = target(&project, &pipeline)?;
    let observed = mock.retry_pipeline(&reference, id).await?;
    Ok(pipeline_json(
        &observed,
        &base_url,
        Entity::Full,
        StatusCode::CREATED,
    ))
}

/// `DELETE /projects/:id/pipelines/:pipeline_id`
pub async fn delete(project: String, pipeline: String, mock: Mock) -> Result<Response, ApiError> {
    let (reference, id) = target(&project, &pipeline)?;
    mock.delete_project_pipeline(&reference, id)?;
    Ok(no_content())
}

/// `GET /projects/:id/pipelines/:pipeline_id/variables`
pub async fn variables(
    project: String,
    pipeline: String,
    mock: Mock,
) -> Result<Response, ApiError> {
    let (reference, id) = target(&project, &pipeline)?;
    let observed = mock.pipeline(&reference, id)?;
    let views: Vec<VariableView<'_>> = observed
        .pipeline
        .variables
        .iter()
        .map(VariableView::from)
        .collect();
    Ok(sighted(json(&views), &observed))
}

/// `GET /projects/:id/pipelines/:pipeline_id/jobs`: the pipeline's one job,
/// paginated like every GitLab list.
pub async fn jobs(
    project: String,
    pipeline: String,
    path: warp::path::FullPath,
    query: String,
    base_url: Arc<str>,
    mock: Mock,
) -> Result<Response, ApiError> {
    let (reference, id) = target(&project, &pipeline)?;
    let params = query_map(&query);
    let (page, per_page) = paging(&params)?;
    let observed = mock.pipeline(&reference, id)?;

    let jobs = if page == 1 {
        vec![JobView::render(&observed, &base_url, mock.now())]
    } else {
        vec![]
    };
    let links = PageLinks {
        base_url: &base_url,
        path: path.as_str(),
        query: &query,
        page,
        per_page,
        total: Some(1),
        more: false,
    };
    Ok(sighted(links.apply(json(&jobs)), &observed))
}

/// `GET /projects/:id/pipelines` with GitLab's filters and pagination.
pub async fn list(
    project: String,
    path: warp::path::FullPath,
    query: String,
    base_url: Arc<str>,
    mock: Mock,
) -> Result<Response, ApiError> {
    let reference = project_param(&project, "404 Project Not Found")?;
    let filter = list_filter(&query_map(&query))?;

    let page = mock.list_pipelines(&reference, &filter)?;
    let links = PageLinks {
        base_url: &base_url,
        path: path.as_str(),
        query: &query,
        page: filter.page,
        per_page: filter.per_page,
        total: page.total,
        more: page.more,
    };
    let mut response = links.apply(pipelines_json(&page.items, &base_url, Entity::Listed));
    // An empty page names no pipeline to take the project from, and the
    // journal gets no project id for it.
    if let Some(first) = page.items.first() {
        let sighting = Sighting {
            project_id: Some(first.project.id),
            ..Sighting::default()
        };
        response.extensions_mut().insert(sighting);
    }
    Ok(response)
}

/// A whole number as text, clamped into `u32`: a number too long for any
/// integer type is still a number, just a large one.
fn whole_number(text: &str) -> Option<u32> {
    let text = text.trim();
    let digits = text.strip_prefix('-').unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    if text.starts_with('-') {
        return Some(0);
    }
    Some(text.parse::<u32>().unwrap_or(u32::MAX))
}

/// The query string as a map, as Grape reads it: a repeated name keeps its
/// last value and an empty value counts as not sent.
fn query_map(query: &str) -> HashMap<String, String> {
    form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .filter(|(_, value)| !value.is_empty())
        .collect()
}

/// Reads GitLab's list parameters; a value outside its set is a 400 with
/// Grape's wording.
fn list_filter(params: &HashMap<String, String>) -> Result<ListFilter, ApiError> {
    let text = |name: &str| params.get(name).cloned();
    let (page, per_page) = paging(params)?;
    Ok(ListFilter {
        scope: choice(params, "scope", SCOPES)?,
        status: choice(params, "status", &statuses())?,
        git_ref: text("ref"),
        sha: text("sha"),
        source: choice(params, "source", SOURCES)?.map(str::to_owned),
        username: text("username"),
        name: text("name"),
        yaml_errors: choice(params, "yaml_errors", BOOLEANS)?,
        updated_before: instant(params, "updated_before")?,
        updated_after: instant(params, "updated_after")?,
        created_before: instant(params, "created_before")?,
        created_after: instant(params, "created_after")?,
        order_by: choice(params, "order_by", ORDERS)?.unwrap_or_default(),
        ascending: choice(params, "sort", &[("asc", true), ("desc", false)])?.unwrap_or(false),
        page,
        per_page,
    })
}

const SCOPES: &[(&str, Scope)] = &[
    ("running", Scope::Running),
    ("pending", Scope::Pending),
    ("finished", Scope::Finished),
    ("branches", Scope::Branches),
    ("tags", Scope::Tags),
];

const ORDERS: &[(&str, OrderBy)] = &[
    ("id", OrderBy::Id),
    ("status", OrderBy::Status),
    ("ref", OrderBy::Ref),
    ("updated_at", OrderBy::UpdatedAt),
    ("user_id", OrderBy::UserId),
];

/// Every pipeline source GitLab knows, each standing for itself.
const SOURCES: &[(&str, &str)] = &[
    ("push", "push"),
    ("web", "web"),
    ("trigger", "trigger"),
    ("schedule", "schedule"),
    ("api", "api"),
    ("external", "external"),
    ("pipeline", "pipeline"),
    ("chat", "chat"),
    ("webide", "webide"),
    ("merge_request_event", "merge_request_event"),
    ("external_pull_request_event", "external_pull_request_event"),
    ("parent_pipeline", "parent_pipeline"),
    ("ondemand_dast_scan", "ondemand_dast_scan"),
    ("ondemand_dast_validation", "ondemand_dast_validation"),
    (
        "security_orchestration_policy",
        "security_orchestration_policy",
    ),
    ("container_registry_push", "container_registry_push"),
    ("duo_workflow", "duo_workflow"),
    (
        "pipeline_execution_policy_schedule",
        "pipeline_execution_policy_schedule",
    ),
    ("unknown", "unknown"),
];

fn statuses() -> Vec<(&'static str, PipelineStatus)> {
    PipelineStatus::ALL
        .iter()
        .map(|status| (status.as_str(), *status))
        .collect()
}

/// One of a fixed set of values, or `does not have a valid value`.
fn choice<T: Copy>(
    params: &HashMap<String, String>,
    name: &str,
    allowed: &[(&str, T)],
) -> Result<Option<T>, ApiError> {
    let Some(given) = params.get(name) else {
        return Ok(None);
    };
    allowed
        .iter()
        .find(|(text, _)| text == given)
        .map(|(_, value)| Some(*value))
        .ok_or_else(|| ApiError::BadRequest(format!("{name} does not have a valid value")))
}

/// An ISO 8601 instant, or a date or date-time taken as UTC.
fn instant(params: &HashMap<String, String>, name: &str) -> Result<Option<Timestamp>, ApiError> {
    let Some(text) = params.get(name) else {
        return Ok(None);
    };
    let parsed = text.parse::<Timestamp>().ok().or_else(|| {
        let civil = text.parse::<jiff::civil::DateTime>().ok()?;
        jiff::tz::TimeZone::UTC.to_timestamp(civil).ok()
    });
    parsed
        .map(Some)
        .ok_or_else(|| ApiError::BadRequest(format!("{name} is invalid")))
}

/// `page` (from 1) and `per_page` (1 to 100, larger asks cut to 100).
fn paging(params: &HashMap<String, String>) -> Result<(u32, u32), ApiError> {
    let number = |name: &str, default: u32| -> Result<u32, ApiError> {
        match params.get(name) {
            None => Ok(default),
            Some(text) => {
                whole_number(text).ok_or_else(|| ApiError::BadRequest(format!("{name} is invalid")))
            }
        }
    };
    let page = number("page", 1)?.max(1);
    let per_page = match number("per_page", DEFAULT_PER_PAGE)? {
        0 => DEFAULT_PER_PAGE,
        n => n.min(MAX_PER_PAGE),
    };
    Ok((page, per_page))
}
