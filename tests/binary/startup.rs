//! Starts that must fail: a `--db` the process cannot create, lock or open
//! ends it at once with exit code 1 and one line on stderr that names the
//! path and says why, never a panic, whatever `RUST_LOG` says.
//!
//! Where the reason comes from the operating system, the test first asks
//! the operating system itself (a probe file where the mock would put its
//! lock file) and expects the mock to pass that reason on, so no test
//! hard-codes an error text, and a mock that guessed a reason of its own
//! would be caught.

use std::fs::File;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use crate::support::{Scratch, start_expecting_failure_with};

/// The filters a failed start is tried under: the one the binary tests use,
/// and none at all. A reason that only reached the log would vanish under
/// the second.
const LOG_FILTERS: [&str; 2] = ["warn,gitlab_mock=info", "off"];

/// Starts the binary on `db` under each of [`LOG_FILTERS`] and checks the
/// failure: exit code 1, no panic, and the same single line on stderr each
/// time, which names `db` and contains `reason`. Returns that line.
fn refused(db: &Path, reason: &str) -> String {
    let db_text = db.to_str().expect("the database path is UTF-8");
    let args = ["--port", "0", "--db", db_text];
    let mut lines = Vec::new();
    for filter in LOG_FILTERS {
        let failed = start_expecting_failure_with(&args, &[("RUST_LOG", filter)]);
        let stderr = failed.stderr.trim_end();
        assert_eq!(failed.status.code(), Some(1), "RUST_LOG={filter}: {stderr}");
        assert!(!stderr.contains("panicked"), "RUST_LOG={filter}: {stderr}");
        assert_eq!(
            stderr.lines().count(),
            1,
            "RUST_LOG={filter}: not one line: {stderr}"
        );
        assert!(
            stderr.contains(db_text) && stderr.contains(reason),
            "RUST_LOG={filter}: {stderr:?} does not name {db_text} and say {reason:?}"
        );
        lines.push(stderr.to_owned());
    }
    assert_eq!(lines[0], lines[1], "the log filter changed the message");
    lines.remove(0)
}

/// What the operating system says to creating the lock file of a database
/// at `db`, which the test expects to fail; the probe is removed if it did
/// not.
fn creating_lock_file(db: &Path) -> std::io::Result<()> {
    let lock = PathBuf::from(format!("{}-lock", db.display()));
    let created = File::create(&lock).map(drop);
    if created.is_ok() {
        let _ = std::fs::remove_file(&lock);
    }
    created
}

/// A directory that does not exist is named as the one missing.
#[test]
fn a_database_in_a_missing_directory_is_refused() {
    let scratch = Scratch::new("startup_missing_directory");
    // Under the scratch directory rather than `/nonexistent-dir`, so that
    // no machine can happen to have it.
    let directory = scratch.file("no-such-directory");
    let db = directory.join("x.db");

    let line = refused(&db, "does not exist");

    let directory = directory.to_str().expect("UTF-8");
    assert!(line.contains(directory), "{line}");
}

/// A path through a regular file gets the system's "not a directory".
#[test]
fn a_database_under_a_regular_file_is_refused() {
    let scratch = Scratch::new("startup_under_a_file");
    let file = scratch.file("plain");
    std::fs::write(&file, "not a directory").expect("the file is written");
    let db = file.join("x.db");
    let reason = creating_lock_file(&db).expect_err("nothing can be created under a file");
    assert_eq!(reason.kind(), ErrorKind::NotADirectory);

    refused(&db, &reason.to_string());
}

/// A directory that exists but refuses new files gets the system's reason.
///
/// `chmod 0555` makes such a directory for an ordinary user, but root
/// (these tests run as root in CI) bypasses permission bits and writes
/// there anyway. So the test probes: the 0555 directory when it really
/// refuses a file, else `/sys`, where not even root may create one.
#[cfg(unix)]
#[test]
fn a_database_in_a_read_only_directory_is_refused() {
    use std::os::unix::fs::PermissionsExt;

    let scratch = Scratch::new("startup_read_only");
    let read_only = scratch.file("read-only");
    std::fs::create_dir(&read_only).expect("the directory is created");
    let permissions = std::fs::Permissions::from_mode(0o555);
    std::fs::set_permissions(&read_only, permissions).expect("chmod 0555");

    let candidates = [read_only, PathBuf::from("/sys")];
    let found = candidates.iter().find_map(|directory| {
        let db = directory.join(format!("gitlab-mock-{}.db", std::process::id()));
        creating_lock_file(&db).err().map(|reason| (db, reason))
    });
    let Some((db, reason)) = found else {
        panic!("no read-only directory among {candidates:?}: root may write everywhere here");
    };

    refused(&db, &reason.to_string());
}

/// `/proc` exists but takes no new files, and creating one there fails with
/// "no such file or directory". The mock must report that, not claim that
/// `/proc` is missing.
#[cfg(target_os = "linux")]
#[test]
fn a_directory_that_takes_no_files_is_not_called_missing() {
    let db = PathBuf::from(format!("/proc/gitlab-mock-{}.db", std::process::id()));
    let reason = creating_lock_file(&db).expect_err("/proc takes no new files");

    let line = refused(&db, &reason.to_string());

    assert!(!line.contains("does not exist"), "{line}");
}

/// A directory given as the database file is refused by SQLite, by name.
#[test]
fn a_directory_as_the_database_is_refused() {
    let scratch = Scratch::new("startup_directory_as_db");
    let db = scratch.file("a-directory");
    std::fs::create_dir(&db).expect("the directory is created");

    refused(&db, "unable to open database file");
}

/// A file that is not a SQLite database is refused and left as it was.
#[test]
fn a_file_that_is_not_a_database_is_refused_and_kept() {
    let scratch = Scratch::new("startup_not_a_database");
    let db = scratch.file("notes.db");
    let text = "these are someone's notes, not a database\n".repeat(64);
    std::fs::write(&db, &text).expect("the file is written");

    refused(&db, "not a database");

    let kept = std::fs::read_to_string(&db).expect("the file is still there");
    assert_eq!(kept, text, "the mock changed a file it could not open");
}
