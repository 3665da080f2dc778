//! End-to-end tests that spawn the real `gitlab-mock` binary and drive it
//! over HTTP: with reqwest, with the seed documents' curl commands, with
//! python-gitlab and Kitware's Rust `gitlab` crate, over a raw socket,
//! under a minute of load, with schemathesis fuzzing API.md's OpenAPI
//! document, across kills and restarts, and started on a database it
//! cannot use.

mod connections;
mod consistency;
mod crash;
mod flags;
mod hooks;
mod load;
mod namespaces;
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
