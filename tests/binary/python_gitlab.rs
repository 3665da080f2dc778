//! python-gitlab, the client many GitLab pipelines are driven with, against
//! the real binary: trigger with variables, poll, move the clock, poll
//! again, then the same pipeline checked from the server's side.
//!
//! The client lives in a venv under `CARGO_TARGET_TMPDIR`, installed from
//! the pinned `fixtures/python/requirements.txt` once and reused by later
//! runs. A machine where python3, venv or pip fails fails these tests.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::time::Instant;

use jiff::SignedDuration;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{MockProcess, Scratch, TOKEN, instant, stamp};

const REQUIREMENTS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/fixtures/python/requirements.txt"
);
const SCRIPT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/fixtures/python/trigger_and_poll.py"
);

/// The version the requirements pin and the summary must report.
const PYTHON_GITLAB: &str = "8.6.0";

/// The venv's interpreter, or why it could not be made; set up once per
/// test binary.
static VENV_PYTHON: OnceLock<Result<PathBuf, String>> = OnceLock::new();

/// The python of a venv holding the pinned requirements.
fn venv_python() -> PathBuf {
    let prepared = VENV_PYTHON.get_or_init(prepare_venv);
    prepared.clone().unwrap_or_else(|error| panic!("{error}"))
}

/// Reuses the venv when it was installed from these exact requirements and
/// still imports the pinned python-gitlab; otherwise builds it anew.
fn prepare_venv() -> Result<PathBuf, String> {
    let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join("python-venv");
    let python = venv.join("bin").join("python");
    let stamp = venv.join("installed-requirements.txt");
    let requirements = std::fs::read_to_string(REQUIREMENTS)
        .map_err(|error| format!("cannot read {REQUIREMENTS}: {error}"))?;
    assert!(requirements.contains(&format!("python-gitlab=={PYTHON_GITLAB}\n")));

    let installed = std::fs::read_to_string(&stamp).ok();
    if installed.as_ref() == Some(&requirements) && installed_version(&python) == PYTHON_GITLAB {
        return Ok(python);
    }

    let started = Instant::now();
    succeed(
        Command::new("python3")
            .args(["-m", "venv", "--clear"])
            .arg(&venv),
        "python3 -m venv",
    )?;
    succeed(
        Command::new(&python)
            .args(["-m", "pip", "install", "--disable-pip-version-check", "-r"])
            .arg(REQUIREMENTS),
        "pip install -r fixtures/python/requirements.txt",
    )?;
    let version = installed_version(&python);
    if version != PYTHON_GITLAB {
        return Err(format!(
            "pip installed python-gitlab {version:?}, not {PYTHON_GITLAB}"
        ));
    }
    std::fs::write(&stamp, &requirements)
        .map_err(|error| format!("cannot write {}: {error}", stamp.display()))?;
    eprintln!("python venv installed in {:.1?}", started.elapsed());
    Ok(python)
}

/// The python-gitlab version `python` imports, or an empty string.
fn installed_version(python: &Path) -> String {
    let probe = "import gitlab; print(gitlab.__version__)";
    match Command::new(python).args(["-c", probe]).output() {
        Ok(output) if output.status.success() => {
            String::from_utf8_lossy(&output.stdout).trim().to_owned()
        }
        _ => String::new(),
    }
}

/// Runs `command`, turning a failure into an error with everything it said.
fn succeed(command: &mut Command, what: &str) -> Result<Output, String> {
    let output = command
        .output()
        .map_err(|error| format!("{what} cannot run: {error}"))?;
    if output.status.success() {
        return Ok(output);
    }
    Err(format!(
        "{what} failed ({}):\n--- stdout ---\n{}\n--- stderr ---\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    ))
}

/// python-gitlab's `trigger_pipeline` sends JSON to `/api/v4` and reads
/// back `running`; its polls see `running`, then `success` once the clock
/// moves 300 s; a missing pipeline and a wrong token raise its 404 and 401
/// errors; and the server lists the pipeline with the client's variables.
#[tokio::test]
async fn python_gitlab_triggers_and_polls() {
    let python = venv_python();
    let scratch = Scratch::new("python_gitlab");
    let mock = MockProcess::start(&scratch.db(), &[]);

    let output = succeed(
        Command::new(&python)
            .arg(SCRIPT)
            .args([mock.base_url(), TOKEN])
            .env("NO_PROXY", "*"),
        "fixtures/python/trigger_and_poll.py",
    )
    .unwrap_or_else(|error| panic!("{error}\n--- mock log ---\n{}", mock.log().join("\n")));
    let stdout = String::from_utf8(output.stdout).expect("the summary is UTF-8");
    let line = stdout.lines().last().expect("the script prints a summary");
    let summary: Value = serde_json::from_str(line)
        .unwrap_or_else(|error| panic!("the summary is not JSON ({error}): {line}"));

    assert_eq!(summary["python_gitlab"], PYTHON_GITLAB);
    assert_eq!(summary["project_id"], 321);
    assert_eq!(summary["ref"], "main");
    assert_eq!(summary["triggered_status"], "running");
    assert_eq!(summary["polled_before_advance"], "running");
    assert_eq!(summary["polled_after_advance"], "success");
    assert_eq!(summary["variables"], json!({ "DEPLOY_ENV": "staging" }));
    assert_eq!(summary["missing_pipeline_code"], 404);
    assert_eq!(summary["wrong_token_code"], 401);
    let frozen_at = instant(&summary["frozen_at"]);
    let finished_at = frozen_at + SignedDuration::from_secs(300);
    assert_eq!(summary["created_at"], stamp(frozen_at));
    assert_eq!(summary["clock_after_advance"], stamp(finished_at));
    assert_eq!(summary["updated_at_after_advance"], stamp(finished_at));

    let listed = mock.get("/_mock/pipelines").await.expect(StatusCode::OK);
    let listed = listed.as_array().expect("a list");
    assert_eq!(
        listed.len(),
        1,
        "python-gitlab triggered exactly one pipeline"
    );
    let pipeline = &listed[0];
    assert_eq!(pipeline["id"], summary["pipeline_id"]);
    assert_eq!(pipeline["project_id"], 321);
    assert_eq!(pipeline["ref"], "main");
    assert_eq!(pipeline["source"], "trigger");
    assert_eq!(pipeline["status"], "success");
    assert_eq!(pipeline["variables"], json!({ "DEPLOY_ENV": "staging" }));
    assert_eq!(pipeline["terminal_after_seconds"], 300);
    assert_eq!(pipeline["terminal_status"], "success");
}
