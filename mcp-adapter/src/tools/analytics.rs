//! The `analytics` toolset: figures the server computes from DefectDojo's findings, which its API
//! does not offer (counts by severity and status, SLA breaches, top CWEs, criticals by CVE, mean
//! time to fix). Each tool reads findings page by page, at most [`MAX_FINDINGS`], and says when it
//! stopped short.

use super::args::Severity;
use super::{Outcome, ToolContext, ToolDef, ToolFailure, Toolset};
use chrono::NaiveDate;
use dojo_sdk::generated::builder::FindingsList;
use dojo_sdk::{call, types};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet};

const TOOLSET: Toolset = Toolset::Analytics;

/// The most findings one analytics call reads (ten pages of 1000).
pub const MAX_FINDINGS: usize = 10_000;
const PAGE: i64 = 1000;

pub(super) fn tools() -> Vec<ToolDef> {
    vec![
        tool!(
            "finding_counts", "Count findings by severity and status", Analytics, Read, paged: false,
            stored_text: [], Scope, finding_counts,
            "Count findings per product by severity and status (active, verified, mitigated, false positive, risk accepted, out of scope, duplicate)."
        ),
        tool!(
            "sla_breaches", "Findings past their SLA", Analytics, Read, paged: false,
            stored_text: [], SlaBreaches, sla_breaches,
            "Active findings past their SLA, most overdue first, with the days overdue."
        ),
        tool!(
            "top_cwes", "Most frequent CWEs", Analytics, Read, paged: false,
            stored_text: [], TopCwes, top_cwes,
            "The CWEs with the most active findings, with counts by severity."
        ),
        tool!(
            "criticals_by_cve", "Active criticals grouped by CVE", Analytics, Read, paged: false,
            stored_text: [], CriticalsByCve, criticals_by_cve,
            "Active findings of one severity (default Critical) grouped by vulnerability ID (CVE) across products."
        ),
        tool!(
            "mean_time_to_fix", "Mean time to fix", Analytics, Read, paged: false,
            stored_text: [], TimeToFix, mean_time_to_fix,
            "Mean and median days from discovery to mitigation, by severity, for findings mitigated in a period."
        ),
    ]
}

/// Which findings to count.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Scope {
    /// Only this product; default all.
    #[schemars(range(min = 1))]
    pub product_id: Option<i64>,
}

/// SLA breaches wanted.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SlaBreaches {
    /// Only this product.
    #[schemars(range(min = 1))]
    pub product_id: Option<i64>,
    /// Only this severity.
    pub severity: Option<Severity>,
    /// How many.
    #[serde(default = "twenty")]
    #[schemars(range(min = 1, max = 100))]
    pub limit: usize,
}

/// Top CWEs wanted.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TopCwes {
    /// Only this product.
    #[schemars(range(min = 1))]
    pub product_id: Option<i64>,
    /// How many.
    #[serde(default = "ten")]
    #[schemars(range(min = 1, max = 100))]
    pub limit: usize,
}

/// CVE grouping wanted.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CriticalsByCve {
    /// Severity.
    #[serde(default = "critical")]
    pub severity: Severity,
    /// How many CVEs.
    #[serde(default = "twenty")]
    #[schemars(range(min = 1, max = 100))]
    pub limit: usize,
}

/// The period of a time-to-fix figure.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TimeToFix {
    /// First day of the period.
    pub since: NaiveDate,
    /// Last day of the period; default today.
    pub until: Option<NaiveDate>,
    /// Only this product.
    #[schemars(range(min = 1))]
    pub product_id: Option<i64>,
}

fn ten() -> usize {
    10
}
fn twenty() -> usize {
    20
}
fn critical() -> Severity {
    Severity::Critical
}

/// Per severity, per status, how many findings.
type SeverityCounts = BTreeMap<String, BTreeMap<&'static str, u64>>;

/// Findings read for one figure.
struct Collected {
    findings: Vec<types::Finding>,
    /// How many DefectDojo says match.
    matching: i64,
}

impl Collected {
    /// What every analytics answer says about its input.
    fn coverage(&self) -> Value {
        json!({
            "findings_read": self.findings.len(),
            "findings_matching": self.matching,
            "complete": self.findings.len() as i64 >= self.matching,
        })
    }
}

