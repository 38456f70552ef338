//! The `explore` toolset: the read side of the whole DefectDojo API, by operationId, from the
//! SDK's GET catalog (generated from the pinned spec). Only GET operations exist here, so nothing
//! can be written; parameters are checked against the spec before anything is sent; pages are
//! capped at 100; credentials DefectDojo stores (Slack token, webhook headers, service keys) are
//! masked, and the answer goes through the pipeline's wrapping and secret redaction like any
//! tool's.

use super::{Outcome, ToolContext, ToolDef, ToolFailure, Toolset};
use dojo_sdk::catalog::{self, Kind, Place};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{json, Map, Value};

const TOOLSET: Toolset = Toolset::Explore;

/// The largest page `call_api_operation` asks for.
pub const MAX_PAGE: i64 = 100;

pub(super) fn tools() -> Vec<ToolDef> {
    vec![
        tool!(
            "list_api_operations", "List DefectDojo API read operations", Explore, Read, paged: false,
            stored_text: [], ListOperations, list_api_operations,
            "List the DefectDojo API's GET operations (operationId, path, summary), optionally those whose id or path contains a text."
        ),
        tool!(
            "describe_api_operation", "Describe a DefectDojo API read operation", Explore, Read, paged: false,
            stored_text: [], OperationId, describe_api_operation,
            "Describe one GET operation: its path and every parameter with its type."
        ),
        tool!(
            "call_api_operation", "Call a DefectDojo API read operation", Explore, Read, paged: false,
            stored_text: [], CallOperation, call_api_operation,
            "Call any GET operation of the DefectDojo API by operationId, with parameters checked against the API spec; pages of at most 100. Never writes."
        ),
    ]
}

/// Which operations to list.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListOperations {
    /// Only those whose operationId or path contains this.
    #[schemars(length(min = 1, max = 100))]
    pub search: Option<String>,
}

/// One operation.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OperationId {
    /// operationId, e.g. findings_list (list_api_operations).
    #[schemars(length(min = 1, max = 100))]
    pub operation_id: String,
}

/// A call of one GET operation.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CallOperation {
    /// operationId, e.g. findings_list.
    #[schemars(length(min = 1, max = 100))]
    pub operation_id: String,
    /// Path parameters, e.g. {"id": 3}.
    pub path: Option<Map<String, Value>>,
    /// Query parameters by name (describe_api_operation); a list parameter takes an array.
    pub query: Option<Map<String, Value>>,
    /// Page size, for list operations.
    #[schemars(range(min = 1, max = 100))]
    pub limit: Option<i64>,
    /// First result, for list operations.
    #[schemars(range(min = 0))]
    pub offset: Option<i64>,
}

fn operation(id: &str) -> Result<&'static catalog::Operation, ToolFailure> {
    catalog::find(id).ok_or_else(|| {
        ToolFailure::bad(format!(
            "operation_id: no GET operation `{}` in this server's DefectDojo API; list_api_operations names them",
            crate::pipeline::cut_name(id)
        ))
    })
}

/// The SDK's catalog, filtered.
async fn list_api_operations(_ctx: &ToolContext, a: ListOperations) -> Outcome {
    let search = a.search.map(|s| s.to_lowercase());
    let operations: Vec<Value> = catalog::GET_CATALOG
        .iter()
        .filter(|op| !op.file)
        .filter(|op| {
            search
                .as_ref()
                .is_none_or(|s| op.id.contains(s.as_str()) || op.path.contains(s.as_str()))
        })
        .map(|op| json!({"operation_id": op.id, "path": op.path, "summary": op.summary}))
        .collect();
    Ok(json!({"count": operations.len(), "operations": operations}))
}

/// One operation of the catalog with its parameters.
async fn describe_api_operation(_ctx: &ToolContext, a: OperationId) -> Outcome {
    let op = operation(&a.operation_id)?;
    let params: Vec<Value> = op
        .params
        .iter()
        .map(|p| {
            let mut v = json!({
                "name": p.name,
                "in": if p.place == Place::Path { "path" } else { "query" },
                "type": p.kind.describe(),
                "required": p.required,
            });
            if !p.description.is_empty() {
                v["description"] = json!(p.description);
            }
            v
        })
        .collect();
    Ok(json!({
        "operation_id": op.id,
        "path": op.path,
        "summary": op.summary,
        "answers_a_file": op.file,
        "parameters": params,
    }))
}

/// A query value as the API's text, or what is wrong with it.
fn query_texts(name: &str, kind: Kind, value: &Value) -> Result<Vec<String>, ToolFailure> {
    let one = |v: &Value| match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        _ => Err(ToolFailure::bad(format!(
            "query.{name}: must be {}",
            kind.describe()
        ))),
    };
    let texts = match value {
        Value::Array(items) if kind.is_list() && items.len() <= 50 => {
            items.iter().map(one).collect::<Result<Vec<_>, _>>()?
        }
        Value::Array(_) => {
            return Err(ToolFailure::bad(format!(
                "query.{name}: takes {} (at most 50 items)",
                kind.describe()
            )))
        }
        v => vec![one(v)?],
    };
    for t in &texts {
        if t.chars().count() > 500 {
            return Err(ToolFailure::bad(format!(
                "query.{name}: at most 500 characters"
            )));
        }
        kind.check(t)
            .map_err(|e| ToolFailure::bad(format!("query.{name}: {e}")))?;
    }
    Ok(texts)
}

