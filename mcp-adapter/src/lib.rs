//! MCP server for DefectDojo: 24 tools over the `dojo-sdk` client, behind one security layer.
//!
//! * [`tools`] declares the tools and does their work;
//! * [`pipeline`] is the one path every call takes (authorize, validate, limit, audit, ...);
//! * [`security`] holds the pipeline's parts; [`audit`] the HMAC-chained trail;
//! * [`server`] speaks MCP; [`http`] guards the network transport; [`config`] reads settings.
#![warn(missing_docs)]

pub mod audit;
pub mod config;
pub mod http;
pub mod pipeline;
pub mod security;
pub mod server;
pub mod sse;
pub mod tools;
