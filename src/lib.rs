//! gitlab-mock: a stand-in for GitLab API v4's pipeline endpoints, driven by
//! scripted scenarios and a clock that tests can freeze and move.
//!
//! A system under test triggers a pipeline and polls it exactly as it would
//! against GitLab. The pipeline's status is computed from its scenario, its
//! creation time and the mock's clock, so a test that freezes the clock and
//! advances it by five minutes sees a five-minute pipeline finish at once.
//!
//! In a Rust test, [`MockGitLab::start`] runs the server on a free port;
//! see [`embedded`] for a complete example.
//!
//! # Layout
//!
//! - [`config`]: command-line flags and `MOCK_*` environment variables.
//! - [`clock`]: the [`Clock`](clock::Clock) trait, the system clock and the
//!   virtual clock that can be frozen, advanced and resumed.
//! - [`status`]: GitLab's pipeline status vocabulary.
//! - [`lifecycle`]: timelines of phases, and the pure function from a
//!   pipeline's run and the current instant to its status and timestamps.
//! - [`model`]: scenarios, pipelines, projects, trigger tokens and rules as
//!   plain values.
//! - [`presets`]: the scenarios a fresh database starts with.
//! - [`store`]: SQLite persistence; the only module with SQL.
//! - [`mock`]: the domain layer joining store and clock: triggering,
//!   observing, canceling, retrying, listing, moving time.
//! - [`http`]: warp routes, authentication, handlers, parameter decoding,
//!   pagination, JSON views and the memo of entities already written.
//! - `json`: the JSON writer of the hot paths (the pipeline entity, a new
//!   pipeline's stored columns), byte for byte serde_json's output.
//! - [`webhook`]: posting pipeline events to project hooks, and the log
//!   of those posts.
//! - [`namespaces`]: isolated mocks under `/ns/{name}`, one store and one
//!   route tree each.
//! - [`server`]: binding, the accept loop, and the edge every request
//!   passes (namespace, faults, `Allow`, `X-Mock-Now`, the journal).
//! - [`embedded`]: [`MockGitLab`], the whole server inside a test process.

pub mod clock;
pub mod config;
pub mod embedded;
pub mod http;
mod json;
pub mod lifecycle;
pub mod mock;
pub mod model;
pub mod namespaces;
pub mod presets;
pub mod server;
pub mod status;
pub mod store;
pub mod webhook;

pub use embedded::{MockGitLab, MockGitLabBuilder};
