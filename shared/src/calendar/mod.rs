//! The calendar (C1): staff put events in the calendars of groups, of a
//! whole school (its pupils and/or guardians) or of a school's staff;
//! each person sees exactly the events addressed to them.
//!
//! An event is written once per addressed calendar (a group's, or a
//! school's), sorted by its first day, so a calendar up to a day is one
//! query. Times are wall-clock times in Europe/Stockholm, as a school
//! plans them; an event repeats daily or weekly until a day. Creating an
//! event addressed to groups notifies their pupils and guardians (C7) in
//! the same transaction, as a blog post does.

pub mod feed;

use crate::audience::{self, Audience, Reach};
use crate::clock::Clock;
use crate::directory::PersonRecord;
use crate::ids::{EventId, GroupId, PersonId, SchoolId};
use crate::keys;
use crate::notices::{self, Subject};
use crate::policy::Decision;
use crate::store::{Condition, Item, MAX_TRANSACTION, Query, SortKey, Store, StoreError, Write};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};

pub const MAX_TITLE_CHARS: usize = 200;
pub const MAX_DESCRIPTION_CHARS: usize = 5_000;
pub const MAX_SUBJECT_CHARS: usize = 60;
/// The longest a series may run (a school year and a bit).
pub const MAX_SERIES_DAYS: i64 = 400;
/// The widest range one calendar read covers.
pub const MAX_RANGE_DAYS: i64 = 400;

/// When an event happens, in Europe/Stockholm.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum When {
    #[serde(rename_all = "camelCase")]
    AllDay {
        first_day: NaiveDate,
        last_day: NaiveDate,
    },
    #[serde(rename_all = "camelCase")]
    Timed {
        start: NaiveDateTime,
        end: NaiveDateTime,
    },
}

impl When {
    pub fn first_day(&self) -> NaiveDate {
        match self {
            When::AllDay { first_day, .. } => *first_day,
            When::Timed { start, .. } => start.date(),
        }
    }

    fn last_day(&self) -> NaiveDate {
        match self {
            When::AllDay { last_day, .. } => *last_day,
            When::Timed { end, .. } => end.date(),
        }
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum Every {
    Day,
    Week,
}

/// A series: the event again every day or week, the last time on or
/// before `until`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Repeat {
    pub every: Every,
    pub until: NaiveDate,
}

/// Which calendar a copy of an event is in, and who of it is addressed.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "calendar", rename_all = "camelCase")]
pub enum Placement {
    /// A group's calendar: its pupils and/or their guardians (and the
    /// group's staff, who see everything of their groups).
    #[serde(rename_all = "camelCase")]
    Group { group_id: GroupId, reach: Reach },
    /// A school's calendar: its pupils and/or guardians, and/or its staff.
    #[serde(rename_all = "camelCase")]
    School { reach: Reach, staff: bool },
}

/// What the creator says about an event, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Details {
    pub title: String,
    pub description: String,
    pub subject: Option<String>,
    pub when: When,
    pub repeat: Option<Repeat>,
    /// A reminder the day before, to pupils and guardians.
    pub reminder: bool,
}

/// One copy of an event, in one calendar.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    pub id: EventId,
    pub school_id: SchoolId,
    pub placement: Placement,
    pub author_id: PersonId,
    pub title: String,
    #[serde(default)]
    pub description: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub subject: Option<String>,
    pub when: When,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub repeat: Option<Repeat>,
    pub reminder: bool,
    pub created_at: DateTime<Utc>,
    /// Files uploaded through `POST /files`, downloadable by whoever
    /// reads the event.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<crate::files::Attachment>,
}

impl Event {
    fn partition(&self) -> String {
        match self.placement {
            Placement::Group { group_id, .. } => keys::group_calendar_partition(group_id),
            Placement::School { .. } => keys::school_calendar_partition(self.school_id),
        }
    }

    fn to_item(&self) -> Result<Item, StoreError> {
        Item::new(
            keys::calendar_event(self.partition(), self.when.first_day(), self.id),
            keys::CALENDAR_EVENT,
            self,
        )
    }

    /// The last day it happens on (of the last time, for a series).
    pub fn last_day(&self) -> NaiveDate {
        let length = self.when.last_day() - self.when.first_day();
        match self.repeat {
            Some(r) => r.until + length,
            None => self.when.last_day(),
        }
    }

    /// The days it starts on within `from..=to`, in order.
    pub fn starts_within(&self, from: NaiveDate, to: NaiveDate) -> Vec<NaiveDate> {
        starts_within(&self.when, self.repeat, from, to)
    }
}

