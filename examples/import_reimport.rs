//! Imports a scan report, then reimports a newer one into the same test, and prints what changed.
//!
//! ```sh
//! DEFECTDOJO_URL=https://dojo.example.com DEFECTDOJO_API_KEY=... \
//!     cargo run --example import_reimport -- "ZAP Scan" <product-type> <product> <engagement> first.xml second.xml
//! ```
//! The product (in that product type) and the engagement are created when missing
//! (`auto_create_context`).
use dojo_sdk::{DojoClient, ScanFile, ScanUpload};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [scan_type, product_type, product, engagement, first, second] = args.as_slice() else {
        return Err(
            "usage: import_reimport <scan-type> <product-type> <product> <engagement> <first> <second>"
                .into(),
        );
    };
    let dojo = DojoClient::builder(std::env::var("DEFECTDOJO_URL")?)
        .token(std::env::var("DEFECTDOJO_API_KEY")?)
        .allow_insecure_http(std::env::var("ALLOW_INSECURE_HTTP").is_ok_and(|v| v == "true"))
        .build()?;

    let mut upload = ScanUpload::new(scan_type.as_str());
    upload.product_type_name = Some(product_type.clone());
    upload.product_name = Some(product.clone());
    upload.engagement_name = Some(engagement.clone());
    upload.auto_create_context = Some(true);
    let imported = dojo
        .import_scan(&upload, &ScanFile::from_path(first).await?)
        .await?;
    let test = imported
        .test
        .ok_or("DefectDojo did not say which test it made")?;
    println!("imported {first} into test {test}");

    let mut again = ScanUpload::new(scan_type.as_str());
    again.test = Some(test);
    let reimported = dojo
        .reimport_scan(&again, &ScanFile::from_path(second).await?)
        .await?;
    // `statistics.delta` counts what the reimport created, closed, reactivated and left untouched.
    let delta = serde_json::to_value(&reimported.statistics)?;
    for change in ["created", "closed", "reactivated", "untouched"] {
        let rows = &delta["delta"][change];
        let total = rows.get("all").unwrap_or(&rows["total"])["total"]
            .as_i64()
            .unwrap_or(0);
        println!("{change}: {total}");
    }
    Ok(())
}
