//! Lists the active critical findings of one product.
//!
//! ```sh
//! DEFECTDOJO_URL=https://dojo.example.com DEFECTDOJO_API_KEY=... \
//!     cargo run --example critical_findings -- <product-id>
//! ```
use dojo_sdk::paging::{self, PageRequest};
use dojo_sdk::{call, DojoClient};
use futures::TryStreamExt;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let product: i64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .ok_or("usage: critical_findings <product-id>")?;
    let url = std::env::var("DEFECTDOJO_URL").map_err(|_| "set DEFECTDOJO_URL")?;
    let key = std::env::var("DEFECTDOJO_API_KEY").map_err(|_| "set DEFECTDOJO_API_KEY")?;
    let insecure = std::env::var("ALLOW_INSECURE_HTTP").is_ok_and(|v| v == "true");
    let dojo = DojoClient::builder(url)
        .token(key)
        .allow_insecure_http(insecure)
        .build()?;

    let fetch = |p: PageRequest| {
        let dojo = dojo.clone();
        async move {
            call(
                dojo.read()
                    .findings_list()
                    .test_engagement_product(vec![product])
                    .severity("Critical")
                    .active(true)
                    .limit(p.limit)
                    .offset(p.offset)
                    .send(),
            )
            .await
        }
    };
    let mut findings = std::pin::pin!(paging::paginate(100, Some(1000), fetch));
    let mut n = 0;
    while let Some(f) = findings.try_next().await? {
        n += 1;
        println!("#{:<6} {}", f.id.unwrap_or_default(), f.title);
    }
    println!("{n} active critical finding(s) in product {product}");
    Ok(())
}
