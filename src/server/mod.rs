//! Starting the mock: open the store, restore the clock, bind, and serve
//! every connection through the edge (`edge.rs`).

mod edge;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;

use crate::config::Config;
use crate::http::Settings;
use crate::mock::{Mock, MockOptions};
use crate::namespaces::Namespaces;
use crate::store::StoreError;

pub use edge::NOW_HEADER;

/// Why the mock could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot open database {path:?}: {source}")]
    Database { path: String, source: StoreError },
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// Tokens from a flag or a comma-separated variable, trimmed, without the
/// empty ones a stray comma or an empty variable would add: an empty token
/// must never open a project.
fn tokens(given: &[String]) -> Vec<String> {
    given
        .iter()
        .map(|token| token.trim())
        .filter(|token| !token.is_empty())
        .map(String::from)
        .collect()
}

/// A mock bound to its address and ready to serve.
pub struct Bound {
    addr: SocketAddr,
    listener: TcpListener,
    namespaces: Arc<Namespaces>,
}

impl Bound {
    /// Opens the database named by `config`, restores the clock as it was
    /// left, and binds the listener.
    pub async fn new(config: &Config) -> Result<Self, StartError> {
        let listener = bind(config).await?;
        let addr = local_addr(&listener, config)?;

        let settings = Settings {
            allow_reset: config.allow_reset,
            non_member_tokens: Arc::from(tokens(&config.non_member_tokens)),
            private_projects: config.private_projects,
            ..Settings::new(&config.token, &format!("http://{addr}"))
        };
        let options = MockOptions {
            initial_status: config.initial_status.into(),
            global_trigger_tokens: tokens(&config.trigger_tokens),
            public_url: settings.public_url.to_string(),
            ..MockOptions::default()
        };
        let namespaces = Namespaces::open(&config.db, settings, options).map_err(|source| {
            StartError::Database {
                path: config.db.clone(),
                source,
            }
        })?;
        Ok(Self::with_namespaces(listener, addr, namespaces))
    }

    /// A bound listener serving `namespaces`.
    pub fn with_namespaces(
        listener: TcpListener,
        addr: SocketAddr,
        namespaces: Namespaces,
    ) -> Self {
        Self {
            addr,
            listener,
            namespaces: Arc::new(namespaces),
        }
    }

    /// The address actually bound, with the real port when 0 was asked.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The root namespace's mock, for callers that drive it directly.
    pub fn mock(&self) -> &Mock {
        self.namespaces.root().mock()
    }

    /// Serves until `shutdown` completes, then lets the connections finish
    /// the requests they are in.
    pub async fn serve(self, shutdown: impl Future<Output = ()> + Send + 'static) {
        // Ends by itself once the namespaces, and with them the mock, are
        // gone; each named namespace starts its own when it opens.
        self.mock().spawn_hook_scheduler();
        let edge = edge::Edge::new(self.namespaces);
        let graceful = GracefulShutdown::new();
        let mut shutdown = std::pin::pin!(shutdown);

        loop {
            let stream = tokio::select! {
                accepted = self.listener.accept() => match accepted {
                    Ok((stream, _)) => stream,
                    Err(error) => {
                        pause_after(error).await;
                        continue;
                    }
                },
                () = &mut shutdown => break,
            };
            // No header read timeout: hyper's also runs while a keep-alive
            // connection waits for its next request, and a client polling
            // every minute would find its connection closed under it.
            let connection =
                http1::Builder::new().serve_connection(TokioIo::new(stream), edge.clone());
            let connection = graceful.watch(connection);
            tokio::spawn(async move {
                if let Err(error) = connection.await {
                    tracing::debug!(%error, "connection ended with an error");
                }
            });
        }

        drop(self.listener);
        graceful.shutdown().await;
    }
}

async fn bind(config: &Config) -> Result<TcpListener, StartError> {
    let requested = SocketAddr::new(config.bind, config.port);
    TcpListener::bind(requested)
        .await
        .map_err(|source| StartError::Bind {
            addr: requested,
            source,
        })
}

fn local_addr(listener: &TcpListener, config: &Config) -> Result<SocketAddr, StartError> {
    listener.local_addr().map_err(|source| StartError::Bind {
        addr: SocketAddr::new(config.bind, config.port),
        source,
    })
}

/// After a failed accept: a connection that went away before it was taken
/// is nothing; anything else (out of file descriptors, say) is logged and
/// waited out for a moment, so the loop does not spin on it.
async fn pause_after(error: std::io::Error) {
    use std::io::ErrorKind;
    let gone = matches!(
        error.kind(),
        ErrorKind::ConnectionAborted | ErrorKind::ConnectionRefused | ErrorKind::ConnectionReset
    );
    if gone {
        return;
    }
    tracing::error!(%error, "cannot accept a connection; pausing for a second");
    tokio::time::sleep(Duration::from_secs(1)).await;
}
