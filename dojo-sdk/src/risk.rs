//! Risk acceptance changes the generated PATCH cannot say: it leaves out every field that is
//! `None`, so it can never clear one, and DefectDojo 2.x marks an expired acceptance by a date
//! that only a JSON `null` removes.

use crate::{types, DojoClient, DojoError};
use chrono::{DateTime, Utc};
use serde_json::json;

impl DojoClient {
    /// Reinstates a risk acceptance: `findings` are accepted under it again (DefectDojo makes
    /// them inactive and risk accepted) until `expiration`, and its expiry marks
    /// (`expiration_date_handled`, `expiration_date_warned`) are cleared. The findings are sent
    /// whole: DefectDojo removes from an acceptance every finding a PATCH leaves out.
    pub async fn reinstate_risk_acceptance(
        &self,
        id: i64,
        findings: &[i64],
        expiration: DateTime<Utc>,
    ) -> Result<types::RiskAcceptance, DojoError> {
        let body = json!({
            "accepted_findings": findings,
            "expiration_date": expiration,
            "expiration_date_handled": null,
            "expiration_date_warned": null,
        });
        self.send_json(
            reqwest::Method::PATCH,
            &format!("risk_acceptance/{id}/"),
            &body,
        )
        .await
    }
}
