//! Load held: sixty-four clients, each on its own keep-alive connection,
//! mix triggers, polls, lists and control calls against the real binary for
//! a minute, and not one request may fail.
//!
//! This is a soak, not a benchmark: it asserts that every answer was the
//! expected one and that the clock and the stored pipelines agree with what
//! the clients were told, never how fast any of it went.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use jiff::SignedDuration;
use reqwest::StatusCode;
use reqwest::header::CONTENT_TYPE;
use serde_json::Value;

use super::support::{MockProcess, Scratch, TOKEN};

/// Clients sending at once, each with a connection of its own.
const CONNECTIONS: usize = 64;

/// How long the clients keep sending. A minute, because the faults a soak
/// is for need time rather than numbers to show: a keep-alive connection
/// the server drops after a while, a descriptor or task leaked per request,
/// a WAL file that grows until a checkpoint stalls the writer, a group
/// commit that starves polls once its queue is long. Seconds of load would
/// pass with any of these; a minute gives each client thousands of requests
/// on one connection, and is still short enough for every `cargo test`.
const SOAK: Duration = Duration::from_secs(60);

/// The longest one request may take before it counts as a transport
/// error. Generous, because two shared cores serve sixty-four clients and
/// their fsyncs; a hung request still ends the test.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// How often the test counts the mock's open connections while the
/// clients run.
const CONNECTION_SAMPLE: Duration = Duration::from_secs(5);

/// What a client sends, in the order each one cycles through. Triggers and
/// polls come most often, since that is what the mock is for.
const CYCLE: [Kind; 10] = [
    Kind::Trigger,
    Kind::Poll,
    Kind::List,
    Kind::Poll,
    Kind::Clock,
    Kind::Trigger,
    Kind::Poll,
    Kind::Scenarios,
    Kind::Advance,
    Kind::StoredPipelines,
];

/// The kinds of request in the mix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    /// `POST /projects/:id/trigger/pipeline`, urlencoded.
    Trigger,
    /// `GET /projects/:id/pipelines/:id` of a pipeline the client created.
    Poll,
    /// `GET /projects/:id/pipelines?per_page=5`.
    List,
    /// `GET /_mock/clock`.
    Clock,
    /// `POST /_mock/clock/advance {"seconds":1}`.
    Advance,
    /// `GET /_mock/scenarios`.
    Scenarios,
    /// `GET /_mock/pipelines?per_page=5`.
    StoredPipelines,
}

/// What one client saw.
#[derive(Debug, Default)]
struct Tally {
    /// Requests answered as expected, per kind.
    ok: BTreeMap<Kind, u64>,
    /// Requests that never got an answer: refused, reset or timed out.
    transport_errors: u64,
    /// Answers with another status, or a body that is not what was asked.
    unexpected: u64,
    /// The first few failures, to say what went wrong.
    samples: Vec<String>,
}

impl Tally {
    fn failed(&mut self, transport: bool, what: String) {
        match transport {
            true => self.transport_errors += 1,
            false => self.unexpected += 1,
        }
        if self.samples.len() < 5 {
            self.samples.push(what);
        }
    }

    fn absorb(&mut self, other: Tally) {
        for (kind, count) in other.ok {
            *self.ok.entry(kind).or_default() += count;
        }
        self.transport_errors += other.transport_errors;
        self.unexpected += other.unexpected;
        let room = 20usize.saturating_sub(self.samples.len());
        self.samples.extend(other.samples.into_iter().take(room));
    }

    fn ok_of(&self, kind: Kind) -> u64 {
        self.ok.get(&kind).copied().unwrap_or(0)
    }
}

