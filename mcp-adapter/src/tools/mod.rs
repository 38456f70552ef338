//! The tools, one module per family (toolset). Each module holds its tools' whole story: the
//! arguments, the permission, the effect, which arguments are stored as text in DefectDojo, the
//! description, and the SDK calls. Every list the rest of the server needs (the tool list, the
//! stored-text fields, the tool names the injection detector looks for, the toolsets) is derived
//! from these declarations.
//!
//! A tool here only declares and does its work. Authentication, authorization, rate limits,
//! schema validation, content checks, error sanitization, wrapping and audit happen in
//! [`crate::pipeline`], which every call goes through.

use crate::security::roles::Permission;
use futures::future::BoxFuture;
use serde_json::Value;
use std::collections::BTreeSet;
use std::sync::LazyLock;

/// Declares one tool of the module's toolset (the module's `TOOLSET`):
/// `tool!(name, title, permission, effect, paged, stored_text: [...], Args, handler, description)`.
macro_rules! tool {
    (
        $name:literal, $title:literal, $permission:ident, $effect:ident, paged: $paged:literal,
        stored_text: [$($stored:literal),* $(,)?], $args:ty, $handler:path, $description:literal $(,)?
    ) => {
        $crate::tools::ToolDef {
            name: $name,
            title: $title,
            description: $description,
            toolset: TOOLSET,
            permission: $crate::security::roles::Permission::$permission,
            effect: $crate::tools::Effect::$effect,
            paged: $paged,
            stored_text: &[$($stored),*],
            per_item: None,
            previews: false,
            input_schema: || schemars::schema_for!($args),
            run: |ctx, value| {
                Box::pin(async move {
                    let args: $args = serde_path_to_error::deserialize(value)
                        .map_err($crate::tools::ToolFailure::bad_arguments)?;
                    $handler(ctx, args).await
                })
            },
        }
    };
}

pub mod args;
mod context;

mod analytics;
mod bulk;
mod endpoints;
mod engagements;
mod explore;
mod findings;
mod imports;
mod products;
mod risk;
mod system;

pub use context::{
    check_dates, page, to_json, Confirmer, ItemOutcome, Outcome, ToolContext, ToolEnv, ToolFailure,
};

/// What a tool does to DefectDojo; drives annotations, read-only mode, rate limiting and audit.
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
    /// Whether the tool changes DefectDojo (rate-limited, audited as a mutation, hidden when read-only).
    pub fn is_mutation(self) -> bool {
        self != Effect::Read
    }
}

/// A family of tools, chosen together with `MCP_TOOLSETS` or `/mcp?toolsets=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Toolset {
    /// health_check.
    System,
    /// Products and product types.
    Products,
    /// Engagements, tests and test types.
    Engagements,
    /// Findings, their notes and tags.
    Findings,
    /// Scan import and reimport.
    Imports,
    /// Figures computed by the server from DefectDojo's findings.
    Analytics,
    /// Risk acceptances.
    RiskAcceptance,
    /// Closing and tagging many findings in one call.
    BulkTriage,
    /// Endpoints (2.x) and locations (3.x).
    Endpoints,
    /// Any GET operation of the API, by operationId.
    Explore,
}

impl Toolset {
    /// Every toolset, in tools/list order.
    pub const ALL: [Toolset; 10] = [
        Toolset::System,
        Toolset::Products,
        Toolset::Engagements,
        Toolset::Findings,
        Toolset::Imports,
        Toolset::Analytics,
        Toolset::RiskAcceptance,
        Toolset::BulkTriage,
        Toolset::Endpoints,
        Toolset::Explore,
    ];

