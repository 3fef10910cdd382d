//! Authorization (F1): plain functions over the caller's relations and the
//! object's, decided before anything about the object is read out. A caller
//! who may not know that an object exists gets `NotFound`; one who may know
//! it (staff of the same school) but may not act gets `Forbidden`.
//!
//! tests/tests/it/policy_matrix.rs holds every use case x role x own/other.

use crate::absence::AbsenceReport;
use crate::audience::Family;
use crate::directory::{Group, PersonRecord, StaffRole};
use crate::ids::PersonId;
use crate::ids::{GroupId, OrganisationId, SchoolId};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow,
    Forbidden,
    NotFound,
}

const LEADERS: [StaffRole; 2] = [StaffRole::Principal, StaffRole::SchoolAdmin];

/// Staff who may see a pupil at all: leaders and staff of the pupil's
/// school (every member of staff there may know the pupil exists).
fn staff_sees(caller: &PersonRecord, pupil: &PersonRecord) -> bool {
    pupil
        .enrolled_school()
        .is_some_and(|s| caller.has_duty_at(s))
}

/// Staff who work with the pupil: leaders of the school, the pupil's
/// mentors and teachers.
fn staff_works_with(caller: &PersonRecord, pupil: &PersonRecord) -> bool {
    let school_leader = pupil
        .enrolled_school()
        .is_some_and(|s| caller.has_role_at(s, &LEADERS));
    let group_staff = pupil
        .groups()
        .any(|g| caller.mentor_groups().any(|m| m == g) || caller.taught_groups().any(|t| t == g));
    school_leader || group_staff
}

/// B1: only a guardian reports absence for their own child (pupils
/// cannot report for themselves).
pub fn report_absence(caller: &PersonRecord, pupil: &PersonRecord) -> Decision {
    if caller.is_guardian_of(pupil.id()) {
        Decision::Allow
    } else if caller.id() == pupil.id() || staff_sees(caller, pupil) {
        Decision::Forbidden
    } else {
        Decision::NotFound
    }
}

/// A pupil's absence reports: their guardians, the pupil, and staff who
/// work with the pupil.
pub fn read_pupil_absence(caller: &PersonRecord, pupil: &PersonRecord) -> Decision {
    if reads_pupil_absence_as_family(caller, pupil.id()) || staff_works_with(caller, pupil) {
        Decision::Allow
    } else if staff_sees(caller, pupil) {
        Decision::Forbidden
    } else {
        Decision::NotFound
    }
}

/// The part of [`read_pupil_absence`] that needs no pupil record: their
/// guardians and the pupil themselves.
pub fn reads_pupil_absence_as_family(caller: &PersonRecord, pupil: PersonId) -> bool {
    caller.is_guardian_of(pupil) || caller.id() == pupil
}

/// B2: the mentor of a group the pupil was in when reported, or a leader
/// of the school, approves.
pub fn approve_absence(caller: &PersonRecord, report: &AbsenceReport) -> Decision {
    let mentor = caller
        .mentor_groups()
        .any(|g| report.group_ids.contains(&g));
    if mentor || caller.has_role_at(report.school_id, &LEADERS) {
        Decision::Allow
    } else if caller.has_duty_at(report.school_id)
        || caller.is_guardian_of(report.pupil_id)
        || caller.id() == report.pupil_id
    {
        Decision::Forbidden
    } else {
        Decision::NotFound
    }
}

/// Which of a school's pending reports a caller may list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PendingScope {
    WholeSchool,
    MentorGroups(Vec<GroupId>),
}

/// B2: leaders see the whole school's pending reports, mentors those of
/// their mentor groups; other staff of the school are refused.
pub fn list_pending_absence(
    caller: &PersonRecord,
    school: SchoolId,
) -> Result<PendingScope, Decision> {
    if caller.has_role_at(school, &LEADERS) {
        return Ok(PendingScope::WholeSchool);
    }
    let groups: Vec<GroupId> = caller
        .relations
        .iter()
        .filter_map(|r| match r {
            crate::directory::Relation::MentorOf {
                group_id,
                school_id,
            } if *school_id == school => Some(*group_id),
            _ => None,
        })
        .collect();
    if !groups.is_empty() {
        Ok(PendingScope::MentorGroups(groups))
    } else if caller.has_duty_at(school) {
        Err(Decision::Forbidden)
    } else {
        Err(Decision::NotFound)
    }
}

/// B5: every member of staff of the school sees who is absent today.
pub fn read_school_absence_today(caller: &PersonRecord, school: SchoolId) -> Decision {
    if caller.has_duty_at(school) {
        Decision::Allow
    } else {
        Decision::NotFound
    }
}

