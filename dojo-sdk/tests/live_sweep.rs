//! The SDK over every GET operation of the pinned spec, against a live DefectDojo.
//!
//! Run by `scripts/live` with `DOJO_LIVE_URL` and `DOJO_LIVE_TOKEN` (an admin token) set; without
//! them it says so and does nothing. Every list operation is called; every detail operation is
//! called with the id of an object its list shows (the first one the server answers 200 for). Each
//! answer goes through the generated operation it belongs to, so a decode failure names the field.
//!
//! Outcomes: `decoded`; `decode_failed` (the SDK's fault: fails the run); `not_offered` (the list
//! answers 404: this DefectDojo has no such endpoint); `no_data` (no object to ask about, or none
//! with that sub-resource); `server_error` (DefectDojo itself answered an error for a plain GET).
//! The report goes to `DOJO_LIVE_REPORT` as JSON. `DOJO_LIVE_MIN_DECODED` (default 120) is the
//! fewest operations that must decode.

use serde_json::{json, Value};
use std::collections::BTreeMap;

mod dispatch {
    include!(concat!(env!("OUT_DIR"), "/get_dispatch.rs"));
}

/// How many ids of a list are tried for a detail operation before it counts as `no_data`.
const CANDIDATES: usize = 10;

fn main() {
    let (Ok(url), Ok(token)) = (
        std::env::var("DOJO_LIVE_URL"),
        std::env::var("DOJO_LIVE_TOKEN"),
    ) else {
        eprintln!("live_sweep: skipped (set DOJO_LIVE_URL and DOJO_LIVE_TOKEN; scripts/live does)");
        return;
    };
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    let report = runtime.block_on(sweep(&url, &token));
    let counts = &report["counts"];
    eprintln!(
        "live_sweep against {url}: {} GET operations in the pinned spec {}; decoded {}, decode failed {}, \
         not offered {}, no data {}, server error {}, not dispatched {}",
        report["operations_in_spec"],
        dojo_sdk::SPEC_VERSION,
        counts["decoded"],
        counts["decode_failed"],
        counts["not_offered"],
        counts["no_data"],
        counts["server_error"],
        counts["not_dispatched"],
    );
    if let Ok(path) = std::env::var("DOJO_LIVE_REPORT") {
        std::fs::write(&path, serde_json::to_string_pretty(&report).unwrap())
            .unwrap_or_else(|e| panic!("cannot write {path}: {e}"));
    }
    let failed: Vec<String> = report["operations"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, o)| o["outcome"] == "decode_failed")
        .map(|(op, o)| format!("{op}: {}", o["detail"].as_str().unwrap_or_default()))
        .collect();
    assert!(
        failed.is_empty(),
        "{} GET operations do not decode:\n{}",
        failed.len(),
        failed.join("\n")
    );
    let min: u64 = std::env::var("DOJO_LIVE_MIN_DECODED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(120);
    let decoded = counts["decoded"].as_u64().unwrap_or(0);
    assert!(
        decoded >= min,
        "only {decoded} GET operations exercised (at least {min} expected): seed more objects"
    );
}

