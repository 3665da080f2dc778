//! Routes that mimic GitLab API v4: triggers, pipelines, projects, the
//! user, trigger tokens and project hooks.

use std::sync::Arc;

use warp::filters::BoxedFilter;
use warp::reply::Response;
use warp::{Filter, Rejection};

use crate::mock::Mock;

use super::Settings;
use super::auth::{caller, project_member};
use super::error::respond;
use super::filters::{base_url, body, content_type, drained, raw_query, segment_in, with};
use super::handlers::trigger::{TriggerCall, ref_from_tail};
use super::handlers::{hooks, pipelines, projects, trigger};
use super::rendered::RenderedPipelines;

/// The GitLab-shaped routes, without the `/api/v4` prefix. The two trees
/// in front, polls and triggers, each let through only paths with their
/// third segment, so the bulk of the traffic skips the routes it cannot
/// match with one look instead of a failed match (and a parsed project
/// id) per route.
pub fn routes(mock: &Mock, settings: &Settings) -> BoxedFilter<(Response,)> {
    let reads = segment_in(2, &["pipelines"]).and(pipeline_reads(mock, settings));
    let triggers = segment_in(2, &["trigger", "ref"]).and(triggers(mock, settings));
    reads
        .or(triggers)
        .unify()
        .or(pipeline_writes(mock, settings))
        .unify()
        .or(project_routes(mock, settings))
        .unify()
        .or(hook_routes(mock, settings))
        .unify()
        .boxed()
}

fn triggers(mock: &Mock, settings: &Settings) -> BoxedFilter<(Response,)> {
    let base = base_url(settings);

    // POST /projects/:id/trigger/pipeline
    let plain = warp::path!("projects" / String / "trigger" / "pipeline")
        .and(warp::post())
        .map(|project| (project, None));
    // POST /projects/:id/ref/:ref/trigger/pipeline (the ref may hold slashes)
    let webhook = warp::path!("projects" / String / "ref" / ..)
        .and(warp::path::tail())
        .and(warp::post())
        .and_then(|project: String, tail: warp::path::Tail| async move {
            let git_ref = ref_from_tail(tail.as_str()).ok_or_else(warp::reject::not_found)?;
            Ok::<_, Rejection>((project, Some(git_ref)))
        });

    plain
        .or(webhook)
        .unify()
        .and(raw_query())
        .and(warp::header::optional::<String>("x-gitlab-event"))
        .and(caller(settings))
        .and(content_type())
        .map(
            |(project, path_ref), query, event, caller, content_type| TriggerCall {
                project,
                path_ref,
                query,
                event,
                caller,
                content_type,
            },
        )
        .and(body())
        .and(base)
        .and(with(mock.clone()))
        .then(trigger::trigger)
        .map(respond)
        .boxed()
}

fn pipeline_reads(mock: &Mock, settings: &Settings) -> BoxedFilter<(Response,)> {
    let member = project_member(settings);
    let base = base_url(settings);
    let rendered = Arc::new(RenderedPipelines::default());
    let one = || warp::path!("projects" / String / "pipelines" / String);

    // GET /projects/:id/pipelines
    let list = warp::path!("projects" / String / "pipelines")
        .and(warp::get())
        .and(member.clone())
        .and(warp::path::full())
        .and(raw_query())
        .and(base.clone())
        .and(with(mock.clone()))
        .then(pipelines::list);
    // GET /projects/:id/pipelines/latest
    let latest = warp::path!("projects" / String / "pipelines" / "latest")
        .and(warp::get())
        .and(member.clone())
        .and(raw_query())
        .and(base.clone())
        .and(with(mock.clone()))
        .and(with(Arc::clone(&rendered)))
        .then(pipelines::latest);
    // GET /projects/:id/pipelines/:pipeline_id
    let get = one()
        .and(warp::get())
        .and(member.clone())
        .and(base.clone())
        .and(with(mock.clone()))
        .and(with(rendered))
        .then(pipelines::get);
    // GET /projects/:id/pipelines/:pipeline_id/variables
    let variables = warp::path!("projects" / String / "pipelines" / String / "variables")
        .and(warp::get())
        .and(member.clone())
        .and(with(mock.clone()))
        .then(pipelines::variables);
    // GET /projects/:id/pipelines/:pipeline_id/jobs
    let jobs = warp::path!("projects" / String / "pipelines" / String / "jobs")
        .and(warp::get())
        .and(member)
        .and(warp::path::full())
        .and(raw_query())
        .and(base)
        .and(with(mock.clone()))
        .then(pipelines::jobs);

    // `latest` before `get`, which would take "latest" for a pipeline id.
    latest
        .or(get)
        .unify()
        .or(list)
        .unify()
        .or(variables)
        .unify()
        .or(jobs)
        .unify()
        .map(respond)
        .boxed()
}