/// The days an event (or each time of a series) starts on, of those that
/// reach into `from..=to`, in order.
fn starts_within(
    when: &When,
    repeat: Option<Repeat>,
    from: NaiveDate,
    to: NaiveDate,
) -> Vec<NaiveDate> {
    let first = when.first_day();
    let length = when.last_day() - first;
    let step = match repeat.map(|r| r.every) {
        None | Some(Every::Day) => 1,
        Some(Every::Week) => 7,
    };
    let until = repeat.map(|r| r.until).unwrap_or(first).min(to);
    let mut days = Vec::new();
    let mut day = first;
    while day <= until {
        if day + length >= from {
            days.push(day);
        }
        day += chrono::Duration::days(step);
    }
    days
}

/// The day-before reminder of an event (C1), kept apart from its copies:
/// what to say, when it happens, and whom it reaches.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Reminder {
    pub event_id: EventId,
    pub title: String,
    pub when: When,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub repeat: Option<Repeat>,
    pub author_id: PersonId,
    pub targets: Vec<notices::Target>,
}

impl Reminder {
    fn last_day(&self) -> NaiveDate {
        let length = self.when.last_day() - self.when.first_day();
        match self.repeat {
            Some(r) => r.until + length,
            None => self.when.last_day(),
        }
    }

    fn to_item(&self) -> Result<Item, StoreError> {
        Ok(Item::new(
            keys::event_reminder(self.event_id),
            keys::EVENT_REMINDER,
            self,
        )?
        .with_gsi2(keys::event_reminder_index(self.last_day(), self.event_id)))
    }
}

