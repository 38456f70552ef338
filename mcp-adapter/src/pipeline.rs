//! The one path every tool call takes: find → authorize → validate → check content → rate-limit →
//! run → sanitize errors → wrap untrusted content → audit. Tools declare; this enforces.

use crate::audit::{sanitize_arguments, AuditLog, AuditRecord};
use crate::security::content::{self, Refusal};
use crate::security::errors::describe;
use crate::security::ratelimit::{LimitRefusal, MutationLimiter, OPEN_ACCESS_KEY};
use crate::security::reads::ReadHistory;
use crate::security::redact;
use crate::security::roles::Caller;
use crate::tools::{self, ToolContext, ToolDef, ToolFailure, ToolSelection};
use rmcp::model::{CallToolResult, ContentBlock};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

/// Security settings shared by every session.
pub struct Security {
    /// Mutation limiter.
    pub limiter: MutationLimiter,
    /// Whether read results are wrapped (`UNTRUSTED_CONTENT_WRAPPING`).
    pub wrap_untrusted: bool,
    /// The audit trail.
    pub audit: Arc<AuditLog>,
    /// Finding ids each caller read lately, for `findings_read_before_mutation`.
    pub reads: ReadHistory,
    /// Each tool's compiled input schema, built on the tool's first call: compiling all 24
    /// up front would cost a few milliseconds of start-up for tools a session may never call.
    validators: HashMap<&'static str, std::sync::OnceLock<jsonschema::Validator>>,
}

impl Security {
    /// The security layer around every tool call.
    pub fn new(limiter: MutationLimiter, wrap_untrusted: bool, audit: Arc<AuditLog>) -> Self {
        let validators = tools::TOOLS
            .iter()
            .map(|t| (t.name, std::sync::OnceLock::new()))
            .collect();
        Security {
            limiter,
            wrap_untrusted,
            audit,
            reads: ReadHistory::default(),
            validators,
        }
    }
}

/// One tool call as it arrives.
pub struct ToolCall {
    /// The tool name asked for.
    pub name: String,
    /// The arguments, if any.
    pub arguments: Option<Map<String, Value>>,
    /// `_meta.client_id`, as the client claims it (untrusted).
    pub client_id: Option<String>,
    /// JSON-RPC request id.
    pub request_id: String,
}

struct Denial {
    event_type: &'static str,
    message: String,
}

/// Longest tool name, argument name or client-supplied id echoed in a message or record.
const MAX_ECHOED_NAME: usize = 64;

/// `text` cut to `max` characters, with `…` when something was cut.
pub fn cut(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_string(),
    }
}

/// `name` cut to `MAX_ECHOED_NAME` (64) characters, so a huge name cannot flood a reply or a record.
pub fn cut_name(name: &str) -> String {
    cut(name, MAX_ECHOED_NAME)
}

