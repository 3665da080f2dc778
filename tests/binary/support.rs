//! Running the real binary: a scratch directory per test, a [`MockProcess`]
//! that starts `gitlab-mock` on a free port and kills it on drop, and HTTP
//! helpers that talk to it with its token.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStderr, Command, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use reqwest::header::CONTENT_TYPE;
use reqwest::{Method, RequestBuilder, StatusCode};
use serde_json::{Value, json};

/// The token the binary accepts when started without `--token`.
pub const TOKEN: &str = "MOCK_SUPER_SECRET";

/// How long a start may take before the test fails.
const START_TIMEOUT: Duration = Duration::from_secs(20);

/// What the binary logs, followed by its URL, once it accepts connections.
const LISTENING: &str = "listening on ";

/// Variables the binary reads in place of flags. They are removed so the
/// environment the tests run in cannot change what a test starts.
const MOCK_VARIABLES: [&str; 9] = [
    "MOCK_PORT",
    "MOCK_BIND",
    "MOCK_DB",
    "MOCK_TOKEN",
    "MOCK_ALLOW_RESET",
    "MOCK_TRIGGER_TOKENS",
    "MOCK_NON_MEMBER_TOKENS",
    "MOCK_PRIVATE_PROJECTS",
    "MOCK_INITIAL_STATUS",
];

/// A directory of one test under `CARGO_TARGET_TMPDIR`, emptied when the
/// test starts and removed when it passes (kept for a look when it fails).
pub struct Scratch {
    path: PathBuf,
}

