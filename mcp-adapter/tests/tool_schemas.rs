//! Every tool's published definition (input schema, output schema, annotations, title,
//! description) as an insta snapshot under `tests/snapshots/`: a schema change shows up as a
//! snapshot diff to review (`cargo insta review`), never silently. The test command sets
//! `INSTA_UPDATE=no`, so a missing or changed snapshot fails.
//!
//! Also: what tools/list costs per toolset, the default never above the Python server's, and the
//! README's tool table listing every tool with its toolset and permission group.

use mcp_adapter::server::{tool_list, TOOL_LIST};
use mcp_adapter::tools::{ToolSelection, Toolset, TOOLS};

#[test]
fn every_tool_definition_is_snapshotted() {
    assert_eq!(TOOL_LIST.len(), TOOLS.len());
    for tool in TOOL_LIST.iter() {
        insta::assert_json_snapshot!(tool.name.to_string(), tool);
    }
}

/// Compact JSON of a tools/list result with these tools, as a client receives it.
fn list_bytes(selection: &ToolSelection) -> usize {
    serde_json::to_string(&serde_json::json!({ "tools": tool_list(selection) }))
        .unwrap()
        .len()
}

/// The Python server's tools/list, recorded in `tests/e2e/seed-tools-list.json`.
fn python_list_bytes() -> usize {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/e2e/seed-tools-list.json"
    );
    let seed: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    serde_json::to_string(&serde_json::json!({ "tools": seed["tools"] }))
        .unwrap()
        .len()
}

#[test]
fn toolset_sizes() {
    let default = list_bytes(&ToolSelection::default());
    let python = python_list_bytes();
    println!("| selection | tools | tools/list bytes |\n|---|---|---|");
    println!("| Python server 3.3.2 | 24 | {python} |");
    println!(
        "| default | {} | {default} |",
        ToolSelection::default().tools().count()
    );
    let read_only = ToolSelection::default().made_read_only();
    println!(
        "| default, read-only | {} | {} |",
        read_only.tools().count(),
        list_bytes(&read_only)
    );
    for toolset in Toolset::ALL {
        let one = ToolSelection::parse(toolset.name(), false).unwrap();
        println!(
            "| {} | {} | {} |",
            toolset.name(),
            one.tools().count(),
            list_bytes(&one)
        );
    }
    let all = ToolSelection::parse("all", false).unwrap();
    println!("| all | {} | {} |", all.tools().count(), list_bytes(&all));
    assert!(
        default <= python,
        "the default tools/list is {default} bytes, more than the Python server's {python}"
    );
}

#[test]
fn the_readme_lists_every_tool_with_its_toolset_and_permission() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    let table = readme
        .split("## Tools\n")
        .nth(1)
        .and_then(|s| s.split("\n\n").find(|p| p.starts_with("| tool |")))
        .expect("the README's tool table");
    for tool in TOOLS.iter() {
        let row = table
            .lines()
            .find(|l| {
                l.trim_start_matches("| ")
                    .split(" | ")
                    .next()
                    .is_some_and(|names| names.split(" / ").any(|n| n == tool.name))
            })
            .unwrap_or_else(|| panic!("{} has no row in the README's tool table", tool.name));
        let cells: Vec<&str> = row.split(" | ").collect();
        assert_eq!(cells.get(1), Some(&tool.toolset.name()), "{}", tool.name);
        assert_eq!(
            cells.get(2),
            Some(&tool.permission.as_str()),
            "{}",
            tool.name
        );
    }
}
