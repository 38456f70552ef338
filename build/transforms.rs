//! The mechanical transformations of DefectDojo's spec, each fixing one way the spec departs from
//! what DefectDojo serves or from what progenitor digests. Used by `build.rs` (before generating the
//! client) and by `examples/spec_changes.rs` (to say what each one touches in a new spec).

use serde_json::{json, Map, Value};
use std::collections::BTreeSet;

/// A named transformation of the spec: its name, why it exists, and the function that applies it.
/// The function returns how many places it changed.
pub struct Transform {
    pub name: &'static str,
    pub reason: &'static str,
    pub apply: fn(&mut Value) -> usize,
}

pub const TRANSFORMS: &[Transform] = &[
    Transform {
        name: "sla_filter_is_a_whole_number",
        reason: "`outside_of_sla` is documented as a number, but DefectDojo takes only 0 or 1 and \
                 refuses `1.0`, which is how a number is sent (found live on 2.50.4 and 3.2.0)",
        apply: sla_filter_is_a_whole_number,
    },
    Transform {
        name: "keep_only_json_request_bodies",
        reason: "progenitor panics on operations offering several media types; JSON is what we send",
        apply: keep_only_json_request_bodies,
    },
    Transform {
        name: "upload_answers_may_omit_the_file",
        reason: "a multipart upload's answer echoes its fields but may send the uploaded file as null \
                 (import-languages answers `\"file\": null`)",
        apply: upload_answers_may_omit_the_file,
    },
    Transform {
        name: "drop_multipart_only_operations",
        reason: "progenitor has no multipart bodies; dojo-sdk hand-writes import/reimport uploads",
        apply: drop_multipart_only_operations,
    },
    Transform {
        name: "date_range_filters_as_integers",
        reason: "date filters are declared string/date with an integer enum (1 = today, ...); typify rejects it",
        apply: date_range_filters_as_integers,
    },
    Transform {
        name: "plain_strings_for_colliding_enums",
        reason: "enums whose values map to the same Rust variant name (Etc/GMT+0 vs Etc/GMT-0) panic typify",
        apply: plain_strings_for_colliding_enums,
    },
    Transform {
        name: "read_only_fields_optional",
        reason: "responses omit read-only fields the spec calls required (Note.id on create, ImportScan.pro)",
        apply: read_only_fields_optional,
    },
    Transform {
        name: "read_only_refs_nullable",
        reason: "read-only nested objects come back null although the spec says non-null (Note.note_type)",
        apply: read_only_refs_nullable,
    },
    Transform {
        name: "nullable_enums_accept_blank",
        reason: "a nullable choice field created without a value comes back as \"\" (Engagement.status)",
        apply: nullable_enums_accept_blank,
    },
    Transform {
        name: "lone_choices_like_sibling_lists",
        reason: "a choice field among list-of-choice siblings is served as a list (scan_added_empty: [])",
        apply: lone_choices_like_sibling_lists,
    },
    Transform {
        name: "compatibility_views_lenient",
        reason: "3.x `V3*Compatible` views stand in for 2.x objects and match neither: 2.x servers send \
                 them without the 3.x fields and with nulls (Endpoint.location_id, .fragment), 3.2.0 sends \
                 EndpointStatus.mitigated as a date where the spec says boolean",
        apply: compatibility_views_lenient,
    },
    Transform {
        name: "action_gets_answer_like_their_post",
        reason: "an action GET declared with its parent's schema answers what its POST answers \
                 (engagements/{id}/complete_checklist/ sends a checklist, not an Engagement)",
        apply: action_gets_answer_like_their_post,
    },
    Transform {
        name: "downloads_are_bytes",
        reason: "download GETs send the file's bytes (with a Content-Type such as \"('text/plain', None)\"), \
                 not the JSON object the spec declares",
        apply: downloads_are_bytes,
    },
    Transform {
        name: "created_also_accepts_ok",
        reason: "POST actions declared 201 answer 200 (findings tags); accept both with the same body",
        apply: created_also_accepts_ok,
    },
    Transform {
        name: "answers_without_string_limits",
        reason: "answers are decoded, not validated: one string past its declared length or outside its \
                 pattern (an SSO user's name) would fail a whole page; requests keep their limits",
        apply: answers_without_string_limits,
    },
];

