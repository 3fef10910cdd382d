//! B3: a teacher registers attendance for one lesson: the pupils who were
//! away or late, each with a reason, and the minutes; a registration with
//! no absence confirms that everyone was there. Registering again replaces
//! the registration (one item in the lesson's partition, next to the
//! lesson it belongs to).
//!
//! Minutes default to the pupil's scheduled minutes of the lesson: the
//! lesson's length, or the pupil's own times when a schedule exception
//! applies. Late arrival needs its minutes.

use crate::absence::AbsenceDay;
use crate::alerts::{self, AlertLesson};
use crate::clock::Clock;
use crate::directory::{self, PersonRecord};
use crate::ids::{GroupId, LessonId, OutboxId, PersonId, ReportId, SchoolId};
use crate::keys;
use crate::lessons::{self, Lesson};
use crate::policy::{self, Decision};
use crate::store::{Condition, Item, Store, StoreError, Write};
use chrono::{DateTime, FixedOffset, NaiveTime, Utc};
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
    /// As when registered, so the school's day (B5) names the pupil
    /// without reading them.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub pupil_name: String,
    pub reason: AbsenceReason,
    pub minutes: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// The guardian's report that covers the lesson: the absence counts
    /// as valid whatever the teacher chose.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report_id: Option<ReportId>,
}

/// The registration of one lesson: who was away (empty: nobody).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Registration {
    pub lesson_id: LessonId,
    pub school_id: SchoolId,
    pub group_ids: Vec<GroupId>,
    pub lesson_start: DateTime<FixedOffset>,
    /// The lesson's end and title as registered, so the school's day (B5)
    /// names the lesson without reading it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lesson_end: Option<DateTime<FixedOffset>>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub lesson_title: String,
    pub absences: Vec<LessonAbsence>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    pub registered_by: PersonId,
    pub registered_at: DateTime<Utc>,
}

impl Registration {
    /// The item, also in the school's day on GSI2 (B5: the school's
    /// absence today is one Query, reported and registered together).
    pub fn to_item(&self) -> Result<Item, StoreError> {
        Ok(Item::new(
            keys::lesson_attendance(self.lesson_id),
            keys::LESSON_ATTENDANCE,
            self,
        )?
        .with_gsi2(keys::attendance_on_day(
            self.school_id,
            self.lesson_start.date_naive(),
            self.lesson_id,
        )))
    }
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

/// A guardian's report that covers (part of) the lesson (B1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportedAbsence {
    pub pupil_id: PersonId,
    pub pupil_name: String,
    pub report_id: ReportId,
    pub reason: crate::absence::Reason,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<NaiveTime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<NaiveTime>,
}

/// Access pattern: the guardian reports among `pupils` that cover the
/// lesson: one BatchGetItem of the pupils' days (`ABSENCEDAY#<day>`).
pub async fn reported_for(
    store: &dyn Store,
    lesson: &Lesson,
    pupils: &[PersonId],
) -> Result<Vec<ReportedAbsence>, StoreError> {
    Ok(pupils_day(store, lesson, pupils, false).await?.0)
}

/// The reports among `pupils` that cover the lesson and, with `named`,
/// the pupils' names, in the same BatchGetItem (their `ABSENCEDAY#<day>`
/// and `PERSON` items sit in one partition each; 50 pupils a request).
async fn pupils_day(
    store: &dyn Store,
    lesson: &Lesson,
    pupils: &[PersonId],
    named: bool,
) -> Result<(Vec<ReportedAbsence>, Vec<(PersonId, String)>), StoreError> {
    let day = lesson.start.date_naive();
    let span = (lesson.start.time(), lesson.end.time());
    let mut reported = Vec::new();
    let mut names = Vec::new();
    for chunk in pupils.chunks(if named { 50 } else { 100 }) {
        let mut keys: Vec<_> = chunk.iter().map(|p| keys::absence_day(*p, day)).collect();
        if named {
            keys.extend(chunk.iter().map(|p| keys::person(*p)));
        }
        for item in store.get_many(&keys).await? {
            if item.entity == keys::PERSON {
                let person: crate::directory::Person = item.parse()?;
                names.push((person.id, person.full_name()));
                continue;
            }
            let day: AbsenceDay = item.parse()?;
            if let Some(entry) = day.entries.iter().find(|e| e.overlaps(Some(span))) {
                reported.push(ReportedAbsence {
                    pupil_id: day.pupil_id,
                    pupil_name: day.pupil_name.clone(),
                    report_id: entry.report_id,
                    reason: entry.reason,
                    from: entry.from,
                    to: entry.to,
                });
            }
        }
    }
    reported.sort_by_key(|r| r.pupil_id);
    Ok((reported, names))
}

