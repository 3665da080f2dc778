//! GitLab's project, user and trigger-token endpoints.

use std::sync::Arc;

use bytes::Bytes;
use serde_json::Value;
use warp::http::StatusCode;
use warp::reply::Response;

use crate::http::auth::Caller;
use crate::http::error::ApiError;
use crate::http::params::request_fields;
use crate::http::views::{ProjectView, PublicUserView, TriggerTokenView, UserView};
use crate::mock::Mock;

use super::{id_param, json, json_with_status, no_content, project_param};

/// `GET /projects/:id`
pub async fn project(
    project: String,
    base_url: Arc<str>,
    mock: Mock,
) -> Result<Response, ApiError> {
    let reference = project_param(&project, "404 Project Not Found")?;
    let project = mock.project(&reference)?;
    Ok(json(&ProjectView::render(&project, &base_url)))
}

/// `GET /user`: the member for the mock's token, an outsider for a
/// non-member token.
pub async fn user(caller: Caller, base_url: Arc<str>) -> Result<Response, ApiError> {
    let user = match caller {
        Caller::Member => UserView::mock(&base_url),
        Caller::NonMember => UserView::outsider(&base_url),
        Caller::Stranger | Caller::Anonymous => return Err(ApiError::Unauthorized),
    };
    Ok(json(&PublicUserView::render(&user)))
}

/// `GET /projects/:id/triggers`
pub async fn list_triggers(
    project: String,
    base_url: Arc<str>,
    mock: Mock,
) -> Result<Response, ApiError> {
    let reference = project_param(&project, "404 Project Not Found")?;
    let (_, tokens) = mock.trigger_tokens(&reference)?;
    let views: Vec<TriggerTokenView<'_>> = tokens
        .iter()
        .map(|token| TriggerTokenView::new(token, &base_url))
        .collect();
    Ok(json(&views))
}

/// `POST /projects/:id/triggers` with `description`
pub async fn create_trigger(
    project: String,
    query: String,
    content_type: Option<String>,
    body: Bytes,
    base_url: Arc<str>,
    mock: Mock,
) -> Result<Response, ApiError> {
    let fields = request_fields(&query, content_type.as_deref(), body).await?;
    let description = match fields.get("description") {
        Some(Value::String(text)) => text.clone(),
        Some(Value::Number(number)) => number.to_string(),
        None | Some(Value::Null) => {
            return Err(ApiError::BadRequest("description is missing".into()));
        }
        Some(_) => return Err(ApiError::BadRequest("description is invalid".into())),
    };
    let reference = project_param(&project, "404 Project Not Found")?;

    let token = mock.create_trigger_token(&reference, &description)?;
    Ok(json_with_status(
        &TriggerTokenView::new(&token, &base_url),
        StatusCode::CREATED,
    ))
}

/// `DELETE /projects/:id/triggers/:trigger_id`
pub async fn delete_trigger(
    project: String,
    trigger: String,
    mock: Mock,
) -> Result<Response, ApiError> {
    let reference = project_param(&project, "404 Project Not Found")?;
    let id = id_param(&trigger, "trigger_id")?;
    mock.delete_trigger_token(&reference, id)?;
    Ok(no_content())
}
