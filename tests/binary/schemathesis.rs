//! API.md's OpenAPI document held against the real binary by schemathesis:
//! every documented operation is generated for, valid and invalid data
//! alike, and every answer must be one the document lists, in the shape,
//! headers and media type it gives, without a 5xx.
//!
//! schemathesis lives in its own venv under `CARGO_TARGET_TMPDIR`, installed
//! from the pinned `fixtures/python/schemathesis-requirements.txt` once and
//! reused by later runs. A machine where python3, venv or pip fails fails
//! this test.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use crate::receiver::Receiver;
use crate::support::{MockProcess, Scratch, TOKEN};
use crate::venv::Pinned;

/// The version the requirements pin, whose CLI and checks the flags below
/// are written for.
const SCHEMATHESIS: &str = "4.32.5";

/// schemathesis and its dependencies.
const TOOL: Pinned = Pinned {
    dir: "schemathesis-venv",
    requirements: concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/python/schemathesis-requirements.txt"
    ),
    distribution: "schemathesis",
    version: SCHEMATHESIS,
};

const API_MD: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/API.md");

/// Disarms each fault schemathesis arms as soon as its request is checked;
/// the file says why.
const HOOKS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/fixtures/python/schemathesis_hooks.py"
);

/// The seed of every generated case, so a failure found once is found by
/// every run and on every machine.
const SEED: &str = "20261204";

/// Cases per operation in the fuzzing and stateful phases. 30 kept the
/// whole run near 50 s on two shared cores while still reaching every
/// operation in every phase (150 found nothing more, in four minutes);
/// the coverage phase's boundary cases do not depend on it. The project
/// hook routes took the run to about two minutes: their bodies have some
/// thirty fields for the coverage phase to vary, and the hooks it makes
/// (up to 100 a project) are posted an event at every status change of
/// the run's pipelines.
const MAX_EXAMPLES: &str = "30";

/// Every check schemathesis has, less one that does not apply here:
/// `positive_data_acceptance` wants a 2xx for any request the schema
/// allows. The mock's documented refusals depend on stored state or on
/// rules across fields that OpenAPI 3.0 cannot state: a `scenario_id`
/// that names no scenario (422), freezing the clock before its current
/// instant (422) or advancing it past the year 9999 (422), `phases`
/// together with `terminal_after_seconds` (422), a scenario that rejects
/// (400 `message.base`), and a trigger's `ref` and `token`, which must
/// come from the query string or the body (400 when neither has one).
/// Every one of those answers is still checked against the document by
/// the other checks.
const EXCLUDED_CHECKS: &str = "positive_data_acceptance";

/// What the CLI cannot say, per operation:
///
/// - schemathesis 4.32.5's dependency analysis links the plain trigger's
///   201 to the ref form with `$request.path.ref`, a path parameter the
///   plain trigger does not have, and reports those invented links as an
///   error of the whole run. The ref form (bare and under `/api/v4`) is
///   therefore left out of the stateful phase alone; the examples,
///   coverage and fuzzing phases still exercise it.
const CONFIG: &str = r#"
[[operations]]
include-path-regex = "/ref/\\{ref\\}/trigger/pipeline$"
phases.stateful.enabled = false
"#;

/// The hook URL of the document's examples, on the port the README's
/// receiver listens on. schemathesis sends it as it stands, and the mock
/// posts events to it, so the run points it at a receiver of its own: a
/// service the user runs on that port must not get the run's events, nor
/// slow the run down by answering them.
const EXAMPLE_HOOK_URL: &str = "http://127.0.0.1:9000/gitlab";

/// The OpenAPI document: the YAML block under API.md's `## OpenAPI
/// document` heading.
fn openapi_document() -> String {
    let text = std::fs::read_to_string(API_MD).expect("API.md can be read");
    let (_, section) = text
        .split_once("## OpenAPI document\n")
        .expect("API.md has an `## OpenAPI document` section");
    let (_, block) = section
        .split_once("```yaml\n")
        .expect("the section holds a yaml block");
    let (document, _) = block.split_once("\n```\n").expect("the block is closed");
    assert!(document.starts_with("openapi: 3."), "not OpenAPI 3");
    format!("{document}\n")
}

