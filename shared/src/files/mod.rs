//! Files (C1-C3: the images and files of blog posts and news): uploaded by staff
//! straight to storage through a presigned PUT, attached to a post by id,
//! downloaded through a short-lived presigned GET after the caller is
//! authorized against what the file is attached to.
//!
//! The `Files` port has two adapters: S3 in the cloud ([`S3Files`]), and a
//! folder served by the local server ([`FolderFiles`]) with HMAC-signed,
//! expiring URLs, so a client does the same three steps against either.
//!
//! A file's item (`FILE#<id>`) holds its owner, name, type, size and what
//! it is attached to; its bytes are at `files/<id>` (never under its name,
//! which stays in the table and out of the logs). An upload is `pending`
//! until it is attached: the item expires after a day (TTL), and in S3 the
//! object carries the tag `skolnav-pending=1`, which the bucket's lifecycle
//! rule expires after a day; attaching removes the tag first.
//!
//! A file is attached once: attaching a file that is already attached is
//! refused, so what a download is authorized against is never ambiguous.

mod folder;
#[cfg(feature = "s3")]
mod s3;

pub use folder::{FolderFiles, LocalRequest, SignatureError};
#[cfg(feature = "s3")]
pub use s3::{OwnRequest, S3Files};

use crate::clock::Clock;
use crate::directory::PersonRecord;
use crate::ids::{FileId, GroupId, NewsId, PersonId, PostId, SchoolId};
use crate::keys;
use crate::store::{Condition, Item, Store, StoreError, Write};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Duration;

/// How long an upload URL is valid.
pub const UPLOAD_URL_TTL: Duration = Duration::from_secs(15 * 60);
/// How long a download URL is valid.
pub const DOWNLOAD_URL_TTL: Duration = Duration::from_secs(5 * 60);
/// How long an upload that was never attached is kept (the item's TTL;
/// the bucket's lifecycle rule removes the object after the same day).
pub const PENDING_TTL: Duration = Duration::from_secs(24 * 3600);
/// The most attachments of one post.
pub const MAX_ATTACHMENTS: usize = 10;
/// The longest file name, in characters.
pub const MAX_FILE_NAME_CHARS: usize = 200;
pub const MAX_IMAGE_BYTES: u64 = 10 * 1024 * 1024;
pub const MAX_DOCUMENT_BYTES: u64 = 25 * 1024 * 1024;
/// The tag that marks a pending upload in S3 (the lifecycle rule's filter).
pub const PENDING_TAG: (&str, &str) = ("skolnav-pending", "1");

/// The types a file may have: images (shown in a post) and documents.
pub const IMAGE_TYPES: [&str; 4] = ["image/jpeg", "image/png", "image/webp", "image/gif"];
pub const DOCUMENT_TYPES: [&str; 6] = [
    "application/pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/vnd.oasis.opendocument.text",
    "text/plain",
];

/// Whether a content type is an image of the allow-list.
pub fn is_image(content_type: &str) -> bool {
    IMAGE_TYPES.contains(&content_type)
}

/// The largest size of a type of the allow-list; `None` for any other.
pub fn max_size(content_type: &str) -> Option<u64> {
    if is_image(content_type) {
        Some(MAX_IMAGE_BYTES)
    } else if DOCUMENT_TYPES.contains(&content_type) {
        Some(MAX_DOCUMENT_BYTES)
    } else {
        None
    }
}

/// Where and how to send the bytes of an upload.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PresignedUpload {
    pub url: String,
    pub method: String,
    /// Headers the upload must carry as given (they are signed).
    pub headers: BTreeMap<String, String>,
}

/// What storage holds under a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stat {
    pub size: u64,
    pub content_type: Option<String>,
}

#[derive(Debug, thiserror::Error)]
#[error("files: {0}")]
pub struct FilesError(pub String);

/// The storage of file bytes. Keys are `files/<id>`; names and types are
/// passed only to be signed into a URL.
#[async_trait]
pub trait Files: Send + Sync {
    /// A URL to PUT exactly `size` bytes of `content_type` to `key`,
    /// valid from `now` for `expires`.
    async fn presign_upload(
        &self,
        key: &str,
        content_type: &str,
        size: u64,
        now: DateTime<Utc>,
        expires: Duration,
    ) -> Result<PresignedUpload, FilesError>;

    /// A URL to GET `key`, offered as a download named `file_name`,
    /// valid from `now` for `expires`.
    async fn presign_download(
        &self,
        key: &str,
        file_name: &str,
        content_type: &str,
        now: DateTime<Utc>,
        expires: Duration,
    ) -> Result<String, FilesError>;

    /// Size and type of what was uploaded to `key`, `None` if nothing.
    async fn stat(&self, key: &str) -> Result<Option<Stat>, FilesError>;

