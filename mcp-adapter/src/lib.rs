//! MCP server for DefectDojo: tools in toolsets over the `dojo-sdk` client, behind one security layer.
//!
//! * [`tools`] declares the tools and does their work;
//! * [`pipeline`] is the one path every call takes (authorize, validate, limit, audit, ...);
//! * [`security`] holds the pipeline's parts; [`audit`] the HMAC-chained trail;
//! * [`server`] speaks MCP over [`stdio`], streamable HTTP ([`sessions`]) or [`sse`]; it also
//!   serves [`resources`] (objects by URI, read through the pipeline), [`prompts`] and
//!   [`completion`];
//!   [`serve`] accepts HTTP connections within bounds; [`http`] guards them; [`jsonrpc`] answers
//!   input that is not MCP; [`config`] reads settings.
#![warn(missing_docs)]

pub mod audit;
pub mod completion;
pub mod config;
pub mod http;
pub mod jsonrpc;
pub mod pipeline;
pub mod prompts;
pub mod resources;
pub mod security;
pub mod serve;
pub mod server;
pub mod sessions;
pub mod sse;
pub mod stdio;
pub mod tools;
