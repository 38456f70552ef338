//! Turns the generated client's results into `DojoError`s that say what failed.

use crate::error::DojoError;
use progenitor_client::{Error as GenError, ResponseValue};
use serde::de::DeserializeOwned;
use std::future::Future;

/// Awaits a generated call (`client.findings_retrieve().id(1).send()`) and returns its body or a
/// `DojoError` carrying DefectDojo's parsed error body, or the path of the field that failed to decode.
pub async fn call<T, F>(request: F) -> Result<T, DojoError>
where
    T: DeserializeOwned,
    F: Future<Output = Result<ResponseValue<T>, GenError<()>>>,
{
    match request.await {
        Ok(value) => Ok(value.into_inner()),
        Err(e) => Err(convert::<T>(e).await),
    }
}

/// Like [`call`] for operations that answer with no body (204).
pub async fn call_empty<F>(request: F) -> Result<(), DojoError>
where
    F: Future<Output = Result<ResponseValue<()>, GenError<()>>>,
{
    match request.await {
        Ok(_) => Ok(()),
        Err(e) => Err(convert::<serde_json::Value>(e).await),
    }
}

/// Like [`call`] for operations that answer a file (the `download` operations): its bytes.
pub async fn call_bytes<F>(request: F) -> Result<bytes::Bytes, DojoError>
where
    F: Future<Output = Result<ResponseValue<progenitor_client::ByteStream>, GenError<()>>>,
{
    use futures_util::TryStreamExt;
    match request.await {
        Ok(value) => {
            // Appended as it arrives: the file is held once, not as chunks and then again whole.
            let mut stream = value.into_inner().into_inner();
            let mut file = bytes::BytesMut::new();
            while let Some(chunk) = stream
                .try_next()
                .await
                .map_err(|e| DojoError::transport(&e))?
            {
                file.extend_from_slice(&chunk);
            }
            Ok(file.freeze())
        }
        Err(e) => Err(convert::<serde_json::Value>(e).await),
    }
}

async fn convert<T: DeserializeOwned>(error: GenError<()>) -> DojoError {
    match error {
        GenError::InvalidRequest(msg) => DojoError::InvalidRequest(msg),
        GenError::Custom(msg) => DojoError::InvalidRequest(msg),
        GenError::CommunicationError(e)
        | GenError::InvalidUpgrade(e)
        | GenError::ResponseBodyError(e) => DojoError::transport(&e),
        GenError::ErrorResponse(rv) => DojoError::from_status_and_body(rv.status().as_u16(), b""),
        GenError::InvalidResponsePayload(bytes, e) => decode_error::<T>(&bytes, &e),
        GenError::UnexpectedResponse(response) => {
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            match response.bytes().await {
                Ok(body) => DojoError::from_response_parts(status, &headers, &body),
                Err(e) => DojoError::transport(&e),
            }
        }
    }
}

/// Decodes again with path tracking so the error names the field (`results[2].note_type`).
pub(crate) fn decode_error<T: DeserializeOwned>(
    bytes: &[u8],
    fallback: &serde_json::Error,
) -> DojoError {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    match serde_path_to_error::deserialize::<_, T>(&mut de) {
        Err(e) => DojoError::Decode {
            path: e.path().to_string(),
            message: e.inner().to_string(),
        },
        Ok(_) => DojoError::Decode {
            path: ".".into(),
            message: fallback.to_string(),
        },
    }
}

/// Decodes a response body into `T`, naming the failing field on error.
pub(crate) fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, DojoError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize::<_, T>(&mut de).map_err(|e| DojoError::Decode {
        path: e.path().to_string(),
        message: e.inner().to_string(),
    })
}
