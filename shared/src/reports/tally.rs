//! The arithmetic of the absence reports (B4, B7), pure: lessons,
//! their registrations and the pupils in, minutes out. No store, no clock
//! (the moment of the report is an argument), so every rule below is
//! checked by hand in the tests at the end.
//!
//! The rules:
//!
//! - A lesson concerns a pupil when it is given to one of the pupil's
//!   groups. A lesson given to several groups concerns a pupil in two of
//!   them once: lessons are counted by id, never per group.
//! - A pupil's scheduled minutes of a lesson are the lesson's minutes, or
//!   their own minutes when the schedule has an exception for them (0 when
//!   not expected: the lesson then does not concern them at all).
//! - Only lessons held count: not cancelled (a lesson removed in the
//!   registry is cancelled too) and begun by the moment of the report. A
//!   report over a whole term, read mid-term, is a report of the term so
//!   far.
//! - A held lesson without a registration is unreported: its minutes are
//!   scheduled (the pupil was expected) and no absence is known. Each
//!   pupil's row says how many of their lessons were unreported, so a
//!   reader can see how much of the share rests on registrations.
//! - A registered absence counts with its reason; its minutes are clipped
//!   to the pupil's scheduled minutes as the schedule stands now (the
//!   schedule may have changed since the registration).
//! - Absent minutes are valid + invalid + late. Other activity is
//!   recorded and shown, but is not absence (`AbsenceReason::is_absence`).
//! - A lesson is missed when an absence reason covers all of the pupil's
//!   scheduled minutes of it.
//! - A day is a whole day of absence when the pupil had scheduled minutes
//!   that day and was absent for all of them.
//! - The absence share is absent minutes / scheduled minutes, given in
//!   percent rounded half up to one decimal, and none when nothing was
//!   scheduled.

use crate::attendance::{AbsenceReason, Registration};
use crate::ids::{GroupId, LessonId, PersonId};
use crate::lessons::Lesson;
use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::AddAssign;

/// Minutes and lessons of one pupil over some span (a day, a period), or
/// the sum over several pupils.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Tally {
    /// Lessons held that concern the pupil.
    pub lessons: u32,
    /// The pupil's scheduled minutes of those lessons.
    pub scheduled_minutes: u32,
    /// Giltig frånvaro.
    pub valid_minutes: u32,
    /// Ogiltig frånvaro.
    pub invalid_minutes: u32,
    /// Sen ankomst.
    pub late_minutes: u32,
    /// Annan aktivitet: recorded, not absence.
    pub other_activity_minutes: u32,
    /// valid + invalid + late.
    pub absent_minutes: u32,
    /// Lessons an absence reason covered whole.
    pub lessons_missed: u32,
    /// Lessons held without a registration.
    pub unreported_lessons: u32,
}

impl AddAssign for Tally {
    fn add_assign(&mut self, o: Tally) {
        self.lessons += o.lessons;
        self.scheduled_minutes += o.scheduled_minutes;
        self.valid_minutes += o.valid_minutes;
        self.invalid_minutes += o.invalid_minutes;
        self.late_minutes += o.late_minutes;
        self.other_activity_minutes += o.other_activity_minutes;
        self.absent_minutes += o.absent_minutes;
        self.lessons_missed += o.lessons_missed;
        self.unreported_lessons += o.unreported_lessons;
    }
}

impl Tally {
    /// Whether this day's tally is a whole day of absence.
    fn whole_day_absent(&self) -> bool {
        self.scheduled_minutes > 0 && self.absent_minutes >= self.scheduled_minutes
    }
}

/// A tally with what is derived from it: whole days of absence and the
/// absence share.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    #[serde(flatten)]
    pub tally: Tally,
    /// Days (summed over pupils, for a group) absent from every scheduled
    /// minute.
    pub whole_days_absent: u32,
    /// absent / scheduled minutes in percent, one decimal; none when
    /// nothing was scheduled.
    pub absence_percent: Option<f64>,
}

