//! Personal iCalendar feeds (C1): each person may have one secret feed URL
//! that a calendar app subscribes to without logging in. It holds the
//! events addressed to them (for a guardian, to their children) from a
//! month back to a year ahead. The token is 32 random bytes; only its
//! SHA-256 is kept with the feed, and making a new one or revoking ends
//! the old. (A POST with an Idempotency-Key keeps its answer, token
//! included, for the key's day so that a retry gets the same URL.)
//!
//! Who may see what is decided exactly as for the calendars read in the
//! app: the feed is read as the person it belongs to, calendar by
//! calendar, with the same policy.

use super::{CalendarError, Event, Every, Range, When};
use crate::directory::{self, PersonRecord, Relation};
use crate::ids::{EventId, GroupId, PersonId, SchoolId};
use crate::keys;
use crate::store::{Condition, Item, Store, StoreError, Write};
use crate::talks::Booking;
use base64::Engine;
use chrono::{DateTime, Days, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Europe::Stockholm;
use icalendar::{Calendar, CalendarDateTime, Component, EventLike};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;

/// How far back and ahead a feed reaches.
const DAYS_BACK: u64 = 31;
const DAYS_AHEAD: u64 = 366;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
struct FeedOwner {
    person_id: PersonId,
    created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
struct CurrentFeed {
    token_hash: String,
}

fn hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Whose feed a token opens, if any (a malformed token opens none).
pub async fn holder(store: &dyn Store, token: &str) -> Result<Option<PersonId>, StoreError> {
    if token.len() != 43
        || !token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Ok(None);
    }
    Ok(match store.get(&keys::calendar_feed(&hash(token))).await? {
        Some(item) => Some(item.parse::<FeedOwner>()?.person_id),
        None => None,
    })
}

/// Makes the person's feed token, ending the one they had. Returns the
/// token: it is shown once and stored nowhere.
pub async fn create(
    store: &dyn Store,
    person: PersonId,
    now: DateTime<Utc>,
) -> Result<String, StoreError> {
    let mut secret = [0u8; 32];
    getrandom::fill(&mut secret).map_err(|e| StoreError::Mapping(format!("random: {e}")))?;
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret);
    let token_hash = hash(&token);
    let mut writes = Vec::new();
    if let Some(old) = store.get(&keys::person_calendar_feed(person)).await? {
        let old: CurrentFeed = old.parse()?;
        writes.push(Write::Delete(
            keys::calendar_feed(&old.token_hash),
            Condition::None,
        ));
    }
    writes.push(Write::Put(
        Item::new(
            keys::calendar_feed(&token_hash),
            keys::CALENDAR_FEED,
            &FeedOwner {
                person_id: person,
                created_at: now,
            },
        )?,
        Condition::MustNotExist,
    ));
    writes.push(Write::Put(
        Item::new(
            keys::person_calendar_feed(person),
            keys::CALENDAR_FEED,
            &CurrentFeed { token_hash },
        )?,
        Condition::None,
    ));
    store.transact(&writes).await?;
    Ok(token)
}

/// Ends the person's feed; `false` if they had none.
pub async fn revoke(store: &dyn Store, person: PersonId) -> Result<bool, StoreError> {
    let Some(current) = store.get(&keys::person_calendar_feed(person)).await? else {
        return Ok(false);
    };
    let current: CurrentFeed = current.parse()?;
    store
        .transact(&[
            Write::Delete(keys::calendar_feed(&current.token_hash), Condition::None),
            Write::Delete(keys::person_calendar_feed(person), Condition::None),
        ])
        .await?;
    Ok(true)
}

/// A booked development talk of one of the holder's children (E1).
#[derive(Debug, Clone, PartialEq)]
pub struct Talk {
    pub booking: Booking,
    pub pupil_name: String,
}

/// What a feed holds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Contents {
    pub events: Vec<Event>,
    pub talks: Vec<Talk>,
}

