//! Absence over a period (B4) and the absence reports (B7), computed from
//! the stored lessons and their registrations (B3) whenever asked: nothing
//! is stored for them, so a report is never behind a late registration.
//!
//! Reads, for a group over a period: the group (GetItem), its lessons
//! (one paged Query on GSI1 `LESSONS#GROUP#<group>`), the registrations
//! of the lessons held (BatchGetItem per 100), its pupils (one Query on
//! GSI1 `PEOPLE#GROUP#<group>`) and their names (BatchGetItem per 100).
//! For a pupil: their record (one Query, which holds their groups), each
//! group's lessons, the registrations, once per lesson. For a school's
//! unreported lessons: the school's lessons (one paged Query on GSI2
//! `LESSONS#SCHOOL#<school>`) and their registrations.
//!
//! The arithmetic is in [`tally`]; who may read what in `policy`. A group
//! report lists every pupil of the group, those with protected identity
//! too, and only staff read it; a guardian reads their own child's report
//! alone, which names nobody else.

pub mod csv;
pub mod tally;

use crate::attendance::Registration;
use crate::directory::{self, PersonRecord};
use crate::ids::{GroupId, LessonId, PersonId, SchoolId};
use crate::keys;
use crate::lessons::Lesson;
use crate::policy::{self, Decision};
use crate::roster::{self, Member, RosterName};
use crate::store::{Index, Query, SortKey, Store, StoreError};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};
use tally::{Pupil, Summary, Tally, UnreportedLesson};

/// The longest period one report covers, in days (a school year and a
/// leap day): what one request reads stays bounded.
pub const MAX_DAYS: i64 = 366;

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("not found")]
    NotFound,
    #[error("forbidden")]
    Forbidden,
    /// Bad input, naming the field.
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn decide(d: Decision) -> Result<(), ReportError> {
    match d {
        Decision::Allow => Ok(()),
        Decision::Forbidden => Err(ReportError::Forbidden),
        Decision::NotFound => Err(ReportError::NotFound),
    }
}

/// The days `from..=to` (Swedish calendar days), at most [`MAX_DAYS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Period {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl Period {
    pub fn new(from: NaiveDate, to: NaiveDate) -> Result<Period, ReportError> {
        if from > to {
            return Err(ReportError::Invalid {
                field: "from".into(),
                message: "on or before `to`".into(),
            });
        }
        if (to - from).num_days() + 1 > MAX_DAYS {
            return Err(ReportError::Invalid {
                field: "to".into(),
                message: format!("at most {MAX_DAYS} days from `from`"),
            });
        }
        Ok(Period { from, to })
    }
}

/// A pupil as a report names them (for staff, or a guardian's own child).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PupilRef {
    pub pupil_id: PersonId,
    pub given_name: String,
    pub family_name: String,
    /// Shown to staff so they take care with the row; the pupil is
    /// counted like everyone else.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub protected_identity: bool,
}

/// B7: one pupil's row of a group report.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PupilRow {
    #[serde(flatten)]
    pub pupil: PupilRef,
    #[serde(flatten)]
    pub summary: Summary,
}

/// B7: a group's report over a period: a row per pupil and the totals.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupReport {
    pub group_id: GroupId,
    pub group_name: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub pupils: Vec<PupilRow>,
    pub total: Summary,
}

/// One day of one pupil (B4).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Day {
    pub date: NaiveDate,
    #[serde(flatten)]
    pub tally: Tally,
}

fn day_list(days: &BTreeMap<NaiveDate, Tally>) -> Vec<Day> {
    days.iter()
        .map(|(date, tally)| Day {
            date: *date,
            tally: *tally,
        })
        .collect()
}

/// B4: one pupil's days of a group's absence over a period.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PupilDays {
    #[serde(flatten)]
    pub pupil: PupilRef,
    pub days: Vec<Day>,
    pub total: Summary,
}