fn pipeline_writes(mock: &Mock, settings: &Settings) -> BoxedFilter<(Response,)> {
    let member = project_member(settings);
    let base = base_url(settings);

    // POST /projects/:id/pipeline
    let create = warp::path!("projects" / String / "pipeline")
        .and(warp::post())
        .and(member.clone())
        .and(raw_query())
        .and(content_type())
        .and(body())
        .and(base.clone())
        .and(with(mock.clone()))
        .then(trigger::create);
    // POST /projects/:id/pipelines/:pipeline_id/cancel
    let cancel = warp::path!("projects" / String / "pipelines" / String / "cancel")
        .and(warp::post())
        .and(member.clone())
        .and(drained())
        .and(base.clone())
        .and(with(mock.clone()))
        .then(pipelines::cancel);
    // POST /projects/:id/pipelines/:pipeline_id/retry
    let retry = warp::path!("projects" / String / "pipelines" / String / "retry")
        .and(warp::post())
        .and(member.clone())
        .and(drained())
        .and(base)
        .and(with(mock.clone()))
        .then(pipelines::retry);
    // DELETE /projects/:id/pipelines/:pipeline_id. `latest` there is the
    // path of `GET …/pipelines/latest`, which has no DELETE: a 405 naming
    // GET in `Allow`, where GitLab would find the id invalid (400).
    let delete = warp::path!("projects" / String / "pipelines" / String)
        .and_then(|project: String, pipeline: String| async move {
            match pipeline.as_str() {
                "latest" => Err(warp::reject::not_found()),
                _ => Ok((project, pipeline)),
            }
        })
        .untuple_one()
        .and(warp::delete())
        .and(member)
        .and(drained())
        .and(with(mock.clone()))
        .then(pipelines::delete);

    create
        .or(cancel)
        .unify()
        .or(retry)
        .unify()
        .or(delete)
        .unify()
        .map(respond)
        .boxed()
}

fn project_routes(mock: &Mock, settings: &Settings) -> BoxedFilter<(Response,)> {
    let member = project_member(settings);
    let base = base_url(settings);

    // GET /projects/:id
    let project = warp::path!("projects" / String)
        .and(warp::get())
        .and(member.clone())
        .and(base.clone())
        .and(with(mock.clone()))
        .then(projects::project);
    // GET /user
    let user = warp::path!("user")
        .and(warp::get())
        .and(caller(settings))
        .and(base.clone())
        .then(projects::user);
    // GET /projects/:id/triggers
    let list = warp::path!("projects" / String / "triggers")
        .and(warp::get())
        .and(member.clone())
        .and(base.clone())
        .and(with(mock.clone()))
        .then(projects::list_triggers);
    // POST /projects/:id/triggers
    let create = warp::path!("projects" / String / "triggers")
        .and(warp::post())
        .and(member.clone())
        .and(raw_query())
        .and(content_type())
        .and(body())
        .and(base)
        .and(with(mock.clone()))
        .then(projects::create_trigger);
    // DELETE /projects/:id/triggers/:trigger_id
    let delete = warp::path!("projects" / String / "triggers" / String)
        .and(warp::delete())
        .and(member)
        .and(drained())
        .and(with(mock.clone()))
        .then(projects::delete_trigger);

    project
        .or(user)
        .unify()
        .or(list)
        .unify()
        .or(create)
        .unify()
        .or(delete)
        .unify()
        .map(respond)
        .boxed()
}

fn hook_routes(mock: &Mock, settings: &Settings) -> BoxedFilter<(Response,)> {
    let member = project_member(settings);
    let all = || warp::path!("projects" / String / "hooks");
    let one = || warp::path!("projects" / String / "hooks" / String);

    // GET /projects/:id/hooks
    let list = all()
        .and(warp::get())
        .and(member.clone())
        .and(with(mock.clone()))
        .then(hooks::list);
    // POST /projects/:id/hooks
    let create = all()
        .and(warp::post())
        .and(member.clone())
        .and(raw_query())
        .and(content_type())
        .and(body())
        .and(with(mock.clone()))
        .then(hooks::create);
    // GET /projects/:id/hooks/:hook_id
    let get = one()
        .and(warp::get())
        .and(member.clone())
        .and(with(mock.clone()))
        .then(hooks::get);
    // PUT /projects/:id/hooks/:hook_id
    let update = one()
        .and(warp::put())
        .and(member.clone())
        .and(raw_query())
        .and(content_type())
        .and(body())
        .and(with(mock.clone()))
        .then(hooks::update);
    // DELETE /projects/:id/hooks/:hook_id
    let delete = one()
        .and(warp::delete())
        .and(member)
        .and(drained())
        .and(with(mock.clone()))
        .then(hooks::delete);

    list.or(create)
        .unify()
        .or(get)
        .unify()
        .or(update)
        .unify()
        .or(delete)
        .unify()
        .map(respond)
        .boxed()
}
