//! Kitware's `gitlab` crate, the Rust client for GitLab's API, against the
//! real binary: its plain-http constructor (which reads `GET /user` with
//! the `PRIVATE-TOKEN` before it returns), then its endpoint API for
//! pipelines, with the answers read into the structs a user of the crate
//! writes for the fields they need.
//!
//! The crate's client is blocking, so these tests are plain `#[test]`s and
//! reach the async helpers of [`MockProcess`] through a small runtime of
//! their own. The crate no longer has its legacy typed `gitlab::types`
//! module (deprecated in 2024, gone from the 0.19xx releases), so only the
//! endpoint API is driven.

use std::future::Future;

use gitlab::api::projects::pipelines::{
    CancelPipeline, CreatePipeline, Pipeline as GetPipeline, PipelineJobs, PipelineStatus,
    PipelineVariable, PipelineVariableType, PipelineVariables, Pipelines, RetryPipeline,
};
use gitlab::api::{self, ApiError, Pagination, Query, users::CurrentUser};
use gitlab::{Gitlab, GitlabError};
use jiff::{SignedDuration, Timestamp};
use reqwest::StatusCode;
use serde::Deserialize;
use serde_json::json;

use crate::support::{MockProcess, Scratch, TOKEN};

/// The project the tests use, known to the mock as `mock/project-77`.
const PROJECT: u64 = 77;
const PROJECT_PATH: &str = "mock/project-77";

/// The user every pipeline is attributed to, as a crate user reads it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
struct User {
    id: u64,
    username: String,
    name: String,
    state: String,
    web_url: String,
}

/// A pipeline as the single GET, create, cancel and retry answer it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
struct Pipeline {
    id: u64,
    iid: u64,
    project_id: u64,
    status: String,
    #[serde(rename = "ref")]
    git_ref: String,
    sha: String,
    source: String,
    web_url: String,
    created_at: Timestamp,
    updated_at: Timestamp,
    started_at: Option<Timestamp>,
    finished_at: Option<Timestamp>,
    duration: Option<u64>,
    user: User,
}

/// A pipeline as the list shows it (GitLab's PipelineBasic).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
struct ListedPipeline {
    id: u64,
    iid: u64,
    project_id: u64,
    status: String,
    #[serde(rename = "ref")]
    git_ref: String,
    sha: String,
    web_url: String,
    created_at: Timestamp,
    updated_at: Timestamp,
}

/// A pipeline variable.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
struct Variable {
    key: String,
    value: String,
    variable_type: String,
}

/// A job of a pipeline, with the fields that say where it stands.
#[derive(Debug, Clone, PartialEq, Deserialize)]
struct Job {
    id: u64,
    name: String,
    status: String,
    started_at: Option<Timestamp>,
    finished_at: Option<Timestamp>,
    duration: Option<f64>,
    pipeline: JobPipeline,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
struct JobPipeline {
    id: u64,
    status: String,
}

/// A mock, a runtime for its async helpers, and the crate's client.
struct Harness {
    runtime: tokio::runtime::Runtime,
    mock: MockProcess,
    client: Gitlab,
    /// `127.0.0.1:PORT`, the host the crate is given.
    host: String,
}

impl Harness {
    fn start(scratch: &Scratch) -> Self {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        let mock = MockProcess::start(&scratch.db(), &[]);
        let host = mock
            .base_url()
            .strip_prefix("http://")
            .expect("plain http")
            .to_owned();
        let client = Gitlab::new_insecure(&host, TOKEN).unwrap_or_else(|error| {
            panic!(
                "the gitlab crate cannot connect: {error}\n{}",
                mock.log().join("\n")
            )
        });
        Self {
            runtime,
            mock,
            client,
            host,
        }
    }

    /// Runs one of the mock's async helpers to its end.
    fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }

    /// `http://127.0.0.1:PORT/mock/project-77/-/pipelines/ID`.
    fn web_url(&self, id: u64) -> String {
        format!("{}/{PROJECT_PATH}/-/pipelines/{id}", self.mock.base_url())
    }