/// Every operation object in the spec: `(path, method, operation)`.
pub fn operations_mut(spec: &mut Value) -> Vec<(String, String, &mut Map<String, Value>)> {
    let mut ops = Vec::new();
    if let Some(paths) = spec.get_mut("paths").and_then(Value::as_object_mut) {
        for (path, item) in paths.iter_mut() {
            if let Some(item) = item.as_object_mut() {
                for (method, op) in item.iter_mut() {
                    if method == "parameters" {
                        continue;
                    }
                    if let Some(op) = op.as_object_mut() {
                        ops.push((path.clone(), method.clone(), op));
                    }
                }
            }
        }
    }
    ops
}

/// Visits every schema object in the spec (components, parameters, bodies and nested ones).
fn visit_schemas(value: &mut Value, f: &mut dyn FnMut(&mut Map<String, Value>) -> usize) -> usize {
    let mut touched = 0;
    match value {
        Value::Object(map) => {
            let is_schema = map.contains_key("type")
                || map.contains_key("properties")
                || map.contains_key("allOf")
                || map.contains_key("enum");
            if is_schema {
                touched += f(map);
            }
            for (_, v) in map.iter_mut() {
                touched += visit_schemas(v, f);
            }
        }
        Value::Array(items) => {
            for v in items {
                touched += visit_schemas(v, f);
            }
        }
        _ => {}
    }
    touched
}

/// The spec's named schemas (`components.schemas`), if it has any.
pub fn component_schemas(spec: &mut Value) -> Option<&mut Map<String, Value>> {
    spec.pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
}

/// The schema name a `{"$ref": "#/components/schemas/Name"}` points at.
pub fn schema_name(value: &Value) -> Option<&str> {
    value
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix("#/components/schemas/"))
}

/// The JSON schema an operation declares for its `code` answer.
fn answer_schema<'a>(op: &'a Map<String, Value>, code: &str) -> Option<&'a Value> {
    op.get("responses")?
        .pointer(&format!("/{code}/content/application~1json/schema"))
}

/// The request body's media types when the operation takes no JSON (multipart only).
fn non_json_body(op: &Map<String, Value>) -> Option<&Map<String, Value>> {
    op.get("requestBody")?
        .get("content")?
        .as_object()
        .filter(|content| !content.contains_key("application/json"))
}

/// Drops the path items left without any operation.
pub fn drop_empty_path_items(paths: &mut Map<String, Value>) {
    paths.retain(|_, item| {
        item.as_object()
            .is_some_and(|m| m.keys().any(|k| k != "parameters"))
    });
}

/// Replaces a property's schema with `schema`, keeping its description.
fn replace_keeping_description(prop: &mut Value, schema: Value) {
    let description = prop.get("description").cloned();
    *prop = schema;
    if let Some(d) = description {
        prop["description"] = d;
    }
}

fn keep_only_json_request_bodies(spec: &mut Value) -> usize {
    let mut touched = 0;
    for (_, _, op) in operations_mut(spec) {
        let Some(content) = op
            .get_mut("requestBody")
            .and_then(|b| b.get_mut("content"))
            .and_then(Value::as_object_mut)
        else {
            continue;
        };
        if content.len() > 1 && content.contains_key("application/json") {
            content.retain(|k, _| k == "application/json");
            touched += 1;
        }
    }
    touched
}

/// For each multipart-only operation: in the schema its success answer names, every property named
/// like a binary field of the request becomes optional and nullable.
fn upload_answers_may_omit_the_file(spec: &mut Value) -> usize {
    // (answer schema, request schema) of each multipart-only operation.
    let mut uploads: Vec<(String, String)> = Vec::new();
    for (_, _, op) in operations_mut(spec) {
        let request = non_json_body(op)
            .and_then(|content| content.get("multipart/form-data"))
            .and_then(|form| form.get("schema"))
            .and_then(schema_name);
        let answer = ["201", "200"]
            .iter()
            .find_map(|code| answer_schema(op, code).and_then(schema_name));
        if let (Some(request), Some(answer)) = (request, answer) {
            uploads.push((answer.to_string(), request.to_string()));
        }
    }
    let mut touched = 0;
    for (answer, request) in uploads {
        let binary: Vec<String> = spec
            .pointer(&format!("/components/schemas/{request}/properties"))
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .filter(|(_, p)| p.get("format").and_then(Value::as_str) == Some("binary"))
            .map(|(k, _)| k.clone())
            .collect();
        let Some(schema) = spec
            .pointer_mut(&format!("/components/schemas/{answer}"))
            .and_then(Value::as_object_mut)
        else {
            continue;
        };
        if let Some(required) = schema.get_mut("required").and_then(Value::as_array_mut) {
            required.retain(|r| !r.as_str().is_some_and(|r| binary.iter().any(|b| b == r)));
        }
        for name in &binary {
            if let Some(prop) = schema
                .get_mut("properties")
                .and_then(|p| p.get_mut(name))
                .and_then(Value::as_object_mut)
            {
                prop.insert("nullable".into(), json!(true));
                touched += 1;
            }
        }
    }
    touched
}

