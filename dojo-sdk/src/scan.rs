//! Multipart `import-scan` and `reimport-scan`, which the generated client cannot express.

use crate::client::DojoClient;
use crate::error::DojoError;
use crate::generated::types;
use chrono::NaiveDate;
use reqwest::multipart::{Form, Part};
use std::path::Path;

/// The scan report to upload.
#[derive(Clone)]
pub struct ScanFile {
    name: String,
    // Shared, so building a request (and retrying one) never copies a large report.
    bytes: bytes::Bytes,
}

impl std::fmt::Debug for ScanFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScanFile")
            .field("name", &self.name)
            .field("len", &self.bytes.len())
            .finish()
    }
}

impl ScanFile {
    /// A report held in memory. DefectDojo checks the name's extension (`.xml`, `.json`, ...).
    pub fn from_bytes(name: impl Into<String>, bytes: impl Into<bytes::Bytes>) -> Self {
        ScanFile {
            name: name.into(),
            bytes: bytes.into(),
        }
    }

    /// Reads a report from disk; the upload carries the file's own name.
    pub async fn from_path(path: impl AsRef<Path>) -> Result<Self, DojoError> {
        let path = path.as_ref();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| DojoError::InvalidRequest("scan file path has no file name".into()))?
            .to_string();
        let bytes = tokio_fs_read(path).await?;
        Ok(ScanFile {
            name,
            bytes: bytes.into(),
        })
    }

    /// The same report under another file name (DefectDojo checks the extension).
    pub fn renamed(self, name: impl Into<String>) -> Self {
        ScanFile {
            name: name.into(),
            ..self
        }
    }

    /// The file name sent to DefectDojo.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Size in bytes.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// True for an empty file.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }
}

async fn tokio_fs_read(path: &Path) -> Result<Vec<u8>, DojoError> {
    let path = path.to_path_buf();
    // std::fs on a blocking thread keeps the SDK free of a tokio "fs" dependency.
    let read = std::thread::spawn(move || std::fs::read(&path));
    read.join()
        .map_err(|_| DojoError::InvalidRequest("reading the scan file failed".into()))?
        .map_err(|e| DojoError::InvalidRequest(format!("cannot read scan file: {}", e.kind())))
}

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

    fn form(&self, file: &ScanFile) -> Result<Form, DojoError> {
        let mut form = Form::new();
        for (name, value) in self.form_fields() {
            form = form.text(name, value);
        }
        let body = reqwest::Body::from(file.bytes.clone());
        let part = Part::stream_with_length(body, file.bytes.len() as u64)
            .file_name(file.name.clone())
            .mime_str("application/octet-stream")
            .map_err(|e| DojoError::InvalidRequest(format!("bad file part: {e}")))?;
        Ok(form.part("file", part))
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
        self.upload("import-scan/", upload.form(file)?).await
    }

    /// `POST /api/v2/reimport-scan/`: merges a report into an existing test, answering what changed
    /// (`statistics.delta`). Uses the write token.
    pub async fn reimport_scan(
        &self,
        upload: &ScanUpload,
        file: &ScanFile,
    ) -> Result<types::ReImportScan, DojoError> {
        upload.check(true)?;
        self.upload("reimport-scan/", upload.form(file)?).await
    }

    async fn upload<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        form: Form,
    ) -> Result<T, DojoError> {
        let request = self.write_http().post(self.api_url(path)).multipart(form);
        self.send_raw(request).await
    }
}