/// B4: absence in days for one, several or all pupils of a group.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupAbsence {
    pub group_id: GroupId,
    pub group_name: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub pupils: Vec<PupilDays>,
}

/// B7: one pupil's report over a period: the total and each school day.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PupilReport {
    #[serde(flatten)]
    pub pupil: PupilRef,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub total: Summary,
    pub days: Vec<Day>,
}

/// B7: one teacher's unreported lessons.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TeacherUnreported {
    pub teacher_id: PersonId,
    pub given_name: String,
    pub family_name: String,
    pub count: usize,
    pub lessons: Vec<UnreportedLesson>,
}

/// B7: a school's held lessons without a registration, per teacher.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SchoolUnreported {
    pub school_id: SchoolId,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub teachers: Vec<TeacherUnreported>,
}

/// One paged Query: the lessons of an index partition starting in the
/// period, in order of start.
async fn lessons_in(
    store: &dyn Store,
    index: Index,
    partition: String,
    period: Period,
) -> Result<Vec<Lesson>, StoreError> {
    let (lo, hi) = keys::lesson_day_range(period.from, period.to);
    let query = Query::partition(partition)
        .on(index)
        .sort(SortKey::Between(lo, hi));
    crate::store::query_all(store, query)
        .await?
        .iter()
        .map(|i| i.parse())
        .collect()
}

/// The registrations of the lessons held by `now` (the others count
/// nothing), one BatchGetItem per 100, each lesson once. Eventually
/// consistent (half the read capacity): a report over weeks may miss a
/// registration of the last second, as a report printed a second earlier
/// would. A term report of a class is about 200 registrations.
async fn registrations(
    store: &dyn Store,
    lessons: &[Lesson],
    now: DateTime<Utc>,
) -> Result<HashMap<LessonId, Registration>, StoreError> {
    let mut seen = HashSet::new();
    let held: Vec<LessonId> = lessons
        .iter()
        .filter(|l| tally::held(l, now) && seen.insert(l.id))
        .map(|l| l.id)
        .collect();
    let mut out = HashMap::with_capacity(held.len());
    for chunk in held.chunks(100) {
        let keys: Vec<_> = chunk
            .iter()
            .map(|id| keys::lesson_attendance(*id))
            .collect();
        for item in store.get_many_eventually(&keys).await? {
            let r: Registration = item.parse()?;
            out.insert(r.lesson_id, r);
        }
    }
    Ok(out)
}

/// People's names, in the order given (an id without a person item
/// keeps its row, unnamed).
async fn named(store: &dyn Store, ids: &[PersonId]) -> Result<Vec<PupilRef>, StoreError> {
    let people: HashMap<PersonId, RosterName> = directory::people(store, ids)
        .await?
        .iter()
        .map(|p| (p.id, RosterName::of(p)))
        .collect();
    Ok(ids
        .iter()
        .map(|id| {
            PupilRef::of(Member {
                pupil_id: *id,
                name: people.get(id).cloned(),
            })
        })
        .collect())
}

impl PupilRef {
    /// A row's pupil as the roster names them (unnamed without a person
    /// item).
    fn of(member: Member) -> Self {
        let name = member.name.unwrap_or_default();
        PupilRef {
            pupil_id: member.pupil_id,
            given_name: name.given_name,
            family_name: name.family_name,
            protected_identity: name.protected_identity,
        }
    }
}

fn by_name(a: &PupilRef, b: &PupilRef) -> std::cmp::Ordering {
    (&a.family_name, &a.given_name, a.pupil_id).cmp(&(&b.family_name, &b.given_name, b.pupil_id))
}

/// What a group's two views (B4, B7) read: the group, authorized, its
/// pupils and each pupil's days.
struct GroupData {
    group: directory::Group,
    pupils: Vec<PupilRef>,
    days: BTreeMap<PersonId, BTreeMap<NaiveDate, Tally>>,
}