/// Reads the findings `filter` selects, page by page, at most [`MAX_FINDINGS`], reporting
/// progress.
async fn collect<'a>(
    ctx: &'a ToolContext,
    filter: impl Fn(FindingsList<'a>) -> FindingsList<'a>,
) -> Result<Collected, ToolFailure> {
    let mut findings = Vec::new();
    let mut matching;
    loop {
        let q = filter(ctx.dojo.read().findings_list())
            .limit(PAGE)
            .offset(findings.len() as i64);
        let page = call(q.send()).await?;
        matching = page.count;
        let more = page.next.is_some() && !page.results.is_empty();
        findings.extend(page.results);
        ctx.progress(
            findings.len() as f64,
            Some(matching.min(MAX_FINDINGS as i64) as f64),
            format!("read {} of {} findings", findings.len(), matching),
        );
        if !more || findings.len() >= MAX_FINDINGS {
            break;
        }
    }
    findings.truncate(MAX_FINDINGS);
    Ok(Collected { findings, matching })
}

/// The product of a finding read with `related_fields=true`: (id, name).
fn product_of(f: &types::Finding) -> Option<(i64, String)> {
    let related = serde_json::to_value(f.related_fields.as_ref()?).ok()?;
    let product = related.pointer("/test/engagement/product")?;
    Some((
        product.get("id")?.as_i64()?,
        product
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
    ))
}

fn flag(v: Option<bool>) -> bool {
    v.unwrap_or(false)
}

/// The severity as DefectDojo spells it.
fn severity_of(f: &types::Finding) -> String {
    f.severity.to_string()
}

/// GET /findings/?related_fields=true, counted per product, severity and status.
async fn finding_counts(ctx: &ToolContext, a: Scope) -> Outcome {
    let read = collect(ctx, |q| {
        let q = q.related_fields(true);
        match a.product_id {
            Some(p) => q.test_engagement_product(vec![p]),
            None => q,
        }
    })
    .await?;
    let mut products: BTreeMap<i64, (String, SeverityCounts)> = BTreeMap::new();
    for f in &read.findings {
        let (id, name) = product_of(f).unwrap_or((0, "unknown".into()));
        let (_, by_severity) = products
            .entry(id)
            .or_insert_with(|| (name, BTreeMap::new()));
        let counts = by_severity.entry(severity_of(f)).or_default();
        let statuses = [
            ("total", true),
            ("active", flag(f.active)),
            ("verified", flag(f.verified)),
            ("mitigated", flag(f.is_mitigated)),
            ("false_positive", flag(f.false_p)),
            ("risk_accepted", flag(f.risk_accepted)),
            ("out_of_scope", flag(f.out_of_scope)),
            ("duplicate", flag(f.duplicate)),
        ];
        for (status, on) in statuses {
            if on {
                *counts.entry(status).or_default() += 1;
            }
        }
    }
    let products: Vec<Value> = products
        .into_iter()
        .map(|(id, (name, by_severity))| {
            json!({"product_id": id, "product_name": name, "by_severity": by_severity})
        })
        .collect();
    Ok(json!({"products": products, "coverage": read.coverage()}))
}

/// GET /findings/?active=true&outside_of_sla=1, sorted by days overdue.
async fn sla_breaches(ctx: &ToolContext, a: SlaBreaches) -> Outcome {
    let read = collect(ctx, |q| {
        let mut q = q.active(true).outside_of_sla(1).related_fields(true);
        if let Some(p) = a.product_id {
            q = q.test_engagement_product(vec![p]);
        }
        if let Some(s) = a.severity {
            q = q.severity(s.as_str());
        }
        q
    })
    .await?;
    let mut breaches: Vec<(i64, &types::Finding)> = read
        .findings
        .iter()
        .filter_map(|f| f.sla_days_remaining.filter(|d| *d < 0).map(|d| (-d, f)))
        .collect();
    breaches.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.id.cmp(&b.1.id)));
    let total = breaches.len();
    let listed: Vec<Value> = breaches
        .into_iter()
        .take(a.limit)
        .map(|(overdue, f)| {
            let product = product_of(f);
            json!({
                "finding_id": f.id,
                "title": f.title.to_string(),
                "severity": severity_of(f),
                "days_overdue": overdue,
                "sla_expiration_date": f.sla_expiration_date,
                "product_id": product.as_ref().map(|p| p.0),
                "product_name": product.map(|p| p.1),
            })
        })
        .collect();
    ctx.remember_findings(listed.iter().map(|v| v["finding_id"].as_i64()));
    Ok(json!({"breaches": listed, "breaches_found": total, "coverage": read.coverage()}))
}

