//! The `products` toolset: products and product types.

use super::args::{PageArgs, ProductId};
use super::{page, to_json, Outcome, ToolContext, ToolDef, Toolset};
use dojo_sdk::{call, types};
use schemars::JsonSchema;
use serde::Deserialize;

const TOOLSET: Toolset = Toolset::Products;

pub(super) fn tools() -> Vec<ToolDef> {
    vec![
        tool!(
            "list_products", "List products", MetadataRead, Read, paged: true,
            stored_text: [], PageArgs, list_products,
            "List products, a page at a time (limit/offset). The result says how to get the next page."
        ),
        tool!(
            "get_product", "Get a product", MetadataRead, Read, paged: false,
            stored_text: [], ProductId, get_product,
            "Get one product by ID."
        ),
        tool!(
            "create_product", "Create a product", ProductMgmt, Create, paged: false,
            stored_text: ["name", "description"], CreateProduct, create_product,
            "Create a product in a product type. Requires product_mgmt (admin). Rate-limited."
        ),
        tool!(
            "list_product_types", "List product types", MetadataRead, Read, paged: true,
            stored_text: [], PageArgs, list_product_types,
            "List product types, a page at a time."
        ),
    ]
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
    /// ID of its product type.
    #[schemars(range(min = 1))]
    pub prod_type_id: i64,
}

/// GET /products/.
async fn list_products(ctx: &ToolContext, a: PageArgs) -> Outcome {
    let q = ctx
        .dojo
        .read()
        .products_list()
        .limit(a.limit)
        .offset(a.offset);
    Ok(page(call(q.send()).await?, a.limit, a.offset))
}

/// GET /products/{id}/.
async fn get_product(ctx: &ToolContext, a: ProductId) -> Outcome {
    let q = ctx.dojo.read().products_retrieve().id(a.product_id);
    Ok(to_json(&call(q.send()).await?))
}

/// POST /products/.
async fn create_product(ctx: &ToolContext, a: CreateProduct) -> Outcome {
    let body = types::builder::ProductRequest::default()
        .name(a.name)
        .description(a.description)
        .prod_type(a.prod_type_id);
    Ok(to_json(
        &call(ctx.dojo.write().products_create().body(body).send()).await?,
    ))
}

/// GET /product_types/.
async fn list_product_types(ctx: &ToolContext, a: PageArgs) -> Outcome {
    let q = ctx
        .dojo
        .read()
        .product_types_list()
        .limit(a.limit)
        .offset(a.offset);
    Ok(page(call(q.send()).await?, a.limit, a.offset))
}
