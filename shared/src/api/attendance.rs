//! Handler for lesson attendance (B3): parse, call the domain, render.

use super::{Call, Ctx, Problem, Reply};
use crate::attendance::{self, AbsenceReason, AttendanceError, NewAbsence};
use crate::ids::{LessonId, PersonId};
use http::StatusCode;
use serde::Deserialize;

impl From<AttendanceError> for Problem {
    fn from(e: AttendanceError) -> Self {
        match e {
            AttendanceError::NotFound => Problem::not_found(),
            AttendanceError::Forbidden => Problem::forbidden(),
            AttendanceError::Cancelled => Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "lesson-cancelled",
                "The lesson is cancelled; there is no attendance to register",
            ),
            AttendanceError::Invalid { field, message } => Problem::invalid_input(&field, message),
            AttendanceError::NotInLesson { field } => Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "pupil-not-in-lesson",
                "The pupil is not expected at this lesson",
            )
            .detail(format!("{field}: not a pupil of this lesson"))
            .invalid(field, "not a pupil of this lesson"),
            AttendanceError::Store(e) => e.into(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct AbsenceBody {
    pupil_id: String,
    reason: AbsenceReason,
    #[serde(default)]
    minutes: Option<u32>,
    #[serde(default)]
    comment: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RegisterBody {
    absences: Vec<AbsenceBody>,
    #[serde(default)]
    comment: Option<String>,
}

/// At most this many absences in one registration (a lesson's pupils).
const MAX_ABSENCES: usize = 200;

/// PUT /lessons/{lessonId}/attendance
pub async fn register(ctx: &Ctx, call: Call) -> Result<Reply, Problem> {
    let lesson = call.id("lessonId", LessonId::parse)?;
    let body = call.json::<RegisterBody>()?;
    if body.absences.len() > MAX_ABSENCES {
        return Err(Problem::invalid_input(
            "absences",
            format!("at most {MAX_ABSENCES}"),
        ));
    }
    let mut absences = Vec::with_capacity(body.absences.len());
    for (i, a) in body.absences.into_iter().enumerate() {
        let pupil_id = PersonId::parse(&a.pupil_id).ok_or_else(|| {
            Problem::invalid_input(&format!("absences[{i}].pupilId"), "not a valid id")
        })?;
        absences.push(NewAbsence {
            pupil_id,
            reason: a.reason,
            minutes: a.minutes,
            comment: a.comment.filter(|c| !c.trim().is_empty()),
        });
    }
    let comment = body.comment.filter(|c| !c.trim().is_empty());
    let registration = attendance::register(
        ctx.store.as_ref(),
        ctx.clock.as_ref(),
        &call.caller,
        lesson,
        absences,
        comment,
    )
    .await?;
    Reply::ok(registration)
}

/// GET /lessons/{lessonId}/attendance
pub async fn view(ctx: &Ctx, call: Call) -> Result<Reply, Problem> {
    let lesson = call.id("lessonId", LessonId::parse)?;
    Reply::ok(attendance::view(ctx.store.as_ref(), &call.caller, lesson).await?)
}