/// A3: starting the import and reading its run records: the
/// organisation's administrators. Staff may know imports exist.
pub fn manage_imports(caller: &PersonRecord, organisation: OrganisationId) -> Decision {
    if caller.is_organisation_admin(organisation) {
        Decision::Allow
    } else if caller
        .relations
        .iter()
        .any(|r| matches!(r, crate::directory::Relation::Duty { .. }))
    {
        Decision::Forbidden
    } else {
        Decision::NotFound
    }
}

/// E1: staff who run a group's development talks: its mentors and
/// teachers, and the leaders (admin, principal) of its school.
pub fn is_talk_staff(caller: &PersonRecord, group: &Group) -> bool {
    caller.mentor_groups().any(|g| g == group.id)
        || caller.taught_groups().any(|g| g == group.id)
        || caller.has_role_at(group.school_id, &LEADERS)
}

/// Whether a caller who may not act may still know the group exists:
/// staff of its school, its pupils, guardians of its pupils.
fn knows_group(caller: &PersonRecord, group: &Group, children_in_group: &[PersonId]) -> bool {
    caller.has_duty_at(group.school_id)
        || caller.groups().any(|g| g == group.id)
        || !children_in_group.is_empty()
}

/// E1: creating and removing talk times and reading the booking list.
/// `children_in_group`: the caller's children who are pupils of the group.
pub fn manage_talks(
    caller: &PersonRecord,
    group: &Group,
    children_in_group: &[PersonId],
) -> Decision {
    if is_talk_staff(caller, group) {
        Decision::Allow
    } else if knows_group(caller, group, children_in_group) {
        Decision::Forbidden
    } else {
        Decision::NotFound
    }
}

/// What of a group's talk slots a caller sees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SlotView {
    /// Every slot with its booking.
    Staff,
    /// Open slots, and the slots booked for these children.
    Family(Vec<PersonId>),
}

/// E1: staff see every slot and booking; guardians of the group's pupils
/// see open slots and their own bookings; pupils do not book, so do not
/// see slots either.
pub fn read_talk_slots(
    caller: &PersonRecord,
    group: &Group,
    children_in_group: &[PersonId],
) -> Result<SlotView, Decision> {
    if is_talk_staff(caller, group) {
        Ok(SlotView::Staff)
    } else if !children_in_group.is_empty() {
        Ok(SlotView::Family(children_in_group.to_vec()))
    } else if knows_group(caller, group, children_in_group) {
        Err(Decision::Forbidden)
    } else {
        Err(Decision::NotFound)
    }
}

/// E1, for a caller with no duty anywhere (`audience::family_of_group`,
/// the group not read): as [`read_talk_slots`] decides for such a caller.
pub fn read_talk_slots_as_family(family: &Family) -> Result<SlotView, Decision> {
    if !family.children.is_empty() {
        Ok(SlotView::Family(family.children.clone()))
    } else if family.knows_group() {
        Err(Decision::Forbidden)
    } else {
        Err(Decision::NotFound)
    }
}

/// E1: only a guardian books, moves or cancels a talk for their own child;
/// pupils and staff cannot book for a guardian.
pub fn book_talk(caller: &PersonRecord, pupil: &PersonRecord) -> Decision {
    if caller.is_guardian_of(pupil.id()) {
        Decision::Allow
    } else if caller.id() == pupil.id() || staff_sees(caller, pupil) {
        Decision::Forbidden
    } else {
        Decision::NotFound
    }
}

/// Staff of a group: its mentors and teachers, and the leaders (admin,
/// principal) of its school.
pub fn is_group_staff(caller: &PersonRecord, group: &Group) -> bool {
    is_talk_staff(caller, group)
}

/// What of a feed a caller sees: a group's blog, calendar or news, a
/// school's calendar or news.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadView {
    /// Everything (staff of the group or school), staff-only items too.
    Staff,
    /// What is addressed to pupils (a pupil of the group or school)
    /// and/or to guardians (a guardian of one of its pupils).
    Reader { pupil: bool, guardian: bool },
}

impl ReadView {
    /// Whether an item addressed with this reach is for the viewer.
    pub fn sees(&self, reach: &crate::audience::Reach) -> bool {
        match self {
            ReadView::Staff => true,
            ReadView::Reader { pupil, guardian } => {
                (*pupil && reach.pupils) || (*guardian && reach.guardians)
            }
        }
    }
}

