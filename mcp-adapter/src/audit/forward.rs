//! Forwarding audit records to a SIEM without slowing tool calls and without losing records.
//!
//! Each forwarder has two tasks around its on-disk [`Spool`]:
//! - *ingest* takes records from an unbounded channel (so a tool call never waits) and appends
//!   them to the spool; when the spool is full it drops the record, counts it, and once the
//!   spool accepts records again has the drop written into the audit chain itself;
//! - *deliver* sends the oldest spooled records in order (in batches for HTTPS), retries a failed
//!   send once after a backoff, and after 3 consecutive failures opens a circuit breaker for 30 s
//!   (by default) before trying again. A record leaves the spool only once delivered.

use super::https::HttpsSink;
use super::spool::Spool;
use super::syslog::SyslogSink;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, watch, Notify};
use tokio::time::Instant;

/// A failed delivery: how many of the batch's first records did go out, and why the rest did not.
#[derive(Debug)]
pub struct DeliveryError {
    /// Records delivered before the failure.
    pub delivered: usize,
    /// What went wrong (no secrets, no record content).
    pub reason: String,
}

/// Where a forwarder delivers.
pub enum Destination {
    /// A syslog server.
    Syslog(SyslogSink),
    /// An HTTPS collector.
    Https(HttpsSink),
}

impl Destination {
    /// `syslog` or `https`: the forwarder's name in events and spool files.
    pub fn name(&self) -> &'static str {
        match self {
            Destination::Syslog(_) => "syslog",
            Destination::Https(_) => "https",
        }
    }

    async fn deliver(&mut self, lines: &[String]) -> Result<(), DeliveryError> {
        match self {
            Destination::Syslog(sink) => sink.deliver(lines).await,
            Destination::Https(sink) => sink.deliver(lines).await,
        }
    }
}

/// Batching, retry and circuit-breaker settings.
#[derive(Debug, Clone)]
pub struct ForwardPolicy {
    /// Records per delivery.
    pub batch_size: usize,
    /// How long a partial batch may wait for more records.
    pub flush_interval: Duration,
    /// Pause before the one retry of a failed delivery.
    pub retry_backoff: Duration,
    /// Consecutive failures that open the breaker.
    pub breaker_threshold: u32,
    /// How long the breaker stays open.
    pub breaker_open_for: Duration,
}

/// Counters a forwarder keeps (also reported at shutdown).
#[derive(Debug, Default)]
pub struct ForwardStats {
    /// Records the destination accepted.
    pub delivered: AtomicU64,
    /// Records dropped because the spool was full.
    pub dropped: AtomicU64,
    /// Failed deliveries (each after its retry).
    pub failures: AtomicU64,
    /// Times the circuit breaker opened.
    pub breaker_opened: AtomicU64,
}

/// Records lost to a full spool, written into the audit chain once the spool has room again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DropReport {
    /// The forwarder.
    pub forwarder: &'static str,
    /// How many records were dropped.
    pub dropped: u64,
    /// `seq` of the first and last dropped record.
    pub first_seq: u64,
    /// `seq` of the last dropped record.
    pub last_seq: u64,
}

/// What the audit log holds for each running forwarder.
pub struct ForwarderHandle {
    name: &'static str,
    sender: mpsc::UnboundedSender<String>,
    stats: Arc<ForwardStats>,
    stop: watch::Sender<bool>,
    ingest: tokio::task::JoinHandle<()>,
    deliver: tokio::task::JoinHandle<()>,
}

impl ForwarderHandle {
    /// Queues a record; never waits.
    pub fn send(&self, line: &str) {
        // Fails only after close(), when nothing more is forwarded.
        let _ = self.sender.send(line.to_string());
    }

    /// The forwarder's counters.
    pub fn stats(&self) -> &Arc<ForwardStats> {
        &self.stats
    }