    /// The name used in `MCP_TOOLSETS` and `?toolsets=`.
    pub fn name(self) -> &'static str {
        match self {
            Toolset::System => "system",
            Toolset::Products => "products",
            Toolset::Engagements => "engagements",
            Toolset::Findings => "findings",
            Toolset::Imports => "imports",
            Toolset::Analytics => "analytics",
            Toolset::RiskAcceptance => "risk_acceptance",
            Toolset::BulkTriage => "bulk_triage",
            Toolset::Endpoints => "endpoints",
            Toolset::Explore => "explore",
        }
    }

    /// Whether the toolset is on by default: the 24 tools of the Python server.
    pub fn in_default(self) -> bool {
        matches!(
            self,
            Toolset::System
                | Toolset::Products
                | Toolset::Engagements
                | Toolset::Findings
                | Toolset::Imports
        )
    }

    /// The toolset's declarations, from its module.
    fn declarations(self) -> Vec<ToolDef> {
        match self {
            Toolset::System => system::tools(),
            Toolset::Products => products::tools(),
            Toolset::Engagements => engagements::tools(),
            Toolset::Findings => findings::tools(),
            Toolset::Imports => imports::tools(),
            Toolset::Analytics => analytics::tools(),
            Toolset::RiskAcceptance => risk::tools(),
            Toolset::BulkTriage => bulk::tools(),
            Toolset::Endpoints => endpoints::tools(),
            Toolset::Explore => explore::tools(),
        }
    }

    /// Parses a toolset name.
    pub fn parse(name: &str) -> Option<Toolset> {
        Toolset::ALL.into_iter().find(|t| t.name() == name)
    }
}

/// Runs a tool with its arguments, already validated against its schema.
pub type Runner = for<'a> fn(&'a ToolContext, Value) -> BoxFuture<'a, Result<Value, ToolFailure>>;

/// One tool's declaration.
pub struct ToolDef {
    /// Name, as the Python server names it (for the 24 it has).
    pub name: &'static str,
    /// Human title.
    pub title: &'static str,
    /// What the tool does, for the model.
    pub description: &'static str,
    /// The family it belongs to.
    pub toolset: Toolset,
    /// The permission group a caller needs.
    pub permission: Permission,
    /// What the tool does to DefectDojo.
    pub effect: Effect,
    /// Whether the result is a page (`count`, `next_offset`, `results`).
    pub paged: bool,
    /// Arguments whose text DefectDojo stores and models read back later: checked for injection,
    /// tool-call syntax and secrets before a call runs, and never blank.
    pub stored_text: &'static [&'static str],
    /// For tools that change many findings: the array argument each of whose (distinct) items is
    /// one change to the rate limiter and to confirmation.
    pub per_item: Option<&'static str>,
    /// Whether the tool only previews unless called with `dry_run: false` (the bulk tools).
    pub previews: bool,
    /// The input schema (schemars) of the tool's argument type.
    pub input_schema: fn() -> schemars::Schema,
    /// The tool's work.
    pub run: Runner,
}

impl ToolDef {
    /// The question put to the person before this call runs, when it is destructive or changes
    /// many findings; `None` when it needs no confirmation.
    pub fn confirmation_question(&self, arguments: &Value) -> Option<String> {
        let changes = self.changes_asked(arguments);
        let many = changes > 1;
        if self.effect != Effect::Destructive && !many {
            return None;
        }
        if changes == 0 {
            return None; // a preview
        }
        let ids = ["finding_id", "risk_acceptance_id", "test_id"]
            .iter()
            .filter_map(|k| arguments.get(*k).map(|v| format!("{k} {v}")))
            .collect::<Vec<_>>()
            .join(", ");
        let what = match (many, ids.is_empty()) {
            (true, _) => format!("{} on {changes} findings", self.name),
            (false, false) => format!("{} on {ids}", self.name),
            (false, true) => self.name.to_string(),
        };
        Some(format!(
            "Allow {what}? It changes DefectDojo ({}).",
            self.title
        ))
    }

    /// How many changes a call with these (validated) arguments asks for: 0 for reads and bulk
    /// previews, one per distinct item for tools that change many findings, else 1.
    pub fn changes_asked(&self, arguments: &Value) -> usize {
        if !self.effect.is_mutation() {
            return 0;
        }
        if self.previews && arguments.get("dry_run").and_then(Value::as_bool) != Some(false) {
            return 0;
        }
        match self.per_item {
            None => 1,
            Some(items) => {
                let distinct: std::collections::BTreeSet<String> = arguments
                    .get(items)
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .map(Value::to_string)
                    .collect();
                distinct.len().max(1)
            }
        }
    }

    /// The input schema as published in tools/list and enforced before a call: schemars' output
    /// made short and portable (tools/list is paid for in every conversation, and some clients
    /// map schemas onto a single-`type`, `$ref`-less dialect): no Rust type name or doc, no
    /// `$defs`, no integer formats, enums as `enum`, and optional arguments without `null`
    /// (the pipeline treats a null argument as an absent one).
    pub fn published_input_schema(&self) -> serde_json::Value {
        let mut schema = serde_json::to_value((self.input_schema)()).unwrap_or_default();
        if let Some(obj) = schema.as_object_mut() {
            obj.remove("title");
            obj.remove("$schema");
            // The argument type's doc comment; the tool's description already says it.
            obj.remove("description");
        }
        inline_definitions(&mut schema);
        drop_integer_formats(&mut schema);
        drop_null_types(&mut schema);
        enums_of_constants(&mut schema);
        schema
    }
}

