//! The `endpoints` toolset: the hosts and URLs findings were seen on. DefectDojo 2.x calls them
//! endpoints; 3.x keeps `/endpoints/` as a compatibility view and adds locations. Each tool says
//! plainly when the server it talks to does not offer what it asks for.

use super::args::paged_args;
use super::{page, to_json, Outcome, ToolContext, ToolDef, ToolFailure, Toolset};
use dojo_sdk::{call, ErrorKind};
use schemars::JsonSchema;
use serde::Deserialize;

const TOOLSET: Toolset = Toolset::Endpoints;

pub(super) fn tools() -> Vec<ToolDef> {
    vec![
        tool!(
            "list_endpoints", "List endpoints", MetadataRead, Read, paged: true,
            stored_text: [], ListEndpoints, list_endpoints,
            "List endpoints (hosts, URLs), optionally of one product or host, a page at a time. On DefectDojo 3.x this is its compatibility view; list_locations has the rest."
        ),
        tool!(
            "get_endpoint", "Get an endpoint", MetadataRead, Read, paged: false,
            stored_text: [], EndpointId, get_endpoint,
            "Get one endpoint by ID."
        ),
        tool!(
            "list_locations", "List locations (DefectDojo 3.x)", MetadataRead, Read, paged: true,
            stored_text: [], ListLocations, list_locations,
            "List locations, DefectDojo 3.x's successor of endpoints, optionally of one product or finding, a page at a time."
        ),
    ]
}

paged_args!(
    /// Endpoints wanted.
    ListEndpoints {
        /// Only this product's.
        #[schemars(range(min = 1))]
        pub product_id: Option<i64>,
        /// Only this host.
        #[schemars(length(min = 1, max = 500))]
        pub host: Option<String>,
    }
);

/// One endpoint.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EndpointId {
    /// ID of the endpoint.
    #[schemars(range(min = 1))]
    pub endpoint_id: i64,
}

paged_args!(
    /// Locations wanted.
    ListLocations {
        /// Only this product's.
        #[schemars(range(min = 1))]
        pub product_id: Option<i64>,
        /// Only this finding's.
        #[schemars(range(min = 1))]
        pub finding_id: Option<i64>,
        /// Value contains (host, URL).
        #[schemars(length(min = 1, max = 500))]
        pub value: Option<String>,
    }
);

/// GET /endpoints/.
async fn list_endpoints(ctx: &ToolContext, a: ListEndpoints) -> Outcome {
    let mut q = ctx
        .dojo
        .read()
        .endpoints_list()
        .limit(a.limit)
        .offset(a.offset);
    if let Some(p) = a.product_id {
        q = q.product(p);
    }
    if let Some(h) = a.host {
        q = q.host(h);
    }
    Ok(page(call(q.send()).await?, a.limit, a.offset))
}

/// GET /endpoints/{id}/.
async fn get_endpoint(ctx: &ToolContext, a: EndpointId) -> Outcome {
    let q = ctx.dojo.read().endpoints_retrieve().id(a.endpoint_id);
    Ok(to_json(&call(q.send()).await?))
}

/// GET /location/ (3.x); a 404 on the list itself means a 2.x server.
async fn list_locations(ctx: &ToolContext, a: ListLocations) -> Outcome {
    let mut q = ctx
        .dojo
        .read()
        .location_list()
        .limit(a.limit)
        .offset(a.offset);
    if let Some(p) = a.product_id {
        q = q.products_product_equals(p);
    }
    if let Some(f) = a.finding_id {
        q = q.findings_finding_equals(f);
    }
    if let Some(v) = a.value {
        q = q.location_value_contains(v);
    }
    match call(q.send()).await {
        Ok(p) => Ok(page(p, a.limit, a.offset)),
        Err(e) if e.kind() == ErrorKind::NotFound => Err(ToolFailure::bad(
            "this DefectDojo has no locations (they came with 3.x); use list_endpoints",
        )),
        Err(e) => Err(e.into()),
    }
}