impl Summary {
    /// The summary of one pupil's days.
    pub fn of_days<'a>(days: impl IntoIterator<Item = &'a Tally>) -> Summary {
        let mut s = Summary::default();
        for d in days {
            s.tally += *d;
            if d.whole_day_absent() {
                s.whole_days_absent += 1;
            }
        }
        s.absence_percent = percent(s.tally.absent_minutes, s.tally.scheduled_minutes);
        s
    }

    /// The sum of several pupils' summaries.
    pub fn total<'a>(pupils: impl IntoIterator<Item = &'a Summary>) -> Summary {
        let mut s = Summary::default();
        for p in pupils {
            s.tally += p.tally;
            s.whole_days_absent += p.whole_days_absent;
        }
        s.absence_percent = percent(s.tally.absent_minutes, s.tally.scheduled_minutes);
        s
    }
}

/// `part / whole` in percent, rounded half up to one decimal, in whole
/// numbers until the last step (so 1/8 is 12.5, never 12.499999).
pub fn percent(part: u32, whole: u32) -> Option<f64> {
    if whole == 0 {
        return None;
    }
    let (part, whole) = (u64::from(part), u64::from(whole));
    let tenths = (part * 2000 + whole) / (2 * whole);
    Some(tenths as f64 / 10.0)
}

/// A pupil whose lessons are counted, with the groups whose lessons
/// concern them.
#[derive(Debug, Clone, PartialEq)]
pub struct Pupil {
    pub id: PersonId,
    pub groups: Vec<GroupId>,
}

/// Whether a lesson counts at `now`: held, not cancelled.
pub fn held(lesson: &Lesson, now: DateTime<Utc>) -> bool {
    !lesson.cancelled && !lesson.removed && lesson.start <= now
}

/// Each pupil's tally per day (the lesson's local start date), for the
/// days on which a held lesson concerned them. Lessons are taken once per
/// id, whatever the number of groups that brought them.
pub fn days(
    lessons: &[Lesson],
    registrations: &HashMap<LessonId, Registration>,
    pupils: &[Pupil],
    now: DateTime<Utc>,
) -> BTreeMap<PersonId, BTreeMap<NaiveDate, Tally>> {
    let mut out: BTreeMap<PersonId, BTreeMap<NaiveDate, Tally>> = BTreeMap::new();
    for p in pupils {
        out.entry(p.id).or_default();
    }
    let mut seen = HashSet::new();
    for lesson in lessons {
        if !held(lesson, now) || !seen.insert(lesson.id) {
            continue;
        }
        let registration = registrations.get(&lesson.id);
        let day = lesson.start.date_naive();
        for p in pupils {
            if !p.groups.iter().any(|g| lesson.group_ids.contains(g)) {
                continue;
            }
            let own = crate::attendance::scheduled_minutes(lesson, p.id);
            if own == 0 {
                continue;
            }
            let t = out.entry(p.id).or_default().entry(day).or_default();
            *t += lesson_tally(own, registration, p.id);
        }
    }
    out
}

/// One pupil's tally of one held lesson with `own` scheduled minutes.
fn lesson_tally(own: u32, registration: Option<&Registration>, pupil: PersonId) -> Tally {
    let mut t = Tally {
        lessons: 1,
        scheduled_minutes: own,
        ..Tally::default()
    };
    let Some(registration) = registration else {
        t.unreported_lessons = 1;
        return t;
    };
    // A registration names a pupil at most once (B3 refuses twice); should
    // an old one do so, the minutes still never exceed the pupil's own.
    let mut left = own;
    for a in registration.absences.iter().filter(|a| a.pupil_id == pupil) {
        let m = a.minutes.min(left);
        left -= m;
        match a.reason {
            AbsenceReason::Valid => t.valid_minutes += m,
            AbsenceReason::Invalid => t.invalid_minutes += m,
            AbsenceReason::Late => t.late_minutes += m,
            AbsenceReason::OtherActivity => t.other_activity_minutes += m,
        }
    }
    t.absent_minutes = t.valid_minutes + t.invalid_minutes + t.late_minutes;
    if t.absent_minutes >= own {
        t.lessons_missed = 1;
    }
    t
}

