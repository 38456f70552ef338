//! Audit records for every tool call, chained with HMAC-SHA256 so tampering shows.
//!
//! Chain: `integrity_hmac = hex(HMAC-SHA256(key, prev_mac + "|" + record_json))`, where
//! `record_json` is the record serialized without `integrity_hmac` (keys in the order written here)
//! and `prev_mac` is the previous record's MAC (empty at the start of a log).

use hmac::{Hmac, KeyInit, Mac};
use serde::Serialize;
use serde_json::Value;
use sha2::Sha256;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Mutex;

/// One audit record.
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

struct ChainState {
    prev_mac: String,
    file: Option<std::fs::File>,
}

/// Writes chained audit records to stderr (through tracing) and, if configured, a JSON-lines file.
pub struct AuditLog {
    key: Vec<u8>,
    state: Mutex<ChainState>,
}

impl AuditLog {
    /// An audit log keyed by `key`, appending to `file` if given (resuming the chain from its last line).
    pub fn new(key: Vec<u8>, file: Option<PathBuf>) -> std::io::Result<AuditLog> {
        let mut prev_mac = String::new();
        let file = match file {
            Some(path) => {
                if let Ok(text) = std::fs::read_to_string(&path) {
                    if let Some(last) = text.lines().rev().find(|l| !l.trim().is_empty()) {
                        if let Ok(v) = serde_json::from_str::<Value>(last) {
                            prev_mac = v["integrity_hmac"].as_str().unwrap_or_default().to_string();
                        }
                    }
                }
                Some(
                    std::fs::OpenOptions::new()
                        .create(true)
                        .append(true)
                        .open(path)?,
                )
            }
            None => None,
        };
        Ok(AuditLog {
            key,
            state: Mutex::new(ChainState { prev_mac, file }),
        })
    }

    /// The MAC of `record_json` chained after `prev_mac`.
    pub fn mac(key: &[u8], prev_mac: &str, record_json: &str) -> String {
        let mut mac =
            <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC takes any key length");
        mac.update(prev_mac.as_bytes());
        mac.update(b"|");
        mac.update(record_json.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// Appends a record to the chain and writes it to every sink.
    pub fn record(&self, record: &AuditRecord) {
        let json = serde_json::to_string(record).unwrap_or_default();
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let mac = Self::mac(&self.key, &state.prev_mac, &json);
        let line = format!("{},\"integrity_hmac\":\"{mac}\"}}", &json[..json.len() - 1]);
        state.prev_mac = mac;
        if let Some(file) = state.file.as_mut() {
            if let Err(e) = writeln!(file, "{line}") {
                tracing::error!(target: "audit", error = %e, "audit file write failed");
            }
        }
        drop(state);
        tracing::info!(target: "audit", "{line}");
    }
}

/// Copies arguments for the audit record with file content dropped and long strings cut.
pub fn sanitize_arguments(args: &Value) -> Value {
    match args {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let v = if k == "file" {
                        Value::String(format!("<{} base64 chars>", v.as_str().map_or(0, str::len)))
                    } else {
                        sanitize_arguments(v)
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(sanitize_arguments).collect()),
        Value::String(s) if s.chars().count() > 200 => {
            Value::String(format!("{}…", s.chars().take(200).collect::<String>()))
        }
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain_links_records() {
        let a = AuditLog::mac(b"k", "", "{\"a\":1}");
        let b = AuditLog::mac(b"k", &a, "{\"a\":2}");
        assert_ne!(a, b);
        assert_eq!(a, AuditLog::mac(b"k", "", "{\"a\":1}"));
        assert_ne!(a, AuditLog::mac(b"other", "", "{\"a\":1}"));
    }

    #[test]
    fn file_content_is_not_logged() {
        let v = sanitize_arguments(&serde_json::json!({"file": "QUJD", "title": "x".repeat(500)}));
        assert_eq!(v["file"], "<4 base64 chars>");
        assert!(v["title"].as_str().unwrap().chars().count() <= 201);
    }
}
