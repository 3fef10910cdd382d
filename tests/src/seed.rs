//! Data the tests and the benchmark fixture set up through the domain, as
//! the API would leave it.

use skolnav::audience::{Audience, GroupTarget, Reach};
use skolnav::clock::Clock;
use skolnav::directory::PersonRecord;
use skolnav::files::{self, FolderFiles, UploadRequest};
use skolnav::ids::{FileId, GroupId};
use skolnav::keys;
use skolnav::store::Store;

/// A group's pupils and their guardians: the audience of a class post.
pub fn families_of(group_id: GroupId) -> Audience {
    Audience::Groups(vec![GroupTarget {
        group_id,
        reach: Reach {
            pupils: true,
            guardians: true,
        },
    }])
}

/// A small PDF named `file_name` that `author` asked to upload and whose
/// bytes are in `files` (as a client leaves it: asked, then PUT to the
/// signed URL), ready to attach.
pub async fn uploaded_pdf(
    store: &dyn Store,
    files: &FolderFiles,
    clock: &dyn Clock,
    author: &PersonRecord,
    file_name: &str,
) -> Result<FileId, String> {
    const PDF: &str = "application/pdf";
    let pdf = format!("%PDF-1.4\n% {file_name}\n%%EOF\n").into_bytes();
    let granted = files::request_upload(
        store,
        files,
        clock,
        author,
        UploadRequest {
            file_name: file_name.into(),
            content_type: PDF.into(),
            size: pdf.len() as u64,
            school_id: None,
        },
    )
    .await
    .map_err(|e| format!("asking to upload {file_name}: {e}"))?;
    files
        .write(&keys::file_object(granted.file_id), PDF, &pdf)
        .await
        .map_err(|e| format!("storing {file_name}: {e}"))?;
    Ok(granted.file_id)
}
