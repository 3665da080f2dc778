//! The rest of `/_mock`: stored pipelines, rules, projects, reset and
//! health.

use std::sync::Arc;

use bytes::Bytes;
use serde::Deserialize;
use serde_json::json as json_value;
use warp::http::StatusCode;
use warp::reply::Response;

use crate::http::bodies::{self, NewProject, NewRule};
use crate::http::error::ApiError;
use crate::http::views::{Entity, ProjectRecordView, RuleView};
use crate::mock::Mock;
use crate::store::PipelineQuery;

use super::{id_param, json, json_with_status, no_content, pipelines_json};

/// The most pipelines one page of `/_mock/pipelines` holds. Each carries
/// its variables, up to a mebibyte apiece, so pages stay small.
pub const MAX_PER_PAGE: u32 = 100;
const DEFAULT_PER_PAGE: u32 = 100;

/// Query parameters of `GET /_mock/pipelines`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    project_id: Option<i64>,
    page: Option<u32>,
    per_page: Option<u32>,
}

/// `GET /_mock/pipelines?project_id=&page=&per_page=`
pub async fn list_pipelines(
    query: String,
    base_url: Arc<str>,
    mock: Mock,
) -> Result<Response, ApiError> {
    let query = pipeline_query(&query)?;
    let page = mock.pipelines(&query)?;

    let mut reply = pipelines_json(&page.items, &base_url, Entity::Full);
    // Past ten thousand matches the count is unknown, as on GitLab's lists.
    if let Some(total) = page.total {
        reply.headers_mut().insert("x-total", total.into());
    }
    Ok(reply)
}

fn pipeline_query(raw: &str) -> Result<PipelineQuery, ApiError> {
    let query: ListQuery = serde_qs::from_str(raw)
        .map_err(|error| ApiError::BadRequest(format!("query string is invalid: {error}")))?;
    let per_page = query.per_page.unwrap_or(DEFAULT_PER_PAGE);
    if !(1..=MAX_PER_PAGE).contains(&per_page) {
        return Err(ApiError::BadRequest(format!(
            "per_page must be between 1 and {MAX_PER_PAGE}"
        )));
    }
    Ok(PipelineQuery {
        project_id: query.project_id,
        page: query.page.unwrap_or(1).max(1),
        per_page,
    })
}

/// `DELETE /_mock/pipelines/:pipeline_id`
pub async fn delete_pipeline(id: String, mock: Mock) -> Result<Response, ApiError> {
    let pipeline_id = id_param(&id, "pipeline_id")?;
    mock.delete_pipeline(pipeline_id)?;
    Ok(no_content())
}

/// `GET /_mock/rules`
pub async fn list_rules(mock: Mock) -> Result<Response, ApiError> {
    let rules = mock.rules()?;
    let views: Vec<RuleView<'_>> = rules.iter().map(RuleView::from).collect();
    Ok(json(&views))
}

/// `POST /_mock/rules`
pub async fn create_rule(body: Bytes, mock: Mock) -> Result<Response, ApiError> {
    let new: NewRule = bodies::parse(&body)?;
    let rule = mock.create_rule(new.matching(), new.scenario_id, new.times)?;
    Ok(json_with_status(
        &RuleView::from(&rule),
        StatusCode::CREATED,
    ))
}

/// `DELETE /_mock/rules/:rule_id`
pub async fn delete_rule(id: String, mock: Mock) -> Result<Response, ApiError> {
    mock.delete_rule(id_param(&id, "rule_id")?)?;
    Ok(no_content())
}

/// `GET /_mock/projects`
pub async fn list_projects(mock: Mock) -> Result<Response, ApiError> {
    let projects = mock.projects()?;
    let views: Vec<ProjectRecordView<'_>> = projects.iter().map(ProjectRecordView::from).collect();
    Ok(json(&views))
}

/// `POST /_mock/projects`: register a project's id and path.
pub async fn put_project(body: Bytes, mock: Mock) -> Result<Response, ApiError> {
    let new: NewProject = bodies::parse(&body)?;
    let project = mock.put_project(new.into())?;
    Ok(json_with_status(
        &ProjectRecordView::from(&project),
        StatusCode::CREATED,
    ))
}

/// `POST /_mock/reset`, refused unless the mock was started with
/// `--allow-reset`, because it destroys every custom scenario.
pub async fn reset(body: Bytes, allowed: bool, mock: Mock) -> Result<Response, ApiError> {
    bodies::parse::<bodies::Empty>(&body)?;
    if !allowed {
        return Err(ApiError::Forbidden(
            "403 Forbidden - reset is disabled; start with --allow-reset or MOCK_ALLOW_RESET=1"
                .into(),
        ));
    }
    mock.reset().await?;
    Ok(json(&json_value!({ "status": "reset" })))
}

/// `GET /_mock/health`, the one route without authentication.
pub async fn health() -> Result<Response, ApiError> {
    Ok(json(&json_value!({ "status": "ok" })))
}
