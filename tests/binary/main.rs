//! End-to-end tests that spawn the real `gitlab-mock` binary and drive it
//! over HTTP: with reqwest, with the seed documents' curl commands, and with
//! python-gitlab.

mod python_gitlab;
mod restart;
mod seed_curl;
mod support;
