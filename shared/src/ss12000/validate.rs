//! From one raw SS 12000 row to a validated [`records`](super::records)
//! row, or a [`Rejection`] naming the field (as a JSON path such as
//! `enrolments[0].enroledAt.id`) and the reason. A rejection never carries
//! a name or a civic number: its id is the row's UUID and an enumeration's
//! value is the enumeration string.
//!
//! Decisions where the standard leaves room:
//! - Required: ids, names, `civicNo.value`, enumerations, the references a
//!   row hangs on. A blank string counts as missing. A field of the wrong
//!   JSON type (also an optional one, or an unreadable date) rejects the row
//!   as `MissingField` at its path.
//! - A person is checked for `securityMarking` before anything else. A
//!   protected person is reduced to id and school units; an unknown marking
//!   is rejected (reading nothing but the id), not guessed at.
//! - Responsibles, group members and placement owners whose reference
//!   carries a marking other than `Ingen` are left out: a protected person
//!   is only registered by hand.
//! - Enumerations must match the standard's spelling exactly.

use super::records::{
    ActivityKind, ActivityRow, Assignment, AssignmentKind, CalendarEventRow, CivicNo, CivicNoKind,
    Deleted, DutyRole, DutyRow, Enrolment, GroupKind, GroupRow, Membership, ObjectType,
    OrganisationKind, OrganisationRow, PersonDetails, PersonRow, PersonStatus, PlacementRow,
    PupilException, Reason, Rejection, Responsible, ResponsibleKind, TeacherException,
};
use super::wire;
use chrono::{DateTime, FixedOffset, Utc};
use personnummer::Personnummer;
use serde::Deserialize;
use serde_json::Value;
use uuid::Uuid;

/// Where the rejection of an unknown enumeration value cuts it.
const MAX_ENUM_VALUE_CHARS: usize = 64;

pub fn organisation(row: &Value) -> Result<OrganisationRow, Rejection> {
    let at = Row::new(ObjectType::Organisation, row);
    let o: wire::Organisation = at.parse(row)?;
    Ok(OrganisationRow {
        id: at.id()?,
        name: at.text(o.display_name, "displayName")?,
        kind: at.enumeration(o.organisation_type, "organisationType", organisation_kind)?,
        parent: at.optional_reference(o.parent_organisation.as_ref(), "parentOrganisation")?,
        school_unit_code: o.school_unit_code,
        end_date: o.end_date,
    })
}

pub fn person(row: &Value) -> Result<PersonRow, Rejection> {
    let at = Row::new(ObjectType::Person, row);
    if is_protected(&at, row.get("securityMarking"))? {
        let id = at.id()?;
        let school_units = school_units(row);
        return Ok(PersonRow::Protected { id, school_units });
    }
    let p: wire::Person = at.parse(row)?;
    let id = at.id()?;
    let given_name = at.text(p.given_name, "givenName")?;
    let family_name = at.text(p.family_name, "familyName")?;
    let civic = p.civic_no.ok_or_else(|| at.missing("civicNo"))?;
    let civic_no = civic_no(&at.text(civic.value, "civicNo.value")?).map_err(|r| at.reject(r))?;
    let status = match p.person_status {
        None => PersonStatus::Active,
        status => at.enumeration(status, "personStatus", person_status)?,
    };
    let email = p.emails.into_iter().find_map(|e| non_blank(e.value));
    let mobile = mobile(p.phone_numbers);
    let enrolments = p
        .enrolments
        .into_iter()
        .enumerate()
        .map(|(i, e)| enrolment(&at, i, e))
        .collect::<Result<_, _>>()?;
    let responsibles = responsibles(&at, p.responsibles)?;
    Ok(PersonRow::Person(Box::new(PersonDetails {
        id,
        given_name,
        family_name,
        civic_no,
        status,
        email,
        mobile,
        enrolments,
        responsibles,
    })))
}

pub fn group(row: &Value) -> Result<GroupRow, Rejection> {
    let at = Row::new(ObjectType::Group, row);
    let g: wire::Group = at.parse(row)?;
    Ok(GroupRow {
        id: at.id()?,
        name: at.text(g.display_name, "displayName")?,
        kind: at.enumeration(g.group_type, "groupType", group_kind)?,
        school_type: g.school_type,
        organisation: at.reference(g.organisation.as_ref(), "organisation")?,
        start_date: g.start_date,
        end_date: g.end_date,
        members: memberships(&at, g.group_memberships)?,
    })
}

pub fn duty(row: &Value) -> Result<DutyRow, Rejection> {
    let at = Row::new(ObjectType::Duty, row);
    let d: wire::Duty = at.parse(row)?;
    Ok(DutyRow {
        id: at.id()?,
        person: at.reference(d.person.as_ref(), "person")?,
        duty_at: at.reference(d.duty_at.as_ref(), "dutyAt")?,
        role: at.enumeration(d.duty_role, "dutyRole", duty_role)?,
        assignments: d
            .assignment_role
            .into_iter()
            .enumerate()
            .map(|(i, a)| assignment(&at, i, a))
            .collect::<Result<_, _>>()?,
        start_date: d.start_date,
        end_date: d.end_date,
    })
}

pub fn placement(row: &Value) -> Result<PlacementRow, Rejection> {
    let at = Row::new(ObjectType::Placement, row);
    let p: wire::Placement = at.parse(row)?;
    Ok(PlacementRow {
        id: at.id()?,
        child: at.reference(p.child.as_ref(), "child")?,
        placed_at: at.reference(p.placed_at.as_ref(), "placedAt")?,
        group: at.optional_reference(p.group.as_ref(), "group")?,
        school_type: at.text(p.school_type, "schoolType")?,
        owners: p
            .owners
            .iter()
            .enumerate()
            .filter(|(_, owner)| !is_marked(owner))
            .map(|(i, owner)| at.reference(Some(owner), &format!("owners[{i}]")))
            .collect::<Result<_, _>>()?,
        start_date: p.start_date,
        end_date: p.end_date,
    })
}

