//! What a tool's work runs with: the shared environment, the call's context, and how a call fails.

use dojo_sdk::paging::Page;
use dojo_sdk::{DojoClient, DojoError};
use serde::Serialize;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// What every tool call shares: the SDK client and settings. One per process.
pub struct ToolEnv {
    /// DefectDojo client.
    pub dojo: DojoClient,
    /// `found_by` for created findings (DEFECTDOJO_DEFAULT_FOUND_BY_ID).
    pub default_found_by_id: i64,
    /// Largest decoded scan report accepted.
    pub max_scan_bytes: usize,
    /// Directory `file_path` uploads must lie in; `None` disables `file_path`.
    pub scan_dir: Option<PathBuf>,
}

/// Where a call's progress goes: `(done, total, message)`.
type ProgressSink = Box<dyn Fn(f64, Option<f64>, String) + Send + Sync>;

/// Asks the person behind the client to confirm a change (MCP elicitation): true when they did.
pub type Confirmer = Box<dyn Fn(String) -> futures::future::BoxFuture<'static, bool> + Send + Sync>;

/// One tool call's context: the shared [`ToolEnv`], the finding ids this call read (which the
/// pipeline adds to the caller's read history for the audit trail), and where progress goes.
pub struct ToolContext {
    env: Arc<ToolEnv>,
    findings_read: Mutex<Vec<i64>>,
    items: Mutex<Vec<ItemOutcome>>,
    progress: Option<ProgressSink>,
    confirmer: Option<Confirmer>,
}

impl ToolContext {
    /// A context for one call.
    pub fn new(env: Arc<ToolEnv>) -> Self {
        ToolContext {
            env,
            findings_read: Mutex::new(Vec::new()),
            items: Mutex::new(Vec::new()),
            progress: None,
            confirmer: None,
        }
    }

    /// The same context, reporting progress through `report(progress, total, message)`.
    pub fn with_progress(
        mut self,
        report: impl Fn(f64, Option<f64>, String) + Send + Sync + 'static,
    ) -> Self {
        self.progress = Some(Box::new(report));
        self
    }

    /// The same context, asking `confirm` before destructive and bulk changes (a client that
    /// supports elicitation).
    pub fn with_confirmation(mut self, confirm: Confirmer) -> Self {
        self.confirmer = Some(confirm);
        self
    }

    /// Asks for confirmation when the client can be asked: `None` when it cannot, else whether
    /// the person confirmed.
    pub async fn confirm(&self, question: String) -> Option<bool> {
        match &self.confirmer {
            Some(ask) => Some(ask(question).await),
            None => None,
        }
    }

    /// Reports how far a long call has come, when the client asked for progress.
    pub fn progress(&self, done: f64, total: Option<f64>, message: impl Into<String>) {
        if let Some(report) = &self.progress {
            report(done, total, message.into());
        }
    }

    /// The finding ids this call read, in the order it read them.
    pub fn take_findings_read(&self) -> Vec<i64> {
        std::mem::take(&mut *self.findings_read.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// Notes the outcome of one item of a bulk change, for its own audit record.
    pub(crate) fn record_item(&self, finding_id: i64, outcome: Result<(), String>) {
        let mut items = self.items.lock().unwrap_or_else(|p| p.into_inner());
        items.push(ItemOutcome {
            finding_id,
            outcome,
        });
    }

    /// The items a bulk call changed or failed to change, in order.
    pub fn take_items(&self) -> Vec<ItemOutcome> {
        std::mem::take(&mut *self.items.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// Notes that this call read these findings.
    pub(crate) fn remember_findings(&self, ids: impl IntoIterator<Item = Option<i64>>) {
        let mut read = self.findings_read.lock().unwrap_or_else(|p| p.into_inner());
        read.extend(ids.into_iter().flatten());
    }
}

impl std::ops::Deref for ToolContext {
    type Target = ToolEnv;
    fn deref(&self) -> &ToolEnv {
        &self.env
    }
}

/// One item of a bulk change: the finding, and whether its change went through.
#[derive(Debug, Clone)]
pub struct ItemOutcome {
    /// The finding changed.
    pub finding_id: i64,
    /// Done, or why not.
    pub outcome: Result<(), String>,
}

/// Why a tool call failed.
#[derive(Debug)]
pub enum ToolFailure {
    /// The arguments are wrong; the message says which and why.
    BadArguments(String),
    /// DefectDojo (or the way to it) failed.
    Upstream(DojoError),
}

impl ToolFailure {
    /// Wraps a serde error from decoding the arguments, naming the argument at fault.
    pub fn bad_arguments(e: serde_path_to_error::Error<serde_json::Error>) -> Self {
        let argument = e.path().to_string();
        let inner = e.inner().to_string();
        // serde's "invalid value: integer `1e30`, expected i64" names neither the argument nor
        // the range; say both.
        let what = if inner.contains("expected i64") || inner.contains("expected u64") {
            format!("must be a whole number from 1 to {}", i64::MAX)
        } else {
            inner
                .split(" at line ")
                .next()
                .unwrap_or_default()
                .to_string()
        };
        if argument.is_empty() || argument == "." {
            ToolFailure::BadArguments(what)
        } else {
            ToolFailure::BadArguments(format!("{argument}: {what}"))
        }
    }

    /// Bad arguments, said in `message`.
    pub fn bad(message: impl Into<String>) -> Self {
        ToolFailure::BadArguments(message.into())
    }
}

impl From<DojoError> for ToolFailure {
    fn from(e: DojoError) -> Self {
        ToolFailure::Upstream(e)
    }
}

/// What a tool's work returns.
pub type Outcome = Result<Value, ToolFailure>;

/// Any SDK value as JSON.
pub fn to_json<T: Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// A page of results with the offset of the next one, from any DefectDojo list response.
pub fn page<P>(p: P, limit: i64, offset: i64) -> Value
where
    P: Page,
    P::Item: Serialize,
{
    let count = p.count();
    let has_next = p.next().is_some();
    let results = p.into_results();
    let next_offset = has_next.then(|| offset + results.len() as i64);
    json!({
        "count": count,
        "limit": limit,
        "offset": offset,
        "next_offset": next_offset,
        "results": to_json(&results),
        "next_page": match next_offset {
            Some(n) => format!("call again with offset={n} for the next page"),
            None => "this is the last page".to_string(),
        },
    })
}

/// Refuses an end date before a start date.
pub fn check_dates(start: chrono::NaiveDate, end: chrono::NaiveDate) -> Result<(), ToolFailure> {
    if end < start {
        return Err(ToolFailure::bad(
            "target_end: must not be before target_start",
        ));
    }
    Ok(())
}