/// A lesson nobody has reported, as a report lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UnreportedLesson {
    pub id: LessonId,
    pub title: String,
    pub group_ids: Vec<GroupId>,
    pub start: DateTime<FixedOffset>,
    pub end: DateTime<FixedOffset>,
}

/// The teachers expected to report a lesson: the schedule's teachers who
/// are not excepted from it, and participating substitutes.
pub fn reporting_teachers(lesson: &Lesson) -> Vec<PersonId> {
    lesson
        .teachers_of_day()
        .into_iter()
        .filter(|t| {
            !lesson
                .teacher_exceptions
                .iter()
                .any(|x| x.teacher_id == *t && !x.participates)
        })
        .collect()
}

/// The held lessons without a registration, per teacher expected to
/// report them, each teacher's in the order given (lessons once per id).
pub fn unreported_by_teacher(
    lessons: &[Lesson],
    reported: &HashSet<LessonId>,
    now: DateTime<Utc>,
) -> BTreeMap<PersonId, Vec<UnreportedLesson>> {
    let mut out: BTreeMap<PersonId, Vec<UnreportedLesson>> = BTreeMap::new();
    let mut seen = HashSet::new();
    for lesson in lessons {
        if !held(lesson, now) || reported.contains(&lesson.id) || !seen.insert(lesson.id) {
            continue;
        }
        for t in reporting_teachers(lesson) {
            out.entry(t).or_default().push(UnreportedLesson {
                id: lesson.id,
                title: lesson.title.clone(),
                group_ids: lesson.group_ids.clone(),
                start: lesson.start,
                end: lesson.end,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attendance::LessonAbsence;
    use crate::ids::{ActivityId, SchoolId};
    use crate::lessons::{PupilException, TeacherException, local};
    use chrono::TimeZone;

    /// 08:00 on a November day of 2026 in Stockholm (UTC+1), plus minutes.
    fn at(day: u32, minutes: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, day, 7, 0, 0).unwrap() + chrono::Duration::minutes(minutes)
    }

    fn lesson(day: u32, from: i64, minutes: u32, groups: &[GroupId]) -> Lesson {
        let start = local(at(day, from));
        Lesson {
            id: LessonId::generate(),
            activity_id: ActivityId::generate(),
            school_id: SchoolId::generate(),
            title: "Lektion".into(),
            subject: None,
            group_ids: groups.to_vec(),
            teacher_ids: vec![],
            rooms: vec![],
            start,
            end: start + chrono::Duration::minutes(i64::from(minutes)),
            minutes,
            cancelled: false,
            removed: false,
            pupil_exceptions: vec![],
            teacher_exceptions: vec![],
        }
    }

    fn registration(lesson: &Lesson, absences: &[(PersonId, AbsenceReason, u32)]) -> Registration {
        Registration {
            lesson_id: lesson.id,
            school_id: lesson.school_id,
            group_ids: lesson.group_ids.clone(),
            lesson_start: lesson.start,
            lesson_end: Some(lesson.end),
            lesson_title: lesson.title.clone(),
            absences: absences
                .iter()
                .map(|(p, reason, minutes)| LessonAbsence {
                    pupil_id: *p,
                    pupil_name: String::new(),
                    reason: *reason,
                    minutes: *minutes,
                    comment: None,
                    report_id: None,
                })
                .collect(),
            comment: None,
            registered_by: PersonId::generate(),
            registered_at: at(30, 0),
        }
    }

    fn registered(regs: Vec<Registration>) -> HashMap<LessonId, Registration> {
        regs.into_iter().map(|r| (r.lesson_id, r)).collect()
    }

    fn summary(
        lessons: &[Lesson],
        regs: &HashMap<LessonId, Registration>,
        pupil: &Pupil,
        now: DateTime<Utc>,
    ) -> Summary {
        let days = days(lessons, regs, std::slice::from_ref(pupil), now);
        Summary::of_days(days[&pupil.id].values())
    }

    #[test]
    fn a_week_of_one_pupil_adds_up_by_reason_and_gives_the_share_of_scheduled_minutes() {
        let g = GroupId::generate();
        let alva = PersonId::generate();
        let pupil = Pupil {
            id: alva,
            groups: vec![g],
        };
        // Monday 23rd: 60 + 45 minutes. Tuesday 24th: 60 + 40 minutes.
        let mon1 = lesson(23, 0, 60, &[g]);
        let mon2 = lesson(23, 70, 45, &[g]);
        let tue1 = lesson(24, 0, 60, &[g]);
        let tue2 = lesson(24, 70, 40, &[g]);
        let regs = registered(vec![
            // Monday: away all of the first lesson (valid), 10 minutes late
            // to the second.
            registration(&mon1, &[(alva, AbsenceReason::Valid, 60)]),
            registration(&mon2, &[(alva, AbsenceReason::Late, 10)]),
            // Tuesday: 20 minutes of invalid absence, then a study visit.
            registration(&tue1, &[(alva, AbsenceReason::Invalid, 20)]),
            registration(&tue2, &[(alva, AbsenceReason::OtherActivity, 40)]),
        ]);
        let s = summary(&[mon1, mon2, tue1, tue2], &regs, &pupil, at(30, 0));
        // Scheduled 60 + 45 + 60 + 40 = 205. Absent 60 + 10 + 20 = 90; the
        // 40 minutes of other activity are not absence. 90 / 205 = 43.90%.
        assert_eq!(
            s.tally,
            Tally {
                lessons: 4,
                scheduled_minutes: 205,
                valid_minutes: 60,
                invalid_minutes: 20,
                late_minutes: 10,
                other_activity_minutes: 40,
                absent_minutes: 90,
                lessons_missed: 1,
                unreported_lessons: 0,
            }
        );
        assert_eq!(s.absence_percent, Some(43.9));
        assert_eq!(s.whole_days_absent, 0);
    }

    #[test]
    fn a_lesson_of_two_groups_counts_once_for_a_pupil_in_both() {
        let (a, b) = (GroupId::generate(), GroupId::generate());
        let pupil = Pupil {
            id: PersonId::generate(),
            groups: vec![a, b],
        };
        let both = lesson(23, 0, 60, &[a, b]);
        let only_b = lesson(23, 70, 45, &[b]);
        // A pupil's report reads each group's lessons: the shared lesson
        // comes twice and counts once: 60 + 45 = 105 minutes, 2 lessons.
        let read = [both.clone(), only_b.clone(), both];
        let regs = registered(vec![registration(
            &read[0],
            &[(pupil.id, AbsenceReason::Invalid, 60)],
        )]);
        let s = summary(&read, &regs, &pupil, at(30, 0));
        assert_eq!(s.tally.lessons, 2);
        assert_eq!(s.tally.scheduled_minutes, 105);
        assert_eq!(s.tally.invalid_minutes, 60);
        assert_eq!(s.tally.unreported_lessons, 1);
        // 60 / 105 = 57.142...%
        assert_eq!(s.absence_percent, Some(57.1));
    }

    #[test]
    fn cancelled_and_future_lessons_count_nothing_and_unreported_ones_count_as_scheduled() {
        let g = GroupId::generate();
        let pupil = Pupil {
            id: PersonId::generate(),
            groups: vec![g],
        };
        let mut cancelled = lesson(23, 0, 60, &[g]);
        cancelled.cancelled = true;
        let mut removed = lesson(23, 70, 60, &[g]);
        removed.cancelled = true;
        removed.removed = true;
        // Now is Monday 10:00 (120 minutes after 08:00). This one starts at
        // 10:20: not held yet, so its registered absence counts nothing.
        let now = at(23, 120);
        let later = lesson(23, 140, 45, &[g]);
        let earlier = lesson(23, 60, 30, &[g]);
        let regs = registered(vec![registration(
            &later,
            &[(pupil.id, AbsenceReason::Invalid, 45)],
        )]);
        let s = summary(&[cancelled, removed, later, earlier], &regs, &pupil, now);
        // Only the 09:00 lesson (30 minutes) has begun and is not cancelled;
        // it has no registration.
        assert_eq!(s.tally.lessons, 1);
        assert_eq!(s.tally.scheduled_minutes, 30);
        assert_eq!(s.tally.unreported_lessons, 1);
        assert_eq!(s.tally.absent_minutes, 0);
        assert_eq!(s.absence_percent, Some(0.0));
    }

    #[test]
    fn a_pupils_own_minutes_replace_the_lessons_and_clip_what_was_registered() {
        let g = GroupId::generate();
        let (late_starter, excused, other) = (
            PersonId::generate(),
            PersonId::generate(),
            PersonId::generate(),
        );
        let mut l = lesson(23, 0, 60, &[g]);
        let span = (l.start, l.end);
        l.pupil_exceptions = vec![
            // Starts 20 minutes in: 40 scheduled minutes.
            PupilException::new(late_starter, true, Some(at(23, 20)), None, span),
            // Not expected at all.
            PupilException::new(excused, false, None, None, span),
        ];
        // Registered before the exception was known: 60 minutes for the
        // late starter (clipped to their 40), an absence for the excused
        // pupil (ignored).
        let regs = registered(vec![registration(
            &l,
            &[
                (late_starter, AbsenceReason::Valid, 60),
                (excused, AbsenceReason::Invalid, 60),
            ],
        )]);
        let pupils = [late_starter, excused, other].map(|id| Pupil {
            id,
            groups: vec![g],
        });
        let days = days(&[l], &regs, &pupils, at(30, 0));
        let of = |p: PersonId| Summary::of_days(days[&p].values());
        let late = of(late_starter);
        assert_eq!(
            (late.tally.scheduled_minutes, late.tally.valid_minutes),
            (40, 40)
        );
        assert_eq!(late.tally.lessons_missed, 1);
        assert_eq!(late.absence_percent, Some(100.0));
        assert_eq!(of(excused), Summary::default(), "not expected: nothing");
        let o = of(other);
        assert_eq!((o.tally.scheduled_minutes, o.tally.absent_minutes), (60, 0));
    }

    #[test]
    fn a_lesson_is_missed_only_when_an_absence_reason_covers_all_of_it() {
        let g = GroupId::generate();
        let p = PersonId::generate();
        let pupil = Pupil {
            id: p,
            groups: vec![g],
        };
        let whole = lesson(23, 0, 45, &[g]);
        let part = lesson(23, 60, 45, &[g]);
        let away = lesson(23, 120, 45, &[g]);
        let regs = registered(vec![
            registration(&whole, &[(p, AbsenceReason::Invalid, 45)]),
            registration(&part, &[(p, AbsenceReason::Valid, 44)]),
            // Whole lesson at another activity: recorded, not missed.
            registration(&away, &[(p, AbsenceReason::OtherActivity, 45)]),
        ]);
        let s = summary(&[whole, part, away], &regs, &pupil, at(30, 0));
        assert_eq!(s.tally.lessons_missed, 1);
        // 45 + 44 = 89 of 135 minutes: 65.925...% -> 65.9.
        assert_eq!(s.tally.absent_minutes, 89);
        assert_eq!(s.absence_percent, Some(65.9));
    }

    #[test]
    fn a_day_absent_from_every_scheduled_minute_is_a_whole_day() {
        let g = GroupId::generate();
        let p = PersonId::generate();
        let pupil = Pupil {
            id: p,
            groups: vec![g],
        };
        // Monday: both lessons missed (valid). Tuesday: one of two.
        let mon = [lesson(23, 0, 60, &[g]), lesson(23, 70, 45, &[g])];
        let tue = [lesson(24, 0, 60, &[g]), lesson(24, 70, 45, &[g])];
        let regs = registered(vec![
            registration(&mon[0], &[(p, AbsenceReason::Valid, 60)]),
            registration(&mon[1], &[(p, AbsenceReason::Valid, 45)]),
            registration(&tue[0], &[(p, AbsenceReason::Valid, 60)]),
            registration(&tue[1], &[]),
        ]);
        let all: Vec<Lesson> = mon.into_iter().chain(tue).collect();
        let days = days(&all, &regs, std::slice::from_ref(&pupil), at(30, 0));
        let monday = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        assert_eq!(days[&p][&monday].absent_minutes, 105);
        let s = Summary::of_days(days[&p].values());
        assert_eq!(s.whole_days_absent, 1);
        // 165 of 210 minutes = 78.571...% -> 78.6.
        assert_eq!(s.absence_percent, Some(78.6));
        assert_eq!(s.tally.lessons_missed, 3);
    }

    #[test]
    fn a_groups_total_sums_its_pupils_and_takes_the_share_of_the_sums() {
        let a = Summary {
            tally: Tally {
                lessons: 2,
                scheduled_minutes: 100,
                absent_minutes: 50,
                invalid_minutes: 50,
                ..Tally::default()
            },
            whole_days_absent: 1,
            absence_percent: Some(50.0),
        };
        let b = Summary {
            tally: Tally {
                lessons: 3,
                scheduled_minutes: 300,
                absent_minutes: 0,
                ..Tally::default()
            },
            whole_days_absent: 0,
            absence_percent: Some(0.0),
        };
        let t = Summary::total([&a, &b]);
        // 50 of 400 minutes is 12.5%, not the mean of 50% and 0%.
        assert_eq!(t.absence_percent, Some(12.5));
        assert_eq!(t.tally.lessons, 5);
        assert_eq!(t.whole_days_absent, 1);
    }

    #[test]
    fn the_share_rounds_half_up_to_one_decimal_and_is_none_without_scheduled_time() {
        assert_eq!(percent(1, 8), Some(12.5));
        assert_eq!(percent(1, 3), Some(33.3));
        assert_eq!(percent(2, 3), Some(66.7));
        // 1/16 = 6.25% -> 6.3 (half up).
        assert_eq!(percent(1, 16), Some(6.3));
        assert_eq!(percent(0, 0), None);
        assert_eq!(percent(u32::MAX, u32::MAX), Some(100.0));
    }

    #[test]
    fn unreported_lessons_are_listed_for_each_teacher_expected_to_report_them() {
        let g = GroupId::generate();
        let (karin, sara, substitute) = (
            PersonId::generate(),
            PersonId::generate(),
            PersonId::generate(),
        );
        let mut reported = lesson(23, 0, 45, &[g]);
        reported.teacher_ids = vec![karin];
        let mut open = lesson(23, 60, 45, &[g]);
        open.teacher_ids = vec![karin, sara];
        // Sara is away; a substitute takes the lesson.
        let mut covered = lesson(23, 120, 45, &[g]);
        covered.teacher_ids = vec![sara];
        covered.teacher_exceptions = vec![
            TeacherException {
                teacher_id: sara,
                participates: false,
                start: None,
                end: None,
            },
            TeacherException {
                teacher_id: substitute,
                participates: true,
                start: None,
                end: None,
            },
        ];
        let mut cancelled = lesson(23, 180, 45, &[g]);
        cancelled.teacher_ids = vec![karin];
        cancelled.cancelled = true;
        let mut tomorrow = lesson(24, 0, 45, &[g]);
        tomorrow.teacher_ids = vec![karin];
        let done: HashSet<LessonId> = [reported.id].into();
        let lessons = [reported, open.clone(), covered.clone(), cancelled, tomorrow];
        let by = unreported_by_teacher(&lessons, &done, at(23, 600));
        let ids = |t: PersonId| -> Vec<LessonId> {
            by.get(&t)
                .map(|l| l.iter().map(|x| x.id).collect())
                .unwrap_or_default()
        };
        assert_eq!(ids(karin), [open.id]);
        assert_eq!(ids(sara), [open.id], "not the lesson she was away from");
        assert_eq!(ids(substitute), [covered.id]);
        assert_eq!(by.len(), 3);
    }
}
