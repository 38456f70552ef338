//! The `risk_acceptance` toolset: DefectDojo's risk acceptances, listed, read, created, expired
//! and reinstated.
//!
//! DefectDojo's API has no expire or reinstate action (its UI does), so both are built from what
//! the API does offer, following what DefectDojo's own `expire_now` and `reinstate` do:
//! * every PATCH of an acceptance sends its findings again: DefectDojo removes from an acceptance
//!   every finding a PATCH leaves out;
//! * expiring sets the expiration date to now, then, when the acceptance says
//!   `reactivate_expired`, unaccepts each finding (`risk_accepted: false`), which makes it active
//!   again and takes it off the acceptance with a note on the finding, and last marks the expiry
//!   handled;
//! * reinstating puts the findings back (those still on it, or those given), sets the new expiry
//!   and clears the expiry marks in one PATCH (the SDK's `reinstate_risk_acceptance`, as the
//!   generated PATCH cannot send the nulls); DefectDojo accepts the findings again.

use super::args::{default_true, paged_args};
use super::{page, to_json, Outcome, ToolContext, ToolDef, ToolFailure, Toolset};
use chrono::{DateTime, NaiveDate, Utc};
use dojo_sdk::{call, types};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;

const TOOLSET: Toolset = Toolset::RiskAcceptance;

pub(super) fn tools() -> Vec<ToolDef> {
    vec![
        tool!(
            "list_risk_acceptances", "List risk acceptances", MetadataRead, Read, paged: true,
            stored_text: [], ListRiskAcceptances, list_risk_acceptances,
            "List risk acceptances, a page at a time; optionally only those of one finding."
        ),
        tool!(
            "get_risk_acceptance", "Get a risk acceptance", MetadataRead, Read, paged: false,
            stored_text: [], RiskAcceptanceId, get_risk_acceptance,
            "Get one risk acceptance: its findings, owner, decision and expiry."
        ),
        // Each finding accepted is one change to the rate limiter (and more than one asks for
        // confirmation), as for the bulk tools.
        ToolDef {
            per_item: Some("finding_ids"),
            ..tool!(
                "create_risk_acceptance", "Accept the risk of findings", RiskMgmt, Create, paged: false,
                stored_text: ["name", "decision_details", "accepted_by"], CreateRiskAcceptance, create_risk_acceptance,
                "Accept the risk of findings of one engagement until an expiry date: they become inactive and risk accepted. Rate-limited per finding."
            )
        },
        tool!(
            "expire_risk_acceptance", "Expire a risk acceptance now", RiskMgmt, Destructive, paged: false,
            stored_text: [], RiskAcceptanceId, expire_risk_acceptance,
            "End a risk acceptance now. If it reactivates on expiry (the default), its findings become active again and leave it. Rate-limited."
        ),
        ToolDef {
            per_item: Some("finding_ids"),
            ..tool!(
                "reinstate_risk_acceptance", "Reinstate an expired risk acceptance", RiskMgmt, Update, paged: false,
                stored_text: [], ReinstateRiskAcceptance, reinstate_risk_acceptance,
                "Reinstate an expired risk acceptance: its findings (or those given) are accepted again until a new expiry. Rate-limited per finding given."
            )
        },
    ]
}

paged_args!(
    /// Risk acceptances wanted.
    ListRiskAcceptances {
        /// Only those holding this finding.
        #[schemars(range(min = 1))]
        pub finding_id: Option<i64>,
    }
);

/// One risk acceptance.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RiskAcceptanceId {
    /// ID of the risk acceptance.
    #[schemars(range(min = 1))]
    pub risk_acceptance_id: i64,
}

/// The risk treatment decided.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// The risk is acknowledged and stays.
    Accept,
    /// The risk is avoided (the feature or system goes).
    Avoid,
    /// The risk is reduced by compensating controls.
    Mitigate,
    /// The risk is fixed.
    Fix,
    /// The risk is transferred (insurance, vendor).
    Transfer,
}

impl Decision {
    fn to_dojo(self) -> types::RiskAcceptanceRequestDecision {
        use types::RiskAcceptanceRequestDecision as D;
        match self {
            Decision::Accept => D::A,
            Decision::Avoid => D::V,
            Decision::Mitigate => D::M,
            Decision::Fix => D::F,
            Decision::Transfer => D::T,
        }
    }
}

