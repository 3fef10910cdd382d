//! Every key format of the table, in one place. docs/data-model.md lists
//! the same formats with the access patterns that read them; keep the two
//! together.
//!
//! Sort-key order inside a person's partition matters: `ABSENCE#` <
//! `ABSENCEDAY#` < `PERSON` < `REL#`, so "a person with all relations" is
//! one query for the range `PERSON` ..= `REL$`.

use crate::ids::{
    ActivityId, EventId, FileId, GroupId, ImportRunId, LessonId, NewsId, NoticeId, OrganisationId,
    OutboxId, PersonId, PostId, ReportId, SchoolId, SlotId, TalkRoundId,
};
use crate::store::{Key, SortKey};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

pub const ORGANISATION: &str = "Organisation";
pub const SCHOOL: &str = "School";
pub const GROUP: &str = "Group";
pub const PERSON: &str = "Person";
pub const RELATION: &str = "Relation";
pub const ABSENCE_REPORT: &str = "AbsenceReport";
pub const ABSENCE_DAY: &str = "AbsenceDay";
pub const OUTBOX: &str = "Outbox";
pub const IDEMPOTENCY: &str = "Idempotency";
pub const FLAG: &str = "Flag";
pub const IMPORT_STATE: &str = "ImportState";
pub const IMPORT_RUN: &str = "ImportRun";
pub const IMPORT_CURSOR: &str = "ImportCursor";
pub const IMPORT_LEASE: &str = "ImportLease";
pub const IMPORT_REQUEST: &str = "ImportRequest";
pub const TALK_ROUND: &str = "TalkRound";
pub const TALK_SLOT: &str = "TalkSlot";
pub const TALK_BOOKING: &str = "TalkBooking";
pub const TALK_SCHEDULE: &str = "TalkSchedule";
pub const REMINDER_SENT: &str = "ReminderSent";
pub const BLOG_POST: &str = "BlogPost";
pub const NOTICE: &str = "Notice";
pub const ACTIVITY: &str = "Activity";
pub const LESSON: &str = "Lesson";
pub const LESSON_OF_GROUP: &str = "LessonOfGroup";
pub const LESSON_OF_TEACHER: &str = "LessonOfTeacher";
pub const LESSON_ATTENDANCE: &str = "LessonAttendance";
pub const SMS_CREDIT: &str = "SmsCredit";
pub const FILE: &str = "File";
/// Outbox items of unexcused-absence alerts (B6): delivered by
/// `absence-alerts` (SMS and mail), not by `notifications-deliver`, which
/// takes only `OUTBOX` items from the stream.
pub const ABSENCE_ALERT: &str = "AbsenceAlert";

pub fn organisation(id: OrganisationId) -> Key {
    Key::new(format!("ORG#{id}"), "ORG")
}

pub fn school(id: SchoolId) -> Key {
    Key::new(format!("SCHOOL#{id}"), "SCHOOL")
}

pub fn group(id: GroupId) -> Key {
    Key::new(format!("GROUP#{id}"), "GROUP")
}

const PERSON_PREFIX: &str = "PERSON#";

pub fn person_partition(id: PersonId) -> String {
    format!("{PERSON_PREFIX}{id}")
}

pub fn person(id: PersonId) -> Key {
    Key::new(person_partition(id), "PERSON")
}

/// The person whose partition `pk` is, if it is a person's.
pub fn person_of_partition(pk: &str) -> Option<PersonId> {
    PersonId::parse(pk.strip_prefix(PERSON_PREFIX)?)
}

/// The sort-key range holding the person item and all their relations.
pub const PERSON_AND_RELATIONS: (&str, &str) = ("PERSON", "REL$");

/// The upper end of the sort-key range holding the person item, their
/// relations and the items under `prefix` (which sorts after the
/// relations): the lower end is `PERSON_AND_RELATIONS.0`.
pub fn person_and_relations_through(prefix: &str) -> String {
    debug_assert!(prefix > PERSON_AND_RELATIONS.1);
    format!("{prefix}~")
}

pub const RELATION_PREFIX: &str = "REL#";

/// A relation item in the partition of the person who holds it; `target`
/// names what it points at (`GUARDIAN#<pupil>`, `MEMBER#<group>`, ...).
pub fn relation(holder: PersonId, target: &str) -> Key {
    Key::new(
        person_partition(holder),
        format!("{RELATION_PREFIX}{target}"),
    )
}

