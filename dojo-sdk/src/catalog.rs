//! Every GET operation of the generated client as data (operation id, path, parameters and their
//! kinds), generated from the same spec at build time, and a way to send any of them with
//! parameters checked against it. The MCP server's explore tools are built on this; a program
//! can use it to offer the read side of the whole API without a match over 159 operations.
//!
//! ```no_run
//! # async fn demo(client: &dojo_sdk::DojoClient) -> Result<(), dojo_sdk::DojoError> {
//! let op = dojo_sdk::catalog::find("findings_list").expect("in the pinned spec");
//! let query = [("severity".to_string(), "Critical".to_string())];
//! let page = client.get_operation(op, &[], &query).await?;
//! println!("{} critical findings", page["count"]);
//! # Ok(()) }
//! ```

use crate::{DojoClient, DojoError};

/// Where a parameter goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// In the path template (`{id}`).
    Path,
    /// In the query string.
    Query,
}

/// What values a parameter takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A whole number.
    Integer,
    /// A number.
    Number,
    /// `true` or `false`.
    Boolean,
    /// A date, `YYYY-MM-DD`.
    Date,
    /// A date and time, RFC 3339.
    DateTime,
    /// Text.
    Text,
    /// One of these values.
    OneOf(&'static [&'static str]),
    /// Whole numbers (sent as repeated parameters).
    IntegerList,
    /// Texts (sent as repeated parameters).
    TextList,
}

/// One parameter of a GET operation.
#[derive(Debug, Clone, Copy)]
pub struct Param {
    /// Name as the API spells it.
    pub name: &'static str,
    /// Path or query.
    pub place: Place,
    /// Values it takes.
    pub kind: Kind,
    /// Whether it must be given.
    pub required: bool,
    /// The spec's first sentence about it.
    pub description: &'static str,
}

/// One GET operation.
#[derive(Debug, Clone, Copy)]
pub struct Operation {
    /// The spec's operationId, which is also the generated method's name.
    pub id: &'static str,
    /// Path template under the server, e.g. `/api/v2/findings/{id}/`.
    pub path: &'static str,
    /// The spec's first tag (its API area).
    pub tag: &'static str,
    /// The spec's first sentence about it.
    pub summary: &'static str,
    /// Whether it answers a file rather than JSON.
    pub file: bool,
    /// Its parameters.
    pub params: &'static [Param],
}

include!(concat!(env!("OUT_DIR"), "/get_catalog.rs"));

/// Looks a GET operation up by operationId.
pub fn find(id: &str) -> Option<&'static Operation> {
    GET_CATALOG.iter().find(|op| op.id == id)
}

impl Kind {
    /// Checks one value (one item, for lists) against the kind; the error says what is expected.
    pub fn check(&self, value: &str) -> Result<(), String> {
        let ok = match self {
            Kind::Integer | Kind::IntegerList => value.parse::<i64>().is_ok(),
            Kind::Number => value.parse::<f64>().is_ok_and(f64::is_finite),
            Kind::Boolean => matches!(value, "true" | "false"),
            Kind::Date => chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d").is_ok(),
            Kind::DateTime => chrono::DateTime::parse_from_rfc3339(value).is_ok(),
            Kind::OneOf(values) => values.contains(&value),
            Kind::Text | Kind::TextList => !value.chars().any(char::is_control),
        };
        if ok {
            Ok(())
        } else {
            Err(format!("must be {}", self.describe()))
        }
    }

    /// The kind in words.
    pub fn describe(&self) -> String {
        match self {
            Kind::Integer => "a whole number".into(),
            Kind::Number => "a number".into(),
            Kind::Boolean => "true or false".into(),
            Kind::Date => "a date, YYYY-MM-DD".into(),
            Kind::DateTime => "a date and time, RFC 3339".into(),
            Kind::Text => "text".into(),
            Kind::OneOf(values) => format!("one of {}", values.join(", ")),
            Kind::IntegerList => "whole numbers".into(),
            Kind::TextList => "texts".into(),
        }
    }

    /// Whether the parameter takes several values.
    pub fn is_list(&self) -> bool {
        matches!(self, Kind::IntegerList | Kind::TextList)
    }
}

impl DojoClient {
    /// Sends a GET operation of the catalog with the read token: `path` fills the template's
    /// parameters, `query` the query string (a list parameter may repeat). Every name and value
    /// is checked against the operation first, and nothing is sent if one is wrong. The answer
    /// is DefectDojo's JSON as it is, not decoded into the typed model.
    pub async fn get_operation(
        &self,
        op: &Operation,
        path: &[(&str, i64)],
        query: &[(String, String)],
    ) -> Result<serde_json::Value, DojoError> {
        if op.file {
            return Err(DojoError::InvalidRequest(format!(
                "{} answers a file, not JSON",
                op.id
            )));
        }
        let mut url_path = op.path.to_string();
        for p in op.params.iter().filter(|p| p.place == Place::Path) {
            let value = path
                .iter()
                .find(|(n, _)| *n == p.name)
                .map(|(_, v)| *v)
                .ok_or_else(|| {
                    DojoError::InvalidRequest(format!("path parameter `{}` is required", p.name))
                })?;
            url_path = url_path.replace(&format!("{{{}}}", p.name), &value.to_string());
        }
        if let Some((name, _)) = path.iter().find(|(n, _)| {
            !op.params
                .iter()
                .any(|p| p.place == Place::Path && p.name == *n)
        }) {
            return Err(DojoError::InvalidRequest(format!(
                "{} has no path parameter `{name}`",
                op.id
            )));
        }
        for (name, value) in query {
            let param = op
                .params
                .iter()
                .find(|p| p.place == Place::Query && p.name == name)
                .ok_or_else(|| {
                    DojoError::InvalidRequest(format!("{} has no query parameter `{name}`", op.id))
                })?;
            param
                .kind
                .check(value)
                .map_err(|e| DojoError::InvalidRequest(format!("{name}: {e}")))?;
        }
        let relative = url_path.trim_start_matches("/api/v2/");
        let mut url = self.api_url(relative);
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        self.get_json(url).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalog_has_the_get_operations() {
        let findings = find("findings_list").unwrap();
        assert_eq!(findings.path, "/api/v2/findings/");
        let severity = findings
            .params
            .iter()
            .find(|p| p.name == "severity")
            .unwrap();
        assert_eq!(severity.place, Place::Query);
        let get = find("findings_retrieve").unwrap();
        assert!(get
            .params
            .iter()
            .any(|p| p.place == Place::Path && p.name == "id"));
        assert!(GET_CATALOG.len() > 100);
    }

    #[test]
    fn kinds_check_values() {
        assert!(Kind::Integer.check("12").is_ok());
        assert!(Kind::Integer.check("1.5").is_err());
        assert!(Kind::Boolean.check("yes").is_err());
        assert!(Kind::Date.check("2026-02-30").is_err());
        assert!(Kind::OneOf(&["a", "b"])
            .check("c")
            .unwrap_err()
            .contains("a, b"));
        assert!(Kind::Text.check("x\u{0}").is_err());
    }
}
