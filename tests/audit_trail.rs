//! The audit trail over real sockets on loopback: syslog (UDP, TCP, TLS) and HTTPS collectors
//! started here receive well-formed records, batching and the circuit breaker behave as
//! specified, a sink that is down for a while gets every record exactly once and in order (also
//! across a restart), a full spool's drop is itself recorded, and the verifier catches every
//! tampering tried.

mod support;

use clap::Parser;
use mcp_adapter::audit::chain;
use mcp_adapter::audit::setup;
use mcp_adapter::audit::verify::{verify, TailCheck};
use mcp_adapter::audit::{AuditLog, AuditRecord};
use mcp_adapter::config::Config;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use support::sinks::{self, eventually};

const KEY: &str = "audit-trail-test-key-0123456789";

fn config(args: &[String]) -> Config {
    let mut argv = vec!["mcp-defectdojo".to_string()];
    argv.extend(args.iter().cloned());
    Config::try_parse_from(argv).expect("test configuration parses")
}

/// Settings for an audit log in `dir`, with fast retry and breaker timings for the tests.
fn audit_args(dir: &Path, extra: &[String]) -> Vec<String> {
    let mut args = vec![
        format!("--audit-log-file={}", dir.join("audit.jsonl").display()),
        format!("--audit-spool-dir={}", dir.join("spool").display()),
        "--audit-forward-retry-ms=50".into(),
        "--audit-forward-breaker-secs=2".into(),
    ];
    args.extend(extra.iter().cloned());
    args
}

fn start(dir: &Path, extra: &[String]) -> Arc<AuditLog> {
    setup::start(&config(&audit_args(dir, extra)), KEY.as_bytes().to_vec()).expect("audit starts")
}

fn tool_record(n: usize) -> AuditRecord {
    AuditRecord {
        timestamp: chrono::Utc::now().to_rfc3339(),
        event_type: "tool_call",
        outcome: if n.is_multiple_of(5) {
            "denied"
        } else {
            "success"
        },
        tool: "get_finding".into(),
        authenticated_caller_id: "ops".into(),
        caller_id: Some(format!("client-{n}")),
        request_id: n.to_string(),
        duration_ms: 1.5,
        arguments: json!({ "finding_id": n }),
        findings_read_before_mutation: None,
        reason: None,
    }
}

