//! The GitLab-shaped pipeline endpoints: trigger and get.

use std::sync::Arc;

use bytes::Bytes;
use warp::http::StatusCode;
use warp::reply::Response;

use crate::http::error::ApiError;
use crate::http::trigger_params;
use crate::http::views::PipelineView;
use crate::mock::Mock;

use super::{id_param, json, json_with_status};

/// `POST /projects/:id/trigger/pipeline`
pub async fn trigger(
    project: String,
    content_type: Option<String>,
    body: Bytes,
    base_url: Arc<str>,
    mock: Mock,
) -> Result<Response, ApiError> {
    let project_id = project_param(&project)?;
    let request = trigger_params::decode(content_type.as_deref(), body).await?;

    let observed = mock.trigger(project_id, request)?;
    Ok(json_with_status(
        &PipelineView::new(&observed, &base_url),
        StatusCode::CREATED,
    ))
}

/// `GET /projects/:id/pipelines/:pipeline_id`
pub async fn get(
    project: String,
    pipeline: String,
    base_url: Arc<str>,
    mock: Mock,
) -> Result<Response, ApiError> {
    let project_id = project_param(&project)?;
    let pipeline_id = id_param(&pipeline, "pipeline_id")?;

    let observed = mock.pipeline(project_id, pipeline_id)?;
    Ok(json(&PipelineView::new(&observed, &base_url)))
}

/// A numeric project id; anything else names no project the mock knows.
fn project_param(segment: &str) -> Result<i64, ApiError> {
    segment
        .parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or(ApiError::NotFound("404 Project Not Found"))
}
