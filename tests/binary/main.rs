//! End-to-end tests that spawn the real `gitlab-mock` binary and drive it
//! over HTTP: with reqwest, with the seed documents' curl commands, with
//! python-gitlab, with Kitware's Rust `gitlab` crate, and over a raw socket;
//! python-gitlab, with Kitware's Rust `gitlab` crate, over a raw socket, and
//! under a minute of load, and started on a database it cannot use.
//! with schemathesis fuzzing API.md's OpenAPI document.

mod connections;
mod consistency;
mod crash;
mod flags;
mod hooks;
mod load;
mod python_gitlab;
#[path = "../common/receiver.rs"]
mod receiver;
mod restart;
mod rust_gitlab;
mod schemathesis;
mod seed_curl;
mod startup;
mod support;
mod venv;
