//! The 24 tools: their declarations (name, permission, effect, schema) and what each does with the SDK.
//!
//! A tool here only declares and does its work. Authentication, authorization, rate limits, schema
//! validation, content checks, error sanitization, wrapping and audit happen in
//! [`crate::pipeline`], which every call goes through.

pub mod args;
mod handlers;

use crate::security::roles::Permission;
use futures::future::BoxFuture;
use serde_json::Value;
use std::sync::LazyLock;

pub use handlers::{ToolContext, ToolEnv, ToolFailure};

/// What a tool does to DefectDojo; drives annotations, rate limiting and audit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// Reads only.
    Read,
    /// Creates objects (not idempotent, not destructive).
    Create,
    /// Changes existing objects; the same call twice gives the same state.
    Update,
    /// Changes existing objects in a way that loses state (closing, removing tags, closing old findings).
    Destructive,
}

impl Effect {
    /// Whether the tool changes DefectDojo (rate-limited, audited as a mutation).
    pub fn is_mutation(self) -> bool {
        self != Effect::Read
    }
}

/// Runs a tool with its arguments, already validated against its schema.
pub type Runner = for<'a> fn(&'a ToolContext, Value) -> BoxFuture<'a, Result<Value, ToolFailure>>;

/// One tool's declaration.
pub struct ToolDef {
    /// Name, as the Python server names it.
    pub name: &'static str,
    /// Human title.
    pub title: &'static str,
    /// What the tool does, for the model.
    pub description: &'static str,
    /// The permission group a caller needs.
    pub permission: Permission,
    /// What the tool does to DefectDojo.
    pub effect: Effect,
    /// Whether the result is a page (`count`, `next_offset`, `results`).
    pub paged: bool,
    /// The input schema (schemars) of the tool's argument type.
    pub input_schema: fn() -> schemars::Schema,
    /// The tool's work.
    pub run: Runner,
}

impl ToolDef {
    /// The input schema as published in tools/list and enforced before a call: schemars' output
    /// without its Rust type name, and with nullable types spelled portably (below).
    pub fn published_input_schema(&self) -> serde_json::Value {
        let mut schema = serde_json::to_value((self.input_schema)()).unwrap_or_default();
        if let Some(obj) = schema.as_object_mut() {
            obj.remove("title");
            obj.remove("$schema");
        }
        split_nullable_types(&mut schema);
        schema
    }
}

/// Rewrites `{"type": ["integer", "null"], "minimum": 1}` as
/// `{"anyOf": [{"type": "integer", "minimum": 1}, {"type": "null"}]}`, the spelling the Python
/// server publishes: clients that map schemas onto a single-`type` dialect (Gemini's OpenAPI
/// subset) reject type arrays. Annotations (description, default, title) stay outside.
fn split_nullable_types(value: &mut serde_json::Value) {
    use serde_json::{json, Map, Value};
    match value {
        Value::Object(map) => {
            map.values_mut().for_each(split_nullable_types);
            let Some(Value::Array(types)) = map.get("type") else {
                return;
            };
            if !types.contains(&json!("null")) {
                return;
            }
            let others: Vec<Value> = types.iter().filter(|t| *t != "null").cloned().collect();
            let mut branch = Map::new();
            let outside = ["description", "default", "title", "examples", "deprecated"];
            for (key, v) in std::mem::take(map) {
                if outside.contains(&key.as_str()) {
                    map.insert(key, v);
                } else if key != "type" {
                    branch.insert(key, v);
                }
            }
            branch.insert(
                "type".into(),
                match others.as_slice() {
                    [one] => one.clone(),
                    _ => Value::Array(others),
                },
            );
            map.insert("anyOf".into(), json!([branch, {"type": "null"}]));
        }
        Value::Array(items) => items.iter_mut().for_each(split_nullable_types),
        _ => {}
    }
}

macro_rules! tool {
    ($name:literal, $title:literal, $perm:ident, $effect:ident, $paged:literal, $args:ty, $handler:path, $desc:literal) => {
        ToolDef {
            name: $name,
            title: $title,
            description: $desc,
            permission: Permission::$perm,
            effect: Effect::$effect,
            paged: $paged,
            input_schema: || schemars::schema_for!($args),
            run: |ctx, value| {
                Box::pin(async move {
                    let args: $args = serde_path_to_error::deserialize(value)
                        .map_err(ToolFailure::bad_arguments)?;
                    $handler(ctx, args).await
                })
            },
        }
    };
}

use args::*;
use handlers as h;

