//! Isolated namespaces: a whole mock per base URL.
//!
//! A request to `/ns/{name}/…` is served by the namespace `name`, with its
//! own clock, pipelines (ids from 1), scenarios, rules, journal and faults;
//! any other request by the root namespace. A system under test then needs
//! only a different GitLab URL, and parallel tests sharing one server never
//! see each other.
//!
//! Each named namespace is a complete [`Mock`] over its own SQLite file,
//! `<db>-namespaces/<name>.db` beside the root's database, so nothing in
//! the store or the domain knows namespaces exist, and deleting one is
//! deleting its file. A namespace springs into being on the first request
//! that names it, and is opened again from its file on the first request
//! after a restart. With an in-memory root database every namespace is in
//! memory too.
//!
//! Each open namespace costs a commit thread and two SQLite connections,
//! so a suite that makes one per test should delete them when done.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parking_lot::RwLock;
use warp::filters::BoxedFilter;
use warp::reply::Response;

use crate::clock::{ClockState, SystemClock, VirtualClock};
use crate::http::{Settings, routes};
use crate::mock::{Mock, MockOptions};
use crate::store::{Store, StoreError};

/// The path segment that introduces a namespace name.
pub const PREFIX: &str = "/ns/";

/// The longest namespace name.
pub const MAX_NAME_LEN: usize = 64;

/// How many named namespaces may be open at once. Each holds a thread and
/// two SQLite connections; past this, a runaway suite gets a clear refusal
/// instead of exhausting the process's threads or file descriptors.
pub const MAX_OPEN: usize = 1000;

/// Why a namespace could not be used.
#[derive(Debug, thiserror::Error)]
pub enum NamespaceError {
    #[error("namespace names are 1 to 64 letters, digits, '-' or '_'; {0:?} is not one")]
    InvalidName(String),
    #[error("namespace {0:?} not found")]
    NotFound(String),
    #[error("{MAX_OPEN} namespaces are open; delete some with DELETE /_mock/namespaces/{{name}}")]
    TooMany,
    #[error("namespace store: {0}")]
    Store(#[from] StoreError),
    #[error("namespace files: {0}")]
    Files(#[from] std::io::Error),
}

/// Whether `name` may name a namespace; the same characters are safe as a
/// file name on every system.
pub fn is_valid_name(name: &str) -> bool {
    let allowed = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    (1..=MAX_NAME_LEN).contains(&name.len()) && name.chars().all(allowed)
}

/// One namespace: its mock and the routes serving it.
pub struct Namespace {
    name: Option<String>,
    mock: Mock,
    routes: BoxedFilter<(Response,)>,
}

impl std::fmt::Debug for Namespace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Namespace")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl Namespace {
    fn new(name: Option<String>, mock: Mock, settings: Settings) -> Self {
        let routes = routes(mock.clone(), settings);
        Self { name, mock, routes }
    }

    /// `None` for the root.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    pub fn mock(&self) -> &Mock {
        &self.mock
    }

    /// Answers `request`, whose path has had the namespace prefix taken
    /// off, through the namespace's routes.
    pub async fn serve<B>(&self, request: warp::http::Request<B>) -> Response
    where
        B: hyper::body::Body + Send + Sync + 'static,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let mut service = warp::service(self.routes.clone());
        match tower_service::Service::call(&mut service, request).await {
            Ok(response) => response,
            Err(never) => match never {},
        }
    }
}

/// Opens the database at `path` and the mock over it, with the clock as
/// it was last left there.
pub fn open_mock(path: &str, options: MockOptions) -> Result<Mock, StoreError> {
    let store = Store::open(path)?;
    let saved = store.clock_state()?;
    let clock = VirtualClock::new(SystemClock, saved.unwrap_or(ClockState::SYSTEM));
    Ok(Mock::with_options(store, Arc::new(clock), options))
}

/// The root namespace and the named ones.
#[derive(Debug)]
pub struct Namespaces {
    root: Arc<Namespace>,
    directory: Arc<Directory>,
}

impl Namespaces {
    /// Opens the root's database at `db`; named namespaces are opened when
    /// first addressed. `settings` and `options` apply to every namespace.
    pub fn open(db: &str, settings: Settings, options: MockOptions) -> Result<Self, StoreError> {
        let mock = open_mock(db, options.clone())?;
        Ok(Self::with_root_mock(db, mock, settings, options))
    }

    /// Namespaces around an existing root mock.
    pub fn with_root_mock(db: &str, mock: Mock, settings: Settings, options: MockOptions) -> Self {
        let directory = Arc::new(Directory::new(db, settings.clone(), options));
        let root_settings = Settings {
            namespaces: Some(Arc::clone(&directory)),
            ..settings
        };
        Self {
            root: Arc::new(Namespace::new(None, mock, root_settings)),
            directory,
        }
    }

    pub fn root(&self) -> &Arc<Namespace> {
        &self.root
    }