    /// `POST /projects/77/pipeline` for `ref_` with `variables`.
    fn create(&self, ref_: &str, variables: &[(&str, &str)]) -> Pipeline {
        let mut builder = CreatePipeline::builder();
        builder.project(PROJECT).ref_(ref_);
        for (key, value) in variables {
            let variable = PipelineVariable::builder()
                .key(*key)
                .value(*value)
                .variable_type(PipelineVariableType::EnvVar)
                .build()
                .expect("a variable");
            builder.variable(variable);
        }
        let endpoint = builder.build().expect("a create endpoint");
        endpoint
            .query(&self.client)
            .expect("the pipeline is created")
    }

    /// `GET /projects/77/pipelines/:id`.
    fn get(&self, id: u64) -> Pipeline {
        let endpoint = GetPipeline::builder()
            .project(PROJECT)
            .pipeline(id)
            .build()
            .expect("a get endpoint");
        endpoint.query(&self.client).expect("the pipeline is read")
    }

    /// The pipeline's jobs, first page.
    fn jobs(&self, id: u64) -> Vec<Job> {
        let endpoint = PipelineJobs::builder()
            .project(PROJECT)
            .pipeline(id)
            .build()
            .expect("a jobs endpoint");
        endpoint.query(&self.client).expect("the jobs are listed")
    }

    /// The single job's status, checked to name its pipeline.
    fn job_status(&self, pipeline: &Pipeline) -> String {
        let jobs = self.jobs(pipeline.id);
        assert_eq!(jobs.len(), 1, "{jobs:?}");
        let job = &jobs[0];
        assert_eq!(job.pipeline.id, pipeline.id);
        assert_eq!(job.pipeline.status, pipeline.status);
        job.status.clone()
    }
}

fn after(start: Timestamp, seconds: i64) -> Timestamp {
    start + SignedDuration::from_secs(seconds)
}

/// The crate connects with its plain-http constructor, reading the mock's
/// user with `PRIVATE-TOKEN`; a wrong token fails that check with 401.
#[test]
fn rust_gitlab_connects_as_the_mock_user() {
    let scratch = Scratch::new("rust_gitlab_connects");
    let harness = Harness::start(&scratch);
    let base = harness.mock.base_url();

    let endpoint = CurrentUser::builder().build().expect("a user endpoint");
    let user: User = endpoint.query(&harness.client).expect("GET /user");
    let expected = User {
        id: 1,
        username: "mock-user".into(),
        name: "Mock User".into(),
        state: "active".into(),
        web_url: format!("{base}/mock-user"),
    };
    assert_eq!(user, expected);

    let refused = Gitlab::new_insecure(&harness.host, "NOT_THE_TOKEN");
    match refused {
        Err(GitlabError::Api {
            source: ApiError::GitlabWithStatus { status, msg },
        }) => {
            assert_eq!(status, StatusCode::UNAUTHORIZED);
            assert_eq!(msg, "401 Unauthorized");
        }
        Err(other) => panic!("a wrong token should be GitLab's 401, not {other}"),
        Ok(_) => panic!("a wrong token connected"),
    }
}

