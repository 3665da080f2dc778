//! Every error the API answers, and the one place they become responses.
//!
//! Bodies follow GitLab's shapes: `{"message": …}` for errors raised by an
//! endpoint (a string, or `{"base": […]}` when a pipeline cannot be
//! created), `{"error": …}` for a request that fails parameter validation
//! or matches no route. All are sent as `application/json`. Only a fault of
//! the mock itself is a 5xx.

use std::convert::Infallible;

use serde_json::json;
use warp::Rejection;
use warp::http::StatusCode;
use warp::reject::Reject;
use warp::reply::{Reply, Response};

use crate::mock::{Missing, MockError};

/// An error as the API answers it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    #[error("401 Unauthorized")]
    Unauthorized,
    /// A 403 with its whole message, e.g. `403 Forbidden`.
    #[error("{0}")]
    Forbidden(String),
    /// A missing record, with GitLab's text for it (`404 Not found`).
    #[error("{0}")]
    NotFound(&'static str),
    #[error("404 Not Found")]
    NoRoute,
    #[error("405 Method Not Allowed")]
    MethodNotAllowed,
    /// A request that cannot be read or fails parameter validation.
    #[error("{0}")]
    BadRequest(String),
    /// Trigger variables that are not all strings.
    #[error("variables needs to be a map of key-valued strings")]
    InvalidVariables,
    /// GitLab could not create the pipeline; the text goes in
    /// `message.base`.
    #[error("{0}")]
    Refused(&'static str),
    #[error("{0}")]
    Conflict(String),
    #[error("413 Request Entity Too Large")]
    PayloadTooLarge,
    #[error("415 Unsupported Media Type - {0}")]
    UnsupportedMediaType(String),
    /// A well-formed request whose mock-only values are not acceptable.
    #[error("{0}")]
    Unprocessable(String),
    #[error("500 Internal Server Error")]
    Internal,
}

impl Reject for ApiError {}

impl ApiError {
    /// The HTTP status for this error.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) | Self::NoRoute => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::BadRequest(_) | Self::InvalidVariables | Self::Refused(_) => {
                StatusCode::BAD_REQUEST
            }
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// GitLab puts routing and parameter errors under `error` and
    /// everything else under `message`.
    fn body(&self) -> serde_json::Value {
        let text = self.to_string();
        match self {
            Self::NoRoute | Self::MethodNotAllowed | Self::BadRequest(_) => {
                json!({ "error": text })
            }
            Self::Refused(reason) => json!({ "message": { "base": [reason] } }),
            _ => json!({ "message": text }),
        }
    }
}

impl Reply for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        warp::reply::with_status(warp::reply::json(&self.body()), status).into_response()
    }
}

impl From<MockError> for ApiError {
    fn from(error: MockError) -> Self {
        match error {
            MockError::NotFound(Missing::Pipeline) => Self::NotFound("404 Not found"),
            MockError::NotFound(Missing::Scenario) => Self::NotFound("404 Scenario Not Found"),
            MockError::NotFound(Missing::Rule) => Self::NotFound("404 Rule Not Found"),
            MockError::NotFound(Missing::TriggerToken) => Self::NotFound("404 Trigger Not Found"),
            MockError::TriggerDenied => Self::NotFound("404 Not Found"),
            MockError::Unauthorized => Self::Unauthorized,
            MockError::NotFound(Missing::Hook) => Self::NotFound("404 Project Hook Not Found"),
            MockError::InvalidHookUrl => Self::Unprocessable(error.to_string()),
            MockError::NoLatest => Self::Forbidden("403 Forbidden".into()),
            MockError::Refused(rejection) => Self::Refused(rejection.message()),
            MockError::Conflict(message) => Self::Conflict(message),
            MockError::Invalid(message) => Self::Unprocessable(message),
            MockError::Clock(error) => Self::Unprocessable(error.to_string()),
            MockError::Store(error) => {
                tracing::error!(%error, "store failed");
                Self::Internal
            }
        }
    }
}

/// Turns a handler's result into the response sent.
pub fn respond(result: Result<Response, ApiError>) -> Response {
    result.unwrap_or_else(Reply::into_response)
}

/// Renders whatever rejection reached the outside of the routes. Installed
/// once, at the very outside, so every route's errors share one shape.
pub async fn recover(rejection: Rejection) -> Result<Response, Infallible> {
    Ok(api_error_for(&rejection).into_response())
}

fn api_error_for(rejection: &Rejection) -> ApiError {
    if rejection.is_not_found() {
        return ApiError::NoRoute;
    }
    if let Some(error) = rejection.find::<ApiError>() {
        return error.clone();
    }
    // Routes read headers only once their path and method matched, so an
    // unreadable header outranks the 405 of another route on the same path
    // (`GET` beside `DELETE /projects/:id/pipelines/:id`).
    if let Some(header) = rejection.find::<warp::reject::InvalidHeader>() {
        return ApiError::BadRequest(format!("{} header is invalid", header.name()));
    }
    if rejection.find::<warp::reject::InvalidQuery>().is_some() {
        return ApiError::BadRequest("query string is invalid".into());
    }
    if rejection.find::<warp::reject::MethodNotAllowed>().is_some() {
        return ApiError::MethodNotAllowed;
    }
    tracing::error!(?rejection, "unhandled rejection");
    ApiError::Internal
}
