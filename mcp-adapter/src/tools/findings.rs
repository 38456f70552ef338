//! The `findings` toolset: findings, their notes and their tags.

use super::args::{default_true, paged_args, FindingId, Severity};
use super::{page, to_json, Outcome, ToolContext, ToolDef, ToolFailure, Toolset};
use dojo_sdk::{call, types};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{json, Value};

const TOOLSET: Toolset = Toolset::Findings;

pub(super) fn tools() -> Vec<ToolDef> {
    vec![
        tool!(
            "list_findings", "List findings", MetadataRead, Read, paged: true,
            stored_text: [], ListFindings, list_findings,
            "List findings with optional filters (test, product, engagement, severity, status flags, tags, component, title), a page at a time. Text written by scanners comes back wrapped as untrusted content."
        ),
        tool!(
            "get_finding", "Get a finding", MetadataRead, Read, paged: false,
            stored_text: [], FindingId, get_finding,
            "Get one finding by ID. Text written by scanners comes back wrapped as untrusted content."
        ),
        tool!(
            "create_finding", "Create a finding", FindingMgmt, Create, paged: false,
            stored_text: ["title", "description"], CreateFinding, create_finding,
            "Create a finding in a test. Rate-limited."
        ),
        tool!(
            "update_finding", "Update a finding", FindingMgmt, Update, paged: false,
            stored_text: ["title", "description"], UpdateFinding, update_finding,
            "Update fields of a finding; at least one field besides finding_id. Rate-limited."
        ),
        tool!(
            "close_finding", "Close a finding", FindingMgmt, Destructive, paged: false,
            stored_text: ["note"], CloseFinding, close_finding,
            "Close a finding as mitigated, false_positive, out_of_scope or duplicate, optionally with a note. If the note cannot be attached, the close stands and the result carries a warning. Rate-limited."
        ),
        tool!(
            "reopen_finding", "Reopen a finding", EngagementMgmt, Update, paged: false,
            stored_text: ["note"], ReopenFinding, reopen_finding,
            "Reopen a closed finding: active again, closed flags cleared; optionally with a note. Rate-limited."
        ),
        tool!(
            "add_finding_note", "Add a note to a finding", FindingMgmt, Create, paged: false,
            stored_text: ["entry"], AddFindingNote, add_finding_note,
            "Add a note to a finding. Rate-limited."
        ),
        tool!(
            "list_finding_notes", "List a finding's notes", MetadataRead, Read, paged: false,
            stored_text: [], FindingId, list_finding_notes,
            "List the notes of a finding. Note text comes back wrapped as untrusted content."
        ),
        tool!(
            "add_finding_tags", "Tag a finding", FindingMgmt, Update, paged: false,
            stored_text: ["tags"], FindingTags, add_finding_tags,
            "Add tags to a finding. Tags use letters, digits, space and ._:/-+ only. Rate-limited."
        ),
        tool!(
            "remove_finding_tags", "Untag a finding", FindingMgmt, Destructive, paged: false,
            stored_text: ["tags"], FindingTags, remove_finding_tags,
            "Remove tags from a finding; every tag must be on it. Rate-limited."
        ),
    ]
}

/// Why a finding is closed.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum CloseReason {
    /// The issue was fixed.
    Mitigated,
    /// The finding is not a real issue.
    FalsePositive,
    /// The finding is outside the assessment's scope.
    OutOfScope,
    /// The finding duplicates another one.
    Duplicate,
}

impl CloseReason {
    /// The reason as the tools spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            CloseReason::Mitigated => "mitigated",
            CloseReason::FalsePositive => "false_positive",
            CloseReason::OutOfScope => "out_of_scope",
            CloseReason::Duplicate => "duplicate",
        }
    }

    /// The SDK's close reason.
    pub fn to_sdk(self) -> dojo_sdk::CloseReason {
        match self {
            CloseReason::Mitigated => dojo_sdk::CloseReason::Mitigated,
            CloseReason::FalsePositive => dojo_sdk::CloseReason::FalsePositive,
            CloseReason::OutOfScope => dojo_sdk::CloseReason::OutOfScope,
            CloseReason::Duplicate => dojo_sdk::CloseReason::Duplicate,
        }
    }
}

paged_args!(
    /// Finding filters (all optional) and paging.
    ListFindings {
        /// Test ID.
        #[schemars(range(min = 1))]
        pub test_id: Option<i64>,
        /// Product ID.
        #[schemars(range(min = 1))]
        pub product_id: Option<i64>,
        /// Engagement ID.
        #[schemars(range(min = 1))]
        pub engagement_id: Option<i64>,
        /// Severity.
        pub severity: Option<Severity>,
        /// Active.
        pub active: Option<bool>,
        /// Verified.
        pub verified: Option<bool>,
        /// Duplicate.
        pub duplicate: Option<bool>,
        /// False positive.
        pub false_p: Option<bool>,
        /// Out of scope.
        pub out_of_scope: Option<bool>,
        /// Mitigated.
        pub is_mitigated: Option<bool>,
        /// Risk accepted.
        pub risk_accepted: Option<bool>,
        /// Any of these tags.
        #[schemars(length(max = 50), inner(length(min = 1, max = 100)))]
        pub tags: Option<Vec<String>>,
        /// Past its SLA.
        pub outside_of_sla: Option<bool>,
        /// Component name contains.
        #[schemars(length(min = 1, max = 200))]
        pub component_name: Option<String>,
        /// Title contains.
        #[schemars(length(min = 1, max = 200))]
        pub title: Option<String>,
    }
);