async fn group_data(
    store: &dyn Store,
    caller: &PersonRecord,
    group_id: GroupId,
    period: Period,
    only: Option<&[PersonId]>,
    now: DateTime<Utc>,
) -> Result<GroupData, ReportError> {
    let group = directory::group(store, group_id)
        .await?
        .ok_or(ReportError::NotFound)?;
    let children = if policy::is_group_staff(caller, &group) {
        Vec::new()
    } else {
        directory::children_in_group(store, caller, group.id).await?
    };
    decide(policy::read_group_absence(caller, &group, &children))?;
    // Two chains at the same time: the pupils with their names; the
    // lessons of the period, then their registrations.
    let pupils_named = async {
        let mut roster = roster::group_roster(store, group.id).await?;
        if let Some(only) = only {
            if let Some((i, _)) = only
                .iter()
                .enumerate()
                .find(|(_, p)| !roster.iter().any(|m| m.pupil_id == **p))
            {
                return Err(ReportError::Invalid {
                    field: format!("pupils[{i}]"),
                    message: "not a pupil of this group".into(),
                });
            }
            roster.retain(|m| only.contains(&m.pupil_id));
        }
        let members: Vec<PersonId> = roster.iter().map(|m| m.pupil_id).collect();
        let named = roster.into_iter().map(PupilRef::of).collect::<Vec<_>>();
        Ok((members, named))
    };
    let registered_lessons = async {
        let lessons = lessons_in(
            store,
            Index::Gsi1,
            keys::lessons_of_group_partition(group.id),
            period,
        )
        .await?;
        let registrations = registrations(store, &lessons, now).await?;
        Ok::<_, ReportError>((lessons, registrations))
    };
    let ((members, mut pupils), (lessons, registrations)) =
        futures_util::future::try_join(pupils_named, registered_lessons).await?;
    let tallied: Vec<Pupil> = members
        .iter()
        .map(|id| Pupil {
            id: *id,
            groups: vec![group.id],
        })
        .collect();
    let days = tally::days(&lessons, &registrations, &tallied, now);
    pupils.sort_by(by_name);
    Ok(GroupData {
        group,
        pupils,
        days,
    })
}

/// B7: a group's report over a period, for the group's staff.
pub async fn group_report(
    store: &dyn Store,
    caller: &PersonRecord,
    group_id: GroupId,
    period: Period,
    now: DateTime<Utc>,
) -> Result<GroupReport, ReportError> {
    let data = group_data(store, caller, group_id, period, None, now).await?;
    let rows: Vec<PupilRow> = data
        .pupils
        .into_iter()
        .map(|pupil| {
            let summary = data
                .days
                .get(&pupil.pupil_id)
                .map(|d| Summary::of_days(d.values()))
                .unwrap_or_default();
            PupilRow { pupil, summary }
        })
        .collect();
    let total = Summary::total(rows.iter().map(|r| &r.summary));
    Ok(GroupReport {
        group_id: data.group.id,
        group_name: data.group.name,
        from: period.from,
        to: period.to,
        pupils: rows,
        total,
    })
}

/// B4: a group's absence per pupil and day over a period, for all its
/// pupils or the ones named (each must be a pupil of the group).
pub async fn group_absence(
    store: &dyn Store,
    caller: &PersonRecord,
    group_id: GroupId,
    period: Period,
    only: Option<&[PersonId]>,
    now: DateTime<Utc>,
) -> Result<GroupAbsence, ReportError> {
    let data = group_data(store, caller, group_id, period, only, now).await?;
    let pupils = data
        .pupils
        .into_iter()
        .map(|pupil| {
            let empty = BTreeMap::new();
            let days = data.days.get(&pupil.pupil_id).unwrap_or(&empty);
            PupilDays {
                pupil,
                days: day_list(days),
                total: Summary::of_days(days.values()),
            }
        })
        .collect();
    Ok(GroupAbsence {
        group_id: data.group.id,
        group_name: data.group.name,
        from: period.from,
        to: period.to,
        pupils,
    })
}

