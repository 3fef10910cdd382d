//! Lessons (A4): the schedule imported from SS 12000 Activities and
//! CalendarEvents, and the two day views read from it, a teacher's day and
//! a group's day, each one Query (see `keys::lesson_partition` for the
//! item collection and its indexes).
//!
//! Times are kept as Europe/Stockholm local time with its offset, the way
//! clients show them; the index sort keys use the local start, so "a day"
//! is the Swedish calendar day.

use crate::directory::{self, Group, PersonRecord};
use crate::ids::{ActivityId, GroupId, LessonId, PersonId, SchoolId};
use crate::keys;
use crate::policy::{self, Decision};
use crate::store::{Index, Item, Key, Query, SortKey, Store, StoreError};
use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use chrono_tz::Europe::Stockholm;
use serde::{Deserialize, Serialize};

/// What an activity's lessons share. Stored so the import can re-plan the
/// lessons when only the activity changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Activity {
    pub id: ActivityId,
    pub school_id: SchoolId,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    pub group_ids: Vec<GroupId>,
    pub teacher_ids: Vec<PersonId>,
    /// Deleted in the registry: its lessons are cancelled and kept.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub removed: bool,
}

/// A pupil who does not follow the lesson as scheduled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PupilException {
    pub pupil_id: PersonId,
    /// `false`: not expected at the lesson at all.
    pub participates: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<DateTime<FixedOffset>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<DateTime<FixedOffset>>,
    /// The pupil's own scheduled minutes of the lesson (0 when not
    /// participating): what B3 registers by default and B7 counts.
    pub minutes: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TeacherException {
    pub teacher_id: PersonId,
    pub participates: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<DateTime<FixedOffset>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<DateTime<FixedOffset>>,
}

/// One lesson (schemaposition). The same content is on the lesson item and
/// on each of its group and teacher copies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Lesson {
    pub id: LessonId,
    pub activity_id: ActivityId,
    pub school_id: SchoolId,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    pub group_ids: Vec<GroupId>,
    pub teacher_ids: Vec<PersonId>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rooms: Vec<String>,
    pub start: DateTime<FixedOffset>,
    pub end: DateTime<FixedOffset>,
    /// Scheduled length in minutes.
    pub minutes: u32,
    pub cancelled: bool,
    /// Deleted in the registry (the event or its activity): kept, with
    /// `cancelled`, so history and registrations keep their lesson.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub removed: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pupil_exceptions: Vec<PupilException>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub teacher_exceptions: Vec<TeacherException>,
}

/// A time in Sweden, with the offset of that moment.
pub fn local(t: DateTime<Utc>) -> DateTime<FixedOffset> {
    t.with_timezone(&Stockholm).fixed_offset()
}

/// Whole minutes from `start` to `end` (0 if the end is not after it).
pub fn minutes_between(start: DateTime<FixedOffset>, end: DateTime<FixedOffset>) -> u32 {
    u32::try_from((end - start).num_minutes()).unwrap_or(0)
}

impl PupilException {
    /// An exception, its minutes clipped to the lesson.
    pub fn new(
        pupil_id: PersonId,
        participates: bool,
        start: Option<DateTime<Utc>>,
        end: Option<DateTime<Utc>>,
        lesson: (DateTime<FixedOffset>, DateTime<FixedOffset>),
    ) -> Self {
        let start = start.map(local);
        let end = end.map(local);
        let minutes = if participates {
            let from = start.unwrap_or(lesson.0).max(lesson.0);
            let to = end.unwrap_or(lesson.1).min(lesson.1);
            minutes_between(from, to)
        } else {
            0
        };
        PupilException {
            pupil_id,
            participates,
            start,
            end,
            minutes,
        }
    }
}

impl Lesson {
    /// A lesson's event-side content with its activity's shared content.
    pub fn with_activity(mut self, activity: &Activity) -> Self {
        self.activity_id = activity.id;
        self.school_id = activity.school_id;
        self.title = activity.title.clone();
        self.subject = activity.subject.clone();
        self.group_ids = activity.group_ids.clone();
        self.teacher_ids = activity.teacher_ids.clone();
        if activity.removed {
            self.removed = true;
            self.cancelled = true;
        }
        self
    }

