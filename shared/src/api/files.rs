//! Handlers for files (C1-C3 attachments): ask to upload, and get a
//! download URL. The bytes never pass through a function.

use super::{Call, Ctx, Problem, Reply};
use crate::files::{self, FileError, MAX_FILE_NAME_CHARS, UploadRequest};
use crate::ids::{FileId, SchoolId};
use http::StatusCode;
use serde::Deserialize;

impl From<FileError> for Problem {
    fn from(e: FileError) -> Self {
        match e {
            FileError::NotFound => Problem::not_found(),
            FileError::Forbidden => Problem::forbidden(),
            FileError::NotYours { field } => {
                Problem::new(StatusCode::FORBIDDEN, "not-yours", "You may not use this")
                    .detail(format!("{field}: not yours to use"))
                    .invalid(field, "not yours to use")
            }
            FileError::NotAttachable { field, reason } => Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "file-not-attachable",
                "A file cannot be attached",
            )
            .detail(format!("{field}: {reason}"))
            .invalid(field, reason),
            FileError::Invalid { field, reason } => Problem::invalid_input(&field, reason),
            FileError::Storage(e) => {
                tracing::error!(error = %e, "file storage failed");
                Problem::unavailable()
            }
            FileError::Store(e) => e.into(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct UploadBody {
    file_name: String,
    content_type: String,
    size: u64,
    #[serde(default)]
    school_id: Option<String>,
}

impl UploadBody {
    /// Name, type and size within the limits; each refusal names its field.
    fn parse(self) -> Result<UploadRequest, Problem> {
        let file_name = self.file_name.trim().to_string();
        let bad_char = |c: char| c.is_control() || matches!(c, '/' | '\\');
        if file_name.is_empty()
            || file_name.chars().count() > MAX_FILE_NAME_CHARS
            || file_name.chars().any(bad_char)
            || file_name == "."
            || file_name == ".."
        {
            return Err(Problem::invalid_input(
                "fileName",
                format!(
                    "1 to {MAX_FILE_NAME_CHARS} characters, without slashes or control characters"
                ),
            ));
        }
        let content_type = self.content_type.trim().to_ascii_lowercase();
        let Some(max) = files::max_size(&content_type) else {
            return Err(Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "file-type-not-allowed",
                "Files of this type cannot be uploaded",
            )
            .detail("contentType: images (JPEG, PNG, WebP, GIF) and documents (PDF, Word, Excel, PowerPoint, OpenDocument text, plain text)")
            .invalid("contentType", "not an allowed type"));
        };
        if self.size == 0 || self.size > max {
            return Err(Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "file-too-large",
                "The file is empty or larger than its type allows",
            )
            .detail(format!("size: 1 to {max} bytes for {content_type}"))
            .invalid("size", format!("1 to {max} bytes")));
        }
        let school_id = match self.school_id {
            None => None,
            Some(s) => Some(
                SchoolId::parse(&s)
                    .ok_or_else(|| Problem::invalid_input("schoolId", "not a valid id"))?,
            ),
        };
        Ok(UploadRequest {
            file_name,
            content_type,
            size: self.size,
            school_id,
        })
    }
}

/// POST /files
pub async fn upload(ctx: &Ctx, call: Call) -> Result<Reply, Problem> {
    // Who may upload is decided before the body is even looked at.
    if !crate::audience::may_address_anyone(&call.caller) {
        return Err(Problem::forbidden());
    }
    let request = call.json::<UploadBody>()?.parse()?;
    let granted = files::request_upload(
        ctx.store.as_ref(),
        ctx.files.as_ref(),
        ctx.clock.as_ref(),
        &call.caller,
        request,
    )
    .await?;
    Reply::created(granted)
}

/// GET /files/{fileId}
pub async fn download(ctx: &Ctx, call: Call) -> Result<Reply, Problem> {
    let id = call.id("fileId", FileId::parse)?;
    let granted = files::download(
        ctx.store.as_ref(),
        ctx.files.as_ref(),
        ctx.clock.as_ref(),
        &call.caller,
        id,
    )
    .await?;
    Reply::ok(granted)
}
