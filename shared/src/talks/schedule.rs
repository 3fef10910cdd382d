//! Talk times as staff enter them (E1): days with a window, a talk length
//! and an optional break, split into slots. Pure: no store, no clock; every
//! refusal names the field of the request at fault (`days[1].end`).

use crate::ids::TalkRoundId;
use chrono::{DateTime, Duration, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone};
use chrono_tz::Europe::Stockholm;

/// The most slots one request may create: they are written in one
/// transaction (at most 100 operations) with the round and schedule items.
pub const MAX_SLOTS: usize = 80;

/// The longest talk we accept.
pub const MAX_TALK_MINUTES: u32 = 240;

/// The longest break between talks we accept.
pub const MAX_BREAK_MINUTES: u32 = 120;

/// How far ahead talks may be planned: two school years. A slot's id
/// carries its start (`SlotId::starting_at`), so the start must also fit
/// an id's time part, which this keeps it well inside.
pub const MAX_DAYS_AHEAD: u64 = 730;

/// One day of talks: from `start` to `end`, talks of `talk_minutes` with
/// `break_minutes` between them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TalkDay {
    pub date: NaiveDate,
    pub start: NaiveTime,
    pub end: NaiveTime,
    pub talk_minutes: u32,
    pub break_minutes: u32,
}

/// Where the talks are held: a room, a video link, or both.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Venue {
    pub place: Option<String>,
    pub video_link: Option<String>,
}

/// What staff send to create talk times.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTalkTimes {
    pub days: Vec<TalkDay>,
    pub venue: Venue,
    pub round: TargetRound,
}

/// Which round new talk times go into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetRound {
    /// A new round, with the last day guardians may book, move or cancel
    /// (inclusive, in Sweden).
    New(NaiveDate),
    /// An existing round of the group, whose deadline applies.
    Existing(TalkRoundId),
}

/// One talk: where it came from in the request, and when it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    /// Index into `days` of the request.
    pub day: usize,
    pub start: DateTime<FixedOffset>,
    pub end: DateTime<FixedOffset>,
}

impl Span {
    pub fn overlaps(&self, start: DateTime<FixedOffset>, end: DateTime<FixedOffset>) -> bool {
        self.start < end && start < self.end
    }
}

/// A field of the request and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// Why talk times were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Input that cannot describe talk times (zero length, overlaps).
    #[error("{0}")]
    Invalid(FieldError),
    /// Well-formed, but outside what the calendar allows (in the past).
    #[error("{0}")]
    OutsideWindow(FieldError),
}

fn invalid(field: impl Into<String>, message: impl Into<String>) -> Refusal {
    Refusal::Invalid(FieldError {
        field: field.into(),
        message: message.into(),
    })
}

fn outside(field: impl Into<String>, message: impl Into<String>) -> Refusal {
    Refusal::OutsideWindow(FieldError {
        field: field.into(),
        message: message.into(),
    })
}

fn stockholm(field: String, at: NaiveDateTime) -> Result<DateTime<FixedOffset>, Refusal> {
    Stockholm
        .from_local_datetime(&at)
        .single()
        .map(|t| t.fixed_offset())
        .ok_or_else(|| {
            invalid(
                field,
                "falls in a daylight-saving change in Sweden; choose another time",
            )
        })
}

impl TalkDay {
    /// The talks of this day, back to back with the break between; the
    /// last one ends at or before `end`.
    fn talks(&self) -> Vec<(NaiveTime, NaiveTime)> {
        let talk = Duration::minutes(i64::from(self.talk_minutes));
        let step = talk + Duration::minutes(i64::from(self.break_minutes));
        let mut out = Vec::new();
        let mut at = self.start;
        while talk > Duration::zero() {
            let (end, wrapped) = at.overflowing_add_signed(talk);
            if wrapped != 0 || end > self.end {
                break;
            }
            out.push((at, end));
            let (next, wrapped) = at.overflowing_add_signed(step);
            if wrapped != 0 {
                break;
            }
            at = next;
            if out.len() > MAX_SLOTS {
                break;
            }
        }
        out
    }
}