    /// Keeps an upload that is being attached: removes what would expire
    /// it as never attached.
    async fn keep(&self, key: &str) -> Result<(), FilesError>;

    /// Removes the bytes at `key` (nothing there is no error).
    async fn remove(&self, key: &str) -> Result<(), FilesError>;
}

/// For functions that handle no files: every call fails. Their context
/// needs a `Files`, and linking S3 into them would cost size and init.
pub struct NoFiles;

#[async_trait]
impl Files for NoFiles {
    async fn presign_upload(
        &self,
        _: &str,
        _: &str,
        _: u64,
        _: DateTime<Utc>,
        _: Duration,
    ) -> Result<PresignedUpload, FilesError> {
        Err(FilesError("this function handles no files".into()))
    }

    async fn presign_download(
        &self,
        _: &str,
        _: &str,
        _: &str,
        _: DateTime<Utc>,
        _: Duration,
    ) -> Result<String, FilesError> {
        Err(FilesError("this function handles no files".into()))
    }

    async fn stat(&self, _: &str) -> Result<Option<Stat>, FilesError> {
        Err(FilesError("this function handles no files".into()))
    }

    async fn keep(&self, _: &str) -> Result<(), FilesError> {
        Err(FilesError("this function handles no files".into()))
    }

    async fn remove(&self, _: &str) -> Result<(), FilesError> {
        Err(FilesError("this function handles no files".into()))
    }
}

/// A `Content-Disposition` value offering a download under `file_name`:
/// an ASCII fallback and the UTF-8 name (RFC 6266, RFC 8187), so å, ä and
/// ö survive and no quote or control character reaches the header.
pub fn content_disposition(file_name: &str) -> String {
    let fallback: String = file_name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ' ' | '(' | ')') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = url::form_urlencoded::byte_serialize(file_name.as_bytes())
        .collect::<String>()
        .replace('+', "%20");
    format!("attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}")
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum Status {
    /// Asked for; the bytes may or may not have been sent.
    Pending,
    Attached,
}

/// What a file is attached to: what a download is authorized against.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum AttachedTo {
    /// A blog post, in each of these groups' blogs.
    #[serde(rename_all = "camelCase")]
    BlogPost {
        post_id: PostId,
        group_ids: Vec<GroupId>,
    },
    /// A news item, in each of these feeds.
    #[serde(rename_all = "camelCase")]
    News {
        news_id: NewsId,
        publish_at: DateTime<Utc>,
        placements: Vec<crate::news::Placement>,
    },
    /// A calendar event, in each of these calendars (its school and
    /// placement), filed under its first day.
    #[serde(rename_all = "camelCase")]
    CalendarEvent {
        event_id: crate::ids::EventId,
        first_day: chrono::NaiveDate,
        copies: Vec<(crate::ids::SchoolId, crate::calendar::Placement)>,
    },
}

/// The item of one file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct File {
    pub id: FileId,
    pub owner_id: PersonId,
    pub file_name: String,
    pub content_type: String,
    pub size: u64,
    pub status: Status,
    pub created_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub school_id: Option<SchoolId>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub attached_to: Option<AttachedTo>,
}

impl File {
    fn to_item(&self, version: u64) -> Result<Item, StoreError> {
        let mut item = Item::new(keys::file(self.id), keys::FILE, self)?;
        item.version = version;
        if self.status == Status::Pending {
            let expires = self.created_at
                + chrono::Duration::from_std(PENDING_TTL).unwrap_or(chrono::Duration::days(1));
            item = item.expiring_at(expires.timestamp());
        }
        Ok(item)
    }

    /// The file as a post lists it.
    pub fn attachment(&self) -> Attachment {
        Attachment {
            file_id: self.id,
            file_name: self.file_name.clone(),
            content_type: self.content_type.clone(),
            size: self.size,
        }
    }
}

/// A file as a post lists it (its bytes through `GET /files/{fileId}`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Attachment {
    pub file_id: FileId,
    pub file_name: String,
    pub content_type: String,
    pub size: u64,
}