/// Index entry of a relation, so the other side can find its holders:
/// GSI1 `PEOPLE#<object>` / `<kind>#<holder>` (the guardians of a pupil,
/// the members of a group).
/// GSI2: the pupils of a school's grade year (C3 grade-year audiences).
pub fn grade_pupils_partition(school: SchoolId, year: u8) -> String {
    format!("PEOPLE#SCHOOL#{school}#YEAR#{year}")
}

pub fn grade_pupil(school: SchoolId, year: u8, pupil: PersonId) -> Key {
    Key::new(
        grade_pupils_partition(school, year),
        format!("PUPIL#{pupil}"),
    )
}

pub fn relation_reverse(object: &str, kind: &str, holder: PersonId) -> Key {
    Key::new(format!("PEOPLE#{object}"), format!("{kind}#{holder}"))
}

pub const ABSENCE_REPORT_PREFIX: &str = "ABSENCE#";

pub fn absence_report(pupil: PersonId, report: ReportId) -> Key {
    Key::new(
        person_partition(pupil),
        format!("{ABSENCE_REPORT_PREFIX}{report}"),
    )
}

pub fn absence_day(pupil: PersonId, day: NaiveDate) -> Key {
    Key::new(person_partition(pupil), absence_day_sk(day))
}

pub fn absence_day_sk(day: NaiveDate) -> String {
    format!("ABSENCEDAY#{day}")
}

/// GSI1: the pending reports of a school, oldest first day first. Present
/// only while a report waits for approval (a sparse index).
pub fn pending_absence_partition(school: SchoolId) -> String {
    format!("SCHOOL#{school}#ABSENCE#pending")
}

pub fn pending_absence(school: SchoolId, first_day: NaiveDate, report: ReportId) -> Key {
    Key::new(
        pending_absence_partition(school),
        format!("{first_day}#{report}"),
    )
}

/// GSI2: who of a school is reported absent on a day.
pub fn absence_on_day_partition(school: SchoolId, day: NaiveDate) -> String {
    format!("SCHOOL#{school}#DAY#{day}")
}

/// GSI2: a lesson's registration in its school's day (B5), beside the
/// reported absence of that day (`LESSON#` sorts before `PERSON#`).
pub fn attendance_on_day(school: SchoolId, day: NaiveDate, lesson: LessonId) -> Key {
    Key::new(
        absence_on_day_partition(school, day),
        format!("LESSON#{lesson}"),
    )
}

pub fn absence_on_day(school: SchoolId, day: NaiveDate, pupil: PersonId) -> Key {
    Key::new(
        absence_on_day_partition(school, day),
        person_partition(pupil),
    )
}

pub fn outbox(id: OutboxId) -> Key {
    Key::new(format!("OUTBOX#{id}"), "OUTBOX")
}

/// GSI1: outbox items not yet delivered (sparse: removed once sent), for
/// the local worker and for sweeping stuck items.
pub const PENDING_OUTBOX_PARTITION: &str = "OUTBOX#pending";

pub fn pending_outbox(id: OutboxId) -> Key {
    Key::new(PENDING_OUTBOX_PARTITION, id.to_string())
}

/// The stored answer to a POST with an Idempotency-Key, per caller; the key
/// is hashed so any client string is safe in a key.
pub fn idempotency(caller: &str, key_hash: &str) -> Key {
    Key::new(format!("IDEMPOTENCY#{caller}#{key_hash}"), "IDEMPOTENCY")
}

/// GSI1 partition of a group's pupils (reverse of `MemberOf`), each under
/// `MEMBER#<pupil>`.
pub fn members_of_group_partition(group: GroupId) -> String {
    format!("PEOPLE#GROUP#{group}")
}

/// GSI1 partition of a school's enrolled pupils (reverse of `EnrolledAt`).
pub fn pupils_of_school_partition(school: SchoolId) -> String {
    format!("PEOPLE#SCHOOL#{school}")
}

/// A flag on a school about one pupil (`ENROLLED_ELSEWHERE`: active at
/// another school of the organisation too), in the school's partition.
pub fn school_flag(school: SchoolId, flag: &str, pupil: PersonId) -> Key {
    Key::new(format!("SCHOOL#{school}"), format!("FLAG#{flag}#{pupil}"))
}

