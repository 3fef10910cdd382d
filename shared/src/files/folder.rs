//! The local `Files` adapter: a folder, served by the local server on
//! `PUT/GET /local-files/<key>` with URLs signed like S3's presigned ones
//! (HMAC-SHA256 over method, key, expiry and what the URL allows, with a
//! key made at start), so a client uploads and downloads locally exactly
//! as it would in the cloud.
//!
//! HMAC from aws-lc-rs: the crypto library already in every binary (as
//! rustls' and jsonwebtoken's backend), with a constant-time verify.

use super::{Files, FilesError, PresignedUpload, Stat};
use async_trait::async_trait;
use aws_lc_rs::hmac;
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The path prefix the local server serves files under.
pub const ROUTE_PREFIX: &str = "/local-files/";

pub struct FolderFiles {
    dir: PathBuf,
    base_url: String,
    key: hmac::Key,
}

/// What a verified URL allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LocalRequest {
    /// PUT exactly `size` bytes of `content_type`.
    Upload { content_type: String, size: u64 },
    /// GET, offered as `file_name`.
    Download {
        content_type: String,
        file_name: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("not a file key")]
    BadKey,
    #[error("the URL is incomplete")]
    Incomplete,
    #[error("the signature does not match")]
    Mismatch,
    #[error("the URL has expired")]
    Expired,
}

/// A key is `files/<id>`-like: segments of letters, digits, `-` and `_`,
/// so it can never leave the folder.
fn valid_key(key: &str) -> bool {
    !key.is_empty()
        && key.split('/').all(|seg| {
            !seg.is_empty()
                && seg
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        })
}

fn encode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