    /// Stops taking records, spools what is queued, and gives delivery up to `grace` to send
    /// what it can. Whatever is left stays in the spool for the next start.
    pub async fn close(self, grace: Duration) {
        drop(self.sender);
        let _ = self.ingest.await;
        let _ = self.stop.send(true);
        let mut deliver = self.deliver;
        if tokio::time::timeout(grace, &mut deliver).await.is_err() {
            // Stop it so the spool (and its lock) is released; what it held stays spooled.
            deliver.abort();
            tracing::warn!(target: "audit_forward", forwarder = self.name, "delivery still running at shutdown; the rest stays spooled");
        }
    }
}

/// The `seq` at the start of an audit line (`{"seq":N,...`).
fn seq_of(line: &str) -> u64 {
    line.strip_prefix("{\"seq\":")
        .map(|rest| {
            rest.chars()
                .take_while(char::is_ascii_digit)
                .collect::<String>()
        })
        .and_then(|digits| digits.parse().ok())
        .unwrap_or(0)
}

/// Starts a forwarder to `destination` through `spool`. `on_drop` is told about records lost
/// to a full spool once the spool takes records again.
pub fn spawn(
    mut destination: Destination,
    spool: Spool,
    policy: ForwardPolicy,
    on_drop: Box<dyn Fn(DropReport) + Send + Sync>,
) -> ForwarderHandle {
    let name = destination.name();
    let spool = Arc::new(Mutex::new(spool));
    let notify = Arc::new(Notify::new());
    let stats = Arc::new(ForwardStats::default());
    let (sender, receiver) = mpsc::unbounded_channel();
    let (stop, stopped) = watch::channel(false);
    let ingest = tokio::spawn(ingest(
        name,
        receiver,
        spool.clone(),
        notify.clone(),
        stats.clone(),
        on_drop,
    ));
    let deliver = {
        let stats = stats.clone();
        tokio::spawn(async move {
            deliver_loop(&mut destination, spool, notify, policy, stats, stopped).await;
        })
    };
    ForwarderHandle {
        name,
        sender,
        stats,
        stop,
        ingest,
        deliver,
    }
}

fn lock(spool: &Mutex<Spool>) -> std::sync::MutexGuard<'_, Spool> {
    spool.lock().unwrap_or_else(|p| p.into_inner())
}

async fn ingest(
    name: &'static str,
    mut receiver: mpsc::UnboundedReceiver<String>,
    spool: Arc<Mutex<Spool>>,
    notify: Arc<Notify>,
    stats: Arc<ForwardStats>,
    on_drop: Box<dyn Fn(DropReport) + Send + Sync>,
) {
    let mut episode: Option<DropReport> = None;
    while let Some(line) = receiver.recv().await {
        match lock(&spool).append(&line) {
            Ok(true) => {
                if let Some(report) = episode.take() {
                    tracing::error!(target: "audit_forward", event_type = "audit_records_dropped", forwarder = name, dropped = report.dropped, first_seq = report.first_seq, last_seq = report.last_seq, "audit records were dropped while the spool was full");
                    on_drop(report);
                }
                notify.notify_one();
            }
            outcome => {
                stats.dropped.fetch_add(1, Ordering::Relaxed);
                let seq = seq_of(&line);
                match episode.as_mut() {
                    Some(report) => {
                        report.dropped += 1;
                        report.last_seq = seq;
                    }
                    None => {
                        let reason = match outcome {
                            Err(e) => format!("spool write failed: {}", e.kind()),
                            Ok(_) => "spool full".into(),
                        };
                        tracing::error!(target: "audit_forward", event_type = "audit_forward_failure", forwarder = name, reason, "dropping audit records until the spool has room");
                        episode = Some(DropReport {
                            forwarder: name,
                            dropped: 1,
                            first_seq: seq,
                            last_seq: seq,
                        });
                    }
                }
            }
        }
    }
    // Stopping while records are being dropped: the drop still goes into the chain (the local
    // file), so a stop in that state cannot hide it.
    if let Some(report) = episode {
        tracing::error!(target: "audit_forward", event_type = "audit_records_dropped", forwarder = name, dropped = report.dropped, first_seq = report.first_seq, last_seq = report.last_seq, "audit records were dropped while the spool was full");
        on_drop(report);
    }
}

