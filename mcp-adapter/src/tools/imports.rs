//! The `imports` toolset: scan reports imported into DefectDojo, or merged into an existing test.

use super::args::{default_true, Severity};
use super::{to_json, Outcome, ToolContext, ToolDef, ToolFailure, Toolset};
use base64::Engine;
use dojo_sdk::{ScanFile, ScanUpload};
use schemars::JsonSchema;
use serde::Deserialize;

const TOOLSET: Toolset = Toolset::Imports;

/// Every text argument of an import that DefectDojo stores.
macro_rules! import_tool {
    ($name:literal, $title:literal, $args:ty, $handler:path, $description:literal) => {
        tool!(
            $name, $title, ScanMgmt, Destructive, paged: false,
            stored_text: [
                "file_name", "product_name", "engagement_name", "product_type_name", "version",
                "branch_tag", "commit_hash", "build_id", "tags"
            ],
            $args, $handler, $description
        )
    };
}

pub(super) fn tools() -> Vec<ToolDef> {
    vec![
        import_tool!(
            "import_scan", "Import a scan report", ImportScanArgs, import_scan,
            "Import a scan report (base64 `file`, or `file_path` inside the server's scan directory) into DefectDojo. With close_old_findings (default true) findings absent from the report are closed. Rate-limited."
        ),
        import_tool!(
            "reimport_scan", "Reimport a scan report", ReimportScanArgs, reimport_scan,
            "Re-import a scan report into an existing test (test_id, or product/engagement names and scan type); the result says what was created, closed, reactivated and left untouched. Rate-limited."
        ),
    ]
}

/// How findings of an import are grouped.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema, PartialEq, Eq)]
pub enum GroupBy {
    /// By component name.
    #[serde(rename = "component_name")]
    ComponentName,
    /// By component name and version.
    #[serde(rename = "component_name+component_version")]
    ComponentNameVersion,
    /// By file path.
    #[serde(rename = "file_path")]
    FilePath,
    /// By finding title.
    #[serde(rename = "finding_title")]
    FindingTitle,
    /// By the tool's vulnerability id.
    #[serde(rename = "vuln_id_from_tool")]
    VulnIdFromTool,
}

impl GroupBy {
    /// DefectDojo's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            GroupBy::ComponentName => "component_name",
            GroupBy::ComponentNameVersion => "component_name+component_version",
            GroupBy::FilePath => "file_path",
            GroupBy::FindingTitle => "finding_title",
            GroupBy::VulnIdFromTool => "vuln_id_from_tool",
        }
    }
}

macro_rules! scan_args {
    ($(#[$doc:meta])* $name:ident { $($extra:tt)* }) => {
        $(#[$doc])*
        #[derive(Debug, Deserialize, JsonSchema)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
    /// Scanner type as DefectDojo names it, e.g. "ZAP Scan".
    #[schemars(length(min = 1, max = 200))]
    pub scan_type: String,
    /// Report content, base64.
    #[serde(default)]
    pub file: Option<String>,
    /// Report file name; DefectDojo checks its extension.
    #[schemars(length(min = 1, max = 255))]
    pub file_name: String,
    /// Instead of file: path inside the server's scan directory.
    #[schemars(length(min = 1, max = 4096))]
    pub file_path: Option<String>,
    /// Product name.
    #[schemars(length(min = 1, max = 200))]
    pub product_name: Option<String>,
    /// Engagement name.
    #[schemars(length(min = 1, max = 200))]
    pub engagement_name: Option<String>,
    /// Create product and engagement if missing.
    #[serde(default = "default_true")]
    pub auto_create_context: bool,
    /// Close findings absent from this report.
    #[serde(default = "default_true")]
    pub close_old_findings: bool,
    /// Deduplicate within the engagement.
    #[serde(default = "default_true")]
    pub deduplication_on_engagement: bool,
    /// Product type name, for auto-creation.
    #[schemars(length(min = 1, max = 200))]
    pub product_type_name: Option<String>,
    /// Imported findings are active.
    #[serde(default = "default_true")]
    pub active: bool,
    /// Imported findings are verified.
    #[serde(default)]
    pub verified: bool,
    /// Lowest severity imported.
    pub minimum_severity: Option<Severity>,
    /// Push findings to Jira.
    #[serde(default)]
    pub push_to_jira: bool,
    /// Version scanned.
    #[schemars(length(min = 1, max = 100))]
    pub version: Option<String>,
    /// Branch or tag.
    #[schemars(length(min = 1, max = 200))]
    pub branch_tag: Option<String>,
    /// Commit hash.
    #[schemars(length(min = 1, max = 64))]
    pub commit_hash: Option<String>,
    /// Build ID.
    #[schemars(length(min = 1, max = 200))]
    pub build_id: Option<String>,
    /// Tags for the test.
    #[schemars(length(max = 50), inner(length(min = 1, max = 100), regex(pattern = r"^[A-Za-z0-9._:/\-+ ]+$")))]
    pub tags: Option<Vec<String>>,
    /// How to group findings.
    pub group_by: Option<GroupBy>,
            $($extra)*
        }
    };
}

scan_args!(
    /// A scan report to import into a new test.
    ImportScanArgs {}
);

scan_args!(
    /// A scan report to merge into an existing test.
    ReimportScanArgs {
        /// Test to reimport into; else found by product, engagement and scan type.
        #[schemars(range(min = 1))]
        pub test_id: Option<i64>,
        /// Leave closed findings closed when reported again.
        #[serde(default)]
        pub do_not_reactivate: bool,
    }
);

/// The fields both scan argument types share, for code that handles either.
pub trait ScanFields {
    /// The import fields.
    fn common(&self) -> ScanCommon<'_>;
}

/// Borrowed view of the fields import and reimport share.
#[allow(missing_docs)]
pub struct ScanCommon<'a> {
    pub scan_type: &'a str,
    pub file: Option<&'a str>,
    pub file_name: &'a str,
    pub file_path: Option<&'a str>,
    pub product_name: Option<&'a str>,
    pub engagement_name: Option<&'a str>,
    pub auto_create_context: bool,
    pub close_old_findings: bool,
    pub deduplication_on_engagement: bool,
    pub product_type_name: Option<&'a str>,
    pub active: bool,
    pub verified: bool,
    pub minimum_severity: Option<Severity>,
    pub push_to_jira: bool,
    pub version: Option<&'a str>,
    pub branch_tag: Option<&'a str>,
    pub commit_hash: Option<&'a str>,
    pub build_id: Option<&'a str>,
    pub tags: &'a [String],
    pub group_by: Option<GroupBy>,
}

