//! The `engagements` toolset: engagements, their tests, and test types.

use super::args::{paged_args, EngagementId, PageArgs, TestId};
use super::{check_dates, page, to_json, Outcome, ToolContext, ToolDef, ToolFailure, Toolset};
use chrono::NaiveDate;
use dojo_sdk::{call, types};
use schemars::JsonSchema;
use serde::Deserialize;

const TOOLSET: Toolset = Toolset::Engagements;

pub(super) fn tools() -> Vec<ToolDef> {
    vec![
        tool!(
            "list_engagements", "List engagements of a product", MetadataRead, Read, paged: true,
            stored_text: [], ListEngagements, list_engagements,
            "List the engagements of a product, a page at a time."
        ),
        tool!(
            "get_engagement", "Get an engagement", MetadataRead, Read, paged: false,
            stored_text: [], EngagementId, get_engagement,
            "Get one engagement by ID."
        ),
        tool!(
            "create_engagement", "Create an engagement", EngagementMgmt, Create, paged: false,
            stored_text: ["name"], CreateEngagement, create_engagement,
            "Create an engagement for a product between two dates (YYYY-MM-DD). Rate-limited."
        ),
        tool!(
            "list_tests", "List tests of an engagement", MetadataRead, Read, paged: true,
            stored_text: [], ListTests, list_tests,
            "List the tests of an engagement, a page at a time."
        ),
        tool!(
            "get_test", "Get a test", MetadataRead, Read, paged: false,
            stored_text: [], TestId, get_test,
            "Get one test by ID."
        ),
        tool!(
            "create_test", "Create a test", EngagementMgmt, Create, paged: false,
            stored_text: [], CreateTest, create_test,
            "Create a test of a given test type in an engagement. Rate-limited."
        ),
        tool!(
            "list_test_types", "List test types", MetadataRead, Read, paged: true,
            stored_text: [], PageArgs, list_test_types,
            "List test types (scanner kinds), a page at a time."
        ),
    ]
}

paged_args!(
    /// Engagements of a product.
    ListEngagements {
        /// ID of the product.
        #[schemars(range(min = 1))]
        pub product_id: i64,
    }
);

paged_args!(
    /// Tests of an engagement.
    ListTests {
        /// ID of the engagement.
        #[schemars(range(min = 1))]
        pub engagement_id: i64,
    }
);

/// A new engagement.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateEngagement {
    /// ID of the product.
    #[schemars(range(min = 1))]
    pub product_id: i64,
    /// Engagement name.
    #[schemars(length(min = 1, max = 200))]
    pub name: String,
    /// Start date.
    pub target_start: NaiveDate,
    /// End date, not before the start.
    pub target_end: NaiveDate,
}

/// A new test.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTest {
    /// ID of the engagement.
    #[schemars(range(min = 1))]
    pub engagement_id: i64,
    /// ID of the test type (list_test_types).
    #[schemars(range(min = 1))]
    pub test_type_id: i64,
    /// Start date.
    pub target_start: NaiveDate,
    /// End date, not before the start.
    pub target_end: NaiveDate,
}

/// GET /engagements/?product=.
async fn list_engagements(ctx: &ToolContext, a: ListEngagements) -> Outcome {
    let q = ctx.dojo.read().engagements_list().product(a.product_id);
    let p = call(q.limit(a.limit).offset(a.offset).send()).await?;
    Ok(page(p, a.limit, a.offset))
}

/// GET /engagements/{id}/.
async fn get_engagement(ctx: &ToolContext, a: EngagementId) -> Outcome {
    let q = ctx.dojo.read().engagements_retrieve().id(a.engagement_id);
    Ok(to_json(&call(q.send()).await?))
}

/// POST /engagements/.
async fn create_engagement(ctx: &ToolContext, a: CreateEngagement) -> Outcome {
    check_dates(a.target_start, a.target_end)?;
    let name = a
        .name
        .as_str()
        .try_into()
        .map_err(|_| ToolFailure::bad("name: too long"))?;
    let body = types::builder::EngagementRequest::default()
        .product(a.product_id)
        .name(Some(name))
        .target_start(a.target_start)
        .target_end(a.target_end);
    Ok(to_json(
        &call(ctx.dojo.write().engagements_create().body(body).send()).await?,
    ))
}

/// GET /tests/?engagement=.
async fn list_tests(ctx: &ToolContext, a: ListTests) -> Outcome {
    let q = ctx.dojo.read().tests_list().engagement(a.engagement_id);
    let p = call(q.limit(a.limit).offset(a.offset).send()).await?;
    Ok(page(p, a.limit, a.offset))
}

/// GET /tests/{id}/.
async fn get_test(ctx: &ToolContext, a: TestId) -> Outcome {
    Ok(to_json(
        &call(ctx.dojo.read().tests_retrieve().id(a.test_id).send()).await?,
    ))
}

/// POST /tests/ (DefectDojo wants date-times; the dates start at midnight UTC).
async fn create_test(ctx: &ToolContext, a: CreateTest) -> Outcome {
    check_dates(a.target_start, a.target_end)?;
    let midnight = |d: NaiveDate, field: &str| {
        d.and_hms_opt(0, 0, 0)
            .map(|t| t.and_utc())
            .ok_or_else(|| ToolFailure::bad(format!("{field}: invalid")))
    };
    let body = types::builder::TestCreateRequest::default()
        .engagement(a.engagement_id)
        .test_type(a.test_type_id)
        .target_start(midnight(a.target_start, "target_start")?)
        .target_end(midnight(a.target_end, "target_end")?);
    Ok(to_json(
        &call(ctx.dojo.write().tests_create().body(body).send()).await?,
    ))
}

/// GET /test_types/.
async fn list_test_types(ctx: &ToolContext, a: PageArgs) -> Outcome {
    let q = ctx
        .dojo
        .read()
        .test_types_list()
        .limit(a.limit)
        .offset(a.offset);
    Ok(page(call(q.send()).await?, a.limit, a.offset))
}
