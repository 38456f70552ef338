//! What changes for users of the SDK if it moves to another DefectDojo spec, said before anything is
//! replaced: operations added and removed, parameters and fields added, removed or retyped, required
//! fields, enums widened or narrowed, and which of `build.rs`'s transformations touch what in each.
//!
//! ```sh
//! cargo run --example spec_changes -- new-spec.json                  # against the pinned spec
//! cargo run --example spec_changes -- --old old.json new-spec.json > report.md
//! ```
//! Both specs go through the same transformations as the build, so the report compares what the
//! generated client would offer, not the raw documents.

#[path = "../build/transforms.rs"]
#[allow(dead_code)]
mod transforms;

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let old_path = match args.iter().position(|a| a == "--old") {
        Some(i) if i + 1 < args.len() => {
            let path = args.remove(i + 1);
            args.remove(i);
            path
        }
        Some(_) => return Err("--old needs a path".into()),
        None => pinned_spec()?,
    };
    let [new_path] = args.as_slice() else {
        return Err("usage: spec_changes [--old old.json] new.json".into());
    };
    let old = load(&old_path)?;
    let new = load(new_path)?;
    print!("{}", report(&old_path, &old, new_path, &new));
    Ok(())
}

/// The one spec in `openapi/`.
fn pinned_spec() -> Result<String, Box<dyn std::error::Error>> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi");
    let mut specs: Vec<_> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    match specs.len() {
        1 => Ok(specs.remove(0).display().to_string()),
        n => Err(format!("openapi/ holds {n} specs; give --old").into()),
    }
}

fn load(path: &str) -> Result<Value, Box<dyn std::error::Error>> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    Ok(serde_json::from_str(&text).map_err(|e| format!("{path}: {e}"))?)
}

/// A spec after the build's transformations, with the places each one touched.
struct Transformed {
    spec: Value,
    touched: Vec<(&'static str, BTreeSet<String>)>,
}

fn transform(mut spec: Value) -> Transformed {
    let mut touched = Vec::new();
    for t in transforms::TRANSFORMS {
        let before = spec.clone();
        (t.apply)(&mut spec);
        let mut places = BTreeSet::new();
        diff_places(&before, &spec, &mut Vec::new(), &mut places);
        touched.push((t.name, places));
    }
    Transformed { spec, touched }
}

/// Where two values differ, named as a reader knows it: `GET /api/v2/x/` or `Schema.field`.
fn diff_places(a: &Value, b: &Value, at: &mut Vec<String>, out: &mut BTreeSet<String>) {
    if a == b {
        return;
    }
    match (a, b) {
        (Value::Object(x), Value::Object(y)) if at.len() < 4 => {
            let keys: BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for k in keys {
                at.push(k.clone());
                diff_places(
                    x.get(k).unwrap_or(&Value::Null),
                    y.get(k).unwrap_or(&Value::Null),
                    at,
                    out,
                );
                at.pop();
            }
        }
        _ => {
            out.insert(place_name(at));
        }
    }
}

fn place_name(at: &[String]) -> String {
    match at {
        [p, path, method, ..] if p == "paths" => format!("{} {path}", method.to_uppercase()),
        [p, path] if p == "paths" => path.clone(),
        [c, s, name, rest @ ..] if c == "components" && s == "schemas" => match rest {
            [props, field, ..] if props == "properties" => format!("{name}.{field}"),
            _ => name.clone(),
        },
        other => other.join("/"),
    }
}

/// A type as a reader compares it: `integer`, `string/date-time`, `[Note]`, `Finding`, `any`, with
/// `?` when nullable.
fn type_sig(schema: &Value) -> String {
    let base = if let Some(name) = transforms::schema_name(schema) {
        name.to_string()
    } else if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
        all.iter().map(type_sig).collect::<Vec<_>>().join("&")
    } else if let Some(one) = schema
        .get("oneOf")
        .or_else(|| schema.get("anyOf"))
        .and_then(Value::as_array)
    {
        one.iter().map(type_sig).collect::<Vec<_>>().join("|")
    } else {
        match schema.get("type").and_then(Value::as_str) {
            Some("array") => format!("[{}]", type_sig(&schema["items"])),
            Some(t) => match schema.get("format").and_then(Value::as_str) {
                Some(f) => format!("{t}/{f}"),
                None => t.to_string(),
            },
            None => "any".to_string(),
        }
    };
    if schema.get("nullable") == Some(&Value::Bool(true)) {
        format!("{base}?")
    } else {
        base
    }
}

