//! The arguments of the 24 tools. Names match the Python server's; the limits here are published in
//! each tool's input schema (schemars) and enforced from that same schema before a call runs.

use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::Deserialize;

/// Largest page a list tool returns.
pub const MAX_LIMIT: i64 = 1000;

/// A finding severity as DefectDojo names it.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema, PartialEq, Eq)]
pub enum Severity {
    /// Critical.
    Critical,
    /// High.
    High,
    /// Medium.
    Medium,
    /// Low.
    Low,
    /// Informational.
    Info,
}

impl Severity {
    /// DefectDojo's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "Critical",
            Severity::High => "High",
            Severity::Medium => "Medium",
            Severity::Low => "Low",
            Severity::Info => "Info",
        }
    }

    /// DefectDojo's numerical severity (`S0` = Critical ... `S4` = Info).
    pub fn numerical(self) -> &'static str {
        match self {
            Severity::Critical => "S0",
            Severity::High => "S1",
            Severity::Medium => "S2",
            Severity::Low => "S3",
            Severity::Info => "S4",
        }
    }
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

fn default_limit() -> i64 {
    20
}
fn default_true() -> bool {
    true
}

/// No arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NoArgs {}

/// Paging of a list.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PageArgs {
    /// Results per page (1-1000).
    #[serde(default = "default_limit")]
    #[schemars(range(min = 1, max = 1000))]
    pub limit: i64,
    /// Index of the first result; use the `next_offset` of the previous page.
    #[serde(default)]
    #[schemars(range(min = 0))]
    pub offset: i64,
}

macro_rules! id_args {
    ($name:ident, $field:ident, $doc:literal) => {
        #[doc = concat!("Arguments naming one ", $doc, ".")]
        #[derive(Debug, Deserialize, JsonSchema)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            #[doc = concat!("ID of the ", $doc, " (> 0).")]
            #[schemars(range(min = 1))]
            pub $field: i64,
        }
    };
}
id_args!(ProductId, product_id, "product");
id_args!(EngagementId, engagement_id, "engagement");
id_args!(TestId, test_id, "test");
id_args!(FindingId, finding_id, "finding");

/// Engagements of a product.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListEngagements {
    /// ID of the product (> 0).
    #[schemars(range(min = 1))]
    pub product_id: i64,
    /// Results per page (1-1000).
    #[serde(default = "default_limit")]
    #[schemars(range(min = 1, max = 1000))]
    pub limit: i64,
    /// Index of the first result.
    #[serde(default)]
    #[schemars(range(min = 0))]
    pub offset: i64,
}

/// Tests of an engagement.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListTests {
    /// ID of the engagement (> 0).
    #[schemars(range(min = 1))]
    pub engagement_id: i64,
    /// Results per page (1-1000).
    #[serde(default = "default_limit")]
    #[schemars(range(min = 1, max = 1000))]
    pub limit: i64,
    /// Index of the first result.
    #[serde(default)]
    #[schemars(range(min = 0))]
    pub offset: i64,
}

/// Finding filters (all optional) and paging.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListFindings {
    /// Only findings of this test.
    #[schemars(range(min = 1))]
    pub test_id: Option<i64>,
    /// Only findings of this product.
    #[schemars(range(min = 1))]
    pub product_id: Option<i64>,
    /// Only findings of this engagement.
    #[schemars(range(min = 1))]
    pub engagement_id: Option<i64>,
    /// Only this severity.
    pub severity: Option<Severity>,
    /// Active or not.
    pub active: Option<bool>,
    /// Verified or not.
    pub verified: Option<bool>,
    /// Duplicate or not.
    pub duplicate: Option<bool>,
    /// False positive or not.
    pub false_p: Option<bool>,
    /// Out of scope or not.
    pub out_of_scope: Option<bool>,
    /// Mitigated or not.
    pub is_mitigated: Option<bool>,
    /// Risk accepted or not.
    pub risk_accepted: Option<bool>,
    /// Findings carrying any of these tags.
    #[schemars(length(max = 50), inner(length(min = 1, max = 100)))]
    pub tags: Option<Vec<String>>,
    /// Past their SLA or not.
    pub outside_of_sla: Option<bool>,
    /// Component name contains this text.
    #[schemars(length(min = 1, max = 200))]
    pub component_name: Option<String>,
    /// Title contains this text.
    #[schemars(length(min = 1, max = 200))]
    pub title: Option<String>,
    /// Results per page (1-1000).
    #[serde(default = "default_limit")]
    #[schemars(range(min = 1, max = 1000))]
    pub limit: i64,
    /// Index of the first result.
    #[serde(default)]
    #[schemars(range(min = 0))]
    pub offset: i64,
}

/// A new product.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateProduct {
    /// Product name.
    #[schemars(length(min = 1, max = 200))]
    pub name: String,
    /// What the product is.
    #[schemars(length(min = 1, max = 10000))]
    pub description: String,
    /// ID of its product type (> 0).
    #[schemars(range(min = 1))]
    pub prod_type_id: i64,
}

/// A new engagement.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateEngagement {
    /// ID of the product (> 0).
    #[schemars(range(min = 1))]
    pub product_id: i64,
    /// Engagement name.
    #[schemars(length(min = 1, max = 200))]
    pub name: String,
    /// Start date, YYYY-MM-DD.
    pub target_start: NaiveDate,
    /// End date, YYYY-MM-DD, not before the start.
    pub target_end: NaiveDate,
}

