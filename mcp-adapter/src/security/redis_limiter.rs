//! The mutation rate limit shared by every replica through Redis (`RATE_LIMIT_REDIS_URL`).
//!
//! Same semantics as the in-memory [`SlidingWindowLimiter`](super::ratelimit::SlidingWindowLimiter):
//! at most N admissions in any window of W seconds per caller. Each caller has a sorted set of
//! admission times; one Lua script trims it, counts and admits atomically on the Redis server, with
//! the Redis server's clock, so replicas with skewed clocks still agree. When Redis cannot be
//! reached the limiter refuses mutations (fail closed); reads are never limited.

use super::ratelimit::{LimitRefusal, RateLimited, OPEN_ACCESS_KEY};
use std::time::Duration;

const ADMIT: &str = r#"
local key = KEYS[1]
local limit = tonumber(ARGV[1])
local window_us = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window_us)
if redis.call('ZCARD', key) < limit then
  redis.call('ZADD', key, now, ARGV[3])
  redis.call('PEXPIRE', key, math.ceil(window_us / 1000))
  return 0
end
local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
local wait = tonumber(oldest[2]) + window_us - now
if wait < 1 then wait = 1 end
return wait
"#;

/// A limiter whose state lives in Redis.
pub struct RedisLimiter {
    connection: redis::aio::ConnectionManager,
    script: redis::Script,
    per_caller: usize,
    open_access: usize,
    window: Duration,
}

impl RedisLimiter {
    /// Connects to `url` (checked now, so a wrong URL stops the server at startup).
    pub async fn connect(
        url: &str,
        per_caller: usize,
        open_access: usize,
        window: Duration,
    ) -> Result<RedisLimiter, String> {
        let client =
            redis::Client::open(url).map_err(|_| "not a redis:// or rediss:// URL".to_string())?;
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(3)))
            .set_response_timeout(Some(Duration::from_secs(2)))
            .set_number_of_retries(2);
        let connection = client
            .get_connection_manager_with_config(config)
            .await
            .map_err(|e| format!("cannot connect: {}", e.category()))?;
        Ok(RedisLimiter {
            connection,
            script: redis::Script::new(ADMIT),
            per_caller,
            open_access,
            window,
        })
    }

    /// Admits one mutation for `key`, or refuses.
    pub async fn check(&self, key: &str) -> Result<(), LimitRefusal> {
        let limit = if key == OPEN_ACCESS_KEY {
            self.open_access
        } else {
            self.per_caller
        };
        if limit == 0 {
            return Err(LimitRefusal::Limited(RateLimited {
                retry_after_secs: self.window.as_secs().max(1),
            }));
        }
        // Hex keeps any caller id (and the open-access key's NUL) a plain Redis key.
        let redis_key = format!("mcp-defectdojo:mutations:{}", hex::encode(key));
        let member = hex::encode(rand::random::<[u8; 12]>());
        let mut connection = self.connection.clone();
        let waited: Result<i64, _> = self
            .script
            .key(redis_key)
            .arg(limit)
            .arg(self.window.as_micros() as u64)
            .arg(member)
            .invoke_async(&mut connection)
            .await;
        match waited {
            Ok(0) => Ok(()),
            Ok(wait_us) => {
                let secs = (wait_us as u64).div_ceil(1_000_000);
                Err(LimitRefusal::Limited(RateLimited {
                    retry_after_secs: secs.clamp(1, self.window.as_secs().max(1)),
                }))
            }
            Err(e) => {
                tracing::error!(target: "security", error = e.category(), "rate-limit store unreachable: refusing mutations");
                Err(LimitRefusal::Unavailable)
            }
        }
    }
}
