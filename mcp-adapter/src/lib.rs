//! MCP server for DefectDojo: 24 tools over the `dojo-sdk` client, behind one security layer.
//!
//! * [`tools`] declares the tools and does their work;
//! * [`pipeline`] is the one path every call takes (authorize, validate, limit, audit, ...);
//! * [`security`] holds the pipeline's parts; [`audit`] the HMAC-chained trail;
//! * [`server`] speaks MCP over [`stdio`], streamable HTTP ([`sessions`]) or [`sse`];
//!   [`serve`] accepts HTTP connections within bounds; [`http`] guards them; [`jsonrpc`] answers
//!   input that is not MCP; [`config`] reads settings.
#![warn(missing_docs)]

pub mod audit;
pub mod config;
pub mod http;
pub mod jsonrpc;
pub mod pipeline;
pub mod security;
pub mod serve;
pub mod server;
pub mod sessions;
pub mod sse;
pub mod stdio;
pub mod tools;
