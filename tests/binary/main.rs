//! End-to-end tests that spawn the real `gitlab-mock` binary and drive it
//! over HTTP.

mod restart;
mod seed_curl;
mod support;