impl Scratch {
    /// A fresh directory named after the test.
    pub fn new(test: &str) -> Self {
        let path = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join("binary")
            .join(format!("{test}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path)
            .unwrap_or_else(|error| panic!("cannot create {}: {error}", path.display()));
        Self { path }
    }

    /// A path inside the directory.
    pub fn file(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// The database file tests start the mock on.
    pub fn db(&self) -> PathBuf {
        self.file("mock.db")
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

/// How a start that was meant to fail ended.
pub struct FailedStart {
    pub status: std::process::ExitStatus,
    pub stderr: String,
}

/// Runs the binary with `args` (no `MOCK_` variables) and waits for it to
/// exit, which a start that fails must do promptly. Panics if it is still
/// running after [`START_TIMEOUT`], or if it exits successfully.
pub fn start_expecting_failure(args: &[&str]) -> FailedStart {
    start_expecting_failure_with(args, &[])
}

/// [`start_expecting_failure`] with the variables `env` set as well: a
/// `MOCK_` variable whose bad value should stop the start, or a `RUST_LOG`
/// that should not change what a failed start says.
pub fn start_expecting_failure_with(args: &[&str], env: &[(&str, &str)]) -> FailedStart {
    let mut command = Command::new(env!("CARGO_BIN_EXE_gitlab-mock"));
    command
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    isolate(&mut command, &[]);
    command.envs(env.iter().copied());
    let mut child = command
        .spawn()
        .unwrap_or_else(|error| panic!("cannot spawn gitlab-mock {args:?}: {error}"));

    let deadline = Instant::now() + START_TIMEOUT;
    while child
        .try_wait()
        .expect("the child can be waited for")
        .is_none()
    {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("gitlab-mock {args:?} was expected to exit but kept running");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let output = child.wait_with_output().expect("its stderr can be read");
    assert!(
        !output.status.success(),
        "gitlab-mock {args:?} exited successfully"
    );
    FailedStart {
        status: output.status,
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Clears every `MOCK_` variable the tests run with from `command`, then
/// sets those of `env`: a test sees only the variables it chose.
fn isolate(command: &mut Command, env: &[(&str, &str)]) {
    for name in MOCK_VARIABLES {
        command.env_remove(name);
    }
    for (name, value) in env {
        assert!(
            MOCK_VARIABLES.contains(name),
            "{name} is not a variable the binary reads"
        );
        command.env(name, value);
    }
}

/// An open-file limit (`ulimit -n`) to start the binary under.
#[derive(Debug, Clone, Copy)]
pub struct FileLimit {
    pub soft: u64,
    pub hard: u64,
}

/// The command that runs the binary, through `sh` when it must start under
/// `file_limit`. The soft limit is set first: a hard limit below the soft
/// one in force is refused.
fn binary_command(file_limit: Option<FileLimit>) -> Command {
    let binary = env!("CARGO_BIN_EXE_gitlab-mock");
    let Some(FileLimit { soft, hard }) = file_limit else {
        return Command::new(binary);
    };
    let mut command = Command::new("sh");
    let script = format!("ulimit -Sn {soft} && ulimit -Hn {hard} && exec \"$0\" \"$@\"");
    command.arg("-c").arg(script).arg(binary);
    command
}

/// A running `gitlab-mock`, killed when dropped.
pub struct MockProcess {
    child: Child,
    args: Vec<String>,
    /// The `MOCK_` variables it was started with, kept for a restart.
    env: Vec<(String, String)>,
    /// The open-file limit it was started under, kept for a restart.
    file_limit: Option<FileLimit>,
    token: String,
    base_url: String,
    log: Arc<Mutex<Vec<String>>>,
    drain: Option<JoinHandle<()>>,
    http: reqwest::Client,
}

impl MockProcess {
    /// Starts the binary with `--port 0 --db DB` and `extra` flags, and
    /// waits until it logs the address it listens on.
    pub fn start(db: &Path, extra: &[&str]) -> Self {
        let mut args = vec!["--port".to_owned(), "0".to_owned(), "--db".to_owned()];
        args.push(db.to_str().expect("database path is UTF-8").to_owned());
        args.extend(extra.iter().map(|arg| (*arg).to_owned()));
        Self::spawn(args, Vec::new(), None)
    }

    /// [`MockProcess::start`] under an open-file limit: a shell sets it,
    /// then becomes the binary, which keeps the shell's pid.
    pub fn start_under_file_limit(db: &Path, file_limit: FileLimit) -> Self {
        let args = vec![
            "--port".to_owned(),
            "0".to_owned(),
            "--db".to_owned(),
            db.to_str().expect("database path is UTF-8").to_owned(),
        ];
        Self::spawn(args, Vec::new(), Some(file_limit))
    }

    /// The process id, for reading what `/proc` says of it.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Starts the binary with exactly `args`, no `--port` or `--db` added,
    /// and with the `MOCK_` variables of `env` set (every other one still
    /// removed), for the tests of the variables themselves. Without a port
    /// from `args` or `env`, it would take the default, 8000.
    pub fn start_with_env(args: &[&str], env: &[(&str, &str)]) -> Self {
        let args = args.iter().map(|arg| (*arg).to_owned()).collect();
        let env = env
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect();
        Self::spawn(args, env, None)
    }

    fn spawn(args: Vec<String>, env: Vec<(String, String)>, file_limit: Option<FileLimit>) -> Self {
        let mut command = binary_command(file_limit);
        command
            .args(&args)
            .env("RUST_LOG", "warn,gitlab_mock=info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let pairs: Vec<(&str, &str)> = env
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str()))
            .collect();
        isolate(&mut command, &pairs);
        let mut child = command
            .spawn()
            .unwrap_or_else(|error| panic!("cannot spawn gitlab-mock {args:?}: {error}"));

        let stderr = child.stderr.take().expect("stderr is piped");
        let log = Arc::new(Mutex::new(Vec::new()));
        let (lines, received) = mpsc::channel();
        let drain = drain_stderr(stderr, Arc::clone(&log), lines);

        // The flag wins over the variable, as in the binary.
        let from_env = pairs
            .iter()
            .find(|(name, _)| *name == "MOCK_TOKEN")
            .map(|(_, value)| *value);
        let token = flag_value(&args, "--token")
            .or(from_env)
            .unwrap_or(TOKEN)
            .to_owned();
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(10))
            .build()
            .expect("reqwest client builds");
        // Built before the wait so that a failed start still kills the child.
        let mut process = Self {
            child,
            args,
            env,
            file_limit,
            token,
            base_url: String::new(),
            log,
            drain: Some(drain),
            http,
        };
        process.base_url = process.wait_until_listening(&received);
        process
    }

    fn wait_until_listening(&mut self, lines: &mpsc::Receiver<String>) -> String {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match lines.recv_timeout(left) {
                Ok(line) => {
                    if let Some(url) = listening_url(&line) {
                        return url.to_owned();
                    }
                }
                Err(RecvTimeoutError::Timeout) => {
                    self.fail_to_start(&format!("no `{LISTENING}` line in {START_TIMEOUT:?}"))
                }
                Err(RecvTimeoutError::Disconnected) => {
                    let status = self.child.wait();
                    self.fail_to_start(&format!("it exited first ({status:?})"))
                }
            }
        }
    }

    fn fail_to_start(&self, why: &str) -> ! {
        panic!(
            "gitlab-mock {:?} (with {:?}) did not start: {why}\n--- stderr ---\n{}",
            self.args,
            self.env,
            self.log().join("\n")
        )
    }

    /// Kills the process without warning, as a crash would, and waits for
    /// it and for the end of its log.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(drain) = self.drain.take() {
            let _ = drain.join();
        }
    }

    /// Kills the process and starts a new one with the same flags and
    /// variables, so on the same database file. The new one listens on a new port.
    pub fn restart(&mut self) {
        self.kill();
        let args = std::mem::take(&mut self.args);
        let env = std::mem::take(&mut self.env);
        *self = Self::spawn(args, env, self.file_limit);
    }

    /// `http://127.0.0.1:PORT`, as the binary logged it.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Every stderr line so far.
    pub fn log(&self) -> Vec<String> {
        self.log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// A request to `path` with no credentials.
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.base_url))
    }

    /// A request to `path` carrying the mock's token as `PRIVATE-TOKEN`.
    pub fn authorized(&self, method: Method, path: &str) -> RequestBuilder {
        self.request(method, path)
            .header("PRIVATE-TOKEN", &self.token)
    }

    /// `GET path` with the token.
    pub async fn get(&self, path: &str) -> Reply {
        Reply::of(self.authorized(Method::GET, path)).await
    }

    /// `POST path` with the token and `body` as JSON.
    pub async fn post(&self, path: &str, body: Value) -> Reply {
        Reply::of(self.authorized(Method::POST, path).json(&body)).await
    }

    /// `POST path` with the token and no body, as the routes that take no
    /// fields expect.
    pub async fn post_empty(&self, path: &str) -> Reply {
        Reply::of(self.authorized(Method::POST, path)).await
    }

    /// `DELETE path` with the token.
    pub async fn delete(&self, path: &str) -> Reply {
        Reply::of(self.authorized(Method::DELETE, path)).await
    }

    /// The clock's reading: `(now, frozen)`.
    pub async fn clock(&self) -> (Timestamp, bool) {
        reading(self.get("/_mock/clock").await.expect(StatusCode::OK))
    }

    /// Freezes the clock at its current instant and returns it.
    pub async fn freeze(&self) -> Timestamp {
        let reply = self.post_empty("/_mock/clock/freeze").await;
        frozen_instant(reply.expect(StatusCode::OK))
    }

    /// Freezes the clock at `at`, which must not be in the clock's past.
    pub async fn freeze_at(&self, at: Timestamp) -> Timestamp {
        let body = json!({ "at": stamp(at) });
        frozen_instant(
            self.post("/_mock/clock/freeze", body)
                .await
                .expect(StatusCode::OK),
        )
    }

    /// Moves the clock forward and returns where it now stands.
    pub async fn advance(&self, seconds: u64) -> Timestamp {
        let body = json!({ "seconds": seconds });
        let view = self.post("/_mock/clock/advance", body).await;
        reading(view.expect(StatusCode::OK)).0
    }

    /// The `status` a GET of the pipeline shows now.
    pub async fn status(&self, project_id: i64, pipeline_id: i64) -> String {
        let path = format!("/projects/{project_id}/pipelines/{pipeline_id}");
        let pipeline = self.get(&path).await.expect(StatusCode::OK);
        pipeline["status"]
            .as_str()
            .expect("status is text")
            .to_owned()
    }
}

impl Drop for MockProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Reads the child's stderr to its end, keeping every line in `log` and
/// handing it to `lines` for as long as someone listens there.
fn drain_stderr(
    stderr: ChildStderr,
    log: Arc<Mutex<Vec<String>>>,
    lines: mpsc::Sender<String>,
) -> JoinHandle<()> {
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            log.lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(line.clone());
            let _ = lines.send(line);
        }
    })
}

