//! A school's own settings, set by its leaders: approval of reports on
//! arrival (B1), guardians' rights for other responsibles (A3), same-day
//! alerts of unexcused absence (B6) and the comments teachers pick from
//! when they register a lesson (B3). The nightly import never writes
//! them (it owns only the school's registry attributes).

use crate::directory::{self, PersonRecord, SchoolSettings};
use crate::ids::SchoolId;
use crate::keys;
use crate::policy::{self, Decision};
use crate::store::{Store, StoreError};

pub const MAX_COMMENTS: usize = 30;
pub const MAX_COMMENT_CHARS: usize = 100;

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("not found")]
    NotFound,
    #[error("forbidden")]
    Forbidden,
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The school's principal and administrators, and the organisation's
/// administrators; other staff of the school 403, anyone else 404.
async fn authorized(
    store: &dyn Store,
    caller: &PersonRecord,
    school_id: SchoolId,
) -> Result<directory::School, SettingsError> {
    let school = directory::school(store, school_id)
        .await?
        .ok_or(SettingsError::NotFound)?;
    match policy::lead_school(caller, &school) {
        Decision::Allow => Ok(school),
        Decision::Forbidden => Err(SettingsError::Forbidden),
        Decision::NotFound => Err(SettingsError::NotFound),
    }
}

pub async fn get(
    store: &dyn Store,
    caller: &PersonRecord,
    school_id: SchoolId,
) -> Result<SchoolSettings, SettingsError> {
    Ok(authorized(store, caller, school_id).await?.settings)
}

/// The comments trimmed, each 1 to [`MAX_COMMENT_CHARS`] characters, once,
/// at most [`MAX_COMMENTS`].
fn checked(mut settings: SchoolSettings) -> Result<SchoolSettings, SettingsError> {
    let invalid = |field: String, message: String| SettingsError::Invalid { field, message };
    if settings.attendance_comments.len() > MAX_COMMENTS {
        return Err(invalid(
            "attendanceComments".into(),
            format!("at most {MAX_COMMENTS}"),
        ));
    }
    let mut comments: Vec<String> = Vec::with_capacity(settings.attendance_comments.len());
    for (i, comment) in settings.attendance_comments.iter().enumerate() {
        let comment = comment.trim();
        let field = format!("attendanceComments[{i}]");
        let chars = comment.chars().count();
        if chars == 0 || chars > MAX_COMMENT_CHARS {
            return Err(invalid(
                field,
                format!("1 to {MAX_COMMENT_CHARS} characters"),
            ));
        }
        if comments.iter().any(|c| c == comment) {
            return Err(invalid(field, "the same comment twice".into()));
        }
        comments.push(comment.to_string());
    }
    settings.attendance_comments = comments;
    Ok(settings)
}

/// Replaces the settings on the school's item, keeping the rest of it (a
/// concurrent import rewrite is retried on its version).
pub async fn set(
    store: &dyn Store,
    caller: &PersonRecord,
    school_id: SchoolId,
    settings: SchoolSettings,
) -> Result<SchoolSettings, SettingsError> {
    authorized(store, caller, school_id).await?;
    let settings = checked(settings)?;
    let value = serde_json::to_value(&settings).map_err(|e| StoreError::Mapping(e.to_string()))?;
    crate::store::replace_attributes(store, &keys::school(school_id), &[("settings", value)])
        .await?
        .ok_or(SettingsError::NotFound)?;
    Ok(settings)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_comments(comments: &[&str]) -> SchoolSettings {
        SchoolSettings {
            attendance_comments: comments.iter().map(|c| c.to_string()).collect(),
            ..SchoolSettings::default()
        }
    }

    #[test]
    fn comments_are_trimmed_and_kept_in_order() {
        let settings = checked(with_comments(&[" Tandläkare ", "Studiebesök"])).unwrap();
        assert_eq!(settings.attendance_comments, ["Tandläkare", "Studiebesök"]);
    }

    #[test]
    fn an_empty_a_repeated_or_a_long_comment_is_refused_by_its_index() {
        for (comments, field) in [
            (vec!["ok", " "], "attendanceComments[1]"),
            (vec!["Sjuk", "Sjuk "], "attendanceComments[1]"),
        ] {
            match checked(with_comments(&comments)) {
                Err(SettingsError::Invalid { field: f, .. }) => assert_eq!(f, field),
                other => panic!("{comments:?}: {other:?}"),
            }
        }
        let long = "x".repeat(MAX_COMMENT_CHARS + 1);
        assert!(checked(with_comments(&[&long])).is_err());
        let many: Vec<String> = (0..=MAX_COMMENTS).map(|i| format!("c{i}")).collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        assert!(checked(with_comments(&many)).is_err());
    }
}