/// B7: one pupil's report over a period: the lessons of each of their
/// groups, each lesson once.
pub async fn pupil_report(
    store: &dyn Store,
    caller: &PersonRecord,
    pupil_id: PersonId,
    period: Period,
    now: DateTime<Utc>,
) -> Result<PupilReport, ReportError> {
    let record = directory::person_record(store, pupil_id)
        .await?
        .ok_or(ReportError::NotFound)?;
    decide(policy::read_pupil_absence_report(caller, &record))?;
    let groups: Vec<GroupId> = record.groups().collect();
    // Each group's lessons, the groups at the same time.
    let lessons: Vec<_> = futures_util::future::try_join_all(groups.iter().map(|g| {
        lessons_in(
            store,
            Index::Gsi1,
            keys::lessons_of_group_partition(*g),
            period,
        )
    }))
    .await?
    .into_iter()
    .flatten()
    .collect();
    let registrations = registrations(store, &lessons, now).await?;
    let pupil = Pupil {
        id: pupil_id,
        groups,
    };
    let days = tally::days(&lessons, &registrations, std::slice::from_ref(&pupil), now);
    let days = days.get(&pupil_id).cloned().unwrap_or_default();
    let person = &record.person;
    Ok(PupilReport {
        pupil: PupilRef {
            pupil_id,
            given_name: person.given_name.clone(),
            family_name: person.family_name.clone(),
            protected_identity: person.protected_identity,
        },
        from: period.from,
        to: period.to,
        total: Summary::of_days(days.values()),
        days: day_list(&days),
    })
}

/// B7: a school's lessons held in the period without a registration, per
/// teacher expected to report them, the teachers with most first.
pub async fn school_unreported(
    store: &dyn Store,
    caller: &PersonRecord,
    school_id: SchoolId,
    period: Period,
    now: DateTime<Utc>,
) -> Result<SchoolUnreported, ReportError> {
    decide(policy::read_school_unreported(caller, school_id))?;
    let lessons = lessons_in(
        store,
        Index::Gsi2,
        keys::lessons_of_school_partition(school_id),
        period,
    )
    .await?;
    let reported: HashSet<LessonId> = registrations(store, &lessons, now)
        .await?
        .into_keys()
        .collect();
    let by_teacher = tally::unreported_by_teacher(&lessons, &reported, now);
    let ids: Vec<PersonId> = by_teacher.keys().copied().collect();
    let names = named(store, &ids).await?;
    let mut teachers: Vec<TeacherUnreported> = by_teacher
        .into_iter()
        .zip(names)
        .map(|((teacher_id, lessons), name)| TeacherUnreported {
            teacher_id,
            given_name: name.given_name,
            family_name: name.family_name,
            count: lessons.len(),
            lessons,
        })
        .collect();
    teachers.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then_with(|| (&a.family_name, &a.given_name).cmp(&(&b.family_name, &b.given_name)))
    });
    Ok(SchoolUnreported {
        school_id,
        from: period.from,
        to: period.to,
        teachers,
    })
}

/// The reports as CSV for Swedish Excel ([`csv`]): Swedish headers, a
/// row per pupil (per pupil and day for B4, per day for a pupil, per
/// lesson for unreported lessons) and, where there are several pupils, a
/// total row.
pub mod export {
    use super::csv::{Csv, decimal};
    use super::*;

    const TALLY: [&str; 9] = [
        "Lektioner",
        "Schemalagda minuter",
        "Giltig frånvaro (min)",
        "Ogiltig frånvaro (min)",
        "Sen ankomst (min)",
        "Annan aktivitet (min)",
        "Frånvaro (min)",
        "Missade lektioner",
        "Ej rapporterade lektioner",
    ];