/// What the import last wrote for one registry object: its content hash
/// and the keys of the items it wrote (`object` is `Person`, `Group`, ...;
/// `id` the registry UUID as a ULID).
pub fn import_state(object: &str, id: ulid::Ulid) -> Key {
    Key::new(format!("SS12000#{object}#{id}"), "STATE")
}

/// Marks a registry person as protected without naming them: `digest` is
/// a one-way hash of their registry id (see `import::plan::protected_digest`),
/// so a later run can tell "protected" from "unknown" without the table
/// holding who it is.
pub fn import_protected(digest: &str) -> Key {
    Key::new(format!("SS12000#Protected#{digest}"), "STATE")
}

/// The run records, newest last by ULID.
pub const IMPORT_RUNS_PARTITION: &str = "IMPORT#RUNS";

pub fn import_run(id: ImportRunId) -> Key {
    Key::new(IMPORT_RUNS_PARTITION, id.to_string())
}

/// The import's own partition: its cursor, its lease and the runs asked for.
pub const IMPORT_PARTITION: &str = "IMPORT#SS12000";

/// Where the next delta run starts, and when the last full run was.
pub fn import_cursor() -> Key {
    Key::new(IMPORT_PARTITION, "CURSOR")
}

/// A run asked for through the API (the stream starts it).
pub fn import_request(run: ImportRunId) -> Key {
    Key::new(IMPORT_PARTITION, format!("{IMPORT_REQUEST_PREFIX}{run}"))
}

pub const IMPORT_REQUEST_PREFIX: &str = "REQUEST#";

/// Held by the one run in progress.
pub fn import_lease() -> Key {
    Key::new(IMPORT_PARTITION, "LEASE")
}

/// The development talks of a group (E1): its rounds and every slot, so
/// "the slots of a group" is one query (`SLOT#` prefix), and the slots of a
/// stretch of time one key range ([`talk_slots_starting`]).
pub fn talks_partition(group: GroupId) -> String {
    format!("GROUP#{group}#TALKS")
}

pub const TALK_SLOT_PREFIX: &str = "SLOT#";

/// A group's rounds are one key range of its talks partition; a round id
/// is a ULID, so they sort by creation.
pub const TALK_ROUND_PREFIX: &str = "ROUND#";

pub fn talk_round(group: GroupId, round: TalkRoundId) -> Key {
    Key::new(
        talks_partition(group),
        format!("{TALK_ROUND_PREFIX}{round}"),
    )
}

/// Rewritten on its version by every creation of talk times, so two
/// creations at one moment cannot both miss each other's overlap.
pub fn talk_schedule(group: GroupId) -> Key {
    Key::new(talks_partition(group), "SCHEDULE")
}

/// A slot carries its booking (if any): booking it is one conditional
/// write on this item.
pub fn talk_slot(group: GroupId, slot: SlotId) -> Key {
    Key::new(talks_partition(group), format!("{TALK_SLOT_PREFIX}{slot}"))
}

/// The slots of a group that start from `from` up to `to` (inclusive; no
/// end without `to`). A slot's id has the talk's start as its time part
/// (`SlotId::starting_at`), so its key sorts by start.
pub fn talk_slots_starting(from: DateTime<Utc>, to: Option<DateTime<Utc>>) -> SortKey {
    let last = to.map_or(SlotId::LAST, |to| SlotId::last_at(&to));
    SortKey::Between(
        format!("{TALK_SLOT_PREFIX}{}", SlotId::first_at(&from)),
        format!("{TALK_SLOT_PREFIX}{last}"),
    )
}

/// The slots of a group by start: every one, or those from `from` on.
pub fn talk_slots_from(from: Option<DateTime<Utc>>) -> SortKey {
    match from {
        Some(from) => talk_slots_starting(from, None),
        None => SortKey::BeginsWith(TALK_SLOT_PREFIX.to_string()),
    }
}

/// A pupil's booking in one round, in the pupil's partition: at most one
/// per pupil and round, whichever guardian booked. Sorts after `REL$`, so
/// it is not read with the person's relations.
pub fn talk_booking(pupil: PersonId, round: TalkRoundId) -> Key {
    Key::new(
        person_partition(pupil),
        format!("{TALK_BOOKING_PREFIX}{round}"),
    )
}