/// Sixty-four keep-alive clients for [`SOAK`]: zero transport errors, zero
/// unexpected answers, at least sixty-four connections open whenever they
/// are counted and none closed by the mock, and afterwards a clock moved by
/// exactly the advances acknowledged and a store holding exactly the
/// triggers acknowledged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_four_keep_alive_clients_for_a_minute_see_no_error() {
    let scratch = Scratch::new("load_held");
    let mock = MockProcess::start(&scratch.db(), &[]);
    let frozen_at = mock.freeze().await;
    let port = port_of(mock.base_url());

    // Connections closed before the load, such as an earlier mock's on the
    // same port number, are no fault of this one.
    let before = connections(port);
    let deadline = Instant::now() + SOAK;
    let clients: Vec<_> = (0..CONNECTIONS)
        .map(|index| tokio::spawn(client(mock.base_url().to_owned(), index, deadline)))
        .collect();

    let mut connection_counts = Vec::new();
    let mut sampling = tokio::time::interval(CONNECTION_SAMPLE);
    sampling.tick().await;
    while Instant::now() + CONNECTION_SAMPLE < deadline {
        sampling.tick().await;
        if let Some(found) = connections(port) {
            connection_counts.push(found);
        }
    }

    let mut total = Tally::default();
    for client in clients {
        total.absorb(client.await.expect("a client finished"));
    }

    println!("load held for {SOAK:?} on {CONNECTIONS} connections:");
    for (kind, count) in &total.ok {
        println!("  {kind:?}: {count}");
    }
    let completed: u64 = total.ok.values().sum();
    println!("  total: {completed}");
    println!(
        "  transport errors: {}, unexpected answers: {}",
        total.transport_errors, total.unexpected
    );
    println!("  connections, sampled: {connection_counts:?}");

    assert_eq!(
        (total.transport_errors, total.unexpected),
        (0, 0),
        "failures, first ones: {:#?}",
        total.samples
    );
    for kind in CYCLE {
        assert!(
            total.ok_of(kind) >= CONNECTIONS as u64,
            "only {} {kind:?} requests completed: {:?}",
            total.ok_of(kind),
            total.ok
        );
    }
    let closed_before = before.map_or(0, |found| found.closed_by_mock);
    for found in &connection_counts {
        assert!(
            found.established >= CONNECTIONS,
            "fewer than {CONNECTIONS} connections were open: {connection_counts:?}"
        );
        assert!(
            found.closed_by_mock <= closed_before,
            "the mock closed kept-alive connections under load: {connection_counts:?}"
        );
    }

    let advanced = total.ok_of(Kind::Advance) as i64;
    let (now, frozen) = mock.clock().await;
    assert!(frozen, "the clock thawed under load");
    assert_eq!(
        now,
        frozen_at + SignedDuration::from_secs(advanced),
        "the clock did not move by exactly the {advanced} advances acknowledged"
    );
    // Ids start at 1 and nothing is deleted, so the newest pipeline's id
    // is how many are stored; `X-Total` is there only up to 10,000.
    let newest = mock
        .authorized(reqwest::Method::GET, "/_mock/pipelines?per_page=1")
        .send()
        .await
        .expect("the mock answers");
    let counted = newest.headers().get("x-total").map(|total| {
        let total = total.to_str().expect("X-Total is text");
        total.parse::<u64>().expect("X-Total is a number")
    });
    let newest: Value = newest.json().await.expect("a JSON list");
    let stored = newest[0]["id"].as_u64().expect("at least one pipeline");
    let acknowledged = total.ok_of(Kind::Trigger);
    assert_eq!(
        stored, acknowledged,
        "the store does not hold exactly the triggers acknowledged"
    );
    assert_eq!(counted, (stored <= 10_000).then_some(stored), "X-Total");
}

