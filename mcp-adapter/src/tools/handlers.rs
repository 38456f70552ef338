//! What each tool does with the SDK. Arguments arrive validated; results leave as JSON.

use super::args::*;
use base64::Engine;
use dojo_sdk::paging::Page;
use dojo_sdk::{call, types, DojoClient, DojoError, ScanFile, ScanUpload};
use serde::Serialize;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// What every tool call shares: the SDK client and settings. One per process.
pub struct ToolEnv {
    /// DefectDojo client.
    pub dojo: DojoClient,
    /// `found_by` for created findings (DEFECTDOJO_DEFAULT_FOUND_BY_ID).
    pub default_found_by_id: i64,
    /// Largest decoded scan report accepted.
    pub max_scan_bytes: usize,
    /// Directory `file_path` uploads must lie in; `None` disables `file_path`.
    pub scan_dir: Option<PathBuf>,
}

/// One tool call's context: the shared [`ToolEnv`] and the finding ids this call read, which
/// the pipeline adds to the caller's read history for the audit trail.
pub struct ToolContext {
    env: Arc<ToolEnv>,
    findings_read: Mutex<Vec<i64>>,
}

impl ToolContext {
    /// A context for one call.
    pub fn new(env: Arc<ToolEnv>) -> Self {
        ToolContext {
            env,
            findings_read: Mutex::new(Vec::new()),
        }
    }

