//! The cloud `Files` adapter: one private S3 bucket. Uploads and downloads
//! go straight between the client and S3 through presigned URLs; the
//! function itself only signs (no bytes pass through Lambda), asks
//! HeadObject before attaching, removes the pending tag of what it
//! attaches, and deletes what a deleted post or an edit discards.
//!
//! Written on `aws-sigv4` (the signer the AWS SDK itself uses) rather than
//! the `aws-sdk-s3` client: five requests need no generated client, and
//! that client made every file function 0.33 MB larger (arm64 zip,
//! measured before and after: docs/performance.md, run 8), which took
//! calendar-create and the two file functions over issue 3's 3 MB. Every request is a presigned URL signed
//! exactly as the SDK's presigner signs it (S3's settings: single
//! percent-encoding, no path normalisation, `UNSIGNED-PAYLOAD`); the three
//! the function sends itself (HeadObject, DeleteObjectTagging, DeleteObject) go through
//! the process's one HTTP client. tests/tests/it/files.rs holds each URL
//! to the SDK presigner's, byte for byte.

use super::{Files, FilesError, PENDING_TAG, PresignedUpload, Stat, content_disposition};
use crate::aws::AwsEnv;
use crate::http_client::Http;
use async_trait::async_trait;
use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    PayloadChecksumKind, PercentEncodingMode, SessionTokenMode, SignableBody, SignableRequest,
    SignatureLocation, SigningSettings, UriPathNormalizationMode, sign,
};
use aws_sigv4::sign::v4;
use aws_smithy_http::label::{EncodingStrategy, fmt_string as encode_key};
use aws_smithy_http::query_writer::QueryWriter;
use aws_smithy_runtime_api::client::identity::Identity;
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

/// How long the URL of a request the function sends itself is valid.
const OWN_REQUEST_TTL: Duration = Duration::from_secs(60);

pub struct S3Files {
    http: Http,
    identity: Identity,
    region: String,
    /// `https://<bucket>.s3.<region>.amazonaws.com`, or for a local
    /// endpoint (moto) `<endpoint>/<bucket>`: path style, since
    /// `<bucket>.127.0.0.1` does not resolve.
    base: String,
}

impl S3Files {
    pub fn new(aws: &AwsEnv, bucket: &str) -> Self {
        Self::with(
            aws.http().clone(),
            aws.credentials().clone(),
            aws.region(),
            aws.s3_endpoint(),
            bucket,
        )
    }

    /// The parts on their own (tests sign as the SDK would, with its
    /// credentials and endpoint).
    pub fn with(
        http: Http,
        credentials: Credentials,
        region: &str,
        endpoint: Option<&str>,
        bucket: &str,
    ) -> Self {
        let base = match endpoint {
            Some(url) => format!("{}/{bucket}", url.trim_end_matches('/')),
            None => format!("https://{bucket}.s3.{region}.amazonaws.com"),
        };
        S3Files {
            http,
            identity: credentials.into(),
            region: region.to_string(),
            base,
        }
    }

    /// A presigned URL for `method` on `key`, with the query parameters
    /// of the operation and the headers the request must then carry.
    fn presign(
        &self,
        method: &str,
        key: &str,
        query: &[(&str, &str)],
        headers: &[(&str, String)],
        now: DateTime<Utc>,
        expires: Duration,
    ) -> Result<(String, BTreeMap<String, String>), FilesError> {
        let fail = |what: &str, e: &dyn std::fmt::Display| FilesError(format!("s3 {what}: {e}"));
        let mut url = QueryWriter::new_from_string(&format!(
            "{}/{}",
            self.base,
            encode_key(key, EncodingStrategy::Greedy)
        ))
        .map_err(|e| fail("url", &e))?;
        for (name, value) in query {
            url.insert(name, value);
        }
        let mut request = http::Request::builder().method(method).uri(url.build_uri());
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        let mut request = request.body(()).map_err(|e| fail("request", &e))?;
        let uri = request.uri().to_string();
        let signable = SignableRequest::new(
            method,
            uri,
            request
                .headers()
                .iter()
                .filter_map(|(n, v)| v.to_str().ok().map(|v| (n.as_str(), v))),
            SignableBody::UnsignedPayload,
        )
        .map_err(|e| fail("signing", &e))?;
        let mut settings = SigningSettings::default();
        settings.percent_encoding_mode = PercentEncodingMode::Single;
        settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
        settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
        settings.session_token_mode = SessionTokenMode::Include;
        settings.signature_location = SignatureLocation::QueryParams;
        settings.expires_in = Some(expires);
        let params = v4::SigningParams::builder()
            .identity(&self.identity)
            .region(&self.region)
            .name("s3")
            .time(SystemTime::from(now))
            .settings(settings)
            .build()
            .map_err(|e| fail("signing", &e))?
            .into();
        let (instructions, _) = sign(signable, &params)
            .map_err(|e| fail("signing", &e))?
            .into_parts();
        instructions.apply_to_request_http1x(&mut request);
        let headers = request
            .headers()
            .iter()
            .filter_map(|(n, v)| Some((n.as_str().to_string(), v.to_str().ok()?.to_string())))
            .collect();
        Ok((request.uri().to_string(), headers))
    }

