//! Request handlers: plain async functions whose arguments are exactly what
//! their route extracts. Each one turns the request into a [`Mock`] call and
//! its result into a response; none of them touches SQL or reads the time.
//!
//! [`Mock`]: crate::mock::Mock

pub mod clock;
pub mod control;
pub mod hooks;
pub mod pipelines;
pub mod projects;
pub mod scenarios;
pub mod tooling;
pub mod trigger;

use std::sync::Arc;

use bytes::Bytes;
use serde::Serialize;
use warp::http::StatusCode;
use warp::reply::{Reply, Response};

use crate::mock::{ObservedPipeline, ProjectRef, Sighting};

use super::error::ApiError;
use super::rendered::RenderedPipelines;
use super::views::{Entity, write_pipeline};

/// Room for a pipeline's JSON (about 1.3 KB) in the buffer a body is
/// written into, so it is allocated once rather than grown by doubling from
/// empty, as `warp::reply::json`'s is; a listing's grows from there.
pub(super) const BODY_CAPACITY: usize = 2048;

/// `value` as JSON with `status`.
fn json_with_status(value: &impl Serialize, status: StatusCode) -> Response {
    let mut body = Vec::with_capacity(BODY_CAPACITY);
    if let Err(error) = serde_json::to_writer(&mut body, value) {
        tracing::error!(%error, "a response could not be encoded");
        return ApiError::Internal.into_response();
    }
    json_body(body, status)
}

/// One pipeline entity (see [`write_pipeline`]) answered with `status`,
/// noted for the journal.
fn pipeline_json(
    observed: &ObservedPipeline,
    base_url: &str,
    entity: Entity,
    status: StatusCode,
) -> Response {
    let mut body = Vec::with_capacity(BODY_CAPACITY);
    write_pipeline(&mut body, observed, base_url, entity);
    sighted(json_body(body, status), observed)
}

/// The single-pipeline entity a poll answers (`GET …/pipelines/:id` and
/// `…/latest`), written once for as long as it stays the same.
fn polled_json(
    observed: ObservedPipeline,
    base_url: &Arc<str>,
    rendered: &RenderedPipelines,
) -> Response {
    let sighting = sighting(&observed);
    let body = rendered.entity(observed, base_url, Entity::WithMetadata);
    let mut response = json_body(body, StatusCode::OK);
    response.extensions_mut().insert(sighting);
    response
}

/// A page of pipeline entities as one JSON array, answered with 200.
fn pipelines_json(page: &[ObservedPipeline], base_url: &str, entity: Entity) -> Response {
    let mut body = Vec::with_capacity(BODY_CAPACITY * page.len().clamp(1, 20));
    body.push(b'[');
    for (index, observed) in page.iter().enumerate() {
        if index > 0 {
            body.push(b',');
        }
        write_pipeline(&mut body, observed, base_url, entity);
    }
    body.push(b']');
    json_body(body, StatusCode::OK)
}

/// A JSON body already written, answered with `status`.
fn json_body(body: impl Into<Bytes>, status: StatusCode) -> Response {
    let mut response = Response::new(body.into().into());
    *response.status_mut() = status;
    response.headers_mut().insert(
        warp::http::header::CONTENT_TYPE,
        warp::http::HeaderValue::from_static("application/json"),
    );
    response
}

/// `value` as JSON with 200.
fn json(value: &impl Serialize) -> Response {
    json_with_status(value, StatusCode::OK)
}

/// `response`, noting for the journal which pipeline it showed and the
/// status the caller saw.
fn sighted(mut response: Response, observed: &ObservedPipeline) -> Response {
    response.extensions_mut().insert(sighting(observed));
    response
}

fn sighting(observed: &ObservedPipeline) -> Sighting {
    Sighting {
        project_id: Some(observed.project.id),
        pipeline_id: Some(observed.pipeline.id),
        pipeline_status: Some(observed.observation.status),
    }
}

/// An empty 204.
fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
}

/// A non-negative integer path segment, or 400 naming the parameter as
/// GitLab does (`pipeline_id is invalid`).
fn id_param(segment: &str, name: &str) -> Result<i64, ApiError> {
    segment
        .parse::<i64>()
        .ok()
        .filter(|id| *id >= 0)
        .ok_or_else(|| ApiError::BadRequest(format!("{name} is invalid")))
}

/// The project a `:id` segment names, percent-decoded (`group%2Fproject`),
/// or a 404 with `missing` as its text.
fn project_param(segment: &str, missing: &'static str) -> Result<ProjectRef, ApiError> {
    percent_decode(segment)
        .and_then(|decoded| ProjectRef::parse(&decoded))
        .ok_or(ApiError::NotFound(missing))
}

/// A path segment with its `%XX` escapes decoded; `None` when the result is
/// not UTF-8.
fn percent_decode(segment: &str) -> Option<String> {
    percent_encoding::percent_decode_str(segment)
        .decode_utf8()
        .ok()
        .map(|text| text.into_owned())
}