/// A new risk acceptance.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRiskAcceptance {
    /// Name.
    #[schemars(length(min = 1, max = 300))]
    pub name: String,
    /// DefectDojo user ID of the risk owner.
    #[schemars(range(min = 1))]
    pub owner_id: i64,
    /// Expiry date; the findings come back then.
    pub expiration_date: NaiveDate,
    /// Findings accepted, all of one engagement.
    #[schemars(length(min = 1, max = 100), inner(range(min = 1)))]
    pub finding_ids: Vec<i64>,
    /// Treatment.
    #[serde(default = "accept")]
    pub decision: Decision,
    /// Why, and the compensating controls.
    #[schemars(length(min = 1, max = 10000))]
    pub decision_details: Option<String>,
    /// Who accepts the risk (may be outside DefectDojo).
    #[schemars(length(min = 1, max = 200))]
    pub accepted_by: Option<String>,
    /// Reactivate the findings on expiry.
    #[serde(default = "default_true")]
    pub reactivate_expired: bool,
}

fn accept() -> Decision {
    Decision::Accept
}

/// Days a reinstated acceptance holds when no date is given (DefectDojo's own default).
const DEFAULT_DAYS: i64 = 90;

/// Reinstating an expired risk acceptance.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReinstateRiskAcceptance {
    /// ID of the risk acceptance.
    #[schemars(range(min = 1))]
    pub risk_acceptance_id: i64,
    /// Findings to accept again; default those still on it.
    #[schemars(length(min = 1, max = 100), inner(range(min = 1)))]
    pub finding_ids: Option<Vec<i64>>,
    /// New expiry date; default in 90 days.
    pub expiration_date: Option<NaiveDate>,
}

/// End of `date`, UTC: an acceptance holds through its last day.
fn end_of(date: NaiveDate, field: &str) -> Result<DateTime<Utc>, ToolFailure> {
    date.and_hms_opt(23, 59, 59)
        .map(|t| t.and_utc())
        .ok_or_else(|| ToolFailure::bad(format!("{field}: out of range")))
}

/// GET /risk_acceptance/.
async fn list_risk_acceptances(ctx: &ToolContext, a: ListRiskAcceptances) -> Outcome {
    let mut q = ctx
        .dojo
        .read()
        .risk_acceptance_list()
        .limit(a.limit)
        .offset(a.offset);
    if let Some(f) = a.finding_id {
        q = q.accepted_findings(vec![f]);
    }
    Ok(page(call(q.send()).await?, a.limit, a.offset))
}

/// GET /risk_acceptance/{id}/.
async fn get_risk_acceptance(ctx: &ToolContext, a: RiskAcceptanceId) -> Outcome {
    let q = ctx
        .dojo
        .read()
        .risk_acceptance_retrieve()
        .id(a.risk_acceptance_id);
    Ok(to_json(&call(q.send()).await?))
}

/// POST /risk_acceptance/.
async fn create_risk_acceptance(ctx: &ToolContext, a: CreateRiskAcceptance) -> Outcome {
    if a.expiration_date < Utc::now().date_naive() {
        return Err(ToolFailure::bad("expiration_date: must not be in the past"));
    }
    let mut findings = a.finding_ids.clone();
    findings.sort_unstable();
    findings.dedup();
    let mut body = types::builder::RiskAcceptanceRequest::default()
        .name(a.name.as_str())
        .owner(a.owner_id)
        .accepted_findings(findings)
        .expiration_date(Some(end_of(a.expiration_date, "expiration_date")?))
        .decision(Some(a.decision.to_dojo()))
        .reactivate_expired(Some(a.reactivate_expired))
        .decision_details(a.decision_details);
    if let Some(by) = a.accepted_by {
        let by = by
            .as_str()
            .try_into()
            .map_err(|_| ToolFailure::bad("accepted_by: too long"))?;
        body = body.accepted_by(Some(by));
    }
    let created = call(ctx.dojo.write().risk_acceptance_create().body(body).send()).await?;
    Ok(to_json(&created))
}

/// PATCH /risk_acceptance/{id}/ with its findings always sent (see the module doc).
async fn patch_acceptance(
    ctx: &ToolContext,
    id: i64,
    findings: Vec<i64>,
    change: impl FnOnce(
        types::builder::PatchedRiskAcceptanceRequest,
    ) -> types::builder::PatchedRiskAcceptanceRequest,
) -> Result<types::RiskAcceptance, ToolFailure> {
    let body =
        change(types::builder::PatchedRiskAcceptanceRequest::default().accepted_findings(findings));
    let q = ctx
        .dojo
        .write()
        .risk_acceptance_partial_update()
        .id(id)
        .body(body);
    Ok(call(q.send()).await?)
}

