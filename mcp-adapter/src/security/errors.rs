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
        ErrorKind::RateLimited => match error.retry_after_secs() {
            Some(secs) => format!(
                "DefectDojo is limiting requests (HTTP 429) and asks to wait {}; retry after that",
                wait_in_words(secs)
            ),
            None => "DefectDojo is limiting requests (HTTP 429) without saying for how long; wait a little and retry".into(),
        },
        ErrorKind::Redirect => format!(
            "DefectDojo answered with a redirect (HTTP {}), which this server never follows so its API key is not sent elsewhere; the operator should check DEFECTDOJO_URL (https or http, host name, path prefix)",
            error.status().unwrap_or(300)
        ),
        ErrorKind::TooLarge => match error {
            DojoError::ResponseTooLarge { limit } => format!(
                "DefectDojo's answer was larger than this server accepts ({limit} bytes); ask for less (a smaller limit or narrower filters), or the operator can raise DEFECTDOJO_MAX_RESPONSE_BYTES"
            ),
            _ => "DefectDojo's answer was larger than this server accepts".into(),
        },
        ErrorKind::Server if error.retry_after_secs().is_some() => format!(
            "DefectDojo is unavailable (HTTP {}) and asks to wait {}; retry after that",
            error.status().unwrap_or(503),
            wait_in_words(error.retry_after_secs().unwrap_or_default())
        ),
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

/// `3600` → "3600 s (about 60 min)".
fn wait_in_words(secs: u64) -> String {
    match secs {
        0..=90 => format!("{secs} s"),
        91..=5400 => format!("{secs} s (about {} min)", secs.div_ceil(60)),
        _ => format!("{secs} s (about {} h)", secs.div_ceil(3600)),
    }
}

fn describe_invalid(error: &DojoError) -> String {
    let DojoError::Api { status, body, .. } = error else {
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
    fn redirects_and_rate_limits_say_what_happened() {
        let redirect = describe(&DojoError::from_status_and_body(301, b""));
        assert!(
            redirect.contains("redirect") && redirect.contains("DEFECTDOJO_URL"),
            "{redirect}"
        );
        assert!(!redirect.contains("IDs"), "{redirect}");
        let mut headers = http::HeaderMap::new();
        headers.insert("retry-after", "3600".parse().unwrap());
        let limited = describe(&DojoError::from_response_parts(429, &headers, b""));
        assert!(limited.contains("3600 s (about 60 min)"), "{limited}");
        assert!(!limited.contains("a minute"), "{limited}");
        let big = describe(&DojoError::ResponseTooLarge { limit: 10 });
        assert!(
            big.contains("10 bytes") && big.contains("DEFECTDOJO_MAX_RESPONSE_BYTES"),
            "{big}"
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
