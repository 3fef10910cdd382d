//! The cloud `Files` adapter: one private S3 bucket. Uploads and downloads
//! go straight between the client and S3 through presigned URLs; the
//! function itself only signs (no bytes pass through Lambda), asks
//! HeadObject before attaching, and removes the pending tag of what it
//! attaches.

use super::{Files, FilesError, PENDING_TAG, PresignedUpload, Stat, content_disposition};
use async_trait::async_trait;
use aws_sdk_s3::Client;
use aws_sdk_s3::error::DisplayErrorContext;
use aws_sdk_s3::presigning::PresigningConfig;
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

pub struct S3Files {
    client: Client,
    bucket: String,
}

impl S3Files {
    pub fn new(client: Client, bucket: impl Into<String>) -> Self {
        S3Files {
            client,
            bucket: bucket.into(),
        }
    }
}

fn presigning(now: DateTime<Utc>, expires: Duration) -> Result<PresigningConfig, FilesError> {
    PresigningConfig::builder()
        .start_time(SystemTime::from(now))
        .expires_in(expires)
        .build()
        .map_err(|e| FilesError(format!("s3 presigning: {e}")))
}

fn failed<E: std::error::Error>(what: &str, e: E) -> FilesError {
    FilesError(format!("s3 {what}: {}", DisplayErrorContext(&e)))
}

#[async_trait]
impl Files for S3Files {
    async fn presign_upload(
        &self,
        key: &str,
        content_type: &str,
        size: u64,
        now: DateTime<Utc>,
        expires: Duration,
    ) -> Result<PresignedUpload, FilesError> {
        let length = i64::try_from(size).map_err(|_| FilesError("size out of range".into()))?;
        let request = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .content_length(length)
            .tagging(format!("{}={}", PENDING_TAG.0, PENDING_TAG.1))
            .presigned(presigning(now, expires)?)
            .await
            .map_err(|e| failed("presign put", e))?;
        // The signed headers the client must send; `host` it sends anyway.
        let headers = request
            .headers()
            .filter(|(name, _)| !name.eq_ignore_ascii_case("host"))
            .map(|(name, value)| (name.to_ascii_lowercase(), value.to_string()))
            .collect::<BTreeMap<_, _>>();
        Ok(PresignedUpload {
            url: request.uri().to_string(),
            method: request.method().to_string(),
            headers,
        })
    }

    async fn presign_download(
        &self,
        key: &str,
        file_name: &str,
        content_type: &str,
        now: DateTime<Utc>,
        expires: Duration,
    ) -> Result<String, FilesError> {
        let request = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .response_content_disposition(content_disposition(file_name))
            .response_content_type(content_type)
            .presigned(presigning(now, expires)?)
            .await
            .map_err(|e| failed("presign get", e))?;
        Ok(request.uri().to_string())
    }

    async fn stat(&self, key: &str) -> Result<Option<Stat>, FilesError> {
        match self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(head) => Ok(Some(Stat {
                size: head
                    .content_length()
                    .and_then(|n| u64::try_from(n).ok())
                    .unwrap_or(0),
                content_type: head.content_type().map(str::to_string),
            })),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => Ok(None),
            Err(e) => Err(failed("head", e)),
        }
    }

    async fn keep(&self, key: &str) -> Result<(), FilesError> {
        self.client
            .delete_object_tagging()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| failed("untag", e))
    }
}
