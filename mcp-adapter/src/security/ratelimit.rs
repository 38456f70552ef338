//! Mutation rate limits: at most N mutations in any window of W seconds, per caller.
//!
//! An exact sliding window (a queue of admission times per key under one lock), not a GCRA bucket
//! such as governor's: the Python server promises "at most N in any W seconds" and reports when the
//! oldest call leaves the window, and GCRA spreads N evenly instead (it would refuse the second of
//! two calls made back to back under a 60-per-minute limit). The lock is held for a few hundred
//! nanoseconds, so exactly N calls are admitted however many arrive at once.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The limiter's key for unauthenticated traffic, which shares one bucket.
pub const OPEN_ACCESS_KEY: &str = "\0open-access";

/// Why a call was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimited {
    /// Whole seconds until the oldest admitted call leaves the window (1 ..= window).
    pub retry_after_secs: u64,
}

/// Why a mutation was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitRefusal {
    /// The caller is over the limit.
    Limited(RateLimited),
    /// The shared limit store did not answer: refuse rather than let mutations through unlimited.
    Unavailable,
}

/// The mutation limiter: in memory (one process), or in Redis (shared by every replica).
pub enum MutationLimiter {
    /// This process only.
    Local(SlidingWindowLimiter),
    /// Every replica that points at the same Redis.
    Shared(super::redis_limiter::RedisLimiter),
}

impl MutationLimiter {
    /// Admits one mutation for `key` now, or says why not.
    pub async fn check(&self, key: &str) -> Result<(), LimitRefusal> {
        match self {
            MutationLimiter::Local(limiter) => limiter.check(key).map_err(LimitRefusal::Limited),
            MutationLimiter::Shared(limiter) => limiter.check(key).await,
        }
    }

    /// Admits `n` mutations for `key` now, or none. Locally all-or-nothing; through Redis one at a
    /// time, so a refusal part-way spends what was admitted before it (failing closed: the call
    /// is refused whole and changes nothing).
    pub async fn check_n(&self, key: &str, n: usize) -> Result<(), LimitRefusal> {
        match self {
            MutationLimiter::Local(limiter) => limiter
                .check_n_at(key, n, Instant::now())
                .map_err(LimitRefusal::Limited),
            MutationLimiter::Shared(limiter) => {
                for _ in 0..n {
                    limiter.check(key).await?;
                }
                Ok(())
            }
        }
    }
}

/// Exact sliding-window limiter, keyed by caller.
#[derive(Debug)]
pub struct SlidingWindowLimiter {
    per_caller: usize,
    open_access: usize,
    window: Duration,
    admitted: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl SlidingWindowLimiter {
    /// `per_caller` mutations per `window` for each authenticated caller, `open_access` shared by
    /// unauthenticated traffic. A limit of 0 refuses every mutation.
    pub fn new(per_caller: usize, open_access: usize, window: Duration) -> Self {
        SlidingWindowLimiter {
            per_caller,
            open_access,
            window,
            admitted: Mutex::new(HashMap::new()),
        }
    }

    /// Admits one mutation for `key` now, or says how long to wait.
    pub fn check(&self, key: &str) -> Result<(), RateLimited> {
        self.check_at(key, Instant::now())
    }

    /// [`check`](Self::check) at a given instant (for tests).
    pub fn check_at(&self, key: &str, now: Instant) -> Result<(), RateLimited> {
        self.check_n_at(key, 1, now)
    }

    /// Admits `n` mutations at once at `now`, or none.
    pub fn check_n_at(&self, key: &str, n: usize, now: Instant) -> Result<(), RateLimited> {
        let limit = if key == OPEN_ACCESS_KEY {
            self.open_access
        } else {
            self.per_caller
        };
        let mut admitted = self.admitted.lock().unwrap_or_else(|p| p.into_inner());
        let queue = admitted.entry(key.to_string()).or_default();
        while queue
            .front()
            .is_some_and(|t| now.duration_since(*t) >= self.window)
        {
            queue.pop_front();
        }
        if queue.len() + n <= limit {
            queue.extend(std::iter::repeat_n(now, n));
            return Ok(());
        }
        // Room comes when enough of the oldest admissions leave the window; more than the limit
        // at once never fits, and is told to wait a whole window.
        let must_leave = queue.len() + n - limit;
        let wait = match queue.get(must_leave - 1) {
            Some(t) if n <= limit => self.window.saturating_sub(now.duration_since(*t)),
            _ => self.window,
        };
        let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        Err(RateLimited {
            retry_after_secs: secs.clamp(1, self.window.as_secs().max(1)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn admits_a_batch_whole_or_not_at_all() {
        let limiter = SlidingWindowLimiter::new(5, 1, Duration::from_secs(60));
        let t0 = Instant::now();
        limiter.check_n_at("a", 3, t0).unwrap();
        assert!(limiter.check_n_at("a", 3, t0).is_err(), "3 + 3 > 5");
        limiter.check_n_at("a", 2, t0).unwrap();
        assert!(limiter.check_at("a", t0).is_err());
        assert!(
            limiter.check_n_at("b", 6, t0).is_err(),
            "more than the limit never fits"
        );
        limiter
            .check_n_at("a", 5, t0 + Duration::from_secs(60))
            .unwrap();
    }

    #[test]
    fn admits_exactly_n_per_window_and_says_when_to_retry() {
        let limiter = SlidingWindowLimiter::new(3, 1, Duration::from_secs(60));
        let t0 = Instant::now();
        for i in 0..3 {
            assert!(limiter.check_at("ci", t0 + Duration::from_secs(i)).is_ok());
        }
        let refused = limiter
            .check_at("ci", t0 + Duration::from_secs(10))
            .unwrap_err();
        assert_eq!(refused.retry_after_secs, 50);
        assert!(
            limiter.check_at("other", t0).is_ok(),
            "callers have their own windows"
        );
        assert!(
            limiter.check_at("ci", t0 + Duration::from_secs(60)).is_ok(),
            "oldest left the window"
        );
    }

    #[test]
    fn open_access_shares_one_bucket() {
        let limiter = SlidingWindowLimiter::new(10, 2, Duration::from_secs(60));
        let t0 = Instant::now();
        assert!(limiter.check_at(OPEN_ACCESS_KEY, t0).is_ok());
        assert!(limiter.check_at(OPEN_ACCESS_KEY, t0).is_ok());
        assert!(limiter.check_at(OPEN_ACCESS_KEY, t0).is_err());
    }

    #[test]
    fn exactly_n_under_concurrency() {
        let limiter = Arc::new(SlidingWindowLimiter::new(100, 0, Duration::from_secs(60)));
        let admitted: usize = (0..8)
            .map(|_| {
                let limiter = limiter.clone();
                std::thread::spawn(move || (0..1000).filter(|_| limiter.check("c").is_ok()).count())
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|h| h.join().unwrap())
            .sum();
        assert_eq!(admitted, 100);
    }
}
