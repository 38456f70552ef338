//! The stdio transport: one JSON-RPC message per line on stdin, replies on stdout.
//!
//! Ours rather than rmcp's so that bad input gets an answer and the session goes on: a line
//! that is not JSON (invalid syntax or UTF-8, a lone surrogate, `1e400`, nesting past 128) is
//! answered -32700, JSON that is not a JSON-RPC message -32600 (with its id when one can be
//! read), and a line over `MCP_MAX_BODY_BYTES` is skipped without being buffered and answered
//! -32600. Good lines go to the rmcp service over a channel pair, as on SSE.

use crate::jsonrpc;
use crate::server::DojoServer;
use futures::channel::mpsc;
use futures::{SinkExt, StreamExt};
use rmcp::model::{ClientJsonRpcMessage, ServerJsonRpcMessage};
use rmcp::ServiceExt;
use serde_json::Value;
use std::future::Future;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncWrite, AsyncWriteExt, BufReader};

/// Messages buffered per direction.
const CHANNEL_DEPTH: usize = 64;

/// One line read from the client.
enum Line {
    /// A complete line (without its newline).
    Text(Vec<u8>),
    /// A line over the limit, skipped.
    TooLong,
    /// End of input.
    End,
}

/// Reads one line of at most `max` bytes; a longer one is consumed and dropped as it streams by.
async fn read_line<R: AsyncBufRead + Unpin>(reader: &mut R, max: usize) -> std::io::Result<Line> {
    let mut line = Vec::new();
    let mut too_long = false;
    loop {
        let buf = reader.fill_buf().await?;
        if buf.is_empty() {
            return Ok(match (too_long, line.is_empty()) {
                (true, _) => Line::TooLong,
                (false, true) => Line::End,
                (false, false) => Line::Text(line),
            });
        }
        let (chunk, complete) = match buf.iter().position(|&b| b == b'\n') {
            Some(i) => (&buf[..i], i + 1),
            None => (buf, 0),
        };
        if !too_long {
            if line.len() + chunk.len() > max {
                too_long = true;
                line = Vec::new();
            } else {
                line.extend_from_slice(chunk);
            }
        }
        let used = if complete > 0 { complete } else { chunk.len() };
        reader.consume(used);
        if complete > 0 {
            return Ok(if too_long {
                Line::TooLong
            } else {
                Line::Text(line)
            });
        }
    }
}

/// Serves one MCP session on stdin/stdout until the client closes stdin or `shutdown` resolves.
pub async fn serve(
    server: DojoServer,
    max_message_bytes: usize,
    shutdown: impl Future<Output = ()>,
) -> Result<(), String> {
    serve_on(
        server,
        tokio::io::stdin(),
        tokio::io::stdout(),
        max_message_bytes,
        shutdown,
    )
    .await
}

/// [`serve`] on any reader and writer (tests use in-memory pipes).
pub async fn serve_on<R, W>(
    server: DojoServer,
    input: R,
    output: W,
    max_message_bytes: usize,
    shutdown: impl Future<Output = ()>,
) -> Result<(), String>
where
    R: tokio::io::AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let (mut to_server, from_client) = mpsc::channel::<ClientJsonRpcMessage>(CHANNEL_DEPTH);
    let (to_client, mut from_server) = mpsc::channel::<ServerJsonRpcMessage>(CHANNEL_DEPTH);
    let (mut errors, mut error_lines) = mpsc::channel::<Value>(CHANNEL_DEPTH);

    // One writer, so replies and error answers never interleave inside a line.
    let writer = tokio::spawn(async move {
        let mut output = output;
        loop {
            let line = tokio::select! {
                Some(message) = from_server.next() => serde_json::to_vec(&message),
                Some(error) = error_lines.next() => serde_json::to_vec(&error),
                else => break,
            };
            let Ok(mut line) = line else { continue };
            line.push(b'\n');
            if output.write_all(&line).await.is_err() || output.flush().await.is_err() {
                break;
            }
        }
    });

    let reader = tokio::spawn(async move {
        let mut input = BufReader::with_capacity(64 * 1024, input);
        loop {
            let line = match read_line(&mut input, max_message_bytes).await {
                Ok(line) => line,
                Err(_) => break,
            };
            let reply = match line {
                Line::End => break,
                Line::TooLong => jsonrpc::too_large(max_message_bytes),
                Line::Text(text) => {
                    let text = text.strip_suffix(b"\r").unwrap_or(&text);
                    if text.iter().all(u8::is_ascii_whitespace) {
                        continue;
                    }
                    match jsonrpc::parse_client_message(text) {
                        Ok(message) => {
                            if to_server.send(message).await.is_err() {
                                break;
                            }
                            continue;
                        }
                        Err(error) => error,
                    }
                }
            };
            if errors.send(reply).await.is_err() {
                break;
            }
        }
        // Dropping `to_server` ends the session once the service has drained it.
    });

    let running = server
        .serve((to_client, from_client))
        .await
        .map_err(|e| format!("stdio session failed to start: {e}"))?;
    tokio::select! {
        _ = running.waiting() => {}
        _ = shutdown => {}
    }
    reader.abort();
    let _ = tokio::time::timeout(std::time::Duration::from_secs(2), writer).await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn lines_are_read_within_the_limit() {
        let data: &[u8] = b"short\n0123456789abc\nlast";
        let mut reader = BufReader::with_capacity(4, data);
        assert!(
            matches!(read_line(&mut reader, 10).await.unwrap(), Line::Text(t) if t == b"short")
        );
        assert!(matches!(
            read_line(&mut reader, 10).await.unwrap(),
            Line::TooLong
        ));
        assert!(matches!(read_line(&mut reader, 10).await.unwrap(), Line::Text(t) if t == b"last"));
        assert!(matches!(
            read_line(&mut reader, 10).await.unwrap(),
            Line::End
        ));
    }
}