fn drop_multipart_only_operations(spec: &mut Value) -> usize {
    let mut doomed = Vec::new();
    for (path, method, op) in operations_mut(spec) {
        if non_json_body(op).is_some() {
            doomed.push((path, method));
        }
    }
    let paths = spec["paths"]
        .as_object_mut()
        .expect("checked in check_shape");
    for (path, method) in &doomed {
        if let Some(item) = paths.get_mut(path).and_then(Value::as_object_mut) {
            item.remove(method);
        }
    }
    drop_empty_path_items(paths);
    doomed.len()
}

fn date_range_filters_as_integers(spec: &mut Value) -> usize {
    let mut touched = 0;
    for (_, _, op) in operations_mut(spec) {
        let Some(params) = op.get_mut("parameters").and_then(Value::as_array_mut) else {
            continue;
        };
        for param in params {
            let Some(schema) = param.get_mut("schema").and_then(Value::as_object_mut) else {
                continue;
            };
            let is_string = schema.get("type").and_then(Value::as_str) == Some("string");
            let integer_enum = schema
                .get("enum")
                .and_then(Value::as_array)
                .is_some_and(|e| {
                    e.iter().any(Value::is_number) && e.iter().all(|v| v.is_number() || v.is_null())
                });
            if is_string && integer_enum {
                schema.insert("type".into(), json!("integer"));
                schema.remove("format");
                schema.insert("nullable".into(), json!(true));
                touched += 1;
            }
        }
    }
    touched
}

/// How typify turns an enum value into a variant name, reduced to what decides a collision.
/// typify tells a leading `-` apart (ordering values like `-created`), but no other punctuation.
fn variant_key(value: &str) -> String {
    let (sign, rest) = match value.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", value),
    };
    let folded: String = rest
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect();
    format!("{sign}{folded}")
}

fn plain_strings_for_colliding_enums(spec: &mut Value) -> usize {
    visit_schemas(spec, &mut |schema| {
        let Some(values) = schema.get("enum").and_then(Value::as_array) else {
            return 0;
        };
        let strings: Vec<&str> = values.iter().filter_map(Value::as_str).collect();
        let keys: BTreeSet<String> = strings.iter().map(|s| variant_key(s)).collect();
        if keys.len() < strings.len() {
            schema.remove("enum");
            1
        } else {
            0
        }
    })
}

fn read_only_fields_optional(spec: &mut Value) -> usize {
    visit_schemas(spec, &mut |schema| {
        let read_only: BTreeSet<String> = schema
            .get("properties")
            .and_then(Value::as_object)
            .map(|props| {
                props
                    .iter()
                    .filter(|(_, p)| p.get("readOnly") == Some(&json!(true)))
                    .map(|(k, _)| k.clone())
                    .collect()
            })
            .unwrap_or_default();
        let Some(required) = schema.get_mut("required").and_then(Value::as_array_mut) else {
            return 0;
        };
        let before = required.len();
        required.retain(|r| !r.as_str().is_some_and(|r| read_only.contains(r)));
        before - required.len()
    })
}

fn read_only_refs_nullable(spec: &mut Value) -> usize {
    visit_schemas(spec, &mut |schema| {
        let Some(props) = schema.get_mut("properties").and_then(Value::as_object_mut) else {
            return 0;
        };
        let mut touched = 0;
        for prop in props.values_mut() {
            let Some(prop) = prop.as_object_mut() else {
                continue;
            };
            if prop.get("readOnly") == Some(&json!(true))
                && prop.contains_key("allOf")
                && prop.get("nullable") != Some(&json!(true))
            {
                prop.insert("nullable".into(), json!(true));
                touched += 1;
            }
        }
        touched
    })
}

