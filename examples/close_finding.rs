//! Closes a finding with a reason and a note, then reads it back.
//!
//! ```sh
//! DEFECTDOJO_URL=https://dojo.example.com DEFECTDOJO_API_KEY=... \
//!     cargo run --example close_finding -- <finding-id> false_positive "not reachable from outside"
//! ```
//! Reasons: mitigated, false_positive, out_of_scope, duplicate.
use dojo_sdk::{call, CloseReason, DojoClient};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [id, reason, note] = args.as_slice() else {
        return Err("usage: close_finding <finding-id> <reason> <note>".into());
    };
    let id: i64 = id.parse()?;
    let reason = match reason.as_str() {
        "mitigated" => CloseReason::Mitigated,
        "false_positive" => CloseReason::FalsePositive,
        "out_of_scope" => CloseReason::OutOfScope,
        "duplicate" => CloseReason::Duplicate,
        other => return Err(format!("unknown reason {other}").into()),
    };
    let dojo = DojoClient::builder(std::env::var("DEFECTDOJO_URL")?)
        .token(std::env::var("DEFECTDOJO_API_KEY")?)
        .allow_insecure_http(std::env::var("ALLOW_INSECURE_HTTP").is_ok_and(|v| v == "true"))
        .build()?;

    // Sends the flags DefectDojo needs for this reason (a close without `is_mitigated` is a 500).
    dojo.close_finding(id, reason).await?;
    dojo.add_finding_note(id, note, false).await?;
    let finding = call(dojo.read().findings_retrieve().id(id).send()).await?;
    println!(
        "finding {id}: active={} false_p={} out_of_scope={} duplicate={} is_mitigated={}",
        finding.active.unwrap_or_default(),
        finding.false_p.unwrap_or_default(),
        finding.out_of_scope.unwrap_or_default(),
        finding.duplicate.unwrap_or_default(),
        finding.is_mitigated.unwrap_or_default(),
    );
    Ok(())
}
