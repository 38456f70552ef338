//! Multipart uploads the generated client cannot express (progenitor has no multipart bodies): files
//! attached to findings, engagements and tests, the languages report and the endpoint metadata CSV.
//! Scan import and reimport, the other two, are in [`crate::scan`]. Every upload streams its file:
//! from memory without a copy, or from disk as it is sent.

use crate::client::DojoClient;
use crate::error::DojoError;
#[allow(unused_imports)]
use crate::generated::types;
use reqwest::multipart::{Form, Part};
use std::path::{Path, PathBuf};

/// A file to upload (a scan report, evidence, a languages report): bytes in memory, or a file on
/// disk streamed from it at upload time (never held whole in memory, and read without blocking the
/// async runtime).
#[derive(Clone)]
pub struct ScanFile {
    name: String,
    source: Source,
}

#[derive(Clone)]
enum Source {
    // Shared, so building a request never copies a large report.
    Memory(bytes::Bytes),
    Disk { path: PathBuf, len: u64 },
}

impl std::fmt::Debug for ScanFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScanFile")
            .field("name", &self.name)
            .field("len", &self.len())
            .field("on_disk", &matches!(self.source, Source::Disk { .. }))
            .finish()
    }
}

impl ScanFile {
    /// A report held in memory. DefectDojo checks the name's extension (`.xml`, `.json`, ...).
    pub fn from_bytes(name: impl Into<String>, bytes: impl Into<bytes::Bytes>) -> Self {
        ScanFile {
            name: name.into(),
            source: Source::Memory(bytes.into()),
        }
    }

    /// A report on disk, under the file's own name. Only its size is read now; the content is
    /// streamed from disk when the upload is sent.
    pub async fn from_path(path: impl AsRef<Path>) -> Result<Self, DojoError> {
        let path = path.as_ref();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| DojoError::InvalidRequest("scan file path has no file name".into()))?
            .to_string();
        let meta = tokio::fs::metadata(path).await.map_err(|e| {
            DojoError::InvalidRequest(format!("cannot read scan file: {}", e.kind()))
        })?;
        if !meta.is_file() {
            return Err(DojoError::InvalidRequest(
                "scan file path is not a regular file".into(),
            ));
        }
        Ok(ScanFile {
            name,
            source: Source::Disk {
                path: path.to_path_buf(),
                len: meta.len(),
            },
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
    pub fn len(&self) -> u64 {
        match &self.source {
            Source::Memory(bytes) => bytes.len() as u64,
            Source::Disk { len, .. } => *len,
        }
    }

    /// True for an empty file.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The upload body: the shared bytes, or the file read in 64 KiB chunks as it is sent.
    async fn body(&self) -> Result<reqwest::Body, DojoError> {
        match &self.source {
            Source::Memory(bytes) => Ok(reqwest::Body::from(bytes.clone())),
            Source::Disk { path, len } => {
                use tokio::io::AsyncReadExt;
                let file = tokio::fs::File::open(path).await.map_err(|e| {
                    DojoError::InvalidRequest(format!("cannot read scan file: {}", e.kind()))
                })?;
                // Never more than the length the multipart part declares, even if the file grew.
                let file = file.take(*len);
                let chunks = futures_util::stream::try_unfold(file, |mut file| async move {
                    let mut buf = bytes::BytesMut::with_capacity(64 * 1024);
                    let n = file.read_buf(&mut buf).await?;
                    Ok::<_, std::io::Error>((n > 0).then(|| (buf.freeze(), file)))
                });
                Ok(reqwest::Body::wrap_stream(chunks))
            }
        }
    }
}

impl ScanFile {
    /// The multipart part carrying this file under its name.
    pub(crate) async fn part(&self) -> Result<Part, DojoError> {
        Part::stream_with_length(self.body().await?, self.len())
            .file_name(self.name.clone())
            .mime_str("application/octet-stream")
            .map_err(|e| DojoError::InvalidRequest(format!("bad file part: {e}")))
    }
}

/// Any file to upload; the same type as a scan report.
pub type UploadFile = ScanFile;

/// What a file is attached to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileOwner {
    /// `POST /api/v2/findings/{id}/files/`
    Finding(i64),
    /// `POST /api/v2/engagements/{id}/files/`
    Engagement(i64),
    /// `POST /api/v2/tests/{id}/files/`
    Test(i64),
}

impl FileOwner {
    fn path(self) -> String {
        match self {
            FileOwner::Finding(id) => format!("findings/{id}/files/"),
            FileOwner::Engagement(id) => format!("engagements/{id}/files/"),
            FileOwner::Test(id) => format!("tests/{id}/files/"),
        }
    }
}

/// `POST /api/v2/endpoint_meta_import/`: a CSV of endpoints (`hostname` column) and their metadata,
/// for a product given by id or name.
#[derive(Debug, Clone, Default)]
pub struct EndpointMetaImport {
    /// The product, by id.
    pub product: Option<i64>,
    /// The product, by name (when `product` is not given).
    pub product_name: Option<String>,
    /// Create the endpoints the CSV names that do not exist yet.
    pub create_endpoints: Option<bool>,
    /// Add the CSV's other columns as tags.
    pub create_tags: Option<bool>,
    /// Add the CSV's other columns as custom fields (DojoMeta).
    pub create_dojo_meta: Option<bool>,
}

impl DojoClient {
    /// Attaches a file with a title to a finding, an engagement or a test. Titles are unique across
    /// the whole DefectDojo: a second file with a title already used anywhere is refused (400,
    /// [`ErrorKind::Invalid`](crate::ErrorKind::Invalid)). Uses the write token.
    #[cfg(any(feature = "findings", feature = "engagements"))]
    pub async fn upload_file(
        &self,
        owner: FileOwner,
        title: &str,
        file: &UploadFile,
    ) -> Result<types::File, DojoError> {
        if title.trim().is_empty() {
            return Err(DojoError::InvalidRequest("a file needs a title".into()));
        }
        let form = Form::new()
            .text("title", title.to_string())
            .part("file", file.part().await?);
        self.send_multipart(&owner.path(), form).await
    }

