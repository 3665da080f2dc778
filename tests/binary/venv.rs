//! Python virtual environments for the tests that drive the binary with a
//! Python tool (python-gitlab, schemathesis): one venv per tool under
//! `CARGO_TARGET_TMPDIR`, installed from the tool's pinned requirements
//! file and reused by later runs while it still matches them.
//!
//! Nothing is skipped: a machine where python3, venv or pip fails fails the
//! test that asked for the venv, with everything the command said.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Instant;

/// A venv of one pinned Python distribution and its dependencies.
pub struct Pinned {
    /// The venv's directory name under `CARGO_TARGET_TMPDIR`.
    pub dir: &'static str,
    /// The requirements file, every dependency pinned.
    pub requirements: &'static str,
    /// The distribution the test is about, as pip names it.
    pub distribution: &'static str,
    /// The version `requirements` pins it to.
    pub version: &'static str,
}

impl Pinned {
    /// The venv's root, built anew unless the one there was installed from
    /// these exact requirements and still holds the pinned version (a
    /// half-finished install or a hand-upgraded package does not count).
    pub fn prepare(&self) -> Result<PathBuf, String> {
        let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join(self.dir);
        let python = python(&venv);
        let stamp = venv.join("installed-requirements.txt");
        let requirements = std::fs::read_to_string(self.requirements)
            .map_err(|error| format!("cannot read {}: {error}", self.requirements))?;
        let pin = format!("{}=={}\n", self.distribution, self.version);
        if !requirements.contains(&pin) {
            return Err(format!("{} does not pin {pin}", self.requirements));
        }

        let installed = std::fs::read_to_string(&stamp).ok();
        if installed.as_ref() == Some(&requirements) && self.installed_version(&python) {
            return Ok(venv);
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
                .arg(self.requirements),
            &format!("pip install -r {}", self.requirements),
        )?;
        if !self.installed_version(&python) {
            return Err(format!(
                "pip did not install {} {}",
                self.distribution, self.version
            ));
        }
        std::fs::write(&stamp, &requirements)
            .map_err(|error| format!("cannot write {}: {error}", stamp.display()))?;
        eprintln!(
            "{} venv installed in {:.1?}",
            self.distribution,
            started.elapsed()
        );
        Ok(venv)
    }

    /// Whether `python` has the pinned version of the distribution.
    fn installed_version(&self, python: &Path) -> bool {
        let probe = format!(
            "from importlib.metadata import version; print(version({:?}))",
            self.distribution
        );
        match Command::new(python).args(["-c", &probe]).output() {
            Ok(output) if output.status.success() => {
                String::from_utf8_lossy(&output.stdout).trim() == self.version
            }
            _ => false,
        }
    }
}

/// The interpreter of the venv at `venv`.
pub fn python(venv: &Path) -> PathBuf {
    venv.join("bin").join("python")
}

/// Runs `command`, turning a failure into an error with everything it said.
pub fn succeed(command: &mut Command, what: &str) -> Result<Output, String> {
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