fn enum_values(schema: &Value) -> Option<BTreeSet<String>> {
    let values = schema
        .get("enum")
        .or_else(|| schema.pointer("/items/enum"))?
        .as_array()?;
    Some(values.iter().map(|v| v.to_string()).collect())
}

struct Operation {
    method: String,
    path: String,
    params: BTreeMap<String, (String, bool)>,
}

fn operations(spec: &Value) -> BTreeMap<String, Operation> {
    let mut ops = BTreeMap::new();
    for (path, item) in spec["paths"].as_object().into_iter().flatten() {
        for (method, op) in item.as_object().into_iter().flatten() {
            let Some(id) = op.get("operationId").and_then(Value::as_str) else {
                continue;
            };
            let params = op
                .get("parameters")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|p| {
                    let name = p.get("name")?.as_str()?;
                    let required = p.get("required") == Some(&Value::Bool(true));
                    Some((name.to_string(), (type_sig(&p["schema"]), required)))
                })
                .collect();
            ops.insert(
                id.to_string(),
                Operation {
                    method: method.to_uppercase(),
                    path: path.clone(),
                    params,
                },
            );
        }
    }
    ops
}

fn list(out: &mut String, title: &str, items: &[String]) {
    let _ = writeln!(out, "\n### {title} ({})\n", items.len());
    if items.is_empty() {
        out.push_str("None.\n");
    }
    for item in items {
        let _ = writeln!(out, "- {item}");
    }
}

