//! The SS 12000 wire format (API 2.1.0), for the subset the import reads.
//! Written by hand from the standard's field names, not generated from its
//! YAML (SIS content, not ours to copy).
//!
//! Everything is optional here and enumerations are plain strings: what is
//! required, and which values are known, is decided in
//! [`validate`](super::validate), so that one bad row is one rejection and
//! never a failed page. A field of the wrong JSON type does fail its row
//! (validation reports its path). `null` reads as absent, also for lists.

use chrono::{DateTime, FixedOffset, NaiveDate};
use serde::{Deserialize, Deserializer};

/// A list or a `null` (absent reads as empty through `#[serde(default)]`).
fn list<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<Vec<T>>::deserialize(deserializer).map(Option::unwrap_or_default)
}

/// `ObjectReference` / `PersonReference`: `{id, displayName?}`; a person
/// reference may also carry the person's `securityMarking`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Reference {
    pub id: Option<String>,
    pub display_name: Option<String>,
    pub security_marking: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Organisation {
    pub id: Option<String>,
    pub display_name: Option<String>,
    pub organisation_type: Option<String>,
    pub school_unit_code: Option<String>,
    pub parent_organisation: Option<Reference>,
    #[serde(default, deserialize_with = "list")]
    pub school_types: Vec<String>,
    pub start_date: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CivicNo {
    pub value: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Email {
    pub value: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PhoneNumber {
    pub value: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub mobile: Option<bool>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Enrolment {
    /// The standard's spelling (one `l`).
    pub enroled_at: Option<Reference>,
    pub school_type: Option<String>,
    pub school_year: Option<u8>,
    pub start_date: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
    pub cancelled: Option<bool>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Responsible {
    pub person: Option<Reference>,
    pub relation_type: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Person {
    pub id: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub civic_no: Option<CivicNo>,
    pub security_marking: Option<String>,
    pub person_status: Option<String>,
    #[serde(default, deserialize_with = "list")]
    pub emails: Vec<Email>,
    #[serde(default, deserialize_with = "list")]
    pub phone_numbers: Vec<PhoneNumber>,
    #[serde(default, deserialize_with = "list")]
    pub enrolments: Vec<Enrolment>,
    #[serde(default, deserialize_with = "list")]
    pub responsibles: Vec<Responsible>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupMembership {
    pub person: Option<Reference>,
    pub start_date: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Group {
    pub id: Option<String>,
    pub display_name: Option<String>,
    pub group_type: Option<String>,
    pub school_type: Option<String>,
    pub organisation: Option<Reference>,
    pub start_date: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
    #[serde(default, deserialize_with = "list")]
    pub group_memberships: Vec<GroupMembership>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AssignmentRole {
    pub group: Option<Reference>,
    pub assignment_role_type: Option<String>,
    pub start_date: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Duty {
    pub id: Option<String>,
    pub person: Option<Reference>,
    pub duty_at: Option<Reference>,
    pub duty_role: Option<String>,
    #[serde(default, deserialize_with = "list")]
    pub assignment_role: Vec<AssignmentRole>,
    pub start_date: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Placement {
    pub id: Option<String>,
    pub child: Option<Reference>,
    pub placed_at: Option<Reference>,
    pub group: Option<Reference>,
    pub school_type: Option<String>,
    #[serde(default, deserialize_with = "list")]
    pub owners: Vec<Reference>,
    pub start_date: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
}

/// `DutyAssignment`: a teacher of an activity, by duty.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DutyAssignment {
    pub duty: Option<Reference>,
    pub start_date: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
}

/// An activity (Skola24: a course of lessons): who teaches what to whom.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Activity {
    pub id: Option<String>,
    pub display_name: Option<String>,
    pub activity_type: Option<String>,
    #[serde(default, deserialize_with = "list")]
    pub groups: Vec<Reference>,
    #[serde(default, deserialize_with = "list")]
    pub teachers: Vec<DutyAssignment>,
    /// The subject (`SyllabusReference`); its `displayName` comes with
    /// `expandReferenceNames=true`.
    pub syllabus: Option<Reference>,
    pub organisation: Option<Reference>,
    pub start_date: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
}

/// A pupil who does not follow the lesson as scheduled: absent from it
/// (`participates: false`) or there for part of it (own times).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StudentException {
    pub student: Option<Reference>,
    pub participates: Option<bool>,
    pub start_time: Option<DateTime<FixedOffset>>,
    pub end_time: Option<DateTime<FixedOffset>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TeacherException {
    pub duty: Option<Reference>,
    pub participates: Option<bool>,
    pub start_time: Option<DateTime<FixedOffset>>,
    pub end_time: Option<DateTime<FixedOffset>>,
}

/// One lesson (schemaposition) of an activity.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CalendarEvent {
    pub id: Option<String>,
    pub activity: Option<Reference>,
    pub start_time: Option<DateTime<FixedOffset>>,
    pub end_time: Option<DateTime<FixedOffset>>,
    pub cancelled: Option<bool>,
    #[serde(default, deserialize_with = "list")]
    pub rooms: Vec<Reference>,
    #[serde(default, deserialize_with = "list")]
    pub student_exceptions: Vec<StudentException>,
    #[serde(default, deserialize_with = "list")]
    pub teacher_exceptions: Vec<TeacherException>,
}

/// One row of a list page, as the text the registry sent: a page of 500
/// groups with their memberships is about 1.5 MB of JSON and several
/// times that as `serde_json::Value`, so rows are parsed one at a time.
pub type Row = Box<serde_json::value::RawValue>;

/// A row's JSON (a row is valid JSON: the page parsed).
pub fn value(row: &serde_json::value::RawValue) -> serde_json::Value {
    serde_json::from_str(row.get()).unwrap_or(serde_json::Value::Null)
}

/// One page of a list endpoint. Rows stay raw JSON: each is validated on
/// its own.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListPage {
    pub data: Vec<Row>,
    /// `null` (or absent) on the last page.
    pub page_token: Option<String>,
}

/// `GET /deletedEntities`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeletedEntities {
    pub data: DeletedData,
    /// Followed like a list's, should a registry page its deletions.
    pub page_token: Option<String>,
}

/// Deleted ids per type; a type not asked for may be absent or `null`.
/// Other keys (`absences`, ...) are ignored.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeletedData {
    #[serde(default, deserialize_with = "list")]
    pub organisations: Vec<String>,
    #[serde(default, deserialize_with = "list")]
    pub persons: Vec<String>,
    #[serde(default, deserialize_with = "list")]
    pub groups: Vec<String>,
    #[serde(default, deserialize_with = "list")]
    pub duties: Vec<String>,
    #[serde(default, deserialize_with = "list")]
    pub placements: Vec<String>,
    /// Sic: the standard's key for deleted activities.
    #[serde(default, deserialize_with = "list")]
    pub activitites: Vec<String>,
    #[serde(default, deserialize_with = "list")]
    pub calendar_events: Vec<String>,
}