/// Waits `duration`, or less if asked to stop; true when stopping.
async fn pause(duration: Duration, stopped: &mut watch::Receiver<bool>) -> bool {
    if *stopped.borrow() {
        return true;
    }
    tokio::select! {
        _ = tokio::time::sleep(duration) => false,
        _ = stopped.wait_for(|s| *s) => true,
    }
}

async fn deliver_loop(
    destination: &mut Destination,
    spool: Arc<Mutex<Spool>>,
    notify: Arc<Notify>,
    policy: ForwardPolicy,
    stats: Arc<ForwardStats>,
    mut stopped: watch::Receiver<bool>,
) {
    let name = destination.name();
    let mut failures = 0u32;
    let mut partial_since: Option<Instant> = None;
    loop {
        let stopping = *stopped.borrow();
        let peeked = lock(&spool).peek(policy.batch_size);
        let lines = match peeked {
            Ok(batch) => batch,
            Err(e) => {
                tracing::error!(target: "audit_forward", event_type = "audit_forward_failure", forwarder = name, reason = %e.kind(), "cannot read the spool");
                if pause(policy.retry_backoff, &mut stopped).await {
                    return;
                }
                continue;
            }
        };
        if lines.is_empty() {
            partial_since = None;
            if stopping {
                return;
            }
            tokio::select! {
                _ = notify.notified() => {}
                _ = stopped.wait_for(|s| *s) => {}
            }
            continue;
        }
        if lines.len() < policy.batch_size && !stopping {
            let deadline = *partial_since.get_or_insert_with(Instant::now) + policy.flush_interval;
            if Instant::now() < deadline {
                tokio::select! {
                    _ = notify.notified() => continue,
                    _ = tokio::time::sleep_until(deadline) => {}
                    _ = stopped.wait_for(|s| *s) => {}
                }
            }
        }
        partial_since = None;

        // One try and, after a backoff, one retry of whatever the first try did not deliver.
        let mut sent = 0;
        let mut outcome = Ok(());
        for attempt in 0..2 {
            if attempt == 1 && pause(policy.retry_backoff, &mut stopped).await {
                break;
            }
            match destination.deliver(&lines[sent..]).await {
                Ok(()) => {
                    sent = lines.len();
                    outcome = Ok(());
                    break;
                }
                Err(e) => {
                    sent += e.delivered;
                    outcome = Err(e.reason);
                }
            }
        }
        consume(&spool, &lines[..sent], &stats);
        match outcome {
            Ok(()) => failures = 0,
            Err(reason) => {
                failures += 1;
                stats.failures.fetch_add(1, Ordering::Relaxed);
                let pending = lock(&spool).pending_bytes();
                tracing::warn!(target: "audit_forward", event_type = "audit_forward_failure", forwarder = name, reason = %reason, consecutive_failures = failures, pending_bytes = pending, "audit forwarding failed; the records stay spooled");
                if stopping {
                    return;
                }
                let wait = if failures >= policy.breaker_threshold {
                    stats.breaker_opened.fetch_add(1, Ordering::Relaxed);
                    tracing::error!(target: "audit_forward", event_type = "audit_forward_failure", forwarder = name, reason = "circuit_open", consecutive_failures = failures, recovery_seconds = policy.breaker_open_for.as_secs_f64(), "audit forwarder circuit breaker open");
                    policy.breaker_open_for
                } else {
                    policy.retry_backoff
                };
                if pause(wait, &mut stopped).await {
                    return;
                }
            }
        }
    }
}

/// Removes delivered `lines` (the oldest in the spool) and counts them.
fn consume(spool: &Mutex<Spool>, lines: &[String], stats: &ForwardStats) {
    if lines.is_empty() {
        return;
    }
    if let Err(e) = lock(spool).consume(lines) {
        // The offset could not be saved: after a restart these records may be sent again.
        tracing::error!(target: "audit_forward", reason = %e.kind(), "cannot record delivery progress in the spool");
    }
    stats
        .delivered
        .fetch_add(lines.len() as u64, Ordering::Relaxed);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_seq_from_the_line_start() {
        assert_eq!(seq_of(r#"{"seq":42,"timestamp":"x"}"#), 42);
        assert_eq!(seq_of("garbage"), 0);
    }
}