/// GET the operation's path with the parameters checked against the catalog.
async fn call_api_operation(ctx: &ToolContext, a: CallOperation) -> Outcome {
    let op = operation(&a.operation_id)?;
    if op.file {
        return Err(ToolFailure::bad(format!(
            "operation_id: {} answers a file, which explore does not fetch",
            op.id
        )));
    }
    let mut path = Vec::new();
    for (name, value) in a.path.iter().flatten() {
        let param = op
            .params
            .iter()
            .find(|p| p.place == Place::Path && p.name == name)
            .ok_or_else(|| {
                ToolFailure::bad(format!(
                    "path: {} has no path parameter `{}`",
                    op.id,
                    crate::pipeline::cut_name(name)
                ))
            })?;
        let id = value
            .as_i64()
            .or_else(|| value.as_str().and_then(|s| s.parse().ok()))
            .filter(|n| *n > 0)
            .ok_or_else(|| {
                ToolFailure::bad(format!(
                    "path.{}: must be a whole number above 0",
                    param.name
                ))
            })?;
        path.push((param.name, id));
    }
    if let Some(missing) = op
        .params
        .iter()
        .find(|p| p.place == Place::Path && !path.iter().any(|(n, _)| *n == p.name))
    {
        return Err(ToolFailure::bad(format!(
            "path: {} needs `{}`",
            op.id, missing.name
        )));
    }
    let mut query = Vec::new();
    for (name, value) in a.query.iter().flatten() {
        if matches!(name.as_str(), "limit" | "offset") {
            return Err(ToolFailure::bad(format!(
                "query.{name}: give it as the top-level `{name}` argument"
            )));
        }
        let param = op
            .params
            .iter()
            .find(|p| p.place == Place::Query && p.name == name)
            .ok_or_else(|| {
                ToolFailure::bad(format!(
                    "query: {} has no parameter `{}`; describe_api_operation lists them",
                    op.id,
                    crate::pipeline::cut_name(name)
                ))
            })?;
        for text in query_texts(param.name, param.kind, value)? {
            query.push((param.name.to_string(), text));
        }
    }
    let pages = op.params.iter().any(|p| p.name == "limit");
    if pages {
        query.push((
            "limit".into(),
            a.limit.unwrap_or(20).min(MAX_PAGE).to_string(),
        ));
        query.push(("offset".into(), a.offset.unwrap_or(0).to_string()));
    } else if a.limit.is_some() || a.offset.is_some() {
        return Err(ToolFailure::bad(format!(
            "limit/offset: {} is not a list",
            op.id
        )));
    }
    let mut answer = ctx.dojo.get_operation(op, &path, &query).await?;
    mask_secret_fields(&mut answer);
    Ok(json!({"operation_id": op.id, "answer": answer}))
}

/// Whether a field holds a credential DefectDojo stores and shows to its admins (the Slack
/// token and Jira webhook secret in system settings, a webhook's header value, API scan
/// configurations' service keys, ...).
fn is_secret_field(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    if key.contains("last_reset") {
        return false; // `token_last_reset`: when, not what
    }
    [
        "token",
        "secret",
        "password",
        "api_key",
        "apikey",
        "header_value",
        "service_key",
        "private_key",
        "credential",
    ]
    .iter()
    .any(|word| key.contains(word))
}

/// Replaces the value of every secret field, at any depth, so no stored credential reaches the
/// model (the pipeline's redaction only knows this server's own secrets and well-known formats).
fn mask_secret_fields(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                let set = !(v.is_null() || v.as_str() == Some(""));
                if is_secret_field(key) && set && !v.is_object() && !v.is_array() {
                    *v = json!("[secret removed]");
                } else {
                    mask_secret_fields(v);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(mask_secret_fields),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_credentials_are_masked_at_any_depth() {
        let mut v = json!({"results": [{
            "slack_token": "xoxb-1", "jira_webhook_secret": "s", "header_value": "Bearer x",
            "service_key_1": "k", "token_last_reset": "2026-01-01", "name": "n", "password": null,
            "nested": {"api_key": 7}
        }]});
        mask_secret_fields(&mut v);
        let r = &v["results"][0];
        for key in [
            "slack_token",
            "jira_webhook_secret",
            "header_value",
            "service_key_1",
        ] {
            assert_eq!(r[key], "[secret removed]", "{key}");
        }
        assert_eq!(r["nested"]["api_key"], "[secret removed]");
        assert_eq!(r["token_last_reset"], "2026-01-01");
        assert_eq!(r["name"], "n");
        assert!(r["password"].is_null());
    }
}
