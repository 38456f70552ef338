//! The `bulk_triage` toolset: close or tag many findings in one call. A call previews by default
//! (`dry_run`: what each finding is now, and what would change); with `dry_run: false` each
//! finding is one mutation to the rate limiter and has its own audit record. The limiter admits
//! the whole batch or none of it, so a refused batch changes nothing.

use super::args::default_true;
use super::findings::{attach_note, CloseReason};
use super::{to_json, Outcome, ToolContext, ToolDef, Toolset};
use dojo_sdk::call;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{json, Value};

const TOOLSET: Toolset = Toolset::BulkTriage;

pub(super) fn tools() -> Vec<ToolDef> {
    vec![
        ToolDef {
            per_item: Some("finding_ids"),
            previews: true,
            ..tool!(
                "bulk_close_findings", "Close many findings", BulkTriage, Destructive, paged: false,
                stored_text: ["note"], BulkClose, bulk_close_findings,
                "Close up to 100 findings with one reason and optional note. Previews unless dry_run is false; then each finding counts as one rate-limited, audited change."
            )
        },
        ToolDef {
            per_item: Some("finding_ids"),
            previews: true,
            ..tool!(
                "bulk_tag_findings", "Tag many findings", BulkTriage, Update, paged: false,
                stored_text: ["tags"], BulkTag, bulk_tag_findings,
                "Add tags to up to 100 findings. Previews unless dry_run is false; then each finding counts as one rate-limited, audited change."
            )
        },
    ]
}

/// Closing many findings.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkClose {
    /// Findings to close.
    #[schemars(length(min = 1, max = 100), inner(range(min = 1)))]
    pub finding_ids: Vec<i64>,
    /// Why they are closed.
    pub reason: CloseReason,
    /// Note attached to each.
    #[schemars(length(min = 1, max = 10000))]
    pub note: Option<String>,
    /// Only preview.
    #[serde(default = "default_true")]
    pub dry_run: bool,
}

/// Tagging many findings.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkTag {
    /// Findings to tag.
    #[schemars(length(min = 1, max = 100), inner(range(min = 1)))]
    pub finding_ids: Vec<i64>,
    /// Tags: letters, digits, space and `._:/-+`.
    #[schemars(
        length(min = 1, max = 50),
        inner(length(min = 1, max = 100), regex(pattern = r"^[A-Za-z0-9._:/\-+ ]+$"))
    )]
    pub tags: Vec<String>,
    /// Only preview.
    #[serde(default = "default_true")]
    pub dry_run: bool,
}

/// Each finding as it is now (GET /findings/{id}/), or why it cannot be read.
async fn preview(ctx: &ToolContext, ids: &[i64], would: impl Fn(&Value) -> Value) -> Value {
    let mut rows = Vec::new();
    for (done, id) in ids.iter().enumerate() {
        ctx.progress(done as f64, Some(ids.len() as f64), "reading findings");
        match call(ctx.dojo.read().findings_retrieve().id(*id).send()).await {
            Ok(f) => {
                ctx.remember_findings([Some(*id)]);
                let now = to_json(&f);
                rows.push(json!({
                    "finding_id": id,
                    "title": now["title"],
                    "severity": now["severity"],
                    "active": now["active"],
                    "tags": now["tags"],
                    "would": would(&now),
                }));
            }
            Err(e) => rows.push(json!({
                "finding_id": id,
                "error": crate::security::errors::describe(&e),
            })),
        }
    }
    json!({"dry_run": true, "findings": rows, "next": "call again with dry_run=false to apply"})
}

/// Unique ids in the order given.
fn unique(ids: &[i64]) -> Vec<i64> {
    let mut seen = std::collections::BTreeSet::new();
    ids.iter().copied().filter(|id| seen.insert(*id)).collect()
}

/// Preview, or the SDK's close for each finding, then its note.
async fn bulk_close_findings(ctx: &ToolContext, a: BulkClose) -> Outcome {
    let ids = unique(&a.finding_ids);
    if a.dry_run {
        let reason = json!(format!("close as {}", a.reason.as_str()));
        return Ok(preview(ctx, &ids, |now| {
            if now["active"] == json!(false) {
                json!("already inactive; closing again sets the reason's flags")
            } else {
                reason.clone()
            }
        })
        .await);
    }
    let mut closed = Vec::new();
    let mut failed = Vec::new();
    for (done, id) in ids.iter().enumerate() {
        ctx.progress(done as f64, Some(ids.len() as f64), "closing findings");
        match ctx.dojo.close_finding(*id, a.reason.to_sdk()).await {
            Ok(_) => {
                let mut row = json!({"finding_id": id, "closed": true});
                attach_note(ctx, *id, a.note.clone(), &mut row).await;
                ctx.record_item(*id, Ok(()));
                closed.push(row);
            }
            Err(e) => {
                let why = crate::security::errors::describe(&e);
                ctx.record_item(*id, Err(why.clone()));
                failed.push(json!({"finding_id": id, "error": why}));
            }
        }
    }
    Ok(json!({"dry_run": false, "closed": closed, "failed": failed}))
}

/// Preview, or the SDK's tag merge for each finding.
async fn bulk_tag_findings(ctx: &ToolContext, a: BulkTag) -> Outcome {
    let ids = unique(&a.finding_ids);
    if a.dry_run {
        let tags = a.tags.clone();
        return Ok(preview(ctx, &ids, |_| json!({"add_tags": tags})).await);
    }
    let mut tagged = Vec::new();
    let mut failed = Vec::new();
    for (done, id) in ids.iter().enumerate() {
        ctx.progress(done as f64, Some(ids.len() as f64), "tagging findings");
        match ctx.dojo.add_finding_tags(*id, &a.tags).await {
            Ok(tags) => {
                ctx.record_item(*id, Ok(()));
                tagged.push(json!({"finding_id": id, "tags": tags}));
            }
            Err(e) => {
                let why = crate::security::errors::describe(&e);
                ctx.record_item(*id, Err(why.clone()));
                failed.push(json!({"finding_id": id, "error": why}));
            }
        }
    }
    Ok(json!({"dry_run": false, "tagged": tagged, "failed": failed}))
}