impl FolderFiles {
    /// Files under `dir`, served at `base_url` (the local server's address).
    pub fn new(dir: impl Into<PathBuf>, base_url: impl Into<String>) -> Self {
        let mut secret = [0u8; 32];
        // getrandom fails only without an OS random source; a fixed key
        // would still sign, so a local server goes on rather than stop.
        let _ = getrandom::fill(&mut secret);
        FolderFiles {
            dir: dir.into(),
            base_url: base_url.into().trim_end_matches('/').to_string(),
            key: hmac::Key::new(hmac::HMAC_SHA256, &secret),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn message(op: &str, key: &str, expires: i64, content_type: &str, detail: &str) -> String {
        format!("{op}\n{key}\n{expires}\n{content_type}\n{detail}")
    }

    /// The signed URL of one operation (`put` with the size as detail,
    /// `get` with the file name), valid until `expires` (epoch seconds).
    pub fn signed_url(
        &self,
        op: &str,
        key: &str,
        expires: i64,
        content_type: &str,
        detail: &str,
    ) -> String {
        let tag = hmac::sign(
            &self.key,
            Self::message(op, key, expires, content_type, detail).as_bytes(),
        );
        let detail_name = if op == "put" { "size" } else { "name" };
        format!(
            "{}{ROUTE_PREFIX}{key}?op={op}&expires={expires}&type={}&{detail_name}={}&sig={}",
            self.base_url,
            encode(content_type),
            encode(detail),
            hex(tag.as_ref()),
        )
    }

    /// Checks a request to `/local-files/<key>?<query>` by `method` at
    /// `now`: what it may do, or why not.
    pub fn verify(
        &self,
        method: &http::Method,
        key: &str,
        query: &str,
        now: DateTime<Utc>,
    ) -> Result<LocalRequest, SignatureError> {
        if !valid_key(key) {
            return Err(SignatureError::BadKey);
        }
        let q: HashMap<String, String> = url::form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        let get = |name: &str| q.get(name).ok_or(SignatureError::Incomplete);
        let op = match *method {
            http::Method::PUT => "put",
            http::Method::GET => "get",
            _ => return Err(SignatureError::Mismatch),
        };
        if get("op")? != op {
            return Err(SignatureError::Mismatch);
        }
        let expires: i64 = get("expires")?
            .parse()
            .map_err(|_| SignatureError::Incomplete)?;
        let content_type = get("type")?;
        let detail = if op == "put" {
            get("size")?
        } else {
            get("name")?
        };
        let sig = unhex(get("sig")?).ok_or(SignatureError::Mismatch)?;
        hmac::verify(
            &self.key,
            Self::message(op, key, expires, content_type, detail).as_bytes(),
            &sig,
        )
        .map_err(|_| SignatureError::Mismatch)?;
        if now.timestamp() > expires {
            return Err(SignatureError::Expired);
        }
        Ok(if op == "put" {
            LocalRequest::Upload {
                content_type: content_type.clone(),
                size: detail.parse().map_err(|_| SignatureError::Incomplete)?,
            }
        } else {
            LocalRequest::Download {
                content_type: content_type.clone(),
                file_name: detail.clone(),
            }
        })
    }

    fn path(&self, key: &str) -> Result<PathBuf, FilesError> {
        if valid_key(key) {
            Ok(self.dir.join(key))
        } else {
            Err(FilesError("not a file key".into()))
        }
    }

    fn type_path(path: &Path) -> PathBuf {
        path.with_extension("type")
    }

    /// Stores uploaded bytes and their type (the local server's PUT).
    pub async fn write(
        &self,
        key: &str,
        content_type: &str,
        data: &[u8],
    ) -> Result<(), FilesError> {
        let path = self.path(key)?;
        if let Some(parent) = path.parent() {
            tokio::fs::create_dir_all(parent)
                .await
                .map_err(|e| FilesError(format!("files folder: {e}")))?;
        }
        tokio::fs::write(&path, data)
            .await
            .map_err(|e| FilesError(format!("files folder: {e}")))?;
        tokio::fs::write(Self::type_path(&path), content_type)
            .await
            .map_err(|e| FilesError(format!("files folder: {e}")))
    }

    /// The bytes under `key`, `None` if nothing was uploaded (the local
    /// server's GET).
    pub async fn read(&self, key: &str) -> Result<Option<Vec<u8>>, FilesError> {
        match tokio::fs::read(self.path(key)?).await {
            Ok(data) => Ok(Some(data)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(FilesError(format!("files folder: {e}"))),
        }
    }
}

fn expires_at(now: DateTime<Utc>, expires: Duration) -> i64 {
    now.timestamp() + i64::try_from(expires.as_secs()).unwrap_or(i64::MAX / 2)
}

#[async_trait]
impl Files for FolderFiles {
    async fn presign_upload(
        &self,
        key: &str,
        content_type: &str,
        size: u64,
        now: DateTime<Utc>,
        expires: Duration,
    ) -> Result<PresignedUpload, FilesError> {
        self.path(key)?;
        let url = self.signed_url(
            "put",
            key,
            expires_at(now, expires),
            content_type,
            &size.to_string(),
        );
        Ok(PresignedUpload {
            url,
            method: "PUT".into(),
            headers: BTreeMap::from([("content-type".to_string(), content_type.to_string())]),
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
        self.path(key)?;
        Ok(self.signed_url(
            "get",
            key,
            expires_at(now, expires),
            content_type,
            file_name,
        ))
    }

    async fn stat(&self, key: &str) -> Result<Option<Stat>, FilesError> {
        let path = self.path(key)?;
        let meta = match tokio::fs::metadata(&path).await {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(FilesError(format!("files folder: {e}"))),
        };
        let content_type = tokio::fs::read_to_string(Self::type_path(&path)).await.ok();
        Ok(Some(Stat {
            size: meta.len(),
            content_type,
        }))
    }

    /// Nothing expires locally: a pending upload stays until the folder is
    /// deleted.
    async fn keep(&self, key: &str) -> Result<(), FilesError> {
        self.path(key).map(|_| ())
    }

    async fn remove(&self, key: &str) -> Result<(), FilesError> {
        let path = self.path(key)?;
        for file in [Self::type_path(&path), path] {
            match tokio::fs::remove_file(&file).await {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(FilesError(format!("files folder: {e}"))),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default()
    }

    fn parts(url: &str) -> (String, String) {
        let rest = url.split(ROUTE_PREFIX).nth(1).unwrap_or_default();
        let (key, query) = rest.split_once('?').unwrap_or((rest, ""));
        (key.to_string(), query.to_string())
    }

    #[tokio::test]
    async fn a_signed_url_allows_what_it_names_until_it_expires() {
        let f = FolderFiles::new("/unused", "http://127.0.0.1:1");
        let p = f
            .presign_upload(
                "files/A1",
                "application/pdf",
                42,
                now(),
                Duration::from_secs(60),
            )
            .await
            .unwrap();
        let (key, query) = parts(&p.url);
        assert_eq!(
            f.verify(&http::Method::PUT, &key, &query, now()),
            Ok(LocalRequest::Upload {
                content_type: "application/pdf".into(),
                size: 42
            })
        );
        let later = now() + chrono::Duration::seconds(61);
        assert_eq!(
            f.verify(&http::Method::PUT, &key, &query, later),
            Err(SignatureError::Expired)
        );
        // A PUT URL is not a GET URL.
        assert_eq!(
            f.verify(&http::Method::GET, &key, &query, now()),
            Err(SignatureError::Mismatch)
        );
    }

    #[tokio::test]
    async fn a_changed_size_key_or_expiry_breaks_the_signature() {
        let f = FolderFiles::new("/unused", "http://127.0.0.1:1");
        let url = f
            .presign_upload("files/A1", "image/png", 42, now(), Duration::from_secs(60))
            .await
            .unwrap()
            .url;
        let (key, query) = parts(&url);
        for (k, q) in [
            (key.clone(), query.replace("size=42", "size=43")),
            ("files/A2".to_string(), query.clone()),
            (key.clone(), query.replace("expires=", "expires=9")),
        ] {
            assert_eq!(
                f.verify(&http::Method::PUT, &k, &q, now()),
                Err(SignatureError::Mismatch),
                "{k}?{q}"
            );
        }
        // Another process's key does not sign for this one.
        let other = FolderFiles::new("/unused", "http://127.0.0.1:1");
        assert_eq!(
            other.verify(&http::Method::PUT, &key, &query, now()),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn a_key_cannot_leave_the_folder() {
        assert!(valid_key("files/01JD0000000000000000000P01"));
        for bad in ["", "../x", "files/../../etc", "files//x", "/abs", "a b"] {
            assert!(!valid_key(bad), "{bad}");
        }
    }
}
