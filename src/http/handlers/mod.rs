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
pub mod trigger;

use serde::Serialize;
use warp::http::StatusCode;
use warp::reply::{Reply, Response};

use crate::mock::ProjectRef;

use super::error::ApiError;

/// `value` as JSON with `status`.
fn json_with_status(value: &impl Serialize, status: StatusCode) -> Response {
    warp::reply::with_status(warp::reply::json(value), status).into_response()
}

/// `value` as JSON with 200.
fn json(value: &impl Serialize) -> Response {
    warp::reply::json(value).into_response()
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
