//! gitlab-mock inside a test process: [`MockGitLab`] starts a real server
//! on a free port of `127.0.0.1`, with an in-memory database, and hands
//! back its URL and its clock.
//!
//! The server is the same as the binary's: the same routes, namespaces,
//! journal and faults, reached over real HTTP, so the system under test
//! talks to it exactly as it would to GitLab. The handle's methods drive
//! the root namespace directly, without HTTP. Dropping the handle stops
//! the server.
//!
//! ```
//! use std::time::Duration;
//! use gitlab_mock::MockGitLab;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let gitlab = MockGitLab::start().await;
//! gitlab.freeze().await.unwrap();
//!
//! // Trigger as any client would; preset scenario 500 succeeds after five
//! // minutes.
//! let client = reqwest::Client::new();
//! let created: serde_json::Value = client
//!     .post(format!("{}/api/v4/projects/1/trigger/pipeline", gitlab.url()))
//!     .form(&[("token", "any"), ("ref", "main"), ("scenario_id", "500")])
//!     .header("PRIVATE-TOKEN", gitlab.token())
//!     .send()
//!     .await
//!     .unwrap()
//!     .json()
//!     .await
//!     .unwrap();
//! assert_eq!(created["status"], "running");
//!
//! // Five virtual minutes pass in one call.
//! gitlab.advance(Duration::from_secs(300)).await.unwrap();
//! let id = created["id"].as_i64().unwrap();
//! let polled: serde_json::Value = client
//!     .get(format!("{}/api/v4/projects/1/pipelines/{id}", gitlab.url()))
//!     .header("PRIVATE-TOKEN", gitlab.token())
//!     .send()
//!     .await
//!     .unwrap()
//!     .json()
//!     .await
//!     .unwrap();
//! assert_eq!(polled["status"], "success");
//!
//! // The journal shows how the pipeline was polled.
//! let polls = gitlab.requests(&Default::default());
//! assert_eq!(polls.len(), 2);
//! # }
//! ```

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::clock::VirtualClock;
use crate::config::DEFAULT_TOKEN;
use crate::http::Settings;
use crate::lifecycle::InitialStatus;
use crate::mock::{
    ClockReading, Fault, FaultSpec, JournalEntry, JournalFilter, Mock, MockError, MockOptions,
};
use crate::model::{Rule, RuleMatch, Scenario};
use crate::namespaces::Namespaces;
use crate::server::{Bound, StartError};
use crate::store::Store;

/// The database every embedded mock uses: its own, gone with it.
const MEMORY: &str = ":memory:";

/// A running mock, stopped when dropped.
#[derive(Debug)]
pub struct MockGitLab {
    addr: SocketAddr,
    token: String,
    mock: Mock,
    stop: Option<oneshot::Sender<()>>,
    server: JoinHandle<()>,
}

/// How to start a [`MockGitLab`]; every setting has the binary's default.
#[derive(Debug, Clone)]
pub struct MockGitLabBuilder {
    token: String,
    frozen_at: Option<Timestamp>,
    initial_status: InitialStatus,
    trigger_tokens: Vec<String>,
    allow_reset: bool,
    journal_limit: usize,
}

impl Default for MockGitLabBuilder {
    fn default() -> Self {
        Self {
            token: DEFAULT_TOKEN.to_owned(),
            frozen_at: None,
            initial_status: InitialStatus::default(),
            trigger_tokens: Vec::new(),
            allow_reset: true,
            journal_limit: crate::mock::JOURNAL_LIMIT,
        }
    }
}

impl MockGitLabBuilder {
    /// The token the API accepts in `PRIVATE-TOKEN` or `Authorization`.
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = token.into();
        self
    }

    /// Starts with the clock frozen at `at` instead of running.
    pub fn frozen_at(mut self, at: Timestamp) -> Self {
        self.frozen_at = Some(at);
        self
    }

    /// Which status pipelines show before their scenario's phases begin.
    pub fn initial_status(mut self, initial: InitialStatus) -> Self {
        self.initial_status = initial;
        self
    }

    /// A trigger token valid for every project.
    pub fn trigger_token(mut self, token: impl Into<String>) -> Self {
        self.trigger_tokens.push(token.into());
        self
    }

    /// Whether `POST /_mock/reset` may run; it may by default, since the
    /// database is the test's own.
    pub fn allow_reset(mut self, allow: bool) -> Self {
        self.allow_reset = allow;
        self
    }

    /// How many requests each namespace's journal keeps.
    pub fn journal_limit(mut self, limit: usize) -> Self {
        self.journal_limit = limit;
        self
    }

    /// Starts the server; panics with the reason if it cannot, as a test
    /// fixture that cannot start has nothing better to do.
    pub async fn start(self) -> MockGitLab {
        match self.try_start().await {
            Ok(gitlab) => gitlab,
            Err(error) => panic!("gitlab-mock cannot start: {error}"),
        }
    }

    /// Starts the server, or says why it cannot.
    pub async fn try_start(self) -> Result<MockGitLab, StartError> {
        let requested = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
        let bind = |source| StartError::Bind {
            addr: requested,
            source,
        };
        let listener = TcpListener::bind(requested).await.map_err(bind)?;
        let addr = listener.local_addr().map_err(bind)?;

        let namespaces = self.namespaces(addr)?;
        let mock = namespaces.root().mock().clone();

        let bound = Bound::with_namespaces(listener, addr, namespaces);
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(bound.serve(async move {
            let _ = stopped.await;
        }));
        tracing::debug!(%addr, "embedded gitlab-mock started");
        Ok(MockGitLab {
            addr,
            token: self.token,
            mock,
            stop: Some(stop),
            server,
        })
    }

    fn namespaces(&self, addr: SocketAddr) -> Result<Namespaces, StartError> {
        let settings = Settings {
            allow_reset: self.allow_reset,
            ..Settings::new(&self.token, &format!("http://{addr}"))
        };
        let options = MockOptions {
            initial_status: self.initial_status,
            global_trigger_tokens: self.trigger_tokens.clone(),
            journal_limit: self.journal_limit,
            public_url: format!("http://{addr}"),
            ..MockOptions::default()
        };
        let database = |source| StartError::Database {
            path: MEMORY.into(),
            source,
        };
        let store = Store::open(MEMORY).map_err(database)?;
        // Built frozen rather than frozen after the start: a freeze may not
        // move the clock back, and a test's fixed instant is often past.
        let clock = match self.frozen_at {
            Some(at) => VirtualClock::frozen_at(at),
            None => VirtualClock::system(),
        };
        let mock = Mock::with_options(store, Arc::new(clock), options.clone());
        Ok(Namespaces::with_root_mock(MEMORY, mock, settings, options))
    }
}