/// A new finding.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateFinding {
    /// ID of the test.
    #[schemars(range(min = 1))]
    pub test_id: i64,
    /// Title.
    #[schemars(length(min = 1, max = 200))]
    pub title: String,
    /// Severity.
    pub severity: Severity,
    /// What was found.
    #[schemars(length(min = 1, max = 10000))]
    pub description: String,
    /// Active.
    #[serde(default = "default_true")]
    pub active: bool,
    /// Verified.
    #[serde(default)]
    pub verified: bool,
}

/// Changes to a finding; at least one field.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateFinding {
    /// ID of the finding.
    #[schemars(range(min = 1))]
    pub finding_id: i64,
    /// Title.
    #[schemars(length(min = 1, max = 200))]
    pub title: Option<String>,
    /// Severity.
    pub severity: Option<Severity>,
    /// Description.
    #[schemars(length(min = 1, max = 10000))]
    pub description: Option<String>,
    /// Active.
    pub active: Option<bool>,
    /// Verified.
    pub verified: Option<bool>,
    /// False positive.
    pub false_p: Option<bool>,
    /// Duplicate.
    pub duplicate: Option<bool>,
    /// Out of scope.
    pub out_of_scope: Option<bool>,
    /// Mitigated.
    pub is_mitigated: Option<bool>,
}

/// Closing a finding.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseFinding {
    /// ID of the finding.
    #[schemars(range(min = 1))]
    pub finding_id: i64,
    /// Why it is closed.
    pub reason: CloseReason,
    /// Note attached after the close.
    #[schemars(length(min = 1, max = 10000))]
    pub note: Option<String>,
}

/// Reopening a finding.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReopenFinding {
    /// ID of the finding.
    #[schemars(range(min = 1))]
    pub finding_id: i64,
    /// Note attached after reopening.
    #[schemars(length(min = 1, max = 10000))]
    pub note: Option<String>,
}

/// A note on a finding.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AddFindingNote {
    /// ID of the finding.
    #[schemars(range(min = 1))]
    pub finding_id: i64,
    /// The note's text.
    #[schemars(length(min = 1, max = 10000))]
    pub entry: String,
    /// Visible only to privileged users.
    #[serde(default)]
    pub private: bool,
}

/// Tags on a finding.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FindingTags {
    /// ID of the finding.
    #[schemars(range(min = 1))]
    pub finding_id: i64,
    /// Tags: letters, digits, space and `._:/-+`.
    #[schemars(
        length(min = 1, max = 50),
        inner(length(min = 1, max = 100), regex(pattern = r"^[A-Za-z0-9._:/\-+ ]+$"))
    )]
    pub tags: Vec<String>,
}

/// GET /findings/ with the filters given.
async fn list_findings(ctx: &ToolContext, a: ListFindings) -> Outcome {
    let mut q = ctx
        .dojo
        .read()
        .findings_list()
        .limit(a.limit)
        .offset(a.offset);
    if let Some(v) = a.test_id {
        q = q.test(v);
    }
    if let Some(v) = a.engagement_id {
        q = q.test_engagement(vec![v]);
    }
    if let Some(v) = a.product_id {
        q = q.test_engagement_product(vec![v]);
    }
    if let Some(v) = a.severity {
        q = q.severity(v.as_str());
    }
    macro_rules! flags {
        ($($f:ident),*) => {$( if let Some(v) = a.$f { q = q.$f(v); } )*};
    }
    flags!(
        active,
        verified,
        duplicate,
        false_p,
        out_of_scope,
        is_mitigated,
        risk_accepted
    );
    if let Some(v) = a.outside_of_sla {
        q = q.outside_of_sla(i64::from(v));
    }
    if let Some(v) = a.tags {
        q = q.tags(v);
    }
    if let Some(v) = a.component_name {
        q = q.component_name(v);
    }
    if let Some(v) = a.title {
        q = q.title(v);
    }
    let p = call(q.send()).await?;
    ctx.remember_findings(p.results.iter().map(|f| f.id));
    Ok(page(p, a.limit, a.offset))
}

/// GET /findings/{id}/.
async fn get_finding(ctx: &ToolContext, a: FindingId) -> Outcome {
    let f = call(ctx.dojo.read().findings_retrieve().id(a.finding_id).send()).await?;
    ctx.remember_findings([Some(a.finding_id)]);
    Ok(to_json(&f))
}