/// The contents of a person's feed: the calendars of their groups and
/// schools (a pupil's own, a guardian's children's, a member of staff's
/// taught and mentored groups and schools), each read with the policy of
/// the app, every event once; and a guardian's children's booked talks
/// (one query of each child's record and bookings).
pub async fn contents_of(
    store: &dyn Store,
    caller: &PersonRecord,
    today: NaiveDate,
) -> Result<Contents, CalendarError> {
    let range = Range::new(
        today
            .checked_sub_days(Days::new(DAYS_BACK))
            .unwrap_or(today),
        today
            .checked_add_days(Days::new(DAYS_AHEAD))
            .unwrap_or(today),
    )?;
    let mut groups: BTreeSet<GroupId> = caller
        .groups()
        .chain(caller.taught_groups())
        .chain(caller.mentor_groups())
        .collect();
    let mut schools: BTreeSet<SchoolId> = caller
        .relations
        .iter()
        .filter_map(|r| match r {
            Relation::Duty { school_id, .. } | Relation::EnrolledAt { school_id, .. } => {
                Some(*school_id)
            }
            _ => None,
        })
        .collect();
    // Each child's record and bookings (one query: the bookings sort
    // after the relations), the children at the same time.
    let children = futures_util::future::try_join_all(
        caller
            .children()
            .map(|child| directory::person_record_and(store, child, keys::TALK_BOOKING_PREFIX)),
    )
    .await?;
    let mut talks = Vec::new();
    for (record, booked) in children.into_iter().flatten() {
        groups.extend(record.groups());
        schools.extend(record.enrolled_school());
        for item in booked {
            talks.push(Talk {
                booking: item.parse()?,
                pupil_name: record.person.given_name.clone(),
            });
        }
    }
    // Every calendar at the same time; one the caller may not read (a
    // group they left) is skipped. An event in several calendars is kept
    // once, in the order the calendars are listed.
    let group_reads = groups
        .iter()
        .map(|g| super::group_calendar(store, caller, *g, range));
    let school_reads = schools
        .iter()
        .map(|s| super::school_calendar(store, caller, *s, range));
    let (of_groups, of_schools) = futures_util::future::join(
        futures_util::future::join_all(group_reads),
        futures_util::future::join_all(school_reads),
    )
    .await;
    let mut events = Vec::new();
    let mut seen = BTreeSet::new();
    for found in of_groups.into_iter().chain(of_schools) {
        match found {
            Ok(found) => {
                for e in found {
                    if seen.insert(e.id) {
                        events.push(e);
                    }
                }
            }
            Err(CalendarError::NotFound | CalendarError::Forbidden) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(Contents { events, talks })
}

/// The Europe/Stockholm time zone as RFC 5545 wants it beside times that
/// name it (the EU rules in force since 1996). The `icalendar` crate
/// builds no nested VTIMEZONE, so this fixed block is spliced in.
const STOCKHOLM: &str = "BEGIN:VTIMEZONE\r\nTZID:Europe/Stockholm\r\n\
BEGIN:DAYLIGHT\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nTZNAME:CEST\r\n\
DTSTART:19700329T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nEND:DAYLIGHT\r\n\
BEGIN:STANDARD\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nTZNAME:CET\r\n\
DTSTART:19701025T030000\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nEND:STANDARD\r\n\
END:VTIMEZONE\r\n";

fn stockholm(date_time: chrono::NaiveDateTime) -> CalendarDateTime {
    CalendarDateTime::WithTimezone {
        date_time,
        tzid: "Europe/Stockholm".into(),
    }
}

/// The RRULE of a series: UNTIL is a date for all-day events and the end
/// of the last day in UTC for timed ones (RFC 5545 3.3.10).
fn rrule(event: &Event) -> Option<String> {
    let repeat = event.repeat?;
    let freq = match repeat.every {
        Every::Day => "DAILY",
        Every::Week => "WEEKLY",
    };
    let until = match event.when {
        When::AllDay { .. } => repeat.until.format("%Y%m%d").to_string(),
        When::Timed { .. } => {
            let end_of_day = repeat.until.and_time(NaiveTime::from_hms_opt(23, 59, 59)?);
            let utc = Stockholm
                .from_local_datetime(&end_of_day)
                .latest()?
                .with_timezone(&Utc);
            utc.format("%Y%m%dT%H%M%SZ").to_string()
        }
    };
    Some(format!("FREQ={freq};UNTIL={until}"))
}

fn uid(id: EventId) -> String {
    format!("event-{id}@skolnav.se")
}

/// The feed as an iCalendar document.
pub fn render(contents: &Contents, now: DateTime<Utc>) -> String {
    let events = &contents.events;
    let mut calendar = Calendar::empty();
    calendar
        .append_property(("VERSION", "2.0"))
        .append_property(("PRODID", "-//Skolnav//Kalender//SV"))
        .append_property(("CALSCALE", "GREGORIAN"))
        .append_property(("X-WR-CALNAME", "Skolnav"))
        .append_property(("X-WR-TIMEZONE", "Europe/Stockholm"));
    for e in events {
        let mut event = icalendar::Event::new();
        event
            .uid(&uid(e.id))
            .timestamp(now)
            .summary(&e.title)
            .sequence(u32::try_from(e.created_at.timestamp()).unwrap_or(0));
        if !e.description.is_empty() {
            event.description(&e.description);
        }
        if let Some(subject) = &e.subject {
            event.add_property("CATEGORIES", subject);
        }
        match e.when {
            When::AllDay {
                first_day,
                last_day,
            } => {
                // DTEND of a date is the day after the last (exclusive).
                event
                    .starts(first_day)
                    .ends(last_day.succ_opt().unwrap_or(last_day));
            }
            When::Timed { start, end } => {
                event.starts(stockholm(start)).ends(stockholm(end));
            }
        }
        if let Some(rule) = rrule(e) {
            event.add_property("RRULE", &rule);
        }
        calendar.push(event.done());
    }
    for talk in &contents.talks {
        let b = &talk.booking;
        let mut event = icalendar::Event::new();
        // The UID of the talk's confirmation mail, so both are one event.
        event
            .uid(&format!("talk-{}-{}@skolnav.se", b.round_id, b.pupil_id))
            .timestamp(now)
            .summary(&format!("Utvecklingssamtal: {}", talk.pupil_name))
            .starts(b.time.start.with_timezone(&Utc))
            .ends(b.time.end.with_timezone(&Utc));
        if let Some(place) = &b.time.place {
            event.add_property("LOCATION", place);
        }
        if let Some(link) = &b.time.video_link {
            event.url(link);
        }
        calendar.push(event.done());
    }
    let text = calendar.done().to_string();
    match text.find("BEGIN:VEVENT") {
        Some(at) => format!("{}{STOCKHOLM}{}", &text[..at], &text[at..]),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Placement, Repeat};
    use super::*;
    use crate::audience::Reach;

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
            title: "Simning, ta med handduk".into(),
            description: "Badhuset".into(),
            subject: Some("Idrott".into()),
            when,
            repeat,
            reminder: false,
            created_at: Utc::now(),
            attachments: Vec::new(),
        }
    }

    #[test]
    fn a_weekly_lesson_keeps_its_stockholm_hour_across_the_change_of_time() {
        let e = event(
            When::Timed {
                start: "2026-10-20T13:00:00".parse().unwrap(),
                end: "2026-10-20T14:00:00".parse().unwrap(),
            },
            Some(Repeat {
                every: Every::Week,
                until: "2026-11-10".parse().unwrap(),
            }),
        );
        let text = render(
            &Contents {
                events: vec![e],
                talks: vec![],
            },
            Utc::now(),
        );
        assert!(
            text.contains("DTSTART;TZID=Europe/Stockholm:20261020T130000"),
            "{text}"
        );
        assert!(text.contains("DTEND;TZID=Europe/Stockholm:20261020T140000"));
        // 23:59:59 on 10 November in Stockholm (CET) is 22:59:59 UTC.
        assert!(
            text.contains("RRULE:FREQ=WEEKLY;UNTIL=20261110T225959Z"),
            "{text}"
        );
        assert!(text.contains("BEGIN:VTIMEZONE\r\nTZID:Europe/Stockholm"));
        assert!(text.find("BEGIN:VTIMEZONE") < text.find("BEGIN:VEVENT"));
        assert!(text.contains("CATEGORIES:Idrott"));
    }

    #[test]
    fn an_all_day_event_ends_the_day_after_its_last_day() {
        let e = event(
            When::AllDay {
                first_day: "2026-12-21".parse().unwrap(),
                last_day: "2027-01-06".parse().unwrap(),
            },
            None,
        );
        let text = render(
            &Contents {
                events: vec![e],
                talks: vec![],
            },
            Utc::now(),
        );
        assert!(text.contains("DTSTART;VALUE=DATE:20261221"), "{text}");
        assert!(text.contains("DTEND;VALUE=DATE:20270107"), "{text}");
        let event = &text[text.find("BEGIN:VEVENT").unwrap()..];
        assert!(!event.contains("RRULE"), "a single event repeats nothing");
    }
}
