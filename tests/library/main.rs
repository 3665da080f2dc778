//! Tests of what the edge adds around the routes (isolated namespaces,
//! the request journal, faults, the `X-Mock-Now` header) and of the
//! embedded [`gitlab_mock::MockGitLab`] that serves them, over real HTTP
//! on `127.0.0.1`.

mod allow;
mod connections;
mod faults;
mod handle;
mod journal;
mod namespaces;
mod now_header;
mod support;
