//! Multipart `import-scan` and `reimport-scan`, which the generated client cannot express.

use crate::client::DojoClient;
use crate::error::DojoError;
use crate::generated::types;
use crate::uploads::ScanFile;
use chrono::NaiveDate;
use reqwest::multipart::Form;

/// Every field DefectDojo's import and reimport endpoints accept. Unset fields are not sent, so
/// DefectDojo's own defaults apply. `test` and `do_not_reactivate` are for reimport only;
/// `engagement` is for import only.
#[derive(Debug, Clone, Default)]
#[allow(missing_docs)]
pub struct ScanUpload {
    /// DefectDojo's parser name, e.g. `ZAP Scan` (required).
    pub scan_type: String,
    pub scan_date: Option<NaiveDate>,
    /// `Info`, `Low`, `Medium`, `High` or `Critical`.
    pub minimum_severity: Option<String>,
    pub active: Option<bool>,
    pub verified: Option<bool>,
    pub endpoint_to_add: Option<i64>,
    pub product_type_name: Option<String>,
    pub product_name: Option<String>,
    pub engagement_name: Option<String>,
    pub engagement_end_date: Option<NaiveDate>,
    pub source_code_management_uri: Option<String>,
    pub test_title: Option<String>,
    pub auto_create_context: Option<bool>,
    pub deduplication_on_engagement: Option<bool>,
    pub lead: Option<i64>,
    pub push_to_jira: Option<bool>,
    pub environment: Option<String>,
    pub build_id: Option<String>,
    pub branch_tag: Option<String>,
    pub commit_hash: Option<String>,
    pub api_scan_configuration: Option<i64>,
    pub service: Option<String>,
    pub group_by: Option<String>,
    pub create_finding_groups_for_all_findings: Option<bool>,
    pub apply_tags_to_findings: Option<bool>,
    pub apply_tags_to_endpoints: Option<bool>,
    pub close_old_findings: Option<bool>,
    pub close_old_findings_product_scope: Option<bool>,
    pub version: Option<String>,
    pub tags: Vec<String>,
    /// Import only: the engagement to import into.
    pub engagement: Option<i64>,
    /// Reimport only: the test to reimport into.
    pub test: Option<i64>,
    /// Reimport only: leave closed findings closed even if the scan reports them again.
    pub do_not_reactivate: Option<bool>,
}

impl ScanUpload {
    /// An upload of a `scan_type` report with every other field unset.
    pub fn new(scan_type: impl Into<String>) -> Self {
        ScanUpload {
            scan_type: scan_type.into(),
            ..Default::default()
        }
    }

    /// The multipart fields, in a stable order (the file is added by the caller).
    pub fn form_fields(&self) -> Vec<(&'static str, String)> {
        let mut fields: Vec<(&'static str, String)> = vec![("scan_type", self.scan_type.clone())];
        macro_rules! push {
            ($($name:ident),*) => {$(
                if let Some(v) = &self.$name { fields.push((stringify!($name), v.to_string())); }
            )*};
        }
        push!(
            scan_date,
            minimum_severity,
            active,
            verified,
            endpoint_to_add,
            product_type_name,
            product_name,
            engagement_name,
            engagement_end_date,
            source_code_management_uri,
            test_title,
            auto_create_context,
            deduplication_on_engagement,
            lead,
            push_to_jira,
            environment,
            build_id,
            branch_tag,
            commit_hash,
            api_scan_configuration,
            service,
            group_by,
            create_finding_groups_for_all_findings,
            apply_tags_to_findings,
            apply_tags_to_endpoints,
            close_old_findings,
            close_old_findings_product_scope,
            version,
            engagement,
            test,
            do_not_reactivate
        );
        // DefectDojo reads a repeated `tags` field as a list.
        fields.extend(self.tags.iter().map(|t| ("tags", t.clone())));
        fields
    }

    fn check(&self, reimport: bool) -> Result<(), DojoError> {
        if self.scan_type.trim().is_empty() {
            return Err(DojoError::InvalidRequest("scan_type is required".into()));
        }
        if reimport && self.engagement.is_some() {
            return Err(DojoError::InvalidRequest(
                "engagement is an import field; reimport takes test or product/engagement names"
                    .into(),
            ));
        }
        if !reimport && (self.test.is_some() || self.do_not_reactivate.is_some()) {
            return Err(DojoError::InvalidRequest(
                "test and do_not_reactivate are reimport fields".into(),
            ));
        }
        Ok(())
    }

    async fn form(&self, file: &ScanFile) -> Result<Form, DojoError> {
        let mut form = Form::new();
        for (name, value) in self.form_fields() {
            form = form.text(name, value);
        }
        Ok(form.part("file", file.part().await?))
    }
}

impl DojoClient {
    /// `POST /api/v2/import-scan/`: imports a report into a new test. Uses the write token.
    pub async fn import_scan(
        &self,
        upload: &ScanUpload,
        file: &ScanFile,
    ) -> Result<types::ImportScan, DojoError> {
        upload.check(false)?;
        self.send_multipart("import-scan/", upload.form(file).await?)
            .await
    }

    /// `POST /api/v2/reimport-scan/`: merges a report into an existing test, answering what changed
    /// (`statistics.delta`). Uses the write token.
    pub async fn reimport_scan(
        &self,
        upload: &ScanUpload,
        file: &ScanFile,
    ) -> Result<types::ReImportScan, DojoError> {
        upload.check(true)?;
        self.send_multipart("reimport-scan/", upload.form(file).await?)
            .await
    }
}