    pub fn directory(&self) -> &Arc<Directory> {
        &self.directory
    }
}

/// Where named namespaces keep their data.
#[derive(Debug)]
enum Storage {
    Memory,
    Folder(PathBuf),
}

impl Storage {
    fn beside(db: &str) -> Self {
        match db {
            "" | ":memory:" => Self::Memory,
            _ => Self::Folder(PathBuf::from(format!("{db}-namespaces"))),
        }
    }
}

/// The named namespaces: the open ones, and the files of those not opened
/// since the last start.
#[derive(Debug)]
pub struct Directory {
    storage: Storage,
    settings: Settings,
    options: MockOptions,
    open: RwLock<BTreeMap<String, Arc<Namespace>>>,
}

impl Directory {
    /// The named namespaces beside the root database `db` (in memory when
    /// it is), each served with `settings` and `options`.
    pub fn new(db: &str, settings: Settings, options: MockOptions) -> Self {
        Self {
            storage: Storage::beside(db),
            settings,
            options,
            open: RwLock::new(BTreeMap::new()),
        }
    }

    /// The namespace `name`, opened or created if need be.
    pub fn get(&self, name: &str) -> Result<Arc<Namespace>, NamespaceError> {
        if let Some(namespace) = self.open.read().get(name) {
            return Ok(Arc::clone(namespace));
        }
        if !is_valid_name(name) {
            return Err(NamespaceError::InvalidName(name.to_owned()));
        }

        // Opened under the write lock, so two first requests at once open
        // the file once. Opening takes a few milliseconds, once per
        // namespace per run.
        let mut open = self.open.write();
        if let Some(namespace) = open.get(name) {
            return Ok(Arc::clone(namespace));
        }
        if open.len() >= MAX_OPEN {
            return Err(NamespaceError::TooMany);
        }
        let namespace = Arc::new(self.create(name)?);
        open.insert(name.to_owned(), Arc::clone(&namespace));
        tracing::info!(namespace = name, "namespace opened");
        Ok(namespace)
    }

    fn create(&self, name: &str) -> Result<Namespace, NamespaceError> {
        let path = match &self.storage {
            Storage::Memory => ":memory:".to_owned(),
            Storage::Folder(folder) => {
                std::fs::create_dir_all(folder)?;
                database_file(folder, name).to_string_lossy().into_owned()
            }
        };
        let mock = open_mock(&path, self.options.clone())?;
        let settings = Settings {
            base_path: Arc::from(format!("{PREFIX}{name}")),
            namespaces: None,
            ..self.settings.clone()
        };
        Ok(Namespace::new(Some(name.to_owned()), mock, settings))
    }

    /// Every namespace, open or only on disk, by name.
    pub fn names(&self) -> Result<Vec<String>, NamespaceError> {
        let mut names: Vec<String> = self.open.read().keys().cloned().collect();
        if let Storage::Folder(folder) = &self.storage {
            names.extend(names_on_disk(folder)?);
        }
        names.sort();
        names.dedup();
        Ok(names)
    }

    /// Closes the namespace and deletes its data. Requests already inside
    /// it finish against the closed store; the next request that names it
    /// starts a fresh one.
    pub fn delete(&self, name: &str) -> Result<(), NamespaceError> {
        if !is_valid_name(name) {
            return Err(NamespaceError::NotFound(name.to_owned()));
        }

        let was_open = self.open.write().remove(name).is_some();
        let had_files = match &self.storage {
            Storage::Memory => false,
            Storage::Folder(folder) => remove_files(folder, name)?,
        };
        if !was_open && !had_files {
            return Err(NamespaceError::NotFound(name.to_owned()));
        }
        tracing::info!(namespace = name, "namespace deleted");
        Ok(())
    }
}

fn database_file(folder: &Path, name: &str) -> PathBuf {
    folder.join(format!("{name}.db"))
}

/// The names of the databases in `folder`; none when it does not exist.
fn names_on_disk(folder: &Path) -> Result<Vec<String>, NamespaceError> {
    let entries = match std::fs::read_dir(folder) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(error) => return Err(error.into()),
    };
    let mut names = Vec::new();
    for entry in entries {
        let file_name = entry?.file_name();
        let stem = file_name.to_str().and_then(|file| file.strip_suffix(".db"));
        names.extend(stem.filter(|stem| is_valid_name(stem)).map(String::from));
    }
    Ok(names)
}

/// Removes a namespace's database and the files SQLite and the lock keep
/// beside it; whether the database was there.
fn remove_files(folder: &Path, name: &str) -> Result<bool, NamespaceError> {
    let database = database_file(folder, name);
    let existed = database.exists();
    for suffix in ["", "-wal", "-shm", "-lock"] {
        let path = PathBuf::from(format!("{}{suffix}", database.display()));
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => return Err(error.into()),
        }
    }
    Ok(existed)
}