/// A lesson's attendance as its teacher opens it: the registration, if
/// any, and the guardians' reports that cover the lesson.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AttendanceView {
    /// As every lesson is answered (its lists too): staff see every
    /// pupil's exceptions.
    pub lesson: crate::lessons::LessonView,
    pub registration: Option<Registration>,
    pub reported: Vec<ReportedAbsence>,
    /// The school's comments to pick from (free text is allowed too).
    pub comments: Vec<String>,
}

/// B3: the lesson, its registration, the reports that cover it and the
/// school's comments to pick from, for whoever may register it, and the
/// school's principal and administrators. Reads the lesson and its
/// registration (one Query of the lesson's partition would also bring the
/// copies: two GetItems are less), the group members, their reported days
/// and the school.
pub async fn view(
    store: &dyn Store,
    caller: &PersonRecord,
    lesson_id: LessonId,
) -> Result<AttendanceView, AttendanceError> {
    let lesson = lessons::get(store, lesson_id)
        .await?
        .ok_or(AttendanceError::NotFound)?;
    match policy::read_attendance(caller, &lesson) {
        Decision::Allow => {}
        Decision::Forbidden => return Err(AttendanceError::Forbidden),
        Decision::NotFound => return Err(AttendanceError::NotFound),
    }
    // Once the lesson is known the rest is independent: its registration
    // and its school (the comments to pick from) in one BatchGetItem, the
    // pupils of its groups beside it; then their reported days.
    let registration_key = keys::lesson_attendance(lesson_id);
    let wanted = [registration_key.clone(), keys::school(lesson.school_id)];
    let (found, pupils) =
        futures_util::future::try_join(store.get_many(&wanted), scheduled_pupils(store, &lesson))
            .await?;
    let mut registration = None;
    let mut comments = Vec::new();
    for item in found {
        if item.key == registration_key {
            registration = Some(item.parse()?);
        } else {
            let school: directory::School = item.parse()?;
            comments = school.settings.attendance_comments;
        }
    }
    let reported = reported_for(store, &lesson, &pupils).await?;
    Ok(AttendanceView {
        lesson: crate::lessons::LessonView::of(lesson, |_| true),
        registration,
        reported,
        comments,
    })
}

/// The pupils of the lesson's groups that it is scheduled for, each once:
/// one query per group, at the same time.
async fn scheduled_pupils(store: &dyn Store, lesson: &Lesson) -> Result<Vec<PersonId>, StoreError> {
    let groups = futures_util::future::try_join_all(
        lesson
            .group_ids
            .iter()
            .map(|g| directory::group_members(store, *g)),
    )
    .await?;
    let mut pupils = Vec::new();
    for pupil in groups.into_iter().flatten() {
        if !pupils.contains(&pupil) && scheduled_minutes(lesson, pupil) > 0 {
            pupils.push(pupil);
        }
    }
    Ok(pupils)
}

/// How many times a registration is tried again when another one of the
/// same lesson was written between its read and its write.
const ATTEMPTS: usize = 3;

