//! Absence (B1, B2, B5): guardians report, staff approve, everyone who may
//! sees who is away today.
//!
//! One report per pupil per overlapping period is kept by per-day items
//! (`ABSENCEDAY#<date>` in the pupil's partition) written with optimistic
//! locking in the same transaction as the report: two overlapping reports
//! sent at once cannot both land.

use crate::attendance::{AbsenceReason, Registration};
use crate::clock::Clock;
use crate::directory::{self, PersonRecord};
use crate::ids::{GroupId, LessonId, OutboxId, PersonId, ReportId, SchoolId};
use crate::keys;
use crate::outbox::{self, Notice};
use crate::policy::{self, Decision, PendingScope};
use crate::store::{Condition, Item, Query, SortKey, Store, StoreError, Write, query_all};
use chrono::{DateTime, Days, FixedOffset, NaiveDate, NaiveTime, Utc};
use serde::{Deserialize, Serialize};

/// How far ahead a guardian may report (B1).
pub const MAX_DAYS_AHEAD: u64 = 30;

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum Reason {
    Sick,
    Other,
}

/// What a report covers: whole days, or a span of one day.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Period {
    #[serde(rename_all = "camelCase")]
    WholeDays {
        first_day: NaiveDate,
        last_day: NaiveDate,
    },
    #[serde(rename_all = "camelCase")]
    PartOfDay {
        day: NaiveDate,
        from: NaiveTime,
        to: NaiveTime,
    },
}

impl Period {
    pub fn first_day(&self) -> NaiveDate {
        match *self {
            Period::WholeDays { first_day, .. } => first_day,
            Period::PartOfDay { day, .. } => day,
        }
    }

    pub fn last_day(&self) -> NaiveDate {
        match *self {
            Period::WholeDays { last_day, .. } => last_day,
            Period::PartOfDay { day, .. } => day,
        }
    }

    pub fn days(&self) -> impl Iterator<Item = NaiveDate> {
        let last = self.last_day();
        self.first_day().iter_days().take_while(move |d| *d <= last)
    }