/// A pipeline made with `CreatePipeline` and a variable follows the rule
/// sending it to preset 100: read back, its variable listed, `running`
/// until 60 s pass, then `success` with `finished_at` and `duration`; its
/// job follows it. The rule is used up, so the next one takes 300 s.
#[test]
fn rust_gitlab_creates_reads_and_finishes_a_pipeline() {
    let scratch = Scratch::new("rust_gitlab_creates");
    let harness = Harness::start(&scratch);
    let t0 = harness.block_on(harness.mock.freeze());
    let rule = json!({
        "project_id": PROJECT, "ref": "main", "variables": { "DEPLOY_ENV": "staging" },
        "scenario_id": 100, "times": 1,
    });
    let rule = harness.block_on(harness.mock.post("/_mock/rules", rule));
    rule.expect(StatusCode::CREATED);

    let created = harness.create("main", &[("DEPLOY_ENV", "staging")]);
    let user = User {
        id: 1,
        username: "mock-user".into(),
        name: "Mock User".into(),
        state: "active".into(),
        web_url: format!("{}/mock-user", harness.mock.base_url()),
    };
    let expected = Pipeline {
        id: 1,
        iid: 1,
        project_id: PROJECT,
        status: "running".into(),
        git_ref: "main".into(),
        sha: created.sha.clone(),
        source: "api".into(),
        web_url: harness.web_url(1),
        created_at: t0,
        updated_at: t0,
        started_at: Some(t0),
        finished_at: None,
        duration: None,
        user,
    };
    assert_eq!(created, expected);
    assert!(
        created.sha.len() == 40 && created.sha.bytes().all(|b| b.is_ascii_hexdigit()),
        "{}",
        created.sha
    );
    assert_eq!(harness.get(1), created);
    assert_eq!(harness.job_status(&created), "running");

    let variables = PipelineVariables::builder()
        .project(PROJECT)
        .pipeline(1)
        .build()
        .expect("a variables endpoint");
    let variables: Vec<Variable> = api::paged(variables, Pagination::All)
        .query(&harness.client)
        .expect("the variables are listed");
    let deploy_env = Variable {
        key: "DEPLOY_ENV".into(),
        value: "staging".into(),
        variable_type: "env_var".into(),
    };
    assert_eq!(variables, vec![deploy_env]);

    harness.block_on(harness.mock.advance(59));
    assert_eq!(harness.get(1), created, "nothing changes before 60 s");
    harness.block_on(harness.mock.advance(1));
    let finished = harness.get(1);
    let expected = Pipeline {
        status: "success".into(),
        updated_at: after(t0, 60),
        finished_at: Some(after(t0, 60)),
        duration: Some(60),
        ..created.clone()
    };
    assert_eq!(finished, expected);
    assert_eq!(harness.job_status(&finished), "success");
    let job = &harness.jobs(1)[0];
    assert_eq!(job.name, "mock-job");
    assert_eq!(job.id, 1);
    assert_eq!(job.started_at, Some(t0));
    assert_eq!(job.finished_at, Some(after(t0, 60)));
    assert_eq!(job.duration, Some(60.0));

    let second = harness.create("main", &[("DEPLOY_ENV", "staging")]);
    harness.block_on(harness.mock.advance(299));
    assert_eq!(
        harness.get(second.id).status,
        "running",
        "the rule was used up"
    );
    harness.block_on(harness.mock.advance(1));
    assert_eq!(harness.get(second.id).status, "success");
}

/// `CancelPipeline` stops a running pipeline, `RetryPipeline` runs it again
/// from the retry with its first `started_at` kept, and it succeeds after
/// the default 300 s; the job follows each step.
#[test]
fn rust_gitlab_cancels_and_retries() {
    let scratch = Scratch::new("rust_gitlab_cancel_retry");
    let harness = Harness::start(&scratch);
    let t0 = harness.block_on(harness.mock.freeze());

    let running = harness.create("release", &[]);
    assert_eq!(running.status, "running");
    harness.block_on(harness.mock.advance(30));

    let cancel = CancelPipeline::builder()
        .project(PROJECT)
        .pipeline(running.id)
        .build()
        .expect("a cancel endpoint");
    let canceled: Pipeline = cancel.query(&harness.client).expect("canceled");
    let expected = Pipeline {
        status: "canceled".into(),
        updated_at: after(t0, 30),
        finished_at: Some(after(t0, 30)),
        duration: Some(30),
        ..running.clone()
    };
    assert_eq!(canceled, expected);
    assert_eq!(harness.get(running.id), canceled);
    assert_eq!(harness.job_status(&canceled), "canceled");
    harness.block_on(harness.mock.advance(600));
    assert_eq!(harness.get(running.id), canceled, "a cancel is final");

    let retry = RetryPipeline::builder()
        .project(PROJECT)
        .pipeline(running.id)
        .build()
        .expect("a retry endpoint");
    let retried: Pipeline = retry.query(&harness.client).expect("retried");
    let expected = Pipeline {
        status: "running".into(),
        updated_at: after(t0, 630),
        started_at: Some(t0),
        finished_at: None,
        duration: None,
        ..running.clone()
    };
    assert_eq!(retried, expected);
    assert_eq!(harness.get(running.id), retried);
    assert_eq!(harness.job_status(&retried), "running");

    harness.block_on(harness.mock.advance(300));
    let finished = harness.get(running.id);
    assert_eq!(finished.status, "success");
    assert_eq!(finished.started_at, Some(t0));
    assert_eq!(finished.finished_at, Some(after(t0, 930)));
    assert_eq!(finished.updated_at, after(t0, 930));
    assert_eq!(harness.job_status(&finished), "success");
}