/// For `reminders-daily`: the marker and the notice of an event reminder,
/// when the event (or a time of its series) starts on `day`.
pub fn reminder_writes(
    item: &Item,
    day: NaiveDate,
    now: DateTime<Utc>,
) -> Result<Option<(crate::store::Key, Vec<Write>)>, StoreError> {
    let reminder: Reminder = item.parse()?;
    if !starts_within(&reminder.when, reminder.repeat, day, day).contains(&day) {
        return Ok(None);
    }
    let subject = Subject::EventReminder {
        event_id: reminder.event_id,
        title: reminder.title.clone(),
        day,
    };
    let writes = reminder
        .targets
        .iter()
        .map(|t| {
            notices::expansion(&subject, t.clone(), reminder.author_id, now)
                .map(|i| Write::Put(i, Condition::MustNotExist))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let marker = keys::reminder_sent(day, &format!("EVENT#{}", reminder.event_id));
    Ok(Some((marker, writes)))
}

#[derive(Debug, thiserror::Error)]
pub enum CalendarError {
    #[error("not found")]
    NotFound,
    #[error("forbidden")]
    Forbidden,
    #[error("may not address {field}")]
    NotAddressable { field: String },
    #[error("{0}")]
    Invalid(audience::FieldError),
    /// An attachment was refused (the field names which).
    #[error(transparent)]
    Attachment(crate::files::FileError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn invalid(field: &str, message: &str) -> CalendarError {
    CalendarError::Invalid(audience::FieldError {
        field: field.into(),
        message: message.into(),
    })
}

/// Checks what cannot be told from the types: an end after the start, a
/// series that ends after it starts and within [`MAX_SERIES_DAYS`].
pub fn check(details: &Details) -> Result<(), CalendarError> {
    match details.when {
        When::AllDay {
            first_day,
            last_day,
        } if last_day < first_day => {
            return Err(invalid("allDay.lastDay", "on or after firstDay"));
        }
        When::Timed { start, end } if end <= start => {
            return Err(invalid("end", "after start"));
        }
        _ => {}
    }
    if let Some(r) = details.repeat {
        let first = details.when.first_day();
        if r.until < first {
            return Err(invalid("repeat.until", "on or after the first day"));
        }
        if (r.until - first).num_days() > MAX_SERIES_DAYS {
            return Err(invalid(
                "repeat.until",
                &format!("at most {MAX_SERIES_DAYS} days after the first day"),
            ));
        }
    }
    Ok(())
}

/// What creating an event did.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Created {
    pub event: Event,
    /// The calendars it was put in (one per group, or the school's).
    pub calendars: usize,
}

// An event's transaction: a copy per group, the notice's expansion, the
// reminder and the files. It always fits.
const _: () = assert!(audience::MAX_GROUPS + 2 + crate::files::MAX_ATTACHMENTS <= MAX_TRANSACTION);

/// C1: puts an event in the addressed calendars: groups (the caller
/// teaches or mentors them, or leads their school), a whole school or its
/// staff (principal and school admin). Group events notify the groups'
/// addressed pupils and guardians.
pub async fn create(
    store: &dyn Store,
    files: &dyn crate::files::Files,
    clock: &dyn Clock,
    caller: &PersonRecord,
    audience: &Audience,
    details: Details,
    attachments: &[crate::ids::FileId],
) -> Result<Created, CalendarError> {
    if !audience::may_address_anyone(caller) {
        return Err(CalendarError::Forbidden);
    }
    check(&details)?;
    // Groups store no grade year yet, and a calendar belongs to one
    // school: other audiences are refused before anything is read.
    let calendars = match audience {
        Audience::Groups(targets) => Calendars::Groups(targets),
        Audience::School {
            school_id,
            reach,
            staff,
        } => Calendars::School(*school_id, *reach, *staff),
        Audience::SchoolStaff { school_id } => Calendars::School(
            *school_id,
            Reach {
                pupils: false,
                guardians: false,
            },
            true,
        ),
        Audience::GradeYears { .. } | Audience::Schools { .. } => {
            return Err(invalid(
                "audience",
                "an event is for groups, a school or a school's staff",
            ));
        }
    };
    if details.reminder
        && let Calendars::School(_, reach, _) = calendars
        && !(reach.pupils || reach.guardians)
    {
        return Err(invalid(
            "reminder",
            "a reminder goes to pupils and guardians, and this event reaches neither",
        ));
    }
    let (groups, schools) = audience::addressed(store, audience).await?;
    audience::authorize(caller, audience, "audience", &groups, &schools)
        .map_err(|e| CalendarError::NotAddressable { field: e.field })?;

    let attaching =
        crate::files::prepare_attach(store, files, caller, attachments, "attachments", &[])
            .await
            .map_err(CalendarError::Attachment)?;
    let now = clock.now();
    let id = EventId::generate();
    let event = |school_id: SchoolId, placement: Placement| Event {
        id,
        school_id,
        placement,
        author_id: caller.id(),
        title: details.title.clone(),
        description: details.description.clone(),
        subject: details.subject.clone(),
        when: details.when,
        repeat: details.repeat,
        reminder: details.reminder,
        created_at: now,
        attachments: attaching.attachments(),
    };
    // Whom to notify: the outbox finds the families of groups and schools
    // (a query per pupil) and the school's staff, after the answer.
    let (copies, target): (Vec<Event>, _) = match calendars {
        Calendars::Groups(targets) => (
            targets
                .iter()
                .map(|t| {
                    let school = groups[&t.group_id].school_id;
                    event(
                        school,
                        Placement::Group {
                            group_id: t.group_id,
                            reach: t.reach,
                        },
                    )
                })
                .collect(),
            Some(notices::Target::Groups {
                groups: targets.to_vec(),
            }),
        ),
        Calendars::School(school_id, reach, staff) => (
            vec![event(school_id, Placement::School { reach, staff })],
            (reach.pupils || reach.guardians || staff).then_some(notices::Target::School {
                school_id,
                reach,
                staff,
            }),
        ),
    };
    let subject = Subject::CalendarEvent {
        event_id: id,
        title: details.title.clone(),
        first_day: details.when.first_day(),
    };
    let notice = target
        .map(|t| notices::expansion(&subject, t, caller.id(), now))
        .transpose()?;
    let mut writes = Vec::with_capacity(copies.len() + 2 + attaching.len());
    for copy in &copies {
        writes.push(Write::Put(copy.to_item()?, Condition::MustNotExist));
    }
    if let Some(item) = notice {
        writes.push(Write::Put(item, Condition::MustNotExist));
    }
    if details.reminder {
        let reminder = Reminder {
            event_id: id,
            title: details.title.clone(),
            when: details.when,
            repeat: details.repeat,
            author_id: caller.id(),
            targets: reminder_targets(&copies),
        };
        writes.push(Write::Put(reminder.to_item()?, Condition::MustNotExist));
    }
    writes.extend(attaching.writes(&crate::files::AttachedTo::CalendarEvent {
        event_id: id,
        first_day: details.when.first_day(),
        copies: copies.iter().map(|c| (c.school_id, c.placement)).collect(),
    })?);
    match store.transact(&writes).await {
        Ok(()) => {}
        // The copies, notices and reminder are new: a failed condition is
        // a file attached elsewhere at the same moment.
        Err(e) if e.is_condition_failure() && !attaching.is_empty() => {
            return Err(CalendarError::Attachment(
                crate::files::FileError::NotAttachable {
                    field: "attachments".into(),
                    reason: "a file was attached elsewhere at the same moment".into(),
                },
            ));
        }
        Err(e) => return Err(e.into()),
    }
    tracing::info!(event = %id, calendars = copies.len(), files = attaching.len(), "calendar event created");
    Ok(Created {
        calendars: copies.len(),
        event: copies.into_iter().next().ok_or(CalendarError::NotFound)?,
    })
}

/// Whom the reminder of these copies reaches: their pupils and guardians.
fn reminder_targets(copies: &[Event]) -> Vec<notices::Target> {
    let mut groups = Vec::new();
    let mut targets = Vec::new();
    for copy in copies {
        match copy.placement {
            Placement::Group { group_id, reach } => {
                groups.push(crate::audience::GroupTarget { group_id, reach })
            }
            // Day-before reminders are for pupils and guardians (C1).
            Placement::School { reach, .. } if reach.pupils || reach.guardians => {
                targets.push(notices::Target::School {
                    school_id: copy.school_id,
                    reach,
                    staff: false,
                })
            }
            Placement::School { .. } => {}
        }
    }
    if !groups.is_empty() {
        targets.insert(0, notices::Target::Groups { groups });
    }
    targets
}

/// The calendars an audience puts an event in.
enum Calendars<'a> {
    Groups(&'a [crate::audience::GroupTarget]),
    School(SchoolId, Reach, bool),
}

/// A checked date range of a calendar read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl Range {
    pub fn new(from: NaiveDate, to: NaiveDate) -> Result<Range, CalendarError> {
        if to < from {
            return Err(invalid("to", "on or after from"));
        }
        if (to - from).num_days() > MAX_RANGE_DAYS {
            return Err(invalid(
                "to",
                &format!("at most {MAX_RANGE_DAYS} days after from"),
            ));
        }
        Ok(Range { from, to })
    }
}

/// A calendar's events that happen within the range, one query: those
/// starting on or before its last day, less those over before its first.
async fn events_in(
    store: &dyn Store,
    partition: String,
    range: Range,
) -> Result<Vec<Event>, StoreError> {
    let items = crate::store::query_all(
        store,
        Query::partition(partition).sort(SortKey::Between(
            keys::EVENT_PREFIX.into(),
            keys::events_until(range.to),
        )),
    )
    .await?;
    let mut events = Vec::with_capacity(items.len());
    for item in &items {
        let event: Event = item.parse()?;
        if !event.starts_within(range.from, range.to).is_empty() {
            events.push(event);
        }
    }
    Ok(events)
}

/// C1: a group's calendar within a range: staff of the group see every
/// event, its pupils those addressed to pupils, guardians of its pupils
/// those addressed to guardians (the blog's rule).
pub async fn group_calendar(
    store: &dyn Store,
    caller: &PersonRecord,
    group_id: GroupId,
    range: Range,
) -> Result<Vec<Event>, CalendarError> {
    let view = audience::group_view(store, caller, group_id)
        .await?
        .map_err(|d| match d {
            Decision::Forbidden => CalendarError::Forbidden,
            _ => CalendarError::NotFound,
        })?;
    let events = events_in(store, keys::group_calendar_partition(group_id), range).await?;
    Ok(events
        .into_iter()
        .filter(|e| match e.placement {
            Placement::Group { reach, .. } => view.sees(&reach),
            Placement::School { .. } => false,
        })
        .collect())
}

/// C1: a school's calendar within a range: its staff see every event (the
/// staff-only ones too), its pupils the events addressed to pupils, the
/// guardians of its pupils those addressed to guardians. Staff-only
/// events never reach a pupil or a guardian.
pub async fn school_calendar(
    store: &dyn Store,
    caller: &PersonRecord,
    school_id: SchoolId,
    range: Range,
) -> Result<Vec<Event>, CalendarError> {
    let view = audience::school_view(store, caller, school_id)
        .await?
        .ok_or(CalendarError::NotFound)?;
    let events = events_in(store, keys::school_calendar_partition(school_id), range).await?;
    Ok(events
        .into_iter()
        .filter(|e| match e.placement {
            // Staff see every event of their school; a staff-only one
            // (nobody reached) no one else.
            Placement::School { reach, .. } => view.sees(&reach),
            Placement::Group { .. } => false,
        })
        .collect())
}

/// Whether the caller may download a file attached to an event: they
/// read one of its calendars, the copy there is addressed to them (a
/// staff-only event only its school's staff), and it lists the file.
pub async fn may_read_attachment(
    store: &dyn Store,
    caller: &PersonRecord,
    event_id: EventId,
    first_day: NaiveDate,
    copies: &[(SchoolId, Placement)],
    file_id: crate::ids::FileId,
) -> Result<bool, StoreError> {
    for (school_id, placement) in copies {
        let (view, partition) = match placement {
            Placement::Group { group_id, .. } => (
                audience::group_view(store, caller, *group_id).await?.ok(),
                keys::group_calendar_partition(*group_id),
            ),
            Placement::School { .. } => (
                audience::school_view(store, caller, *school_id).await?,
                keys::school_calendar_partition(*school_id),
            ),
        };
        let Some(view) = view else {
            continue;
        };
        let reach = match placement {
            Placement::Group { reach, .. } | Placement::School { reach, .. } => *reach,
        };
        if !view.sees(&reach) {
            continue;
        }
        let key = keys::calendar_event(partition, first_day, event_id);
        if let Some(item) = store.get(&key).await? {
            let event: Event = item.parse()?;
            if event.attachments.iter().any(|a| a.file_id == file_id) {
                return Ok(true);
            }
        }
    }
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn event(when: When, repeat: Option<Repeat>) -> Event {
        Event {
            id: EventId::generate(),
            school_id: SchoolId::generate(),
            placement: Placement::School {
                reach: Reach {
                    pupils: true,
                    guardians: true,
                },
                staff: false,
            },
            author_id: PersonId::generate(),
            title: "t".into(),
            description: String::new(),
            subject: None,
            when,
            repeat,
            reminder: false,
            created_at: Utc::now(),
            attachments: Vec::new(),
        }
    }

    fn timed(start: &str, end: &str) -> When {
        When::Timed {
            start: start.parse().unwrap(),
            end: end.parse().unwrap(),
        }
    }

    #[test]
    fn a_weekly_series_starts_on_the_same_weekday_until_its_last_day() {
        let e = event(
            timed("2026-12-01T08:00:00", "2026-12-01T09:00:00"),
            Some(Repeat {
                every: Every::Week,
                until: day("2026-12-22"),
            }),
        );
        assert_eq!(
            e.starts_within(day("2026-11-01"), day("2027-01-31")),
            [
                day("2026-12-01"),
                day("2026-12-08"),
                day("2026-12-15"),
                day("2026-12-22")
            ]
        );
        assert_eq!(
            e.starts_within(day("2026-12-09"), day("2026-12-15")),
            [day("2026-12-15")]
        );
        assert!(
            e.starts_within(day("2026-12-23"), day("2027-01-31"))
                .is_empty()
        );
        assert_eq!(e.last_day(), day("2026-12-22"));
    }

    #[test]
    fn a_multi_day_event_is_within_a_range_it_overlaps() {
        let e = event(
            When::AllDay {
                first_day: day("2026-12-21"),
                last_day: day("2027-01-06"),
            },
            None,
        );
        assert_eq!(
            e.starts_within(day("2027-01-02"), day("2027-01-02")),
            [day("2026-12-21")]
        );
        assert!(
            e.starts_within(day("2027-01-07"), day("2027-01-31"))
                .is_empty()
        );
    }

    #[test]
    fn an_end_before_the_start_or_a_series_without_end_is_refused_naming_the_field() {
        let details = |when, repeat| Details {
            title: "t".into(),
            description: String::new(),
            subject: None,
            when,
            repeat,
            reminder: false,
        };
        let field = |r: Result<(), CalendarError>| match r {
            Err(CalendarError::Invalid(f)) => f.field,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            field(check(&details(
                timed("2026-12-01T09:00:00", "2026-12-01T08:00:00"),
                None
            ))),
            "end"
        );
        assert_eq!(
            field(check(&details(
                When::AllDay {
                    first_day: day("2026-12-02"),
                    last_day: day("2026-12-01")
                },
                None
            ))),
            "allDay.lastDay"
        );
        assert_eq!(
            field(check(&details(
                timed("2026-12-01T08:00:00", "2026-12-01T09:00:00"),
                Some(Repeat {
                    every: Every::Day,
                    until: day("2028-12-01")
                })
            ))),
            "repeat.until"
        );
    }
}