/// A new test.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTest {
    /// ID of the engagement (> 0).
    #[schemars(range(min = 1))]
    pub engagement_id: i64,
    /// ID of the test type (> 0); see list_test_types.
    #[schemars(range(min = 1))]
    pub test_type_id: i64,
    /// Start date, YYYY-MM-DD.
    pub target_start: NaiveDate,
    /// End date, YYYY-MM-DD, not before the start.
    pub target_end: NaiveDate,
}

/// A new finding.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateFinding {
    /// ID of the test (> 0).
    #[schemars(range(min = 1))]
    pub test_id: i64,
    /// Finding title.
    #[schemars(length(min = 1, max = 200))]
    pub title: String,
    /// Severity.
    pub severity: Severity,
    /// What was found.
    #[schemars(length(min = 1, max = 10000))]
    pub description: String,
    /// Active (default true).
    #[serde(default = "default_true")]
    pub active: bool,
    /// Verified (default false).
    #[serde(default)]
    pub verified: bool,
}

/// Changes to a finding; at least one field.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateFinding {
    /// ID of the finding (> 0).
    #[schemars(range(min = 1))]
    pub finding_id: i64,
    /// New title.
    #[schemars(length(min = 1, max = 200))]
    pub title: Option<String>,
    /// New severity.
    pub severity: Option<Severity>,
    /// New description.
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
    /// ID of the finding (> 0).
    #[schemars(range(min = 1))]
    pub finding_id: i64,
    /// Why it is closed.
    pub reason: CloseReason,
    /// A note attached after the close.
    #[schemars(length(min = 1, max = 10000))]
    pub note: Option<String>,
}

/// Reopening a finding.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReopenFinding {
    /// ID of the finding (> 0).
    #[schemars(range(min = 1))]
    pub finding_id: i64,
    /// A note attached after reopening.
    #[schemars(length(min = 1, max = 10000))]
    pub note: Option<String>,
}

/// A note on a finding.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AddFindingNote {
    /// ID of the finding (> 0).
    #[schemars(range(min = 1))]
    pub finding_id: i64,
    /// The note's text.
    #[schemars(length(min = 1, max = 10000))]
    pub entry: String,
    /// Visible only to privileged users (default false).
    #[serde(default)]
    pub private: bool,
}

/// Tags on a finding.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FindingTags {
    /// ID of the finding (> 0).
    #[schemars(range(min = 1))]
    pub finding_id: i64,
    /// Tags: letters, digits, space and `._:/-+`, 1-100 characters each.
    #[schemars(
        length(min = 1, max = 50),
        inner(length(min = 1, max = 100), regex(pattern = r"^[A-Za-z0-9._:/\-+ ]+$"))
    )]
    pub tags: Vec<String>,
}

macro_rules! scan_args {
    ($(#[$doc:meta])* $name:ident { $($extra:tt)* }) => {
        $(#[$doc])*
        #[derive(Debug, Deserialize, JsonSchema)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
    /// Scanner type as DefectDojo names it (e.g. "Semgrep JSON Report", "Trivy Scan", "ZAP Scan").
    #[schemars(length(min = 1, max = 200))]
    pub scan_type: String,
    /// Base64-encoded scan result file content (decoded size limited; see the server's --help).
    #[serde(default)]
    pub file: Option<String>,
    /// Original file name of the scan result; DefectDojo checks its extension.
    #[schemars(length(min = 1, max = 255))]
    pub file_name: String,
    /// Instead of `file`: path of the report on the server's machine, inside the allowed scan directory.
    #[schemars(length(min = 1, max = 4096))]
    pub file_path: Option<String>,
    /// Product name (required when auto_create_context is true).
    #[schemars(length(min = 1, max = 200))]
    pub product_name: Option<String>,
    /// Engagement name (required when auto_create_context is true).
    #[schemars(length(min = 1, max = 200))]
    pub engagement_name: Option<String>,
    /// Create the product and engagement if missing (default true).
    #[serde(default = "default_true")]
    pub auto_create_context: bool,
    /// Close findings not in this scan (default true).
    #[serde(default = "default_true")]
    pub close_old_findings: bool,
    /// Deduplicate within the engagement (default true).
    #[serde(default = "default_true")]
    pub deduplication_on_engagement: bool,
    /// Product type name for auto-creation.
    #[schemars(length(min = 1, max = 200))]
    pub product_type_name: Option<String>,
    /// Mark imported findings active (default true).
    #[serde(default = "default_true")]
    pub active: bool,
    /// Mark imported findings verified (default false).
    #[serde(default)]
    pub verified: bool,
    /// Lowest severity imported.
    pub minimum_severity: Option<Severity>,
    /// Push findings to Jira (default false).
    #[serde(default)]
    pub push_to_jira: bool,
    /// Version of the scanned code.
    #[schemars(length(min = 1, max = 100))]
    pub version: Option<String>,
    /// Branch or tag.
    #[schemars(length(min = 1, max = 200))]
    pub branch_tag: Option<String>,
    /// Commit hash.
    #[schemars(length(min = 1, max = 64))]
    pub commit_hash: Option<String>,
    /// Build identifier.
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
        /// The test to reimport into (> 0); without it DefectDojo finds it by product/engagement name and scan type.
        #[schemars(range(min = 1))]
        pub test_id: Option<i64>,
        /// Do not reactivate closed findings the scan reports again (default false).
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
