//! `mcp-defectdojo audit verify <file>...`: the verifier as a command, key from `AUDIT_HMAC_KEY`.

use super::chain;
use super::verify::{verify, TailCheck};
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// Audit trail tools.
#[derive(Debug, Parser)]
#[command(name = "mcp-defectdojo audit", version)]
struct AuditCli {
    #[command(subcommand)]
    command: AuditCommand,
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Check an audit log's HMAC chain with AUDIT_HMAC_KEY and report the first broken record.
    /// Exit status: 0 intact, 1 broken, 2 cannot check.
    Verify {
        /// The log, or its rotated pieces oldest first (audit.jsonl.2 audit.jsonl.1 audit.jsonl).
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// The head anchor that pins the tail. Default: `<last file>.head`.
        #[arg(long, conflicts_with = "no_head")]
        head: Option<PathBuf>,
        /// Check the chain without its head anchor: a truncated tail then goes unnoticed.
        #[arg(long)]
        no_head: bool,
        /// The first file is a later piece of a rotated log whose earlier pieces are gone: accept
        /// a first record that continues an earlier file. Without it, a log that does not start
        /// at the chain's beginning (seq 1) is reported broken: its first records were deleted.
        #[arg(long)]
        rotated_piece: bool,
    },
}

/// Runs `audit ...` with `args` (starting at `audit`).
pub fn run(args: impl IntoIterator<Item = std::ffi::OsString>) -> ExitCode {
    let cli = AuditCli::parse_from(args);
    let AuditCommand::Verify {
        files,
        head,
        no_head,
        rotated_piece,
    } = cli.command;
    let Some(key) = std::env::var_os("AUDIT_HMAC_KEY").filter(|k| !k.is_empty()) else {
        eprintln!("error: AUDIT_HMAC_KEY is not set: export the key the server wrote the log with");
        return ExitCode::from(2);
    };
    let key = key.as_encoded_bytes().to_vec();
    for file in &files {
        if let Some(reason) = cannot_read(file) {
            println!("CANNOT CHECK: {}: {reason}", file.display());
            return ExitCode::from(2);
        }
    }
    let tail = if no_head {
        TailCheck::Skip
    } else {
        let path =
            head.unwrap_or_else(|| chain::head_path(files.last().expect("clap requires one file")));
        if !path.exists() {
            println!("CANNOT CHECK: the head anchor {} is missing, so a cut tail cannot be detected; pass --head <file> if it is elsewhere, or --no-head to check the chain alone", path.display());
            return ExitCode::from(2);
        }
        TailCheck::Head(path)
    };
    match verify(&key, &files, tail) {
        Ok(report) => {
            if let (Some(_), false) = (&report.continues_from, rotated_piece) {
                println!(
                    "BROKEN: {}: the log does not start at the chain's beginning (its first record is seq {}): records were deleted from its start, or it is a later piece of a rotation; pass the earlier pieces first, or --rotated-piece if they are gone",
                    files[0].display(),
                    report.first_seq
                );
                return ExitCode::FAILURE;
            }
            println!(
                "OK: {} records, seq {}..{}, chain intact",
                report.records, report.first_seq, report.last_seq
            );
            if let Some(prev) = report.continues_from {
                println!("note: the first record continues an earlier file (prev_hmac {prev:.16}...), accepted with --rotated-piece; pass the earlier pieces first to check that link");
            }
            if report.tail_anchored {
                println!("tail: matches the head anchor");
                if report.after_head > 0 {
                    println!("note: {} record(s) after the anchor (the server stopped between writing a record and its anchor)", report.after_head);
                }
            } else {
                println!("tail: NOT checked (--no-head): a truncated tail would go unnoticed");
            }
            ExitCode::SUCCESS
        }
        Err(broken) => {
            println!("BROKEN: {broken}");
            ExitCode::FAILURE
        }
    }
}

/// Why `file` cannot be checked at all (as opposed to being broken), if it cannot.
fn cannot_read(file: &std::path::Path) -> Option<String> {
    use std::io::Read;
    let mut magic = [0u8; 2];
    let read = std::fs::File::open(file).and_then(|mut f| f.read(&mut magic));
    match read {
        Err(e) => Some(format!("cannot read it ({})", e.kind())),
        Ok(2) if magic == [0x1f, 0x8b] => Some(
            "gzip-compressed (a rotated piece logrotate compressed): decompress it first (zcat FILE.gz > FILE) and verify that".into(),
        ),
        Ok(_) => None,
    }
}
