//! The `system` toolset: is DefectDojo there, and does it take our key.

use super::args::NoArgs;
use super::{Outcome, ToolContext, ToolDef, Toolset};
use dojo_sdk::call;
use serde_json::json;

const TOOLSET: Toolset = Toolset::System;

pub(super) fn tools() -> Vec<ToolDef> {
    vec![tool!(
        "health_check", "Check DefectDojo connectivity", System, Read, paged: false,
        stored_text: [], NoArgs, health_check,
        "Check connectivity to the DefectDojo instance. Returns status 'ok' or 'unhealthy' and a message."
    )]
}

/// GET /user_profile/: the cheapest call that proves both reachability and the key.
async fn health_check(ctx: &ToolContext, _: NoArgs) -> Outcome {
    match call(ctx.dojo.read().user_profile_retrieve().send()).await {
        Ok(_) => Ok(
            json!({"status": "ok", "message": "DefectDojo is reachable and the API key is accepted"}),
        ),
        Err(e) => {
            Ok(json!({"status": "unhealthy", "message": crate::security::errors::describe(&e)}))
        }
    }
}
