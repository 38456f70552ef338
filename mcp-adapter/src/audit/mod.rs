//! The audit trail: one record per tool call (allowed or denied), chained with HMAC-SHA256 so
//! any edit, deletion, insertion, reordering or truncation shows, written to stderr (through
//! `tracing`, target `audit`), to `AUDIT_LOG_FILE`, and forwarded to syslog and/or HTTPS.
//!
//! [`chain`] defines the canonical bytes and the MAC; [`verify`] checks a log; [`file`](mod@file),
//! [`spool`], [`forward`], [`syslog`] and [`https`] are the sinks.

pub mod chain;
pub mod cli;
pub mod file;
pub mod forward;
pub mod https;
pub mod setup;
pub mod spool;
pub mod syslog;
pub mod tls;
pub mod verify;

use forward::{DropReport, ForwarderHandle};
use serde::Serialize;
use serde_json::Value;
use std::path::PathBuf;
use std::sync::Mutex;

/// One audit record of a tool call. Field names follow the Python server.
#[derive(Debug, Clone, Serialize)]
pub struct AuditRecord {
    /// RFC 3339 time the call ended.
    pub timestamp: String,
    /// `tool_call`, `tool_denied`, `rate_limited`, `input_rejected`.
    pub event_type: &'static str,
    /// `success`, `error` or `denied`.
    pub outcome: &'static str,
    /// The tool's name as called.
    pub tool: String,
    /// Trusted: who the token belongs to.
    pub authenticated_caller_id: String,
    /// Untrusted: what the client says it is (`_meta.client_id`).
    pub caller_id: Option<String>,
    /// The JSON-RPC request id.
    pub request_id: String,
    /// Wall time of the call in milliseconds.
    pub duration_ms: f64,
    /// Arguments with long text and file content cut.
    pub arguments: Value,
    /// For mutations: finding ids this session read before.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub findings_read_before_mutation: Option<Vec<i64>>,
    /// Why it failed or was denied.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// A record about the audit trail itself: chain start, records lost to a full spool.
#[derive(Debug, Clone, Serialize)]
pub struct AuditNotice {
    /// RFC 3339 time.
    pub timestamp: String,
    /// `lifecycle` or `audit_records_dropped`.
    pub event_type: &'static str,
    /// `success` or `error`.
    pub outcome: &'static str,
    /// What happened, with its numbers.
    pub detail: Value,
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// The chain envelope: `seq` first (so a line's position is readable at a glance), the record's
/// own fields, then the MAC it follows.
#[derive(Serialize)]
struct Envelope<'a, T: Serialize> {
    seq: u64,
    #[serde(flatten)]
    body: &'a T,
    prev_hmac: &'a str,
}

struct ChainState {
    seq: u64,
    prev_mac: String,
    file: Option<file::FileSink>,
    forwarders: Vec<ForwarderHandle>,
    /// Records the file could not take (first seq, last seq, why), not yet marked in it.
    file_gap: Option<(u64, u64, String)>,
}

/// The audit log: appends chained records to every sink, in one order.
pub struct AuditLog {
    key: Vec<u8>,
    resumed: bool,
    /// What opening the file mended at its end, said in the `chain_start` record.
    mended_tail: file::MendedTail,
    state: Mutex<ChainState>,
    /// `AUDIT_FAIL_CLOSED`: refuse mutations while the file cannot take records.
    fail_closed: std::sync::atomic::AtomicBool,
}

impl AuditLog {
    /// An audit log keyed by `key`, appending to `file` if given and resuming its chain (from
    /// the file's last record, or its head anchor after a rotation).
    pub fn new(key: Vec<u8>, file: Option<PathBuf>) -> std::io::Result<AuditLog> {
        // Open (lock, mend a torn tail) first, so the chain resumes from what the file now holds.
        let sink = file.clone().map(file::FileSink::open).transpose()?;
        let (seq, prev_mac) = match file.as_deref() {
            Some(path) => file::resume_point(path)?,
            None => (0, String::new()),
        };
        let mended_tail = sink.as_ref().map(|s| s.mended_tail).unwrap_or_default();
        Ok(AuditLog {
            key,
            resumed: seq > 0,
            mended_tail,
            state: Mutex::new(ChainState {
                seq,
                prev_mac,
                file: sink,
                forwarders: Vec::new(),
                file_gap: None,
            }),
            fail_closed: std::sync::atomic::AtomicBool::new(false),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ChainState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Sends every later record to `forwarder` as well.
    pub fn attach(&self, forwarder: ForwarderHandle) {
        self.lock().forwarders.push(forwarder);
    }

    /// Appends any record to the chain and every sink; returns the line written.
    pub fn append<T: Serialize>(&self, body: &T) -> String {
        let mut state = self.lock();
        let seq = state.seq + 1;
        let envelope = Envelope {
            seq,
            body,
            prev_hmac: &state.prev_mac,
        };
        let canonical = serde_json::to_string(&envelope).unwrap_or_default();
        // No secret lands in the trail, whoever wrote it into the record.
        let canonical = crate::security::redact::scrub(&canonical).into_owned();
        let mac = chain::mac(&self.key, &state.prev_mac, &canonical);
        let line = chain::seal(&canonical, &mac);
        let mut gap_closed = None;
        if let Some(file) = state.file.as_mut() {
            let written = file
                .append(&line)
                .and_then(|()| file.write_head(&chain::Head::new(&self.key, seq, &mac)));
            match written {
                Ok(()) => gap_closed = state.file_gap.take(),
                Err(e) => {
                    tracing::error!(target: "audit_forward", event_type = "audit_forward_failure", forwarder = "file", reason = %e.kind(), "audit file write failed");
                    let reason = e.kind().to_string();
                    state.file_gap = Some(match state.file_gap.take() {
                        Some((first, _, why)) => (first, seq, why),
                        None => (seq, seq, reason),
                    });
                }
            }
        }
        for forwarder in &state.forwarders {
            forwarder.send(&line);
        }
        state.seq = seq;
        state.prev_mac = mac;
        drop(state);
        tracing::info!(target: "audit", "{line}");
        if let Some((first_seq, last_seq, reason)) = gap_closed {
            // The file takes records again: say in the chain which ones it missed, so the gap
            // is marked, not just a jump in `seq` (the SIEM copies have them).
            self.append(&AuditNotice {
                timestamp: now(),
                event_type: "audit_file_gap",
                outcome: "error",
                detail: serde_json::json!({
                    "first_seq": first_seq,
                    "last_seq": last_seq,
                    "missing": last_seq - first_seq + 1,
                    "reason": reason,
                }),
            });
        }
        line
    }

    /// Refuse mutations while the audit file cannot take records (`AUDIT_FAIL_CLOSED`).
    pub fn set_fail_closed(&self, on: bool) {
        self.fail_closed
            .store(on, std::sync::atomic::Ordering::Relaxed);
    }

    /// Whether a mutation may run: always, unless fail-closed is on and the audit file cannot
    /// take records (its last write failed, or it was moved or removed and cannot be reopened).
    pub fn admits_mutations(&self) -> bool {
        if !self.fail_closed.load(std::sync::atomic::Ordering::Relaxed) {
            return true;
        }
        let mut state = self.lock();
        if state.file_gap.is_some() {
            return false;
        }
        match state.file.as_mut() {
            Some(file) => file.reopen_if_moved().is_ok(),
            None => true,
        }
    }

    /// Records one tool call.
    pub fn record(&self, record: &AuditRecord) {
        self.append(record);
    }

    /// Records that the chain (re)started, and whether it continues an earlier run's.
    pub fn record_chain_start(&self) {
        self.append(&AuditNotice {
            timestamp: now(),
            event_type: "lifecycle",
            outcome: "success",
            detail: {
                let mut detail = serde_json::json!({"chain_event": "chain_start", "resumed_from_prior": self.resumed});
                if let Some(what) = self.mended_tail.described() {
                    detail["torn_tail"] = what.into();
                }
                detail
            },
        });
    }

    /// Records refused authentication on an HTTP transport: where from and whether a token was
    /// presented at all (never the token). `suppressed` counts refusals since the last record
    /// that were not recorded one by one (a flood is summarised, so it cannot fill the disk).
    pub fn record_auth_failure(&self, source: &str, token_presented: bool, suppressed: u64) {
        self.append(&AuditNotice {
            timestamp: now(),
            event_type: "authentication_failed",
            outcome: "denied",
            detail: serde_json::json!({
                "source_address": source,
                "token_presented": token_presented,
                "suppressed_since_last": suppressed,
            }),
        });
    }

    /// Records that a forwarder dropped records because its spool was full.
    pub fn record_drop(&self, report: &DropReport) {
        self.append(&AuditNotice {
            timestamp: now(),
            event_type: "audit_records_dropped",
            outcome: "error",
            detail: serde_json::json!({
                "forwarder": report.forwarder,
                "dropped": report.dropped,
                "first_seq": report.first_seq,
                "last_seq": report.last_seq,
            }),
        });
    }

    /// Stops the forwarders, giving each up to `grace` to deliver what is spooled; logs their
    /// counters.
    pub async fn close(&self, grace: std::time::Duration) {
        let forwarders = std::mem::take(&mut self.lock().forwarders);
        for forwarder in forwarders {
            let stats = forwarder.stats().clone();
            forwarder.close(grace).await;
            use std::sync::atomic::Ordering::Relaxed;
            tracing::info!(target: "audit_forward", delivered = stats.delivered.load(Relaxed), dropped = stats.dropped.load(Relaxed), failures = stats.failures.load(Relaxed), breaker_opened = stats.breaker_opened.load(Relaxed), "audit forwarder stopped");
        }
    }
}

/// Longest string, most array items, most object keys and deepest nesting an audit record keeps
/// of a call's arguments: a record stays a few KiB whatever a client sends.
const MAX_AUDIT_TEXT: usize = 200;
const MAX_AUDIT_ITEMS: usize = 20;
const MAX_AUDIT_KEYS: usize = 32;
const MAX_AUDIT_DEPTH: usize = 4;

/// Copies arguments for the audit record: file content dropped, text that the content check
/// takes for a secret replaced (the trail must not become the place a refused secret lands),
/// and every string, list, object and nesting level bounded.
pub fn sanitize_arguments(args: &Value) -> Value {
    sanitize_at(args, 0)
}

fn sanitize_at(value: &Value, depth: usize) -> Value {
    if depth > MAX_AUDIT_DEPTH {
        return Value::String("<nested too deep: not recorded>".into());
    }
    match value {
        Value::Object(map) => {
            let mut out = serde_json::Map::new();
            for (k, v) in map.iter().take(MAX_AUDIT_KEYS) {
                let v = if k == "file" {
                    Value::String(format!("<{} base64 chars>", v.as_str().map_or(0, str::len)))
                } else {
                    sanitize_at(v, depth + 1)
                };
                out.insert(crate::pipeline::cut_name(k), v);
            }
            if map.len() > MAX_AUDIT_KEYS {
                out.insert(
                    "…".into(),
                    Value::String(format!(
                        "{} more arguments not recorded",
                        map.len() - MAX_AUDIT_KEYS
                    )),
                );
            }
            Value::Object(out)
        }
        Value::Array(items) => {
            let mut out: Vec<Value> = items
                .iter()
                .take(MAX_AUDIT_ITEMS)
                .map(|v| sanitize_at(v, depth + 1))
                .collect();
            if items.len() > MAX_AUDIT_ITEMS {
                out.push(Value::String(format!(
                    "… {} more items not recorded",
                    items.len() - MAX_AUDIT_ITEMS
                )));
            }
            Value::Array(out)
        }
        Value::String(s) if crate::security::content::check_secrets(s).is_err() => {
            Value::String("[secret removed]".into())
        }
        Value::String(s) => Value::String(crate::pipeline::cut(s, MAX_AUDIT_TEXT)),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A numbered lifecycle notice, as test traffic.
    fn notice(n: i64) -> AuditNotice {
        AuditNotice {
            timestamp: now(),
            event_type: "lifecycle",
            outcome: "success",
            detail: serde_json::json!({ "n": n }),
        }
    }

    #[test]
    fn records_chain_resume_and_verify() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        let log = AuditLog::new(b"k".to_vec(), Some(path.clone())).unwrap();
        let first = log.append(&notice(1));
        assert!(first.starts_with(r#"{"seq":1,"timestamp":"#), "{first}");
        assert!(first.contains(r#""prev_hmac":"","integrity_hmac":""#));
        log.append(&notice(2));
        drop(log);
        // A restart continues the same chain.
        let log = AuditLog::new(b"k".to_vec(), Some(path.clone())).unwrap();
        assert!(log.append(&notice(3)).starts_with(r#"{"seq":3,"#));
        let report = verify::verify(
            b"k",
            std::slice::from_ref(&path),
            verify::TailCheck::Head(chain::head_path(&path)),
        )
        .unwrap();
        assert_eq!(
            (
                report.records,
                report.first_seq,
                report.last_seq,
                report.tail_anchored
            ),
            (3, 1, 3, true)
        );
        assert!(verify::verify(b"wrong", &[path], verify::TailCheck::Skip).is_err());
    }

    /// A kill during `write` can leave the last record cut anywhere, or whole without its newline.
    /// The next start mends the end, says so in its `chain_start`, and the chain still verifies.
    #[test]
    fn a_torn_last_record_is_mended_at_the_next_start() {
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        let append_raw = |bytes: &[u8]| {
            let mut f = std::fs::OpenOptions::new()
                .append(true)
                .open(&path)
                .unwrap();
            f.write_all(bytes).unwrap();
        };
        let verified = || {
            verify::verify(
                b"k",
                std::slice::from_ref(&path),
                verify::TailCheck::Head(chain::head_path(&path)),
            )
        };

        let log = AuditLog::new(b"k".to_vec(), Some(path.clone())).unwrap();
        log.append(&notice(1));
        let anchor_at_1 = std::fs::read(chain::head_path(&path)).unwrap();
        // What the crashed writer would have written next, cut in the middle; it died before
        // moving the anchor.
        let next = log.append(&notice(2));
        drop(log);
        std::fs::write(chain::head_path(&path), anchor_at_1).unwrap();
        let cut = next.len() / 2;
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, &text[..text.len() - next.len() - 1]).unwrap();
        append_raw(&next.as_bytes()[..cut]);
        let log = AuditLog::new(b"k".to_vec(), Some(path.clone())).unwrap();
        assert_eq!(
            log.mended_tail,
            file::MendedTail::CutRecordRemoved(cut as u64)
        );
        log.record_chain_start();
        drop(log);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.ends_with('\n') && text.contains("a record cut short by a crash"),
            "{text}"
        );
        assert_eq!(verified().unwrap().records, 2);

        // A whole record without its newline: completed, not removed.
        let log = AuditLog::new(b"k".to_vec(), Some(path.clone())).unwrap();
        let last = log.append(&notice(3));
        drop(log);
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, text.trim_end_matches('\n')).unwrap();
        let log = AuditLog::new(b"k".to_vec(), Some(path.clone())).unwrap();
        assert_eq!(log.mended_tail, file::MendedTail::NewlineAdded);
        assert!(log.append(&notice(4)).starts_with(r#"{"seq":4,"#));
        drop(log);
        assert!(std::fs::read_to_string(&path)
            .unwrap()
            .contains(&format!("{last}\n")));
        assert_eq!(verified().unwrap().records, 4);

        // A first record cut short: the file is emptied and the chain starts over.
        let fresh = dir.path().join("fresh.jsonl");
        std::fs::write(&fresh, &last.as_bytes()[..10]).unwrap();
        let log = AuditLog::new(b"k".to_vec(), Some(fresh.clone())).unwrap();
        assert_eq!(log.mended_tail, file::MendedTail::CutRecordRemoved(10));
        assert!(log.append(&notice(1)).starts_with(r#"{"seq":1,"#));
    }

    #[test]
    fn refused_secrets_and_junk_are_not_recorded() {
        let secret = "AKIAIOSFODNN7EXAMPLE";
        let v = sanitize_arguments(&serde_json::json!({
            "entry": format!("aws key {secret} here"),
            "tags": (0..10_000).map(|i| format!("t{i}")).collect::<Vec<_>>(),
            "deep": [[[[[[["x"]]]]]]],
        }));
        let text = v.to_string();
        assert!(!text.contains(secret), "{text}");
        assert_eq!(v["entry"], "[secret removed]");
        assert_eq!(v["tags"].as_array().unwrap().len(), MAX_AUDIT_ITEMS + 1);
        assert!(text.len() < 2048, "{} bytes", text.len());
    }

    #[test]
    fn file_content_is_not_logged() {
        let v = sanitize_arguments(&serde_json::json!({"file": "QUJD", "title": "x".repeat(500)}));
        assert_eq!(v["file"], "<4 base64 chars>");
        assert!(v["title"].as_str().unwrap().chars().count() <= 201);
    }
}
