//! JSON-RPC answers for input that never becomes an MCP message: unparseable JSON (-32700), a
//! JSON value that is not a JSON-RPC request (-32600), a message over the size limit. Shared by
//! the stdio reader and the HTTP body check, so every transport answers bad input the same way.

use rmcp::model::ClientJsonRpcMessage;
use serde_json::{json, Value};

/// Parse error: the text is not JSON (invalid syntax, invalid UTF-8, a lone surrogate, a number
/// out of range, nesting deeper than 128).
pub const PARSE_ERROR: i64 = -32700;
/// Invalid request: JSON, but not a JSON-RPC 2.0 request, notification or response.
pub const INVALID_REQUEST: i64 = -32600;

/// Reads one client message; on failure, the JSON-RPC error response to send back.
pub fn parse_client_message(bytes: &[u8]) -> Result<ClientJsonRpcMessage, Value> {
    match serde_json::from_slice::<ClientJsonRpcMessage>(bytes) {
        Ok(message) => Ok(message),
        Err(_) => Err(explain(bytes)),
    }
}

/// The error for bytes that are not a client message: -32700 when they are not JSON at all,
/// -32600 (with the request's id when one can be read) when they are JSON of the wrong shape.
fn explain(bytes: &[u8]) -> Value {
    match serde_json::from_slice::<Value>(bytes) {
        Err(e) => {
            let what = e.to_string();
            let what = what.split(" at line ").next().unwrap_or_default();
            error_response(
                Value::Null,
                PARSE_ERROR,
                &format!("Parse error: the message is not valid JSON ({what})"),
            )
        }
        Ok(value) => {
            let id = match value.get("id") {
                Some(id @ (Value::Number(_) | Value::String(_))) => cut_id(id),
                _ => Value::Null,
            };
            error_response(
                id,
                INVALID_REQUEST,
                "Invalid Request: expected a JSON-RPC 2.0 object with \"jsonrpc\": \"2.0\", a \"method\" string and, for a request, an \"id\"",
            )
        }
    }
}

/// An id echoed back, cut when absurdly long.
fn cut_id(id: &Value) -> Value {
    match id {
        Value::String(s) if s.len() > 128 => Value::String(s.chars().take(128).collect::<String>()),
        other => other.clone(),
    }
}

/// The error for a message over `limit` bytes (its id cannot be read without reading it).
pub fn too_large(limit: usize) -> Value {
    error_response(
        Value::Null,
        INVALID_REQUEST,
        &format!("Invalid Request: the message is larger than the {limit} byte limit (MCP_MAX_BODY_BYTES)"),
    )
}

/// `{"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}}`.
pub fn error_response(id: Value, code: i64, message: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}})
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(bytes: &[u8]) -> (i64, Value) {
        let e = parse_client_message(bytes).unwrap_err();
        (e["error"]["code"].as_i64().unwrap(), e["id"].clone())
    }

    #[test]
    fn hostile_input_gets_the_right_error() {
        assert_eq!(code(b"{not json").0, PARSE_ERROR);
        assert_eq!(code(b"{\"a\":\"\xff\"}").0, PARSE_ERROR);
        assert_eq!(
            code(br#"{"jsonrpc":"2.0","id":1,"method":"x","params":{"s":"\ud800"}}"#).0,
            PARSE_ERROR
        );
        assert_eq!(
            code(br#"{"jsonrpc":"2.0","id":1,"method":"ping","params":{"n":1e400}}"#).0,
            PARSE_ERROR
        );
        let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        assert_eq!(code(deep.as_bytes()).0, PARSE_ERROR);
        assert_eq!(code(br#"{"id":7,"hello":1}"#), (INVALID_REQUEST, json!(7)));
        assert_eq!(code(b"[]").0, INVALID_REQUEST);
        assert!(parse_client_message(br#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#).is_ok());
    }
}
