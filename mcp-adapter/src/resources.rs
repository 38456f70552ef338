//! MCP resources: DefectDojo objects by URI (`defectdojo://finding/42`). A read is the matching
//! `get_` tool called through the pipeline, so it is authorized, limited to the selected
//! toolsets, wrapped and audited like any call.

use serde_json::{json, Map, Value};

/// One kind of object readable by URI.
pub struct ResourceKind {
    /// The URI template, RFC 6570 level 1.
    pub template: &'static str,
    /// Template name.
    pub name: &'static str,
    /// What a read returns.
    pub description: &'static str,
    /// The path segment after `defectdojo://`.
    segment: &'static str,
    /// The tool a read calls, and the argument that takes the id.
    tool: &'static str,
    argument: &'static str,
}

/// Every kind of object readable by URI.
pub const RESOURCE_KINDS: &[ResourceKind] = &[
    ResourceKind {
        template: "defectdojo://finding/{finding_id}",
        name: "finding",
        description: "One finding, as get_finding returns it (scanner text wrapped as untrusted).",
        segment: "finding",
        tool: "get_finding",
        argument: "finding_id",
    },
    ResourceKind {
        template: "defectdojo://product/{product_id}",
        name: "product",
        description: "One product, as get_product returns it.",
        segment: "product",
        tool: "get_product",
        argument: "product_id",
    },
    ResourceKind {
        template: "defectdojo://engagement/{engagement_id}",
        name: "engagement",
        description: "One engagement, as get_engagement returns it.",
        segment: "engagement",
        tool: "get_engagement",
        argument: "engagement_id",
    },
    ResourceKind {
        template: "defectdojo://test/{test_id}",
        name: "test",
        description: "One test, as get_test returns it.",
        segment: "test",
        tool: "get_test",
        argument: "test_id",
    },
];

impl ResourceKind {
    /// The `get_` tool a read of this kind runs.
    pub fn tool(&self) -> &'static str {
        self.tool
    }
}

/// The tool call a resource URI stands for, or why the URI names nothing.
pub fn tool_call_for(uri: &str) -> Result<(&'static str, Map<String, Value>), String> {
    let rest = uri.strip_prefix("defectdojo://").ok_or_else(|| {
        "resource URIs start with defectdojo:// (see resources/templates/list)".to_string()
    })?;
    let (segment, id) = rest.split_once('/').unwrap_or((rest, ""));
    let kind = RESOURCE_KINDS
        .iter()
        .find(|k| k.segment == segment)
        .ok_or_else(|| {
            format!(
                "no resource kind `{}`; kinds: finding, product, engagement, test",
                crate::pipeline::cut_name(segment)
            )
        })?;
    let id: i64 = id
        .parse()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("{}: the id must be a whole number above 0", kind.template))?;
    let mut arguments = Map::new();
    arguments.insert(kind.argument.into(), json!(id));
    Ok((kind.tool, arguments))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_map_to_get_tools() {
        let (tool, args) = tool_call_for("defectdojo://finding/42").unwrap();
        assert_eq!(tool, "get_finding");
        assert_eq!(args["finding_id"], 42);
        assert_eq!(tool_call_for("defectdojo://test/7").unwrap().0, "get_test");
        for bad in [
            "https://x/finding/1",
            "defectdojo://finding/0",
            "defectdojo://finding/-1",
            "defectdojo://finding/1e3",
            "defectdojo://finding/",
            "defectdojo://user/1",
            "defectdojo://finding/99999999999999999999",
        ] {
            assert!(tool_call_for(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn every_resource_tool_exists_and_reads() {
        for kind in RESOURCE_KINDS {
            let tool = crate::tools::find(kind.tool).unwrap();
            assert!(!tool.effect.is_mutation());
        }
    }
}