/// C1, C3: reading a school's calendar or news: its staff see everything,
/// its pupils and the guardians of its pupils what is addressed to them;
/// anyone else may not know it (`None`, a 404). `child_enrolled`: one of
/// the caller's children is enrolled at the school.
pub fn read_school(
    caller: &PersonRecord,
    school: SchoolId,
    child_enrolled: bool,
) -> Option<ReadView> {
    let pupil = caller.enrolled_school() == Some(school);
    if caller.has_duty_at(school) {
        Some(ReadView::Staff)
    } else if pupil || child_enrolled {
        Some(ReadView::Reader {
            pupil,
            guardian: child_enrolled,
        })
    } else {
        None
    }
}

/// C2: reading a group's blog: staff of the group, its pupils, guardians
/// of its pupils. Other staff of the school may know the group: 403.
pub fn read_blog(
    caller: &PersonRecord,
    group: &Group,
    children_in_group: &[PersonId],
) -> Result<ReadView, Decision> {
    let pupil = caller.groups().any(|g| g == group.id);
    let guardian = !children_in_group.is_empty();
    if is_group_staff(caller, group) {
        Ok(ReadView::Staff)
    } else if pupil || guardian {
        Ok(ReadView::Reader { pupil, guardian })
    } else if knows_group(caller, group, children_in_group) {
        Err(Decision::Forbidden)
    } else {
        Err(Decision::NotFound)
    }
}

/// C2: editing or deleting a post of a group's blog: staff of the school
/// pass here and the post then decides (its author only); pupils and
/// guardians of the group get 403, anyone else 404.
pub fn change_blog_post(
    caller: &PersonRecord,
    group: &Group,
    children_in_group: &[PersonId],
) -> Decision {
    if is_group_staff(caller, group) || caller.has_duty_at(group.school_id) {
        Decision::Allow
    } else if knows_group(caller, group, children_in_group) {
        Decision::Forbidden
    } else {
        Decision::NotFound
    }
}

/// What of a teacher's day a caller other than the teacher sees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TeacherDayScope {
    /// The teacher's own day: every lesson.
    Own,
    /// A leader's view: the lessons at these schools.
    Schools(Vec<SchoolId>),
}

impl TeacherDayScope {
    pub fn covers(&self, school: SchoolId) -> bool {
        match self {
            TeacherDayScope::Own => true,
            TeacherDayScope::Schools(s) => s.contains(&school),
        }
    }
}

/// A4: a teacher's day: the teacher themself (decided by the caller's id
/// before this), and the leaders (principal, school admin) of a school the
/// teacher has a duty at, for that school's lessons. Other staff of such a
/// school may know the teacher: 403; anyone else 404.
pub fn read_teacher_day(
    caller: &PersonRecord,
    teacher: Option<&PersonRecord>,
) -> Result<TeacherDayScope, Decision> {
    let Some(teacher) = teacher else {
        return Err(Decision::NotFound);
    };
    if caller.id() == teacher.id() {
        return Ok(TeacherDayScope::Own);
    }
    let schools: Vec<SchoolId> = teacher
        .relations
        .iter()
        .filter_map(|r| match r {
            crate::directory::Relation::Duty { school_id, .. } => Some(*school_id),
            _ => None,
        })
        .collect();
    let led: Vec<SchoolId> = schools
        .iter()
        .copied()
        .filter(|s| caller.has_role_at(*s, &LEADERS))
        .collect();
    if !led.is_empty() {
        Ok(TeacherDayScope::Schools(led))
    } else if schools.iter().any(|s| caller.has_duty_at(*s)) {
        Err(Decision::Forbidden)
    } else {
        Err(Decision::NotFound)
    }
}

/// A4: a group's day: staff of the group's school, the group's pupils and
/// the guardians of its pupils (`children_in_group`). Everyone who may know
/// the group may read its day, so anyone else gets 404.
pub fn read_group_day(
    caller: &PersonRecord,
    group: &Group,
    children_in_group: &[PersonId],
) -> Decision {
    if caller.has_duty_at(group.school_id)
        || caller.groups().any(|g| g == group.id)
        || !children_in_group.is_empty()
    {
        Decision::Allow
    } else {
        Decision::NotFound
    }
}

/// A4, for a caller with no duty anywhere (the group not read): as
/// [`read_group_day`] decides for such a caller.
pub fn read_group_day_as_family(family: &Family) -> Decision {
    if family.knows_group() {
        Decision::Allow
    } else {
        Decision::NotFound
    }
}

