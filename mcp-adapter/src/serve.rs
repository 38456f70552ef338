//! The HTTP accept loop, with the bounds a network service needs that `axum::serve` does not
//! give: a cap on open connections, a timeout on request headers (so half-sent requests cannot
//! hold every file descriptor), the peer's address for the audit trail, and a shutdown that
//! waits only a short grace for open streams (SSE, GET) before it returns.

use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::Service;

/// The accept loop's bounds.
#[derive(Debug, Clone, Copy)]
pub struct ServeLimits {
    /// Connections open at once; one more is closed as soon as it is accepted.
    pub max_connections: usize,
    /// Time a client has to send a request's headers.
    pub header_timeout: Duration,
    /// Time open connections get to finish after shutdown is asked.
    pub shutdown_grace: Duration,
}

/// Serves `app` on `listener` until `shutdown` resolves, then gives open connections
/// `limits.shutdown_grace` to finish and returns.
pub async fn serve(
    listener: TcpListener,
    app: axum::Router,
    limits: ServeLimits,
    shutdown: impl Future<Output = ()>,
) {
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    // HTTP/1.1 only: MCP clients speak it, and without protocol sniffing the header timeout runs
    // from the first moment of a connection, so one that sends nothing is closed too.
    let mut builder = Builder::new(TokioExecutor::new()).http1_only();
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    let mut refused_logged = false;
    tokio::pin!(shutdown);
    loop {
        let (tcp, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Out of file descriptors or a reset during accept: pause instead of spinning.
                    tracing::warn!(target: "security", "accept failed: {}", e.kind());
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            if !refused_logged {
                tracing::warn!(target: "security", max = limits.max_connections, "connection limit reached (MCP_MAX_CONNECTIONS): closing new connections until some end");
                refused_logged = true;
            }
            drop(tcp);
            continue;
        };
        refused_logged = false;
        // Without NODELAY every streamed response waits ~40 ms for Nagle.
        let _ = tcp.set_nodelay(true);
        let app = app.clone();
        let service = hyper::service::service_fn(move |mut request: http::Request<_>| {
            request.extensions_mut().insert(ConnectInfo(remote));
            app.clone().call(request.map(axum::body::Body::new))
        });
        let connection = builder
            .serve_connection_with_upgrades(TokioIo::new(tcp), service)
            .into_owned();
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            let _ = connection.await;
            drop(permit);
        });
    }
    drop(listener);
    tokio::select! {
        _ = graceful.shutdown() => {}
        _ = tokio::time::sleep(limits.shutdown_grace) => {
            tracing::info!("shutdown grace over: closing the streams still open");
        }
    }
}

/// The peer of a request served by [`serve`], for logs and the audit trail.
pub fn peer(request: &axum::extract::Request) -> String {
    request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.to_string())
        .unwrap_or_else(|| "unknown".into())
}