macro_rules! impl_scan_fields {
    ($($name:ident),*) => {$(
        impl ScanFields for $name {
            fn common(&self) -> ScanCommon<'_> {
                ScanCommon {
                    scan_type: &self.scan_type,
                    file: self.file.as_deref(),
                    file_name: &self.file_name,
                    file_path: self.file_path.as_deref(),
                    product_name: self.product_name.as_deref(),
                    engagement_name: self.engagement_name.as_deref(),
                    auto_create_context: self.auto_create_context,
                    close_old_findings: self.close_old_findings,
                    deduplication_on_engagement: self.deduplication_on_engagement,
                    product_type_name: self.product_type_name.as_deref(),
                    active: self.active,
                    verified: self.verified,
                    minimum_severity: self.minimum_severity,
                    push_to_jira: self.push_to_jira,
                    version: self.version.as_deref(),
                    branch_tag: self.branch_tag.as_deref(),
                    commit_hash: self.commit_hash.as_deref(),
                    build_id: self.build_id.as_deref(),
                    tags: self.tags.as_deref().unwrap_or(&[]),
                    group_by: self.group_by,
                }
            }
        }
    )*};
}
impl_scan_fields!(ImportScanArgs, ReimportScanArgs);

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
                .map_err(|_| ToolFailure::bad("file: not valid base64"))?;
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
            let dir = dir
                .canonicalize()
                .map_err(|_| ToolFailure::bad("file_path: scan directory unavailable"))?;
            let full = dir
                .join(path)
                .canonicalize()
                .map_err(|_| ToolFailure::bad("file_path: no such file in the scan directory"))?;
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

/// POST /import-scan/ (multipart, streamed).
async fn import_scan(ctx: &ToolContext, a: ImportScanArgs) -> Outcome {
    let c = a.common();
    if c.auto_create_context && (c.product_name.is_none() || c.engagement_name.is_none()) {
        return Err(ToolFailure::BadArguments(
            "product_name and engagement_name: required when auto_create_context is true".into(),
        ));
    }
    ctx.progress(0.0, Some(3.0), "reading the report");
    let file = scan_file(ctx, &c).await?;
    ctx.progress(1.0, Some(3.0), "DefectDojo is importing the report");
    let answer = ctx.dojo.import_scan(&upload_from(&c), &file).await?;
    ctx.progress(3.0, Some(3.0), "imported");
    Ok(to_json(&answer))
}

/// POST /reimport-scan/ (multipart, streamed).
async fn reimport_scan(ctx: &ToolContext, a: ReimportScanArgs) -> Outcome {
    let c = a.common();
    if a.test_id.is_none() && (c.product_name.is_none() || c.engagement_name.is_none()) {
        return Err(ToolFailure::BadArguments(
            "test_id: required, or give product_name and engagement_name to find the test".into(),
        ));
    }
    ctx.progress(0.0, Some(3.0), "reading the report");
    let file = scan_file(ctx, &c).await?;
    ctx.progress(1.0, Some(3.0), "DefectDojo is reimporting the report");
    let mut upload = upload_from(&c);
    upload.test = a.test_id;
    upload.do_not_reactivate = Some(a.do_not_reactivate);
    let answer = ctx.dojo.reimport_scan(&upload, &file).await?;
    ctx.progress(3.0, Some(3.0), "reimported");
    Ok(to_json(&answer))
}