    /// The span this period covers on `day`: `None` for the whole day.
    fn span(&self) -> Option<(NaiveTime, NaiveTime)> {
        match *self {
            Period::WholeDays { .. } => None,
            Period::PartOfDay { from, to, .. } => Some((from, to)),
        }
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum Status {
    Pending,
    Approved,
}

/// A report as a guardian sent it; parsed and checked for shape at the
/// HTTP edge, checked against the calendar here.
#[derive(Debug, Clone, PartialEq)]
pub struct NewReport {
    pub period: Period,
    pub reason: Reason,
    pub note: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct AbsenceReport {
    pub id: ReportId,
    pub pupil_id: PersonId,
    pub pupil_name: String,
    pub school_id: SchoolId,
    /// The pupil's groups when reported: whose mentors approve.
    pub group_ids: Vec<GroupId>,
    pub period: Period,
    pub reason: Reason,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub note: Option<String>,
    pub status: Status,
    pub reported_by: PersonId,
    pub reported_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub approved_by: Option<PersonId>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub approved_at: Option<DateTime<Utc>>,
}

impl AbsenceReport {
    fn to_item(&self, version: u64) -> Result<Item, StoreError> {
        let mut item = Item::new(
            keys::absence_report(self.pupil_id, self.id),
            keys::ABSENCE_REPORT,
            self,
        )?;
        item.version = version;
        if self.status == Status::Pending {
            item = item.with_gsi1(keys::pending_absence(
                self.school_id,
                self.period.first_day(),
                self.id,
            ));
        }
        Ok(item)
    }
}

/// One pupil's reported absence on one day (B5), kept beside the reports.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct AbsenceDay {
    pub pupil_id: PersonId,
    pub pupil_name: String,
    pub school_id: SchoolId,
    pub day: NaiveDate,
    pub entries: Vec<DayEntry>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct DayEntry {
    pub report_id: ReportId,
    pub reason: Reason,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub from: Option<NaiveTime>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub to: Option<NaiveTime>,
}

impl DayEntry {
    /// Whether the entry covers some of `span` (`None`: the whole day).
    pub fn overlaps(&self, span: Option<(NaiveTime, NaiveTime)>) -> bool {
        match (self.from.zip(self.to), span) {
            (Some((a_from, a_to)), Some((b_from, b_to))) => a_from < b_to && b_from < a_to,
            _ => true,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AbsenceError {
    #[error("not found")]
    NotFound,
    #[error("forbidden")]
    Forbidden,
    #[error("overlaps report {0}")]
    Overlaps(ReportId),
    #[error("{field}: {message}")]
    OutsideWindow {
        field: &'static str,
        message: String,
    },
    #[error("the pupil is not enrolled at a school")]
    NotEnrolled,
    #[error("too many concurrent changes, try again")]
    Contended,
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn decide(decision: Decision) -> Result<(), AbsenceError> {
    match decision {
        Decision::Allow => Ok(()),
        Decision::Forbidden => Err(AbsenceError::Forbidden),
        Decision::NotFound => Err(AbsenceError::NotFound),
    }
}

/// Loads a pupil with relations; an unknown pupil is `NotFound`, like one
/// the caller may not see.
async fn pupil_record(store: &dyn Store, pupil: PersonId) -> Result<PersonRecord, AbsenceError> {
    directory::person_record(store, pupil)
        .await?
        .ok_or(AbsenceError::NotFound)
}

const ATTEMPTS: usize = 5;

/// A few milliseconds, different for each caller, so racing requests do
/// not collide again in step.
async fn pause_before_retry() {
    let jitter = u64::from(ulid::Ulid::generate().random() as u8 % 20);
    tokio::time::sleep(std::time::Duration::from_millis(5 + jitter)).await;
}

/// B1: a guardian reports absence for their own child.
pub async fn report(
    store: &dyn Store,
    clock: &dyn Clock,
    caller: &PersonRecord,
    pupil_id: PersonId,
    new: NewReport,
) -> Result<AbsenceReport, AbsenceError> {
    let pupil = pupil_record(store, pupil_id).await?;
    decide(policy::report_absence(caller, &pupil))?;

    let today = clock.today();
    let window_end = today
        .checked_add_days(Days::new(MAX_DAYS_AHEAD))
        .unwrap_or(today);
    let (first_field, last_field) = match new.period {
        Period::WholeDays { .. } => ("firstDay", "lastDay"),
        Period::PartOfDay { .. } => ("day", "day"),
    };
    if new.period.first_day() < today {
        return Err(AbsenceError::OutsideWindow {
            field: first_field,
            message: format!("must be today ({today}) or later"),
        });
    }
    if new.period.last_day() > window_end {
        return Err(AbsenceError::OutsideWindow {
            field: last_field,
            message: format!("must be at most {MAX_DAYS_AHEAD} days ahead ({window_end})"),
        });
    }

    let school_id = pupil.enrolled_school().ok_or(AbsenceError::NotEnrolled)?;
    let school = directory::school(store, school_id)
        .await?
        .ok_or(AbsenceError::NotEnrolled)?;
    let now = clock.now();
    let auto = school.settings.auto_approve_absence;
    let report = AbsenceReport {
        id: ReportId::generate(),
        pupil_id,
        pupil_name: pupil.person.full_name(),
        school_id,
        group_ids: pupil.groups().collect(),
        period: new.period,
        reason: new.reason,
        note: new.note,
        status: if auto {
            Status::Approved
        } else {
            Status::Pending
        },
        reported_by: caller.id(),
        reported_at: now,
        approved_by: None,
        approved_at: auto.then_some(now),
    };

    for _ in 0..ATTEMPTS {
        let days = query_all(
            store,
            Query::partition(keys::person_partition(pupil_id)).sort(SortKey::Between(
                keys::absence_day_sk(report.period.first_day()),
                keys::absence_day_sk(report.period.last_day()),
            )),
        )
        .await?;
        let mut existing = std::collections::HashMap::new();
        for item in days {
            let day: AbsenceDay = item.parse()?;
            if let Some(e) = day
                .entries
                .iter()
                .find(|e| e.overlaps(report.period.span()))
            {
                return Err(AbsenceError::Overlaps(e.report_id));
            }
            existing.insert(day.day, (day, item.version));
        }

        let mut writes = vec![Write::Put(report.to_item(1)?, Condition::MustNotExist)];
        for day in report.period.days() {
            let entry = DayEntry {
                report_id: report.id,
                reason: report.reason,
                from: report.period.span().map(|s| s.0),
                to: report.period.span().map(|s| s.1),
            };
            let (mut record, condition, version) = match existing.remove(&day) {
                Some((record, v)) => (record, Condition::VersionEquals(v), v + 1),
                None => (
                    AbsenceDay {
                        pupil_id,
                        pupil_name: report.pupil_name.clone(),
                        school_id,
                        day,
                        entries: vec![],
                    },
                    Condition::MustNotExist,
                    1,
                ),
            };
            record.entries.push(entry);
            let mut item = Item::new(keys::absence_day(pupil_id, day), keys::ABSENCE_DAY, &record)?
                .with_gsi2(keys::absence_on_day(school_id, day, pupil_id));
            item.version = version;
            writes.push(Write::Put(item, condition));
        }
        if auto {
            writes.push(receipt(&report, now)?);
        }
        match store.transact(&writes).await {
            Ok(()) => return Ok(report),
            // Another report for the same days landed first, or was being
            // written at that moment: read again.
            Err(StoreError::TransactionConditionFailed { .. } | StoreError::Conflict) => {
                pause_before_retry().await
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(AbsenceError::Contended)
}

/// The e-mail receipt to the guardian who reported, as an outbox write.
fn receipt(report: &AbsenceReport, now: DateTime<Utc>) -> Result<Write, StoreError> {
    let notice = Notice::AbsenceApproved {
        report_id: report.id,
        pupil_name: report.pupil_name.clone(),
        period: report.period,
        reason: report.reason,
    };
    let item = outbox::message_item(OutboxId::generate(), report.reported_by, notice, now)?;
    Ok(Write::Put(item, Condition::MustNotExist))
}

/// The outcome of an approval.
#[derive(Debug, Clone, PartialEq)]
pub struct Approval {
    pub report: AbsenceReport,
    /// False when the report was already approved (nothing was written).
    pub changed: bool,
}

/// B2: staff approve a report; the status change and the guardian's
/// receipt are one transaction. Approving an approved report changes
/// nothing and sends nothing.
pub async fn approve(
    store: &dyn Store,
    clock: &dyn Clock,
    caller: &PersonRecord,
    pupil_id: PersonId,
    report_id: ReportId,
) -> Result<Approval, AbsenceError> {
    for _ in 0..ATTEMPTS {
        let item = store
            .get(&keys::absence_report(pupil_id, report_id))
            .await?
            .ok_or(AbsenceError::NotFound)?;
        let mut report: AbsenceReport = item.parse()?;
        decide(policy::approve_absence(caller, &report))?;
        if report.status == Status::Approved {
            return Ok(Approval {
                report,
                changed: false,
            });
        }
        let now = clock.now();
        report.status = Status::Approved;
        report.approved_by = Some(caller.id());
        report.approved_at = Some(now);
        let writes = [
            Write::Put(
                report.to_item(item.version + 1)?,
                Condition::VersionEquals(item.version),
            ),
            receipt(&report, now)?,
        ];
        match store.transact(&writes).await {
            Ok(()) => {
                return Ok(Approval {
                    report,
                    changed: true,
                });
            }
            Err(StoreError::TransactionConditionFailed { index: 0, .. } | StoreError::Conflict) => {
                pause_before_retry().await
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(AbsenceError::Contended)
}

/// A pupil's reports, newest first, one page.
pub async fn list_for_pupil(
    store: &dyn Store,
    caller: &PersonRecord,
    pupil_id: PersonId,
    cursor: Option<String>,
    limit: u32,
) -> Result<(Vec<AbsenceReport>, Option<String>), AbsenceError> {
    // A guardian and the pupil are decided by the caller's own relations;
    // staff by the pupil's school and groups, so only they read the pupil.
    if !policy::reads_pupil_absence_as_family(caller, pupil_id) {
        let pupil = pupil_record(store, pupil_id).await?;
        decide(policy::read_pupil_absence(caller, &pupil))?;
    }
    let page = store
        .query(
            &Query::partition(keys::person_partition(pupil_id))
                .begins_with(keys::ABSENCE_REPORT_PREFIX)
                .backward()
                .limit(limit)
                .after(cursor),
        )
        .await?;
    let reports = page
        .items
        .iter()
        .map(|i| i.parse())
        .collect::<Result<Vec<_>, _>>()?;
    Ok((reports, page.next))
}

/// B2: a page of the reports of a school that wait for approval, as far
/// as the caller may see them, oldest first day first. A mentor's page
/// holds the reports of their groups among the page's `limit` read, so it
/// may hold fewer, even none, while a cursor says more follow.
pub async fn pending_for_school(
    store: &dyn Store,
    caller: &PersonRecord,
    school_id: SchoolId,
    cursor: Option<String>,
    limit: u32,
) -> Result<(Vec<AbsenceReport>, Option<String>), AbsenceError> {
    let scope = policy::list_pending_absence(caller, school_id).map_err(|d| match d {
        Decision::Forbidden => AbsenceError::Forbidden,
        _ => AbsenceError::NotFound,
    })?;
    let page = store
        .query(
            &Query::partition(keys::pending_absence_partition(school_id))
                .on(crate::store::Index::Gsi1)
                .limit(limit)
                .after(cursor),
        )
        .await?;
    let mut reports = Vec::with_capacity(page.items.len());
    for item in &page.items {
        let report: AbsenceReport = item.parse()?;
        let visible = match &scope {
            PendingScope::WholeSchool => true,
            PendingScope::MentorGroups(groups) => {
                report.group_ids.iter().any(|g| groups.contains(g))
            }
        };
        if visible && report.status == Status::Pending {
            reports.push(report);
        }
    }
    Ok((reports, page.next))
}

/// One lesson a pupil was registered away from or late to today (B3).
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RegisteredToday {
    pub lesson_id: LessonId,
    pub title: String,
    pub start: DateTime<FixedOffset>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end: Option<DateTime<FixedOffset>>,
    pub reason: AbsenceReason,
    pub minutes: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report_id: Option<ReportId>,
}

/// A pupil's absence today: what their guardians reported (`entries`)
/// and what teachers registered, lesson by lesson (`lessons`).
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PupilToday {
    pub pupil_id: PersonId,
    pub pupil_name: String,
    pub school_id: SchoolId,
    pub day: NaiveDate,
    pub entries: Vec<DayEntry>,
    pub lessons: Vec<RegisteredToday>,
}

/// B5: who of the school is absent today, reported and registered
/// merged, one item per pupil sorted by name. One Query of the school's
/// day (GSI2), where the reported days and the lessons' registrations
/// both are, each naming its pupils.
pub async fn today_for_school(
    store: &dyn Store,
    clock: &dyn Clock,
    caller: &PersonRecord,
    school_id: SchoolId,
) -> Result<(NaiveDate, Vec<PupilToday>), AbsenceError> {
    decide(policy::read_school_absence_today(caller, school_id))?;
    let today = clock.today();
    let items = query_all(
        store,
        Query::partition(keys::absence_on_day_partition(school_id, today))
            .on(crate::store::Index::Gsi2),
    )
    .await?;
    let mut pupils: std::collections::BTreeMap<PersonId, PupilToday> = Default::default();
    let mut registrations = Vec::new();
    for item in &items {
        if item.entity == keys::LESSON_ATTENDANCE {
            registrations.push(item.parse::<Registration>()?);
        } else {
            let day: AbsenceDay = item.parse()?;
            pupils.insert(
                day.pupil_id,
                PupilToday {
                    pupil_id: day.pupil_id,
                    pupil_name: day.pupil_name,
                    school_id: day.school_id,
                    day: day.day,
                    entries: day.entries,
                    lessons: Vec::new(),
                },
            );
        }
    }
    for registration in registrations {
        for absence in registration.absences {
            let pupil = pupils
                .entry(absence.pupil_id)
                .or_insert_with(|| PupilToday {
                    pupil_id: absence.pupil_id,
                    pupil_name: absence.pupil_name.clone(),
                    school_id,
                    day: today,
                    entries: Vec::new(),
                    lessons: Vec::new(),
                });
            pupil.lessons.push(RegisteredToday {
                lesson_id: registration.lesson_id,
                title: registration.lesson_title.clone(),
                start: registration.lesson_start,
                end: registration.lesson_end,
                reason: absence.reason,
                minutes: absence.minutes,
                report_id: absence.report_id,
            });
        }
    }
    let mut pupils: Vec<PupilToday> = pupils.into_values().collect();
    for pupil in &mut pupils {
        pupil.lessons.sort_by_key(|l| l.start);
    }
    pupils.sort_by(|a, b| a.pupil_name.cmp(&b.pupil_name));
    Ok((today, pupils))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }

    fn entry(from: Option<NaiveTime>, to: Option<NaiveTime>) -> DayEntry {
        DayEntry {
            report_id: ReportId::generate(),
            reason: Reason::Sick,
            from,
            to,
        }
    }

    #[test]
    fn a_whole_day_overlaps_any_part_of_that_day() {
        assert!(entry(None, None).overlaps(Some((t(8, 0), t(9, 0)))));
        assert!(entry(Some(t(8, 0)), Some(t(9, 0))).overlaps(None));
    }

    #[test]
    fn spans_that_only_touch_do_not_overlap() {
        let morning = entry(Some(t(8, 0)), Some(t(10, 0)));
        assert!(!morning.overlaps(Some((t(10, 0), t(12, 0)))));
        assert!(morning.overlaps(Some((t(9, 59), t(12, 0)))));
    }

    #[test]
    fn a_period_of_whole_days_lists_every_day_inclusive() {
        let p = Period::WholeDays {
            first_day: NaiveDate::from_ymd_opt(2026, 11, 30).unwrap(),
            last_day: NaiveDate::from_ymd_opt(2026, 12, 2).unwrap(),
        };
        let days: Vec<_> = p.days().map(|d| d.to_string()).collect();
        assert_eq!(days, ["2026-11-30", "2026-12-01", "2026-12-02"]);
    }
}