/// Checks talk times and splits them into slots, in the order given.
pub fn split(times: &NewTalkTimes, today: NaiveDate) -> Result<Vec<Span>, Refusal> {
    if times.days.is_empty() {
        return Err(invalid("days", "at least one day is required"));
    }
    if times.venue.place.is_none() && times.venue.video_link.is_none() {
        return Err(invalid("place", "give a place or a videoLink"));
    }
    let mut spans: Vec<Span> = Vec::new();
    for (i, day) in times.days.iter().enumerate() {
        let field = |name: &str| format!("days[{i}].{name}");
        if day.date < today {
            return Err(outside(
                field("date"),
                format!("must be today ({today}) or later"),
            ));
        }
        if today
            .checked_add_days(chrono::Days::new(MAX_DAYS_AHEAD))
            .is_some_and(|last| day.date > last)
        {
            return Err(outside(
                field("date"),
                format!("at most {MAX_DAYS_AHEAD} days ahead"),
            ));
        }
        if day.end <= day.start {
            return Err(invalid(field("end"), "must be after start"));
        }
        if day.talk_minutes == 0 {
            return Err(invalid(field("talkMinutes"), "must be at least 1"));
        }
        if day.talk_minutes > MAX_TALK_MINUTES {
            return Err(invalid(
                field("talkMinutes"),
                format!("at most {MAX_TALK_MINUTES}"),
            ));
        }
        if day.break_minutes > MAX_BREAK_MINUTES {
            return Err(invalid(
                field("breakMinutes"),
                format!("at most {MAX_BREAK_MINUTES}"),
            ));
        }
        let window = (day.end - day.start).num_minutes();
        if i64::from(day.talk_minutes) > window {
            return Err(invalid(
                field("talkMinutes"),
                format!("longer than the time from start to end ({window} minutes)"),
            ));
        }
        if let Some(earlier) = spans.iter().find(|s| {
            let d = &times.days[s.day];
            d.date == day.date && day.start < d.end && d.start < day.end
        }) {
            return Err(invalid(
                field("start"),
                format!("overlaps days[{}] on the same date", earlier.day),
            ));
        }
        for (from, to) in day.talks() {
            spans.push(Span {
                day: i,
                start: stockholm(field("start"), day.date.and_time(from))?,
                end: stockholm(field("end"), day.date.and_time(to))?,
            });
            if spans.len() > MAX_SLOTS {
                return Err(invalid(
                    "days",
                    format!("at most {MAX_SLOTS} talks in one request"),
                ));
            }
        }
    }
    if let TargetRound::New(deadline) = times.round {
        if deadline < today {
            return Err(outside(
                "bookingDeadline",
                format!("must be today ({today}) or later"),
            ));
        }
        if let Some(first) = times.days.iter().map(|d| d.date).min()
            && deadline > first
        {
            return Err(invalid(
                "bookingDeadline",
                format!("must be on or before the first talk day ({first})"),
            ));
        }
    }
    Ok(spans)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }

    fn date(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, d).unwrap()
    }

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
    }

    fn day(d: u32, start: NaiveTime, end: NaiveTime, talk: u32, pause: u32) -> TalkDay {
        TalkDay {
            date: date(d),
            start,
            end,
            talk_minutes: talk,
            break_minutes: pause,
        }
    }

    fn times(days: Vec<TalkDay>) -> NewTalkTimes {
        NewTalkTimes {
            days,
            venue: Venue {
                place: Some("Rum 12".into()),
                video_link: None,
            },
            round: TargetRound::New(date(1)),
        }
    }

    fn field_of(r: Refusal) -> String {
        match r {
            Refusal::Invalid(f) | Refusal::OutsideWindow(f) => f.field,
        }
    }

    fn clock_times(spans: &[Span]) -> Vec<String> {
        spans
            .iter()
            .map(|s| format!("{}-{}", s.start.format("%H:%M"), s.end.format("%H:%M")))
            .collect()
    }

    #[test]
    fn two_hours_at_thirty_minutes_are_four_slots() {
        let spans = split(&times(vec![day(2, t(14, 0), t(16, 0), 30, 0)]), today()).unwrap();
        assert_eq!(
            clock_times(&spans),
            ["14:00-14:30", "14:30-15:00", "15:00-15:30", "15:30-16:00"]
        );
        assert_eq!(spans[0].start.to_rfc3339(), "2026-12-02T14:00:00+01:00");
    }

    #[test]
    fn a_break_goes_between_talks_and_a_talk_never_runs_past_the_end() {
        let spans = split(&times(vec![day(2, t(14, 0), t(16, 0), 30, 10)]), today()).unwrap();
        assert_eq!(
            clock_times(&spans),
            ["14:00-14:30", "14:40-15:10", "15:20-15:50"]
        );
    }

    #[test]
    fn a_zero_length_window_is_refused_naming_the_end() {
        let r = split(&times(vec![day(2, t(14, 0), t(14, 0), 30, 0)]), today());
        assert_eq!(field_of(r.unwrap_err()), "days[0].end");
    }

    #[test]
    fn a_zero_minute_talk_is_refused_naming_the_talk_length() {
        let r = split(&times(vec![day(2, t(14, 0), t(16, 0), 0, 0)]), today());
        assert_eq!(field_of(r.unwrap_err()), "days[0].talkMinutes");
    }

    #[test]
    fn a_talk_longer_than_the_window_is_refused() {
        let r = split(
            &times(vec![
                day(2, t(14, 0), t(16, 0), 30, 0),
                day(3, t(14, 0), t(14, 20), 30, 0),
            ]),
            today(),
        );
        assert_eq!(field_of(r.unwrap_err()), "days[1].talkMinutes");
    }

    #[test]
    fn overlapping_days_on_one_date_are_refused_naming_the_later_day() {
        let r = split(
            &times(vec![
                day(2, t(14, 0), t(16, 0), 30, 0),
                day(2, t(15, 30), t(17, 0), 30, 0),
            ]),
            today(),
        );
        assert_eq!(field_of(r.unwrap_err()), "days[1].start");
        let touching = split(
            &times(vec![
                day(2, t(14, 0), t(16, 0), 30, 0),
                day(2, t(16, 0), t(17, 0), 30, 0),
            ]),
            today(),
        );
        assert_eq!(touching.map(|s| s.len()), Ok(6));
    }

    #[test]
    fn a_day_in_the_past_is_outside_the_window() {
        let mut input = times(vec![day(2, t(14, 0), t(16, 0), 30, 0)]);
        input.days[0].date = NaiveDate::from_ymd_opt(2026, 11, 20).unwrap();
        input.round = TargetRound::Existing(TalkRoundId::generate());
        assert!(matches!(
            split(&input, today()),
            Err(Refusal::OutsideWindow(f)) if f.field == "days[0].date"
        ));
    }

    #[test]
    fn a_day_more_than_two_years_ahead_is_outside_the_window() {
        let mut input = times(vec![day(2, t(14, 0), t(16, 0), 30, 0)]);
        input.days[0].date = today() + chrono::Days::new(MAX_DAYS_AHEAD);
        assert!(split(&input, today()).is_ok(), "the last day allowed");
        input.days[0].date = today() + chrono::Days::new(MAX_DAYS_AHEAD + 1);
        assert!(matches!(
            split(&input, today()),
            Err(Refusal::OutsideWindow(f)) if f.field == "days[0].date"
        ));
    }

    #[test]
    fn the_deadline_may_not_fall_after_the_first_talk_day() {
        let mut input = times(vec![day(2, t(14, 0), t(16, 0), 30, 0)]);
        input.round = TargetRound::New(date(3));
        assert_eq!(
            field_of(split(&input, today()).unwrap_err()),
            "bookingDeadline"
        );
    }

    #[test]
    fn talk_times_without_a_place_or_video_link_are_refused() {
        let mut input = times(vec![day(2, t(14, 0), t(16, 0), 30, 0)]);
        input.venue.place = None;
        assert_eq!(field_of(split(&input, today()).unwrap_err()), "place");
    }

    #[test]
    fn more_slots_than_one_transaction_holds_are_refused() {
        let input = times(vec![day(2, t(7, 0), t(22, 0), 10, 0)]);
        assert_eq!(field_of(split(&input, today()).unwrap_err()), "days");
    }

    #[test]
    fn spans_that_only_touch_do_not_overlap() {
        let spans = split(&times(vec![day(2, t(14, 0), t(15, 0), 30, 0)]), today()).unwrap();
        assert!(!spans[0].overlaps(spans[1].start, spans[1].end));
        assert!(spans[0].overlaps(spans[0].start, spans[1].end));
    }
}