/// An activity: its name, groups, teachers (by duty) and subject. A group
/// or duty reference without a readable id rejects the row; an unknown
/// `activityType` too.
pub fn activity(row: &Value) -> Result<ActivityRow, Rejection> {
    let at = Row::new(ObjectType::Activity, row);
    let a: wire::Activity = at.parse(row)?;
    let kind = match a.activity_type {
        None => None,
        kind => Some(at.enumeration(kind, "activityType", activity_kind)?),
    };
    let mut groups = Vec::with_capacity(a.groups.len());
    for (i, g) in a.groups.iter().enumerate() {
        let id = at.reference(Some(g), &format!("groups[{i}]"))?;
        if !groups.contains(&id) {
            groups.push(id);
        }
    }
    let mut teachers = Vec::with_capacity(a.teachers.len());
    for (i, t) in a.teachers.iter().enumerate() {
        let id = at.reference(t.duty.as_ref(), &format!("teachers[{i}].duty"))?;
        if !teachers.contains(&id) {
            teachers.push(id);
        }
    }
    if let (Some(start), Some(end)) = (a.start_date, a.end_date)
        && end < start
    {
        return Err(at.reject(Reason::EndNotAfterStart {
            field: "endDate".into(),
        }));
    }
    Ok(ActivityRow {
        id: at.id()?,
        name: at.text(a.display_name, "displayName")?,
        kind,
        groups,
        teachers,
        subject: a.syllabus.and_then(|s| non_blank(s.display_name)),
        organisation: at.optional_reference(a.organisation.as_ref(), "organisation")?,
        start_date: a.start_date,
        end_date: a.end_date,
    })
}

/// A calendar event (one lesson): its activity, times, whether it is
/// cancelled, rooms and exceptions. The end must come after the start, for
/// the lesson and for each exception's own times. Exceptions of persons
/// whose reference carries a security marking are left out silently.
pub fn calendar_event(row: &Value) -> Result<CalendarEventRow, Rejection> {
    let at = Row::new(ObjectType::CalendarEvent, row);
    let e: wire::CalendarEvent = at.parse(row)?;
    let id = at.id()?;
    let activity = at.reference(e.activity.as_ref(), "activity")?;
    let start = e.start_time.ok_or_else(|| at.missing("startTime"))?;
    let end = e.end_time.ok_or_else(|| at.missing("endTime"))?;
    let (start, end) = at.period(Some(start), Some(end), "endTime")?;
    let (Some(start), Some(end)) = (start, end) else {
        return Err(at.missing("startTime"));
    };
    let rooms = e
        .rooms
        .into_iter()
        .filter_map(|r| non_blank(r.display_name).map(|n| n.trim().to_owned()))
        .collect();
    let mut pupil_exceptions = Vec::new();
    for (i, x) in e.student_exceptions.into_iter().enumerate() {
        if x.student.as_ref().is_some_and(is_marked) {
            continue;
        }
        let field = |name: &str| format!("studentExceptions[{i}].{name}");
        let pupil = at.reference(x.student.as_ref(), &field("student"))?;
        let (start, end) = at.period(x.start_time, x.end_time, &field("endTime"))?;
        pupil_exceptions.push(PupilException {
            pupil,
            participates: x.participates.unwrap_or(false),
            start,
            end,
        });
    }
    let mut teacher_exceptions = Vec::new();
    for (i, x) in e.teacher_exceptions.into_iter().enumerate() {
        let field = |name: &str| format!("teacherExceptions[{i}].{name}");
        let duty = at.reference(x.duty.as_ref(), &field("duty"))?;
        let (start, end) = at.period(x.start_time, x.end_time, &field("endTime"))?;
        teacher_exceptions.push(TeacherException {
            duty,
            participates: x.participates.unwrap_or(false),
            start,
            end,
        });
    }
    Ok(CalendarEventRow {
        id,
        activity,
        start,
        end,
        cancelled: e.cancelled.unwrap_or(false),
        rooms,
        pupil_exceptions,
        teacher_exceptions,
    })
}

/// `GET /deletedEntities`: the ids per type we import. An id that is not a
/// UUID is skipped: it cannot name anything the import holds.
pub fn deleted(body: &Value) -> Result<Deleted, String> {
    let wire: wire::DeletedEntities = serde_path_to_error::deserialize(body).map_err(|e| {
        let path = e.path().to_string();
        let path = if path == "." { "data".to_owned() } else { path };
        format!("deletedEntities: {path} is missing or not a list of ids")
    })?;
    let d = wire.data;
    Ok(Deleted {
        organisations: uuids(&d.organisations),
        persons: uuids(&d.persons),
        groups: uuids(&d.groups),
        duties: uuids(&d.duties),
        placements: uuids(&d.placements),
        activities: uuids(&d.activitites),
        calendar_events: uuids(&d.calendar_events),
    })
}

fn uuids(ids: &[String]) -> Vec<Uuid> {
    ids.iter()
        .filter_map(|id| Uuid::try_parse(id).ok())
        .collect()
}

/// A start and an end, either of which may be open.
type Period = (Option<DateTime<Utc>>, Option<DateTime<Utc>>);

/// The row under validation: its type and (once readable) its id, which
/// every rejection carries.
struct Row {
    object_type: ObjectType,
    id: Option<Uuid>,
}

impl Row {
    fn new(object_type: ObjectType, row: &Value) -> Self {
        let id = row
            .get("id")
            .and_then(Value::as_str)
            .and_then(|id| Uuid::try_parse(id).ok());
        Row { object_type, id }
    }

    fn reject(&self, reason: Reason) -> Rejection {
        Rejection {
            object_type: self.object_type,
            id: self.id.map(|id| id.to_string()),
            reason,
        }
    }

    fn missing(&self, field: &str) -> Rejection {
        self.reject(Reason::MissingField {
            field: field.to_owned(),
        })
    }

    fn unknown(&self, field: &str, value: &str) -> Rejection {
        self.reject(Reason::UnknownEnumValue {
            field: field.to_owned(),
            value: value.chars().take(MAX_ENUM_VALUE_CHARS).collect(),
        })
    }

