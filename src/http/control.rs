//! Routes under `/_mock`: the knobs a test turns.

use warp::Filter;
use warp::filters::BoxedFilter;
use warp::reply::Response;

use crate::mock::Mock;

use super::Settings;
use super::auth::member;
use super::error::respond;
use super::filters::{base_url, body, drained, raw_query, with};
use super::handlers::{clock, control, hooks, scenarios, tooling};

/// Every `/_mock` route.
pub fn routes(mock: &Mock, settings: &Settings) -> BoxedFilter<(Response,)> {
    health()
        .or(scenario_routes(mock, settings))
        .unify()
        .or(pipeline_routes(mock, settings))
        .unify()
        .or(clock_routes(mock, settings))
        .unify()
        .or(reset(mock, settings))
        .unify()
        .or(rule_routes(mock, settings))
        .unify()
        .or(project_routes(mock, settings))
        .unify()
        .or(journal_route(mock, settings))
        .unify()
        .or(fault_routes(mock, settings))
        .unify()
        .or(namespace_routes(settings))
        .unify()
        .or(hook_deliveries(mock, settings))
        .unify()
        .boxed()
}

/// GET /_mock/hooks/deliveries
fn hook_deliveries(mock: &Mock, settings: &Settings) -> BoxedFilter<(Response,)> {
    warp::path!("_mock" / "hooks" / "deliveries")
        .and(warp::get())
        .and(member(settings))
        .and(raw_query())
        .and(with(mock.clone()))
        .then(hooks::deliveries)
        .map(respond)
        .boxed()
}

/// GET /_mock/health
fn health() -> BoxedFilter<(Response,)> {
    warp::path!("_mock" / "health")
        .and(warp::get())
        .then(control::health)
        .map(respond)
        .boxed()
}

fn scenario_routes(mock: &Mock, settings: &Settings) -> BoxedFilter<(Response,)> {
    let auth = member(settings);
    let one = warp::path!("_mock" / "scenarios" / String);

    // GET /_mock/scenarios
    let list = warp::path!("_mock" / "scenarios")
        .and(warp::get())
        .and(auth.clone())
        .and(with(mock.clone()))
        .then(scenarios::list);
    // POST /_mock/scenarios
    let create = warp::path!("_mock" / "scenarios")
        .and(warp::post())
        .and(auth.clone())
        .and(body())
        .and(with(mock.clone()))
        .then(scenarios::create);
    // PUT /_mock/scenarios/:scenario_id
    let update = one
        .and(warp::put())
        .and(auth.clone())
        .and(body())
        .and(with(mock.clone()))
        .then(scenarios::update);
    // DELETE /_mock/scenarios/:scenario_id
    let delete = one
        .and(warp::delete())
        .and(auth)
        .and(drained())
        .and(with(mock.clone()))
        .then(scenarios::delete);

    list.or(create)
        .unify()
        .or(update)
        .unify()
        .or(delete)
        .unify()
        .map(respond)
        .boxed()
}

fn pipeline_routes(mock: &Mock, settings: &Settings) -> BoxedFilter<(Response,)> {
    let auth = member(settings);

    // GET /_mock/pipelines
    let list = warp::path!("_mock" / "pipelines")
        .and(warp::get())
        .and(auth.clone())
        .and(raw_query())
        .and(base_url(settings))
        .and(with(mock.clone()))
        .then(control::list_pipelines);
    // DELETE /_mock/pipelines/:pipeline_id
    let delete = warp::path!("_mock" / "pipelines" / String)
        .and(warp::delete())
        .and(auth)
        .and(drained())
        .and(with(mock.clone()))
        .then(control::delete_pipeline);

    list.or(delete).unify().map(respond).boxed()
}

fn clock_routes(mock: &Mock, settings: &Settings) -> BoxedFilter<(Response,)> {
    let auth = member(settings);

    // GET /_mock/clock
    let get = warp::path!("_mock" / "clock")
        .and(warp::get())
        .and(auth.clone())
        .and(with(mock.clone()))
        .then(clock::get);
    // POST /_mock/clock/freeze
    let freeze = warp::path!("_mock" / "clock" / "freeze")
        .and(warp::post())
        .and(auth.clone())
        .and(body())
        .and(with(mock.clone()))
        .then(clock::freeze);
    // POST /_mock/clock/advance
    let advance = warp::path!("_mock" / "clock" / "advance")
        .and(warp::post())
        .and(auth.clone())
        .and(body())
        .and(with(mock.clone()))
        .then(clock::advance);
    // POST /_mock/clock/resume
    let resume = warp::path!("_mock" / "clock" / "resume")
        .and(warp::post())
        .and(auth)
        .and(body())
        .and(with(mock.clone()))
        .then(clock::resume);

    get.or(freeze)
        .unify()
        .or(advance)
        .unify()
        .or(resume)
        .unify()
        .map(respond)
        .boxed()
}

