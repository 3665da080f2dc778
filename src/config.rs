//! Command-line flags and their environment variables.
//!
//! Every flag can also be set through a `MOCK_*` variable, so a test harness
//! or a container can configure the mock without building a command line.
//! Switches read their variable leniently: `1`, `true`, `yes` and `on` turn
//! them on, `0`, `false`, `no` and `off` leave them off.

use std::net::IpAddr;

use clap::builder::BoolishValueParser;
use clap::{ArgAction, Parser};

use crate::lifecycle::InitialStatus;

/// The port served when none is given.
pub const DEFAULT_PORT: u16 = 8000;
/// The token accepted when none is given.
pub const DEFAULT_TOKEN: &str = "MOCK_SUPER_SECRET";
/// The database file used when none is given.
pub const DEFAULT_DB: &str = "mock.db";

/// How to run the mock.
#[derive(Debug, Clone, Parser)]
#[command(name = "gitlab-mock", version, about)]
pub struct Config {
    /// TCP port to listen on; 0 picks a free one (the log says which).
    #[arg(long, env = "MOCK_PORT", default_value_t = DEFAULT_PORT)]
    pub port: u16,

    /// Address to bind.
    #[arg(long, env = "MOCK_BIND", default_value = "127.0.0.1")]
    pub bind: IpAddr,

    /// SQLite database file, created on first start; `:memory:` keeps
    /// everything in memory and loses it on exit.
    #[arg(long, env = "MOCK_DB", default_value = DEFAULT_DB)]
    pub db: String,

    /// The token clients send as `PRIVATE-TOKEN` or `Authorization: Bearer`.
    #[arg(
        long,
        env = "MOCK_TOKEN",
        default_value = DEFAULT_TOKEN,
        hide_env_values = true,
        value_parser = non_blank_token
    )]
    pub token: String,

    /// Enable `POST /_mock/reset`: back to a fresh database (no pipelines,
    /// projects, trigger tokens, rules or hooks; exactly the presets; system
    /// time).
    #[arg(long, env = "MOCK_ALLOW_RESET", action = ArgAction::SetTrue, value_parser = switch())]
    pub allow_reset: bool,

    /// A trigger token valid for every project (repeatable; the variable
    /// takes a comma-separated list).
    #[arg(
        long = "trigger-token",
        env = "MOCK_TRIGGER_TOKENS",
        value_delimiter = ','
    )]
    pub trigger_tokens: Vec<String>,

    /// A token of a user who is a member of no project: project routes
    /// answer it with 404 (repeatable; the variable takes a comma-separated
    /// list).
    #[arg(
        long = "non-member-token",
        env = "MOCK_NON_MEMBER_TOKENS",
        value_delimiter = ','
    )]
    pub non_member_tokens: Vec<String>,

    /// Answer GitLab-shaped reads without credentials with GitLab's
    /// `404 Project Not Found` for a private project, instead of 401.
    #[arg(
        long,
        env = "MOCK_PRIVATE_PROJECTS",
        action = ArgAction::SetTrue,
        value_parser = switch()
    )]
    pub private_projects: bool,

    /// The status pipelines of seed-shaped scenarios start in: `running`
    /// (the seed) or `created` (GitLab).
    #[arg(long, env = "MOCK_INITIAL_STATUS", value_enum, default_value_t = Initial::Running)]
    pub initial_status: Initial,
}

/// How a switch's environment variable is read: `1`, `yes`, `on`, `true`
/// and their opposites.
fn switch() -> BoolishValueParser {
    BoolishValueParser::new()
}

/// Refuses a blank `--token`. An empty one would be matched by an empty
/// `PRIVATE-TOKEN` header, opening every route, reset included, to anyone
/// who sends one (`MOCK_TOKEN=$UNSET` in a compose file is enough); one of
/// only spaces could never be sent, since HTTP trims header values.
fn non_blank_token(text: &str) -> Result<String, String> {
    match text.trim().is_empty() {
        true => Err("the token must not be empty".into()),
        false => Ok(text.to_owned()),
    }
}

/// The choices of `--initial-status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Initial {
    Running,
    Created,
}

impl From<Initial> for InitialStatus {
    fn from(initial: Initial) -> Self {
        match initial {
            Initial::Running => InitialStatus::Running,
            Initial::Created => InitialStatus::Created,
        }
    }
}

impl Config {
    /// A configuration for tests: port 0, in-memory database, defaults
    /// elsewhere, reset allowed.
    pub fn ephemeral() -> Self {
        Self {
            port: 0,
            bind: IpAddr::from([127, 0, 0, 1]),
            db: ":memory:".into(),
            token: DEFAULT_TOKEN.into(),
            allow_reset: true,
            trigger_tokens: Vec::new(),
            non_member_tokens: Vec::new(),
            private_projects: false,
            initial_status: Initial::Running,
        }
    }
}
