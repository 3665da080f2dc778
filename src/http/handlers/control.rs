//! The rest of `/_mock`: stored pipelines, reset and health.

use std::sync::Arc;

use serde::Deserialize;
use serde_json::json as json_value;
use warp::reply::{Reply, Response};

use crate::http::error::ApiError;
use crate::http::views::PipelineView;
use crate::mock::Mock;
use crate::store::PipelineQuery;

use super::{id_param, json, no_content};

/// The most pipelines one page of `/_mock/pipelines` holds.
pub const MAX_PER_PAGE: u32 = 1000;
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

    let views: Vec<PipelineView<'_>> = page
        .items
        .iter()
        .map(|observed| PipelineView::new(observed, &base_url))
        .collect();
    let reply = warp::reply::with_header(warp::reply::json(&views), "x-total", page.total);
    Ok(reply.into_response())
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

/// `POST /_mock/reset`, refused unless the mock was started with
/// `--allow-reset`, because it destroys every custom scenario.
pub async fn reset(allowed: bool, mock: Mock) -> Result<Response, ApiError> {
    if !allowed {
        return Err(ApiError::Forbidden(
            "reset is disabled; start with --allow-reset or MOCK_ALLOW_RESET=1".into(),
        ));
    }
    mock.reset()?;
    Ok(json(&json_value!({ "status": "reset" })))
}

/// `GET /_mock/health`, the one route without authentication.
pub async fn health() -> Result<Response, ApiError> {
    Ok(json(&json_value!({ "status": "ok" })))
}