/// Every tool, in the Python server's order.
pub static TOOLS: LazyLock<Vec<ToolDef>> = LazyLock::new(|| {
    vec![
        tool!("health_check", "Check DefectDojo connectivity", System, Read, false, NoArgs, h::health_check,
            "Check connectivity to the DefectDojo instance. Returns status 'ok' or 'unhealthy' and a message."),
        tool!("list_products", "List products", MetadataRead, Read, true, PageArgs, h::list_products,
            "List products, a page at a time (limit/offset). The result says how to get the next page."),
        tool!("get_product", "Get a product", MetadataRead, Read, false, ProductId, h::get_product,
            "Get one product by ID."),
        tool!("create_product", "Create a product", ProductMgmt, Create, false, CreateProduct, h::create_product,
            "Create a product in a product type. Requires product_mgmt (admin). Rate-limited."),
        tool!("list_product_types", "List product types", MetadataRead, Read, true, PageArgs, h::list_product_types,
            "List product types, a page at a time."),
        tool!("list_engagements", "List engagements of a product", MetadataRead, Read, true, ListEngagements, h::list_engagements,
            "List the engagements of a product, a page at a time."),
        tool!("get_engagement", "Get an engagement", MetadataRead, Read, false, EngagementId, h::get_engagement,
            "Get one engagement by ID."),
        tool!("create_engagement", "Create an engagement", EngagementMgmt, Create, false, CreateEngagement, h::create_engagement,
            "Create an engagement for a product between two dates (YYYY-MM-DD). Rate-limited."),
        tool!("list_tests", "List tests of an engagement", MetadataRead, Read, true, ListTests, h::list_tests,
            "List the tests of an engagement, a page at a time."),
        tool!("get_test", "Get a test", MetadataRead, Read, false, TestId, h::get_test,
            "Get one test by ID."),
        tool!("create_test", "Create a test", EngagementMgmt, Create, false, CreateTest, h::create_test,
            "Create a test of a given test type in an engagement. Rate-limited."),
        tool!("list_test_types", "List test types", MetadataRead, Read, true, PageArgs, h::list_test_types,
            "List test types (scanner kinds), a page at a time."),
        tool!("list_findings", "List findings", MetadataRead, Read, true, ListFindings, h::list_findings,
            "List findings with optional filters (test, product, engagement, severity, status flags, tags, component, title), a page at a time. Text written by scanners comes back wrapped as untrusted content."),
        tool!("get_finding", "Get a finding", MetadataRead, Read, false, FindingId, h::get_finding,
            "Get one finding by ID. Text written by scanners comes back wrapped as untrusted content."),
        tool!("create_finding", "Create a finding", FindingMgmt, Create, false, CreateFinding, h::create_finding,
            "Create a finding in a test. Rate-limited."),
        tool!("update_finding", "Update a finding", FindingMgmt, Update, false, UpdateFinding, h::update_finding,
            "Update fields of a finding; at least one field besides finding_id. Rate-limited."),
        tool!("close_finding", "Close a finding", FindingMgmt, Destructive, false, CloseFinding, h::close_finding,
            "Close a finding as mitigated, false_positive, out_of_scope or duplicate, optionally with a note. If the note cannot be attached, the close stands and the result carries a warning. Rate-limited."),
        tool!("reopen_finding", "Reopen a finding", EngagementMgmt, Update, false, ReopenFinding, h::reopen_finding,
            "Reopen a closed finding: active again, closed flags cleared; optionally with a note. Rate-limited."),
        tool!("import_scan", "Import a scan report", ScanMgmt, Destructive, false, ImportScanArgs, h::import_scan,
            "Import a scan report (base64 `file`, or `file_path` inside the server's scan directory) into DefectDojo. With close_old_findings (default true) findings absent from the report are closed. Rate-limited."),
        tool!("add_finding_note", "Add a note to a finding", FindingMgmt, Create, false, AddFindingNote, h::add_finding_note,
            "Add a note to a finding. Rate-limited."),
        tool!("list_finding_notes", "List a finding's notes", MetadataRead, Read, false, FindingId, h::list_finding_notes,
            "List the notes of a finding. Note text comes back wrapped as untrusted content."),
        tool!("add_finding_tags", "Tag a finding", FindingMgmt, Update, false, FindingTags, h::add_finding_tags,
            "Add tags to a finding. Tags use letters, digits, space and ._:/-+ only. Rate-limited."),
        tool!("remove_finding_tags", "Untag a finding", FindingMgmt, Destructive, false, FindingTags, h::remove_finding_tags,
            "Remove tags from a finding; every tag must be on it. Rate-limited."),
        tool!("reimport_scan", "Reimport a scan report", ScanMgmt, Destructive, false, ReimportScanArgs, h::reimport_scan,
            "Re-import a scan report into an existing test (test_id, or product/engagement names and scan type); the result says what was created, closed, reactivated and left untouched. Rate-limited."),
    ]
});

/// Looks a tool up by name.
pub fn find(name: &str) -> Option<&'static ToolDef> {
    TOOLS.iter().find(|t| t.name == name)
}

#[cfg(test)]
mod schema_tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nullable_types_become_any_of() {
        let mut v = json!({"properties": {"n": {"type": ["integer", "null"], "minimum": 1, "description": "d"}}});
        split_nullable_types(&mut v);
        assert_eq!(
            v,
            json!({"properties": {"n": {"description": "d", "anyOf": [{"type": "integer", "minimum": 1}, {"type": "null"}]}}})
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twenty_four_unique_tools() {
        let mut names: Vec<_> = TOOLS.iter().map(|t| t.name).collect();
        assert_eq!(names.len(), 24);
        names.sort();
        names.dedup();
        assert_eq!(names.len(), 24);
    }

    #[test]
    fn mutations_need_a_write_group() {
        for t in TOOLS.iter() {
            let read_group = matches!(t.permission, Permission::System | Permission::MetadataRead);
            assert_eq!(t.effect.is_mutation(), !read_group, "{}", t.name);
        }
    }
}
