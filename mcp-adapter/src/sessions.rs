//! Streamable-HTTP sessions bound to the caller who opened them, capped, and expired when idle.
//!
//! rmcp keeps the sessions; this module keeps who owns each. A request naming a session
//! (`Mcp-Session-Id`) from any other caller is answered 404, exactly as an unknown session, so a
//! leaked session id is useless without its token. New sessions are refused past
//! `MCP_MAX_SESSIONS_PER_CALLER` (429) or `MCP_MAX_SESSIONS` (503), and a session unused for
//! `MCP_SESSION_IDLE_SECS` is closed, so one token cannot fill memory with sessions.

use crate::security::roles::Caller;
use axum::extract::{Request, State};
use axum::http::{header::HeaderName, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::session::SessionManager;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const SESSION_HEADER: HeaderName = HeaderName::from_static("mcp-session-id");

/// How many sessions may be open, and for how long unused.
#[derive(Debug, Clone, Copy)]
pub struct SessionLimits {
    /// Sessions open at once, all callers together.
    pub total: usize,
    /// Sessions open at once per caller.
    pub per_caller: usize,
    /// A session unused this long is closed.
    pub idle: Duration,
}

struct Owned {
    owner: String,
    last_used: Instant,
}

#[derive(Default)]
struct Table {
    sessions: HashMap<String, Owned>,
    /// Initializes under way, per caller: counted against the caps until they answer.
    pending: HashMap<String, usize>,
}

impl Table {
    fn open_by(&self, caller: &str) -> usize {
        self.sessions.values().filter(|s| s.owner == caller).count()
            + self.pending.get(caller).copied().unwrap_or(0)
    }

    fn open_total(&self) -> usize {
        self.sessions.len() + self.pending.values().sum::<usize>()
    }

    fn release_pending(&mut self, caller: &str) {
        if let Some(n) = self.pending.get_mut(caller) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.pending.remove(caller);
            }
        }
    }
}

/// Who owns which streamable-HTTP session.
pub struct SessionRegistry {
    limits: SessionLimits,
    table: Mutex<Table>,
    manager: Arc<LocalSessionManager>,
}

/// Why a new session was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum SessionRefusal {
    /// The caller has `per_caller` sessions open.
    CallerFull,
    /// The server has `total` sessions open.
    ServerFull,
}