/// Removes schemars' `"format": "int64"` and kin: the range is already in minimum/maximum, and
/// tools/list is paid for in every conversation. Date formats stay: they say what is accepted.
fn drop_integer_formats(value: &mut serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            let integer_format = map
                .get("format")
                .and_then(Value::as_str)
                .is_some_and(|f| f.starts_with("int") || f.starts_with("uint"));
            if integer_format {
                map.remove("format");
            }
            map.values_mut().for_each(drop_integer_formats);
        }
        Value::Array(items) => items.iter_mut().for_each(drop_integer_formats),
        _ => {}
    }
}

/// Replaces each `{"$ref": "#/$defs/X"}` by X itself and drops `$defs` (ours are not recursive).
fn inline_definitions(schema: &mut serde_json::Value) {
    use serde_json::Value;
    let Some(defs) = schema.as_object_mut().and_then(|o| o.remove("$defs")) else {
        return;
    };
    fn walk(value: &mut Value, defs: &Value) {
        match value {
            Value::Object(map) => {
                let target = map
                    .get("$ref")
                    .and_then(Value::as_str)
                    .and_then(|r| r.strip_prefix("#/$defs/"))
                    .and_then(|name| defs.get(name))
                    .cloned();
                if let Some(mut target) = target {
                    map.remove("$ref");
                    if let Value::Object(t) = &mut target {
                        // The use site's own words (its description) win over the type's.
                        for (k, v) in std::mem::take(map) {
                            t.insert(k, v);
                        }
                    }
                    *value = target;
                    walk(value, defs);
                    return;
                }
                map.values_mut().for_each(|v| walk(v, defs));
            }
            Value::Array(items) => items.iter_mut().for_each(|v| walk(v, defs)),
            _ => {}
        }
    }
    walk(schema, &defs);
}

