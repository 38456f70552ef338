//! Values for `completion/complete`: names taken from list-tool results, ranked against what the
//! user has typed so far.

use rmcp::model::CompletionInfo;
use serde_json::Value;

/// The most values a completion answer carries (the MCP limit).
const MAX_VALUES: usize = 100;

/// The `name` of each result of a (wrapped or plain) list-tool result.
pub fn names_in(result: Option<&Value>) -> Vec<String> {
    let Some(results) = result
        .and_then(|r| r.get("results"))
        .and_then(Value::as_array)
    else {
        return Vec::new();
    };
    results.iter().filter_map(|r| text(r.get("name"))).collect()
}

/// The id of the result named `name` (case-insensitive).
pub fn id_named(result: Option<&Value>, name: &str) -> Option<i64> {
    let results = result?.get("results")?.as_array()?;
    results
        .iter()
        .find(|r| text(r.get("name")).is_some_and(|n| n.eq_ignore_ascii_case(name.trim())))
        .and_then(|r| r.get("id"))
        .and_then(Value::as_i64)
}

/// A string, or the `value` of an untrusted-content wrapper around one.
fn text(value: Option<&Value>) -> Option<String> {
    let value = value?;
    value
        .as_str()
        .or_else(|| value.get("value").and_then(Value::as_str))
        .map(str::to_string)
}

/// The values that start with `typed` first, then those that contain it, each group sorted, at
/// most 100, with the total and whether more were left out.
pub fn ranked(mut values: Vec<String>, typed: &str) -> CompletionInfo {
    let typed = typed.to_lowercase();
    values.sort();
    values.dedup();
    let (mut starts, contains): (Vec<String>, Vec<String>) = values
        .into_iter()
        .filter(|v| v.to_lowercase().contains(&typed))
        .partition(|v| v.to_lowercase().starts_with(&typed));
    starts.extend(contains);
    let total = starts.len();
    starts.truncate(MAX_VALUES);
    let more = total > starts.len();
    CompletionInfo::with_pagination(starts, Some(total as u32), more).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ranks_prefix_then_substring() {
        let info = ranked(
            vec![
                "ZAP Scan".into(),
                "Trivy Scan".into(),
                "Zed".into(),
                "zap".into(),
            ],
            "za",
        );
        assert_eq!(info.values, vec!["ZAP Scan", "zap"]);
        let info = ranked(vec!["Trivy Scan".into(), "Scanner".into()], "scan");
        assert_eq!(info.values, vec!["Scanner", "Trivy Scan"]);
        let many: Vec<String> = (0..150).map(|i| format!("p{i:03}")).collect();
        let info = ranked(many, "p");
        assert_eq!(info.values.len(), 100);
        assert_eq!(info.total, Some(150));
        assert_eq!(info.has_more, Some(true));
    }

    #[test]
    fn reads_names_plain_or_wrapped() {
        let r = json!({"results": [
            {"id": 1, "name": "Alpha"},
            {"id": 2, "name": {"value": "Beta", "_warning": "untrusted"}}
        ]});
        assert_eq!(names_in(Some(&r)), vec!["Alpha", "Beta"]);
        assert_eq!(id_named(Some(&r), "beta"), Some(2));
        assert_eq!(id_named(Some(&r), "gamma"), None);
    }
}