impl MockGitLab {
    /// A mock with the default settings: the clock running, reset allowed,
    /// the binary's token.
    pub async fn start() -> Self {
        Self::builder().start().await
    }

    pub fn builder() -> MockGitLabBuilder {
        MockGitLabBuilder::default()
    }

    /// The base URL, e.g. `http://127.0.0.1:41234`; GitLab's API is under
    /// `/api/v4` below it, as clients expect.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The base URL of the isolated namespace `name`, which comes into
    /// being on its first request.
    pub fn namespace_url(&self, name: &str) -> String {
        format!("{}{}{name}", self.url(), crate::namespaces::PREFIX)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The token the API accepts.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// The root namespace's domain layer: scenarios, rules, projects,
    /// trigger tokens and pipelines, without HTTP.
    pub fn mock(&self) -> &Mock {
        &self.mock
    }

    /// The mock's current time.
    pub fn now(&self) -> Timestamp {
        self.mock.now()
    }

    /// Stops the clock where it is.
    pub async fn freeze(&self) -> Result<ClockReading, MockError> {
        self.mock.freeze_clock(None).await
    }

    /// Stops the clock at `at`, delivering the pipeline events it crosses.
    pub async fn freeze_at(&self, at: Timestamp) -> Result<ClockReading, MockError> {
        self.mock.freeze_clock(Some(at)).await
    }

    /// Moves the clock forward by `step`, delivering every pipeline event
    /// it crosses before it returns.
    pub async fn advance(&self, step: Duration) -> Result<ClockReading, MockError> {
        let step = SignedDuration::try_from(step)
            .map_err(|_| MockError::Clock(crate::clock::ClockError::OutOfRange))?;
        self.mock.advance_clock(step).await
    }

    /// Moves the clock to the next instant at which any pipeline changes
    /// status; `None`, with the clock untouched, when none ever will.
    pub async fn advance_to_next_transition(&self) -> Result<Option<ClockReading>, MockError> {
        self.mock.advance_to_next_transition().await
    }

    /// Lets the clock run again from where it stands.
    pub async fn resume(&self) -> Result<ClockReading, MockError> {
        self.mock.resume_clock().await
    }

    /// The requests the root namespace answered, oldest first.
    pub fn requests(&self, filter: &JournalFilter) -> Vec<JournalEntry> {
        self.mock.journal().entries(filter)
    }

    /// Every scenario, presets included.
    pub fn scenarios(&self) -> Result<Vec<Scenario>, MockError> {
        self.mock.scenarios()
    }

    /// Adds a scenario for triggers to name by `scenario_id`.
    pub fn add_scenario(&self, scenario: Scenario) -> Result<Scenario, MockError> {
        self.mock.create_scenario(scenario)
    }

    /// Every rule, in the order triggers try them.
    pub fn rules(&self) -> Result<Vec<Rule>, MockError> {
        self.mock.rules()
    }

    /// Makes triggers that match `matching` follow `scenario_id`, at most
    /// `times` times (always when `None`).
    pub fn add_rule(
        &self,
        matching: RuleMatch,
        scenario_id: i64,
        times: Option<i64>,
    ) -> Result<Rule, MockError> {
        self.mock.create_rule(matching, scenario_id, times)
    }

    /// Arms a fault for the next matching requests.
    pub fn add_fault(&self, spec: FaultSpec) -> Result<Fault, MockError> {
        self.mock.faults().add(spec)
    }
}

impl Drop for MockGitLab {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        // Connections still open would keep the graceful stop waiting; a
        // dropped fixture must let go of its port at once.
        self.server.abort();
    }
}
