//! Identifiers. Every id is a ULID (time-ordered); each kind of object has
//! its own type so a pupil id is never passed where a school id belongs.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(ulid::Ulid);

        impl $name {
            /// A new id, ordered after every id generated before it.
            pub fn generate() -> Self {
                $name(ulid::Ulid::generate())
            }

            /// Parses the 26-character ULID form (any case).
            pub fn parse(s: &str) -> Option<Self> {
                ulid::Ulid::from_string(s).ok().map($name)
            }

            pub const fn from_ulid(u: ulid::Ulid) -> Self {
                $name(u)
            }

            /// The id of an object the student registry (SS 12000) names
            /// by UUID: the same 128 bits, so every run maps it alike and
            /// no lookup table is needed.
            pub fn from_registry(id: uuid::Uuid) -> Self {
                $name(ulid::Ulid::from(id.as_u128()))
            }

            /// The registry UUID this id was made from (see `from_registry`).
            pub fn registry_uuid(self) -> uuid::Uuid {
                uuid::Uuid::from_u128(self.0.into())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id_type!(
    /// An organisation (huvudman).
    OrganisationId
);
id_type!(SchoolId);
id_type!(GroupId);
id_type!(
    /// A pupil, guardian or member of staff: one person may be all three.
    PersonId
);
id_type!(ReportId);
id_type!(OutboxId);
id_type!(
    /// One run of the nightly import.
    ImportRunId
);
id_type!(
    /// One round of development talks of a group (E1): the slots created
    /// together, with one booking deadline; a pupil books once per round.
    TalkRoundId
);
id_type!(
    /// One bookable development-talk time (E1).
    SlotId
);
id_type!(
    /// A group-blog post (C2), the same id in every addressed group.
    PostId
);
id_type!(
    /// A calendar event (C1), the same id in every addressed calendar.
    EventId
);
id_type!(
    /// A news item (C3), the same id in every addressed feed.
    NewsId
);
id_type!(
    /// An in-app notice (C7): one id per publication, the same for every
    /// recipient; a recipient holds it once.
    NoticeId
);
id_type!(
    /// A schedule activity (SS 12000 Activity): a group's course of
    /// lessons in one subject with its teachers.
    ActivityId
);
id_type!(
    /// One lesson (schemaposition, SS 12000 CalendarEvent).
    LessonId
);

id_type!(
    /// An uploaded file (C1-C3 attachments), owned by its uploader and
    /// attached to at most one post.
    FileId
);

impl SlotId {
    /// The highest slot id: the end of every range of slots.
    pub const LAST: SlotId = SlotId(ulid::Ulid::from_parts(u64::MAX, u128::MAX));

    /// The id of a new talk that starts at `start`. Its time part is the
    /// talk's start, not the moment it was created, so a group's slots sort
    /// by start in their partition and the talks of a stretch of time are
    /// one key range ([`SlotId::first_at`] to [`SlotId::last_at`]); the 80
    /// random bits keep two talks at one moment apart.
    pub fn starting_at<Tz: chrono::TimeZone>(start: &chrono::DateTime<Tz>) -> Self {
        SlotId(ulid::Ulid::from_parts(
            millis(start),
            ulid::Ulid::generate().random(),
        ))
    }

    /// The lowest id of a talk that starts at `at`.
    pub fn first_at<Tz: chrono::TimeZone>(at: &chrono::DateTime<Tz>) -> Self {
        SlotId(ulid::Ulid::from_parts(millis(at), 0))
    }

    /// The highest id of a talk that starts at `at`.
    pub fn last_at<Tz: chrono::TimeZone>(at: &chrono::DateTime<Tz>) -> Self {
        SlotId(ulid::Ulid::from_parts(millis(at), u128::MAX))
    }
}

/// A ULID's time part for `at`: milliseconds since 1970, none before it
/// (the days and talk times we make ids of lie between today and a few
/// years on, well inside the 48 bits).
fn millis<Tz: chrono::TimeZone>(at: &chrono::DateTime<Tz>) -> u64 {
    u64::try_from(at.timestamp_millis()).unwrap_or(0)
}

impl OutboxId {
    /// The `n`th id after this one (the same time, the next random bits):
    /// ids derived from one outbox item come out alike on every retry.
    pub fn derived(self, n: u128) -> Self {
        OutboxId(ulid::Ulid::from(u128::from(self.0).wrapping_add(n)))
    }

    /// The one unexcused-absence alert of a pupil's day (B6): every
    /// registration of that day names the same item, so only the first
    /// write of it succeeds. The time part is the day; the random part is
    /// 80 bits of a hash of pupil and day.
    pub fn of_pupil_day(pupil: PersonId, day: chrono::NaiveDate) -> Self {
        use sha2::Digest;
        let hash = sha2::Sha256::digest(format!("absence-alert#{pupil}#{day}"));
        let mut bytes = [0u8; 16];
        bytes.copy_from_slice(&hash[..16]);
        let random = u128::from_be_bytes(bytes) & ((1u128 << 80) - 1);
        let midnight = day.and_time(chrono::NaiveTime::MIN).and_utc();
        OutboxId(ulid::Ulid::from_parts(millis(&midnight), random))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pupils_alert_of_a_day_has_one_id_and_another_day_or_pupil_another() {
        let day = chrono::NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
        let (a, b) = (PersonId::generate(), PersonId::generate());
        assert_eq!(
            OutboxId::of_pupil_day(a, day),
            OutboxId::of_pupil_day(a, day)
        );
        assert_ne!(
            OutboxId::of_pupil_day(a, day),
            OutboxId::of_pupil_day(b, day)
        );
        assert_ne!(
            OutboxId::of_pupil_day(a, day),
            OutboxId::of_pupil_day(a, day.succ_opt().unwrap())
        );
    }

    #[test]
    fn slot_ids_sort_by_the_talks_start_whenever_they_were_made() {
        use chrono::TimeZone;
        let at = |h| chrono::Utc.with_ymd_and_hms(2026, 12, 2, h, 0, 0).unwrap();
        let later = SlotId::starting_at(&at(15));
        let earlier = SlotId::starting_at(&at(14));
        assert!(earlier < later, "made second, starts first");
        assert!(SlotId::first_at(&at(14)) <= earlier && earlier <= SlotId::last_at(&at(14)));
        assert!(SlotId::last_at(&at(14)) < later);
        assert!(later < SlotId::LAST);
        assert_ne!(
            SlotId::starting_at(&at(14)),
            earlier,
            "two talks at one moment"
        );
    }

    #[test]
    fn an_id_parses_back_from_its_display_form_in_any_case() {
        let id = PersonId::generate();
        assert_eq!(PersonId::parse(&id.to_string()), Some(id));
        assert_eq!(PersonId::parse(&id.to_string().to_lowercase()), Some(id));
    }

    #[test]
    fn a_registry_uuid_maps_to_the_same_id_every_time_and_distinct_uuids_apart() {
        let a = uuid::Uuid::parse_str("3f2b1c9e-7d4a-4e8b-9c1d-2a5b6c7d8e9f").unwrap();
        let b = uuid::Uuid::parse_str("3f2b1c9e-7d4a-4e8b-9c1d-2a5b6c7d8ea0").unwrap();
        assert_eq!(PersonId::from_registry(a), PersonId::from_registry(a));
        assert_ne!(PersonId::from_registry(a), PersonId::from_registry(b));
        let shown = PersonId::from_registry(a).to_string();
        assert_eq!(PersonId::parse(&shown), Some(PersonId::from_registry(a)));
    }

    #[test]
    fn text_that_is_not_a_ulid_is_not_an_id() {
        assert_eq!(PersonId::parse("../../etc/passwd"), None);
        assert_eq!(PersonId::parse("PERSON#01JD"), None);
        assert_eq!(PersonId::parse(""), None);
    }
}
