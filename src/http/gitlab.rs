//! Routes that mimic GitLab API v4's pipeline endpoints.

use warp::Filter;
use warp::filters::BoxedFilter;
use warp::reply::Response;

use crate::mock::Mock;

use super::Settings;
use super::error::respond;
use super::filters::{authenticated, base_url, body, content_type, with};
use super::handlers::pipelines;

/// The GitLab-shaped routes, without the `/api/v4` prefix.
pub fn routes(mock: &Mock, settings: &Settings) -> BoxedFilter<(Response,)> {
    trigger(mock, settings)
        .or(get_pipeline(mock, settings))
        .unify()
        .boxed()
}

/// POST /projects/:id/trigger/pipeline
fn trigger(mock: &Mock, settings: &Settings) -> BoxedFilter<(Response,)> {
    warp::path!("projects" / String / "trigger" / "pipeline")
        .and(warp::post())
        .and(authenticated(settings.token.clone()))
        .and(content_type())
        .and(body())
        .and(base_url(settings.public_url.clone()))
        .and(with(mock.clone()))
        .then(pipelines::trigger)
        .map(respond)
        .boxed()
}

/// GET /projects/:id/pipelines/:pipeline_id
fn get_pipeline(mock: &Mock, settings: &Settings) -> BoxedFilter<(Response,)> {
    warp::path!("projects" / String / "pipelines" / String)
        .and(warp::get())
        .and(authenticated(settings.token.clone()))
        .and(base_url(settings.public_url.clone()))
        .and(with(mock.clone()))
        .then(pipelines::get)
        .map(respond)
        .boxed()
}
