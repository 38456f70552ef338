//! Shows how failures are told apart: by [`dojo_sdk::ErrorKind`], not by parsing messages.
//!
//! ```sh
//! DEFECTDOJO_URL=https://dojo.example.com DEFECTDOJO_API_KEY=... cargo run --example errors_by_kind
//! ```
//! Asks for a finding that does not exist, with a bad key, and imports a report DefectDojo refuses.
use dojo_sdk::{call, DojoClient, DojoError, ErrorKind, ScanFile, ScanUpload};

fn explain(what: &str, result: Result<impl std::fmt::Debug, DojoError>) {
    match result {
        Ok(_) => println!("{what}: ok"),
        Err(e) => match e.kind() {
            ErrorKind::NotFound => {
                println!("{what}: NotFound (absent, or outside the key's products)")
            }
            ErrorKind::Unauthenticated => println!("{what}: Unauthenticated (check the API key)"),
            ErrorKind::Forbidden => println!("{what}: Forbidden (the key may not do this)"),
            ErrorKind::Invalid => println!("{what}: Invalid ({e})"),
            ErrorKind::RateLimited | ErrorKind::Server | ErrorKind::Transport => {
                println!("{what}: {:?}, worth retrying later ({e})", e.kind())
            }
            other => println!("{what}: {other:?} ({e})"),
        },
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::var("DEFECTDOJO_URL")?;
    let insecure = std::env::var("ALLOW_INSECURE_HTTP").is_ok_and(|v| v == "true");
    let dojo = DojoClient::builder(url.as_str())
        .token(std::env::var("DEFECTDOJO_API_KEY")?)
        .allow_insecure_http(insecure)
        .build()?;
    let stranger = DojoClient::builder(url.as_str())
        .token("not-a-valid-key-0123456789")
        .allow_insecure_http(insecure)
        .build()?;

    explain(
        "finding 999999999",
        call(dojo.read().findings_retrieve().id(999_999_999).send()).await,
    );
    explain(
        "user profile with a bad key",
        call(stranger.read().user_profile_retrieve().send()).await,
    );
    // A report for a parser DefectDojo does not have: it refuses the input (400).
    let mut unknown = ScanUpload::new("No Such Scanner");
    unknown.product_name = Some("any".into());
    unknown.engagement_name = Some("any".into());
    explain(
        "import of a report for an unknown scanner",
        dojo.import_scan(&unknown, &ScanFile::from_bytes("r.json", &b"{}"[..]))
            .await,
    );
    Ok(())
}
