//! The scenarios every fresh database starts with.
//!
//! Ids are part of the contract: `0` never completes, `1` to `99` finish
//! after that many seconds, and `100`, `200` and `500` after one, two and
//! five minutes. All of them end in `success`.

use crate::model::Scenario;
use crate::status::PipelineStatus;

/// The preset scenarios, in id order.
pub fn presets() -> Vec<Scenario> {
    let never = Scenario {
        scenario_id: 0,
        name: "never complete".into(),
        terminal_after_seconds: None,
        terminal_status: PipelineStatus::Success,
        never_complete: true,
    };
    let seconds = (1..=99).map(|n| finishing(n, seconds_name(n), n));
    let minutes = [(100, 1), (200, 2), (500, 5)]
        .into_iter()
        .map(|(id, minutes)| finishing(id, minutes_name(minutes), minutes * 60));

    std::iter::once(never)
        .chain(seconds)
        .chain(minutes)
        .collect()
}

fn finishing(scenario_id: i64, name: String, seconds: i64) -> Scenario {
    Scenario {
        scenario_id,
        name,
        terminal_after_seconds: Some(seconds),
        terminal_status: PipelineStatus::Success,
        never_complete: false,
    }
}

fn seconds_name(n: i64) -> String {
    if n == 1 {
        "after 1 second".into()
    } else {
        format!("after {n} seconds")
    }
}

fn minutes_name(n: i64) -> String {
    if n == 1 {
        "after 1 minute".into()
    } else {
        format!("after {n} minutes")
    }
}
