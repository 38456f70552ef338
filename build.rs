//! Generates the typed DefectDojo client from the OpenAPI spec in `openapi/`.
//!
//! The spec is read as JSON, passed through a list of small, named, mechanical transformations (each
//! fixes one way DefectDojo's spec departs from what it serves or from what progenitor digests), then
//! handed to progenitor. The result goes to `$OUT_DIR/dojo_generated.rs`.
//!
//! * `DOJO_OPENAPI_SPEC=path` selects another spec; otherwise the single `*.json` in `openapi/` is used.
//! * `DOJO_SDK_BUILD_REPORT=1` prints each transformation and how much it touched as `cargo:warning`.

#[path = "build/builders.rs"]
mod builders;
#[path = "build/catalog.rs"]
mod catalog;
#[path = "build/transforms.rs"]
mod transforms;

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use transforms::{
    answers_bytes, collect_refs, component_schemas, drop_empty_path_items, operations_mut,
    reachable_schemas, TRANSFORMS,
};

/// An API area: one cargo feature of `dojo-sdk` (all on by default), the spec tags it covers, and the
/// schemas the hand-written layer names beyond what its operations reach. A dependent that enables a
/// few areas compiles only their operations and the types those reach.
struct Area {
    feature: &'static str,
    tags: &'static [&'static str],
    extra_schemas: &'static [&'static str],
}

/// Tags of every spec in `../shared` (2.44.1 to 3.2.0) are covered. A tag no area names goes to
/// `other`, with a build warning, so a new spec still builds.
const AREAS: &[Area] = &[
    Area {
        feature: "findings",
        tags: &["findings", "notes", "stub_findings"],
        extra_schemas: &["File"],
    },
    Area {
        feature: "finding-templates",
        tags: &["finding_templates", "request_response_pairs"],
        extra_schemas: &[],
    },
    Area {
        feature: "products",
        tags: &["products", "product_types"],
        extra_schemas: &[],
    },
    Area {
        feature: "assets",
        tags: &["assets", "organizations", "asset_api_scan_configurations"],
        extra_schemas: &[],
    },
    Area {
        feature: "product-settings",
        tags: &[
            "metadata",
            "technologies",
            "languages",
            "language_types",
            "engagement_presets",
            "sla_configurations",
            "product_api_scan_configurations",
        ],
        extra_schemas: &[],
    },
    Area {
        feature: "engagements",
        tags: &[
            "engagements",
            "tests",
            "test_types",
            "test_imports",
            "cicd_infrastructure",
        ],
        extra_schemas: &["File"],
    },
    Area {
        feature: "import",
        tags: &[
            "import-scan",
            "reimport-scan",
            "import-languages",
            "endpoint_meta_import",
        ],
        extra_schemas: &[
            "ImportScan",
            "ReImportScan",
            "ImportLanguages",
            "EndpointMetaImporter",
        ],
    },
    Area {
        feature: "risk-acceptance",
        tags: &["risk_acceptance"],
        extra_schemas: &[],
    },
    Area {
        feature: "endpoints",
        tags: &[
            "endpoints",
            "endpoint_status",
            "location",
            "location_findings",
            "location_products",
            "url",
            "network_locations",
        ],
        extra_schemas: &[],
    },
    Area {
        feature: "jira",
        tags: &[
            "jira_configurations",
            "jira_finding_mappings",
            "jira_instances",
            "jira_product_configurations",
            "jira_projects",
        ],
        extra_schemas: &[],
    },
    Area {
        feature: "tools",
        tags: &[
            "tool_configurations",
            "tool_product_settings",
            "tool_types",
            "sonarqube_issues",
            "sonarqube_transitions",
            "credentials",
            "credential_mappings",
        ],
        extra_schemas: &[],
    },
    Area {
        feature: "users",
        tags: &[
            "users",
            "user_profile",
            "user_contact_infos",
            "api-token-auth",
            "configuration_permissions",
            "notifications",
            "notification_webhooks",
            "dojo_groups",
            "dojo_group_members",
            "roles",
            "global_roles",
            "product_members",
            "product_groups",
            "product_type_members",
            "product_type_groups",
            "asset_members",
            "asset_groups",
            "organization_members",
            "organization_groups",
        ],
        extra_schemas: &[],
    },
    Area {
        feature: "system",
        tags: &[
            "system_settings",
            "announcements",
            "celery",
            "oa3",
            "development_environments",
            "regulations",
            "note_type",
            "questionnaire_answered_questionnaires",
            "questionnaire_answers",
            "questionnaire_engagement_questionnaires",
            "questionnaire_general_questionnaires",
            "questionnaire_questions",
        ],
        extra_schemas: &[],
    },
];

/// The feature that takes every tag no area names.
const OTHER_AREA: &str = "other";

fn main() {
    println!("cargo:rerun-if-env-changed=DOJO_OPENAPI_SPEC");
    println!("cargo:rerun-if-env-changed=DOJO_SDK_BUILD_REPORT");
    println!("cargo:rerun-if-changed=openapi");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=build");

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

    check_area_features();
    let (enabled, unknown_tags) = keep_enabled_areas(&mut spec);
    for tag in &unknown_tags {
        println!(
            "cargo:warning=spec tag `{tag}` is in no API area of build.rs (AREAS): it is compiled with the `{OTHER_AREA}` feature"
        );
    }
    if report {
        println!("cargo:warning=API areas compiled: {}", enabled.join(", "));
    }

    let version = spec
        .pointer("/info/version")
        .and_then(Value::as_str)
        .unwrap_or("unknown")
        .to_string();
    let pages = paginated_list_types(&spec);
    let get_dispatch = get_operation_dispatch(&spec);
    let get_catalog = catalog::get_catalog(&spec);
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
    let mut file: syn::File = syn::parse2(tokens).unwrap_or_else(|e| {
        fail(&format!(
            "progenitor produced code that does not parse: {e}"
        ))
    });
    let trimmed = builders::keep_request_body_builders(&mut file).unwrap_or_else(|e| fail(&e));
    if report {
        println!(
            "cargo:warning=type builders removed (neither a request body nor inside one): {trimmed}"
        );
    }
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
    std::fs::write(out.join("get_catalog.rs"), get_catalog)
        .unwrap_or_else(|e| fail(&format!("cannot write GET catalog: {e}")));
}