fn file_lines(dir: &Path) -> Vec<String> {
    std::fs::read_to_string(dir.join("audit.jsonl"))
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

fn seqs(records: &[Value]) -> Vec<u64> {
    records.iter().map(|r| r["seq"].as_u64().unwrap()).collect()
}

/// Each forwarded record must be byte-for-byte the line in the local file, so the SIEM's copy
/// verifies with the same key.
fn assert_same_as_file(dir: &Path, forwarded: &[Value]) {
    let local: Vec<Value> = file_lines(dir)
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(forwarded, &local[..]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn syslog_records_are_rfc5424_over_udp_tcp_and_tls() {
    let pki = sinks::pki();
    let ca = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(ca.path(), &pki.ca_pem).unwrap();
    let udp = sinks::syslog_udp().await;
    let tcp = sinks::syslog_stream(0, None).await;
    let tls = sinks::syslog_stream(0, Some(pki.server.clone())).await;
    for (target, listener) in [
        (format!("udp://127.0.0.1:{}", udp.port), &udp),
        (format!("tcp://127.0.0.1:{}", tcp.port), &tcp),
        (format!("tcp+tls://localhost:{}", tls.port), &tls),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let audit = start(
            dir.path(),
            &[
                format!("--audit-log-syslog={target}"),
                format!("--audit-log-syslog-ca={}", ca.path().display()),
            ],
        );
        for n in 1..=5 {
            audit.record(&tool_record(n));
        }
        assert!(
            eventually(10, || listener.received.len() == 6).await,
            "{target}: got {}",
            listener.received.len()
        );
        let messages = listener.received.messages.lock().unwrap().clone();
        for m in &messages {
            assert_eq!(
                m.facility,
                syslog_rfc5424::SyslogFacility::LOG_LOCAL0,
                "{target}"
            );
            assert_eq!(m.appname.as_deref(), Some("mcp-defectdojo"));
            assert_eq!(m.version, 1);
            assert!(m.hostname.as_deref().is_some_and(|h| !h.is_empty()));
            assert!(m.timestamp.is_some());
        }
        // Denied calls stand out (warning), others are informational.
        assert_eq!(
            messages[5].severity,
            syslog_rfc5424::SyslogSeverity::SEV_WARNING
        );
        assert_eq!(
            messages[1].severity,
            syslog_rfc5424::SyslogSeverity::SEV_INFO
        );
        assert_same_as_file(dir.path(), &listener.received.records());
        audit.close(Duration::from_secs(2)).await;
        listener.received.messages.lock().unwrap().clear();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_batches_carry_the_bearer_token() {
    let pki = sinks::pki();
    let ca = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(ca.path(), &pki.ca_pem).unwrap();
    let collector = sinks::https_collector(0, pki.server.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    let audit = start(
        dir.path(),
        &[
            format!(
                "--audit-log-https-url=https://localhost:{}/ingest",
                collector.port
            ),
            format!("--audit-log-https-ca={}", ca.path().display()),
            "--audit-log-https-token=siem-token-123".into(),
            "--audit-log-https-batch-size=3".into(),
            "--audit-log-https-flush-secs=0.5".into(),
        ],
    );
    for n in 1..=7 {
        audit.record(&tool_record(n));
    }
    // 8 records (chain start + 7): two full batches at once, the last two after the flush interval.
    assert!(eventually(10, || collector.records().len() == 8).await);
    assert_eq!(collector.batch_sizes(), [3, 3, 2]);
    assert!(collector
        .authorization
        .lock()
        .unwrap()
        .iter()
        .all(|a| a == "Bearer siem-token-123"));
    assert_same_as_file(dir.path(), &collector.records());
    audit.close(Duration::from_secs(2)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn circuit_breaker_opens_after_three_failures_and_recovers() {
    let pki = sinks::pki();
    let ca = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(ca.path(), &pki.ca_pem).unwrap();
    let collector = sinks::https_collector(0, pki.server.clone()).await;
    collector.status.store(503, Ordering::SeqCst);
    let dir = tempfile::tempdir().unwrap();
    let audit = start(
        dir.path(),
        &[
            format!(
                "--audit-log-https-url=https://127.0.0.1:{}/",
                collector.port
            ),
            format!("--audit-log-https-ca={}", ca.path().display()),
            "--audit-log-https-batch-size=1".into(),
        ],
    );
    // Three failed deliveries, each a try and one retry: six requests, then the breaker opens.
    assert!(eventually(10, || collector.requests.load(Ordering::SeqCst) >= 6).await);
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(
        collector.requests.load(Ordering::SeqCst),
        6,
        "no request while the breaker is open"
    );
    audit.record(&tool_record(1));
    collector.status.store(200, Ordering::SeqCst);
    // Half-open after the breaker period: the backlog goes out, once, in order.
    assert!(eventually(10, || collector.records().len() == 2).await);
    assert_eq!(seqs(&collector.records()), [1, 2]);
    assert_same_as_file(dir.path(), &collector.records());
    audit.close(Duration::from_secs(2)).await;
}

/// A sink down for a while, then back: every record arrives exactly once, in order.
async fn outage_then_recovery(kind: &str) {
    let pki = sinks::pki();
    let ca = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(ca.path(), &pki.ca_pem).unwrap();
    let port = sinks::unused_port();
    let args = match kind {
        "tcp" => vec![format!("--audit-log-syslog=tcp://127.0.0.1:{port}")],
        "tls" => vec![
            format!("--audit-log-syslog=tls://localhost:{port}"),
            format!("--audit-log-syslog-ca={}", ca.path().display()),
        ],
        _ => vec![
            format!("--audit-log-https-url=https://localhost:{port}/"),
            format!("--audit-log-https-ca={}", ca.path().display()),
            "--audit-log-https-batch-size=4".into(),
            "--audit-log-https-flush-secs=0.2".into(),
        ],
    };
    let dir = tempfile::tempdir().unwrap();
    let audit = start(dir.path(), &args);
    let during = 20;
    for n in 1..=during {
        audit.record(&tool_record(n));
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // Up again, on the same port.
    let received: Box<dyn Fn() -> Vec<Value> + Send + Sync> = match kind {
        "https" => {
            let c = sinks::https_collector(port, pki.server.clone()).await;
            Box::new(move || c.records())
        }
        other => {
            let l = sinks::syslog_stream(port, (other == "tls").then(|| pki.server.clone())).await;
            // `&l`, not `l.received`: the closure must own the whole listener to keep it running.
            Box::new(move || {
                let listener = &l;
                listener.received.records()
            })
        }
    };
    for n in 1..=10 {
        audit.record(&tool_record(during + n));
    }
    let total = 1 + during + 10;
    assert!(
        eventually(20, || received().len() >= total).await,
        "{kind}: {} of {total}",
        received().len()
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    let records = received();
    assert_eq!(
        seqs(&records),
        (1..=total as u64).collect::<Vec<_>>(),
        "{kind}: exactly once, in order"
    );
    assert_same_as_file(dir.path(), &records);
    println!("{kind}: {during} records written during the outage, {total} forwarded after it, 0 lost, 0 duplicated");
    audit.close(Duration::from_secs(2)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_syslog_outage_loses_nothing() {
    outage_then_recovery("tcp").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_syslog_outage_loses_nothing() {
    outage_then_recovery("tls").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_outage_loses_nothing() {
    outage_then_recovery("https").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_the_sink_closed_loses_nothing() {
    // The sink goes away after taking some records: the next records must not vanish into the
    // dead connection's buffer.
    let listener = sinks::syslog_stream(0, None).await;
    let port = listener.port;
    let dir = tempfile::tempdir().unwrap();
    let audit = start(
        dir.path(),
        &[format!("--audit-log-syslog=tcp://127.0.0.1:{port}")],
    );
    for n in 1..=3 {
        audit.record(&tool_record(n));
    }
    assert!(eventually(10, || listener.received.len() == 4).await);
    let before = listener.received.records();
    listener.stop();
    tokio::time::sleep(Duration::from_millis(100)).await;
    for n in 4..=6 {
        audit.record(&tool_record(n));
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let back = sinks::syslog_stream(port, None).await;
    assert!(
        eventually(10, || back.received.len() == 3).await,
        "got {}",
        back.received.len()
    );
    let mut all = before;
    all.extend(back.received.records());
    assert_eq!(seqs(&all), [1, 2, 3, 4, 5, 6, 7]);
    audit.close(Duration::from_secs(2)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_spool_survives_a_restart() {
    let port = sinks::unused_port();
    let dir = tempfile::tempdir().unwrap();
    let args = [format!("--audit-log-syslog=tcp://127.0.0.1:{port}")];
    let audit = start(dir.path(), &args);
    for n in 1..=10 {
        audit.record(&tool_record(n));
    }
    audit.close(Duration::from_millis(200)).await;
    drop(audit);
    // The next run resumes the chain and the spool.
    let audit = start(dir.path(), &args);
    for n in 11..=15 {
        audit.record(&tool_record(n));
    }
    let listener = sinks::syslog_stream(port, None).await;
    assert!(
        eventually(20, || listener.received.len() == 17).await,
        "got {}",
        listener.received.len()
    );
    let records = listener.received.records();
    assert_eq!(seqs(&records), (1..=17).collect::<Vec<_>>());
    assert_same_as_file(dir.path(), &records);
    audit.close(Duration::from_secs(2)).await;
    let log = dir.path().join("audit.jsonl");
    verify(
        KEY.as_bytes(),
        std::slice::from_ref(&log),
        TailCheck::Head(chain::head_path(&log)),
    )
    .expect("chain intact across the restart");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_spool_drops_and_records_the_drop() {
    let port = sinks::unused_port();
    let dir = tempfile::tempdir().unwrap();
    // The smallest spool accepted: room for about 150 records.
    let audit = start(
        dir.path(),
        &[
            format!("--audit-log-syslog=tcp://127.0.0.1:{port}"),
            "--audit-spool-max-bytes=65536".into(),
        ],
    );
    let written = 300;
    for n in 1..=written {
        audit.record(&tool_record(n));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let listener = sinks::syslog_stream(port, None).await;
    let kept = listener_wait_stable(&listener).await;
    assert!(
        (2..written + 1).contains(&kept),
        "some records fit, the rest were dropped: {kept}"
    );
    // The next record finds room: the drop is written into the chain and forwarded after it.
    audit.record(&tool_record(written + 1));
    assert!(eventually(10, || listener.received.len() == kept + 2).await);
    let records = listener.received.records();
    let notice = records.last().unwrap();
    assert_eq!(notice["event_type"], "audit_records_dropped");
    let dropped = notice["detail"]["dropped"].as_u64().unwrap();
    assert_eq!(
        dropped as usize,
        written + 1 - kept,
        "every record not forwarded is counted"
    );
    assert_eq!(
        notice["detail"]["first_seq"].as_u64().unwrap() as usize,
        kept + 1
    );
    assert_eq!(
        notice["detail"]["last_seq"].as_u64().unwrap() as usize,
        written + 1
    );
    let log = dir.path().join("audit.jsonl");
    audit.close(Duration::from_secs(2)).await;
    // The local chain holds everything, the drop notice included, and verifies.
    let report = verify(
        KEY.as_bytes(),
        std::slice::from_ref(&log),
        TailCheck::Head(chain::head_path(&log)),
    )
    .unwrap();
    // The chain start, every tool record and the drop notice.
    assert_eq!(report.records as usize, written + 3);
}

/// Waits for the backlog to start arriving (after the breaker period), then for it to stop.
async fn listener_wait_stable(listener: &sinks::Listener) -> usize {
    assert!(
        eventually(20, || listener.received.len() > 0).await,
        "nothing arrived"
    );
    let mut last = usize::MAX;
    loop {
        tokio::time::sleep(Duration::from_millis(400)).await;
        let now = listener.received.len();
        if now == last {
            return now;
        }
        last = now;
    }
}

/// Writes a 12-record log across a restart and returns its path.
fn intact_log(dir: &Path) -> PathBuf {
    let path = dir.join("audit.jsonl");
    for run in 0..2 {
        let log = AuditLog::new(KEY.as_bytes().to_vec(), Some(path.clone())).unwrap();
        for n in 1..=6 {
            log.record(&tool_record(run * 6 + n));
        }
    }
    path
}

fn rewrite(path: &Path, edit: impl FnOnce(&mut Vec<String>)) {
    let mut lines: Vec<String> = std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    edit(&mut lines);
    std::fs::write(
        path,
        lines.iter().map(|l| format!("{l}\n")).collect::<String>(),
    )
    .unwrap();
}

#[test]
fn the_verifier_catches_every_tampering() {
    type Tamper = (&'static str, usize, fn(&Path));
    let cases: Vec<Tamper> = vec![
        ("edited byte in a record", 5, |p| {
            rewrite(p, |l| l[4] = l[4].replace("\"ops\"", "\"opz\""))
        }),
        ("edited MAC", 5, |p| {
            rewrite(p, |l| {
                let i = l[4].len() - 3;
                let c = if &l[4][i..i + 1] == "0" { "1" } else { "0" };
                l[4].replace_range(i..i + 1, c);
            })
        }),
        ("deleted record", 5, |p| {
            rewrite(p, |l| {
                l.remove(4);
            })
        }),
        ("inserted forged record", 5, |p| {
            rewrite(p, |l| {
                let forged = l[3].replace("client-4", "client-x");
                l.insert(4, forged);
            })
        }),
        ("inserted copy of another record", 8, |p| {
            rewrite(p, |l| {
                let c = l[2].clone();
                l.insert(7, c);
            })
        }),
        ("reordered records", 5, |p| rewrite(p, |l| l.swap(4, 5))),
        ("duplicated last record", 13, |p| {
            rewrite(p, |l| {
                let c = l[11].clone();
                l.push(c);
            })
        }),
        ("truncated tail (two records)", 0, |p| {
            rewrite(p, |l| l.truncate(10))
        }),
        ("last record cut mid-line", 12, |p| {
            let text = std::fs::read_to_string(p).unwrap();
            std::fs::write(p, &text[..text.len() - 40]).unwrap();
        }),
        ("all records removed", 0, |p| std::fs::write(p, "").unwrap()),
        ("edited head anchor", 0, |p| {
            let head = chain::head_path(p);
            let text = std::fs::read_to_string(&head)
                .unwrap()
                .replace("\"seq\":12", "\"seq\":10");
            std::fs::write(head, text).unwrap();
        }),
        ("head anchor deleted", 0, |p| {
            std::fs::remove_file(chain::head_path(p)).unwrap()
        }),
        ("blank line inserted", 3, |p| {
            rewrite(p, |l| l.insert(2, String::new()))
        }),
    ];
    let mut caught = 0;
    for (name, line, tamper) in &cases {
        let dir = tempfile::tempdir().unwrap();
        let path = intact_log(dir.path());
        verify(
            KEY.as_bytes(),
            std::slice::from_ref(&path),
            TailCheck::Head(chain::head_path(&path)),
        )
        .expect("intact before tampering");
        tamper(&path);
        let broken = verify(
            KEY.as_bytes(),
            std::slice::from_ref(&path),
            TailCheck::Head(chain::head_path(&path)),
        )
        .expect_err(name);
        assert_eq!(broken.line, *line, "{name}: {broken}");
        caught += 1;
    }
    // And the wrong key.
    let dir = tempfile::tempdir().unwrap();
    let path = intact_log(dir.path());
    assert!(verify(b"another key", &[path], TailCheck::Skip).is_err());
    caught += 1;
    println!(
        "verifier: {} tamper cases tried, {caught} caught",
        cases.len() + 1
    );
    assert_eq!(caught, cases.len() + 1);
}

#[test]
fn rotated_pieces_verify_alone_and_together() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    let rotated = dir.path().join("audit.jsonl.1");
    let log = AuditLog::new(KEY.as_bytes().to_vec(), Some(path.clone())).unwrap();
    for n in 1..=4 {
        log.record(&tool_record(n));
    }
    std::fs::rename(&path, &rotated).unwrap(); // what logrotate does
    for n in 5..=7 {
        log.record(&tool_record(n));
    }
    let head = TailCheck::Head(chain::head_path(&path));
    let both = verify(KEY.as_bytes(), &[rotated.clone(), path.clone()], head).unwrap();
    assert_eq!(
        (
            both.records,
            both.first_seq,
            both.last_seq,
            both.continues_from
        ),
        (7, 1, 7, None)
    );
    let alone = verify(
        KEY.as_bytes(),
        std::slice::from_ref(&path),
        TailCheck::Head(chain::head_path(&path)),
    )
    .unwrap();
    assert_eq!((alone.first_seq, alone.continues_from.is_some()), (5, true));
    // Out of order pieces are refused.
    assert!(verify(KEY.as_bytes(), &[path, rotated], TailCheck::Skip).is_err());
}

#[test]
fn the_verify_command_reports_and_exits() {
    let dir = tempfile::tempdir().unwrap();
    let path = intact_log(dir.path());
    let run = |key: Option<&str>| {
        let mut cmd = std::process::Command::new(support::binary());
        cmd.args(["audit", "verify"])
            .arg(&path)
            .current_dir(dir.path())
            .env_remove("AUDIT_HMAC_KEY");
        if let Some(k) = key {
            cmd.env("AUDIT_HMAC_KEY", k);
        }
        cmd.output().unwrap()
    };
    let ok = run(Some(KEY));
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ok.stdout)
    );
    assert!(String::from_utf8_lossy(&ok.stdout).starts_with("OK: 12 records, seq 1..12"));
    rewrite(&path, |l| l.swap(6, 7));
    let bad = run(Some(KEY));
    assert_eq!(bad.status.code(), Some(1));
    let out = String::from_utf8_lossy(&bad.stdout);
    assert!(
        out.starts_with("BROKEN: ") && out.contains("line 7 (seq 8)"),
        "{out}"
    );
    assert_eq!(run(None).status.code(), Some(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_forwards_tool_calls_to_syslog() {
    use support::client::{call, http_client};

    let cases = support::cases();
    let dojo = support::dojo_double(&cases).await;
    let listener = sinks::syslog_stream(0, None).await;
    let dir = tempfile::tempdir().unwrap();
    let spool = dir.path().join("spool");
    let server = support::start_http(
        &dojo.uri(),
        dir.path(),
        &[
            (
                "AUDIT_LOG_SYSLOG",
                &format!("tcp://127.0.0.1:{}", listener.port),
            ),
            ("AUDIT_SPOOL_DIR", spool.to_str().unwrap()),
        ],
    )
    .await;
    let client = http_client(&server.url, support::TOKENS[3].1).await;
    call(&client, "get_finding", &json!({"finding_id": 1})).await;
    call(
        &client,
        "add_finding_note",
        &json!({"finding_id": 555, "entry": "x"}),
    )
    .await;
    client.cancel().await.ok();
    assert!(eventually(10, || listener.received.len() == 3).await);
    let records = listener.received.records();
    assert_eq!(records[0]["detail"]["chain_event"], "chain_start");
    assert_eq!(
        (records[1]["tool"].as_str(), records[1]["outcome"].as_str()),
        (Some("get_finding"), Some("success"))
    );
    assert_eq!(
        (records[2]["tool"].as_str(), records[2]["outcome"].as_str()),
        (Some("add_finding_note"), Some("denied"))
    );
    assert_eq!(records[2]["authenticated_caller_id"], "reader");
}

#[test]
fn a_log_behind_its_anchor_is_refused_at_startup() {
    let dir = tempfile::tempdir().unwrap();
    let path = intact_log(dir.path());
    let anchor_before = std::fs::read(chain::head_path(&path)).unwrap();
    rewrite(&path, |l| l.truncate(l.len() - 2));
    let refused = AuditLog::new(KEY.as_bytes().to_vec(), Some(path.clone()))
        .err()
        .expect("a cut tail stops the start");
    let message = refused.to_string();
    assert!(
        message.contains("ends at seq 10") && message.contains("seq 12"),
        "{message}"
    );
    // The evidence stays: the anchor is untouched and the verifier still says truncated.
    assert_eq!(
        std::fs::read(chain::head_path(&path)).unwrap(),
        anchor_before
    );
    let broken = verify(
        KEY.as_bytes(),
        std::slice::from_ref(&path),
        TailCheck::Head(chain::head_path(&path)),
    )
    .unwrap_err();
    assert!(broken.reason.contains("truncated"), "{broken}");
}

#[test]
fn audit_files_are_private_and_have_one_writer() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    let log = AuditLog::new(KEY.as_bytes().to_vec(), Some(path.clone())).unwrap();
    log.record(&tool_record(1));
    for file in [path.clone(), chain::head_path(&path)] {
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", file.display());
    }
    // A second server process on the same file is refused, with what to do.
    let mut second = std::process::Command::new(support::binary());
    second
        .current_dir(dir.path())
        .env("DEFECTDOJO_URL", "http://127.0.0.1:9")
        .env("DEFECTDOJO_API_KEY", "dojo-test-key")
        .env("ALLOW_INSECURE_HTTP", "true")
        .env("AUDIT_LOG_FILE", &path)
        .env("AUDIT_HMAC_KEY", KEY)
        .stdin(std::process::Stdio::null());
    let out = second.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("another process is writing this audit log"),
        "{stderr}"
    );
    // Not a regular file: refused before anything is read from it.
    let device = AuditLog::new(KEY.as_bytes().to_vec(), Some(PathBuf::from("/dev/full")))
        .err()
        .expect("a device is refused");
    assert!(
        device.to_string().contains("not a regular file"),
        "{device}"
    );
}

#[test]
fn the_verify_command_says_what_it_cannot_check() {
    let dir = tempfile::tempdir().unwrap();
    let path = intact_log(dir.path());
    let run = |args: &[&str], files: &[&Path]| {
        let mut cmd = std::process::Command::new(support::binary());
        cmd.args(["audit", "verify"])
            .args(args)
            .args(files)
            .env("AUDIT_HMAC_KEY", KEY);
        let out = cmd.output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).to_string(),
        )
    };
    // Deleted first records: broken unless told the file is a later piece of a rotation.
    let cut = dir.path().join("cut.jsonl");
    std::fs::copy(&path, &cut).unwrap();
    std::fs::copy(chain::head_path(&path), chain::head_path(&cut)).unwrap();
    rewrite(&cut, |l| {
        l.drain(..3);
    });
    let (code, out) = run(&[], &[&cut]);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("does not start at the chain's beginning"),
        "{out}"
    );
    let (code, out) = run(&["--rotated-piece"], &[&cut]);
    assert_eq!(code, Some(0), "{out}");
    // An intact log whose anchor is missing: cannot check the tail (2), not broken (1).
    std::fs::remove_file(chain::head_path(&cut)).unwrap();
    let (code, out) = run(&[], &[&cut]);
    assert_eq!(code, Some(2), "{out}");
    assert!(
        out.contains("head anchor") && out.contains("missing"),
        "{out}"
    );
    // A gzip-compressed piece is named as such.
    let gz = dir.path().join("audit.jsonl.1.gz");
    std::fs::write(&gz, [0x1f, 0x8b, 8, 0, 0, 0, 0, 0]).unwrap();
    let (code, out) = run(&["--no-head"], &[&gz]);
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("gzip"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_while_dropping_still_records_the_drop() {
    let port = sinks::unused_port();
    let dir = tempfile::tempdir().unwrap();
    let audit = start(
        dir.path(),
        &[
            format!("--audit-log-syslog=tcp://127.0.0.1:{port}"),
            "--audit-spool-max-bytes=65536".into(),
        ],
    );
    for n in 1..=300 {
        audit.record(&tool_record(n));
    }
    // Stop with the SIEM still away and the spool still full.
    audit.close(Duration::from_millis(200)).await;
    let last: Value = serde_json::from_str(file_lines(dir.path()).last().unwrap()).unwrap();
    assert_eq!(last["event_type"], "audit_records_dropped", "{last}");
    assert_eq!(
        last["detail"]["last_seq"], 301,
        "the chain-start record is seq 1"
    );
    // Impossible spool sizes are refused at startup.
    let tiny = setup::start(
        &config(&audit_args(
            tempfile::tempdir().unwrap().path(),
            &[
                format!("--audit-log-syslog=tcp://127.0.0.1:{port}"),
                "--audit-spool-max-bytes=100".into(),
            ],
        )),
        KEY.as_bytes().to_vec(),
    );
    assert!(tiny
        .err()
        .is_some_and(|e| e.0.contains("AUDIT_SPOOL_MAX_BYTES")));
}

#[test]
fn an_unwritable_file_is_marked_and_can_fail_closed() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    let path = logs.join("audit.jsonl");
    let log = AuditLog::new(KEY.as_bytes().to_vec(), Some(path.clone())).unwrap();
    log.set_fail_closed(true);
    log.record(&tool_record(1));
    assert!(log.admits_mutations());
    // The directory goes away: the file cannot be reopened, mutations are refused.
    std::fs::remove_dir_all(&logs).unwrap();
    assert!(!log.admits_mutations());
    log.record(&tool_record(2));
    log.record(&tool_record(3));
    assert!(!log.admits_mutations());
    // It comes back: the next record lands, then a notice that marks what the file missed.
    std::fs::create_dir(&logs).unwrap();
    log.record(&tool_record(4));
    assert!(log.admits_mutations());
    let lines: Vec<Value> = std::fs::read_to_string(&path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[0]["seq"], 4);
    assert_eq!(lines[1]["event_type"], "audit_file_gap");
    assert_eq!(
        (
            &lines[1]["detail"]["first_seq"],
            &lines[1]["detail"]["last_seq"]
        ),
        (&json!(2), &json!(3))
    );
    // Without fail-closed, mutations go on whatever the file does.
    log.set_fail_closed(false);
    std::fs::remove_dir_all(&logs).unwrap();
    assert!(log.admits_mutations());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_self_signed_collector_works_and_tls_failures_say_why() {
    use mcp_adapter::audit::https::HttpsSink;
    // What `openssl req -x509` makes: self-signed, CA:TRUE, used as the server's certificate.
    let cert = sinks::self_signed();
    let collector = sinks::https_collector(0, cert.server.clone()).await;
    let url = format!("https://localhost:{}/audit", collector.port);
    let line = vec!["{\"seq\":1}".to_string()];
    // Trusted as configured: delivered, as curl --cacert would.
    let mut sink = HttpsSink::new(&url, None, Some(cert.cert_pem.as_bytes()), false).unwrap();
    sink.deliver(&line)
        .await
        .expect("the pinned self-signed certificate is accepted");
    // Another CA: refused, and the reason names the certificate problem.
    let other = sinks::pki();
    let mut sink = HttpsSink::new(&url, None, Some(other.ca_pem.as_bytes()), false).unwrap();
    let failure = sink.deliver(&line).await.unwrap_err();
    assert!(
        failure.reason.contains("TLS") && failure.reason.contains("certificate"),
        "{}",
        failure.reason
    );
    // The right certificate for the wrong name is still refused.
    let wrong_name = format!("https://127.0.0.1:{}/audit", collector.port);
    let mut sink =
        HttpsSink::new(&wrong_name, None, Some(cert.cert_pem.as_bytes()), false).unwrap();
    assert!(sink.deliver(&line).await.is_err());
}

/// rsyslogd (Debian's rsyslog and rsyslog-gnutls; scripts/test installs them) listening on
/// loopback with imtcp, plain or TLS, writing each message's MSG part to `received.log`.
struct Rsyslog {
    child: std::process::Child,
    port: u16,
    received: PathBuf,
}

impl Drop for Rsyslog {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_rsyslog(dir: &Path, tls: Option<(&str, &str)>) -> Rsyslog {
    let port = sinks::unused_port();
    let received = dir.join("received.log");
    let (global_tls, module_tls) = match tls {
        Some((cert, key)) => {
            std::fs::write(dir.join("cert.pem"), cert).unwrap();
            std::fs::write(dir.join("key.pem"), key).unwrap();
            let d = dir.display();
            (
                format!(" DefaultNetstreamDriver=\"gtls\" DefaultNetstreamDriverCAFile=\"{d}/cert.pem\" DefaultNetstreamDriverCertFile=\"{d}/cert.pem\" DefaultNetstreamDriverKeyFile=\"{d}/key.pem\""),
                " StreamDriver.Name=\"gtls\" StreamDriver.Mode=\"1\" StreamDriver.AuthMode=\"anon\"".to_string(),
            )
        }
        None => (String::new(), String::new()),
    };
    let conf = format!(
        r#"global(workDirectory="{d}" maxMessageSize="64k"{global_tls})
module(load="imtcp"{module_tls})
template(name="raw" type="string" string="%msg%\n")
input(type="imtcp" address="127.0.0.1" port="{port}" ruleset="audit")
ruleset(name="audit") {{ action(type="omfile" file="{r}" template="raw") }}
"#,
        d = dir.display(),
        r = received.display()
    );
    std::fs::write(dir.join("rsyslog.conf"), conf).unwrap();
    let child = std::process::Command::new("rsyslogd")
        .args(["-n", "-f"])
        .arg(dir.join("rsyslog.conf"))
        .arg("-i")
        .arg(dir.join("rsyslog.pid"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("rsyslogd is not installed: ./scripts/test installs it (apt-get install rsyslog rsyslog-gnutls)");
    let rsyslog = Rsyslog {
        child,
        port,
        received,
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "rsyslogd did not listen"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    rsyslog
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_rsyslog_receives_every_record_over_tcp_and_tls() {
    // The receiver's certificate as `openssl req -x509` makes it (self-signed, CA:TRUE).
    let cert = sinks::self_signed();
    let (cert_pem, key_pem) = (cert.cert_pem, cert.key_pem);
    for tls in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let rsyslog = start_rsyslog(
            dir.path(),
            tls.then_some((cert_pem.as_str(), key_pem.as_str())),
        );
        let ca = dir.path().join("cert.pem");
        let target = if tls {
            vec![
                format!("--audit-log-syslog=tcp+tls://localhost:{}", rsyslog.port),
                format!("--audit-log-syslog-ca={}", ca.display()),
            ]
        } else {
            vec![format!(
                "--audit-log-syslog=tcp://127.0.0.1:{}",
                rsyslog.port
            )]
        };
        let audit = start(dir.path(), &target);
        for n in 1..=50 {
            audit.record(&tool_record(n));
        }
        audit.close(Duration::from_secs(10)).await;
        let local = file_lines(dir.path());
        assert!(
            eventually(20, || std::fs::read_to_string(&rsyslog.received)
                .map(|t| t.lines().count())
                .unwrap_or(0)
                >= local.len())
            .await,
            "tls={tls}: rsyslog got {:?} of {} records",
            std::fs::read_to_string(&rsyslog.received).map(|t| t.lines().count()),
            local.len()
        );
        let received: Vec<String> = std::fs::read_to_string(&rsyslog.received)
            .unwrap()
            .lines()
            .map(|l| l.trim().to_string())
            .collect();
        assert_eq!(
            received, local,
            "tls={tls}: every record, once, in order, byte for byte"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_chain_survives_kill_9_at_random_moments() {
    use support::hostile::{open_session, token};
    let cases = support::cases();
    let dojo = support::dojo_double(&cases).await;
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.jsonl");
    let log_setting = log.to_str().unwrap().to_string();
    // A fixed-seed generator: the same moments on every run, spread over 20-120 ms of calls.
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next_ms = || {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        20 + (seed >> 33) % 100
    };
    let crashes = 20;
    for _ in 0..crashes {
        let mut server =
            support::start_http(&dojo.uri(), dir.path(), &[("AUDIT_LOG_FILE", &log_setting)]).await;
        let url = server.url.clone();
        let session = open_session(&url, token("writer")).await.ok();
        let calls = tokio::spawn(async move {
            let call = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                "params": {"name": "get_finding", "arguments": {"finding_id": 1}}});
            let client = reqwest::Client::new();
            loop {
                // Errors are expected once the server is killed.
                let _ = client
                    .post(&url)
                    .bearer_auth(token("writer"))
                    .header("accept", "application/json, text/event-stream")
                    .header("mcp-session-id", session.clone().unwrap_or_default())
                    .header("mcp-protocol-version", "2025-06-18")
                    .json(&call)
                    .send()
                    .await;
            }
        });
        tokio::time::sleep(Duration::from_millis(next_ms())).await;
        server.child.kill().await.unwrap(); // SIGKILL, mid-write or not
        calls.abort();
    }
    let report = verify(
        "e2e-audit-key-0123456789abcdef".as_bytes(),
        std::slice::from_ref(&log),
        TailCheck::Head(chain::head_path(&log)),
    )
    .unwrap_or_else(|b| panic!("after {crashes} kill -9: {b}"));
    assert!(report.records >= crashes, "{report:?}");
    // A kill inside `write` can cut a record; the next start mends it and says so.
    let mended = std::fs::read_to_string(&log)
        .unwrap()
        .matches("\"torn_tail\"")
        .count();
    println!(
        "chain intact after {crashes} kill -9: {} records, {mended} torn tail(s) mended",
        report.records
    );
}