/// POST /findings/, found by DEFECTDOJO_DEFAULT_FOUND_BY_ID.
async fn create_finding(ctx: &ToolContext, a: CreateFinding) -> Outcome {
    let body = types::builder::FindingCreateRequest::default()
        .test(a.test_id)
        .title(a.title)
        .severity(a.severity.as_str())
        .numerical_severity(a.severity.numerical())
        .description(a.description)
        .active(a.active)
        .verified(a.verified)
        .found_by(vec![ctx.default_found_by_id]);
    Ok(to_json(
        &call(ctx.dojo.write().findings_create().body(body).send()).await?,
    ))
}

/// PATCH /findings/{id}/ with the fields given (severity with its numerical twin).
async fn update_finding(ctx: &ToolContext, a: UpdateFinding) -> Outcome {
    let mut body = types::builder::PatchedFindingRequest::default();
    let mut changed = false;
    let invalid = |field: &str| ToolFailure::bad(format!("{field}: invalid"));
    if let Some(v) = a.title {
        body = body.title(Some(v.as_str().try_into().map_err(|_| invalid("title"))?));
        changed = true;
    }
    if let Some(v) = a.severity {
        body = body
            .severity(Some(
                v.as_str().try_into().map_err(|_| invalid("severity"))?,
            ))
            .numerical_severity(Some(
                v.numerical().try_into().map_err(|_| invalid("severity"))?,
            ));
        changed = true;
    }
    if let Some(v) = a.description {
        body = body.description(Some(
            v.as_str().try_into().map_err(|_| invalid("description"))?,
        ));
        changed = true;
    }
    macro_rules! flags {
        ($($f:ident),*) => {$( if let Some(v) = a.$f { body = body.$f(Some(v)); changed = true; } )*};
    }
    flags!(
        active,
        verified,
        false_p,
        duplicate,
        out_of_scope,
        is_mitigated
    );
    if !changed {
        return Err(ToolFailure::bad(
            "give at least one field to change besides finding_id",
        ));
    }
    let q = ctx.dojo.write().findings_partial_update().id(a.finding_id);
    Ok(to_json(&call(q.body(body).send()).await?))
}

/// Attaches a note after a status change; a failure becomes a warning, the change stands.
pub(super) async fn attach_note(
    ctx: &ToolContext,
    id: i64,
    note: Option<String>,
    result: &mut Value,
) {
    if let Some(note) = note {
        if let Err(e) = ctx.dojo.add_finding_note(id, &note, false).await {
            result["warning"] = json!(format!(
                "the finding's status changed, but the note was not attached: {}",
                crate::security::errors::describe(&e)
            ));
        } else {
            result["note_attached"] = json!(true);
        }
    }
}

/// The SDK's close (PATCH with the reason's flags), then the note.
async fn close_finding(ctx: &ToolContext, a: CloseFinding) -> Outcome {
    let closed = ctx
        .dojo
        .close_finding(a.finding_id, a.reason.to_sdk())
        .await?;
    let mut result =
        json!({"finding_id": a.finding_id, "closed": true, "finding": to_json(&closed)});
    attach_note(ctx, a.finding_id, a.note, &mut result).await;
    Ok(result)
}

/// The SDK's reopen (active again, closed flags cleared), then the note.
async fn reopen_finding(ctx: &ToolContext, a: ReopenFinding) -> Outcome {
    let f = ctx.dojo.reopen_finding(a.finding_id).await?;
    let mut result = json!({"finding_id": a.finding_id, "reopened": true, "finding": to_json(&f)});
    attach_note(ctx, a.finding_id, a.note, &mut result).await;
    Ok(result)
}

/// POST /findings/{id}/notes/.
async fn add_finding_note(ctx: &ToolContext, a: AddFindingNote) -> Outcome {
    let note = ctx
        .dojo
        .add_finding_note(a.finding_id, &a.entry, a.private)
        .await?;
    Ok(json!({"finding_id": a.finding_id, "note": to_json(&note)}))
}

/// GET /findings/{id}/notes/.
async fn list_finding_notes(ctx: &ToolContext, a: FindingId) -> Outcome {
    let q = ctx.dojo.read().findings_notes_retrieve().id(a.finding_id);
    let notes = call(q.send()).await?;
    ctx.remember_findings([Some(a.finding_id)]);
    Ok(json!({"finding_id": a.finding_id, "notes": to_json(&notes.notes)}))
}

/// The SDK's tag merge (read, union, PATCH).
async fn add_finding_tags(ctx: &ToolContext, a: FindingTags) -> Outcome {
    let tags = ctx.dojo.add_finding_tags(a.finding_id, &a.tags).await?;
    Ok(json!({"finding_id": a.finding_id, "tags": tags}))
}

/// POST /findings/{id}/remove_tags/.
async fn remove_finding_tags(ctx: &ToolContext, a: FindingTags) -> Outcome {
    ctx.dojo.remove_finding_tags(a.finding_id, &a.tags).await?;
    Ok(json!({"finding_id": a.finding_id, "removed": a.tags}))
}
