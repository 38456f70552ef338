//! Finding calls where DefectDojo departs from its own spec, each handled once here.
//!
//! Bodies are built through the generated builders, not struct literals, so this file compiles
//! against every supported spec version even where later versions add fields.

use crate::call::{call, call_empty};
use crate::client::DojoClient;
use crate::error::DojoError;
use crate::generated::types;

/// Why a finding is being closed; decides which status flags are sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseReason {
    /// Fixed: `is_mitigated = true`.
    Mitigated,
    /// Not a real issue: `false_p = true`.
    FalsePositive,
    /// Outside the assessment: `out_of_scope = true`.
    OutOfScope,
    /// Reported elsewhere: `duplicate = true`.
    Duplicate,
}

impl CloseReason {
    /// The body DefectDojo needs. `is_mitigated` is always sent: without it DefectDojo answers 500.
    pub fn request(self) -> types::builder::FindingCloseRequest {
        types::builder::FindingCloseRequest::default()
            .is_mitigated(Some(self == CloseReason::Mitigated))
            .false_p(Some(self == CloseReason::FalsePositive))
            .out_of_scope(Some(self == CloseReason::OutOfScope))
            .duplicate(Some(self == CloseReason::Duplicate))
    }
}

/// Converts strings into the generated constrained-string type (`minLength`, `maxLength`).
fn constrained<T>(values: &[String], what: &str) -> Result<Vec<T>, DojoError>
where
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    values
        .iter()
        .map(|v| {
            v.parse()
                .map_err(|e| DojoError::InvalidRequest(format!("{what}: {e}")))
        })
        .collect()
}

impl DojoClient {
    /// Closes a finding for `reason` (`POST /findings/{id}/close/`).
    pub async fn close_finding(
        &self,
        id: i64,
        reason: CloseReason,
    ) -> Result<types::FindingClose, DojoError> {
        call(
            self.write()
                .findings_close_create()
                .id(id)
                .body(reason.request())
                .send(),
        )
        .await
    }

    /// Adds tags (`POST /findings/{id}/tags/`; DefectDojo answers 200 where the spec says 201) and
    /// returns the tags DefectDojo reports after the change.
    pub async fn add_finding_tags(
        &self,
        id: i64,
        tags: &[String],
    ) -> Result<Vec<String>, DojoError> {
        let tags: Vec<types::TagRequestTagsItem> = constrained(tags, "tag")?;
        let body = types::builder::TagRequest::default().tags(tags);
        let answer = call(self.write().findings_tags_create().id(id).body(body).send()).await?;
        Ok(answer.tags)
    }

    /// Removes tags with PATCH (`remove_tags/` answers 405 to POST). Removing a tag the finding does
    /// not carry is a 400 from DefectDojo.
    pub async fn remove_finding_tags(&self, id: i64, tags: &[String]) -> Result<(), DojoError> {
        let tags: Vec<types::PatchedTagRequestTagsItem> = constrained(tags, "tag")?;
        let body = types::builder::PatchedTagRequest::default().tags(tags);
        call_empty(
            self.write()
                .findings_remove_tags_partial_update()
                .id(id)
                .body(body)
                .send(),
        )
        .await
    }

    /// Adds a note. The answer has no `id` or `date` (DefectDojo omits them on create).
    pub async fn add_finding_note(
        &self,
        id: i64,
        entry: &str,
        private: bool,
    ) -> Result<types::Note, DojoError> {
        let entry: types::AddNewNoteOptionRequestEntry = entry
            .parse()
            .map_err(|e| DojoError::InvalidRequest(format!("note entry: {e}")))?;
        let body = types::builder::AddNewNoteOptionRequest::default()
            .entry(entry)
            .private(Some(private));
        call(
            self.write()
                .findings_notes_create()
                .id(id)
                .body(body)
                .send(),
        )
        .await
    }

    /// Reopens a closed finding: active again, every closed flag cleared and the mitigation date
    /// nulled. The generated request type drops `None` fields, so it cannot send the explicit
    /// `"mitigated": null` that clearing the date needs; this call sends it itself.
    pub async fn reopen_finding(&self, id: i64) -> Result<types::Finding, DojoError> {
        let body = serde_json::json!({
            "active": true,
            "is_mitigated": false,
            "false_p": false,
            "out_of_scope": false,
            "duplicate": false,
            "mitigated": null,
        });
        self.send_json(reqwest::Method::PATCH, &format!("findings/{id}/"), &body)
            .await
    }
}