/// The cargo feature variable for an area (`risk-acceptance` → `CARGO_FEATURE_RISK_ACCEPTANCE`).
fn area_enabled(feature: &str) -> bool {
    let var = format!("CARGO_FEATURE_{}", feature.to_uppercase().replace('-', "_"));
    println!("cargo:rerun-if-env-changed={var}");
    std::env::var_os(var).is_some()
}

/// Every area must be a feature in Cargo.toml, so the two lists cannot drift apart.
fn check_area_features() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest).unwrap_or_default();
    let features = text
        .split("\n[features]\n")
        .nth(1)
        .map(|rest| rest.split("\n[").next().unwrap_or(rest))
        .unwrap_or_default();
    let declared = |name: &str| {
        features
            .lines()
            .any(|l| l.starts_with(&format!("{name} = ")))
    };
    for name in AREAS.iter().map(|a| a.feature).chain([OTHER_AREA]) {
        if !declared(name) || !features.contains(&format!("\"{name}\"")) {
            fail(&format!(
                "API area `{name}` (build.rs AREAS) must be a feature in Cargo.toml and listed in `default`"
            ));
        }
    }
}

/// Keeps the operations of the enabled areas and the schemas they reach; returns the enabled areas
/// and the spec's tags that no area names. With every area enabled the spec is left whole.
fn keep_enabled_areas(spec: &mut Value) -> (Vec<&'static str>, BTreeSet<String>) {
    let area_of = |tag: &str| {
        AREAS
            .iter()
            .find(|a| a.tags.contains(&tag))
            .map_or(OTHER_AREA, |a| a.feature)
    };
    let mut unknown = BTreeSet::new();
    for (_, _, op) in operations_mut(spec) {
        for tag in tags(op.get("tags")) {
            if area_of(tag) == OTHER_AREA {
                unknown.insert(tag.to_string());
            }
        }
    }
    let enabled: Vec<&'static str> = AREAS
        .iter()
        .map(|a| a.feature)
        .chain([OTHER_AREA])
        .filter(|f| area_enabled(f))
        .collect();
    if enabled.len() == AREAS.len() + 1 {
        return (enabled, unknown);
    }
    let paths = spec["paths"]
        .as_object_mut()
        .expect("checked in check_shape");
    for item in paths.values_mut() {
        if let Some(item) = item.as_object_mut() {
            item.retain(|method, op| {
                method == "parameters"
                    || tags(op.get("tags")).any(|t| enabled.contains(&area_of(t)))
            });
        }
    }
    drop_empty_path_items(paths);
    // The schemas reachable from what is left, and from what the enabled hand-written modules name.
    let mut named: Vec<String> = Vec::new();
    collect_refs(&spec["paths"], &mut named);
    for area in AREAS.iter().filter(|a| enabled.contains(&a.feature)) {
        named.extend(area.extra_schemas.iter().map(|s| s.to_string()));
    }
    let keep = reachable_schemas(spec, named);
    if let Some(schemas) = component_schemas(spec) {
        schemas.retain(|name, _| keep.contains(name));
    }
    (enabled, unknown)
}

/// An operation's tags, from its `tags` field.
fn tags(field: Option<&Value>) -> impl Iterator<Item = &str> {
    field
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
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
    let mut fns = String::new();
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
            // One function per operation: each builds its (large) future in its own stack frame,
            // where one match over all of them would need a frame as large as their sum.
            fns.push_str(&format!(
                "#[allow(unused_variables)]\nfn get_{id}(client: &dojo_sdk::GeneratedClient, id: Option<i64>, \
                 file_id: Option<i64>) -> Sent<'_> {{\n    Box::pin(async move {{ {call}.await.map(|_| ()) }})\n}}\n"
            ));
            arms.push_str(&format!("        {id:?} => get_{id},\n"));
            table.push_str(&format!("    ({id:?}, {path:?}),\n"));
        }
    }
    format!(
        "type Sent<'a> = std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), dojo_sdk::DojoError>> + 'a>>;\n\
         {fns}\n\
         /// Sends the GET operation `operation` by name; `None` if there is no such operation.\n\
         pub async fn call_get(client: &dojo_sdk::GeneratedClient, operation: &str, id: Option<i64>, \
         file_id: Option<i64>) \
         -> Option<Result<(), dojo_sdk::DojoError>> {{\n    \
         let send: fn(&dojo_sdk::GeneratedClient, Option<i64>, Option<i64>) -> Sent<'_> = match operation {{\n\
         {arms}        _ => return None,\n    }};\n    Some(send(client, id, file_id).await)\n}}\n\n\
         /// Every GET operation `call_get` can send: operation id and path template.\n\
         #[allow(dead_code)]\n\
         pub const GET_OPERATIONS: &[(&str, &str)] = &[\n{table}];\n\n\
         /// GET operations with other path parameters, which `call_get` cannot send.\n\
         #[allow(dead_code)]\n\
         pub const GET_OPERATIONS_NOT_DISPATCHED: &[(&str, &str)] = &[\n{skipped}];\n"
    )
}
