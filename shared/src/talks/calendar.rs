//! The iCalendar (RFC 5545) event sent with a talk confirmation, so the
//! guardian's calendar holds the talk. Built with the `icalendar` crate.
//!
//! One event per pupil and round (its UID), so a moved talk replaces the
//! earlier event and a cancelled one removes it; SEQUENCE grows with each
//! notice (its creation time in seconds), as calendar clients require.

use super::{TalkChange, TalkTime};
use crate::ids::{PersonId, TalkRoundId};
use crate::mail::Attachment;
use chrono::{DateTime, Utc};
use icalendar::{Calendar, Component, Event, EventLike, EventStatus};

/// The event of a talk notice, as an `.ics` attachment.
pub fn talk_event(
    change: TalkChange,
    pupil_id: PersonId,
    round_id: TalkRoundId,
    summary: &str,
    time: &TalkTime,
    created_at: DateTime<Utc>,
) -> Attachment {
    let cancelled = matches!(change, TalkChange::Cancelled | TalkChange::Removed);
    let method = if cancelled { "CANCEL" } else { "PUBLISH" };
    let mut event = Event::new();
    event
        .uid(&format!("talk-{round_id}-{pupil_id}@skolnav.se"))
        .sequence(u32::try_from(created_at.timestamp()).unwrap_or(0))
        .timestamp(created_at)
        .summary(summary)
        .starts(time.start.with_timezone(&Utc))
        .ends(time.end.with_timezone(&Utc))
        .status(if cancelled {
            EventStatus::Cancelled
        } else {
            EventStatus::Confirmed
        });
    if let Some(place) = &time.place {
        event.add_property("LOCATION", place);
    }
    if let Some(link) = &time.video_link {
        event.url(link);
    }
    // Calendar::new() would add its own PRODID; a calendar has exactly one.
    let mut calendar = Calendar::empty();
    calendar
        .append_property(("VERSION", "2.0"))
        .append_property(("PRODID", "-//Skolnav//Utvecklingssamtal//SV"))
        .append_property(("CALSCALE", "GREGORIAN"))
        .append_property(("METHOD", method))
        .push(event.done());
    Attachment {
        file_name: "utvecklingssamtal.ics".into(),
        content_type: format!("text/calendar; charset=utf-8; method={method}"),
        data: calendar.done().to_string().into_bytes(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn time() -> TalkTime {
        TalkTime {
            start: DateTime::parse_from_rfc3339("2026-12-02T14:00:00+01:00").unwrap(),
            end: DateTime::parse_from_rfc3339("2026-12-02T14:30:00+01:00").unwrap(),
            place: Some("Rum 12, plan 2".into()),
            video_link: None,
        }
    }

    fn text(change: TalkChange, at: DateTime<Utc>) -> String {
        let pupil = PersonId::parse("01JD0000000000000000000P01").unwrap();
        let round = TalkRoundId::parse("01JD0000000000000000000N01").unwrap();
        let a = talk_event(change, pupil, round, "Utvecklingssamtal", &time(), at);
        String::from_utf8(a.data).unwrap()
    }

    #[test]
    fn a_booking_is_a_published_event_at_the_talk_time_in_utc() {
        let at = DateTime::parse_from_rfc3339("2026-11-23T07:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let ics = text(TalkChange::Booked, at);
        assert!(ics.contains("METHOD:PUBLISH"), "{ics}");
        assert!(ics.starts_with("BEGIN:VCALENDAR\r\n"), "{ics}");
        assert_eq!(ics.matches("PRODID:").count(), 1, "{ics}");
        assert_eq!(ics.matches("VERSION:2.0").count(), 1, "{ics}");
        assert!(ics.contains("DTSTART:20261202T130000Z"), "{ics}");
        assert!(ics.contains("DTEND:20261202T133000Z"), "{ics}");
        assert!(ics.contains("LOCATION:Rum 12\\, plan 2"), "{ics}");
        assert!(
            ics.contains(
                "UID:talk-01JD0000000000000000000N01-01JD0000000000000000000P01@skolnav.se"
            ),
            "{ics}"
        );
    }

    #[test]
    fn a_cancellation_cancels_the_same_event_with_a_higher_sequence() {
        let booked_at = DateTime::parse_from_rfc3339("2026-11-23T07:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let booked = text(TalkChange::Booked, booked_at);
        let cancelled = text(
            TalkChange::Cancelled,
            booked_at + chrono::Duration::minutes(5),
        );
        assert!(cancelled.contains("METHOD:CANCEL"));
        assert!(cancelled.contains("STATUS:CANCELLED"));
        let line = |ics: &str, name: &str| {
            ics.lines()
                .find(|l| l.starts_with(name))
                .map(String::from)
                .unwrap_or_default()
        };
        assert_eq!(line(&booked, "UID:"), line(&cancelled, "UID:"));
        let seq = |ics: &str| {
            line(ics, "SEQUENCE:")
                .trim_start_matches("SEQUENCE:")
                .trim()
                .parse::<u64>()
                .unwrap()
        };
        assert!(seq(&cancelled) > seq(&booked));
    }
}