    /// The row as its wire type; a field of the wrong JSON type is named by
    /// its path (serde's own message is not used: it may quote the value).
    fn parse<'a, T: Deserialize<'a>>(&self, row: &'a Value) -> Result<T, Rejection> {
        if !row.is_object() {
            return Err(self.missing("id"));
        }
        serde_path_to_error::deserialize(row).map_err(|e| self.missing(&e.path().to_string()))
    }

    fn id(&self) -> Result<Uuid, Rejection> {
        self.id.ok_or_else(|| self.missing("id"))
    }

    fn text(&self, value: Option<String>, field: &str) -> Result<String, Rejection> {
        non_blank(value).ok_or_else(|| self.missing(field))
    }

    fn reference(
        &self,
        reference: Option<&wire::Reference>,
        field: &str,
    ) -> Result<Uuid, Rejection> {
        let reference = reference.ok_or_else(|| self.missing(field))?;
        reference
            .id
            .as_deref()
            .and_then(|id| Uuid::try_parse(id).ok())
            .ok_or_else(|| self.missing(&format!("{field}.id")))
    }

    fn optional_reference(
        &self,
        reference: Option<&wire::Reference>,
        field: &str,
    ) -> Result<Option<Uuid>, Rejection> {
        reference
            .map(|r| self.reference(Some(r), field))
            .transpose()
    }

    /// Times as UTC, the end after the start when both are given
    /// (`end_field` names the end).
    fn period(
        &self,
        start: Option<DateTime<FixedOffset>>,
        end: Option<DateTime<FixedOffset>>,
        end_field: &str,
    ) -> Result<Period, Rejection> {
        let start = start.map(|t| t.with_timezone(&Utc));
        let end = end.map(|t| t.with_timezone(&Utc));
        if let (Some(s), Some(e)) = (start, end)
            && e <= s
        {
            return Err(self.reject(Reason::EndNotAfterStart {
                field: end_field.to_owned(),
            }));
        }
        Ok((start, end))
    }

    fn enumeration<T>(
        &self,
        value: Option<String>,
        field: &str,
        known: fn(&str) -> Option<T>,
    ) -> Result<T, Rejection> {
        let value = value.ok_or_else(|| self.missing(field))?;
        known(&value).ok_or_else(|| self.unknown(field, &value))
    }
}

fn non_blank(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.trim().is_empty())
}

/// `Ingen` or no marking: not protected. The standard's two other values:
/// protected. Anything else is rejected rather than guessed at; either way
/// nothing but the id has been read.
fn is_protected(at: &Row, marking: Option<&Value>) -> Result<bool, Rejection> {
    match marking {
        None | Some(Value::Null) => Ok(false),
        Some(Value::String(marking)) => match marking.as_str() {
            "Ingen" => Ok(false),
            "Sekretessmarkering" | "Skyddad folkbokföring" => Ok(true),
            other => Err(at.unknown("securityMarking", other)),
        },
        Some(_) => Err(at.missing("securityMarking")),
    }
}

/// A person reference that says its person is protected.
fn is_marked(reference: &wire::Reference) -> bool {
    reference
        .security_marking
        .as_deref()
        .is_some_and(|m| m != "Ingen")
}

/// A protected person's school units, read straight from the raw row:
/// `enrolments[].enroledAt.id`, unreadable ones skipped, each once.
fn school_units(row: &Value) -> Vec<Uuid> {
    let enrolments = row.get("enrolments").and_then(Value::as_array);
    let mut units = Vec::new();
    for enrolment in enrolments.into_iter().flatten() {
        let id = enrolment.pointer("/enroledAt/id").and_then(Value::as_str);
        if let Some(id) = id.and_then(|id| Uuid::try_parse(id).ok())
            && !units.contains(&id)
        {
            units.push(id);
        }
    }
    units
}

/// `civicNo.value`: twelve digits, a real birth date (day + 60 for a
/// samordningsnummer) and a right check digit. Letters make a temporary
/// number (`20130101TF01`), registered by hand; a ten-digit form is
/// refused (its century is a guess).
fn civic_no(value: &str) -> Result<CivicNo, Reason> {
    let field = || "civicNo.value".to_owned();
    if value.chars().any(char::is_alphabetic) {
        return Err(Reason::TemporaryNumber { field: field() });
    }
    let invalid = || Reason::InvalidPersonnummer { field: field() };
    // ASCII only: the crate's pattern takes any Unicode digit.
    if value.len() != 12 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid());
    }
    let parsed = Personnummer::parse(value).map_err(|_| invalid())?;
    if parsed.serial() == 0 || !check_digit_ok(value) {
        return Err(invalid());
    }
    let kind = if parsed.is_coordination_number() {
        CivicNoKind::Samordningsnummer
    } else {
        CivicNoKind::Personnummer
    };
    Ok(CivicNo {
        value: value.to_owned(),
        kind,
    })
}

/// The Luhn check over the last ten digits as written. Ours rather than
/// `Personnummer::valid()`: personnummer 3.1 computes the check digit from
/// the birth day without the +60 of a samordningsnummer, so it refuses real
/// ones (Skatteverket's 701063-2391) and accepts wrong ones. For an
/// ordinary personnummer both agree. `twelve` is twelve ASCII digits.
fn check_digit_ok(twelve: &str) -> bool {
    let mut digits = twelve
        .bytes()
        .skip(2)
        .map(|b| u32::from(b.saturating_sub(b'0')));
    let sum: u32 = digits
        .by_ref()
        .take(9)
        .enumerate()
        .map(|(i, d)| {
            let p = if i % 2 == 0 { d * 2 } else { d };
            p / 10 + p % 10
        })
        .sum();
    digits.next() == Some((10 - sum % 10) % 10)
}

/// The first number marked `mobile`, else the first typed `Mobil`.
fn mobile(numbers: Vec<wire::PhoneNumber>) -> Option<String> {
    let flagged = numbers
        .iter()
        .find(|n| n.mobile == Some(true) && has_value(n));
    flagged
        .or_else(|| {
            numbers
                .iter()
                .find(|n| n.kind.as_deref() == Some("Mobil") && has_value(n))
        })
        .and_then(|n| n.value.clone())
}

fn has_value(number: &wire::PhoneNumber) -> bool {
    number
        .value
        .as_deref()
        .is_some_and(|v| !v.trim().is_empty())
}