/// Runs one call through the whole pipeline and returns what the client sees. `selection` is
/// what the server (or this HTTP request) offers; `ctx` carries the tool environment and where
/// progress goes.
pub async fn run(
    security: &Security,
    ctx: ToolContext,
    caller: &Caller,
    selection: &ToolSelection,
    call: ToolCall,
) -> CallToolResult {
    let started = Instant::now();
    // A null argument is an absent one: optional arguments are published without `null`, and
    // clients that send every argument send the absent ones as null.
    let mut given = call.arguments.clone().unwrap_or_default();
    given.retain(|_, v| !v.is_null());
    let arguments = Value::Object(given);
    let tool = tools::find(&call.name);
    let read_before = tool
        .filter(|t| t.effect.is_mutation())
        .map(|_| security.reads.recent(caller.id()));

    let outcome = match tool {
        None => Err(Denial {
            event_type: "input_rejected",
            message: format!(
                "unknown tool `{}`; tools/list names the tools",
                cut_name(&call.name)
            ),
        }),
        Some(tool) if !selection.includes(tool) => Err(Denial {
            event_type: "tool_denied",
            message: selection.why_not(tool),
        }),
        Some(tool) => admit(security, &ctx, tool, caller, &arguments)
            .await
            .map(|()| tool),
    };
    let (result, event_type, outcome_name, reason) = match outcome {
        Err(denial) => (
            error_result(&denial.message),
            denial.event_type,
            "denied",
            Some(denial.message),
        ),
        Ok(tool) => match (tool.run)(&ctx, arguments.clone()).await {
            Ok(value) => (
                success_result(security, value),
                "tool_call",
                "success",
                None,
            ),
            Err(failure) => {
                let message = match &failure {
                    ToolFailure::BadArguments(m) => format!("invalid arguments: {m}"),
                    ToolFailure::Upstream(e) => {
                        // Full detail stays in the server log; the caller gets the sanitized form.
                        tracing::warn!(tool = tool.name, error = %e, "DefectDojo call failed");
                        describe(e)
                    }
                };
                (error_result(&message), "tool_call", "error", Some(message))
            }
        },
    };
    security.reads.record(caller.id(), ctx.take_findings_read());
    // Each item of a bulk change has its own record, beside the call's.
    for item in ctx.take_items() {
        security.audit.record(&AuditRecord {
            timestamp: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            event_type: "bulk_item",
            outcome: if item.outcome.is_ok() {
                "success"
            } else {
                "error"
            },
            tool: cut_name(&call.name),
            authenticated_caller_id: caller.id().to_string(),
            caller_id: Some(call.client_id.clone().unwrap_or_else(|| "anonymous".into())),
            request_id: call.request_id.clone(),
            duration_ms: 0.0,
            arguments: serde_json::json!({"finding_id": item.finding_id}),
            findings_read_before_mutation: None,
            reason: item.outcome.err(),
        });
    }
    security.audit.record(&AuditRecord {
        timestamp: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        event_type,
        outcome: outcome_name,
        tool: cut_name(&call.name),
        authenticated_caller_id: caller.id().to_string(),
        // As the Python server: "anonymous" when the client names itself nowhere.
        caller_id: Some(call.client_id.unwrap_or_else(|| "anonymous".into())),
        request_id: call.request_id,
        duration_ms: started.elapsed().as_secs_f64() * 1000.0,
        arguments: sanitize_arguments(&Value::Object(call.arguments.unwrap_or_default())),
        findings_read_before_mutation: read_before,
        reason,
    });
    result
}

/// Every check before the tool runs. Nothing reaches DefectDojo unless all pass.
async fn admit(
    security: &Security,
    ctx: &ToolContext,
    tool: &ToolDef,
    caller: &Caller,
    arguments: &Value,
) -> Result<(), Denial> {
    if !caller.allows(tool.permission) {
        let role = match caller {
            Caller::Authenticated { role, .. } => role.as_str(),
            Caller::Open => "open",
        };
        return Err(Denial {
            event_type: "tool_denied",
            message: format!(
                "permission denied: {} needs the {} permission, which role {role} does not have",
                tool.name,
                tool.permission.as_str()
            ),
        });
    }
    validate_schema(security, tool, arguments)?;
    check_text_arguments(arguments)?;
    let changes = tool.changes_asked(arguments);
    if changes > 0 {
        if !security.audit.admits_mutations() {
            return Err(Denial {
                event_type: "audit_unavailable",
                message: "the audit trail cannot be written (AUDIT_FAIL_CLOSED=true): changes are refused until it can; reads still work".into(),
            });
        }
        check_stored_text(tool, arguments)?;
        // Asked before the limiter, so a declined change spends nothing.
        confirm(ctx, tool, arguments).await?;
        let key = match caller {
            Caller::Authenticated { id, .. } => id.as_str(),
            Caller::Open => OPEN_ACCESS_KEY,
        };
        match security.limiter.check_n(key, changes).await {
            Ok(()) => {}
            Err(LimitRefusal::Limited(limited)) => {
                return Err(Denial {
                    event_type: "rate_limited",
                    message: format!(
                        "rate limit exceeded — retry after {}s",
                        limited.retry_after_secs
                    ),
                })
            }
            Err(LimitRefusal::Unavailable) => return Err(Denial {
                event_type: "rate_limited",
                message:
                    "rate limiter unavailable — mutations are refused until it is back; retry later"
                        .into(),
            }),
        }
    }
    Ok(())
}