    /// The teachers whose day shows the lesson: the activity's and any
    /// substitute in a participating teacher exception.
    pub fn teachers_of_day(&self) -> Vec<PersonId> {
        let mut out = self.teacher_ids.clone();
        for x in &self.teacher_exceptions {
            if x.participates && !out.contains(&x.teacher_id) {
                out.push(x.teacher_id);
            }
        }
        out
    }

    fn sort_key(&self) -> String {
        keys::lesson_time(self.start.naive_local(), self.id)
    }

    /// The lesson item (indexed under its activity, GSI1, and its school,
    /// GSI2) and its group and teacher copies.
    pub fn items(&self) -> Result<Vec<Item>, StoreError> {
        let sk = self.sort_key();
        let mut items = vec![
            Item::new(keys::lesson(self.id), keys::LESSON, self)?
                .with_gsi1(Key::new(
                    keys::lessons_of_activity_partition(self.activity_id),
                    sk.clone(),
                ))
                .with_gsi2(Key::new(
                    keys::lessons_of_school_partition(self.school_id),
                    sk.clone(),
                )),
        ];
        for g in &self.group_ids {
            items.push(
                Item::new(
                    keys::lesson_of_group(self.id, *g),
                    keys::LESSON_OF_GROUP,
                    self,
                )?
                .with_gsi1(Key::new(keys::lessons_of_group_partition(*g), sk.clone())),
            );
        }
        for t in self.teachers_of_day() {
            items.push(
                Item::new(
                    keys::lesson_of_teacher(self.id, t),
                    keys::LESSON_OF_TEACHER,
                    self,
                )?
                .with_gsi2(Key::new(keys::lessons_of_teacher_partition(t), sk.clone())),
            );
        }
        Ok(items)
    }
}

pub fn activity_item(activity: &Activity) -> Result<Item, StoreError> {
    Item::new(keys::activity(activity.id), keys::ACTIVITY, activity)
}

/// Access pattern: every lesson of an activity (the import).
pub async fn of_activity(store: &dyn Store, id: ActivityId) -> Result<Vec<Lesson>, StoreError> {
    let query = Query::partition(keys::lessons_of_activity_partition(id)).on(Index::Gsi1);
    crate::store::query_all(store, query)
        .await?
        .iter()
        .map(|i| i.parse())
        .collect()
}

/// Access pattern: one lesson by id.
pub async fn get(store: &dyn Store, id: LessonId) -> Result<Option<Lesson>, StoreError> {
    store
        .get(&keys::lesson(id))
        .await?
        .map(|i| i.parse())
        .transpose()
}

#[derive(Debug, thiserror::Error)]
pub enum LessonsError {
    #[error("not found")]
    NotFound,
    #[error("forbidden")]
    Forbidden,
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn decide(d: Decision) -> Result<(), LessonsError> {
    match d {
        Decision::Allow => Ok(()),
        Decision::Forbidden => Err(LessonsError::Forbidden),
        Decision::NotFound => Err(LessonsError::NotFound),
    }
}

/// A lesson as a day view shows it. Pupil exceptions are shown to staff
/// in full; a pupil or guardian sees only their own (child's).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LessonView {
    pub id: LessonId,
    pub activity_id: ActivityId,
    pub school_id: SchoolId,
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    pub group_ids: Vec<GroupId>,
    pub teacher_ids: Vec<PersonId>,
    pub rooms: Vec<String>,
    pub start: DateTime<FixedOffset>,
    pub end: DateTime<FixedOffset>,
    pub minutes: u32,
    pub cancelled: bool,
    pub removed: bool,
    pub pupil_exceptions: Vec<PupilException>,
    pub teacher_exceptions: Vec<TeacherException>,
}

