//! Turns failures into messages a caller can act on, without DefectDojo's internals.

use dojo_sdk::{ApiErrorBody, DojoError, ErrorKind};

/// DefectDojo field names and the tool argument a caller would change for each.
const FIELD_TO_ARGUMENT: &[(&str, &str)] = &[
    ("title", "title"),
    ("name", "name"),
    ("description", "description"),
    ("severity", "severity"),
    ("target_start", "target_start"),
    ("target_end", "target_end"),
    ("prod_type", "prod_type_id"),
    ("product", "product_id"),
    ("engagement", "engagement_id"),
    ("test", "test_id"),
    ("test_type", "test_type_id"),
    ("tags", "tags"),
    ("entry", "entry"),
    ("scan_type", "scan_type"),
    ("file", "file / file_name"),
    ("product_name", "product_name"),
    ("engagement_name", "engagement_name"),
    ("product_type_name", "product_type_name"),
    ("minimum_severity", "minimum_severity"),
    ("group_by", "group_by"),
];

/// A message for the caller describing a DefectDojo failure.
pub fn describe(error: &DojoError) -> String {
    match error.kind() {
        ErrorKind::Unauthenticated => {
            "DefectDojo rejected this server's API key; the operator must check DEFECTDOJO_API_KEY".into()
        }
        ErrorKind::Forbidden => {
            "this server's DefectDojo API key is not allowed to do that on this object".into()
        }
        ErrorKind::NotFound => {
            "not found: no such object, or it is outside what this server's DefectDojo key can see".into()
        }
        ErrorKind::RateLimited => "DefectDojo is limiting requests; retry in a minute".into(),
        ErrorKind::Server => {
            "DefectDojo failed while handling the request; nothing to fix in the arguments, retry later or ask its administrator".into()
        }
        ErrorKind::Transport => "DefectDojo could not be reached (connection failed or timed out); retry later".into(),
        ErrorKind::Decode => "DefectDojo answered in an unexpected format; the operator can find details in the server log".into(),
        ErrorKind::Client => match error {
            DojoError::InvalidRequest(m) => format!("invalid request: {m}"),
            _ => "the server is misconfigured; the operator can find details in the server log".into(),
        },
        ErrorKind::Invalid => describe_invalid(error),
    }
}

fn describe_invalid(error: &DojoError) -> String {
    let DojoError::Api { status, body } = error else {
        return "DefectDojo refused the request".into();
    };
    if *status == 405 || *status == 415 {
        return "DefectDojo refused the request's form; this is a server defect, please report it"
            .into();
    }
    let arguments: Vec<&str> = match body {
        ApiErrorBody::Fields { fields, .. } => {
            let mut args: Vec<&str> = fields
                .keys()
                .map(|f| {
                    FIELD_TO_ARGUMENT
                        .iter()
                        .find(|(field, _)| field == f)
                        .map_or("a value the server fills in", |(_, arg)| arg)
                })
                .collect();
            // Several internal fields can map to one argument; name each argument once.
            args.sort_unstable();
            args.dedup();
            args
        }
        _ => Vec::new(),
    };
    if arguments.is_empty() {
        "DefectDojo refused the request; check that the IDs and names exist and the values fit what DefectDojo accepts".into()
    } else {
        format!(
            "DefectDojo refused the value of: {}; check and retry",
            arguments.join(", ")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_errors_name_arguments_not_internals() {
        let e = DojoError::from_status_and_body(
            400,
            br#"{"prod_type":["Invalid pk \"9\" - object does not exist."],"message":"{'prod_type': [ErrorDetail(..)]}"}"#,
        );
        let m = describe(&e);
        assert!(m.contains("prod_type_id"), "{m}");
        assert!(!m.contains("pk") && !m.contains("ErrorDetail"), "{m}");
    }

    #[test]
    fn each_argument_is_named_once() {
        let e = DojoError::from_status_and_body(
            400,
            br#"{"found_by":["required"],"product":["bad"],"reporter":["x"]}"#,
        );
        assert_eq!(
            describe(&e),
            "DefectDojo refused the value of: a value the server fills in, product_id; check and retry"
        );
    }

    #[test]
    fn not_found_and_auth() {
        assert!(describe(&DojoError::from_status_and_body(
            404,
            br#"{"detail":"No Finding matches the given query."}"#
        ))
        .starts_with("not found"));
        assert!(describe(&DojoError::from_status_and_body(
            403,
            br#"{"detail":"Invalid token."}"#
        ))
        .contains("DEFECTDOJO_API_KEY"));
    }
}