/// `{"type": ["integer", "null"]}` becomes `{"type": "integer"}`, and `{"anyOf": [X, {"type":
/// "null"}]}` becomes X: an optional argument is left out, not sent as null.
fn drop_null_types(value: &mut serde_json::Value) {
    use serde_json::{json, Value};
    match value {
        Value::Object(map) => {
            map.values_mut().for_each(drop_null_types);
            if let Some(Value::Array(types)) = map.get("type") {
                let others: Vec<Value> = types.iter().filter(|t| *t != "null").cloned().collect();
                let single = match others.as_slice() {
                    [one] => one.clone(),
                    _ => Value::Array(others),
                };
                map.insert("type".into(), single);
            }
            let null = json!({"type": "null"});
            let branch = match map.get("anyOf") {
                Some(Value::Array(branches)) if branches.len() == 2 && branches.contains(&null) => {
                    branches.iter().find(|b| **b != null).cloned()
                }
                _ => None,
            };
            if let Some(Value::Object(branch)) = branch {
                map.remove("anyOf");
                if map.get("default") == Some(&Value::Null) {
                    map.remove("default");
                }
                for (k, v) in branch {
                    map.entry(k).or_insert(v);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(drop_null_types),
        _ => {}
    }
}

/// schemars spells an enum whose variants have doc comments as `oneOf` of `const`s, each with
/// its description; published as a plain `enum` of the values.
fn enums_of_constants(value: &mut serde_json::Value) {
    use serde_json::{json, Value};
    match value {
        Value::Object(map) => {
            map.values_mut().for_each(enums_of_constants);
            let constants: Option<Vec<Value>> = match map.get("oneOf") {
                Some(Value::Array(branches)) => {
                    branches.iter().map(|b| b.get("const").cloned()).collect()
                }
                _ => None,
            };
            if let Some(values) = constants {
                map.remove("oneOf");
                map.insert("type".into(), json!("string"));
                map.insert("enum".into(), Value::Array(values));
            }
        }
        Value::Array(items) => items.iter_mut().for_each(enums_of_constants),
        _ => {}
    }
}

/// Every tool of every toolset, toolset by toolset.
pub static TOOLS: LazyLock<Vec<ToolDef>> = LazyLock::new(|| {
    Toolset::ALL
        .into_iter()
        .flat_map(Toolset::declarations)
        .collect()
});

/// Looks a tool up by name, whatever the selection.
pub fn find(name: &str) -> Option<&'static ToolDef> {
    TOOLS.iter().find(|t| t.name == name)
}

/// Which tools a server (or one HTTP request) offers: a set of toolsets, with or without the
/// tools that change DefectDojo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolSelection {
    toolsets: BTreeSet<Toolset>,
    read_only: bool,
}

impl Default for ToolSelection {
    /// The Python server's 24 tools.
    fn default() -> Self {
        ToolSelection {
            toolsets: Toolset::ALL
                .into_iter()
                .filter(|t| t.in_default())
                .collect(),
            read_only: false,
        }
    }
}

impl ToolSelection {
    /// Parses `MCP_TOOLSETS`: toolset names, `default` (the 24 tools) and `all`, comma-separated;
    /// empty means `default`.
    pub fn parse(list: &str, read_only: bool) -> Result<Self, String> {
        let mut toolsets = BTreeSet::new();
        for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            match name.to_ascii_lowercase().as_str() {
                "default" => toolsets.extend(ToolSelection::default().toolsets),
                "all" => toolsets.extend(Toolset::ALL),
                other => {
                    toolsets.insert(Toolset::parse(other).ok_or_else(|| {
                        format!(
                            "unknown toolset `{}`; toolsets: default, all, {}",
                            crate::pipeline::cut_name(other),
                            Toolset::ALL.map(Toolset::name).join(", ")
                        )
                    })?);
                }
            }
        }
        if toolsets.is_empty() {
            toolsets = ToolSelection::default().toolsets;
        }
        Ok(ToolSelection {
            toolsets,
            read_only,
        })
    }

    /// The part of this selection one request asks for (`/mcp?toolsets=...`). A request can
    /// narrow what the server offers, never widen it.
    pub fn narrowed(&self, list: &str) -> Result<Self, String> {
        let asked = ToolSelection::parse(list, self.read_only)?;
        if let Some(outside) = asked.toolsets.difference(&self.toolsets).next() {
            return Err(format!(
                "toolset `{}` is not enabled on this server; enabled: {}",
                outside.name(),
                self.names().join(", ")
            ));
        }
        Ok(asked)
    }

    /// Whether the selection offers `tool`.
    pub fn includes(&self, tool: &ToolDef) -> bool {
        self.toolsets.contains(&tool.toolset) && !(self.read_only && tool.effect.is_mutation())
    }

    /// Why the selection does not offer `tool`, for the caller.
    pub fn why_not(&self, tool: &ToolDef) -> String {
        if !self.toolsets.contains(&tool.toolset) {
            format!(
                "{} is in the {} toolset, which is not enabled here (MCP_TOOLSETS, or ?toolsets= over HTTP)",
                tool.name,
                tool.toolset.name()
            )
        } else {
            format!(
                "{} changes DefectDojo and this server is read-only (MCP_READ_ONLY)",
                tool.name
            )
        }
    }

    /// The selected tools, in tools/list order.
    pub fn tools(&self) -> impl Iterator<Item = &'static ToolDef> + '_ {
        TOOLS.iter().filter(|t| self.includes(t))
    }

    /// The same selection without the tools that change DefectDojo.
    pub fn made_read_only(mut self) -> Self {
        self.read_only = true;
        self
    }

    /// Whether tools that change DefectDojo are left out.
    pub fn read_only(&self) -> bool {
        self.read_only
    }

    /// The selected toolsets' names.
    pub fn names(&self) -> Vec<&'static str> {
        self.toolsets.iter().map(|t| t.name()).collect()
    }
}

