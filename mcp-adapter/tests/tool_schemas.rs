//! Every tool's published definition (input schema, output schema, annotations, title,
//! description) as an insta snapshot under `tests/snapshots/`: a schema change shows up as a
//! snapshot diff to review (`cargo insta review`), never silently. The test command sets
//! `INSTA_UPDATE=no`, so a missing or changed snapshot fails.

use mcp_adapter::server::TOOL_LIST;

#[test]
fn every_tool_definition_is_snapshotted() {
    assert_eq!(TOOL_LIST.len(), 24);
    for tool in TOOL_LIST.iter() {
        insta::assert_json_snapshot!(tool.name.to_string(), tool);
    }
}