    fn tally_cells(t: &Tally) -> [String; 9] {
        [
            t.lessons,
            t.scheduled_minutes,
            t.valid_minutes,
            t.invalid_minutes,
            t.late_minutes,
            t.other_activity_minutes,
            t.absent_minutes,
            t.lessons_missed,
            t.unreported_lessons,
        ]
        .map(|n| n.to_string())
    }

    fn header(first: &[&'static str], last: &[&'static str]) -> Vec<&'static str> {
        first
            .iter()
            .chain(TALLY.iter())
            .chain(last.iter())
            .copied()
            .collect()
    }

    fn summary_cells(s: &Summary) -> Vec<String> {
        let mut cells = tally_cells(&s.tally).to_vec();
        cells.push(s.whole_days_absent.to_string());
        cells.push(decimal(s.absence_percent));
        cells
    }

    const SUMMARY_TAIL: [&str; 2] = ["Hela dagar frånvaro", "Frånvaro (%)"];

    pub fn group_report(r: &GroupReport) -> String {
        let mut csv = Csv::new(&header(&["Efternamn", "Förnamn", "Elev-id"], &SUMMARY_TAIL));
        for row in &r.pupils {
            let p = &row.pupil;
            let mut cells = vec![
                p.family_name.clone(),
                p.given_name.clone(),
                p.pupil_id.to_string(),
            ];
            cells.extend(summary_cells(&row.summary));
            csv.row(cells);
        }
        let mut total = vec![
            format!("Totalt {}", r.group_name),
            String::new(),
            String::new(),
        ];
        total.extend(summary_cells(&r.total));
        csv.row(total);
        csv.finish()
    }

    pub fn group_absence(r: &GroupAbsence) -> String {
        let mut csv = Csv::new(&header(
            &["Efternamn", "Förnamn", "Elev-id", "Datum"],
            &["Hel dag frånvaro"],
        ));
        for p in &r.pupils {
            for d in &p.days {
                let mut cells = vec![
                    p.pupil.family_name.clone(),
                    p.pupil.given_name.clone(),
                    p.pupil.pupil_id.to_string(),
                    d.date.to_string(),
                ];
                cells.extend(tally_cells(&d.tally));
                let whole = Summary::of_days([&d.tally]).whole_days_absent == 1;
                cells.push(if whole { "ja" } else { "nej" }.to_string());
                csv.row(cells);
            }
        }
        csv.finish()
    }

    pub fn pupil_report(r: &PupilReport) -> String {
        let mut csv = Csv::new(&header(
            &["Efternamn", "Förnamn", "Elev-id", "Datum"],
            &SUMMARY_TAIL,
        ));
        let name = |date: String| {
            vec![
                r.pupil.family_name.clone(),
                r.pupil.given_name.clone(),
                r.pupil.pupil_id.to_string(),
                date,
            ]
        };
        for d in &r.days {
            let mut cells = name(d.date.to_string());
            cells.extend(summary_cells(&Summary::of_days([&d.tally])));
            csv.row(cells);
        }
        let mut cells = name(format!("Totalt {} – {}", r.from, r.to));
        cells.extend(summary_cells(&r.total));
        csv.row(cells);
        csv.finish()
    }

    pub fn school_unreported(r: &SchoolUnreported) -> String {
        let mut csv = Csv::new(&[
            "Efternamn",
            "Förnamn",
            "Lärar-id",
            "Datum",
            "Start",
            "Slut",
            "Lektion",
            "Lektions-id",
        ]);
        for t in &r.teachers {
            for l in &t.lessons {
                csv.row([
                    t.family_name.clone(),
                    t.given_name.clone(),
                    t.teacher_id.to_string(),
                    l.start.date_naive().to_string(),
                    l.start.format("%H:%M").to_string(),
                    l.end.format("%H:%M").to_string(),
                    l.title.clone(),
                    l.id.to_string(),
                ]);
            }
        }
        csv.finish()
    }
}