/// A pupil's talk bookings are one query of their partition.
pub const TALK_BOOKING_PREFIX: &str = "TALKBOOKING#";

/// GSI2: what to remind people of the day before `day`, for every feature
/// with day-before reminders (`TALK#<slotId>` for a booked talk slot). The
/// daily reminder function reads tomorrow's partition.
pub fn reminders_partition(day: NaiveDate) -> String {
    format!("REMINDERS#{day}")
}

pub fn reminder(day: NaiveDate, what: &str) -> Key {
    Key::new(reminders_partition(day), what.to_string())
}

/// Written with the reminder's outbox item, so a re-run of the schedule
/// sends nothing twice.
pub fn reminder_sent(day: NaiveDate, what: &str) -> Key {
    Key::new(format!("REMINDED#{day}"), what.to_string())
}

/// A group's blog (C2): every post addressed to the group, written once
/// per addressed group, so a group's feed is one query, newest first
/// (`POST#<ulid>` sorts by time).
pub fn blog_partition(group: GroupId) -> String {
    format!("GROUP#{group}#BLOG")
}

pub const BLOG_POST_PREFIX: &str = "POST#";

pub fn blog_post(group: GroupId, post: PostId) -> Key {
    Key::new(blog_partition(group), format!("{BLOG_POST_PREFIX}{post}"))
}

/// An uploaded file (C1-C3 attachments): who owns it, what it is, what
/// it is attached to. One item per file, read by id.
pub fn file(id: FileId) -> Key {
    Key::new(format!("FILE#{id}"), "FILE")
}

/// Where a file's bytes are in the bucket (or the local folder). Not
/// the file's name: names never leave the table.
pub fn file_object(id: FileId) -> String {
    format!("files/{id}")
}

/// A calendar (C1): the events addressed to one group, or to a school
/// (its pupils and guardians, or its staff), each written once per
/// addressed calendar, sorted by first day, so a calendar up to a day is
/// one query (`EVENT#<first day>#<ulid>`).
pub fn group_calendar_partition(group: GroupId) -> String {
    format!("GROUP#{group}#CAL")
}

pub fn school_calendar_partition(school: SchoolId) -> String {
    format!("SCHOOL#{school}#CAL")
}

pub const CALENDAR_EVENT: &str = "CalendarEvent";
pub const EVENT_PREFIX: &str = "EVENT#";

pub fn calendar_event(partition: String, first_day: NaiveDate, event: EventId) -> Key {
    Key::new(partition, format!("{EVENT_PREFIX}{first_day}#{event}"))
}

/// An event with a day-before reminder (C1): one item per event, on GSI2
/// `EVENT-REMINDERS` by its last day, so the events that may start
/// tomorrow are one query (those whose last day is not yet past).
pub const EVENT_REMINDER: &str = "EventReminder";
pub const EVENT_REMINDERS_PARTITION: &str = "EVENT-REMINDERS";

pub fn event_reminder(event: EventId) -> Key {
    Key::new(format!("EVENT#{event}"), "REMINDER".to_string())
}

pub fn event_reminder_index(last_day: NaiveDate, event: EventId) -> Key {
    Key::new(EVENT_REMINDERS_PARTITION, format!("{last_day}#{event}"))
}

/// A personal calendar feed (C1): the SHA-256 of its secret token names
/// whose it is (the token itself is stored nowhere), and the holder's
/// partition names their current one, so a new one revokes the old.
pub fn calendar_feed(token_hash: &str) -> Key {
    Key::new(format!("CALFEED#{token_hash}"), "FEED".to_string())
}

/// Sorts before `PERSON`, so a person's record query does not read it.
pub fn person_calendar_feed(person: PersonId) -> Key {
    Key::new(person_partition(person), "CALFEED".to_string())
}

pub const CALENDAR_FEED: &str = "CalendarFeed";

/// The last sort key of a calendar's events that start on or before `day`.
pub fn events_until(day: NaiveDate) -> String {
    format!("{EVENT_PREFIX}{day}#~")
}

/// News (C3): the items addressed to one group, or to a school, each
/// written once per addressed feed and sorted by publish time, so the
/// items published by a moment are one query, newest first
/// (`NEWS#<publish time, RFC 3339 UTC millis>#<ulid>`).
pub fn group_news_partition(group: GroupId) -> String {
    format!("GROUP#{group}#NEWS")
}

