//! `/_mock/requests`, `/_mock/faults` and `/_mock/namespaces`: what a test
//! reads back about the requests it caused, the failures it scripts, and
//! the isolated namespaces it made.

use std::sync::Arc;

use bytes::Bytes;
use jiff::Timestamp;
use serde::Deserialize;
use warp::http::StatusCode;
use warp::reply::Response;

use crate::http::bodies::{self, NewFault};
use crate::http::error::ApiError;
use crate::http::views::{FaultView, JournalEntryView, NamespaceView};
use crate::mock::{JournalFilter, Mock};
use crate::namespaces::{Directory, NamespaceError};

use super::{id_param, json, json_with_status, no_content};

/// Query parameters of `GET /_mock/requests`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct JournalQuery {
    pipeline_id: Option<i64>,
    project_id: Option<i64>,
    method: Option<String>,
    since: Option<Timestamp>,
}

/// `GET /_mock/requests?pipeline_id=&project_id=&method=&since=`
pub async fn requests(query: String, mock: Mock) -> Result<Response, ApiError> {
    let query: JournalQuery = serde_qs::from_str(&query)
        .map_err(|error| ApiError::BadRequest(format!("query string is invalid: {error}")))?;
    let filter = JournalFilter {
        pipeline_id: query.pipeline_id,
        project_id: query.project_id,
        method: query.method,
        since: query.since,
    };

    let entries = mock.journal().entries(&filter);
    let views: Vec<JournalEntryView<'_>> = entries.iter().map(JournalEntryView::from).collect();
    Ok(json(&views))
}

/// `POST /_mock/faults`
pub async fn create_fault(body: Bytes, mock: Mock) -> Result<Response, ApiError> {
    let spec = bodies::parse::<NewFault>(&body)?.into_spec()?;
    let fault = mock.faults().add(spec)?;
    Ok(json_with_status(
        &FaultView::from(&fault),
        StatusCode::CREATED,
    ))
}

/// `GET /_mock/faults`
pub async fn list_faults(mock: Mock) -> Result<Response, ApiError> {
    let faults = mock.faults().list();
    let views: Vec<FaultView<'_>> = faults.iter().map(FaultView::from).collect();
    Ok(json(&views))
}

/// `DELETE /_mock/faults`: disarms them all.
pub async fn clear_faults(mock: Mock) -> Result<Response, ApiError> {
    mock.faults().clear();
    Ok(no_content())
}

/// `DELETE /_mock/faults/:fault_id`
pub async fn delete_fault(fault: String, mock: Mock) -> Result<Response, ApiError> {
    let id = id_param(&fault, "fault_id")?;
    match mock.faults().remove(id as u64) {
        true => Ok(no_content()),
        false => Err(ApiError::NotFound("404 Fault Not Found")),
    }
}

/// `GET /_mock/namespaces`
pub async fn list_namespaces(directory: Arc<Directory>) -> Result<Response, ApiError> {
    let names = directory.names().map_err(namespace_error)?;
    let views: Vec<NamespaceView> = names.into_iter().map(NamespaceView::new).collect();
    Ok(json(&views))
}

/// `DELETE /_mock/namespaces/:name`
pub async fn delete_namespace(
    name: String,
    directory: Arc<Directory>,
) -> Result<Response, ApiError> {
    directory.delete(&name).map_err(namespace_error)?;
    Ok(no_content())
}

fn namespace_error(error: NamespaceError) -> ApiError {
    match error {
        NamespaceError::NotFound(_) | NamespaceError::InvalidName(_) => {
            ApiError::NotFound("404 Namespace Not Found")
        }
        NamespaceError::Opening(_) => ApiError::Conflict(error.to_string()),
        NamespaceError::TooMany(_)
        | NamespaceError::Unavailable(_)
        | NamespaceError::Store(_)
        | NamespaceError::Files(_) => {
            tracing::error!(%error, "namespace files");
            ApiError::Internal
        }
    }
}
