//! One process per database file.
//!
//! SQLite itself would let two gitlab-mock processes share a file, but each
//! keeps its clock and its idea of the next pipeline in memory, so they
//! would contradict each other. A second process is therefore refused at
//! start-up, by an exclusive `flock` on a `-lock` file beside the database
//! (next to SQLite's own `-wal` and `-shm`). The lock is not taken on the
//! database file itself, because closing any descriptor of that file would
//! drop the locks SQLite holds on it.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};

/// Why the database could not be locked for this process.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error(
        "{database} is in use by another gitlab-mock process \
         (it holds {lock_file}); stop that one or pass another --db"
    )]
    InUse { database: String, lock_file: String },
    #[error("the directory {directory} does not exist")]
    NoDirectory { directory: String },
    #[error("cannot create the lock file {lock_file}: {source}")]
    Create {
        lock_file: String,
        source: std::io::Error,
    },
}

/// The held lock; released when dropped or when the process ends.
#[derive(Debug)]
pub struct DatabaseLock {
    _file: File,
}

impl DatabaseLock {
    /// Takes the lock for the database at `path`, or says who has it.
    pub fn acquire(path: &str) -> Result<Self, LockError> {
        let lock_path = PathBuf::from(format!("{path}-lock"));
        let lock_file = lock_path.display().to_string();
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|source| {
                // Not found can also mean a directory that takes no new
                // files (`/proc`), so the directory is looked at before it
                // is said to be missing.
                let directory = directory_of(path);
                match source.kind() {
                    std::io::ErrorKind::NotFound if !Path::new(&directory).is_dir() => {
                        LockError::NoDirectory { directory }
                    }
                    _ => LockError::Create {
                        lock_file: lock_file.clone(),
                        source,
                    },
                }
            })?;

        match file.try_lock() {
            Ok(()) => Ok(Self { _file: file }),
            Err(TryLockError::WouldBlock) => Err(LockError::InUse {
                database: path.to_owned(),
                lock_file,
            }),
            Err(TryLockError::Error(source)) => Err(LockError::Create { lock_file, source }),
        }
    }
}

/// The directory a database path lives in, as the user would name it.
fn directory_of(path: &str) -> String {
    match Path::new(path).parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.display().to_string(),
        _ => ".".to_owned(),
    }
}
