//! Secrets never leave the process: every configured secret (DefectDojo API keys, MCP tokens,
//! the audit HMAC key, the Redis password, the SIEM token) is replaced by [`MASK`] in every log
//! line, audit record and client message, whatever the text's source: DefectDojo, a proxy's
//! error page that echoes request headers, a library's debug output, or our own code.
//!
//! The set is installed once at start-up ([`install`]); [`scrub`] is then cheap enough for every
//! line (one Aho-Corasick pass).

use aho_corasick::{AhoCorasick, MatchKind};
use serde_json::Value;
use std::borrow::Cow;
use std::io::Write;
use std::sync::OnceLock;

/// What a secret is replaced with.
pub const MASK: &str = "[REDACTED]";

/// Secrets shorter than this are not scrubbed: replacing every occurrence of a two-letter
/// password would mangle all text, and such a secret protects nothing anyway.
pub const MIN_SECRET_LEN: usize = 6;

static SECRETS: OnceLock<Option<AhoCorasick>> = OnceLock::new();

/// Sets the secrets to scrub, with their JSON- and HTML-escaped spellings (how they appear
/// inside a JSON record or an echoed HTML page). The first call wins; later ones are ignored.
pub fn install(secrets: impl IntoIterator<Item = String>) {
    let mut patterns: Vec<String> = Vec::new();
    for secret in secrets {
        let secret = secret.trim().to_string();
        if secret.chars().count() < MIN_SECRET_LEN {
            continue;
        }
        let json = serde_json::to_string(&secret).unwrap_or_default();
        let json = json.trim_matches('"').to_string();
        let html = secret
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
            .replace('\'', "&#x27;");
        patterns.extend([secret, json, html]);
    }
    patterns.sort();
    patterns.dedup();
    let matcher = (!patterns.is_empty())
        .then(|| {
            AhoCorasick::builder()
                .match_kind(MatchKind::LeftmostLongest)
                .build(&patterns)
                .ok()
        })
        .flatten();
    let _ = SECRETS.set(matcher);
}

/// `text` with every configured secret replaced by [`MASK`].
pub fn scrub(text: &str) -> Cow<'_, str> {
    match SECRETS.get() {
        Some(Some(matcher)) if matcher.is_match(text) => {
            Cow::Owned(matcher.replace_all(text, &vec![MASK; matcher.patterns_len()]))
        }
        _ => Cow::Borrowed(text),
    }
}

/// Whether `text` holds a configured secret (one pass; cheaper than [`scrub_value`] when, as
/// almost always, the answer is no).
pub fn contains_secret(text: &str) -> bool {
    matches!(SECRETS.get(), Some(Some(matcher)) if matcher.is_match(text))
}

/// Scrubs every string (and object key) inside `value`, in place.
pub fn scrub_value(value: &mut Value) {
    if !matches!(SECRETS.get(), Some(Some(_))) {
        return;
    }
    match value {
        Value::String(s) => {
            if let Cow::Owned(clean) = scrub(s) {
                *s = clean;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(scrub_value),
        Value::Object(map) => {
            let dirty = map.keys().any(|k| matches!(scrub(k), Cow::Owned(_)));
            if dirty {
                let entries = std::mem::take(map);
                for (k, v) in entries {
                    map.insert(scrub(&k).into_owned(), v);
                }
            }
            map.values_mut().for_each(scrub_value);
        }
        _ => {}
    }
}

/// A `tracing` writer to stderr that scrubs each log line before it is written.
pub struct ScrubbedStderr;

impl Write for ScrubbedStderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        // tracing's formatter hands over one whole event per write_all, so a secret is never
        // split across two calls.
        let text = String::from_utf8_lossy(buf);
        std::io::stderr().write_all(scrub(&text).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_masked_in_every_spelling() {
        install([
            "dojo-key-0123456789".to_string(),
            "pa\"ss<word>".to_string(),
            "short".to_string(),
        ]);
        assert_eq!(
            scrub("Authorization: Token dojo-key-0123456789"),
            "Authorization: Token [REDACTED]"
        );
        assert_eq!(scrub(r#"{"p":"pa\"ss<word>"}"#), r#"{"p":"[REDACTED]"}"#);
        assert_eq!(
            scrub("<td>pa&quot;ss&lt;word&gt;</td>"),
            "<td>[REDACTED]</td>"
        );
        assert_eq!(scrub("short stays"), "short stays");
        let mut v = serde_json::json!({"a": ["x dojo-key-0123456789 y"], "dojo-key-0123456789": 1});
        scrub_value(&mut v);
        assert_eq!(
            v,
            serde_json::json!({"a": ["x [REDACTED] y"], "[REDACTED]": 1})
        );
    }
}
