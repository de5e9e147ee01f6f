//! The HTTP server: accept loop, connection limits, graceful shutdown, and
//! the shared state that handlers read.

mod auth;
mod body;
mod click;
mod conditional;
mod error;
mod events;
mod feed;
mod json;
mod key_usage;
mod router;
mod stream;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, combinators::BoxBody};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

pub use auth::Authenticator;
pub use error::ApiError;

use crate::config::Settings;
use crate::store::{Store, StoreError};

/// Response body: a whole buffer or a stream, boxed so that handlers can
/// return either.
pub type Body = BoxBody<Bytes, std::io::Error>;

pub fn full_body(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into())
        .map_err(|never| match never {})
        .boxed()
}

/// How long shutdown waits for in-flight requests before it gives up.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// The state shared by every handler.
pub struct AppState {
    pub store: Store,
    pub settings: Settings,
    pub auth: Authenticator,
    /// Notified after each commit that queued a webhook delivery.
    pub webhook_wakeup: crate::webhook::Wakeup,
}

impl AppState {
    /// Runs a read on a pooled connection off the async threads.
    pub async fn read<T, F>(&self, read: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&rusqlite::Connection) -> Result<T, ApiError> + Send + 'static,
    {
        let pool = self.store.pool.clone();
        tokio::task::spawn_blocking(move || {
            let conn = pool.get().map_err(StoreError::from)?;
            read(&conn)
        })
        .await
        .map_err(|err| ApiError::internal("read task failed", &err))?
    }
}

/// Serves until `shutdown` completes, then finishes in-flight requests.
pub async fn serve(
    state: Arc<AppState>,
    listener: TcpListener,
    shutdown: impl std::future::Future<Output = ()>,
) -> anyhow::Result<()> {
    let addr = listener.local_addr()?;
    tracing::info!("listening on http://{addr}");

    let usage = state.auth.usage();
    let writer = state.store.writer.clone();
    let flusher = tokio::spawn(async move { usage.flush_periodically(writer).await });

    let connections = Arc::new(Semaphore::new(state.settings.max_connections));
    let graceful = GracefulShutdown::new();
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(state.settings.header_read_timeout)
        .max_buf_size(64 * 1024);

    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = connections.clone().acquire_owned() => permit?,
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(err) => {
                    // Running out of file descriptors is the usual cause;
                    // back off instead of spinning.
                    tracing::warn!(error = %err, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };

        let state = state.clone();
        let service = service_fn(move |request| {
            let state = state.clone();
            async move { Ok::<_, Infallible>(router::handle(&state, request, peer).await) }
        });
        let connection = builder.serve_connection(TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(err) = connection.await {
                tracing::debug!(error = %err, %peer, "connection ended with an error");
            }
            drop(permit);
        });
    }

    tracing::info!("shutting down; finishing in-flight requests");
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => tracing::info!("all connections closed"),
        () = tokio::time::sleep(SHUTDOWN_GRACE) => {
            tracing::warn!(grace = ?SHUTDOWN_GRACE, "connections still open after the grace period");
        }
    }

    flusher.abort();
    state.auth.usage().flush(&state.store.writer).await;
    Ok(())
}

/// Completes on the first SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %err, "cannot listen for SIGINT");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut stream) => {
                stream.recv().await;
            }
            Err(err) => {
                tracing::error!(error = %err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();

    tokio::select! {
        () = ctrl_c => tracing::info!("received SIGINT"),
        () = terminate => tracing::info!("received SIGTERM"),
    }
}

/// Binds the listener; a clear message when the address is taken.
pub async fn bind(addr: SocketAddr) -> anyhow::Result<TcpListener> {
    TcpListener::bind(addr).await.map_err(|err| {
        anyhow::anyhow!("cannot listen on {addr}: {err}; pick another address with --listen")
    })
}
