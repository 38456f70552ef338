//! The security layer's parts; [`crate::pipeline`] puts them in order.
pub mod content;
pub mod errors;
pub mod ratelimit;
pub mod reads;
pub mod redact;
pub mod redis_limiter;
pub mod roles;
