//! Handlers for a school's settings: parse, call the domain, render.

use super::{Call, Ctx, Problem, Reply};
use crate::directory::SchoolSettings;
use crate::ids::SchoolId;
use crate::school_settings::{self, SettingsError};
use serde::Deserialize;

impl From<SettingsError> for Problem {
    fn from(e: SettingsError) -> Self {
        match e {
            SettingsError::NotFound => Problem::not_found(),
            SettingsError::Forbidden => Problem::forbidden(),
            SettingsError::Invalid { field, message } => Problem::invalid_input(&field, message),
            SettingsError::Store(e) => e.into(),
        }
    }
}

/// The whole set, every field required, so a client never changes a
/// setting it did not show.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SettingsBody {
    auto_approve_absence: bool,
    other_responsibles_are_guardians: bool,
    alert_unexcused_absence: bool,
    attendance_comments: Vec<String>,
}

/// GET /schools/{schoolId}/settings
pub async fn get(ctx: &Ctx, call: Call) -> Result<Reply, Problem> {
    let school = call.id("schoolId", SchoolId::parse)?;
    Reply::ok(school_settings::get(ctx.store.as_ref(), &call.caller, school).await?)
}

/// PUT /schools/{schoolId}/settings
pub async fn put(ctx: &Ctx, call: Call) -> Result<Reply, Problem> {
    let school = call.id("schoolId", SchoolId::parse)?;
    let body: SettingsBody = call.json()?;
    let settings = SchoolSettings {
        auto_approve_absence: body.auto_approve_absence,
        other_responsibles_are_guardians: body.other_responsibles_are_guardians,
        alert_unexcused_absence: body.alert_unexcused_absence,
        attendance_comments: body.attendance_comments,
    };
    Reply::ok(school_settings::set(ctx.store.as_ref(), &call.caller, school, settings).await?)
}
