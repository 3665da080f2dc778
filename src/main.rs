//! The `gitlab-mock` binary: parse flags, set up logging, serve until
//! interrupted.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use tracing_subscriber::EnvFilter;

use gitlab_mock::config::Config;
use gitlab_mock::namespaces::{MAX_OPEN, open_limit};
use gitlab_mock::server::Bound;

/// mimalloc instead of the system allocator: every request allocates its
/// path segments, row and response, and glibc's malloc and free were a
/// tenth of a poll's time in the profile (SPEC.md, section 6.4).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let config = Config::parse();
    init_tracing();
    raise_open_file_limit(&config.db);

    let bound = match Bound::new(&config).await {
        Ok(bound) => bound,
        Err(error) => {
            // Printed, not logged: `RUST_LOG=off`, or a filter naming only
            // other crates, must not turn a failed start into a silent exit.
            eprintln!("gitlab-mock cannot start: {error}");
            return ExitCode::FAILURE;
        }
    };
    tracing::info!("listening on http://{}", bound.addr());
    tracing::info!(db = %config.db, allow_reset = config.allow_reset, "configuration");

    serve_until_stopped(bound).await;
    tracing::info!("stopped");
    ExitCode::SUCCESS
}

/// Raises the soft open-file limit to the hard one, as servers commonly do
/// at start: a login shell's soft limit of 1024 leaves room for about 130
/// namespaces on disk (six files each), the hard limit usually for far
/// more. Only the binary does this; the embedded mock leaves the limits of
/// the process it runs in alone.
fn raise_open_file_limit(db: &str) {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => tracing::debug!(limit, "open-file limit"),
        Err(error) => tracing::warn!(%error, "cannot raise the open-file limit"),
    }
    let in_memory = db.is_empty() || db == ":memory:";
    let namespaces = open_limit();
    if !in_memory && namespaces < MAX_OPEN {
        tracing::warn!(
            namespaces,
            "the open-file limit leaves room for only this many open namespaces; \
             raise it (ulimit -n) for up to {MAX_OPEN}"
        );
    }
}

/// How long requests in flight may take to finish once a stop is asked for;
/// a client that never finishes its request must not keep the mock alive.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Serves until Ctrl-C or SIGTERM, then lets requests in flight finish for
/// at most [`SHUTDOWN_GRACE`].
async fn serve_until_stopped(bound: Bound) {
    let (stop, stopped) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        shutdown_signal().await;
        let _ = stop.send(true);
    });

    let mut graceful = stopped.clone();
    let serving = bound.serve(async move {
        let _ = graceful.wait_for(|stopping| *stopping).await;
    });
    let mut deadline = stopped;
    let overdue = async move {
        let _ = deadline.wait_for(|stopping| *stopping).await;
        tokio::time::sleep(SHUTDOWN_GRACE).await;
    };

    tokio::select! {
        () = serving => {},
        () = overdue => tracing::warn!("requests still open after the grace period; stopping"),
    }
}

/// Logs go to stderr; `RUST_LOG` overrides the default of `info` for the
/// mock and `warn` for everything else.
fn init_tracing() {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("warn,gitlab_mock=info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}

/// Completes on Ctrl-C or SIGTERM, whichever comes first.
async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut stream) => {
                stream.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();

    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