/// A group's feeds (blog, calendar, news) for a caller with no duty
/// anywhere: its pupils and their guardians read; anyone else may not know
/// the group.
pub fn read_group_feed_as_family(family: &Family) -> Result<ReadView, Decision> {
    if family.knows_group() {
        Ok(ReadView::Reader {
            pupil: family.pupil,
            guardian: !family.children.is_empty(),
        })
    } else {
        Err(Decision::NotFound)
    }
}

/// B3: registering attendance for a lesson: a teacher of the lesson (the
/// schedule's, a substitute's exception) or a teacher of one of its groups
/// (TeacherOf). A teacher registers only lessons of groups they teach;
/// other staff of the school (mentors of other groups, leaders) get 403,
/// anyone else 404.
pub fn register_attendance(caller: &PersonRecord, lesson: &crate::lessons::Lesson) -> Decision {
    let teaches_lesson = lesson.teachers_of_day().contains(&caller.id());
    let teaches_group = caller
        .taught_groups()
        .any(|g| lesson.group_ids.contains(&g));
    if teaches_lesson || teaches_group {
        Decision::Allow
    } else if caller.has_duty_at(lesson.school_id) {
        Decision::Forbidden
    } else {
        Decision::NotFound
    }
}

/// B3: opening a lesson's attendance: whoever may register it, and the
/// school's principal and administrators; other staff of the school 403,
/// anyone else 404.
pub fn read_attendance(caller: &PersonRecord, lesson: &crate::lessons::Lesson) -> Decision {
    match register_attendance(caller, lesson) {
        Decision::Allow => Decision::Allow,
        _ if caller.has_role_at(
            lesson.school_id,
            &[StaffRole::Principal, StaffRole::SchoolAdmin],
        ) =>
        {
            Decision::Allow
        }
        other => other,
    }
}

/// B4, B7: a group's absence, day by day or as a report: the group's
/// mentors and teachers and the leaders of its school (the staff who
/// follow up absence). Other staff of the school, the group's pupils and
/// the guardians of its pupils may know the group: 403. Anyone else 404.
/// A guardian never reads a group's report: it lists every pupil of the
/// group, those with protected identity too.
pub fn read_group_absence(
    caller: &PersonRecord,
    group: &Group,
    children_in_group: &[PersonId],
) -> Decision {
    if is_group_staff(caller, group) {
        Decision::Allow
    } else if knows_group(caller, group, children_in_group) {
        Decision::Forbidden
    } else {
        Decision::NotFound
    }
}

/// B7: one pupil's absence report: as their absence reports
/// ([`read_pupil_absence`]): their guardians, the pupil, the mentors and
/// teachers of the pupil's groups and the leaders of the pupil's school;
/// other staff of the school 403, anyone else 404.
pub fn read_pupil_absence_report(caller: &PersonRecord, pupil: &PersonRecord) -> Decision {
    read_pupil_absence(caller, pupil)
}

/// B7: a school's unreported lessons per teacher: its principal and
/// school administrators. Other staff of the school 403, anyone else 404.
pub fn read_school_unreported(caller: &PersonRecord, school: SchoolId) -> Decision {
    if caller.has_role_at(school, &LEADERS) {
        Decision::Allow
    } else if caller.has_duty_at(school) {
        Decision::Forbidden
    } else {
        Decision::NotFound
    }
}

/// The part of [`lead_school`] the caller's own record decides: a
/// principal's or school administrator's duty names the school, so the
/// school need not be read to allow them (an organisation's administrators
/// are decided on the school's organisation, which only the school says).
pub fn leads_school_by_duty(caller: &PersonRecord, school: SchoolId) -> bool {
    caller.has_role_at(school, &LEADERS)
}

/// A school's own settings and its SMS credit (B6): its principal and
/// administrators, and the organisation's administrators; other staff of
/// the school 403, anyone else 404.
pub fn lead_school(caller: &PersonRecord, school: &crate::directory::School) -> Decision {
    if leads_school_by_duty(caller, school.id)
        || caller.is_organisation_admin(school.organisation_id)
    {
        Decision::Allow
    } else if caller.has_duty_at(school.id) {
        Decision::Forbidden
    } else {
        Decision::NotFound
    }
}

/// Topping up a school's SMS credit (B6): the organisation's
/// administrators, who buy the texts; staff of the school 403, anyone
/// else 404.
pub fn top_up_sms_credit(caller: &PersonRecord, school: &crate::directory::School) -> Decision {
    if caller.is_organisation_admin(school.organisation_id) {
        Decision::Allow
    } else if caller.has_duty_at(school.id) {
        Decision::Forbidden
    } else {
        Decision::NotFound
    }
}
