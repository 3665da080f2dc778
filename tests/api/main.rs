//! In-process tests of the HTTP API: every request goes through the real
//! routes with `warp::test`, on a virtual clock frozen at [`support::START`]
//! and moved only by explicit advances.

mod abuse;
mod cases;
mod clock;
mod contract;
mod control;
mod errors;
mod gitlab;
mod hooks;
mod listing;
mod parsers;
mod paths;
mod phases;
mod polling;
mod properties;
#[path = "../common/receiver.rs"]
mod receiver;
mod scenarios;
mod snapshots;
mod support;
mod trigger;