fn nullable_enums_accept_blank(spec: &mut Value) -> usize {
    visit_schemas(spec, &mut |schema| {
        let nullable = schema.get("nullable") == Some(&json!(true));
        let is_string = schema.get("type").and_then(Value::as_str) == Some("string");
        let Some(values) = schema.get_mut("enum").and_then(Value::as_array_mut) else {
            return 0;
        };
        if nullable && is_string && !values.contains(&json!("")) {
            values.push(json!(""));
            1
        } else {
            0
        }
    })
}

/// A string choice whose values are those of its sibling multi-choice (array) fields is a multi-choice
/// too: DefectDojo serves it as a list (`Notifications.scan_added_empty: []`).
fn lone_choices_like_sibling_lists(spec: &mut Value) -> usize {
    visit_schemas(spec, &mut |schema| {
        let Some(props) = schema.get_mut("properties").and_then(Value::as_object_mut) else {
            return 0;
        };
        let non_blank = |values: &Value| -> BTreeSet<String> {
            values
                .as_array()
                .map(|v| {
                    v.iter()
                        .filter_map(Value::as_str)
                        .filter(|s| !s.is_empty())
                        .map(String::from)
                        .collect()
                })
                .unwrap_or_default()
        };
        let list_choices: Vec<BTreeSet<String>> = props
            .values()
            .filter_map(|p| p.pointer("/items/enum"))
            .map(non_blank)
            .filter(|set| !set.is_empty())
            .collect();
        let mut touched = 0;
        for prop in props.values_mut() {
            let is_string = prop.get("type").and_then(Value::as_str) == Some("string");
            let Some(values) = prop.get("enum").map(non_blank) else {
                continue;
            };
            if is_string && list_choices.contains(&values) {
                let mut items = prop.clone();
                if let Some(obj) = items.as_object_mut() {
                    obj.remove("description");
                }
                replace_keeping_description(prop, json!({ "type": "array", "items": items }));
                touched += 1;
            }
        }
        touched
    })
}

/// Every field of a `V3…Compatible` schema (the 3.x view of a 2.x object) optional, and any JSON
/// value except the `id`: neither release sends what these schemas declare.
fn compatibility_views_lenient(spec: &mut Value) -> usize {
    let Some(schemas) = component_schemas(spec) else {
        return 0;
    };
    let mut touched = 0;
    for (name, schema) in schemas.iter_mut() {
        let view = name.starts_with("V3") && name.ends_with("Compatible");
        let Some(schema) = schema.as_object_mut().filter(|_| view) else {
            continue;
        };
        schema.remove("required");
        if let Some(props) = schema.get_mut("properties").and_then(Value::as_object_mut) {
            for (name, prop) in props.iter_mut() {
                if name == "id" {
                    continue;
                }
                replace_keeping_description(prop, json!({}));
            }
        }
        touched += 1;
    }
    touched
}

/// For `/x/{id}/<action>/` with a GET declared to answer the same schema as `/x/{id}/` and a POST
/// answering another one: the GET answers the POST's schema. drf-spectacular gives an action the
/// viewset's serializer unless told otherwise; DefectDojo's view serializes the action's own object.
fn action_gets_answer_like_their_post(spec: &mut Value) -> usize {
    let schema_of =
        |op: &Value, code: &str| -> Option<Value> { answer_schema(op.as_object()?, code).cloned() };
    let Some(paths) = spec.get_mut("paths").and_then(Value::as_object_mut) else {
        return 0;
    };
    let mut fixes = Vec::new();
    for (path, item) in paths.iter() {
        let Some(at) = path.find("{id}/") else {
            continue;
        };
        let parent = &path[..at + "{id}/".len()];
        if parent == path {
            continue;
        }
        let parent_get = paths
            .get(parent)
            .and_then(|p| p.get("get"))
            .and_then(|op| schema_of(op, "200"));
        let get = item.get("get").and_then(|op| schema_of(op, "200"));
        let post = item
            .get("post")
            .and_then(|op| schema_of(op, "201").or_else(|| schema_of(op, "200")));
        if let (Some(parent_get), Some(get), Some(post)) = (parent_get, get, post) {
            if get == parent_get && post != get {
                fixes.push((path.clone(), post));
            }
        }
    }
    for (path, schema) in &fixes {
        if let Some(slot) = paths.get_mut(path).and_then(|item| {
            item.pointer_mut("/get/responses/200/content/application~1json/schema")
        }) {
            *slot = schema.clone();
        }
    }
    fixes.len()
}