fn enrolment(at: &Row, i: usize, e: wire::Enrolment) -> Result<Enrolment, Rejection> {
    let field = |name: &str| format!("enrolments[{i}].{name}");
    Ok(Enrolment {
        school_unit: at.reference(e.enroled_at.as_ref(), &field("enroledAt"))?,
        school_type: at.text(e.school_type, &field("schoolType"))?,
        school_year: e.school_year,
        start_date: e.start_date,
        end_date: e.end_date,
        cancelled: e.cancelled.unwrap_or(false),
    })
}

fn responsibles(at: &Row, list: Vec<wire::Responsible>) -> Result<Vec<Responsible>, Rejection> {
    let mut out = Vec::with_capacity(list.len());
    for (i, r) in list.into_iter().enumerate() {
        if r.person.as_ref().is_some_and(is_marked) {
            continue;
        }
        let field = |name: &str| format!("responsibles[{i}].{name}");
        out.push(Responsible {
            person: at.reference(r.person.as_ref(), &field("person"))?,
            kind: at.enumeration(r.relation_type, &field("relationType"), responsible_kind)?,
        });
    }
    Ok(out)
}

fn memberships(at: &Row, list: Vec<wire::GroupMembership>) -> Result<Vec<Membership>, Rejection> {
    let mut out = Vec::with_capacity(list.len());
    for (i, m) in list.into_iter().enumerate() {
        if m.person.as_ref().is_some_and(is_marked) {
            continue;
        }
        out.push(Membership {
            person: at.reference(m.person.as_ref(), &format!("groupMemberships[{i}].person"))?,
            start_date: m.start_date,
            end_date: m.end_date,
        });
    }
    Ok(out)
}

fn assignment(at: &Row, i: usize, a: wire::AssignmentRole) -> Result<Assignment, Rejection> {
    let field = |name: &str| format!("assignmentRole[{i}].{name}");
    Ok(Assignment {
        group: at.reference(a.group.as_ref(), &field("group"))?,
        kind: at.enumeration(
            a.assignment_role_type,
            &field("assignmentRoleType"),
            assignment_kind,
        )?,
        start_date: a.start_date,
        end_date: a.end_date,
    })
}

/// `ActivityTypesEnum`.
fn activity_kind(value: &str) -> Option<ActivityKind> {
    match value {
        "Undervisning" => Some(ActivityKind::Teaching),
        "Elevaktivitet" => Some(ActivityKind::PupilActivity),
        "Provaktivitet" => Some(ActivityKind::Test),
        "Studiehandledning" => Some(ActivityKind::StudyGuidance),
        "Läxhjälp" => Some(ActivityKind::HomeworkHelp),
        "Övrigt" => Some(ActivityKind::Other),
        _ => None,
    }
}

/// `OrganisationTypeEnum`.
fn organisation_kind(value: &str) -> Option<OrganisationKind> {
    match value {
        "Huvudman" => Some(OrganisationKind::Owner),
        "Skolenhet" => Some(OrganisationKind::SchoolUnit),
        "Verksamhetsområde" | "Förvaltning" | "Rektorsområde" | "Skola" | "Varumärke" | "Bolag"
        | "Övrigt" => Some(OrganisationKind::Other),
        _ => None,
    }
}

fn person_status(value: &str) -> Option<PersonStatus> {
    match value {
        "Aktiv" => Some(PersonStatus::Active),
        "Utvandrad" => Some(PersonStatus::Emigrated),
        "Avliden" => Some(PersonStatus::Deceased),
        _ => None,
    }
}

/// `RelationTypesEnum`.
fn responsible_kind(value: &str) -> Option<ResponsibleKind> {
    match value {
        "Vårdnadshavare" => Some(ResponsibleKind::Guardian),
        "Annan ansvarig" => Some(ResponsibleKind::OtherResponsible),
        "God man" => Some(ResponsibleKind::TrustedRepresentative),
        "Utsedd behörig" => Some(ResponsibleKind::AppointedAuthorised),
        _ => None,
    }
}

/// `GroupTypesEnum`.
fn group_kind(value: &str) -> Option<GroupKind> {
    match value {
        "Klass" => Some(GroupKind::Class),
        "Undervisning" => Some(GroupKind::Teaching),
        "Mentor" => Some(GroupKind::Mentor),
        "Avdelning" => Some(GroupKind::Department),
        "Schema" | "Personalgrupp" | "Provgrupp" | "Övrigt" => Some(GroupKind::Other),
        _ => None,
    }
}

/// `DutyRole`: the standard's values, plus the finer titles some registries
/// send (`Lärare i fritidshem`, `Speciallärare`, `Elevassistent`).
fn duty_role(value: &str) -> Option<DutyRole> {
    match value {
        "Rektor" => Some(DutyRole::Principal),
        "Skoladministratör" => Some(DutyRole::SchoolAdmin),
        "Lärare" | "Förskollärare" | "Lärare i fritidshem" | "Förstelärare" => {
            Some(DutyRole::Teacher)
        }
        "Fritidspedagog" | "Barnskötare" => Some(DutyRole::FritidsStaff),
        "Bibliotekarie"
        | "Lärarassistent"
        | "Elevassistent"
        | "Annan personal"
        | "Studie- och yrkesvägledare"
        | "Kurator"
        | "Skolsköterska"
        | "Skolläkare"
        | "Skolpsykolog"
        | "Speciallärare/specialpedagog"
        | "Speciallärare"
        | "Specialpedagog"
        | "Övrig arbetsledning"
        | "Övrig pedagogisk personal"
        | "Förskolechef" => Some(DutyRole::Other),
        _ => None,
    }
}

