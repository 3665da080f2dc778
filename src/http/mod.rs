//! The HTTP surface: warp routes over the [`Mock`].
//!
//! [`routes`] joins the GitLab-shaped routes (served both bare and under
//! `/api/v4`, because real clients always add that prefix) with the
//! `/_mock` control routes, then renders every rejection once, at the very
//! outside, as a JSON error.
//!
//! Each route is built in the same order: path, method, authentication,
//! body, shared state, handler. Putting the path first keeps a wrong URL a
//! 404 and a wrong method a 405, whatever the headers say.

mod auth;
mod bodies;
mod control;
mod error;
mod filters;
mod gitlab;
mod handlers;
mod pagination;
mod params;
mod rendered;
pub(crate) mod views;

use std::sync::Arc;

use warp::Filter;
use warp::filters::BoxedFilter;
use warp::reply::{Reply, Response};

use crate::mock::Mock;
use crate::namespaces::Directory;

pub use error::ApiError;
pub use filters::MAX_BODY_BYTES;

/// What the routes need besides the mock.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The token every authenticated route expects.
    pub token: Arc<str>,
    /// Whether `POST /_mock/reset` may run.
    pub allow_reset: bool,
    /// The base URL used in links when a request has no `Host` header.
    pub public_url: Arc<str>,
    /// Tokens of a user who is a member of no project.
    pub non_member_tokens: Arc<[String]>,
    /// Answer reads without credentials as GitLab does for a private
    /// project (404) instead of with the seed's 401.
    pub private_projects: bool,
    /// The namespace's prefix (`/ns/name`), empty at the root; links the
    /// mock prints carry it so a client following them stays inside.
    pub base_path: Arc<str>,
    /// The named namespaces, for the root's `/_mock/namespaces` routes;
    /// `None` inside a named namespace, which cannot manage the others.
    pub namespaces: Option<Arc<Directory>>,
}

impl Settings {
    /// Settings with the given token and otherwise the defaults.
    pub fn new(token: &str, public_url: &str) -> Self {
        Self {
            token: Arc::from(token),
            allow_reset: false,
            public_url: Arc::from(public_url),
            non_member_tokens: Arc::from(Vec::new()),
            private_projects: false,
            base_path: Arc::from(""),
            namespaces: None,
        }
    }
}

/// Every route of the mock, ready to serve.
pub fn routes(mock: Mock, settings: Settings) -> BoxedFilter<(Response,)> {
    let gitlab = filters::under(&["projects", "user"])
        .and(gitlab::routes(&mock, &settings))
        .boxed();
    let api_v4 = warp::path!("api" / "v4" / ..).and(gitlab.clone());
    let control = filters::under(&["_mock"]).and(control::routes(&mock, &settings));

    // The paths are disjoint, so the order only decides how soon a request
    // finds its route: polls, the bulk of the traffic, are tried first, and
    // each tree is skipped at a glance when the path is not its own.
    gitlab
        .or(api_v4)
        .unify()
        .or(control)
        .unify()
        .recover(error::recover)
        .unify()
        .with(warp::log::custom(log_request))
        .map(Reply::into_response)
        .boxed()
}

/// One line per request: debug when it went well, warn for a client's
/// mistake, error for the mock's own.
fn log_request(info: warp::log::Info<'_>) {
    let (method, path, status) = (info.method(), info.path(), info.status().as_u16());
    let elapsed_us = info.elapsed().as_micros() as u64;
    match status {
        500.. => tracing::error!(%method, path, status, elapsed_us, "request failed"),
        400.. => tracing::warn!(%method, path, status, elapsed_us, "request refused"),
        _ => tracing::debug!(%method, path, status, elapsed_us, "request served"),
    }
}