    /// `POST /api/v2/import-languages/`: a cloc JSON report of the product's languages. Uses the
    /// write token.
    #[cfg(feature = "import")]
    pub async fn import_languages(
        &self,
        product: i64,
        file: &UploadFile,
    ) -> Result<types::ImportLanguages, DojoError> {
        let form = Form::new()
            .text("product", product.to_string())
            .part("file", file.part().await?);
        self.send_multipart("import-languages/", form).await
    }

    /// `POST /api/v2/endpoint_meta_import/`: endpoint metadata from a CSV. Uses the write token.
    #[cfg(feature = "import")]
    pub async fn import_endpoint_meta(
        &self,
        import: &EndpointMetaImport,
        file: &UploadFile,
    ) -> Result<types::EndpointMetaImporter, DojoError> {
        if import.product.is_none() && import.product_name.is_none() {
            return Err(DojoError::InvalidRequest(
                "endpoint metadata import needs product or product_name".into(),
            ));
        }
        let mut form = Form::new();
        if let Some(v) = import.product {
            form = form.text("product", v.to_string());
        }
        if let Some(v) = &import.product_name {
            form = form.text("product_name", v.clone());
        }
        for (name, value) in [
            ("create_endpoints", import.create_endpoints),
            ("create_tags", import.create_tags),
            ("create_dojo_meta", import.create_dojo_meta),
        ] {
            if let Some(v) = value {
                form = form.text(name, v.to_string());
            }
        }
        self.send_multipart(
            "endpoint_meta_import/",
            form.part("file", file.part().await?),
        )
        .await
    }

    /// POSTs a multipart form with the write token and decodes the answer.
    pub(crate) async fn send_multipart<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        form: Form,
    ) -> Result<T, DojoError> {
        let request = self.write_http().post(self.api_url(path)).multipart(form);
        self.send_raw(request).await
    }
}