/// GET, PATCH the expiry to now, unaccept each finding (PATCH /findings/{id}/), PATCH handled.
async fn expire_risk_acceptance(ctx: &ToolContext, a: RiskAcceptanceId) -> Outcome {
    let id = a.risk_acceptance_id;
    let current = call(ctx.dojo.read().risk_acceptance_retrieve().id(id).send()).await?;
    if let Some(handled) = current.expiration_date_handled {
        return Err(ToolFailure::bad(format!(
            "risk_acceptance_id: already expired ({handled}); reinstate_risk_acceptance brings it back"
        )));
    }
    let now = Utc::now();
    let findings = current.accepted_findings.clone();
    patch_acceptance(ctx, id, findings.clone(), |b| b.expiration_date(Some(now))).await?;
    let mut reactivated = Vec::new();
    let mut not_reactivated = Vec::new();
    if current.reactivate_expired.unwrap_or(true) {
        for (done, finding) in findings.iter().enumerate() {
            ctx.progress(
                done as f64,
                Some(findings.len() as f64),
                "reactivating findings",
            );
            let body = types::builder::PatchedFindingRequest::default().risk_accepted(Some(false));
            let q = ctx
                .dojo
                .write()
                .findings_partial_update()
                .id(*finding)
                .body(body);
            match call(q.send()).await {
                Ok(_) => reactivated.push(*finding),
                Err(e) => not_reactivated.push(json!({
                    "finding_id": finding,
                    "error": crate::security::errors::describe(&e),
                })),
            }
        }
    }
    let remaining: Vec<i64> = findings
        .iter()
        .copied()
        .filter(|f| !reactivated.contains(f))
        .collect();
    let expired =
        patch_acceptance(ctx, id, remaining, |b| b.expiration_date_handled(Some(now))).await?;
    let mut result = json!({
        "risk_acceptance": to_json(&expired),
        "expired": true,
        "reactivated_findings": reactivated,
    });
    if !not_reactivated.is_empty() {
        result["warning"] =
            json!("the acceptance expired, but some findings could not be reactivated");
        result["not_reactivated"] = json!(not_reactivated);
    }
    Ok(result)
}

/// GET, then the SDK's reinstate: one PATCH with the findings, the new expiry and the expiry
/// marks cleared.
async fn reinstate_risk_acceptance(ctx: &ToolContext, a: ReinstateRiskAcceptance) -> Outcome {
    let id = a.risk_acceptance_id;
    let current = call(ctx.dojo.read().risk_acceptance_retrieve().id(id).send()).await?;
    let now = Utc::now();
    let expired = current.expiration_date_handled.is_some()
        || current.expiration_date.is_some_and(|d| d <= now);
    if !expired {
        return Err(ToolFailure::bad(
            "risk_acceptance_id: not expired; nothing to reinstate",
        ));
    }
    let mut findings = current.accepted_findings.clone();
    findings.extend(a.finding_ids.iter().flatten());
    findings.sort_unstable();
    findings.dedup();
    if findings.is_empty() {
        return Err(ToolFailure::bad(
            "finding_ids: the acceptance holds no findings any more (its expiry reactivated them); name the findings to accept again",
        ));
    }
    if let Some(date) = a.expiration_date {
        if date < now.date_naive() {
            return Err(ToolFailure::bad("expiration_date: must not be in the past"));
        }
    }
    // DefectDojo's own expiry leaves reactivated findings on the acceptance, and its PATCH only
    // accepts findings new to it: take those off first, so the reinstating PATCH accepts them.
    let mut stale = Vec::new();
    for f in &current.accepted_findings {
        let finding = call(ctx.dojo.read().findings_retrieve().id(*f).send()).await?;
        if finding.active == Some(true) || finding.risk_accepted != Some(true) {
            stale.push(*f);
        }
    }
    if !stale.is_empty() {
        let keep: Vec<i64> = current
            .accepted_findings
            .iter()
            .copied()
            .filter(|f| !stale.contains(f))
            .collect();
        patch_acceptance(ctx, id, keep, |b| b).await?;
    }
    let until = match a.expiration_date {
        Some(date) => end_of(date, "expiration_date")?,
        None => now + chrono::Duration::days(DEFAULT_DAYS),
    };
    let reinstated = ctx
        .dojo
        .reinstate_risk_acceptance(id, &findings, until)
        .await?;
    Ok(json!({"risk_acceptance": to_json(&reinstated), "reinstated": true, "findings": findings}))
}