impl SessionRegistry {
    /// A registry for the sessions of `manager`.
    pub fn new(limits: SessionLimits, manager: Arc<LocalSessionManager>) -> Arc<Self> {
        Arc::new(SessionRegistry {
            limits,
            table: Mutex::new(Table::default()),
            manager,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Table> {
        self.table.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Counts one session under way for `caller`, or refuses it at a cap. The count lasts
    /// until the reservation is settled or dropped (a request cut short releases it too).
    pub fn reserve(self: &Arc<Self>, caller: &str) -> Result<Reservation, SessionRefusal> {
        let mut table = self.lock();
        if table.open_by(caller) >= self.limits.per_caller {
            return Err(SessionRefusal::CallerFull);
        }
        if table.open_total() >= self.limits.total {
            return Err(SessionRefusal::ServerFull);
        }
        *table.pending.entry(caller.to_string()).or_default() += 1;
        Ok(Reservation {
            registry: self.clone(),
            caller: caller.to_string(),
        })
    }

    /// Whether `id` is open and owned by `caller`; if so, marks it used now.
    pub fn use_session(&self, id: &str, caller: &str) -> bool {
        let mut table = self.lock();
        match table.sessions.get_mut(id) {
            Some(session) if session.owner == caller => {
                session.last_used = Instant::now();
                true
            }
            _ => false,
        }
    }

    /// Forgets a session its owner deleted.
    pub fn forget(&self, id: &str) {
        self.lock().sessions.remove(id);
    }

    /// Sessions open now.
    pub fn open_sessions(&self) -> usize {
        self.lock().sessions.len()
    }

    /// Closes the sessions unused for longer than the idle limit; returns how many.
    pub async fn close_idle(&self) -> usize {
        let idle: Vec<String> = {
            let mut table = self.lock();
            let now = Instant::now();
            let ids: Vec<String> = table
                .sessions
                .iter()
                .filter(|(_, s)| now.duration_since(s.last_used) > self.limits.idle)
                .map(|(id, _)| id.clone())
                .collect();
            for id in &ids {
                table.sessions.remove(id);
            }
            ids
        };
        for id in &idle {
            let _ = self.manager.close_session(&id.as_str().into()).await;
        }
        idle.len()
    }

    /// Runs [`close_idle`](Self::close_idle) every few seconds, for as long as the server runs.
    pub fn spawn_reaper(self: &Arc<Self>) {
        let registry = Arc::downgrade(self);
        let every = (self.limits.idle / 4).clamp(Duration::from_secs(1), Duration::from_secs(30));
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                let Some(registry) = registry.upgrade() else {
                    return;
                };
                let closed = registry.close_idle().await;
                if closed > 0 {
                    tracing::info!(closed, "closed idle MCP sessions");
                }
            }
        });
    }
}

/// A session being opened, counted against the caps.
pub struct Reservation {
    registry: Arc<SessionRegistry>,
    caller: String,
}

impl Reservation {
    /// The session `id` was opened, or (`None`) none was.
    pub fn settle(self, id: Option<String>) {
        if let Some(id) = id {
            self.registry.lock().sessions.insert(
                id,
                Owned {
                    owner: self.caller.clone(),
                    last_used: Instant::now(),
                },
            );
        }
        // Drop releases the pending count.
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        self.registry.lock().release_pending(&self.caller);
    }
}

/// Middleware in front of rmcp's streamable HTTP service: binds sessions to callers, enforces
/// the caps, answers DELETE with 204 (and an unknown or foreign session with 404).
pub async fn bind_sessions(
    State(registry): State<Arc<SessionRegistry>>,
    request: Request,
    next: Next,
) -> Response {
    let caller = request
        .extensions()
        .get::<Caller>()
        .cloned()
        .unwrap_or(Caller::Open);
    let caller = caller.id().to_string();
    let named = request
        .headers()
        .get(&SESSION_HEADER)
        .map(|v| v.to_str().unwrap_or_default().to_string());
    match named {
        Some(id) => {
            if !registry.use_session(&id, &caller) {
                return (StatusCode::NOT_FOUND, "Not Found: no such session").into_response();
            }
            let delete = request.method() == Method::DELETE;
            let response = next.run(request).await;
            if delete && response.status().is_success() {
                registry.forget(&id);
                return StatusCode::NO_CONTENT.into_response();
            }
            response
        }
        None if request.method() == Method::POST => {
            let reservation = match registry.reserve(&caller) {
                Ok(reservation) => reservation,
                Err(refusal) => {
                    let limits = registry.limits;
                    return match refusal {
                    SessionRefusal::CallerFull => (
                        StatusCode::TOO_MANY_REQUESTS,
                        format!(
                            "too many open MCP sessions for this token ({}): close some (HTTP DELETE) or wait {} s for idle ones to expire",
                            limits.per_caller,
                            limits.idle.as_secs()
                        ),
                    )
                        .into_response(),
                    SessionRefusal::ServerFull => (
                        StatusCode::SERVICE_UNAVAILABLE,
                        format!(
                            "the server has its maximum of {} MCP sessions open; retry later",
                            limits.total
                        ),
                    )
                        .into_response(),
                };
                }
            };
            let response = next.run(request).await;
            let opened = response
                .headers()
                .get(&SESSION_HEADER)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            reservation.settle(opened);
            response
        }
        None => next.run(request).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registry(per_caller: usize, total: usize) -> Arc<SessionRegistry> {
        SessionRegistry::new(
            SessionLimits {
                total,
                per_caller,
                idle: Duration::from_millis(20),
            },
            Arc::new(LocalSessionManager::default()),
        )
    }

    #[test]
    fn sessions_are_owned_and_capped() {
        let r = registry(2, 3);
        for id in ["a1", "a2"] {
            r.reserve("alice").unwrap().settle(Some(id.into()));
        }
        assert_eq!(r.reserve("alice").err(), Some(SessionRefusal::CallerFull));
        let bob = r.reserve("bob").unwrap();
        assert_eq!(r.reserve("carol").err(), Some(SessionRefusal::ServerFull));
        drop(bob);
        r.reserve("carol").unwrap().settle(None);
        r.reserve("carol").unwrap();
        assert!(r.use_session("a1", "alice"));
        assert!(
            !r.use_session("a1", "bob"),
            "another caller's session is unknown to it"
        );
        assert!(!r.use_session("zz", "alice"));
        r.forget("a1");
        assert!(!r.use_session("a1", "alice"));
    }

    #[tokio::test]
    async fn idle_sessions_are_closed() {
        let r = registry(5, 5);
        r.reserve("alice").unwrap().settle(Some("a1".into()));
        tokio::time::sleep(Duration::from_millis(40)).await;
        assert_eq!(r.close_idle().await, 1);
        assert_eq!(r.open_sessions(), 0);
    }
}