pub fn school_news_partition(school: SchoolId) -> String {
    format!("SCHOOL#{school}#NEWS")
}

pub const NEWS_ITEM: &str = "NewsItem";
pub const NEWS_PREFIX: &str = "NEWS#";

fn news_time(at: chrono::DateTime<chrono::Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

pub fn news_item(
    partition: String,
    publish_at: chrono::DateTime<chrono::Utc>,
    news: NewsId,
) -> Key {
    Key::new(
        partition,
        format!("{NEWS_PREFIX}{}#{news}", news_time(publish_at)),
    )
}

/// The last sort key of the news published by `now`.
pub fn news_until(now: chrono::DateTime<chrono::Utc>) -> String {
    format!("{NEWS_PREFIX}{}#~", news_time(now))
}

/// Scheduled news waiting to notify its audience: one item per news item,
/// on GSI2 `NEWS#SCHEDULED` by publish time, so the due ones are one query.
pub const NEWS_RELEASE: &str = "NewsRelease";
pub const NEWS_SCHEDULED_PARTITION: &str = "NEWS#SCHEDULED";

pub fn news_release(news: NewsId) -> Key {
    Key::new(format!("NEWS#{news}"), "RELEASE".to_string())
}

pub fn news_release_index(publish_at: chrono::DateTime<chrono::Utc>, news: NewsId) -> Key {
    Key::new(
        NEWS_SCHEDULED_PARTITION,
        format!("{}#{news}", news_time(publish_at)),
    )
}

/// The last GSI2 sort key of the releases due by `now`.
pub fn news_due_until(now: chrono::DateTime<chrono::Utc>) -> String {
    format!("{}#~", news_time(now))
}

/// A person's in-app notices (C7), newest last by ULID: every notice is
/// one item here, read or not.
pub fn notices_partition(person: PersonId) -> String {
    format!("NOTICES#{person}")
}

pub fn notice(person: PersonId, id: NoticeId) -> Key {
    Key::new(notices_partition(person), id.to_string())
}

/// GSI1: a person's unread notices (sparse: the entry goes when the
/// notice is read), so the unread list and the unread count are one query.
pub fn unread_notices_partition(person: PersonId) -> String {
    format!("NOTICES#{person}#UNREAD")
}

pub fn unread_notice(person: PersonId, id: NoticeId) -> Key {
    Key::new(unread_notices_partition(person), id.to_string())
}

/// A schedule activity (A4): what its lessons share (title, subject,
/// groups, teachers). The import re-plans an activity's lessons from here
/// when only the activity changed.
pub fn activity(id: ActivityId) -> Key {
    Key::new(format!("ACTIVITY#{id}"), "ACTIVITY")
}

/// One lesson (A4) is an item collection in its own partition: the lesson
/// item (`LESSON`) and one copy per group (`GROUP#<id>`) and per teacher
/// (`TEACHER#<id>`), each copy carrying the whole lesson, so that
///
/// - a lesson by id (B3 registration, B5 per lesson) is one GetItem,
/// - a group's lessons of a day or a period (B4, B7 scheduled minutes) is
///   one Query on GSI1 `LESSONS#GROUP#<group>` with the sort key between
///   [`lesson_day_range`],
/// - a teacher's lessons of a day or a period ("unreported lessons of the
///   last 14 days", B3) is one Query on GSI2 `LESSONS#TEACHER#<person>`,
/// - an activity's lessons (the import, when the activity changes) is one
///   Query on GSI1 `LESSONS#ACTIVITY#<activity>`,
/// - a school's lessons of a period (B7: unreported lessons per teacher)
///   is one Query on GSI2 `LESSONS#SCHOOL#<school>`, an entry of the
///   lesson item itself.
///
/// Index sort keys are the start in Europe/Stockholm local time then the
/// lesson id (`2026-11-02T08:15#<ulid>`): a day is a prefix, a period a
/// range, and lessons come in the order of the day.
pub fn lesson_partition(id: LessonId) -> String {
    format!("LESSON#{id}")
}

pub fn lesson(id: LessonId) -> Key {
    Key::new(lesson_partition(id), "LESSON")
}

pub fn lesson_of_group(id: LessonId, group: GroupId) -> Key {
    Key::new(lesson_partition(id), format!("GROUP#{group}"))
}

pub fn lesson_of_teacher(id: LessonId, teacher: PersonId) -> Key {
    Key::new(lesson_partition(id), format!("TEACHER#{teacher}"))
}

/// B3: the attendance registered for a lesson, in the lesson's partition
/// (one GetItem beside the lesson; the import never writes or deletes it:
/// it is not among the keys the import keeps state of).
pub fn lesson_attendance(id: LessonId) -> Key {
    Key::new(lesson_partition(id), "ATTENDANCE")
}

/// B6: a school's SMS credit, beside the school item; the delivery of
/// unexcused-absence alerts draws on it with a conditional write.
pub fn sms_credit(school: SchoolId) -> Key {
    Key::new(format!("SCHOOL#{school}"), "SMS-CREDIT")
}

/// The index sort key of a lesson: local start, then id.
pub fn lesson_time(local_start: NaiveDateTime, id: LessonId) -> String {
    format!("{}#{id}", local_start.format("%Y-%m-%dT%H:%M"))
}

/// The sort-key range of the lessons starting on the days `from..=to`
/// (local dates).
pub fn lesson_day_range(from: NaiveDate, to: NaiveDate) -> (String, String) {
    (format!("{from}T"), format!("{to}T~"))
}

/// GSI1: every lesson of an activity.
pub fn lessons_of_activity_partition(activity: ActivityId) -> String {
    format!("LESSONS#ACTIVITY#{activity}")
}

/// GSI1: a group's lessons.
pub fn lessons_of_group_partition(group: GroupId) -> String {
    format!("LESSONS#GROUP#{group}")
}

/// GSI2: a teacher's lessons.
pub fn lessons_of_teacher_partition(teacher: PersonId) -> String {
    format!("LESSONS#TEACHER#{teacher}")
}

/// GSI2: a school's lessons (the lesson items, one per lesson).
pub fn lessons_of_school_partition(school: SchoolId) -> String {
    format!("LESSONS#SCHOOL#{school}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_persons_item_and_relations_sort_inside_one_range_and_absences_outside_it() {
        let p = PersonId::generate();
        let (lo, hi) = PERSON_AND_RELATIONS;
        let inside = |k: Key| k.sk.as_str() >= lo && k.sk.as_str() <= hi;
        assert!(inside(person(p)));
        assert!(inside(relation(p, "GUARDIAN#x")));
        assert!(!inside(absence_report(p, ReportId::generate())));
        let day = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        assert!(!inside(absence_day(p, day)));
        assert!(!inside(talk_booking(p, TalkRoundId::generate())));
    }

    #[test]
    fn the_range_through_talk_bookings_holds_the_record_and_every_booking() {
        let p = PersonId::generate();
        let (lo, hi) = (
            PERSON_AND_RELATIONS.0,
            person_and_relations_through(TALK_BOOKING_PREFIX),
        );
        let inside = |k: Key| k.sk.as_str() >= lo && k.sk.as_str() <= hi.as_str();
        assert!(inside(person(p)));
        assert!(inside(relation(p, "GUARDIAN#x")));
        assert!(inside(talk_booking(p, TalkRoundId::generate())));
    }

    #[test]
    fn the_report_prefix_does_not_match_absence_day_items() {
        let day = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        assert!(!absence_day_sk(day).starts_with(ABSENCE_REPORT_PREFIX));
    }

    #[test]
    fn a_days_range_holds_every_lesson_of_the_day_and_none_of_the_next() {
        let id = LessonId::generate();
        let day = NaiveDate::from_ymd_opt(2026, 11, 2).unwrap();
        let (lo, hi) = lesson_day_range(day, day);
        let at = |d: NaiveDate, h, m| lesson_time(d.and_hms_opt(h, m, 0).unwrap(), id);
        for sk in [at(day, 0, 0), at(day, 8, 15), at(day, 23, 59)] {
            assert!(
                sk.as_str() >= lo.as_str() && sk.as_str() <= hi.as_str(),
                "{sk}"
            );
        }
        let next = day.succ_opt().unwrap();
        assert!(at(next, 0, 0).as_str() > hi.as_str());
        assert!(at(day.pred_opt().unwrap(), 23, 59).as_str() < lo.as_str());
    }
}
