//! B3: a teacher registers attendance for one lesson: the pupils who were
//! away or late, each with a reason, and the minutes; a registration with
//! no absence confirms that everyone was there. Registering again replaces
//! the registration (one item in the lesson's partition, next to the
//! lesson it belongs to).
//!
//! Minutes default to the pupil's scheduled minutes of the lesson: the
//! lesson's length, or the pupil's own times when a schedule exception
//! applies. Late arrival needs its minutes.

use crate::clock::Clock;
use crate::directory::{self, PersonRecord};
use crate::ids::{GroupId, LessonId, PersonId, SchoolId};
use crate::keys;
use crate::lessons::{self, Lesson};
use crate::policy::{self, Decision};
use crate::store::{Condition, Item, Store, StoreError};
use chrono::{DateTime, FixedOffset, Utc};
use serde::{Deserialize, Serialize};

pub const MAX_COMMENT_CHARS: usize = 500;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum AbsenceReason {
    /// Giltig frånvaro.
    Valid,
    /// Ogiltig frånvaro.
    Invalid,
    /// Sen ankomst: `minutes` are the minutes missed.
    Late,
    /// Annan aktivitet: away from the lesson at another school activity
    /// (a study visit, a competition). Recorded, not counted as absence.
    OtherActivity,
}

impl AbsenceReason {
    /// Whether the minutes count as absence in reports (B7).
    pub fn is_absence(self) -> bool {
        !matches!(self, AbsenceReason::OtherActivity)
    }
}

/// One pupil's absence from the lesson, as registered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LessonAbsence {
    pub pupil_id: PersonId,
    pub reason: AbsenceReason,
    pub minutes: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// The registration of one lesson: who was away (empty: nobody).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Registration {
    pub lesson_id: LessonId,
    pub school_id: SchoolId,
    pub group_ids: Vec<GroupId>,
    pub lesson_start: DateTime<FixedOffset>,
    pub absences: Vec<LessonAbsence>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    pub registered_by: PersonId,
    pub registered_at: DateTime<Utc>,
}

/// An absence as the teacher enters it.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAbsence {
    pub pupil_id: PersonId,
    pub reason: AbsenceReason,
    pub minutes: Option<u32>,
    pub comment: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum AttendanceError {
    #[error("not found")]
    NotFound,
    #[error("forbidden")]
    Forbidden,
    #[error("the lesson is cancelled")]
    Cancelled,
    /// Bad input, naming the field.
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    /// A pupil who is not expected at the lesson (not in its groups, or
    /// excepted from it by the schedule).
    #[error("{field}: not a pupil of this lesson")]
    NotInLesson { field: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn invalid(field: String, message: impl Into<String>) -> AttendanceError {
    AttendanceError::Invalid {
        field,
        message: message.into(),
    }
}

/// Access pattern: a lesson's registration, one GetItem.
pub async fn get(store: &dyn Store, lesson: LessonId) -> Result<Option<Registration>, StoreError> {
    store
        .get(&keys::lesson_attendance(lesson))
        .await?
        .map(|i| i.parse())
        .transpose()
}

/// B3: registers (or re-registers) attendance for a lesson. Reads the
/// lesson (GetItem), the pupils' memberships in its groups (BatchGetItem
/// per group), then writes the registration (PutItem, replacing).
pub async fn register(
    store: &dyn Store,
    clock: &dyn Clock,
    caller: &PersonRecord,
    lesson_id: LessonId,
    absences: Vec<NewAbsence>,
    comment: Option<String>,
) -> Result<Registration, AttendanceError> {
    let lesson = lessons::get(store, lesson_id)
        .await?
        .ok_or(AttendanceError::NotFound)?;
    match policy::register_attendance(caller, &lesson) {
        Decision::Allow => {}
        Decision::Forbidden => return Err(AttendanceError::Forbidden),
        Decision::NotFound => return Err(AttendanceError::NotFound),
    }
    if lesson.cancelled {
        return Err(AttendanceError::Cancelled);
    }
    if comment
        .as_ref()
        .is_some_and(|c| c.chars().count() > MAX_COMMENT_CHARS)
    {
        return Err(invalid(
            "comment".into(),
            format!("at most {MAX_COMMENT_CHARS} characters"),
        ));
    }
    let pupils: Vec<PersonId> = absences.iter().map(|a| a.pupil_id).collect();
    let mut members = Vec::new();
    if !pupils.is_empty() {
        for group in &lesson.group_ids {
            members.extend(directory::members_among(store, *group, &pupils).await?);
        }
    }
    let mut registered = Vec::with_capacity(absences.len());
    for (i, a) in absences.into_iter().enumerate() {
        let field = |name: &str| format!("absences[{i}].{name}");
        if registered
            .iter()
            .any(|r: &LessonAbsence| r.pupil_id == a.pupil_id)
        {
            return Err(invalid(field("pupilId"), "the same pupil twice"));
        }
        let own = scheduled_minutes(&lesson, a.pupil_id);
        if !members.contains(&a.pupil_id) || own == 0 {
            return Err(AttendanceError::NotInLesson {
                field: field("pupilId"),
            });
        }
        let minutes = match (a.reason, a.minutes) {
            (AbsenceReason::Late, None) => {
                return Err(invalid(field("minutes"), "required for a late arrival"));
            }
            (_, Some(m)) if m == 0 || m > own => {
                return Err(invalid(field("minutes"), format!("1 to {own}")));
            }
            (_, Some(m)) => m,
            (_, None) => own,
        };
        if a.comment
            .as_ref()
            .is_some_and(|c| c.chars().count() > MAX_COMMENT_CHARS)
        {
            return Err(invalid(
                field("comment"),
                format!("at most {MAX_COMMENT_CHARS} characters"),
            ));
        }
        registered.push(LessonAbsence {
            pupil_id: a.pupil_id,
            reason: a.reason,
            minutes,
            comment: a.comment,
        });
    }
    let registration = Registration {
        lesson_id: lesson.id,
        school_id: lesson.school_id,
        group_ids: lesson.group_ids.clone(),
        lesson_start: lesson.start,
        absences: registered,
        comment,
        registered_by: caller.id(),
        registered_at: clock.now(),
    };
    let item = Item::new(
        keys::lesson_attendance(lesson.id),
        keys::LESSON_ATTENDANCE,
        &registration,
    )?;
    store.put(&item, Condition::None).await?;
    Ok(registration)
}

/// A pupil's scheduled minutes of the lesson: their own times when the
/// schedule has an exception for them (0 when not expected), else the
/// lesson's length.
pub fn scheduled_minutes(lesson: &Lesson, pupil: PersonId) -> u32 {
    lesson
        .pupil_exceptions
        .iter()
        .find(|x| x.pupil_id == pupil)
        .map_or(lesson.minutes, |x| x.minutes)
}