    /// The finding ids this call read, in the order it read them.
    pub fn take_findings_read(&self) -> Vec<i64> {
        std::mem::take(&mut *self.findings_read.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

impl std::ops::Deref for ToolContext {
    type Target = ToolEnv;
    fn deref(&self) -> &ToolEnv {
        &self.env
    }
}

/// Why a tool call failed.
#[derive(Debug)]
pub enum ToolFailure {
    /// The arguments are wrong; the message says which and why.
    BadArguments(String),
    /// DefectDojo (or the way to it) failed.
    Upstream(DojoError),
}

impl ToolFailure {
    /// Wraps a serde error from decoding the arguments, naming the argument at fault.
    pub fn bad_arguments(e: serde_path_to_error::Error<serde_json::Error>) -> Self {
        let argument = e.path().to_string();
        let inner = e.inner().to_string();
        // serde's "invalid value: integer `1e30`, expected i64" names neither the argument nor
        // the range; say both.
        let what = if inner.contains("expected i64") || inner.contains("expected u64") {
            format!("must be a whole number from 1 to {}", i64::MAX)
        } else {
            inner
                .split(" at line ")
                .next()
                .unwrap_or_default()
                .to_string()
        };
        if argument.is_empty() || argument == "." {
            ToolFailure::BadArguments(what)
        } else {
            ToolFailure::BadArguments(format!("{argument}: {what}"))
        }
    }
}

impl From<DojoError> for ToolFailure {
    fn from(e: DojoError) -> Self {
        ToolFailure::Upstream(e)
    }
}

type Outcome = Result<Value, ToolFailure>;

fn to_json<T: Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// A page of results with the offset of the next one, from any DefectDojo list response.
fn page<P>(p: P, limit: i64, offset: i64) -> Value
where
    P: Page,
    P::Item: Serialize,
{
    let count = p.count();
    let has_next = p.next().is_some();
    let results = p.into_results();
    let next_offset = has_next.then(|| offset + results.len() as i64);
    json!({
        "count": count,
        "limit": limit,
        "offset": offset,
        "next_offset": next_offset,
        "results": to_json(&results),
        "next_page": match next_offset {
            Some(n) => format!("call again with offset={n} for the next page"),
            None => "this is the last page".to_string(),
        },
    })
}

fn remember_findings(ctx: &ToolContext, ids: impl IntoIterator<Item = Option<i64>>) {
    let mut read = ctx.findings_read.lock().unwrap_or_else(|p| p.into_inner());
    read.extend(ids.into_iter().flatten());
}

fn check_dates(start: chrono::NaiveDate, end: chrono::NaiveDate) -> Result<(), ToolFailure> {
    if end < start {
        return Err(ToolFailure::BadArguments(
            "target_end: must not be before target_start".into(),
        ));
    }
    Ok(())
}

pub async fn health_check(ctx: &ToolContext, _: NoArgs) -> Outcome {
    match call(ctx.dojo.read().user_profile_retrieve().send()).await {
        Ok(_) => Ok(
            json!({"status": "ok", "message": "DefectDojo is reachable and the API key is accepted"}),
        ),
        Err(e) => {
            Ok(json!({"status": "unhealthy", "message": crate::security::errors::describe(&e)}))
        }
    }
}

pub async fn list_products(ctx: &ToolContext, a: PageArgs) -> Outcome {
    let p = call(
        ctx.dojo
            .read()
            .products_list()
            .limit(a.limit)
            .offset(a.offset)
            .send(),
    )
    .await?;
    Ok(page(p, a.limit, a.offset))
}

pub async fn get_product(ctx: &ToolContext, a: ProductId) -> Outcome {
    Ok(to_json(
        &call(ctx.dojo.read().products_retrieve().id(a.product_id).send()).await?,
    ))
}

pub async fn create_product(ctx: &ToolContext, a: CreateProduct) -> Outcome {
    let body = types::builder::ProductRequest::default()
        .name(a.name)
        .description(a.description)
        .prod_type(a.prod_type_id);
    Ok(to_json(
        &call(ctx.dojo.write().products_create().body(body).send()).await?,
    ))
}

pub async fn list_product_types(ctx: &ToolContext, a: PageArgs) -> Outcome {
    let p = call(
        ctx.dojo
            .read()
            .product_types_list()
            .limit(a.limit)
            .offset(a.offset)
            .send(),
    )
    .await?;
    Ok(page(p, a.limit, a.offset))
}

pub async fn list_engagements(ctx: &ToolContext, a: ListEngagements) -> Outcome {
    let p = call(
        ctx.dojo
            .read()
            .engagements_list()
            .product(a.product_id)
            .limit(a.limit)
            .offset(a.offset)
            .send(),
    )
    .await?;
    Ok(page(p, a.limit, a.offset))
}

pub async fn get_engagement(ctx: &ToolContext, a: EngagementId) -> Outcome {
    Ok(to_json(
        &call(
            ctx.dojo
                .read()
                .engagements_retrieve()
                .id(a.engagement_id)
                .send(),
        )
        .await?,
    ))
}

pub async fn create_engagement(ctx: &ToolContext, a: CreateEngagement) -> Outcome {
    check_dates(a.target_start, a.target_end)?;
    let body = types::builder::EngagementRequest::default()
        .product(a.product_id)
        .name(Some(a.name.as_str().try_into().map_err(|_| {
            ToolFailure::BadArguments("name: too long".into())
        })?))
        .target_start(a.target_start)
        .target_end(a.target_end);
    Ok(to_json(
        &call(ctx.dojo.write().engagements_create().body(body).send()).await?,
    ))
}

pub async fn list_tests(ctx: &ToolContext, a: ListTests) -> Outcome {
    let p = call(
        ctx.dojo
            .read()
            .tests_list()
            .engagement(a.engagement_id)
            .limit(a.limit)
            .offset(a.offset)
            .send(),
    )
    .await?;
    Ok(page(p, a.limit, a.offset))
}

pub async fn get_test(ctx: &ToolContext, a: TestId) -> Outcome {
    Ok(to_json(
        &call(ctx.dojo.read().tests_retrieve().id(a.test_id).send()).await?,
    ))
}

pub async fn create_test(ctx: &ToolContext, a: CreateTest) -> Outcome {
    check_dates(a.target_start, a.target_end)?;
    let midnight = |d: chrono::NaiveDate| d.and_hms_opt(0, 0, 0).map(|t| t.and_utc());
    let body = types::builder::TestCreateRequest::default()
        .engagement(a.engagement_id)
        .test_type(a.test_type_id)
        .target_start(
            midnight(a.target_start)
                .ok_or_else(|| ToolFailure::BadArguments("target_start: invalid".into()))?,
        )
        .target_end(
            midnight(a.target_end)
                .ok_or_else(|| ToolFailure::BadArguments("target_end: invalid".into()))?,
        );
    Ok(to_json(
        &call(ctx.dojo.write().tests_create().body(body).send()).await?,
    ))
}

pub async fn list_test_types(ctx: &ToolContext, a: PageArgs) -> Outcome {
    let p = call(
        ctx.dojo
            .read()
            .test_types_list()
            .limit(a.limit)
            .offset(a.offset)
            .send(),
    )
    .await?;
    Ok(page(p, a.limit, a.offset))
}

pub async fn list_findings(ctx: &ToolContext, a: ListFindings) -> Outcome {
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
        q = q.outside_of_sla(if v { 1.0 } else { 0.0 });
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
    remember_findings(ctx, p.results.iter().map(|f| f.id));
    Ok(page(p, a.limit, a.offset))
}

pub async fn get_finding(ctx: &ToolContext, a: FindingId) -> Outcome {
    let f = call(ctx.dojo.read().findings_retrieve().id(a.finding_id).send()).await?;
    remember_findings(ctx, [Some(a.finding_id)]);
    Ok(to_json(&f))
}

pub async fn create_finding(ctx: &ToolContext, a: CreateFinding) -> Outcome {
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

pub async fn update_finding(ctx: &ToolContext, a: UpdateFinding) -> Outcome {
    let mut body = types::builder::PatchedFindingRequest::default();
    let mut changed = false;
    if let Some(v) = a.title {
        body =
            body.title(Some(v.as_str().try_into().map_err(|_| {
                ToolFailure::BadArguments("title: too long".into())
            })?));
        changed = true;
    }
    if let Some(v) = a.severity {
        body = body
            .severity(Some(v.as_str().try_into().map_err(|_| {
                ToolFailure::BadArguments("severity: invalid".into())
            })?))
            .numerical_severity(Some(
                v.numerical()
                    .try_into()
                    .map_err(|_| ToolFailure::BadArguments("severity: invalid".into()))?,
            ));
        changed = true;
    }
    if let Some(v) = a.description {
        body = body.description(Some(
            v.as_str()
                .try_into()
                .map_err(|_| ToolFailure::BadArguments("description: invalid".into()))?,
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
        return Err(ToolFailure::BadArguments(
            "give at least one field to change besides finding_id".into(),
        ));
    }
    let f = call(
        ctx.dojo
            .write()
            .findings_partial_update()
            .id(a.finding_id)
            .body(body)
            .send(),
    )
    .await?;
    Ok(to_json(&f))
}

/// Attaches a note after a status change; a failure becomes a warning, the change stands.
async fn attach_note(ctx: &ToolContext, id: i64, note: Option<String>, result: &mut Value) {
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

pub async fn close_finding(ctx: &ToolContext, a: CloseFinding) -> Outcome {
    let reason = match a.reason {
        CloseReason::Mitigated => dojo_sdk::CloseReason::Mitigated,
        CloseReason::FalsePositive => dojo_sdk::CloseReason::FalsePositive,
        CloseReason::OutOfScope => dojo_sdk::CloseReason::OutOfScope,
        CloseReason::Duplicate => dojo_sdk::CloseReason::Duplicate,
    };
    let closed = ctx.dojo.close_finding(a.finding_id, reason).await?;
    let mut result =
        json!({"finding_id": a.finding_id, "closed": true, "finding": to_json(&closed)});
    attach_note(ctx, a.finding_id, a.note, &mut result).await;
    Ok(result)
}

pub async fn reopen_finding(ctx: &ToolContext, a: ReopenFinding) -> Outcome {
    let f = ctx.dojo.reopen_finding(a.finding_id).await?;
    let mut result = json!({"finding_id": a.finding_id, "reopened": true, "finding": to_json(&f)});
    attach_note(ctx, a.finding_id, a.note, &mut result).await;
    Ok(result)
}

pub async fn add_finding_note(ctx: &ToolContext, a: AddFindingNote) -> Outcome {
    let note = ctx
        .dojo
        .add_finding_note(a.finding_id, &a.entry, a.private)
        .await?;
    Ok(json!({"finding_id": a.finding_id, "note": to_json(&note)}))
}

pub async fn list_finding_notes(ctx: &ToolContext, a: FindingId) -> Outcome {
    let notes = call(
        ctx.dojo
            .read()
            .findings_notes_retrieve()
            .id(a.finding_id)
            .send(),
    )
    .await?;
    remember_findings(ctx, [Some(a.finding_id)]);
    Ok(json!({"finding_id": a.finding_id, "notes": to_json(&notes.notes)}))
}

pub async fn add_finding_tags(ctx: &ToolContext, a: FindingTags) -> Outcome {
    let tags = ctx.dojo.add_finding_tags(a.finding_id, &a.tags).await?;
    Ok(json!({"finding_id": a.finding_id, "tags": tags}))
}

pub async fn remove_finding_tags(ctx: &ToolContext, a: FindingTags) -> Outcome {
    ctx.dojo.remove_finding_tags(a.finding_id, &a.tags).await?;
    Ok(json!({"finding_id": a.finding_id, "removed": a.tags}))
}

/// The report bytes, from base64 `file` or from `file_path` inside the scan directory.
async fn scan_file(ctx: &ToolContext, c: &ScanCommon<'_>) -> Result<ScanFile, ToolFailure> {
    let bad = |m: String| Err(ToolFailure::BadArguments(m));
    match (c.file, c.file_path) {
        (Some(_), Some(_)) => bad("give either file (base64) or file_path, not both".into()),
        (None, None) => {
            bad("file: required (base64 content of the report), or give file_path".into())
        }
        (Some(b64), None) => {
            // 4 base64 characters carry 3 bytes: refuse oversized input before decoding it.
            if b64.len() / 4 * 3 > ctx.max_scan_bytes + 3 {
                return bad(format!(
                    "file: larger than the {} byte limit",
                    ctx.max_scan_bytes
                ));
            }
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(b64.trim())
                .map_err(|_| ToolFailure::BadArguments("file: not valid base64".into()))?;
            if bytes.is_empty() {
                return bad("file: the decoded report is empty".into());
            }
            if bytes.len() > ctx.max_scan_bytes {
                return bad(format!(
                    "file: larger than the {} byte limit",
                    ctx.max_scan_bytes
                ));
            }
            Ok(ScanFile::from_bytes(c.file_name, bytes))
        }
        (None, Some(path)) => {
            let Some(dir) = &ctx.scan_dir else {
                return bad("file_path: disabled on this server (set MCP_SCAN_DIR to allow it); send file as base64".into());
            };
            let dir = dir.canonicalize().map_err(|_| {
                ToolFailure::BadArguments("file_path: scan directory unavailable".into())
            })?;
            let full = dir.join(path).canonicalize().map_err(|_| {
                ToolFailure::BadArguments("file_path: no such file in the scan directory".into())
            })?;
            if !full.starts_with(&dir) || !full.is_file() {
                return bad("file_path: must name a file inside the scan directory".into());
            }
            // Reads the size only; the content streams from disk when the upload is sent.
            let file = ScanFile::from_path(&full).await?;
            if file.len() > ctx.max_scan_bytes as u64 {
                return bad(format!(
                    "file_path: larger than the {} byte limit",
                    ctx.max_scan_bytes
                ));
            }
            Ok(file.renamed(c.file_name))
        }
    }
}

fn upload_from(c: &ScanCommon<'_>) -> ScanUpload {
    let s = |v: Option<&str>| v.map(str::to_string);
    let mut u = ScanUpload::new(c.scan_type);
    u.product_name = s(c.product_name);
    u.engagement_name = s(c.engagement_name);
    u.product_type_name = s(c.product_type_name);
    u.auto_create_context = Some(c.auto_create_context);
    u.close_old_findings = Some(c.close_old_findings);
    u.deduplication_on_engagement = Some(c.deduplication_on_engagement);
    u.active = Some(c.active);
    u.verified = Some(c.verified);
    u.minimum_severity = c.minimum_severity.map(|m| m.as_str().to_string());
    u.push_to_jira = Some(c.push_to_jira);
    u.version = s(c.version);
    u.branch_tag = s(c.branch_tag);
    u.commit_hash = s(c.commit_hash);
    u.build_id = s(c.build_id);
    u.tags = c.tags.to_vec();
    u.group_by = c.group_by.map(|g| g.as_str().to_string());
    u
}

pub async fn import_scan(ctx: &ToolContext, a: ImportScanArgs) -> Outcome {
    let c = a.common();
    if c.auto_create_context && (c.product_name.is_none() || c.engagement_name.is_none()) {
        return Err(ToolFailure::BadArguments(
            "product_name and engagement_name: required when auto_create_context is true".into(),
        ));
    }
    let file = scan_file(ctx, &c).await?;
    let answer = ctx.dojo.import_scan(&upload_from(&c), &file).await?;
    Ok(to_json(&answer))
}

pub async fn reimport_scan(ctx: &ToolContext, a: ReimportScanArgs) -> Outcome {
    let c = a.common();
    if a.test_id.is_none() && (c.product_name.is_none() || c.engagement_name.is_none()) {
        return Err(ToolFailure::BadArguments(
            "test_id: required, or give product_name and engagement_name to find the test".into(),
        ));
    }
    let file = scan_file(ctx, &c).await?;
    let mut upload = upload_from(&c);
    upload.test = a.test_id;
    upload.do_not_reactivate = Some(a.do_not_reactivate);
    let answer = ctx.dojo.reimport_scan(&upload, &file).await?;
    Ok(to_json(&answer))
}