/// `api::paged` lists 25 pipelines over pages of 10, newest first, with a
/// status filter and a limit; the list entries agree with the single GET.
#[test]
fn rust_gitlab_lists_across_pages() {
    let scratch = Scratch::new("rust_gitlab_paged");
    let harness = Harness::start(&scratch);
    let t0 = harness.block_on(harness.mock.freeze());

    for n in 0..25 {
        let git_ref = if n % 2 == 0 { "main" } else { "feature/x" };
        harness.create(git_ref, &[]);
    }
    harness.block_on(harness.mock.advance(300));
    let scenario = json!({ "token": "T", "ref": "main", "scenario_id": 0 });
    let trigger = harness.mock.post("/projects/77/trigger/pipeline", scenario);
    harness.block_on(trigger).expect(StatusCode::CREATED);

    let all = Pipelines::builder()
        .project(PROJECT)
        .build()
        .expect("a list endpoint");
    let listed: Vec<ListedPipeline> = api::paged(all, Pagination::AllPerPageLimit(10))
        .query(&harness.client)
        .expect("every page is read");
    let ids: Vec<u64> = listed.iter().map(|pipeline| pipeline.id).collect();
    assert_eq!(ids, (1..=26).rev().collect::<Vec<u64>>());
    assert_eq!(listed[0].status, "running", "scenario 0 never completes");
    assert!(
        listed[1..]
            .iter()
            .all(|pipeline| pipeline.status == "success")
    );

    let single = harness.get(7);
    let seventh = ListedPipeline {
        id: single.id,
        iid: single.iid,
        project_id: single.project_id,
        status: single.status.clone(),
        git_ref: single.git_ref.clone(),
        sha: single.sha.clone(),
        web_url: single.web_url.clone(),
        created_at: single.created_at,
        updated_at: single.updated_at,
    };
    assert_eq!(listed[26 - 7], seventh);
    assert_eq!(seventh.git_ref, "main");
    assert_eq!(seventh.created_at, t0);
    assert_eq!(seventh.updated_at, after(t0, 300));
    assert_eq!(seventh.web_url, harness.web_url(7));

    let succeeded = Pipelines::builder()
        .project(PROJECT)
        .status(PipelineStatus::Success)
        .ref_("feature/x")
        .build()
        .expect("a filtered list endpoint");
    let succeeded: Vec<ListedPipeline> = api::paged(succeeded, Pagination::AllPerPageLimit(5))
        .query(&harness.client)
        .expect("the filtered pages are read");
    let ids: Vec<u64> = succeeded.iter().map(|pipeline| pipeline.id).collect();
    assert_eq!(ids, (2..=24).rev().step_by(2).collect::<Vec<u64>>());

    let limited = Pipelines::builder()
        .project(PROJECT)
        .build()
        .expect("a list endpoint");
    let limited: Vec<ListedPipeline> = api::paged(limited, Pagination::Limit(15))
        .query(&harness.client)
        .expect("a limited listing");
    let ids: Vec<u64> = limited.iter().map(|pipeline| pipeline.id).collect();
    assert_eq!(ids, (12..=26).rev().collect::<Vec<u64>>());
}

/// A project known only by its number is printed as `mock/project-77`
/// (`path_with_namespace`, every `web_url`), so the crate's `NameOrId` by
/// that path must reach the same project and its pipelines.
#[test]
fn rust_gitlab_reads_a_numbered_project_by_its_path() {
    let scratch = Scratch::new("rust_gitlab_by_path");
    let harness = Harness::start(&scratch);
    let created = harness.create("main", &[]);
    assert_eq!(created.web_url, harness.web_url(created.id));

    let by_path = GetPipeline::builder()
        .project(PROJECT_PATH)
        .pipeline(created.id)
        .build()
        .expect("a get endpoint");
    let by_path: Result<Pipeline, _> = by_path.query(&harness.client);
    match by_path {
        Ok(pipeline) => assert_eq!(pipeline, created),
        Err(error) => panic!(
            "GET /projects/mock%2Fproject-77/pipelines/{} failed: {error}",
            created.id
        ),
    }
}
