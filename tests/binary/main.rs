//! End-to-end tests that spawn the real `gitlab-mock` binary and drive it
//! over HTTP: with reqwest, with the seed documents' curl commands, with
//! python-gitlab, with Kitware's Rust `gitlab` crate, over a raw socket, and
//! with schemathesis fuzzing API.md's OpenAPI document.

mod connections;
mod crash;
mod python_gitlab;
mod restart;
mod rust_gitlab;
mod schemathesis;
mod seed_curl;
mod support;
mod venv;
