//! Measures the write-side detector on two corpora and fails on any miss:
//! - `tests/corpus/injection.jsonl`: hand-written prompt injections, each also sent through the
//!   evasion tricks below; every variant must be refused;
//! - `tests/corpus/secrets.jsonl`: credentials that must be refused, and `placeholders.jsonl`:
//!   obvious placeholders that must pass;
//! - every string in the twelve real scanner reports (`dojo-sdk/tests/fixtures/scans`, copied
//!   from ../shared/defectdojo/scans): must pass the injection checks, and the secret check except
//!   where the report itself is a secret scanner's finding.
//!
//! `cargo test -p mcp-adapter --test content_corpus -- --nocapture` prints the figures that the
//! README quotes.

use mcp_adapter::security::content::{check_secrets, check_text, Refusal};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn corpus(name: &str) -> Vec<(String, String)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/corpus")
        .join(name);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: Value = serde_json::from_str(l).expect("corpus line is JSON");
            (
                v["category"].as_str().unwrap().to_string(),
                v["text"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// One way an attacker dresses up a payload to slip past a naive filter.
type Evasion = (&'static str, fn(&str) -> String);

const EVASIONS: &[Evasion] = &[
    ("as written", |t| t.to_string()),
    ("zero-width joiners inside words", |t| {
        t.chars()
            .flat_map(|c| [c, '\u{200B}'])
            .collect::<String>()
            .replace("\u{200B} ", " ")
    }),
    ("Cyrillic and Greek look-alikes", |t| {
        t.chars()
            .map(|c| match c {
                'a' => 'а',
                'e' => 'е',
                'o' => 'о',
                'p' => 'р',
                'c' => 'с',
                'x' => 'х',
                'i' => 'і',
                'y' => 'у',
                'S' => 'Ѕ',
                'T' => 'Τ',
                other => other,
            })
            .collect()
    }),
    ("fullwidth forms", |t| {
        t.chars()
            .map(|c| match c {
                '!'..='~' => char::from_u32(c as u32 - 0x21 + 0xFF01).unwrap(),
                other => other,
            })
            .collect()
    }),
    ("alternating case", |t| {
        t.chars()
            .enumerate()
            .map(|(i, c)| {
                if i % 2 == 0 {
                    c.to_ascii_uppercase()
                } else {
                    c.to_ascii_lowercase()
                }
            })
            .collect()
    }),
    ("tabs, newlines and runs of spaces between words", |t| {
        t.split(' ').collect::<Vec<_>>().join(" \t\n  ")
    }),
    ("soft hyphens and bidi marks", |t| {
        t.chars()
            .flat_map(|c| {
                if c.is_alphabetic() {
                    vec![c, '\u{00AD}']
                } else {
                    vec!['\u{202D}', c]
                }
            })
            .collect()
    }),
];

/// Tricks that only make sense against phrase matching (they destroy markup on purpose).
const PHRASE_EVASIONS: &[Evasion] = &[
    ("letters spaced apart", |t| {
        t.chars().flat_map(|c| [c, ' ']).collect()
    }),
    ("digits for letters", |t| {
        t.chars()
            .map(|c| match c {
                'o' | 'O' => '0',
                'i' | 'I' => '1',
                'e' | 'E' => '3',
                other => other,
            })
            .collect()
    }),
];

#[test]
fn every_injection_and_evasion_is_refused() {
    let base = corpus("injection.jsonl");
    assert!(base.len() >= 100, "the base corpus shrank");
    let mut tried = 0;
    let mut missed = Vec::new();
    for (category, text) in &base {
        let mut evasions: Vec<&Evasion> = EVASIONS.iter().collect();
        if category == "instruction-override" {
            evasions.extend(PHRASE_EVASIONS);
        }
        for (name, evade) in evasions {
            let variant = evade(text);
            tried += 1;
            if check_text(&variant).is_ok() {
                missed.push(format!("{category} / {name}: {variant:?}"));
            }
        }
    }
    println!(
        "injection corpus: {} payloads, {tried} variants with evasions, {} refused, {} missed",
        base.len(),
        tried - missed.len(),
        missed.len()
    );
    assert!(tried >= 200);
    assert!(missed.is_empty(), "not refused:\n{}", missed.join("\n"));
}

#[test]
fn every_secret_is_refused_and_placeholders_pass() {
    let secrets = corpus("secrets.jsonl");
    let missed: Vec<_> = secrets
        .iter()
        .filter(|(_, t)| check_secrets(t).is_ok())
        .map(|(_, t)| t.clone())
        .collect();
    let placeholders = corpus("placeholders.jsonl");
    let refused: Vec<_> = placeholders
        .iter()
        .filter(|(_, t)| check_text(t).is_err())
        .map(|(_, t)| t.clone())
        .collect();
    println!(
        "secret corpus: {} secrets, {} refused; {} placeholders, {} passed",
        secrets.len(),
        secrets.len() - missed.len(),
        placeholders.len(),
        placeholders.len() - refused.len()
    );
    assert!(missed.is_empty(), "secrets not refused: {missed:#?}");
    assert!(refused.is_empty(), "placeholders refused: {refused:#?}");
}

fn json_strings(v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::String(s) => {
            out.insert(s.clone());
        }
        Value::Array(items) => items.iter().for_each(|i| json_strings(i, out)),
        Value::Object(map) => map.values().for_each(|i| json_strings(i, out)),
        _ => {}
    }
}

fn xml_strings(text: &str, out: &mut BTreeSet<String>) {
    let doc = roxmltree::Document::parse(text).expect("scan XML parses");
    for node in doc.descendants() {
        if let Some(t) = node.text() {
            out.insert(t.to_string());
        }
        for attr in node.attributes() {
            out.insert(attr.value().to_string());
        }
    }
}

fn fixtures(dir: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../dojo-sdk/tests/fixtures")
        .join(dir)
}

/// What `check_text` made of one corpus of real, harmless text.
#[derive(Default)]
struct CleanRun {
    total: usize,
    injection_refused: Vec<String>,
    secret_refused: Vec<String>,
    expected_secrets: usize,
}

impl CleanRun {
    fn check(&mut self, source: &Path, strings: &BTreeSet<String>, secrets_expected: bool) {
        for s in strings.iter().filter(|s| !s.trim().is_empty()) {
            self.total += 1;
            match check_text(s) {
                Ok(()) => {}
                Err(Refusal::Secret) if secrets_expected => self.expected_secrets += 1,
                Err(Refusal::Secret) => self
                    .secret_refused
                    .push(format!("{}: {s:.160}", source.display())),
                Err(r) => self.injection_refused.push(format!(
                    "{} {}: {s:.160}",
                    r.as_str(),
                    source.display()
                )),
            }
        }
    }

    fn assert_clean(&self) {
        assert!(
            self.injection_refused.is_empty(),
            "false positives:\n{}",
            self.injection_refused.join("\n")
        );
        assert!(
            self.secret_refused.is_empty(),
            "secret false positives:\n{}",
            self.secret_refused.join("\n")
        );
    }
}

#[test]
fn real_scanner_text_passes() {
    let mut files: Vec<_> = std::fs::read_dir(fixtures("scans"))
        .expect("scan fixtures")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e != "tsv") && !p.ends_with("index.json"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 12, "the twelve scanner reports");

    let mut run = CleanRun::default();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let mut strings = BTreeSet::new();
        if file.extension().is_some_and(|e| e == "xml") {
            xml_strings(&text, &mut strings);
        } else {
            // One document, or JSON lines (nuclei).
            for doc in serde_json::Deserializer::from_str(&text).into_iter::<Value>() {
                json_strings(&doc.expect("scan JSON parses"), &mut strings);
            }
        }
        // A secret scanner's report is made of the secrets it found: refusing them is right.
        let secret_scanner = file
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("gitleaks");
        run.check(file, &strings, secret_scanner);
    }
    println!(
        "clean corpus (scanner reports): {} distinct strings from {} reports; injection refusals {}, \
         secret refusals {} outside the secret scanner; gitleaks findings refused as secrets {}",
        run.total,
        files.len(),
        run.injection_refused.len(),
        run.secret_refused.len(),
        run.expected_secrets
    );
    assert!(run.total > 1500, "the clean corpus shrank: {}", run.total);
    run.assert_clean();
}

#[test]
fn recorded_defectdojo_text_passes() {
    let mut run = CleanRun::default();
    let mut files = 0;
    for dir in ["recorded", "recorded/sweep"] {
        for entry in std::fs::read_dir(fixtures(dir)).expect("recorded fixtures") {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "json") {
                continue;
            }
            let exchange: Value =
                serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            let mut strings = BTreeSet::new();
            json_strings(&exchange["response"], &mut strings);
            json_strings(&exchange["request_json"], &mut strings);
            run.check(&path, &strings, false);
            files += 1;
        }
    }
    println!(
        "clean corpus (recorded DefectDojo exchanges): {} distinct strings from {files} exchanges; \
         injection refusals {}, secret refusals {}",
        run.total,
        run.injection_refused.len(),
        run.secret_refused.len()
    );
    assert!(
        run.total > 1000,
        "the recorded corpus shrank: {}",
        run.total
    );
    run.assert_clean();
}