/// One client: its own `reqwest::Client`, allowed to keep one idle
/// connection, sending one request at a time until `deadline`, so that it
/// holds one keep-alive connection of its own (and for a moment, now and
/// then, a second: see [`Connections::closed_by_clients`]).
async fn client(base_url: String, index: usize, deadline: Instant) -> Tally {
    let http = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(1)
        .timeout(REQUEST_TIMEOUT)
        .build()
        .expect("client builds");
    let project = 1000 + index;
    let mut created: Vec<i64> = Vec::new();
    let mut tally = Tally::default();

    let mut step = index;
    while Instant::now() < deadline {
        let mut kind = CYCLE[step % CYCLE.len()];
        step += 1;
        if kind == Kind::Poll && created.is_empty() {
            kind = Kind::Trigger;
        }
        let polled = created.get(step % created.len().max(1)).copied();
        let (request, expected) = match kind {
            Kind::Trigger => (
                http.post(format!("{base_url}/projects/{project}/trigger/pipeline"))
                    .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .body(format!("token=T&ref=main&variables%5BCLIENT%5D={index}")),
                StatusCode::CREATED,
            ),
            Kind::Poll => (
                http.get(format!(
                    "{base_url}/projects/{project}/pipelines/{}",
                    polled.unwrap_or_default()
                )),
                StatusCode::OK,
            ),
            Kind::List => (
                http.get(format!(
                    "{base_url}/projects/{project}/pipelines?per_page=5"
                )),
                StatusCode::OK,
            ),
            Kind::Clock => (http.get(format!("{base_url}/_mock/clock")), StatusCode::OK),
            Kind::Advance => (
                http.post(format!("{base_url}/_mock/clock/advance"))
                    .header(CONTENT_TYPE, "application/json")
                    .body(r#"{"seconds":1}"#),
                StatusCode::OK,
            ),
            Kind::Scenarios => (
                http.get(format!("{base_url}/_mock/scenarios")),
                StatusCode::OK,
            ),
            Kind::StoredPipelines => (
                http.get(format!("{base_url}/_mock/pipelines?per_page=5")),
                StatusCode::OK,
            ),
        };

        let response = match request.header("PRIVATE-TOKEN", TOKEN).send().await {
            Ok(response) => response,
            Err(error) => {
                tally.failed(true, format!("{kind:?}: {error}"));
                continue;
            }
        };
        let status = response.status();
        let body = match response.bytes().await {
            Ok(body) => body,
            Err(error) => {
                tally.failed(true, format!("{kind:?}: body: {error}"));
                continue;
            }
        };
        let text = || String::from_utf8_lossy(&body).into_owned();
        if status != expected {
            tally.failed(false, format!("{kind:?}: {status}: {}", text()));
            continue;
        }
        let Ok(json) = serde_json::from_slice::<Value>(&body) else {
            tally.failed(false, format!("{kind:?}: not JSON: {}", text()));
            continue;
        };
        match answered_as_asked(kind, &json, project, polled) {
            Ok(()) => {
                if kind == Kind::Trigger {
                    created.push(json["id"].as_i64().unwrap_or_default());
                }
                *tally.ok.entry(kind).or_default() += 1;
            }
            Err(why) => tally.failed(false, format!("{kind:?}: {why}: {}", text())),
        }
    }
    tally
}

/// Whether a 2xx body is the one asked for, not merely some JSON: a
/// trigger answers a pipeline of the client's project, a poll the pipeline
/// polled, a list at most five of the client's pipelines.
fn answered_as_asked(
    kind: Kind,
    json: &Value,
    project: usize,
    polled: Option<i64>,
) -> Result<(), &'static str> {
    let of_project = |pipeline: &Value| pipeline["project_id"] == project as u64;
    let ok = match kind {
        Kind::Trigger => json["id"].as_i64().is_some() && of_project(json),
        Kind::Poll => json["id"].as_i64() == polled && of_project(json),
        Kind::List => json
            .as_array()
            .is_some_and(|items| items.len() <= 5 && items.iter().all(of_project)),
        Kind::StoredPipelines => json.as_array().is_some_and(|items| items.len() <= 5),
        Kind::Scenarios => json.as_array().is_some_and(|items| !items.is_empty()),
        Kind::Clock | Kind::Advance => json["frozen"] == true,
    };
    match ok {
        true => Ok(()),
        false => Err("not the answer asked for"),
    }
}

/// The port of `http://127.0.0.1:PORT`.
fn port_of(base_url: &str) -> u16 {
    base_url
        .rsplit(':')
        .next()
        .and_then(|port| port.parse().ok())
        .unwrap_or_else(|| panic!("no port in {base_url}"))
}

/// The mock's TCP connections, from Linux's `/proc/net/tcp`; `None` where
/// that table cannot be read, and then nothing about them is asserted.
#[derive(Debug, Clone, Copy)]
struct Connections {
    /// Established, counted on the server's side (local port `port`).
    established: usize,
    /// In TIME_WAIT on the server's side: connections the mock closed.
    closed_by_mock: usize,
    /// In TIME_WAIT on a client's side. Not a fault of the mock: when a
    /// client sends its next request before its pool has taken the last
    /// connection back, hyper opens another one, and the pool, allowed one
    /// idle connection, closes the spare.
    closed_by_clients: usize,
}

fn connections(port: u16) -> Option<Connections> {
    const ESTABLISHED: &str = "01";
    const TIME_WAIT: &str = "06";
    let table = std::fs::read_to_string("/proc/net/tcp").ok()?;
    let port = format!(":{port:04X}");
    let mut found = Connections {
        established: 0,
        closed_by_mock: 0,
        closed_by_clients: 0,
    };
    for line in table.lines().skip(1) {
        let columns: Vec<&str> = line.split_whitespace().collect();
        let [_, local, remote, state, ..] = columns[..] else {
            continue;
        };
        match (local.ends_with(&port), remote.ends_with(&port), state) {
            (true, _, ESTABLISHED) => found.established += 1,
            (true, _, TIME_WAIT) => found.closed_by_mock += 1,
            (_, true, TIME_WAIT) => found.closed_by_clients += 1,
            _ => {}
        }
    }
    Some(found)
}
