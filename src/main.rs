//! The `gitlab-mock` binary: parse flags, set up logging, serve until
//! interrupted.

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;

use gitlab_mock::config::Config;
use gitlab_mock::server::Bound;

#[tokio::main]
async fn main() -> ExitCode {
    let config = Config::parse();
    init_tracing();

    let bound = match Bound::new(&config).await {
        Ok(bound) => bound,
        Err(error) => {
            tracing::error!(%error, "gitlab-mock cannot start");
            return ExitCode::FAILURE;
        }
    };
    tracing::info!("listening on http://{}", bound.addr());
    tracing::info!(db = %config.db, allow_reset = config.allow_reset, "configuration");

    bound.serve(shutdown_signal()).await;
    tracing::info!("stopped");
    ExitCode::SUCCESS
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