/// GET operations under a `/download…/` path segment answer raw bytes.
fn downloads_are_bytes(spec: &mut Value) -> usize {
    let mut touched = 0;
    for (path, method, op) in operations_mut(spec) {
        let is_download = path
            .split('/')
            .any(|segment| segment.starts_with("download"));
        if method != "get" || !is_download {
            continue;
        }
        if let Some(ok) = op.get_mut("responses").and_then(|r| r.get_mut("200")) {
            ok["content"] = json!({
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
            });
            touched += 1;
        }
    }
    touched
}

/// Whether a GET operation answers raw bytes (see `downloads_are_bytes`).
pub fn answers_bytes(op: &Value) -> bool {
    op.pointer("/responses/200/content/application~1octet-stream")
        .is_some()
}

fn created_also_accepts_ok(spec: &mut Value) -> usize {
    let mut touched = 0;
    for (_, method, op) in operations_mut(spec) {
        if method != "post" {
            continue;
        }
        let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) else {
            continue;
        };
        if responses.contains_key("201") && !responses.contains_key("200") {
            let created = responses["201"].clone();
            responses.insert("200".into(), created);
            touched += 1;
        }
    }
    touched
}

fn sla_filter_is_a_whole_number(spec: &mut Value) -> usize {
    let mut touched = 0;
    for (_, _, op) in operations_mut(spec) {
        let Some(params) = op.get_mut("parameters").and_then(Value::as_array_mut) else {
            continue;
        };
        for p in params {
            let is_sla = p.get("name").and_then(Value::as_str) == Some("outside_of_sla");
            let is_number = p.pointer("/schema/type").and_then(Value::as_str) == Some("number");
            if is_sla && is_number {
                p["schema"]["type"] = Value::from("integer");
                touched += 1;
            }
        }
    }
    touched
}

/// The string limits (`maxLength`, `minLength`, `pattern`) of every component schema that answers
/// reach and no request does: no request body or parameter refers to it, directly or through other
/// components. (DefectDojo's spec gives requests components of their own, `*Request`.)
fn answers_without_string_limits(spec: &mut Value) -> usize {
    let mut todo = Vec::new();
    for (name, item) in spec
        .get("paths")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .flat_map(|(_, item)| item.as_object().into_iter().flatten())
    {
        if name == "parameters" {
            collect_refs(item, &mut todo);
        } else {
            for part in ["requestBody", "parameters"] {
                item.get(part)
                    .into_iter()
                    .for_each(|v| collect_refs(v, &mut todo));
            }
        }
    }
    let request_side = reachable_schemas(spec, todo);
    let Some(schemas) = component_schemas(spec) else {
        return 0;
    };
    schemas
        .iter_mut()
        .filter(|(name, _)| !request_side.contains(*name))
        .map(|(_, schema)| strip_string_limits(schema))
        .sum()
}

/// Removes the string limits of a schema and of the schemas inside it (properties, items, additional
/// properties, `allOf`/`anyOf`/`oneOf`/`not`), without following `$ref`s.
fn strip_string_limits(schema: &mut Value) -> usize {
    let Some(map) = schema.as_object_mut() else {
        return 0;
    };
    let mut touched = ["maxLength", "minLength", "pattern"]
        .iter()
        .filter(|limit| map.remove(**limit).is_some())
        .count();
    if let Some(props) = map.get_mut("properties").and_then(Value::as_object_mut) {
        touched += props.values_mut().map(strip_string_limits).sum::<usize>();
    }
    for key in ["items", "additionalProperties", "not"] {
        touched += map.get_mut(key).map_or(0, strip_string_limits);
    }
    for key in ["allOf", "anyOf", "oneOf"] {
        if let Some(parts) = map.get_mut(key).and_then(Value::as_array_mut) {
            touched += parts.iter_mut().map(strip_string_limits).sum::<usize>();
        }
    }
    touched
}

/// The component schemas named in `names` and every one they refer to, transitively.
pub fn reachable_schemas(spec: &Value, mut names: Vec<String>) -> BTreeSet<String> {
    let mut reached = BTreeSet::new();
    while let Some(name) = names.pop() {
        if reached.insert(name.clone()) {
            if let Some(schema) = spec.pointer(&format!("/components/schemas/{name}")) {
                collect_refs(schema, &mut names);
            }
        }
    }
    reached
}

/// The schema names of every `$ref` in a value.
pub fn collect_refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if let Some(name) = schema_name(value) {
                out.push(name.to_string());
            }
            map.values().for_each(|v| collect_refs(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}
