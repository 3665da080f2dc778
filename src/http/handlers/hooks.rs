//! GitLab's project hooks API, and the mock's log of what was sent to
//! the hooks.

use bytes::Bytes;
use serde::Deserialize;
use warp::http::StatusCode;
use warp::reply::Response;

use crate::http::error::ApiError;
use crate::http::params::{read_hook, request_fields};
use crate::http::views::{DeliveryView, HookView};
use crate::mock::{Mock, ProjectRef};
use crate::model::HookChanges;

use super::{id_param, json, json_with_status, no_content, project_param};

const NO_PROJECT: &str = "404 Project Not Found";

/// `GET /projects/:id/hooks`
pub async fn list(project: String, mock: Mock) -> Result<Response, ApiError> {
    let reference = project_param(&project, NO_PROJECT)?;
    let hooks = mock.hooks(&reference)?;
    let views: Vec<_> = hooks.iter().map(HookView::render).collect();
    Ok(json(&views))
}

/// `GET /projects/:id/hooks/:hook_id`
pub async fn get(project: String, hook: String, mock: Mock) -> Result<Response, ApiError> {
    let reference = project_param(&project, NO_PROJECT)?;
    let hook = mock.hook(&reference, id_param(&hook, "hook_id")?)?;
    Ok(json(&HookView::render(&hook)))
}

/// `POST /projects/:id/hooks` with `url` and GitLab's switches
pub async fn create(
    project: String,
    query: String,
    content_type: Option<String>,
    body: Bytes,
    mock: Mock,
) -> Result<Response, ApiError> {
    let (reference, changes) = hook_request(&project, &query, content_type, body, true).await?;
    let hook = mock.create_hook(&reference, changes)?;
    Ok(json_with_status(
        &HookView::render(&hook),
        StatusCode::CREATED,
    ))
}

/// `PUT /projects/:id/hooks/:hook_id` with any of the fields
pub async fn update(
    project: String,
    hook: String,
    query: String,
    content_type: Option<String>,
    body: Bytes,
    mock: Mock,
) -> Result<Response, ApiError> {
    let (reference, changes) = hook_request(&project, &query, content_type, body, false).await?;
    let id = id_param(&hook, "hook_id")?;

    let hook = mock.update_hook(&reference, id, changes)?;
    Ok(json(&HookView::render(&hook)))
}

/// The project and the fields of a create or update, checked in GitLab's
/// order: the fields first, then the project.
async fn hook_request(
    project: &str,
    query: &str,
    content_type: Option<String>,
    body: Bytes,
    creating: bool,
) -> Result<(ProjectRef, HookChanges), ApiError> {
    let fields = request_fields(query, content_type.as_deref(), body).await?;
    let changes = read_hook(&fields, creating)?;
    Ok((project_param(project, NO_PROJECT)?, changes))
}

/// `DELETE /projects/:id/hooks/:hook_id`
pub async fn delete(project: String, hook: String, mock: Mock) -> Result<Response, ApiError> {
    let reference = project_param(&project, NO_PROJECT)?;
    mock.delete_hook(&reference, id_param(&hook, "hook_id")?)?;
    Ok(no_content())
}

/// Query parameters of `GET /_mock/hooks/deliveries`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DeliveryQuery {
    hook_id: Option<i64>,
    pipeline_id: Option<i64>,
}

/// `GET /_mock/hooks/deliveries?hook_id=&pipeline_id=`
pub async fn deliveries(query: String, mock: Mock) -> Result<Response, ApiError> {
    let query: DeliveryQuery = serde_qs::from_str(&query)
        .map_err(|error| ApiError::BadRequest(format!("query string is invalid: {error}")))?;
    let records = mock.hook_deliveries(query.hook_id, query.pipeline_id);
    let views: Vec<DeliveryView<'_>> = records.iter().map(DeliveryView::from).collect();
    Ok(json(&views))
}