/// How many operations the document's `paths` hold, as `tests/api`'s
/// contract test reads them: a method key four spaces in.
fn operation_count(document: &str) -> usize {
    let (_, paths) = document.split_once("\npaths:\n").expect("a paths section");
    let (paths, _) = paths.split_once("\ncomponents:\n").expect("components");
    let methods = ["get", "post", "put", "delete", "patch"];
    paths
        .lines()
        .filter_map(|line| line.strip_prefix("    ")?.strip_suffix(':'))
        .filter(|key| methods.contains(key))
        .count()
}

/// Writes `text` to `path`.
fn write(path: &Path, text: &str) {
    std::fs::write(path, text)
        .unwrap_or_else(|error| panic!("cannot write {}: {error}", path.display()));
}

/// The `schemathesis` command of the venv, installing it first if needed.
fn schemathesis() -> PathBuf {
    let venv = TOOL.prepare().unwrap_or_else(|error| panic!("{error}"));
    venv.join("bin").join("schemathesis")
}

/// All four phases (examples, coverage, fuzzing, stateful) and every check
/// but [`EXCLUDED_CHECKS`] against a fresh binary started with
/// `--allow-reset`, so that `POST /_mock/reset` is exercised past its 403.
/// The member's token is sent as `PRIVATE-TOKEN` on every request;
/// `ignored_auth` takes it away to check the 401s. One worker keeps the
/// server's state, and so the run, the same from one run to the next.
#[test]
fn schemathesis_finds_nothing() {
    let schemathesis = schemathesis();
    let scratch = Scratch::new("schemathesis");
    let runtime = tokio::runtime::Runtime::new().expect("a runtime for the receiver");
    let receiver = runtime.block_on(Receiver::start());
    let document = openapi_document();
    assert!(
        document.contains(EXAMPLE_HOOK_URL),
        "the hook example moved"
    );
    let document = document.replace(EXAMPLE_HOOK_URL, &receiver.url);
    let operations = operation_count(&document);
    let spec = scratch.file("openapi.yaml");
    let config = scratch.file("schemathesis.toml");
    write(&spec, &document);
    write(&config, CONFIG);
    let mock = MockProcess::start(&scratch.db(), &["--allow-reset"]);

    let started = Instant::now();
    let output = Command::new(&schemathesis)
        .arg("--config-file")
        .arg(&config)
        .args(["--no-color", "run"])
        .arg(&spec)
        .args(["--url", mock.base_url()])
        .args(["--header", &format!("PRIVATE-TOKEN: {TOKEN}")])
        .args(["--checks", "all", "--exclude-checks", EXCLUDED_CHECKS])
        .args(["--max-examples", MAX_EXAMPLES, "--seed", SEED])
        .args(["--workers", "1", "--generation-database", "none"])
        // The token is the mock's well-known default: show it, so the
        // printed curl commands reproduce a failure as they stand.
        .args(["--output-sanitize", "false"])
        .current_dir(scratch.file(""))
        .env("NO_PROXY", "*")
        .env("SCHEMATHESIS_HOOKS", HOOKS)
        .env("GITLAB_MOCK_URL", mock.base_url())
        .env("GITLAB_MOCK_TOKEN", TOKEN)
        .output()
        .unwrap_or_else(|error| panic!("{} cannot run: {error}", schemathesis.display()));
    let elapsed = started.elapsed();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let report = || {
        format!(
            "--- schemathesis stdout ---\n{stdout}\n--- stderr ---\n{}\n--- mock log ---\n{}",
            String::from_utf8_lossy(&output.stderr),
            mock.log().join("\n")
        )
    };
    eprintln!("schemathesis ran in {elapsed:.1?}");

    assert!(
        output.status.success(),
        "schemathesis failed ({}):\n{}",
        output.status,
        report()
    );
    let summary = format!("Selected: {operations}/{operations}\n  Tested: {operations}\n");
    assert!(
        stdout.contains(&summary),
        "not every one of the {operations} operations was tested:\n{}",
        report()
    );
    for phase in ["Examples", "Coverage", "Fuzzing", "Stateful"] {
        assert!(
            stdout.contains(&format!("✅ {phase}\n")),
            "the {phase} phase did not pass:\n{}",
            report()
        );
    }
    assert!(
        !receiver.all().is_empty(),
        "no pipeline event reached the run's receiver:\n{}",
        report()
    );
}