/// GET /findings/?active=true, grouped by CWE.
async fn top_cwes(ctx: &ToolContext, a: TopCwes) -> Outcome {
    let read = collect(ctx, |q| {
        let q = q.active(true);
        match a.product_id {
            Some(p) => q.test_engagement_product(vec![p]),
            None => q,
        }
    })
    .await?;
    let mut by_cwe: BTreeMap<i32, BTreeMap<String, u64>> = BTreeMap::new();
    for f in &read.findings {
        if let Some(cwe) = f.cwe.filter(|c| *c > 0) {
            *by_cwe
                .entry(cwe)
                .or_default()
                .entry(severity_of(f))
                .or_default() += 1;
        }
    }
    let mut ranked: Vec<(u64, i32, BTreeMap<String, u64>)> = by_cwe
        .into_iter()
        .map(|(cwe, sev)| (sev.values().sum(), cwe, sev))
        .collect();
    ranked.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let top: Vec<Value> = ranked
        .into_iter()
        .take(a.limit)
        .map(|(n, cwe, sev)| json!({"cwe": cwe, "findings": n, "by_severity": sev}))
        .collect();
    Ok(json!({"cwes": top, "coverage": read.coverage()}))
}

/// GET /findings/?active=true&severity=..&related_fields=true, grouped by vulnerability ID.
async fn criticals_by_cve(ctx: &ToolContext, a: CriticalsByCve) -> Outcome {
    let read = collect(ctx, |q| {
        q.active(true)
            .severity(a.severity.as_str())
            .related_fields(true)
    })
    .await?;
    let mut by_id: BTreeMap<String, (BTreeSet<i64>, BTreeMap<i64, String>)> = BTreeMap::new();
    let mut without_id = 0;
    for f in &read.findings {
        let ids: BTreeSet<String> = f
            .vulnerability_ids
            .iter()
            .filter_map(|v| serde_json::to_value(v).ok())
            .filter_map(|v| {
                v.get("vulnerability_id")
                    .and_then(Value::as_str)
                    .map(str::to_string)
            })
            .filter(|id| !id.trim().is_empty())
            .collect();
        if ids.is_empty() {
            without_id += 1;
        }
        for id in ids {
            let (findings, products) = by_id.entry(id).or_default();
            findings.extend(f.id);
            if let Some((pid, name)) = product_of(f) {
                products.insert(pid, name);
            }
        }
    }
    let mut ranked: Vec<_> = by_id.into_iter().collect();
    ranked.sort_by(|a, b| {
        (b.1 .1.len(), b.1 .0.len())
            .cmp(&(a.1 .1.len(), a.1 .0.len()))
            .then(a.0.cmp(&b.0))
    });
    let groups: Vec<Value> = ranked
        .into_iter()
        .take(a.limit)
        .map(|(id, (findings, products))| {
            let products: Vec<Value> = products
                .into_iter()
                .map(|(pid, name)| json!({"product_id": pid, "product_name": name}))
                .collect();
            json!({
                "vulnerability_id": id,
                "findings": findings.len(),
                "finding_ids": findings.iter().take(50).collect::<Vec<_>>(),
                "products": products,
            })
        })
        .collect();
    Ok(json!({
        "severity": a.severity.as_str(),
        "groups": groups,
        "findings_without_vulnerability_id": without_id,
        "coverage": read.coverage(),
    }))
}

/// GET /findings/?is_mitigated=true&mitigated_after=..&mitigated_before=.., days from `date` to
/// `mitigated` per severity.
async fn mean_time_to_fix(ctx: &ToolContext, a: TimeToFix) -> Outcome {
    let until = a.until.unwrap_or_else(|| chrono::Utc::now().date_naive());
    if until < a.since {
        return Err(ToolFailure::bad("until: must not be before since"));
    }
    let start = a.since.and_hms_opt(0, 0, 0).map(|t| t.and_utc());
    let end = until
        .succ_opt()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc());
    let (Some(start), Some(end)) = (start, end) else {
        return Err(ToolFailure::bad("since/until: out of range"));
    };
    let read = collect(ctx, |q| {
        let q = q
            .is_mitigated(true)
            .mitigated_after(start)
            .mitigated_before(end);
        match a.product_id {
            Some(p) => q.test_engagement_product(vec![p]),
            None => q,
        }
    })
    .await?;
    let mut days: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for f in &read.findings {
        if let (Some(found), Some(fixed)) = (f.date, f.mitigated) {
            let d = (fixed.date_naive() - found).num_days().max(0);
            days.entry(severity_of(f)).or_default().push(d);
            days.entry("all".into()).or_default().push(d);
        }
    }
    let figures: Map<String, Value> = days
        .into_iter()
        .map(|(severity, mut d)| {
            d.sort_unstable();
            let mean = d.iter().sum::<i64>() as f64 / d.len() as f64;
            let median = d[d.len() / 2];
            (
                severity,
                json!({"findings": d.len(), "mean_days": (mean * 10.0).round() / 10.0, "median_days": median}),
            )
        })
        .collect();
    Ok(json!({
        "since": a.since,
        "until": until,
        "by_severity": figures,
        "coverage": read.coverage(),
    }))
}
