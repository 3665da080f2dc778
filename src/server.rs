//! Starting the mock: open the store, restore the clock, bind, serve.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;

use crate::clock::{ClockState, SystemClock, VirtualClock};
use crate::config::Config;
use crate::http::{Settings, routes};
use crate::mock::{Mock, MockOptions};
use crate::store::{Store, StoreError};

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
    mock: Mock,
    settings: Settings,
}

impl Bound {
    /// Opens the database named by `config`, restores the clock as it was
    /// left, and binds the listener.
    pub async fn new(config: &Config) -> Result<Self, StartError> {
        let database = |source| StartError::Database {
            path: config.db.clone(),
            source,
        };
        let store = Store::open(&config.db).map_err(database)?;
        let saved = store.clock_state().map_err(database)?;
        let clock = Arc::new(VirtualClock::new(
            SystemClock,
            saved.unwrap_or(ClockState::SYSTEM),
        ));

        let requested = SocketAddr::new(config.bind, config.port);
        let bind = |source| StartError::Bind {
            addr: requested,
            source,
        };
        let listener = TcpListener::bind(requested).await.map_err(bind)?;
        let addr = listener.local_addr().map_err(bind)?;

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
        let mock = Mock::with_options(store, clock, options);
        Ok(Self {
            addr,
            listener,
            mock,
            settings,
        })
    }

    /// The address actually bound, with the real port when 0 was asked.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The mock behind the routes, for callers that drive it directly.
    pub fn mock(&self) -> &Mock {
        &self.mock
    }

    /// Serves until `shutdown` completes, then finishes requests in flight.
    pub async fn serve(self, shutdown: impl Future<Output = ()> + Send + 'static) {
        // Ends by itself once the routes, and with them the mock, are gone.
        self.mock.spawn_hook_scheduler();
        let routes = routes(self.mock, self.settings);
        warp::serve(routes)
            .incoming(self.listener)
            .graceful(shutdown)
            .run()
            .await;
    }
}
