//! Generates the typed DefectDojo client from the OpenAPI spec in `openapi/`.
//!
//! The spec is read as JSON, passed through a list of small, named, mechanical transformations (each
//! fixes one way DefectDojo's spec departs from what it serves or from what progenitor digests), then
//! handed to progenitor. The result goes to `$OUT_DIR/dojo_generated.rs`.
//!
//! * `DOJO_OPENAPI_SPEC=path` selects another spec; otherwise the single `*.json` in `openapi/` is used.
//! * `DOJO_SDK_BUILD_REPORT=1` prints each transformation and how much it touched as `cargo:warning`.

use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A named transformation of the spec: its name, why it exists, and the function that applies it.
/// The function returns how many places it changed.
struct Transform {
    name: &'static str,
    reason: &'static str,
    apply: fn(&mut Value) -> usize,
}

const TRANSFORMS: &[Transform] = &[
    Transform {
        name: "keep_only_json_request_bodies",
        reason: "progenitor panics on operations offering several media types; JSON is what we send",
        apply: keep_only_json_request_bodies,
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
];

fn main() {
    println!("cargo:rerun-if-env-changed=DOJO_OPENAPI_SPEC");
    println!("cargo:rerun-if-env-changed=DOJO_SDK_BUILD_REPORT");
    println!("cargo:rerun-if-changed=openapi");
    println!("cargo:rerun-if-changed=build.rs");

    let spec_path = select_spec();
    println!("cargo:rerun-if-changed={}", spec_path.display());
    let text = std::fs::read_to_string(&spec_path)
        .unwrap_or_else(|e| fail(&format!("cannot read spec {}: {e}", spec_path.display())));
    let mut spec: Value = serde_json::from_str(&text).unwrap_or_else(|e| {
        fail(&format!(
            "spec {} is not valid JSON ({e}); DefectDojo serves it at /api/v2/oa3/schema/?format=json",
            spec_path.display()
        ))
    });
    check_shape(&spec);

    let report = std::env::var("DOJO_SDK_BUILD_REPORT").is_ok_and(|v| !v.is_empty() && v != "0");
    for t in TRANSFORMS {
        let touched = (t.apply)(&mut spec);
        if report {
            println!(
                "cargo:warning={}: {touched} place(s) — {}",
                t.name, t.reason
            );
        }
    }

    let version = spec
        .pointer("/info/version")
        .and_then(Value::as_str)
        .unwrap_or("unknown")
        .to_string();
    let pages = paginated_list_types(&spec);
    let get_dispatch = get_operation_dispatch(&spec);
    let parsed: openapiv3::OpenAPI = serde_json::from_value(spec).unwrap_or_else(|e| {
        fail(&format!(
            "the transformed spec is not OpenAPI 3.0 ({e}); add a transformation in build.rs for it"
        ))
    });

    let mut settings = progenitor::GenerationSettings::default();
    settings.with_interface(progenitor::InterfaceStyle::Builder);
    settings.with_tag(progenitor::TagStyle::Merged);
    // Per-client state for the hand-written hooks (the response-size bound in `limits.rs`).
    settings.with_inner_type(
        "crate::limits::ClientState"
            .parse::<proc_macro2::TokenStream>()
            .expect("a type path is valid tokens"),
    );
    let mut generator = progenitor::Generator::new(&settings);
    let tokens = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        generator.generate_tokens(&parsed)
    })) {
        Ok(Ok(tokens)) => tokens,
        Ok(Err(e)) => fail(&format!(
            "progenitor cannot digest the spec: {e}. Find the named operation or schema in the spec and \
             add a mechanical transformation for it in build.rs (see TRANSFORMS)"
        )),
        Err(_) => fail(
            "progenitor panicked on the spec (message above). It names the operation or schema at fault: \
             add a mechanical transformation for it in build.rs (see TRANSFORMS)",
        ),
    };
    let file: syn::File = syn::parse2(tokens).unwrap_or_else(|e| {
        fail(&format!(
            "progenitor produced code that does not parse: {e}"
        ))
    });
    let mut code = prettyplease::unparse(&file);
    code.push_str(&paginated_impls(&pages));
    code.push_str(&format!(
        "\n/// The `info.version` of the DefectDojo spec this client was generated from.\npub const SPEC_VERSION: &str = {version:?};\n"
    ));

    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    std::fs::write(out.join("dojo_generated.rs"), code)
        .unwrap_or_else(|e| fail(&format!("cannot write generated client: {e}")));
    std::fs::write(out.join("get_dispatch.rs"), get_dispatch)
        .unwrap_or_else(|e| fail(&format!("cannot write GET dispatch: {e}")));
}

