//! Making pipelines: the trigger (both its forms) and create endpoints.

use std::sync::Arc;

use bytes::Bytes;
use warp::http::StatusCode;
use warp::reply::Response;

use crate::http::auth::Caller;
use crate::http::error::ApiError;
use crate::http::params::{self, request_fields};
use crate::http::views::Entity;
use crate::mock::Mock;

use super::{percent_decode, pipeline_json, project_param};

/// What a trigger request carried besides its body.
pub struct TriggerCall {
    pub project: String,
    /// The ref of the webhook form, `/ref/:ref/trigger/pipeline`.
    pub path_ref: Option<String>,
    pub query: String,
    /// The `X-Gitlab-Event` header.
    pub event: Option<String>,
    pub caller: Caller,
    pub content_type: Option<String>,
}

/// `POST /projects/:id/trigger/pipeline` and
/// `POST /projects/:id/ref/:ref/trigger/pipeline`.
///
/// The checks run in GitLab's order: parameters (400 `error`), the
/// pipeline-hook loop guard (403), variable values (400 `message`), the
/// project (404), the token (404 or, without trigger tokens, 401), then
/// the pipeline's creation.
pub async fn trigger(
    call: TriggerCall,
    body: Bytes,
    base_url: Arc<str>,
    mock: Mock,
) -> Result<Response, ApiError> {
    let mut fields = request_fields(&call.query, call.content_type.as_deref(), body).await?;
    if let Some(path_ref) = call.path_ref {
        fields.insert("ref".into(), path_ref.into());
    }
    params::validate_trigger(&fields)?;
    // GitLab compares the value exactly, so `pipeline hook` gets through.
    if call.event.as_deref() == Some("Pipeline Hook") {
        return Err(ApiError::Forbidden("403 Forbidden".into()));
    }
    let request = params::read_trigger(fields)?;
    let project = project_param(&call.project, "404 Not Found")?;

    let observed = mock
        .trigger(&project, request, call.caller == Caller::Member)
        .await?;
    Ok(pipeline_json(
        &observed,
        &base_url,
        Entity::Full,
        StatusCode::CREATED,
    ))
}

/// The ref in a webhook-form path: everything between `/ref/` and
/// `/trigger/pipeline`, decoded, so `feature%2Fx` and `feature/x` are both
/// `feature/x`.
pub fn ref_from_tail(tail: &str) -> Option<String> {
    let encoded = tail.strip_suffix("/trigger/pipeline")?;
    percent_decode(encoded).filter(|decoded| !decoded.is_empty())
}

/// `POST /projects/:id/pipeline`
pub async fn create(
    project: String,
    query: String,
    content_type: Option<String>,
    body: Bytes,
    base_url: Arc<str>,
    mock: Mock,
) -> Result<Response, ApiError> {
    let fields = request_fields(&query, content_type.as_deref(), body).await?;
    let request = params::read_create(&fields)?;
    let project = project_param(&project, "404 Project Not Found")?;

    let observed = mock.create_pipeline(&project, request).await?;
    Ok(pipeline_json(
        &observed,
        &base_url,
        Entity::Full,
        StatusCode::CREATED,
    ))
}
