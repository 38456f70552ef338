//! `mcp-defectdojo audit verify`: checks a JSON-lines audit log (or a rotated set, oldest first)
//! against the key and reports the first broken record.
//!
//! What it catches: an edited byte (MAC mismatch), a deleted, duplicated or reordered record
//! (`seq` out of order, `prev_hmac` not the previous MAC), an inserted record (MAC mismatch: it
//! cannot be made without the key), and a truncated tail (the log ends before the head anchor).

use super::chain::{self, Head};
use serde_json::Value;
use std::io::BufRead;
use std::path::{Path, PathBuf};

/// Where the verifier found the log broken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Broken {
    /// The file the bad record is in.
    pub file: PathBuf,
    /// 1-based line number in that file (0: the problem is the head anchor).
    pub line: usize,
    /// The record's `seq`, when it could be read.
    pub seq: Option<u64>,
    /// What is wrong, for a person.
    pub reason: String,
}

impl std::fmt::Display for Broken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.file.display())?;
        if self.line > 0 {
            write!(f, " line {}", self.line)?;
        }
        if let Some(seq) = self.seq {
            write!(f, " (seq {seq})")?;
        }
        write!(f, ": {}", self.reason)
    }
}

/// What a successful verification covered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// Records checked.
    pub records: u64,
    /// `seq` of the first and last record.
    pub first_seq: u64,
    /// `seq` of the last record.
    pub last_seq: u64,
    /// The first record continues an earlier file (its `seq` is not 1): the link to that file is
    /// not checked; this is the MAC it claims to follow.
    pub continues_from: Option<String>,
    /// Whether the tail was checked against a head anchor.
    pub tail_anchored: bool,
    /// Records written after the anchor's record (a crash between the two writes leaves one).
    pub after_head: u64,
}

/// How to treat the tail.
pub enum TailCheck {
    /// Check against this head anchor file.
    Head(PathBuf),
    /// Do not check the tail (say so in the report).
    Skip,
}

fn broken(file: &Path, line: usize, seq: Option<u64>, reason: impl Into<String>) -> Broken {
    Broken {
        file: file.to_path_buf(),
        line,
        seq,
        reason: reason.into(),
    }
}

/// Verifies `files` (one log, or rotated pieces oldest first) with `key`.
pub fn verify(key: &[u8], files: &[PathBuf], tail: TailCheck) -> Result<Verified, Broken> {
    let mut prev: Option<(u64, String)> = None;
    let mut first: Option<(u64, String)> = None;
    let mut macs_by_seq: Vec<(u64, String)> = Vec::new();
    let mut records = 0u64;
    for file in files {
        let reader = std::fs::File::open(file)
            .map(std::io::BufReader::new)
            .map_err(|e| broken(file, 0, None, format!("cannot read: {}", e.kind())))?;
        for (index, line) in reader.split(b'\n').enumerate() {
            let n = index + 1;
            let bytes =
                line.map_err(|e| broken(file, n, None, format!("cannot read: {}", e.kind())))?;
            let line = std::str::from_utf8(&bytes)
                .map_err(|_| broken(file, n, None, "not UTF-8: the record was altered"))?;
            if line.is_empty() {
                return Err(broken(
                    file,
                    n,
                    None,
                    "empty line: a record was removed or the file altered",
                ));
            }
            let (canonical, mac) = chain::unseal(line).ok_or_else(|| {
                broken(
                    file,
                    n,
                    None,
                    "no integrity_hmac at the end of the line: not an audit record, or cut short",
                )
            })?;
            let record: Value = serde_json::from_str(&canonical)
                .map_err(|_| broken(file, n, None, "not a JSON object: the record was altered"))?;
            let seq = record["seq"].as_u64();
            let claimed_prev = record["prev_hmac"].as_str();
            let (Some(seq), Some(claimed_prev)) = (seq, claimed_prev) else {
                return Err(broken(
                    file,
                    n,
                    seq,
                    "missing seq or prev_hmac: the record was altered",
                ));
            };
            match &prev {
                None => {
                    if seq == 1 && !claimed_prev.is_empty() {
                        return Err(broken(
                            file,
                            n,
                            Some(seq),
                            "the first record of a chain must have an empty prev_hmac",
                        ));
                    }
                }
                Some((prev_seq, prev_mac)) => {
                    if seq != prev_seq + 1 {
                        let what = if seq <= *prev_seq {
                            "a record is duplicated or out of order"
                        } else {
                            "records are missing before this one"
                        };
                        return Err(broken(
                            file,
                            n,
                            Some(seq),
                            format!("expected seq {} after {prev_seq}: {what}", prev_seq + 1),
                        ));
                    }
                    if claimed_prev != prev_mac {
                        return Err(broken(file, n, Some(seq), "prev_hmac is not the previous record's MAC: a record was removed, inserted or replaced"));
                    }
                }
            }
            if !constant_time_eq(&chain::mac(key, claimed_prev, &canonical), mac) {
                return Err(broken(
                    file,
                    n,
                    Some(seq),
                    "MAC mismatch: the record was edited, forged, or the key is wrong",
                ));
            }
            if first.is_none() {
                first = Some((seq, claimed_prev.to_string()));
            }
            records += 1;
            macs_by_seq.push((seq, mac.to_string()));
            if macs_by_seq.len() > 1024 {
                // Only the tail matters for the anchor; keep memory flat on huge logs.
                macs_by_seq.drain(..512);
            }
            prev = Some((seq, mac.to_string()));
        }
    }
    let last_file = files.last().cloned().unwrap_or_default();
    let Some((last_seq, _)) = prev else {
        return Err(broken(&last_file, 0, None, "no records"));
    };
    let (first_seq, first_prev) = first.unwrap_or_default();

    let mut verified = Verified {
        records,
        first_seq,
        last_seq,
        continues_from: (first_seq != 1).then_some(first_prev),
        tail_anchored: false,
        after_head: 0,
    };
    if let TailCheck::Head(path) = tail {
        let text = std::fs::read_to_string(&path).map_err(|e| {
            broken(&path, 0, None, format!("head anchor unreadable ({}): the tail cannot be checked; pass --no-head to check the chain alone", e.kind()))
        })?;
        let head: Head = serde_json::from_str(text.trim()).map_err(|_| {
            broken(
                &path,
                0,
                None,
                "head anchor is not valid JSON: it was altered",
            )
        })?;
        if !head.is_authentic(key) {
            return Err(broken(
                &path,
                0,
                Some(head.seq),
                "head anchor MAC mismatch: it was edited or the key is wrong",
            ));
        }
        if head.seq > last_seq {
            return Err(broken(&last_file, 0, Some(last_seq), format!(
                "truncated: the log ends at seq {last_seq} but the head anchor says seq {} was written", head.seq)));
        }
        match macs_by_seq.iter().find(|(s, _)| *s == head.seq) {
            Some((_, mac)) if *mac == head.integrity_hmac => {}
            Some(_) => {
                return Err(broken(&last_file, 0, Some(head.seq), "the record at the head anchor's seq is not the one anchored: the tail was replaced"));
            }
            None => {
                return Err(broken(&last_file, 0, Some(head.seq), "the head anchor points far behind the end of the log: anchor from another log?"));
            }
        }
        verified.tail_anchored = true;
        verified.after_head = last_seq - head.seq;
    }
    Ok(verified)
}

fn constant_time_eq(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq;
    a.as_bytes().ct_eq(b.as_bytes()).into()
}
