//! The scenarios every fresh database starts with.
//!
//! The seed's ids are part of the contract: `0` never completes, `1` to `99`
//! finish after that many seconds, and `100`, `200` and `500` after one, two
//! and five minutes, all in `success`. From `1000` up are the situations
//! clients get wrong against real GitLab: realistic lifecycles, pipelines
//! stuck before running, a manual gate, cancellation, skipping, and
//! triggers GitLab refuses.

use crate::lifecycle::Phase;
use crate::model::{Rejection, Scenario};
use crate::status::PipelineStatus::{self, *};

/// Every preset scenario, in id order.
pub fn presets() -> Vec<Scenario> {
    let mut all = seed_presets();
    all.extend(lifelike_presets());
    all
}

/// The seed's presets: 0, 1 to 99, 100, 200 and 500.
pub fn seed_presets() -> Vec<Scenario> {
    let never = Scenario::seed(0, "never complete", None);
    let seconds = (1..=99).map(|n| Scenario::seed(n, &seconds_name(n), Some(n)));
    let minutes = [(100, "after 1 minute", 60), (200, "after 2 minutes", 120)]
        .into_iter()
        .chain([(500, "after 5 minutes", 300)])
        .map(|(id, name, seconds)| Scenario::seed(id, name, Some(seconds)));

    std::iter::once(never)
        .chain(seconds)
        .chain(minutes)
        .collect()
}

/// The presets from 1000 up.
pub fn lifelike_presets() -> Vec<Scenario> {
    let queued = [phase(Created, 1), phase(Pending, 4)];
    vec![
        phased(
            1000,
            "realistic success",
            &[&queued, &[phase(Running, 55)]],
            Success,
        ),
        phased(
            1001,
            "realistic failure",
            &[&queued, &[phase(Running, 25)]],
            Failed,
        ),
        phased(1002, "stuck in created", &[&[forever(Created)]], Success),
        phased(
            1003,
            "stuck pending",
            &[&[phase(Created, 1), forever(Pending)]],
            Success,
        ),
        phased(
            1004,
            "waiting on a manual job",
            &[&queued, &[phase(Running, 10)]],
            Manual,
        ),
        phased(
            1005,
            "canceled while running",
            &[&queued, &[phase(Running, 10), phase(Canceling, 2)]],
            Canceled,
        ),
        phased(1006, "skipped", &[&[phase(Created, 1)]], Skipped),
        rejecting(1007, "ref not found", Rejection::RefNotFound),
        rejecting(1008, "no jobs for the ref", Rejection::NoJobs),
        phased(1009, "failed before it started", &[&queued], Failed),
        phased(
            1010,
            "every waiting status, then success",
            &[&[
                phase(Created, 1),
                phase(WaitingForResource, 3),
                phase(Preparing, 2),
                phase(Pending, 2),
                phase(Running, 10),
                phase(WaitingForCallback, 5),
                phase(Running, 7),
            ]],
            Success,
        ),
        phased(
            1011,
            "scheduled for later",
            &[&[phase(Created, 1)]],
            Scheduled,
        ),
    ]
}

fn phase(status: PipelineStatus, seconds: i64) -> Phase {
    Phase {
        status,
        seconds: Some(seconds),
    }
}

fn forever(status: PipelineStatus) -> Phase {
    Phase {
        status,
        seconds: None,
    }
}

fn phased(id: i64, name: &str, parts: &[&[Phase]], terminal: PipelineStatus) -> Scenario {
    Scenario::phased(id, name, parts.concat(), terminal)
}

fn rejecting(id: i64, name: &str, rejection: Rejection) -> Scenario {
    let mut scenario = Scenario::seed(id, name, Some(0));
    scenario.reject = Some(rejection);
    scenario
}

fn seconds_name(n: i64) -> String {
    if n == 1 {
        "after 1 second".into()
    } else {
        format!("after {n} seconds")
    }
}