/// POST /_mock/reset
fn reset(mock: &Mock, settings: &Settings) -> BoxedFilter<(Response,)> {
    warp::path!("_mock" / "reset")
        .and(warp::post())
        .and(member(settings))
        .and(body())
        .and(with(settings.allow_reset))
        .and(with(mock.clone()))
        .then(control::reset)
        .map(respond)
        .boxed()
}

fn rule_routes(mock: &Mock, settings: &Settings) -> BoxedFilter<(Response,)> {
    let auth = member(settings);

    // GET /_mock/rules
    let list = warp::path!("_mock" / "rules")
        .and(warp::get())
        .and(auth.clone())
        .and(with(mock.clone()))
        .then(control::list_rules);
    // POST /_mock/rules
    let create = warp::path!("_mock" / "rules")
        .and(warp::post())
        .and(auth.clone())
        .and(body())
        .and(with(mock.clone()))
        .then(control::create_rule);
    // DELETE /_mock/rules/:rule_id
    let delete = warp::path!("_mock" / "rules" / String)
        .and(warp::delete())
        .and(auth)
        .and(drained())
        .and(with(mock.clone()))
        .then(control::delete_rule);

    list.or(create)
        .unify()
        .or(delete)
        .unify()
        .map(respond)
        .boxed()
}

fn project_routes(mock: &Mock, settings: &Settings) -> BoxedFilter<(Response,)> {
    let auth = member(settings);

    // GET /_mock/projects
    let list = warp::path!("_mock" / "projects")
        .and(warp::get())
        .and(auth.clone())
        .and(with(mock.clone()))
        .then(control::list_projects);
    // POST /_mock/projects
    let create = warp::path!("_mock" / "projects")
        .and(warp::post())
        .and(auth)
        .and(body())
        .and(with(mock.clone()))
        .then(control::put_project);

    list.or(create).unify().map(respond).boxed()
}

/// GET /_mock/requests
fn journal_route(mock: &Mock, settings: &Settings) -> BoxedFilter<(Response,)> {
    warp::path!("_mock" / "requests")
        .and(warp::get())
        .and(member(settings))
        .and(raw_query())
        .and(with(mock.clone()))
        .then(tooling::requests)
        .map(respond)
        .boxed()
}

fn fault_routes(mock: &Mock, settings: &Settings) -> BoxedFilter<(Response,)> {
    let auth = member(settings);
    let all = || warp::path!("_mock" / "faults");

    // POST /_mock/faults
    let create = all()
        .and(warp::post())
        .and(auth.clone())
        .and(body())
        .and(with(mock.clone()))
        .then(tooling::create_fault);
    // GET /_mock/faults
    let list = all()
        .and(warp::get())
        .and(auth.clone())
        .and(with(mock.clone()))
        .then(tooling::list_faults);
    // DELETE /_mock/faults
    let clear = all()
        .and(warp::delete())
        .and(auth.clone())
        .and(drained())
        .and(with(mock.clone()))
        .then(tooling::clear_faults);
    // DELETE /_mock/faults/:fault_id
    let delete = warp::path!("_mock" / "faults" / String)
        .and(warp::delete())
        .and(auth)
        .and(drained())
        .and(with(mock.clone()))
        .then(tooling::delete_fault);

    create
        .or(list)
        .unify()
        .or(clear)
        .unify()
        .or(delete)
        .unify()
        .map(respond)
        .boxed()
}

/// The root's routes over the named namespaces; inside a named namespace
/// they do not exist, so one namespace cannot delete another.
fn namespace_routes(settings: &Settings) -> BoxedFilter<(Response,)> {
    let Some(directory) = settings.namespaces.clone() else {
        return warp::any()
            .and_then(|| async { Err::<Response, _>(warp::reject::not_found()) })
            .boxed();
    };
    let auth = member(settings);

    // GET /_mock/namespaces
    let list = warp::path!("_mock" / "namespaces")
        .and(warp::get())
        .and(auth.clone())
        .and(with(directory.clone()))
        .then(tooling::list_namespaces);
    // DELETE /_mock/namespaces/:name
    let delete = warp::path!("_mock" / "namespaces" / String)
        .and(warp::delete())
        .and(auth)
        .and(drained())
        .and(with(directory))
        .then(tooling::delete_namespace);

    list.or(delete).unify().map(respond).boxed()
}
