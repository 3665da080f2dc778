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
use std::sync::{Arc, OnceLock};

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

/// The files a namespace on disk keeps open: its database and its WAL
/// through each of two connections, the shared-memory index, and the lock
/// that keeps a second process off it.
pub const FILES_PER_NAMESPACE: u64 = 6;

/// The open files left to everything else (the root's database, the
/// listener, client connections, hook deliveries) when the open-file limit
/// decides how many namespaces fit.
pub const FILES_KEPT_FREE: u64 = 256;

/// How many namespaces may be open at once in this process: [`MAX_OPEN`],
/// or fewer when its open-file limit (`ulimit -n`) cannot hold that many
/// beside [`FILES_KEPT_FREE`]. Without a cap under the limit, the opens
/// past it failed as 500s, and the root stopped accepting connections.
pub fn open_limit() -> usize {
    let Ok((soft, _)) = rlimit::Resource::NOFILE.get() else {
        return MAX_OPEN;
    };
    let fitting = soft.saturating_sub(FILES_KEPT_FREE) / FILES_PER_NAMESPACE;
    usize::try_from(fitting).map_or(MAX_OPEN, |fitting| fitting.min(MAX_OPEN))
}

/// Why a namespace could not be used.
#[derive(Debug, thiserror::Error)]
pub enum NamespaceError {
    #[error("namespace names are 1 to 64 letters, digits, '-' or '_'; {0:?} is not one")]
    InvalidName(String),
    #[error("namespace {0:?} not found")]
    NotFound(String),
    #[error(
        "{0} namespaces are open, the most this server takes ({MAX_OPEN}, or fewer under a low \
         open-file limit); delete some with DELETE /_mock/namespaces/{{name}}"
    )]
    TooMany(usize),
    #[error("namespace {0:?} is being opened; try again")]
    Opening(String),
    #[error("namespace cannot be opened: {0}")]
    Unavailable(String),
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

/// A namespace being opened, or open. The map's lock is held only to find
/// or add a slot; the file is opened inside the slot, outside that lock, so
/// opening one namespace holds up only the requests that name it. A failed
/// open keeps its reason.
type Slot = Arc<OnceLock<Result<Arc<Namespace>, String>>>;

/// The named namespaces: the open ones, and the files of those not opened
/// since the last start.
#[derive(Debug)]
pub struct Directory {
    storage: Storage,
    settings: Settings,
    options: MockOptions,
    open: RwLock<BTreeMap<String, Slot>>,
    /// How many may be open at once: [`open_limit`] when the directory
    /// was made, or [`MAX_OPEN`] in memory.
    max_open: usize,
}

impl Directory {
    /// The named namespaces beside the root database `db` (in memory when
    /// it is), each served with `settings` and `options`.
    pub fn new(db: &str, settings: Settings, options: MockOptions) -> Self {
        let storage = Storage::beside(db);
        // Namespaces in memory hold no files.
        let max_open = match storage {
            Storage::Memory => MAX_OPEN,
            Storage::Folder(_) => open_limit(),
        };
        Self {
            storage,
            settings,
            options,
            open: RwLock::new(BTreeMap::new()),
            max_open,
        }
    }

    /// The namespace `name` names, opened or created if need be.
    pub fn get(&self, name: &str) -> Result<Arc<Namespace>, NamespaceError> {
        let name = canonical(name).ok_or_else(|| NamespaceError::InvalidName(name.to_owned()))?;
        let slot = self.slot(&name)?;

        let opened = slot.get_or_init(|| {
            let namespace = self.create(&name).map_err(|error| error.to_string())?;
            tracing::info!(namespace = %name, "namespace opened");
            Ok(Arc::new(namespace))
        });
        match opened {
            Ok(namespace) => Ok(Arc::clone(namespace)),
            Err(reason) => {
                self.forget(&name, &slot);
                Err(NamespaceError::Unavailable(reason.clone()))
            }
        }
    }

    /// The slot for `name`, added empty when there is none.
    fn slot(&self, name: &str) -> Result<Slot, NamespaceError> {
        if let Some(slot) = self.open.read().get(name) {
            return Ok(Arc::clone(slot));
        }
        let mut open = self.open.write();
        if let Some(slot) = open.get(name) {
            return Ok(Arc::clone(slot));
        }
        if open.len() >= self.max_open {
            return Err(NamespaceError::TooMany(self.max_open));
        }
        let slot = Slot::default();
        open.insert(name.to_owned(), Arc::clone(&slot));
        Ok(slot)
    }

    /// Drops a slot whose open failed, so the next request tries again.
    fn forget(&self, name: &str, failed: &Slot) {
        let mut open = self.open.write();
        if open.get(name).is_some_and(|slot| Arc::ptr_eq(slot, failed)) {
            open.remove(name);
        }
    }

    fn create(&self, name: &str) -> Result<Namespace, NamespaceError> {
        let base_path = format!("{PREFIX}{name}");
        let options = MockOptions {
            public_url: format!("{}{base_path}", self.options.public_url),
            ..self.options.clone()
        };
        let mock = match &self.storage {
            Storage::Memory => open_mock(":memory:", options)?,
            Storage::Folder(folder) => open_file(folder, name, options)?,
        };
        // Runs while the namespace's mock lives, and ends with it.
        mock.spawn_hook_scheduler();
        let settings = Settings {
            base_path: Arc::from(base_path),
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
    /// starts a fresh one. The map stays locked until the files are gone,
    /// so no request can open the old files in between.
    pub fn delete(&self, name: &str) -> Result<(), NamespaceError> {
        let name = canonical(name).ok_or_else(|| NamespaceError::NotFound(name.to_owned()))?;

        let mut open = self.open.write();
        let slot = open.get(&name).cloned();
        if slot.as_ref().is_some_and(|slot| slot.get().is_none()) {
            return Err(NamespaceError::Opening(name));
        }
        let removed = open.remove(&name);
        if let Some(Ok(namespace)) = removed.as_ref().and_then(|slot| slot.get()) {
            namespace.mock().stop_hook_deliveries();
        }
        let was_open = removed.is_some();
        let had_files = match &self.storage {
            Storage::Memory => false,
            Storage::Folder(folder) => remove_files(folder, &name)?,
        };
        drop(open);

        if !was_open && !had_files {
            return Err(NamespaceError::NotFound(name));
        }
        tracing::info!(namespace = %name, "namespace deleted");
        Ok(())
    }
}

/// The name a namespace is kept under: names are case-insensitive, as on
/// the file systems that cannot tell `A.db` from `a.db`.
fn canonical(name: &str) -> Option<String> {
    is_valid_name(name).then(|| name.to_ascii_lowercase())
}

/// Opens a namespace's file; a file this attempt created is removed again
/// when the open fails (out of file descriptors, say), so a failure leaves
/// no namespace behind to be listed.
fn open_file(folder: &Path, name: &str, options: MockOptions) -> Result<Mock, NamespaceError> {
    std::fs::create_dir_all(folder)?;
    let database = database_file(folder, name);
    let existed = database.exists();

    let opened = open_mock(&database.to_string_lossy(), options);
    if opened.is_err() && !existed {
        let _ = remove_files(folder, name);
    }
    Ok(opened?)
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
        let canonical = stem.filter(|stem| canonical(stem).as_deref() == Some(*stem));
        names.extend(canonical.map(String::from));
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
