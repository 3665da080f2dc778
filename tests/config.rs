//! Parsing a command line into a [`Config`] without starting anything: what
//! each flag accepts, what it refuses, and the defaults.
//!
//! The `MOCK_*` variables are tested through the real binary
//! (`tests/binary/flags.rs`) instead: setting one here would change the
//! environment of every test running beside these. For the same reason a
//! default is only checked while its variable is unset.

use std::net::IpAddr;

use clap::error::ErrorKind;
use clap::{CommandFactory, Parser};

use gitlab_mock::config::{Config, DEFAULT_DB, DEFAULT_PORT, DEFAULT_TOKEN, Initial};

fn parse(args: &[&str]) -> Result<Config, clap::Error> {
    Config::try_parse_from(std::iter::once("gitlab-mock").chain(args.iter().copied()))
}

fn unset(variable: &str) -> bool {
    std::env::var_os(variable).is_none()
}

/// Clap's own consistency checks of the flag definitions (no two flags
/// with one name, defaults that parse), which otherwise only run when a
/// debug binary happens to parse its arguments.
#[test]
fn the_flag_definitions_are_consistent() {
    Config::command().debug_assert();
}

#[test]
fn every_flag_is_read() {
    let config = parse(&[
        "--port",
        "0",
        "--bind",
        "0.0.0.0",
        "--db",
        ":memory:",
        "--token",
        "s3cret",
        "--allow-reset",
        "--trigger-token",
        "T1",
        "--non-member-token",
        "N1",
        "--private-projects",
        "--initial-status",
        "created",
    ])
    .expect("every flag parses");

    assert_eq!(config.port, 0);
    assert_eq!(config.bind, IpAddr::from([0, 0, 0, 0]));
    assert_eq!(config.db, ":memory:");
    assert_eq!(config.token, "s3cret");
    assert!(config.allow_reset && config.private_projects);
    assert_eq!(config.trigger_tokens, ["T1"]);
    assert_eq!(config.non_member_tokens, ["N1"]);
    assert_eq!(config.initial_status, Initial::Created);
}

/// The token lists take the flag repeated, a comma-separated value, or
/// both at once, in the order given.
#[test]
fn token_lists_repeat_and_split_at_commas() {
    let config = parse(&[
        "--trigger-token",
        "A",
        "--trigger-token",
        "B,C",
        "--non-member-token",
        "X,Y",
        "--non-member-token",
        "Z",
    ])
    .expect("repeated token flags parse");

    assert_eq!(config.trigger_tokens, ["A", "B", "C"]);
    assert_eq!(config.non_member_tokens, ["X", "Y", "Z"]);
}

/// A wrong value is a usage error naming the flag, never a start with a
/// setting the user did not ask for.
#[test]
fn wrong_values_are_refused() {
    let cases: [(&[&str], &str); 7] = [
        (&["--port", "65536"], "--port"),
        (&["--port=-1"], "--port"),
        (&["--bind", "localhost"], "--bind"),
        (&["--initial-status", "pending"], "--initial-status"),
        (&["--token", ""], "--token"),
        (&["--token", " "], "--token"),
        (&["--allow-reset=yes"], "--allow-reset"),
    ];
    for (args, flag) in cases {
        let error = parse(args).expect_err(&format!("{args:?} should be refused"));
        assert_ne!(error.kind(), ErrorKind::DisplayHelp, "{args:?}");
        let text = error.to_string();
        assert!(text.contains(flag), "{args:?}: {text}");
    }
    let unknown = parse(&["--trigger-tokens", "A"]).expect_err("a misspelt flag");
    assert_eq!(unknown.kind(), ErrorKind::UnknownArgument);
}

/// With nothing given, the documented defaults, each checked only while
/// its variable is unset.
#[test]
fn defaults_apply_when_nothing_is_given() {
    let config = parse(&[]).expect("no flags parse");

    if unset("MOCK_PORT") {
        assert_eq!(config.port, DEFAULT_PORT);
        assert_eq!(DEFAULT_PORT, 8000);
    }
    if unset("MOCK_BIND") {
        assert_eq!(config.bind, IpAddr::from([127, 0, 0, 1]));
    }
    if unset("MOCK_DB") {
        assert_eq!(config.db, DEFAULT_DB);
    }
    if unset("MOCK_TOKEN") {
        assert_eq!(config.token, DEFAULT_TOKEN);
    }
    if unset("MOCK_ALLOW_RESET") {
        assert!(!config.allow_reset);
    }
    if unset("MOCK_TRIGGER_TOKENS") {
        assert!(config.trigger_tokens.is_empty());
    }
    if unset("MOCK_NON_MEMBER_TOKENS") {
        assert!(config.non_member_tokens.is_empty());
    }
    if unset("MOCK_PRIVATE_PROJECTS") {
        assert!(!config.private_projects);
    }
    if unset("MOCK_INITIAL_STATUS") {
        assert_eq!(config.initial_status, Initial::Running);
    }
}
