//! Uploads the files DefectDojo takes besides scan reports: evidence attached to a finding, an
//! engagement and a test; a cloc languages report and an endpoint metadata CSV for a product.
//!
//! ```sh
//! DEFECTDOJO_URL=https://dojo.example.com DEFECTDOJO_API_KEY=... \
//!     cargo run --example upload_files -- <finding-id> <engagement-id> <test-id> <product-id>
//! ```
use dojo_sdk::{DojoClient, EndpointMetaImport, FileOwner, UploadFile};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let ids: Vec<i64> = std::env::args()
        .skip(1)
        .map(|a| a.parse())
        .collect::<Result<_, _>>()?;
    let [finding, engagement, test, product] = ids.as_slice() else {
        return Err(
            "usage: upload_files <finding-id> <engagement-id> <test-id> <product-id>".into(),
        );
    };
    let dojo = DojoClient::builder(std::env::var("DEFECTDOJO_URL")?)
        .token(std::env::var("DEFECTDOJO_API_KEY")?)
        .allow_insecure_http(std::env::var("ALLOW_INSECURE_HTTP").is_ok_and(|v| v == "true"))
        .build()?;

    let evidence = UploadFile::from_bytes(
        "evidence.txt",
        &b"curl -i https://app.example.com/login\n"[..],
    );
    for owner in [
        FileOwner::Finding(*finding),
        FileOwner::Engagement(*engagement),
        FileOwner::Test(*test),
    ] {
        // File titles are unique across the whole DefectDojo.
        let title = format!("example evidence for {owner:?}");
        let file = dojo.upload_file(owner, &title, &evidence).await?;
        println!("{owner:?}: file {}", file.id.unwrap_or_default());
    }

    // cloc's JSON output (`cloc --json .`).
    let cloc = br#"{"header": {"cloc_version": "1.98", "n_files": 3, "n_lines": 170},
        "Python": {"nFiles": 3, "blank": 20, "comment": 10, "code": 140},
        "SUM": {"blank": 20, "comment": 10, "code": 140, "nFiles": 3}}"#;
    dojo.import_languages(*product, &UploadFile::from_bytes("cloc.json", &cloc[..]))
        .await?;
    println!("languages imported into product {product}");

    let csv = UploadFile::from_bytes(
        "endpoints.csv",
        &b"hostname,team\napp.example.com,blue\n"[..],
    );
    let import = EndpointMetaImport {
        product: Some(*product),
        create_endpoints: Some(true),
        create_dojo_meta: Some(true),
        ..Default::default()
    };
    dojo.import_endpoint_meta(&import, &csv).await?;
    println!("endpoint metadata imported into product {product}");
    Ok(())
}
