//! The 2024-11-05 HTTP+SSE transport, for MCP clients that predate streamable HTTP.
//!
//! `GET /sse` opens an event stream. Its first event, `endpoint`, names the URL to POST
//! JSON-RPC messages to (`/messages?session_id=<id>`); each POST is answered `202 Accepted` and
//! the reply arrives on the stream as a `message` event. rmcp no longer ships this transport, so
//! each connection is an rmcp service over a channel pair (rmcp's sink/stream transport).
//!
//! A session belongs to the caller who opened it: a POST with another caller's token is answered
//! like an unknown session, so a leaked session id is useless without its token.

use crate::security::roles::Caller;
use crate::server::DojoServer;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use bytes::Bytes;
use futures::channel::mpsc;
use futures::{SinkExt, Stream, StreamExt};
use rmcp::model::{ClientJsonRpcMessage, ServerJsonRpcMessage};
use rmcp::ServiceExt;
use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};

/// Messages buffered per direction before a slow peer applies back-pressure.
const CHANNEL_DEPTH: usize = 64;

/// Builds the MCP server for a new session of `caller`.
pub type ServerFactory = dyn Fn(Caller) -> DojoServer + Send + Sync;

struct Session {
    caller: Caller,
    to_server: mpsc::Sender<ClientJsonRpcMessage>,
}

/// The open SSE sessions.
pub struct SseSessions {
    sessions: Mutex<HashMap<String, Session>>,
    new_server: Box<ServerFactory>,
    max_sessions: usize,
    max_per_caller: usize,
}

impl SseSessions {
    /// Sessions served by `new_server`, at most `max_sessions` at once and `max_per_caller`
    /// per caller.
    pub fn new(
        new_server: Box<ServerFactory>,
        max_sessions: usize,
        max_per_caller: usize,
    ) -> Arc<Self> {
        Arc::new(SseSessions {
            sessions: Mutex::new(HashMap::new()),
            new_server,
            max_sessions,
            max_per_caller,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Session>> {
        // A panic elsewhere cannot leave the map half-written: every change is one insert/remove.
        self.sessions.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// `GET /sse` and `POST /messages`. Expects a [`Caller`] in the request extensions (the auth
/// middleware puts it there).
pub fn router(sessions: Arc<SseSessions>) -> Router {
    Router::new()
        .route("/sse", get(open_stream))
        .route("/messages", post(post_message))
        .route("/messages/", post(post_message))
        // The body check in front (`http::check_body`) enforces MCP_MAX_BODY_BYTES.
        .layer(axum::extract::DefaultBodyLimit::disable())
        .with_state(sessions)
}

/// Removes its session when the client's event stream goes away, which ends the rmcp service.
struct SessionGuard {
    id: String,
    sessions: Arc<SseSessions>,
}

impl Drop for SessionGuard {
    fn drop(&mut self) {
        self.sessions.lock().remove(&self.id);
    }
}

async fn open_stream(
    State(sessions): State<Arc<SseSessions>>,
    Extension(caller): Extension<Caller>,
) -> Response {
    let id = hex::encode(rand::random::<[u8; 16]>());
    let (to_server, from_client) = mpsc::channel::<ClientJsonRpcMessage>(CHANNEL_DEPTH);
    let (to_client, from_server) = mpsc::channel::<ServerJsonRpcMessage>(CHANNEL_DEPTH);
    {
        let mut open = sessions.lock();
        if open.values().filter(|s| s.caller == caller).count() >= sessions.max_per_caller {
            return (
                StatusCode::TOO_MANY_REQUESTS,
                format!(
                    "too many open SSE sessions for this token ({}); close one and retry",
                    sessions.max_per_caller
                ),
            )
                .into_response();
        }
        if open.len() >= sessions.max_sessions {
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                "too many open SSE sessions; retry later",
            )
                .into_response();
        }
        open.insert(
            id.clone(),
            Session {
                caller: caller.clone(),
                to_server,
            },
        );
    }
    let server = (sessions.new_server)(caller);
    tokio::spawn(async move {
        match server.serve((to_client, from_client)).await {
            Ok(running) => {
                let _ = running.waiting().await;
            }
            Err(e) => tracing::debug!("SSE session ended before initialize: {e}"),
        }
    });
    let guard = SessionGuard {
        id: id.clone(),
        sessions,
    };
    let endpoint = Event::default()
        .event("endpoint")
        .data(format!("/messages?session_id={id}"));
    let messages = from_server.map(move |message| {
        let _alive = &guard;
        Ok::<_, Infallible>(message_event(&message))
    });
    let stream: std::pin::Pin<Box<dyn Stream<Item = Result<Event, Infallible>> + Send>> =
        Box::pin(futures::stream::once(async { Ok(endpoint) }).chain(messages));
    Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response()
}

fn message_event(message: &ServerJsonRpcMessage) -> Event {
    match serde_json::to_string(message) {
        Ok(json) => Event::default().event("message").data(json),
        Err(_) => Event::default().comment("unserializable message dropped"),
    }
}

#[derive(serde::Deserialize)]
struct SessionQuery {
    session_id: String,
}

async fn post_message(
    State(sessions): State<Arc<SseSessions>>,
    Extension(caller): Extension<Caller>,
    Query(query): Query<SessionQuery>,
    body: Bytes,
) -> Response {
    let message: ClientJsonRpcMessage = match crate::jsonrpc::parse_client_message(&body) {
        Ok(message) => message,
        Err(error) => return (StatusCode::BAD_REQUEST, Json(error)).into_response(),
    };
    let sender = {
        let open = sessions.lock();
        match open.get(&query.session_id) {
            Some(session) if session.caller == caller => session.to_server.clone(),
            _ => return (StatusCode::NOT_FOUND, "unknown session").into_response(),
        }
    };
    let mut sender = sender;
    match sender.send(message).await {
        Ok(()) => (StatusCode::ACCEPTED, "Accepted").into_response(),
        Err(_) => (StatusCode::NOT_FOUND, "unknown session").into_response(),
    }
}
