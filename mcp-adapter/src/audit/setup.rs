//! Builds the audit log and its forwarders from the configuration.

use super::forward::{self, Destination, ForwardPolicy};
use super::https::HttpsSink;
use super::spool::Spool;
use super::syslog::{SyslogSink, SyslogTarget};
use super::AuditLog;
use crate::config::{Config, StartupError};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

fn read_ca(var: &str, path: &Option<PathBuf>) -> Result<Option<Vec<u8>>, StartupError> {
    path.as_ref()
        .map(|p| {
            std::fs::read(p).map_err(|e| {
                StartupError(format!("{var}: cannot read {}: {}", p.display(), e.kind()))
            })
        })
        .transpose()
}

fn spool_dir(config: &Config) -> PathBuf {
    if let Some(dir) = &config.audit_spool_dir {
        return dir.clone();
    }
    let beside = config
        .audit_log_file
        .as_deref()
        .and_then(Path::parent)
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    beside.join("audit-spool")
}

/// Smallest forwarder spool accepted: below it a spool could not hold even one large record,
/// and every record would be dropped for as long as the SIEM is away.
pub const MIN_SPOOL_BYTES: usize = 64 * 1024;

/// The audit log for `config`, keyed by `key`, with a forwarder per configured SIEM sink.
/// Must run inside the Tokio runtime (forwarders are tasks).
pub fn start(config: &Config, key: Vec<u8>) -> Result<Arc<AuditLog>, StartupError> {
    let log = AuditLog::new(key, config.audit_log_file.clone())
        .map_err(|e| StartupError(format!("AUDIT_LOG_FILE: {e}")))?;
    log.set_fail_closed(config.audit_fail_closed);
    let log = Arc::new(log);

    let mut destinations = Vec::new();
    if let Some(target) = config
        .audit_log_syslog
        .as_deref()
        .filter(|s| !s.trim().is_empty())
    {
        let target: SyslogTarget = target.parse().map_err(|e| {
            StartupError(format!(
                "AUDIT_LOG_SYSLOG: {e} (format: [udp|tcp|tcp+tls://]host[:port])"
            ))
        })?;
        let ca = read_ca("AUDIT_LOG_SYSLOG_CA", &config.audit_log_syslog_ca)?;
        let sink = SyslogSink::new(target, ca.as_deref())
            .map_err(|e| StartupError(format!("AUDIT_LOG_SYSLOG / AUDIT_LOG_SYSLOG_CA: {e}")))?;
        // Syslog takes records one by one: send as soon as they come.
        destinations.push((Destination::Syslog(sink), 100, Duration::ZERO));
    }
    if let Some(url) = config
        .audit_log_https_url
        .as_deref()
        .filter(|s| !s.trim().is_empty())
    {
        let ca = read_ca("AUDIT_LOG_HTTPS_CA", &config.audit_log_https_ca)?;
        let sink = HttpsSink::new(
            url,
            config.audit_log_https_token.clone(),
            ca.as_deref(),
            config.allow_insecure_http,
        )
        .map_err(|e| StartupError(format!("AUDIT_LOG_HTTPS_URL / AUDIT_LOG_HTTPS_CA: {e}")))?;
        destinations.push((
            Destination::Https(sink),
            config.audit_log_https_batch_size as usize,
            Duration::from_secs_f64(config.audit_log_https_flush_secs),
        ));
    }
    if !destinations.is_empty() && config.audit_spool_max_bytes < MIN_SPOOL_BYTES {
        return Err(StartupError(format!(
            "AUDIT_SPOOL_MAX_BYTES: {} bytes cannot hold a SIEM outage's backlog (an audit record can take several KiB): use at least {MIN_SPOOL_BYTES} (the default is 104857600)",
            config.audit_spool_max_bytes
        )));
    }
    let dir = spool_dir(config);
    for (destination, batch_size, flush_interval) in destinations {
        let name = destination.name();
        let spool = Spool::open(&dir, name, config.audit_spool_max_bytes as u64).map_err(|e| {
            StartupError(format!(
                "AUDIT_SPOOL_DIR: cannot open the {name} spool in {}: {}",
                dir.display(),
                e.kind()
            ))
        })?;
        let policy = ForwardPolicy {
            batch_size,
            flush_interval,
            retry_backoff: Duration::from_millis(config.audit_forward_retry_ms as u64),
            breaker_threshold: 3,
            breaker_open_for: Duration::from_secs_f64(config.audit_forward_breaker_secs),
        };
        let weak = Arc::downgrade(&log);
        let on_drop = Box::new(move |report: forward::DropReport| {
            if let Some(log) = weak.upgrade() {
                log.record_drop(&report);
            }
        });
        log.attach(forward::spawn(destination, spool, policy, on_drop));
    }
    log.record_chain_start();
    Ok(log)
}
