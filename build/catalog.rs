//! The GET catalog: every GET operation of the (pruned, transformed) spec as data, with its
//! parameters and their kinds, for `dojo_sdk::catalog` (what the server's explore tools list,
//! describe and call).

use crate::transforms::answers_bytes;
use serde_json::Value;

/// Rust source defining `GET_CATALOG: &[Operation]`.
pub fn get_catalog(spec: &Value) -> String {
    let mut entries = String::new();
    let Some(paths) = spec.get("paths").and_then(Value::as_object) else {
        return "pub static GET_CATALOG: &[Operation] = &[];\n".into();
    };
    for (path, item) in paths {
        let Some(op) = item.get("get") else { continue };
        let Some(id) = op.get("operationId").and_then(Value::as_str) else {
            continue;
        };
        let summary = first_sentence(
            op.get("summary")
                .or_else(|| op.get("description"))
                .and_then(Value::as_str)
                .unwrap_or(""),
        );
        let tag = op
            .pointer("/tags/0")
            .and_then(Value::as_str)
            .unwrap_or("other");
        let mut params = String::new();
        for p in op
            .get("parameters")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let (Some(name), Some(place)) = (
                p.get("name").and_then(Value::as_str),
                p.get("in").and_then(Value::as_str),
            ) else {
                continue;
            };
            let place = match place {
                "path" => "Place::Path",
                "query" => "Place::Query",
                _ => continue,
            };
            let schema = p.get("schema").unwrap_or(&Value::Null);
            let required = p.get("required").and_then(Value::as_bool).unwrap_or(false);
            let description =
                first_sentence(p.get("description").and_then(Value::as_str).unwrap_or(""));
            params.push_str(&format!(
                "Param {{ name: {name:?}, place: {place}, kind: {}, required: {required}, description: {description:?} }}, ",
                kind(schema)
            ));
        }
        entries.push_str(&format!(
            "    Operation {{ id: {id:?}, path: {path:?}, tag: {tag:?}, summary: {summary:?}, file: {}, params: &[{params}] }},\n",
            answers_bytes(op)
        ));
    }
    format!("/// Every GET operation of the generated client.\npub static GET_CATALOG: &[Operation] = &[\n{entries}];\n")
}

/// The kind of a parameter's schema, as a `Kind` expression.
fn kind(schema: &Value) -> String {
    let ty = schema
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("string");
    match ty {
        "integer" => "Kind::Integer".into(),
        "number" => "Kind::Number".into(),
        "boolean" => "Kind::Boolean".into(),
        "array" => match schema.pointer("/items/type").and_then(Value::as_str) {
            Some("integer") => "Kind::IntegerList".into(),
            _ => "Kind::TextList".into(),
        },
        _ => {
            if let Some(values) = schema.get("enum").and_then(Value::as_array) {
                let values: Vec<String> = values
                    .iter()
                    .filter_map(Value::as_str)
                    .map(|v| format!("{v:?}"))
                    .collect();
                return format!("Kind::OneOf(&[{}])", values.join(", "));
            }
            match schema.get("format").and_then(Value::as_str) {
                Some("date") => "Kind::Date".into(),
                Some("date-time") => "Kind::DateTime".into(),
                _ => "Kind::Text".into(),
            }
        }
    }
}

/// The first sentence of a description, at most 160 characters, on one line.
fn first_sentence(text: &str) -> String {
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let end = line.find(". ").map(|i| i + 1).unwrap_or(line.len());
    line[..end].chars().take(160).collect()
}