fn report(old_path: &str, old: &Value, new_path: &str, new: &Value) -> String {
    let version = |s: &Value| {
        s.pointer("/info/version")
            .and_then(Value::as_str)
            .unwrap_or("?")
            .to_string()
    };
    let (old_version, new_version) = (version(old), version(new));
    let old = transform(old.clone());
    let new = transform(new.clone());
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# SDK changes: DefectDojo {old_version} → {new_version}\n\n\
         Made by `cargo run --example spec_changes -- --old {old_path} {new_path}`. Both specs went \
         through `build.rs`'s transformations first, so this is what the generated client changes."
    );

    // Operations.
    let (old_ops, new_ops) = (operations(&old.spec), operations(&new.spec));
    let describe = |id: &str, op: &Operation| format!("`{id}` ({} {})", op.method, op.path);
    let added: Vec<String> = new_ops
        .iter()
        .filter(|(id, _)| !old_ops.contains_key(*id))
        .map(|(id, op)| describe(id, op))
        .collect();
    let removed: Vec<String> = old_ops
        .iter()
        .filter(|(id, _)| !new_ops.contains_key(*id))
        .map(|(id, op)| describe(id, op))
        .collect();
    let _ = writeln!(
        out,
        "\n## Operations\n\n{} in {old_version}, {} in {new_version}.",
        old_ops.len(),
        new_ops.len()
    );
    list(&mut out, "Added", &added);
    list(&mut out, "Removed (callers stop compiling)", &removed);
    let mut params = Vec::new();
    for (id, new_op) in &new_ops {
        let Some(old_op) = old_ops.get(id) else {
            continue;
        };
        for (name, (sig, required)) in &new_op.params {
            match old_op.params.get(name) {
                None => params.push(format!(
                    "`{id}`: `{name}` added ({sig}{})",
                    if *required { ", required" } else { "" }
                )),
                Some((old_sig, _)) if old_sig != sig => {
                    params.push(format!("`{id}`: `{name}` {old_sig} → {sig}"))
                }
                Some((_, was_required)) if was_required != required => params.push(format!(
                    "`{id}`: `{name}` now {}",
                    if *required { "required" } else { "optional" }
                )),
                _ => {}
            }
        }
        for name in old_op.params.keys() {
            if !new_op.params.contains_key(name) {
                params.push(format!("`{id}`: `{name}` removed"));
            }
        }
    }
    list(&mut out, "Parameters of kept operations", &params);

    // Types.
    let schemas = |s: &Value| {
        s.pointer("/components/schemas")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default()
    };
    let (old_types, new_types) = (schemas(&old.spec), schemas(&new.spec));
    let names = |from: &serde_json::Map<String, Value>, not_in: &serde_json::Map<String, Value>| {
        from.keys()
            .filter(|k| !not_in.contains_key(*k))
            .map(|k| format!("`{k}`"))
            .collect::<Vec<_>>()
    };
    let _ = writeln!(
        out,
        "\n## Types\n\n{} in {old_version}, {} in {new_version}.",
        old_types.len(),
        new_types.len()
    );
    list(&mut out, "Added", &names(&new_types, &old_types));
    list(
        &mut out,
        "Removed (callers stop compiling)",
        &names(&old_types, &new_types),
    );
    let (mut fields, mut enums) = (Vec::new(), Vec::new());
    for (name, new_schema) in &new_types {
        let Some(old_schema) = old_types.get(name) else {
            continue;
        };
        compare_enums(name, old_schema, new_schema, &mut enums);
        let required = |s: &Value| -> BTreeSet<String> {
            s.get("required")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|v| v.as_str().map(String::from))
                .collect()
        };
        let (old_req, new_req) = (required(old_schema), required(new_schema));
        let props = |s: &Value| s.get("properties").and_then(Value::as_object).cloned();
        let (Some(old_props), Some(new_props)) = (props(old_schema), props(new_schema)) else {
            continue;
        };
        for (field, new_field) in &new_props {
            match old_props.get(field) {
                None => fields.push(format!(
                    "`{name}.{field}` added ({}{})",
                    type_sig(new_field),
                    if new_req.contains(field) {
                        ", required"
                    } else {
                        ""
                    }
                )),
                Some(old_field) => {
                    let (a, b) = (type_sig(old_field), type_sig(new_field));
                    if a != b {
                        fields.push(format!("`{name}.{field}` {a} → {b}"));
                    }
                    if old_req.contains(field) != new_req.contains(field) {
                        fields.push(format!(
                            "`{name}.{field}` now {}",
                            if new_req.contains(field) {
                                "required"
                            } else {
                                "optional"
                            }
                        ));
                    }
                    compare_enums(&format!("{name}.{field}"), old_field, new_field, &mut enums);
                }
            }
        }
        for field in old_props.keys() {
            if !new_props.contains_key(field) {
                fields.push(format!("`{name}.{field}` removed"));
            }
        }
    }
    list(&mut out, "Fields of kept types", &fields);
    list(&mut out, "Enums widened or narrowed", &enums);

    // Transformations.
    let _ = writeln!(
        out,
        "\n## Transformations in build.rs\n\nPlaces each one touches in {old_version} and in \
         {new_version}; the places only the new spec needs are listed.\n\n\
         | transformation | {old_version} | {new_version} | new places |\n|---|---|---|---|"
    );
    for ((name, old_places), (_, new_places)) in old.touched.iter().zip(&new.touched) {
        let fresh: Vec<&String> = new_places.difference(old_places).collect();
        let shown: Vec<String> = fresh.iter().take(12).map(|p| format!("`{p}`")).collect();
        let more = fresh.len().saturating_sub(shown.len());
        let _ = writeln!(
            out,
            "| `{name}` | {} | {} | {}{} |",
            old_places.len(),
            new_places.len(),
            shown.join(", "),
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            }
        );
    }
    out
}

fn compare_enums(name: &str, old: &Value, new: &Value, out: &mut Vec<String>) {
    let (Some(a), Some(b)) = (enum_values(old), enum_values(new)) else {
        return;
    };
    let gained: Vec<&String> = b.difference(&a).collect();
    let lost: Vec<&String> = a.difference(&b).collect();
    let show = |v: &[&String]| {
        let mut s: Vec<String> = v.iter().take(8).map(|x| x.to_string()).collect();
        if v.len() > 8 {
            s.push(format!("and {} more", v.len() - 8));
        }
        s.join(", ")
    };
    if !gained.is_empty() {
        out.push(format!(
            "`{name}` widened by {}: {}",
            gained.len(),
            show(&gained)
        ));
    }
    if !lost.is_empty() {
        out.push(format!(
            "`{name}` narrowed by {} (values callers may send or match on are gone): {}",
            lost.len(),
            show(&lost)
        ));
    }
}