/// Asks the person to confirm a destructive or bulk change when the client supports elicitation;
/// a refusal (or no answer) changes nothing.
async fn confirm(ctx: &ToolContext, tool: &ToolDef, arguments: &Value) -> Result<(), Denial> {
    let Some(question) = tool.confirmation_question(arguments) else {
        return Ok(());
    };
    match ctx.confirm(question).await {
        None | Some(true) => Ok(()),
        Some(false) => Err(Denial {
            event_type: "not_confirmed",
            message: format!("{} was not confirmed; nothing changed", tool.name),
        }),
    }
}

/// Compiles a tool's published input schema. The schemas are ours and fixed: a unit test
/// compiles every one, so this cannot fail at run time.
fn compile_schema(tool: &ToolDef) -> jsonschema::Validator {
    jsonschema::options()
        .should_validate_formats(true)
        .build(&tool.published_input_schema())
        .unwrap_or_else(|e| panic!("input schema of {} does not compile: {e}", tool.name))
}

fn validate_schema(security: &Security, tool: &ToolDef, arguments: &Value) -> Result<(), Denial> {
    let validator = security.validators[tool.name].get_or_init(|| compile_schema(tool));
    let mut problems: Vec<String> = validator
        .iter_errors(arguments)
        .take(5)
        .map(|e| describe_violation(tool, &e))
        .collect();
    problems.dedup();
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Denial {
            event_type: "input_rejected",
            message: format!("invalid arguments: {}", problems.join("; ")),
        })
    }
}

/// One schema violation as "argument: what is wrong", never echoing a long value.
fn describe_violation(tool: &ToolDef, error: &jsonschema::ValidationError<'_>) -> String {
    use jsonschema::error::ValidationErrorKind as Kind;
    let path = error.instance_path().to_string();
    let argument = cut_name(&path.trim_start_matches('/').replace('/', "."));
    let accepted = || {
        let schema = tool.published_input_schema();
        let names: Vec<String> = schema["properties"]
            .as_object()
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default();
        names.join(", ")
    };
    let what = match error.kind() {
        // `additionalProperties: false` reports each extra argument at its own path.
        Kind::FalseSchema => {
            return format!(
                "unknown argument `{argument}`; {} takes: {}",
                tool.name,
                accepted()
            )
        }
        Kind::AdditionalProperties { unexpected } => {
            let names: Vec<String> = unexpected.iter().map(|n| cut_name(n)).collect();
            return format!(
                "unknown argument `{}`; {} takes: {}",
                names.join("`, `"),
                tool.name,
                accepted()
            );
        }
        Kind::Required { property } => {
            return format!(
                "missing required argument `{}`",
                property.as_str().map(cut_name).unwrap_or_default()
            )
        }
        // A nullable argument is `anyOf [T, null]`: say what is wrong against T.
        Kind::AnyOf { context } => context
            .iter()
            .find(|branch| !branch.iter().any(is_null_type_error))
            .and_then(|branch| branch.first())
            .map(|inner| violation_text(inner))
            .unwrap_or_else(|| "has the wrong type".into()),
        _ => violation_text(error),
    };
    if argument.is_empty() {
        what
    } else {
        format!("{argument}: {what}")
    }
}

fn is_null_type_error(error: &jsonschema::ValidationError<'_>) -> bool {
    use jsonschema::error::{TypeKind, ValidationErrorKind as Kind};
    matches!(error.kind(), Kind::Type { kind: TypeKind::Single(t) } if t.to_string() == "null")
}

/// What a violation means, in words that do not quote the value.
fn violation_text(error: &jsonschema::ValidationError<'_>) -> String {
    use jsonschema::error::{TypeKind, ValidationErrorKind as Kind};
    match error.kind() {
        Kind::Type {
            kind: TypeKind::Single(t),
        } => format!("must be of type {t}"),
        Kind::Type { .. } => "has the wrong type".into(),
        Kind::Minimum { limit } => format!("must be at least {limit}"),
        Kind::Maximum { limit } => format!("must be at most {limit}"),
        Kind::MinLength { limit } => format!("must be at least {limit} characters long"),
        Kind::MaxLength { limit } => format!("must be at most {limit} characters long"),
        Kind::MinItems { limit } => format!("must have at least {limit} items"),
        Kind::MaxItems { limit } => format!("must have at most {limit} items"),
        Kind::Enum { options } => format!("must be one of {options}"),
        Kind::Format { format } => format!("must be a valid {format}"),
        Kind::Pattern { pattern } => format!("must match the pattern {pattern}"),
        Kind::UniqueItems => "must not repeat items".into(),
        _ => {
            // Anything rarer: jsonschema's words, cut so a long value is not echoed in full.
            cut(&error.to_string(), 160)
        }
    }
}