/// Stops the build with a message cargo shows in full.
fn fail(message: &str) -> ! {
    eprintln!("error: dojo-sdk build: {message}");
    panic!("dojo-sdk build: {message}");
}

/// The spec named by `DOJO_OPENAPI_SPEC`, or the one `*.json` file in `openapi/`.
fn select_spec() -> PathBuf {
    if let Ok(path) = std::env::var("DOJO_OPENAPI_SPEC") {
        let path = PathBuf::from(path);
        if !path.is_file() {
            fail(&format!(
                "DOJO_OPENAPI_SPEC={} is not a file",
                path.display()
            ));
        }
        return path;
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("openapi");
    let mut specs: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| fail(&format!("cannot list {}: {e}", dir.display())))
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    specs.sort();
    match specs.len() {
        1 => specs.pop().unwrap(),
        0 => fail(
            "openapi/ holds no *.json spec; put DefectDojo's /api/v2/oa3/schema/?format=json there",
        ),
        _ => fail(&format!(
            "openapi/ holds {} specs ({:?}); keep exactly one, or set DOJO_OPENAPI_SPEC",
            specs.len(),
            specs
        )),
    }
}

/// Refuses inputs that are not an OpenAPI 3.0 document, naming what is missing.
fn check_shape(spec: &Value) {
    match spec.get("openapi").and_then(Value::as_str) {
        Some(v) if v.starts_with("3.0") => {}
        Some(v) => fail(&format!("spec is OpenAPI {v}; progenitor needs 3.0.x")),
        None => fail("spec has no `openapi` field; is this DefectDojo's OpenAPI v3 schema?"),
    }
    if !spec.get("paths").is_some_and(Value::is_object) {
        fail("spec has no `paths` object");
    }
}

/// Every operation object in the spec: `(path, method, operation)`.
fn operations_mut(spec: &mut Value) -> Vec<(String, String, &mut Map<String, Value>)> {
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

fn drop_multipart_only_operations(spec: &mut Value) -> usize {
    let mut doomed = Vec::new();
    for (path, method, op) in operations_mut(spec) {
        let content = op
            .get("requestBody")
            .and_then(|b| b.get("content"))
            .and_then(Value::as_object);
        if let Some(content) = content {
            if !content.contains_key("application/json") {
                doomed.push((path, method));
            }
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
    paths.retain(|_, item| {
        item.as_object()
            .is_some_and(|m| m.keys().any(|k| k != "parameters"))
    });
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
                let description = prop.get("description").cloned();
                *prop = json!({ "type": "array", "items": items });
                if let Some(d) = description {
                    prop["description"] = d;
                }
                touched += 1;
            }
        }
        touched
    })
}