    /// The presigned URL of a request the function sends itself.
    pub fn own_request_url(
        &self,
        request: OwnRequest,
        key: &str,
        now: DateTime<Utc>,
        expires: Duration,
    ) -> Result<String, FilesError> {
        let (method, query) = request.parts();
        Ok(self
            .presign(method.as_str(), key, query, &[], now, expires)?
            .0)
    }

    /// Sends a request the function makes itself.
    async fn send(
        &self,
        request: OwnRequest,
        key: &str,
    ) -> Result<(u16, http::HeaderMap), FilesError> {
        let url = self.own_request_url(request, key, Utc::now(), OWN_REQUEST_TTL)?;
        let (method, _) = request.parts();
        self.http
            .send_for_headers(method, &url)
            .await
            .map_err(|e| FilesError(format!("s3: {e}")))
    }

    /// Sends a request whose answer is only its status, which must be 2xx.
    async fn expect_success(&self, request: OwnRequest, key: &str) -> Result<(), FilesError> {
        let (status, _) = self.send(request, key).await?;
        if (200..300).contains(&status) {
            Ok(())
        } else {
            Err(FilesError(format!("s3 {request:?}: HTTP {status}")))
        }
    }
}

/// The requests the function sends to S3 itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OwnRequest {
    /// HeadObject: what an upload holds, before it is attached.
    Head,
    /// DeleteObjectTagging: the pending tag off what is attached.
    Untag,
    /// DeleteObject: the bytes of a discarded file.
    Delete,
}

impl OwnRequest {
    /// Its method and the query that names the operation.
    fn parts(self) -> (http::Method, &'static [(&'static str, &'static str)]) {
        match self {
            OwnRequest::Head => (http::Method::HEAD, &[]),
            OwnRequest::Untag => (
                http::Method::DELETE,
                &[("tagging", ""), ("x-id", "DeleteObjectTagging")],
            ),
            OwnRequest::Delete => (http::Method::DELETE, &[("x-id", "DeleteObject")]),
        }
    }
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
        let (url, headers) = self.presign(
            "PUT",
            key,
            &[("x-id", "PutObject")],
            &[
                ("content-length", size.to_string()),
                ("content-type", content_type.to_string()),
                (
                    "x-amz-tagging",
                    format!("{}={}", PENDING_TAG.0, PENDING_TAG.1),
                ),
            ],
            now,
            expires,
        )?;
        Ok(PresignedUpload {
            url,
            method: "PUT".to_string(),
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
        let disposition = content_disposition(file_name);
        let (url, _) = self.presign(
            "GET",
            key,
            &[
                ("x-id", "GetObject"),
                ("response-content-disposition", &disposition),
                ("response-content-type", content_type),
            ],
            &[],
            now,
            expires,
        )?;
        Ok(url)
    }

    async fn stat(&self, key: &str) -> Result<Option<Stat>, FilesError> {
        let (status, headers) = self.send(OwnRequest::Head, key).await?;
        match status {
            200 => Ok(Some(Stat {
                size: headers
                    .get(http::header::CONTENT_LENGTH)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0),
                content_type: headers
                    .get(http::header::CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string),
            })),
            404 => Ok(None),
            other => Err(FilesError(format!("s3 head: HTTP {other}"))),
        }
    }

    async fn keep(&self, key: &str) -> Result<(), FilesError> {
        self.expect_success(OwnRequest::Untag, key).await
    }

    /// S3 answers 204 whether or not the key held anything.
    async fn remove(&self, key: &str) -> Result<(), FilesError> {
        self.expect_success(OwnRequest::Delete, key).await
    }
}
