//! Which findings each caller read lately, so that the audit record of a mutation can say what
//! the caller had seen before it (`findings_read_before_mutation`): a model that closes findings
//! it never looked at is worth a second look.
//!
//! Kept per caller (the trusted id, not the session), so it is the same on stdio, on stateful and
//! stateless HTTP and on SSE, and never mixes two callers. Bounded: the most recent
//! [`MAX_READS_PER_CALLER`] distinct ids per caller; callers are the configured tokens plus open
//! access, so the number of histories is bounded by the configuration.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

/// Most recent distinct finding ids kept per caller.
pub const MAX_READS_PER_CALLER: usize = 256;

/// Per-caller history of finding ids read.
#[derive(Default)]
pub struct ReadHistory {
    callers: Mutex<HashMap<String, VecDeque<i64>>>,
}

impl ReadHistory {
    /// Adds `ids` (in reading order) to `caller`'s history; a re-read id moves to the end.
    pub fn record(&self, caller: &str, ids: Vec<i64>) {
        if ids.is_empty() {
            return;
        }
        let mut callers = self.callers.lock().unwrap_or_else(|p| p.into_inner());
        let history = callers.entry(caller.to_string()).or_default();
        for id in ids {
            if let Some(at) = history.iter().position(|&seen| seen == id) {
                history.remove(at);
            }
            history.push_back(id);
            if history.len() > MAX_READS_PER_CALLER {
                history.pop_front();
            }
        }
    }

    /// `caller`'s recent reads, oldest first.
    pub fn recent(&self, caller: &str) -> Vec<i64> {
        let callers = self.callers.lock().unwrap_or_else(|p| p.into_inner());
        callers
            .get(caller)
            .map(|h| h.iter().copied().collect())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_caller_bounded_most_recent() {
        let reads = ReadHistory::default();
        reads.record("alice", vec![1, 2, 3]);
        reads.record("bob", vec![9]);
        reads.record("alice", vec![2]);
        assert_eq!(reads.recent("alice"), vec![1, 3, 2]);
        assert_eq!(reads.recent("bob"), vec![9]);
        assert!(reads.recent("carol").is_empty());
        reads.record("alice", (100..1000).collect());
        let recent = reads.recent("alice");
        assert_eq!(recent.len(), MAX_READS_PER_CALLER);
        assert_eq!(recent.last(), Some(&999));
    }
}