impl Attachment {
    pub fn view(&self) -> AttachmentView {
        AttachmentView {
            file_id: self.file_id,
            file_name: self.file_name.clone(),
            content_type: self.content_type.clone(),
            size: self.size,
            image: is_image(&self.content_type),
        }
    }
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct AttachmentView {
    pub file_id: FileId,
    pub file_name: String,
    pub content_type: String,
    pub size: u64,
    /// An image, to be shown in the post rather than listed.
    pub image: bool,
}

/// An upload asked for, checked at the edge.
#[derive(Debug, Clone, PartialEq)]
pub struct UploadRequest {
    pub file_name: String,
    pub content_type: String,
    pub size: u64,
    pub school_id: Option<SchoolId>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct UploadGranted {
    pub file_id: FileId,
    pub upload: PresignedUpload,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct DownloadGranted {
    pub url: String,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("not found")]
    NotFound,
    #[error("forbidden")]
    Forbidden,
    /// A field of the request names something the caller may not use.
    #[error("may not use {field}")]
    NotYours { field: String },
    /// An attachment cannot be attached (`attachments[i]`).
    #[error("{field}: {reason}")]
    NotAttachable { field: String, reason: String },
    #[error("{field}: {reason}")]
    Invalid { field: String, reason: String },
    #[error(transparent)]
    Storage(#[from] FilesError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn expiry(now: DateTime<Utc>, ttl: Duration) -> DateTime<Utc> {
    now + chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::zero())
}

/// POST /files: staff who may publish ask to upload a file; the item is
/// written pending and the answer says where to PUT the bytes.
pub async fn request_upload(
    store: &dyn Store,
    files: &dyn Files,
    clock: &dyn Clock,
    caller: &PersonRecord,
    request: UploadRequest,
) -> Result<UploadGranted, FileError> {
    // Guardians and pupils never upload (nothing of theirs has files yet).
    if !crate::audience::may_address_anyone(caller) {
        return Err(FileError::Forbidden);
    }
    if let Some(school) = request.school_id
        && !caller.has_duty_at(school)
    {
        return Err(FileError::NotYours {
            field: "schoolId".into(),
        });
    }
    let now = clock.now();
    let file = File {
        id: FileId::generate(),
        owner_id: caller.id(),
        file_name: request.file_name,
        content_type: request.content_type,
        size: request.size,
        status: Status::Pending,
        created_at: now,
        school_id: request.school_id,
        attached_to: None,
    };
    store
        .put(&file.to_item(1)?, Condition::MustNotExist)
        .await?;
    let upload = files
        .presign_upload(
            &keys::file_object(file.id),
            &file.content_type,
            file.size,
            now,
            UPLOAD_URL_TTL,
        )
        .await?;
    tracing::info!(file = %file.id, size = file.size, "upload granted");
    Ok(UploadGranted {
        file_id: file.id,
        upload,
        expires_at: expiry(now, UPLOAD_URL_TTL),
    })
}

/// Files about to be attached, each with the version it was read at.
pub struct Attaching {
    files: Vec<(File, u64)>,
}

impl Attaching {
    pub fn none() -> Self {
        Attaching { files: vec![] }
    }

    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    pub fn attachments(&self) -> Vec<Attachment> {
        self.files.iter().map(|(f, _)| f.attachment()).collect()
    }