/// The URL in a `listening on http://…` log line.
fn listening_url(line: &str) -> Option<&str> {
    let (_, rest) = line.split_once(LISTENING)?;
    rest.split_whitespace()
        .next()
        .filter(|url| url.starts_with("http://"))
}

fn flag_value<'a>(args: &'a [String], flag: &str) -> Option<&'a str> {
    let at = args.iter().position(|arg| arg == flag)?;
    args.get(at + 1).map(String::as_str)
}

/// An instant spelt as the mock prints it: RFC 3339, milliseconds, `Z`.
pub fn stamp(instant: Timestamp) -> String {
    format!("{instant:.3}")
}

/// Parses a timestamp the mock printed.
pub fn instant(value: &Value) -> Timestamp {
    value
        .as_str()
        .and_then(|text| text.parse().ok())
        .unwrap_or_else(|| panic!("not an RFC 3339 timestamp: {value}"))
}

fn reading(view: Value) -> (Timestamp, bool) {
    let frozen = view["frozen"]
        .as_bool()
        .unwrap_or_else(|| panic!("clock view without `frozen`: {view}"));
    (instant(&view["now"]), frozen)
}

fn frozen_instant(view: Value) -> Timestamp {
    let (now, frozen) = reading(view);
    assert!(frozen, "the clock should be frozen after a freeze");
    now
}

/// A response, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    /// The JSON body; `Null` when the body is empty.
    pub body: Value,
}

impl Reply {
    /// Sends `request` and reads the answer. Every non-empty body must be
    /// JSON sent as `application/json`, as GitLab's clients require.
    pub async fn of(request: RequestBuilder) -> Self {
        let response = request.send().await.expect("the mock answers");
        let status = response.status();
        let content_type = response
            .headers()
            .get(CONTENT_TYPE)
            .map(|value| value.to_str().expect("Content-Type is text").to_owned());
        let bytes = response.bytes().await.expect("the body can be read");
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            assert_eq!(
                content_type.as_deref(),
                Some("application/json"),
                "a {status} body should be JSON: {}",
                String::from_utf8_lossy(&bytes)
            );
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|error| panic!("a {status} body is not JSON ({error}): {bytes:?}"))
        };
        Self { status, body }
    }

    /// The body, once the status is checked.
    #[track_caller]
    pub fn expect(self, status: StatusCode) -> Value {
        assert_eq!(self.status, status, "unexpected answer: {}", self.body);
        self.body
    }
}