/// Every field of a `V3…Compatible` schema (the 3.x view of a 2.x object) optional, and any JSON
/// value except the `id`: neither release sends what these schemas declare.
fn compatibility_views_lenient(spec: &mut Value) -> usize {
    let Some(schemas) = spec
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    else {
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
                let description = prop.get("description").cloned();
                *prop = json!({});
                if let Some(d) = description {
                    prop["description"] = d;
                }
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
    let schema_of = |op: &Value, code: &str| -> Option<Value> {
        op.pointer(&format!(
            "/responses/{code}/content/application~1json/schema"
        ))
        .cloned()
    };
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
fn answers_bytes(op: &Value) -> bool {
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

/// Names of `Paginated*List` schemas and the element type of their `results`.
fn paginated_list_types(spec: &Value) -> BTreeMap<String, String> {
    let mut pages = BTreeMap::new();
    let Some(schemas) = spec
        .pointer("/components/schemas")
        .and_then(Value::as_object)
    else {
        return pages;
    };
    for (name, schema) in schemas {
        if !name.starts_with("Paginated") {
            continue;
        }
        let item = schema
            .pointer("/properties/results/items/$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.rsplit('/').next());
        let has_count = schema.pointer("/properties/count").is_some();
        if let (Some(item), true) = (item, has_count) {
            pages.insert(name.clone(), item.to_string());
        }
    }
    pages
}

/// typify's Rust name for a schema name (`PaginatedJIRAInstanceList` → `PaginatedJiraInstanceList`).
fn rust_type_name(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::new();
    for (i, c) in chars.iter().enumerate() {
        let prev_upper = i > 0 && chars[i - 1].is_uppercase();
        let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
        if c.is_uppercase() && prev_upper && !next_lower {
            out.extend(c.to_lowercase());
        } else {
            out.push(*c);
        }
    }
    out
}

/// `impl Page for PaginatedXList` for every paginated list type, so `dojo_sdk::paging` works on all.
fn paginated_impls(pages: &BTreeMap<String, String>) -> String {
    let mut code =
        String::from("\n// Paging support, emitted by build.rs for every Paginated*List schema.\n");
    for (page, item) in pages {
        let page = rust_type_name(page);
        let item = rust_type_name(item);
        code.push_str(&format!(
            "impl crate::paging::Page for types::{page} {{\n    type Item = types::{item};\n    \
             fn count(&self) -> Option<i64> {{ Some(self.count) }}\n    \
             fn next(&self) -> Option<&str> {{ self.next.as_deref() }}\n    \
             fn into_results(self) -> Vec<Self::Item> {{ self.results }}\n}}\n"
        ));
    }
    code
}

/// A test helper, `call_get(client, operation_id, id, file_id)`, that sends any GET operation without
/// query parameters (with the `id` and `file_id` path parameters where it has them) by name, so the sweep tests can
/// decode every recorded or live GET response through the generated operation it belongs to;
/// and `GET_OPERATIONS`, each such operation with its path template.
fn get_operation_dispatch(spec: &Value) -> String {
    let mut arms = String::new();
    let mut table = String::new();
    let mut skipped = String::new();
    if let Some(paths) = spec.get("paths").and_then(Value::as_object) {
        for (path, item) in paths {
            let Some(op) = item.get("get") else { continue };
            let Some(id) = op.get("operationId").and_then(Value::as_str) else {
                continue;
            };
            let path_params: Vec<&str> = op
                .get("parameters")
                .and_then(Value::as_array)
                .map(|ps| {
                    ps.iter()
                        .filter(|p| p.get("in").and_then(Value::as_str) == Some("path"))
                        .filter_map(|p| p.get("name").and_then(Value::as_str))
                        .collect()
                })
                .unwrap_or_default();
            let call = match path_params.as_slice() {
                [] => format!("client.{id}().send()"),
                ["id"] => format!("client.{id}().id(id.unwrap_or(1)).send()"),
                ["id", "file_id"] | ["file_id", "id"] => format!(
                    "client.{id}().id(id.unwrap_or(1)).file_id(file_id.unwrap_or(1).to_string()).send()"
                ),
                _ => {
                    skipped.push_str(&format!("    ({id:?}, {path:?}),\n"));
                    continue;
                }
            };
            let call = if answers_bytes(op) {
                format!("dojo_sdk::call_bytes({call})")
            } else {
                format!("dojo_sdk::call({call})")
            };
            arms.push_str(&format!(
                "        {id:?} => Some(Box::pin({call}).await.map(|_| ())),\n"
            ));
            table.push_str(&format!("    ({id:?}, {path:?}),\n"));
        }
    }
    format!(
        "/// Sends the GET operation `operation` by name; `None` if there is no such operation.\n\
         pub async fn call_get(client: &dojo_sdk::GeneratedClient, operation: &str, id: Option<i64>, \
         file_id: Option<i64>) \
         -> Option<Result<(), dojo_sdk::DojoError>> {{\n    match operation {{\n{arms}        _ => None,\n    }}\n}}\n\n\
         /// Every GET operation `call_get` can send: operation id and path template.\n\
         #[allow(dead_code)]\n\
         pub const GET_OPERATIONS: &[(&str, &str)] = &[\n{table}];\n\n\
         /// GET operations with other path parameters, which `call_get` cannot send.\n\
         #[allow(dead_code)]\n\
         pub const GET_OPERATIONS_NOT_DISPATCHED: &[(&str, &str)] = &[\n{skipped}];\n"
    )
}