    /// The writes that attach every file, each on the version it was read
    /// at (so a file attached elsewhere meanwhile fails the transaction).
    pub fn writes(&self, to: &AttachedTo) -> Result<Vec<Write>, StoreError> {
        self.files
            .iter()
            .map(|(file, version)| {
                let mut file = file.clone();
                file.status = Status::Attached;
                file.attached_to = Some(to.clone());
                Ok(Write::Put(
                    file.to_item(version + 1)?,
                    Condition::VersionEquals(*version),
                ))
            })
            .collect()
    }
}

/// Checks files the caller wants to attach (`field[i]`): each must be the
/// caller's own, not attached already, and uploaded as declared (size and
/// type). Those in `already` (attached to the same post before an edit)
/// are skipped. Then removes their pending mark in storage, so an attachment
/// never expires; if the transaction that attaches them fails after this,
/// the bytes stay unattached (a cost, never a loss).
pub async fn prepare_attach(
    store: &dyn Store,
    files: &dyn Files,
    caller: &PersonRecord,
    ids: &[FileId],
    field: &str,
    already: &[FileId],
) -> Result<Attaching, FileError> {
    if ids.is_empty() {
        return Ok(Attaching::none());
    }
    if ids.len() > MAX_ATTACHMENTS {
        return Err(FileError::Invalid {
            field: field.into(),
            reason: format!("at most {MAX_ATTACHMENTS} files"),
        });
    }
    let mut seen = HashSet::new();
    for (i, id) in ids.iter().enumerate() {
        if !seen.insert(*id) {
            return Err(FileError::Invalid {
                field: format!("{field}[{i}]"),
                reason: "listed twice".into(),
            });
        }
    }
    let keys: Vec<_> = ids
        .iter()
        .filter(|id| !already.contains(id))
        .map(|id| keys::file(*id))
        .collect();
    if keys.is_empty() {
        return Ok(Attaching::none());
    }
    let mut found: HashMap<FileId, (File, u64)> = HashMap::new();
    for item in store.get_many(&keys).await? {
        let file: File = item.parse()?;
        found.insert(file.id, (file, item.version));
    }
    let mut out = Vec::with_capacity(ids.len());
    for (i, id) in ids.iter().enumerate() {
        if already.contains(id) {
            continue;
        }
        let refuse = |reason: &str| FileError::NotAttachable {
            field: format!("{field}[{i}]"),
            reason: reason.into(),
        };
        // Another's file is refused like a missing one: its existence is
        // not for the caller to learn.
        let Some((file, version)) = found.remove(id).filter(|(f, _)| f.owner_id == caller.id())
        else {
            return Err(refuse("no upload of yours with this id"));
        };
        if file.status != Status::Pending {
            return Err(refuse("already attached elsewhere"));
        }
        match files.stat(&keys::file_object(file.id)).await? {
            None => return Err(refuse("the file was never uploaded")),
            Some(stat)
                if stat.size != file.size
                    || stat.content_type.as_deref() != Some(file.content_type.as_str()) =>
            {
                return Err(refuse(
                    "the upload does not match its declared size and type",
                ));
            }
            Some(_) => {}
        }
        out.push((file, version));
    }
    for (file, _) in &out {
        files.keep(&keys::file_object(file.id)).await?;
    }
    Ok(Attaching { files: out })
}

/// The writes that take files off a post, news item or event for good
/// (a deleted post's, or those an edit left out): their items go in the
/// caller's transaction, so no one, the owner included, downloads them
/// after it; the bytes go afterwards ([`remove_bytes`]).
pub fn discard(ids: &[FileId]) -> Vec<Write> {
    ids.iter()
        .map(|id| Write::Delete(keys::file(*id), Condition::None))
        .collect()
}

/// Removes the bytes of discarded files, after the transaction that took
/// their items. Best effort: bytes left behind have no item, so nothing
/// reaches them; the failure is logged by file id (never by name).
pub async fn remove_bytes(files: &dyn Files, ids: &[FileId]) {
    for id in ids {
        if let Err(e) = files.remove(&keys::file_object(*id)).await {
            tracing::warn!(file = %id, error = %e, "bytes of a discarded file left in storage");
        }
    }
}

/// GET /files/{fileId}: a short-lived download URL, for the file's owner
/// and for whoever may read what it is attached to. Anyone else learns
/// nothing: 404, as for a file that does not exist.
pub async fn download(
    store: &dyn Store,
    files: &dyn Files,
    clock: &dyn Clock,
    caller: &PersonRecord,
    id: FileId,
) -> Result<DownloadGranted, FileError> {
    let item = store
        .get(&keys::file(id))
        .await?
        .ok_or(FileError::NotFound)?;
    let file: File = item.parse()?;
    let allowed = file.owner_id == caller.id()
        || match &file.attached_to {
            None => false,
            Some(AttachedTo::BlogPost { post_id, group_ids }) => {
                crate::blog::may_read_attachment(store, caller, group_ids, *post_id, id).await?
            }
            Some(AttachedTo::News {
                news_id,
                publish_at,
                placements,
            }) => {
                crate::news::may_read_attachment(
                    store,
                    clock.now(),
                    caller,
                    *news_id,
                    *publish_at,
                    placements,
                    id,
                )
                .await?
            }
            Some(AttachedTo::CalendarEvent {
                event_id,
                first_day,
                copies,
            }) => {
                crate::calendar::may_read_attachment(
                    store, caller, *event_id, *first_day, copies, id,
                )
                .await?
            }
        };
    if !allowed {
        return Err(FileError::NotFound);
    }
    let now = clock.now();
    let url = files
        .presign_download(
            &keys::file_object(id),
            &file.file_name,
            &file.content_type,
            now,
            DOWNLOAD_URL_TTL,
        )
        .await?;
    tracing::info!(file = %id, caller = %caller.id(), "download granted");
    Ok(DownloadGranted {
        url,
        expires_at: expiry(now, DOWNLOAD_URL_TTL),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_and_documents_have_their_own_limits_and_nothing_else_passes() {
        assert_eq!(max_size("image/png"), Some(MAX_IMAGE_BYTES));
        assert_eq!(max_size("application/pdf"), Some(MAX_DOCUMENT_BYTES));
        assert_eq!(max_size("text/html"), None);
        assert_eq!(max_size("image/svg+xml"), None);
        assert!(is_image("image/webp"));
        assert!(!is_image("application/pdf"));
    }

    #[test]
    fn a_download_name_keeps_its_letters_and_loses_its_quotes() {
        let d = content_disposition("Läxa \"vecka 3\".pdf");
        assert_eq!(
            d,
            "attachment; filename=\"L_xa _vecka 3_.pdf\"; filename*=UTF-8''L%C3%A4xa%20%22vecka%203%22.pdf"
        );
    }
}
