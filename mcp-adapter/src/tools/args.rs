//! Argument types more than one family uses. Names match the Python server's; the limits here are
//! published in each tool's input schema (schemars) and enforced from that same schema before a
//! call runs.

use schemars::JsonSchema;
use serde::Deserialize;

/// Largest page a list tool returns.
pub const MAX_LIMIT: i64 = 1000;

/// A finding severity as DefectDojo names it.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema, PartialEq, Eq, PartialOrd, Ord, Hash)]
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
    /// Every severity, most severe first.
    pub const ALL: [Severity; 5] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Info,
    ];

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

/// The default page size.
pub fn default_limit() -> i64 {
    20
}

/// For `#[serde(default = ...)]` flags that default to true.
pub fn default_true() -> bool {
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
    /// Page size.
    #[serde(default = "default_limit")]
    #[schemars(range(min = 1, max = 1000))]
    pub limit: i64,
    /// First result; the previous page's next_offset.
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
            #[doc = concat!("ID of the ", $doc, ".")]
            #[schemars(range(min = 1))]
            pub $field: i64,
        }
    };
}
id_args!(ProductId, product_id, "product");
id_args!(EngagementId, engagement_id, "engagement");
id_args!(TestId, test_id, "test");
id_args!(FindingId, finding_id, "finding");

/// Declares an argument type for a list tool: the given fields, then `limit` (1-1000, default
/// 20) and `offset`, with `deny_unknown_fields`.
macro_rules! paged_args {
    ($(#[$doc:meta])* $name:ident { $($fields:tt)* }) => {
        $(#[$doc])*
        #[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            $($fields)*
            /// Page size.
            #[serde(default = "crate::tools::args::default_limit")]
            #[schemars(range(min = 1, max = 1000))]
            pub limit: i64,
            /// First result.
            #[serde(default)]
            #[schemars(range(min = 0))]
            pub offset: i64,
        }
    };
}
pub(crate) use paged_args;