/// Refuses NUL and other control characters (tab, newline and carriage return aside) in any
/// text argument, and blank text (no argument takes empty text, so blank is a mistake too).
/// DefectDojo cannot store NUL and trims blanks to nothing: refused here, nothing reaches it, so
/// a multi-step tool never fails half-way on such input.
fn check_text_arguments(arguments: &Value) -> Result<(), Denial> {
    fn walk(name: &str, value: &Value) -> Result<(), Denial> {
        match value {
            // Base64 report content: checked by decoding, and too large to walk for nothing.
            Value::String(_) if name == "file" => Ok(()),
            Value::String(s) => {
                if s.chars()
                    .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
                {
                    return Err(Denial {
                        event_type: "input_rejected",
                        message: format!(
                            "invalid arguments: {}: contains a NUL or control character; remove it and retry",
                            cut_name(name)
                        ),
                    });
                }
                if s.trim().is_empty() {
                    return Err(Denial {
                        event_type: "input_rejected",
                        message: format!(
                            "invalid arguments: {}: must not be blank",
                            cut_name(name)
                        ),
                    });
                }
                Ok(())
            }
            Value::Array(items) => items.iter().try_for_each(|v| walk(name, v)),
            Value::Object(map) => map.iter().try_for_each(|(k, v)| walk(k, v)),
            _ => Ok(()),
        }
    }
    walk("", arguments)
}

/// Refuses injection, tool-call syntax and secrets in the arguments the tool declares as stored
/// text, and bad tags.
fn check_stored_text(tool: &ToolDef, arguments: &Value) -> Result<(), Denial> {
    let Some(map) = arguments.as_object() else {
        return Ok(());
    };
    for (name, value) in map {
        if !tool.stored_text.contains(&name.as_str()) {
            continue;
        }
        if name == "tags" {
            for tag in value
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
            {
                if !content::tag_is_valid(tag) {
                    return Err(Denial {
                        event_type: "input_rejected",
                        message: "tags: only letters, digits, space and ._:/-+ are allowed".into(),
                    });
                }
                refuse_text("tags", tag)?;
            }
        } else if let Some(text) = value.as_str() {
            refuse_text(name, text)?;
        }
    }
    Ok(())
}

fn refuse_text(field: &str, text: &str) -> Result<(), Denial> {
    content::check_text(text).map_err(|refusal: Refusal| Denial {
        event_type: "input_rejected",
        message: format!(
            "{field}: refused as {} content; remove it and retry",
            refusal.as_str()
        ),
    })
}

fn success_result(security: &Security, mut value: Value) -> CallToolResult {
    if security.wrap_untrusted {
        content::wrap_untrusted(&mut value);
    }
    let mut text = serde_json::to_string(&value).unwrap_or_default();
    // One pass over the serialized answer (secrets are matched in their JSON-escaped spelling
    // too); the walk that scrubs each string runs only when there is something to scrub.
    if redact::contains_secret(&text) {
        redact::scrub_value(&mut value);
        text = serde_json::to_string(&value).unwrap_or_default();
    }
    let mut result = CallToolResult::success(vec![ContentBlock::text(text)]);
    if value.is_object() {
        result.structured_content = Some(value);
    }
    result
}

fn error_result(message: &str) -> CallToolResult {
    CallToolResult::error(vec![ContentBlock::text(
        redact::scrub(message).into_owned(),
    )])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_published_schema_compiles() {
        for tool in tools::TOOLS.iter() {
            let validator = compile_schema(tool);
            // An unknown argument is refused by every tool (additionalProperties: false).
            assert!(
                !validator.is_valid(&serde_json::json!({"no_such_argument": 1})),
                "{}",
                tool.name
            );
        }
    }
}