#[cfg(test)]
mod schema_tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn optional_arguments_drop_null() {
        let mut v = json!({"properties": {
            "n": {"type": ["integer", "null"], "minimum": 1, "description": "d"},
            "s": {"anyOf": [{"type": "string", "maxLength": 3}, {"type": "null"}], "default": null, "description": "d"}
        }});
        drop_null_types(&mut v);
        assert_eq!(
            v,
            json!({"properties": {
                "n": {"type": "integer", "minimum": 1, "description": "d"},
                "s": {"type": "string", "maxLength": 3, "description": "d"}
            }})
        );
    }

    #[test]
    fn enums_are_inlined_as_plain_values() {
        let mut v = json!({
            "$defs": {"Sev": {"description": "type doc", "oneOf": [
                {"const": "High", "description": "High.", "type": "string"},
                {"const": "Low", "description": "Low.", "type": "string"}]}},
            "properties": {"severity": {"$ref": "#/$defs/Sev", "description": "use doc"}}
        });
        inline_definitions(&mut v);
        enums_of_constants(&mut v);
        assert_eq!(
            v,
            json!({"properties": {"severity": {"description": "use doc", "type": "string", "enum": ["High", "Low"]}}})
        );
    }

    #[test]
    fn published_schemas_have_no_refs_nulls_or_one_ofs() {
        for tool in TOOLS.iter() {
            let text = tool.published_input_schema().to_string();
            for absent in ["$ref", "$defs", "\"null\"", "oneOf", "int64"] {
                assert!(!text.contains(absent), "{}: {absent}", tool.name);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_is_the_python_servers_24_tools() {
        let names: Vec<_> = ToolSelection::default().tools().map(|t| t.name).collect();
        assert_eq!(names.len(), 24);
        let mut unique = names.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), 24);
    }

    #[test]
    fn names_are_unique_across_toolsets() {
        let mut names: Vec<_> = TOOLS.iter().map(|t| t.name).collect();
        let all = names.len();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), all);
    }

    #[test]
    fn mutations_need_a_write_group() {
        for t in TOOLS.iter() {
            assert_eq!(
                t.effect.is_mutation(),
                t.permission.is_write(),
                "{}",
                t.name
            );
        }
    }

    #[test]
    fn only_mutations_store_text() {
        for t in TOOLS.iter() {
            assert!(
                t.effect.is_mutation() || t.stored_text.is_empty(),
                "{}",
                t.name
            );
            let schema = t.published_input_schema();
            for field in t.stored_text {
                assert!(
                    schema["properties"].get(*field).is_some(),
                    "{}: {field}",
                    t.name
                );
            }
        }
    }

    #[test]
    fn destructive_and_bulk_changes_need_confirmation_and_nothing_else() {
        use serde_json::json;
        let ask = |name: &str, args: Value| find(name).unwrap().confirmation_question(&args);
        let close = ask(
            "close_finding",
            json!({"finding_id": 5, "reason": "mitigated"}),
        )
        .unwrap();
        assert!(close.contains("close_finding on finding_id 5"), "{close}");
        assert!(ask("import_scan", json!({})).is_some());
        assert!(ask("update_finding", json!({"finding_id": 5})).is_none());
        assert!(ask("get_finding", json!({"finding_id": 5})).is_none());
        let bulk = json!({"finding_ids": [1, 2, 3], "tags": ["a"], "dry_run": false});
        assert!(ask("bulk_tag_findings", bulk)
            .unwrap()
            .contains("3 findings"));
        let preview = json!({"finding_ids": [1, 2, 3], "tags": ["a"]});
        assert!(ask("bulk_tag_findings", preview).is_none());
        let one = json!({"finding_ids": [1], "tags": ["a"], "dry_run": false});
        assert!(
            ask("bulk_tag_findings", one).is_none(),
            "one tag change is an update"
        );
    }

    #[test]
    fn read_only_keeps_every_read_and_no_write() {
        let ro = ToolSelection::parse("all", true).unwrap();
        assert!(ro.tools().all(|t| !t.effect.is_mutation()));
        let reads = TOOLS.iter().filter(|t| !t.effect.is_mutation()).count();
        assert_eq!(ro.tools().count(), reads);
    }

    #[test]
    fn selections_parse_and_narrow() {
        let all = ToolSelection::parse("all", false).unwrap();
        assert_eq!(all.tools().count(), TOOLS.len());
        assert_eq!(
            ToolSelection::parse("", false).unwrap(),
            ToolSelection::default()
        );
        assert_eq!(
            ToolSelection::parse(" default ,", false).unwrap(),
            ToolSelection::default()
        );
        assert!(ToolSelection::parse("findings,nope", false)
            .unwrap_err()
            .contains("unknown toolset `nope`"));
        let findings = ToolSelection::default().narrowed("findings").unwrap();
        assert!(findings.tools().all(|t| t.toolset == Toolset::Findings));
        assert!(ToolSelection::parse("findings", false)
            .unwrap()
            .narrowed("products")
            .unwrap_err()
            .contains("not enabled"));
    }
}
