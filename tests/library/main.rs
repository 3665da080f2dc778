//! Tests of what the edge adds around the routes (isolated namespaces,
//! the request journal, faults, the `X-Mock-Now` header, pipeline events
//! per namespace) and of the
//! embedded [`gitlab_mock::MockGitLab`] that serves them, over real HTTP
//! on `127.0.0.1`.

mod allow;
mod connections;
mod faults;
mod handle;
mod hooks;
mod journal;
mod namespaces;
mod now_header;
#[path = "../common/receiver.rs"]
mod receiver;
mod support;