/// `assignmentRole[].assignmentRoleType`. Not checked against the
/// standard's YAML here: the teaching titles count as teaching, the other
/// staff titles of `DutyRole` as other, anything else is unknown.
fn assignment_kind(value: &str) -> Option<AssignmentKind> {
    match value {
        "Mentor" => Some(AssignmentKind::Mentor),
        "Undervisande"
        | "Undervisande lärare"
        | "Lärare"
        | "Förskollärare"
        | "Lärare i fritidshem"
        | "Förstelärare"
        | "Speciallärare" => Some(AssignmentKind::Teaching),
        "Fritidspedagog"
        | "Barnskötare"
        | "Specialpedagog"
        | "Speciallärare/specialpedagog"
        | "Lärarassistent"
        | "Elevassistent"
        | "Annan personal"
        | "Övrig pedagogisk personal" => Some(AssignmentKind::Other),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const PUPIL: &str = "0b9c7c9e-1f4a-4c1e-9d59-6a3c1f0e2a11";
    const GUARDIAN: &str = "5d2a0f3e-8c1b-4e7a-a0c4-2f6b9e1d3c22";
    const SCHOOL: &str = "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c33";
    const GROUP: &str = "3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e44";
    /// Valid personnummer (check digit right).
    const PNR: &str = "196408233234";
    /// Skatteverket's example samordningsnummer (born 3 Oct 1970, day + 60).
    const SNR: &str = "197010632391";

    fn pupil() -> Value {
        json!({
            "id": PUPIL,
            "givenName": "Saga",
            "familyName": "Lindqvist",
            "civicNo": {"value": PNR, "nationality": "SE"},
            "securityMarking": "Ingen",
            "emails": [{"value": "saga@example.se", "type": "Skola elev"}],
            "phoneNumbers": [
                {"value": "08-123 45", "type": "Hem", "mobile": false},
                {"value": "070-123 45 67", "type": "Hem", "mobile": true}
            ],
            "enrolments": [{
                "enroledAt": {"id": SCHOOL, "displayName": "Björkskolan"},
                "schoolType": "GR",
                "schoolYear": 3,
                "startDate": "2024-08-19",
                "cancelled": false
            }],
            "responsibles": [{
                "person": {"id": GUARDIAN, "displayName": "Anna Lindqvist"},
                "relationType": "Vårdnadshavare"
            }],
            "meta": {"created": "2024-08-01T00:00:00Z", "modified": "2024-08-02T00:00:00Z"}
        })
    }

    fn with(mut row: Value, pointer: &str, value: Value) -> Value {
        if let Some(slot) = row.pointer_mut(pointer) {
            *slot = value;
        }
        row
    }

    fn without(mut row: Value, key: &str) -> Value {
        if let Some(object) = row.as_object_mut() {
            object.remove(key);
        }
        row
    }

    fn details(row: &Value) -> PersonDetails {
        match person(row) {
            Ok(PersonRow::Person(details)) => *details,
            other => panic!("expected a person, got {other:?}"),
        }
    }

    fn reason(rejection: Result<impl std::fmt::Debug, Rejection>) -> Reason {
        let rejection = rejection.expect_err("expected a rejection");
        let logged = serde_json::to_string(&rejection).unwrap_or_default();
        for secret in [PNR, SNR, "Saga", "Lindqvist", "TF01"] {
            assert!(!logged.contains(secret), "{logged} names the person");
        }
        rejection.reason
    }

    fn missing(field: &str) -> Reason {
        Reason::MissingField {
            field: field.to_owned(),
        }
    }

    fn uuid(s: &str) -> Uuid {
        Uuid::try_parse(s).unwrap_or_default()
    }

    #[test]
    fn a_valid_pupil_is_read_with_contacts_enrolments_and_guardians() {
        let p = details(&pupil());
        assert_eq!(p.id, uuid(PUPIL));
        assert_eq!(
            (p.given_name.as_str(), p.family_name.as_str()),
            ("Saga", "Lindqvist")
        );
        assert_eq!(p.civic_no.value, PNR);
        assert_eq!(p.civic_no.kind, CivicNoKind::Personnummer);
        assert_eq!(p.status, PersonStatus::Active);
        assert_eq!(p.email.as_deref(), Some("saga@example.se"));
        assert_eq!(p.mobile.as_deref(), Some("070-123 45 67"));
        assert_eq!(p.enrolments.len(), 1);
        assert_eq!(p.enrolments[0].school_unit, uuid(SCHOOL));
        assert_eq!(p.enrolments[0].school_year, Some(3));
        assert!(!p.enrolments[0].cancelled);
        assert_eq!(
            p.responsibles,
            vec![Responsible {
                person: uuid(GUARDIAN),
                kind: ResponsibleKind::Guardian
            }]
        );
    }

    #[test]
    fn a_person_status_maps_and_a_missing_one_means_active() {
        let unset = without(pupil(), "personStatus");
        assert_eq!(details(&unset).status, PersonStatus::Active);
        let row = |s: &str| {
            let mut row = pupil();
            row["personStatus"] = json!(s);
            row
        };
        assert_eq!(details(&row("Utvandrad")).status, PersonStatus::Emigrated);
        assert_eq!(details(&row("Avliden")).status, PersonStatus::Deceased);
        assert_eq!(
            reason(person(&row("Okänd"))),
            Reason::UnknownEnumValue {
                field: "personStatus".into(),
                value: "Okänd".into()
            }
        );
    }

    #[test]
    fn the_mobile_is_the_number_flagged_mobile_else_the_one_typed_mobil() {
        let row = with(
            pupil(),
            "/phoneNumbers",
            json!([{"value": "08-1", "type": "Hem"}, {"value": "073-1", "type": "Mobil"}]),
        );
        assert_eq!(details(&row).mobile.as_deref(), Some("073-1"));
        let none = with(pupil(), "/phoneNumbers", json!(null));
        assert_eq!(details(&none).mobile, None);
    }

    #[test]
    fn a_samordningsnummer_is_accepted_as_one() {
        let p = details(&with(pupil(), "/civicNo/value", json!(SNR)));
        assert_eq!(p.civic_no.kind, CivicNoKind::Samordningsnummer);
        assert_eq!(p.civic_no.value, SNR);
    }

    #[test]
    fn the_personnummer_crate_alone_gets_samordningsnummer_check_digits_wrong() {
        // Why check_digit_ok exists: if this starts failing, the crate was
        // fixed and our own Luhn check can go.
        let real = Personnummer::parse(SNR).map(|p| p.valid());
        assert!(matches!(real, Ok(false)));
        assert!(check_digit_ok(SNR));
    }

    #[test]
    fn a_wrong_check_digit_is_rejected_without_quoting_the_number() {
        for bad in ["196408233235", "197010632392"] {
            let row = with(pupil(), "/civicNo/value", json!(bad));
            assert_eq!(
                reason(person(&row)),
                Reason::InvalidPersonnummer {
                    field: "civicNo.value".into()
                }
            );
        }
    }

    #[test]
    fn a_ten_digit_or_separated_or_impossible_date_number_is_rejected() {
        // 10 digits, a separator, 30 February, a day 32-60.
        for bad in [
            "6408233234",
            "19640823-3234",
            "196402303234",
            "196408453234",
        ] {
            let row = with(pupil(), "/civicNo/value", json!(bad));
            assert!(
                matches!(reason(person(&row)), Reason::InvalidPersonnummer { .. }),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_temporary_number_with_letters_is_rejected_as_such() {
        let row = with(pupil(), "/civicNo/value", json!("20130101TF01"));
        assert_eq!(
            reason(person(&row)),
            Reason::TemporaryNumber {
                field: "civicNo.value".into()
            }
        );
    }

    #[test]
    fn a_person_without_a_civic_number_is_rejected_naming_the_field() {
        assert_eq!(
            reason(person(&without(pupil(), "civicNo"))),
            missing("civicNo")
        );
        let no_value = with(pupil(), "/civicNo", json!({"nationality": "SE"}));
        assert_eq!(reason(person(&no_value)), missing("civicNo.value"));
        let blank = with(pupil(), "/civicNo/value", json!(" "));
        assert_eq!(reason(person(&blank)), missing("civicNo.value"));
    }

    #[test]
    fn a_missing_name_or_bad_id_is_rejected_and_only_a_readable_id_is_kept() {
        let rejection = person(&without(pupil(), "givenName")).expect_err("rejected");
        assert_eq!(rejection.id.as_deref(), Some(PUPIL));
        assert_eq!(rejection.reason, missing("givenName"));
        let bad_id = person(&with(pupil(), "/id", json!("42"))).expect_err("rejected");
        assert_eq!((bad_id.id, bad_id.reason), (None, missing("id")));
    }

    #[test]
    fn a_field_of_the_wrong_type_is_rejected_naming_its_path() {
        let row = with(pupil(), "/enrolments/0/schoolYear", json!("three"));
        assert_eq!(reason(person(&row)), missing("enrolments[0].schoolYear"));
        let row = with(pupil(), "/familyName", json!(7));
        assert_eq!(reason(person(&row)), missing("familyName"));
        assert_eq!(reason(person(&json!("Saga"))), missing("id"));
    }

    #[test]
    fn an_enrolment_at_an_unreadable_school_is_rejected_naming_the_reference() {
        let row = with(pupil(), "/enrolments/0/enroledAt/id", json!("Björkskolan"));
        assert_eq!(reason(person(&row)), missing("enrolments[0].enroledAt.id"));
    }

    #[test]
    fn an_unknown_relation_type_is_rejected_naming_the_responsible() {
        let row = with(pupil(), "/responsibles/0/relationType", json!("Farmor"));
        assert_eq!(
            reason(person(&row)),
            Reason::UnknownEnumValue {
                field: "responsibles[0].relationType".into(),
                value: "Farmor".into()
            }
        );
    }

    #[test]
    fn every_relation_type_of_the_standard_maps() {
        let kinds = [
            "Vårdnadshavare",
            "Annan ansvarig",
            "God man",
            "Utsedd behörig",
        ]
        .map(|t| details(&with(pupil(), "/responsibles/0/relationType", json!(t))));
        let kinds = kinds.map(|p| p.responsibles[0].kind);
        assert_eq!(
            kinds,
            [
                ResponsibleKind::Guardian,
                ResponsibleKind::OtherResponsible,
                ResponsibleKind::TrustedRepresentative,
                ResponsibleKind::AppointedAuthorised
            ]
        );
    }

    #[test]
    fn a_protected_person_is_reduced_to_id_and_school_units_before_any_check() {
        for marking in ["Sekretessmarkering", "Skyddad folkbokföring"] {
            let row = json!({
                "id": PUPIL,
                "givenName": 5,
                "civicNo": {"value": "20130101TF01"},
                "securityMarking": marking,
                "personStatus": "Okänd",
                "enrolments": [
                    {"enroledAt": {"id": SCHOOL}, "schoolType": "GR"},
                    {"enroledAt": {"id": SCHOOL}, "schoolType": "FTH"},
                    {"enroledAt": {"id": "not-a-uuid"}},
                    {"schoolType": "GR"}
                ]
            });
            assert_eq!(
                person(&row),
                Ok(PersonRow::Protected {
                    id: uuid(PUPIL),
                    school_units: vec![uuid(SCHOOL)]
                })
            );
        }
    }

    #[test]
    fn an_unknown_security_marking_is_rejected_naming_only_the_marking() {
        let row = with(pupil(), "/securityMarking", json!("Hemlig"));
        let rejection = person(&row).expect_err("rejected");
        assert_eq!(rejection.id.as_deref(), Some(PUPIL));
        assert_eq!(
            rejection.reason,
            Reason::UnknownEnumValue {
                field: "securityMarking".into(),
                value: "Hemlig".into()
            }
        );
    }

    #[test]
    fn a_responsible_marked_protected_is_left_out() {
        let mut row = pupil();
        row["responsibles"][0]["person"]["securityMarking"] = json!("Skyddad folkbokföring");
        assert!(details(&row).responsibles.is_empty());
    }

    #[test]
    fn an_unknown_enumeration_value_is_cut_short_in_the_rejection() {
        let mut row = pupil();
        row["personStatus"] = json!("x".repeat(500));
        match reason(person(&row)) {
            Reason::UnknownEnumValue { value, .. } => assert_eq!(value.len(), 64),
            other => panic!("{other:?}"),
        }
    }

    fn organisation_row(kind: &str) -> Value {
        json!({
            "id": SCHOOL,
            "displayName": "Björkskolan",
            "organisationType": kind,
            "schoolUnitCode": "12345678",
            "parentOrganisation": {"id": GROUP},
            "schoolTypes": ["GR", "FTH"],
            "endDate": null
        })
    }

    #[test]
    fn organisation_types_map_to_owner_school_unit_or_other() {
        let kind = |k: &str| organisation(&organisation_row(k)).map(|o| o.kind);
        assert_eq!(kind("Huvudman"), Ok(OrganisationKind::Owner));
        assert_eq!(kind("Skolenhet"), Ok(OrganisationKind::SchoolUnit));
        for other in [
            "Skola",
            "Rektorsområde",
            "Förvaltning",
            "Verksamhetsområde",
            "Övrigt",
        ] {
            assert_eq!(kind(other), Ok(OrganisationKind::Other), "{other}");
        }
        assert!(matches!(
            reason(kind("Skolenheten")),
            Reason::UnknownEnumValue { field, .. } if field == "organisationType"
        ));
        let school = organisation(&organisation_row("Skolenhet"));
        let school = school.expect("valid");
        assert_eq!(school.parent, Some(uuid(GROUP)));
        assert_eq!(school.school_unit_code.as_deref(), Some("12345678"));
    }

    #[test]
    fn an_organisation_without_a_name_is_rejected() {
        let row = without(organisation_row("Skolenhet"), "displayName");
        assert_eq!(reason(organisation(&row)), missing("displayName"));
    }

    fn group_row(kind: Value) -> Value {
        json!({
            "id": GROUP,
            "displayName": "3A",
            "groupType": kind,
            "schoolType": "GR",
            "organisation": {"id": SCHOOL},
            "startDate": "2024-08-19",
            "groupMemberships": [
                {"person": {"id": PUPIL}, "startDate": "2024-08-19"},
                {"person": {"id": GUARDIAN, "securityMarking": "Sekretessmarkering"}}
            ]
        })
    }

    #[test]
    fn group_types_map_to_kinds_and_protected_members_are_left_out() {
        let kind = |k: &str| group(&group_row(json!(k))).map(|g| g.kind);
        assert_eq!(kind("Klass"), Ok(GroupKind::Class));
        assert_eq!(kind("Undervisning"), Ok(GroupKind::Teaching));
        assert_eq!(kind("Mentor"), Ok(GroupKind::Mentor));
        assert_eq!(kind("Avdelning"), Ok(GroupKind::Department));
        for other in ["Schema", "Personalgrupp", "Provgrupp", "Övrigt"] {
            assert_eq!(kind(other), Ok(GroupKind::Other));
        }
        let g = group(&group_row(json!("Klass"))).expect("valid");
        assert_eq!(g.organisation, uuid(SCHOOL));
        assert_eq!(g.members.len(), 1);
        assert_eq!(g.members[0].person, uuid(PUPIL));
    }

    #[test]
    fn a_group_without_a_type_or_with_an_unknown_one_is_rejected() {
        assert_eq!(reason(group(&group_row(json!(null)))), missing("groupType"));
        assert_eq!(
            reason(group(&group_row(json!("Klassen")))),
            Reason::UnknownEnumValue {
                field: "groupType".into(),
                value: "Klassen".into()
            }
        );
        let row = with(
            group_row(json!("Klass")),
            "/groupMemberships/0/person",
            json!({}),
        );
        assert_eq!(
            reason(group(&row)),
            missing("groupMemberships[0].person.id")
        );
    }

    fn duty_row(role: &str, assignment: &str) -> Value {
        json!({
            "id": GUARDIAN,
            "person": {"id": PUPIL},
            "dutyAt": {"id": SCHOOL},
            "dutyRole": role,
            "assignmentRole": [{"group": {"id": GROUP}, "assignmentRoleType": assignment}],
            "startDate": "2024-08-01"
        })
    }

    #[test]
    fn duty_roles_map_to_what_skolnav_grants() {
        let role = |r: &str| duty(&duty_row(r, "Mentor")).map(|d| d.role);
        assert_eq!(role("Rektor"), Ok(DutyRole::Principal));
        assert_eq!(role("Skoladministratör"), Ok(DutyRole::SchoolAdmin));
        for teacher in ["Lärare", "Förskollärare", "Lärare i fritidshem"] {
            assert_eq!(role(teacher), Ok(DutyRole::Teacher), "{teacher}");
        }
        for fritids in ["Fritidspedagog", "Barnskötare"] {
            assert_eq!(role(fritids), Ok(DutyRole::FritidsStaff), "{fritids}");
        }
        for other in [
            "Elevassistent",
            "Kurator",
            "Skolsköterska",
            "Annan personal",
        ] {
            assert_eq!(role(other), Ok(DutyRole::Other), "{other}");
        }
        assert!(matches!(
            reason(role("Vaktmästare")),
            Reason::UnknownEnumValue { field, .. } if field == "dutyRole"
        ));
    }

    #[test]
    fn assignment_roles_map_and_a_made_up_one_is_rejected_naming_its_path() {
        let kind = |a: &str| duty(&duty_row("Lärare", a)).map(|d| d.assignments[0].kind);
        assert_eq!(kind("Mentor"), Ok(AssignmentKind::Mentor));
        assert_eq!(kind("Undervisande"), Ok(AssignmentKind::Teaching));
        assert_eq!(kind("Lärarassistent"), Ok(AssignmentKind::Other));
        assert_eq!(
            reason(kind("Superhjälte")),
            Reason::UnknownEnumValue {
                field: "assignmentRole[0].assignmentRoleType".into(),
                value: "Superhjälte".into()
            }
        );
        let d = duty(&duty_row("Lärare", "Mentor")).expect("valid");
        assert_eq!((d.person, d.duty_at), (uuid(PUPIL), uuid(SCHOOL)));
        assert_eq!(d.assignments[0].group, uuid(GROUP));
    }

    #[test]
    fn a_duty_without_its_school_is_rejected() {
        let row = without(duty_row("Lärare", "Mentor"), "dutyAt");
        assert_eq!(reason(duty(&row)), missing("dutyAt"));
    }

    #[test]
    fn a_placement_is_read_and_one_without_a_child_rejected() {
        let row = json!({
            "id": GROUP,
            "child": {"id": PUPIL},
            "placedAt": {"id": SCHOOL},
            "schoolType": "FTH",
            "owners": [{"id": GUARDIAN}],
            "startDate": "2024-08-19"
        });
        let p = placement(&row).expect("valid");
        assert_eq!(
            (p.child, p.placed_at, p.group),
            (uuid(PUPIL), uuid(SCHOOL), None)
        );
        assert_eq!(p.owners, vec![uuid(GUARDIAN)]);
        assert_eq!(p.school_type, "FTH");
        assert_eq!(reason(placement(&without(row, "child"))), missing("child"));
    }

    #[test]
    fn deleted_entities_accept_missing_arrays_and_the_standards_spelling() {
        let body = json!({"data": {
            "persons": [PUPIL, "not-a-uuid"],
            "groups": null,
            "activitites": [GROUP],
            "absences": [SCHOOL]
        }, "pageToken": null});
        let d = deleted(&body).expect("valid");
        assert_eq!(d.persons, vec![uuid(PUPIL)]);
        assert!(d.groups.is_empty() && d.duties.is_empty() && d.organisations.is_empty());
    }

    #[test]
    fn deleted_entities_without_data_are_an_error() {
        let err = deleted(&json!({"persons": [PUPIL]})).expect_err("no data");
        assert!(err.contains("data"), "{err}");
        let err = deleted(&json!({"data": {"persons": "x"}})).expect_err("not a list");
        assert!(err.contains("data.persons"), "{err}");
    }

    const ACTIVITY: &str = "7a6b5c4d-3e2f-4a1b-8c9d-0e1f2a3b4c55";
    const EVENT: &str = "1f2e3d4c-5b6a-4978-8695-a4b3c2d1e066";
    const DUTY: &str = "2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d77";

    fn activity_row() -> Value {
        json!({
            "id": ACTIVITY,
            "displayName": "Matematik 4A",
            "activityType": "Undervisning",
            "groups": [{"id": GROUP}],
            "teachers": [{"duty": {"id": DUTY}}],
            "syllabus": {"id": SCHOOL, "displayName": "Matematik"},
            "organisation": {"id": SCHOOL},
            "startDate": "2026-08-18",
            "endDate": "2027-06-11"
        })
    }

    fn event_row() -> Value {
        json!({
            "id": EVENT,
            "activity": {"id": ACTIVITY},
            "startTime": "2026-11-02T08:15:00+01:00",
            "endTime": "2026-11-02T09:00:00+01:00",
            "cancelled": false,
            "rooms": [{"id": SCHOOL, "displayName": "Sal 12"}],
            "studentExceptions": [
                {"student": {"id": PUPIL}, "participates": true,
                 "startTime": "2026-11-02T08:30:00+01:00", "endTime": "2026-11-02T09:00:00+01:00"},
                {"student": {"id": GUARDIAN, "securityMarking": "Skyddad folkbokföring"}, "participates": false}
            ],
            "teacherExceptions": []
        })
    }

    #[test]
    fn an_activity_reads_its_groups_teachers_and_subject() {
        let a = activity(&activity_row()).unwrap();
        assert_eq!(a.name, "Matematik 4A");
        assert_eq!(a.kind, Some(ActivityKind::Teaching));
        assert_eq!(a.groups, vec![Uuid::parse_str(GROUP).unwrap()]);
        assert_eq!(a.teachers, vec![Uuid::parse_str(DUTY).unwrap()]);
        assert_eq!(a.subject.as_deref(), Some("Matematik"));
    }

    #[test]
    fn an_unknown_activity_type_is_a_rejection_naming_the_field() {
        let mut row = activity_row();
        row["activityType"] = json!("Rast");
        let r = activity(&row).unwrap_err();
        assert_eq!(r.object_type, ObjectType::Activity);
        assert_eq!(r.id.as_deref(), Some(ACTIVITY));
        assert_eq!(
            r.reason,
            Reason::UnknownEnumValue {
                field: "activityType".into(),
                value: "Rast".into()
            }
        );
    }

    #[test]
    fn a_lesson_reads_in_utc_and_leaves_out_exceptions_of_protected_persons() {
        let e = calendar_event(&event_row()).unwrap();
        assert_eq!(e.start.to_rfc3339(), "2026-11-02T07:15:00+00:00");
        assert_eq!(e.rooms, vec!["Sal 12".to_string()]);
        assert_eq!(e.pupil_exceptions.len(), 1);
        assert_eq!(e.pupil_exceptions[0].pupil, Uuid::parse_str(PUPIL).unwrap());
        assert!(e.pupil_exceptions[0].participates);
    }

    #[test]
    fn a_lesson_that_ends_before_it_starts_is_rejected_naming_end_time() {
        let mut row = event_row();
        row["endTime"] = json!("2026-11-02T08:00:00+01:00");
        let r = calendar_event(&row).unwrap_err();
        assert_eq!(
            r.reason,
            Reason::EndNotAfterStart {
                field: "endTime".into()
            }
        );
    }

    #[test]
    fn a_lesson_without_its_activity_or_with_an_unreadable_time_names_the_field() {
        let mut row = event_row();
        row.as_object_mut().unwrap().remove("activity");
        let r = calendar_event(&row).unwrap_err();
        assert_eq!(
            r.reason,
            Reason::MissingField {
                field: "activity".into()
            }
        );
        let mut row = event_row();
        row["startTime"] = json!("i morgon");
        let r = calendar_event(&row).unwrap_err();
        assert_eq!(
            r.reason,
            Reason::MissingField {
                field: "startTime".into()
            }
        );
    }

    #[test]
    fn deleted_activities_are_read_from_the_misspelt_key() {
        let body = json!({"data": {"activitites": [ACTIVITY], "calendarEvents": [EVENT]}});
        let d = deleted(&body).unwrap();
        assert_eq!(d.activities, vec![Uuid::parse_str(ACTIVITY).unwrap()]);
        assert_eq!(d.calendar_events, vec![Uuid::parse_str(EVENT).unwrap()]);
    }
}