async fn sweep(url: &str, token: &str) -> Value {
    let dojo = dojo_sdk::DojoClient::builder(url)
        .token(token)
        .allow_insecure_http(true)
        .build()
        .expect("a client for the live DefectDojo");
    let raw = reqwest::Client::new();
    let base = url.trim_end_matches('/').to_string();
    let get = |path: String| {
        let raw = raw.clone();
        let url = format!("{base}{path}");
        async move {
            let response = raw
                .get(&url)
                .header("Authorization", format!("Token {token}"))
                .send()
                .await
                .map_err(|e| e.to_string())?;
            let status = response.status().as_u16();
            let body = response.json::<Value>().await.unwrap_or(Value::Null);
            Ok::<_, String>((status, body))
        }
    };

    let mut operations = BTreeMap::new();
    // Lists (and singletons) first: their answers give the ids the detail operations need.
    let mut list_ids: BTreeMap<&str, Vec<i64>> = BTreeMap::new();
    for (op, path) in dispatch::GET_OPERATIONS
        .iter()
        .filter(|(_, p)| !p.contains('{'))
    {
        let outcome = match get(path.to_string()).await {
            Err(e) => json!({"outcome": "server_error", "detail": e}),
            Ok((404, _)) => json!({"outcome": "not_offered", "detail": "404"}),
            Ok((status, body)) if status >= 400 => {
                json!({"outcome": "server_error", "detail": format!("HTTP {status}: {}", excerpt(&body))})
            }
            Ok((_, body)) => {
                let ids: Vec<i64> = body["results"]
                    .as_array()
                    .map(|r| r.iter().filter_map(|o| o["id"].as_i64()).collect())
                    .unwrap_or_default();
                list_ids.insert(path, ids);
                decode(&dojo, op, None, None).await
            }
        };
        operations.insert(op.to_string(), with_path(outcome, path));
    }
    let details = dispatch::GET_OPERATIONS
        .iter()
        .filter(|(_, p)| p.contains("{id}") && !p.contains("{file_id}"));
    for (op, path) in details {
        let list = &path[..path.find('{').unwrap()];
        let outcome = match list_ids.get(list) {
            None => {
                json!({"outcome": "not_offered", "detail": format!("no list {list} on this server")})
            }
            Some(ids) if ids.is_empty() => {
                json!({"outcome": "no_data", "detail": format!("{list} is empty")})
            }
            Some(ids) => {
                let mut outcome =
                    json!({"outcome": "no_data", "detail": "no listed object has it"});
                for id in ids.iter().take(CANDIDATES) {
                    match get(path.replace("{id}", &id.to_string())).await {
                        Ok((200, _)) => {
                            outcome = decode(&dojo, op, Some(*id), None).await;
                            break;
                        }
                        Ok((status, body)) if status >= 500 => {
                            outcome = json!({"outcome": "server_error", "detail": format!("HTTP {status}: {}", excerpt(&body))});
                        }
                        _ => {}
                    }
                }
                outcome
            }
        };
        operations.insert(op.to_string(), with_path(outcome, path));
    }
    // File downloads: the file ids come from the object's `files/` listing.
    for (op, path) in dispatch::GET_OPERATIONS
        .iter()
        .filter(|(_, p)| p.contains("{file_id}"))
    {
        let list = &path[..path.find('{').unwrap()];
        let files = &path[..path.find("download/").unwrap_or(path.len())];
        let mut outcome = json!({"outcome": "no_data", "detail": "no listed object has a file"});
        for id in list_ids.get(list).into_iter().flatten().take(CANDIDATES) {
            let listing = get(files.replace("{id}", &id.to_string())).await;
            let Ok((200, body)) = listing else { continue };
            let Some(file_id) = body["files"][0]["id"].as_i64() else {
                continue;
            };
            let download = path
                .replace("{id}", &id.to_string())
                .replace("{file_id}", &file_id.to_string());
            if let Ok((200, _)) = get(download).await {
                outcome = decode(&dojo, op, Some(*id), Some(file_id)).await;
                break;
            }
        }
        operations.insert(op.to_string(), with_path(outcome, path));
    }
    for (op, path) in dispatch::GET_OPERATIONS_NOT_DISPATCHED {
        operations.insert(
            op.to_string(),
            json!({"outcome": "not_dispatched", "path": path,
                   "detail": "path parameters the sweep cannot fill"}),
        );
    }
    let mut counts: BTreeMap<&str, u64> = [
        "decoded",
        "decode_failed",
        "not_offered",
        "no_data",
        "server_error",
        "not_dispatched",
    ]
    .into_iter()
    .map(|k| (k, 0))
    .collect();
    for o in operations.values() {
        *counts
            .entry(o["outcome"].as_str().unwrap_or("?"))
            .or_default() += 1;
    }
    json!({
        "url": url,
        "spec_version": dojo_sdk::SPEC_VERSION,
        "operations_in_spec": operations.len(),
        "counts": counts,
        "operations": operations,
    })
}

/// Sends the operation through its generated call and says whether the answer decoded. Called only
/// after the same GET answered 200.
async fn decode(
    dojo: &dojo_sdk::DojoClient,
    op: &str,
    id: Option<i64>,
    file_id: Option<i64>,
) -> Value {
    match dispatch::call_get(dojo.read(), op, id, file_id).await {
        None => json!({"outcome": "decode_failed", "detail": "no generated operation"}),
        Some(Ok(())) => json!({"outcome": "decoded", "id": id}),
        // The same GET just answered 200, so any failure here is the SDK's.
        Some(Err(e)) => json!({"outcome": "decode_failed", "id": id, "detail": e.to_string()}),
    }
}

fn with_path(mut outcome: Value, path: &str) -> Value {
    outcome["path"] = json!(path);
    outcome
}

fn excerpt(body: &Value) -> String {
    let text = body.to_string();
    text.chars().take(200).collect()
}