impl LessonView {
    /// The lesson as answered, with the pupil exceptions of the pupils
    /// the caller sees.
    pub fn of(lesson: Lesson, sees_pupil: impl Fn(PersonId) -> bool) -> Self {
        LessonView {
            id: lesson.id,
            activity_id: lesson.activity_id,
            school_id: lesson.school_id,
            title: lesson.title,
            subject: lesson.subject,
            group_ids: lesson.group_ids,
            teacher_ids: lesson.teacher_ids,
            rooms: lesson.rooms,
            start: lesson.start,
            end: lesson.end,
            minutes: lesson.minutes,
            cancelled: lesson.cancelled,
            removed: lesson.removed,
            pupil_exceptions: lesson
                .pupil_exceptions
                .into_iter()
                .filter(|x| sees_pupil(x.pupil_id))
                .collect(),
            teacher_exceptions: lesson.teacher_exceptions,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Day {
    pub date: NaiveDate,
    pub items: Vec<LessonView>,
}

/// One Query: the lessons starting on `day` in one index partition.
async fn day_query(
    store: &dyn Store,
    index: Index,
    partition: String,
    day: NaiveDate,
) -> Result<Vec<Lesson>, StoreError> {
    let (lo, hi) = keys::lesson_day_range(day, day);
    let query = Query::partition(partition)
        .on(index)
        .sort(SortKey::Between(lo, hi));
    crate::store::query_all(store, query)
        .await?
        .iter()
        .map(|i| i.parse())
        .collect()
}

/// A4: a teacher's day, one Query on GSI2. The teacher themself sees every
/// lesson; a school's leaders see the teacher's lessons at their school.
pub async fn teacher_day(
    store: &dyn Store,
    caller: &PersonRecord,
    teacher: PersonId,
    day: NaiveDate,
) -> Result<Day, LessonsError> {
    let scope = if caller.id() == teacher {
        policy::TeacherDayScope::Own
    } else {
        let record = directory::person_record(store, teacher).await?;
        policy::read_teacher_day(caller, record.as_ref()).map_err(|d| match d {
            Decision::Forbidden => LessonsError::Forbidden,
            _ => LessonsError::NotFound,
        })?
    };
    let lessons = day_query(
        store,
        Index::Gsi2,
        keys::lessons_of_teacher_partition(teacher),
        day,
    )
    .await?;
    let items = lessons
        .into_iter()
        .filter(|l| scope.covers(l.school_id))
        .map(|l| LessonView::of(l, |_| true))
        .collect();
    Ok(Day { date: day, items })
}

/// A4: a group's day, one Query on GSI1. Staff of the group's school see
/// every lesson with every pupil exception; a pupil of the group sees only
/// their own exceptions, a guardian of one of its pupils only their
/// children's.
pub async fn group_day(
    store: &dyn Store,
    caller: &PersonRecord,
    group_id: GroupId,
    day: NaiveDate,
) -> Result<Day, LessonsError> {
    let (staff, children) = match crate::audience::family_of_group(store, caller, group_id).await? {
        // A pupil or guardian: the group is not read.
        Some(family) => {
            decide(policy::read_group_day_as_family(&family))?;
            (false, family.children)
        }
        None => {
            let group: Group = directory::group(store, group_id)
                .await?
                .ok_or(LessonsError::NotFound)?;
            let staff = caller.has_duty_at(group.school_id);
            let children = if staff {
                Vec::new()
            } else {
                directory::children_in_group(store, caller, group.id).await?
            };
            decide(policy::read_group_day(caller, &group, &children))?;
            (staff, children)
        }
    };
    let lessons = day_query(
        store,
        Index::Gsi1,
        keys::lessons_of_group_partition(group_id),
        day,
    )
    .await?;
    let me = caller.id();
    let items = lessons
        .into_iter()
        .map(|l| LessonView::of(l, |p| staff || p == me || children.contains(&p)))
        .collect();
    Ok(Day { date: day, items })
}

/// How far back a teacher is shown the lessons they have not reported.
pub const UNREPORTED_DAYS: u64 = 14;

/// The caller's lessons of the last [`UNREPORTED_DAYS`] days, up to now,
/// that have no registration (B3: "confirm lesson" records one even with
/// nobody absent), oldest first. One Query of the teacher's lessons on
/// GSI2, then one BatchGetItem of their registrations per 100; cancelled
/// lessons need none. A teacher sees only their own: the route is the
/// caller's own (`Auth::Own`), so their record is not read first.
pub async fn unreported(
    store: &dyn Store,
    caller: &PersonRecord,
    now: DateTime<Utc>,
) -> Result<Vec<LessonView>, LessonsError> {
    let today = local(now).date_naive();
    let from = today
        .checked_sub_days(chrono::Days::new(UNREPORTED_DAYS))
        .unwrap_or(today);
    let (lo, hi) = keys::lesson_day_range(from, today);
    let query = Query::partition(keys::lessons_of_teacher_partition(caller.id()))
        .on(Index::Gsi2)
        .sort(SortKey::Between(lo, hi));
    let mut due = Vec::new();
    for item in crate::store::query_all(store, query).await? {
        let lesson: Lesson = item.parse()?;
        if !lesson.cancelled && lesson.start <= now {
            due.push(lesson);
        }
    }
    let mut reported = std::collections::HashSet::new();
    for chunk in due.chunks(100) {
        let keys: Vec<_> = chunk
            .iter()
            .map(|l| keys::lesson_attendance(l.id))
            .collect();
        for item in store.get_many(&keys).await? {
            reported.insert(item.key);
        }
    }
    Ok(due
        .into_iter()
        .filter(|l| !reported.contains(&keys::lesson_attendance(l.id)))
        .map(|l| LessonView::of(l, |_| true))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn lesson(start: DateTime<Utc>, end: DateTime<Utc>) -> Lesson {
        Lesson {
            id: LessonId::generate(),
            activity_id: ActivityId::generate(),
            school_id: SchoolId::generate(),
            title: "Matematik 4A".into(),
            subject: Some("Matematik".into()),
            group_ids: vec![GroupId::generate()],
            teacher_ids: vec![PersonId::generate()],
            rooms: vec![],
            start: local(start),
            end: local(end),
            minutes: minutes_between(local(start), local(end)),
            cancelled: false,
            removed: false,
            pupil_exceptions: vec![],
            teacher_exceptions: vec![],
        }
    }

    #[test]
    fn a_lesson_is_keyed_by_its_swedish_start_even_across_summer_time() {
        // 06:15 UTC is 08:15 in Stockholm in summer, 07:15 in winter.
        let summer = lesson(
            Utc.with_ymd_and_hms(2026, 6, 1, 6, 15, 0).unwrap(),
            Utc.with_ymd_and_hms(2026, 6, 1, 7, 0, 0).unwrap(),
        );
        assert_eq!(summer.start.to_rfc3339(), "2026-06-01T08:15:00+02:00");
        assert!(summer.sort_key().starts_with("2026-06-01T08:15#"));
        let winter = lesson(
            Utc.with_ymd_and_hms(2026, 11, 30, 23, 30, 0).unwrap(),
            Utc.with_ymd_and_hms(2026, 12, 1, 0, 15, 0).unwrap(),
        );
        // Late on the 30th in UTC is already the 1st in Sweden.
        assert!(winter.sort_key().starts_with("2026-12-01T00:30#"));
        assert_eq!(winter.minutes, 45);
    }

    #[test]
    fn a_lesson_has_one_copy_per_group_and_per_teacher_including_a_substitute() {
        let mut l = lesson(
            Utc.with_ymd_and_hms(2026, 11, 2, 7, 15, 0).unwrap(),
            Utc.with_ymd_and_hms(2026, 11, 2, 8, 0, 0).unwrap(),
        );
        let substitute = PersonId::generate();
        l.teacher_exceptions.push(TeacherException {
            teacher_id: substitute,
            participates: true,
            start: None,
            end: None,
        });
        let items = l.items().unwrap();
        assert_eq!(items.len(), 1 + 1 + 2);
        assert!(items.iter().any(|i| i.gsi2.as_ref().map(|k| k.pk.clone())
            == Some(keys::lessons_of_teacher_partition(substitute))));
        let school: Vec<_> = items
            .iter()
            .filter(|i| {
                i.gsi2.as_ref().map(|k| k.pk.clone())
                    == Some(keys::lessons_of_school_partition(l.school_id))
            })
            .collect();
        assert_eq!(school.len(), 1, "the lesson item alone, for the school");
        assert_eq!(school[0].key, keys::lesson(l.id));
        assert!(
            items
                .iter()
                .all(|i| i.key.pk == keys::lesson_partition(l.id))
        );
    }

    #[test]
    fn a_pupils_own_times_give_their_minutes_clipped_to_the_lesson() {
        let start = Utc.with_ymd_and_hms(2026, 11, 2, 7, 15, 0).unwrap();
        let end = Utc.with_ymd_and_hms(2026, 11, 2, 8, 15, 0).unwrap();
        let span = (local(start), local(end));
        let late = PupilException::new(
            PersonId::generate(),
            true,
            Some(start + chrono::Duration::minutes(20)),
            Some(end + chrono::Duration::minutes(30)),
            span,
        );
        assert_eq!(late.minutes, 40);
        let away = PupilException::new(PersonId::generate(), false, None, None, span);
        assert_eq!(away.minutes, 0);
    }
}
