//! The chain's canonical form: what is MACed, how a MAC is attached to a record, and the head
//! anchor that pins the end of a log. The writer and the verifier both use these functions, and
//! README's "Audit trail" section restates them for anyone writing another verifier.
//!
//! - A record's *canonical bytes* are its JSON exactly as written, without the MAC: the log line
//!   minus the 83-byte suffix `,"integrity_hmac":"<64 hex>"` before the final `}`.
//! - `integrity_hmac = hex(HMAC-SHA256(key, prev_hmac + "|" + canonical))`, where `prev_hmac` is
//!   the previous record's MAC, or empty for the first record of a chain (`seq` 1). Each record
//!   also carries `seq` (1, 2, 3, ... across restarts) and `prev_hmac` inside its canonical bytes,
//!   so one file of a rotated set can be checked on its own.
//! - The head anchor (`<log>.head`) holds the last record's `seq` and MAC, and
//!   `head_hmac = hex(HMAC-SHA256(key, "head|" + seq + "|" + integrity_hmac))`. A log that ends
//!   before the anchor's `seq` has lost its tail.

use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

const MAC_PREFIX: &str = ",\"integrity_hmac\":\"";
const MAC_HEX_LEN: usize = 64;

/// `hex(HMAC-SHA256(key, prev_hmac | "|" | canonical))`.
pub fn mac(key: &[u8], prev_hmac: &str, canonical: &str) -> String {
    let mut mac =
        <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(prev_hmac.as_bytes());
    mac.update(b"|");
    mac.update(canonical.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// The log line: `canonical` (a JSON object) with `"integrity_hmac"` appended as its last field.
pub fn seal(canonical: &str, mac: &str) -> String {
    let body = canonical.strip_suffix('}').unwrap_or(canonical);
    format!("{body}{MAC_PREFIX}{mac}\"}}")
}

/// Splits a log line into its canonical bytes and its MAC; `None` if the line does not end with
/// a well-formed `integrity_hmac` field.
pub fn unseal(line: &str) -> Option<(String, &str)> {
    let rest = line.strip_suffix("\"}")?;
    let at = rest.len().checked_sub(MAC_HEX_LEN)?;
    let (body, mac) = rest.split_at_checked(at)?;
    let body = body.strip_suffix(MAC_PREFIX)?;
    if !mac
        .bytes()
        .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    {
        return None;
    }
    Some((format!("{body}}}"), mac))
}

/// The head anchor: where the log ended when it was last written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Head {
    /// `seq` of the last record written.
    pub seq: u64,
    /// Its `integrity_hmac`.
    pub integrity_hmac: String,
    /// `hex(HMAC-SHA256(key, "head|" + seq + "|" + integrity_hmac))`.
    pub head_hmac: String,
}

impl Head {
    /// The anchor for the record `seq` whose MAC is `integrity_hmac`.
    pub fn new(key: &[u8], seq: u64, integrity_hmac: &str) -> Head {
        Head {
            seq,
            integrity_hmac: integrity_hmac.to_string(),
            head_hmac: Self::compute(key, seq, integrity_hmac),
        }
    }

    fn compute(key: &[u8], seq: u64, integrity_hmac: &str) -> String {
        let mut mac =
            <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC takes any key length");
        mac.update(format!("head|{seq}|{integrity_hmac}").as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// Whether the anchor was written with `key` and not edited since.
    pub fn is_authentic(&self, key: &[u8]) -> bool {
        use subtle::ConstantTimeEq;
        let expected = Self::compute(key, self.seq, &self.integrity_hmac);
        expected.as_bytes().ct_eq(self.head_hmac.as_bytes()).into()
    }
}

/// The path of the head anchor that belongs to `log`.
pub fn head_path(log: &std::path::Path) -> std::path::PathBuf {
    let mut name = log.as_os_str().to_owned();
    name.push(".head");
    std::path::PathBuf::from(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_and_unseal_round_trip() {
        let canonical = r#"{"seq":1,"tool":"x"}"#;
        let m = mac(b"k", "", canonical);
        let line = seal(canonical, &m);
        assert_eq!(
            line,
            format!(r#"{{"seq":1,"tool":"x","integrity_hmac":"{m}"}}"#)
        );
        assert_eq!(unseal(&line), Some((canonical.to_string(), m.as_str())));
        assert_eq!(unseal(r#"{"seq":1}"#), None);
        assert_eq!(unseal(&line.replace("\"}", "\" }")), None);
    }

    #[test]
    fn macs_chain_and_depend_on_the_key() {
        let a = mac(b"k", "", "{\"a\":1}");
        assert_eq!(a.len(), 64);
        assert_ne!(mac(b"k", &a, "{\"a\":2}"), mac(b"k", "", "{\"a\":2}"));
        assert_ne!(a, mac(b"other", "", "{\"a\":1}"));
    }

    #[test]
    fn head_detects_edits() {
        let head = Head::new(b"k", 7, "ab");
        assert!(head.is_authentic(b"k"));
        assert!(!head.is_authentic(b"other"));
        let edited = Head { seq: 6, ..head };
        assert!(!edited.is_authentic(b"k"));
    }
}