/// B3: registers (or re-registers) attendance for a lesson. Reads the
/// lesson and its current registration (GetItem each), the pupils'
/// memberships in its groups (BatchGetItem per group) and their reported
/// days (BatchGetItem), then writes the registration on condition that
/// the one read is still there, with, for a lesson of today, the request
/// to alert the guardians of pupils newly absent without a valid reason
/// (B6), in one transaction. Two teachers registering the same lesson at
/// once: the later write reads the earlier one and replaces it.
///
/// An absence registered as invalid that a guardian's report covers is
/// stored as valid, with the report.
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
    let mut registered = checked(&lesson, &members, absences)?;
    let (reported, names) = pupils_day(store, &lesson, &pupils, true).await?;
    for absence in &mut registered {
        if let Some((_, name)) = names.iter().find(|(p, _)| *p == absence.pupil_id) {
            absence.pupil_name = name.clone();
        }
        if absence.reason == AbsenceReason::Invalid
            && let Some(report) = reported.iter().find(|r| r.pupil_id == absence.pupil_id)
        {
            absence.reason = AbsenceReason::Valid;
            absence.report_id = Some(report.report_id);
        }
    }
    let registration = Registration {
        lesson_id: lesson.id,
        school_id: lesson.school_id,
        group_ids: lesson.group_ids.clone(),
        lesson_start: lesson.start,
        lesson_end: Some(lesson.end),
        lesson_title: lesson.title.clone(),
        absences: registered,
        comment,
        registered_by: caller.id(),
        registered_at: clock.now(),
    };
    let today = lesson.start.date_naive() == clock.today();
    for _ in 0..ATTEMPTS {
        let before = store.get(&keys::lesson_attendance(lesson.id)).await?;
        let (condition, version) = match &before {
            Some(item) => (Condition::VersionEquals(item.version), item.version + 1),
            None => (Condition::MustNotExist, 1),
        };
        let was_invalid: Vec<PersonId> = match &before {
            Some(item) => item
                .parse::<Registration>()?
                .absences
                .iter()
                .filter(|a| a.reason == AbsenceReason::Invalid)
                .map(|a| a.pupil_id)
                .collect(),
            None => Vec::new(),
        };
        let mut item = registration.to_item()?;
        item.version = version;
        let mut writes = vec![Write::Put(item, condition)];
        if today {
            let newly_invalid = registration
                .absences
                .iter()
                .filter(|a| {
                    a.reason == AbsenceReason::Invalid && !was_invalid.contains(&a.pupil_id)
                })
                .map(|a| a.pupil_id)
                .collect();
            let about = AlertLesson {
                lesson_id: lesson.id,
                title: lesson.title.clone(),
                start: lesson.start,
            };
            writes.extend(alerts::request(
                OutboxId::generate(),
                clock,
                lesson.school_id,
                about,
                newly_invalid,
            )?);
        }
        match store.transact(&writes).await {
            Ok(()) => return Ok(registration),
            Err(e) if e.is_condition_failure() || matches!(e, StoreError::Conflict) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(AttendanceError::Store(StoreError::Conflict))
}

/// The absences as entered, checked against the lesson: each pupil once,
/// expected at the lesson, minutes within their scheduled minutes.
fn checked(
    lesson: &Lesson,
    members: &[PersonId],
    absences: Vec<NewAbsence>,
) -> Result<Vec<LessonAbsence>, AttendanceError> {
    let mut registered = Vec::with_capacity(absences.len());
    for (i, a) in absences.into_iter().enumerate() {
        let field = |name: &str| format!("absences[{i}].{name}");
        if registered
            .iter()
            .any(|r: &LessonAbsence| r.pupil_id == a.pupil_id)
        {
            return Err(invalid(field("pupilId"), "the same pupil twice"));
        }
        let own = scheduled_minutes(lesson, a.pupil_id);
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
            pupil_name: String::new(),
            reason: a.reason,
            minutes,
            comment: a.comment,
            report_id: None,
        });
    }
    Ok(registered)
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
