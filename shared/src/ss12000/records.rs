//! What the import works with: SS 12000 objects after validation. Every
//! field here is checked (ids are UUIDs, enumerations are known values,
//! personnummer are valid); a row that fails becomes a [`Rejection`]
//! instead. A protected person (securityMarking other than `Ingen`) is
//! reduced to [`PersonRow::Protected`]: no name, no number, nothing else.

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

/// The object types the import reads, as SS 12000 names them.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum ObjectType {
    Organisation,
    Person,
    Group,
    Duty,
    Placement,
    Activity,
    CalendarEvent,
}

impl ObjectType {
    /// The name `/deletedEntities?entities=` takes (`Person`).
    pub fn wire_name(self) -> &'static str {
        match self {
            ObjectType::Organisation => "Organisation",
            ObjectType::Person => "Person",
            ObjectType::Group => "Group",
            ObjectType::Duty => "Duty",
            ObjectType::Placement => "Placement",
            ObjectType::Activity => "Activity",
            ObjectType::CalendarEvent => "CalendarEvent",
        }
    }

    /// The list endpoint, also the key in `/deletedEntities` (`persons`),
    /// except for activities, which the standard misspells there
    /// (`activitites`).
    pub fn plural(self) -> &'static str {
        match self {
            ObjectType::Organisation => "organisations",
            ObjectType::Person => "persons",
            ObjectType::Group => "groups",
            ObjectType::Duty => "duties",
            ObjectType::Placement => "placements",
            ObjectType::Activity => "activities",
            ObjectType::CalendarEvent => "calendarEvents",
        }
    }
}

/// Why a row was not imported. The text names the field and the value's
/// kind, never a personal number or a name.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Reason {
    /// An enumeration value the standard (or we) do not know.
    #[serde(rename_all = "camelCase")]
    UnknownEnumValue { field: String, value: String },
    /// civicNo.value is not a valid personnummer or samordningsnummer.
    #[serde(rename_all = "camelCase")]
    InvalidPersonnummer { field: String },
    /// A temporary number with letters (TF-number): registered by hand.
    #[serde(rename_all = "camelCase")]
    TemporaryNumber { field: String },
    /// A required field is missing or has the wrong JSON type.
    #[serde(rename_all = "camelCase")]
    MissingField { field: String },
    /// A reference to an object the registry never sent.
    #[serde(rename_all = "camelCase")]
    UnknownReference { field: String, id: String },
    /// An end (`field`) that is not after its start.
    #[serde(rename_all = "camelCase")]
    EndNotAfterStart { field: String },
}

/// A row that was not imported.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Rejection {
    pub object_type: ObjectType,
    /// The row's `id` if it had a readable one.
    pub id: Option<String>,
    pub reason: Reason,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrganisationKind {
    /// `Huvudman`: the organisation (municipality or owner).
    Owner,
    /// `Skolenhet`: a school unit, what Skolnav calls a school.
    SchoolUnit,
    /// `Skola`, `Rektorsområde`, `Förvaltning`, ...: a level in between.
    Other,
}

#[derive(Debug, Clone, PartialEq)]
pub struct OrganisationRow {
    pub id: Uuid,
    pub name: String,
    pub kind: OrganisationKind,
    pub parent: Option<Uuid>,
    pub school_unit_code: Option<String>,
    pub end_date: Option<NaiveDate>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PersonStatus {
    /// `Aktiv`
    Active,
    /// `Utvandrad`
    Emigrated,
    /// `Avliden`
    Deceased,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CivicNoKind {
    Personnummer,
    /// Day of birth + 60.
    Samordningsnummer,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CivicNo {
    /// 12 digits, no separator.
    pub value: String,
    pub kind: CivicNoKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResponsibleKind {
    /// `Vårdnadshavare`: guardian rights.
    Guardian,
    /// `Annan ansvarig`
    OtherResponsible,
    /// `God man`
    TrustedRepresentative,
    /// `Utsedd behörig`
    AppointedAuthorised,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Responsible {
    pub person: Uuid,
    pub kind: ResponsibleKind,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Enrolment {
    /// `enroledAt.id`: a school unit.
    pub school_unit: Uuid,
    /// `schoolType` as sent (`GR`, `GRS`, `FTH`, ...).
    pub school_type: String,
    pub school_year: Option<u8>,
    pub start_date: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
    pub cancelled: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PersonDetails {
    pub id: Uuid,
    pub given_name: String,
    pub family_name: String,
    pub civic_no: CivicNo,
    pub status: PersonStatus,
    /// The first e-mail address, if any.
    pub email: Option<String>,
    /// The first phone number marked `mobile` (else typed `Mobil`), as sent.
    pub mobile: Option<String>,
    pub enrolments: Vec<Enrolment>,
    pub responsibles: Vec<Responsible>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum PersonRow {
    Person(Box<PersonDetails>),
    /// securityMarking other than `Ingen`: only the id (to drop references
    /// to them) and the school units of their enrolments (to count them).
    Protected {
        id: Uuid,
        school_units: Vec<Uuid>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupKind {
    /// `Klass`
    Class,
    /// `Undervisning`
    Teaching,
    /// `Mentor`
    Mentor,
    /// `Avdelning` (fritids when schoolType is `FTH`)
    Department,
    /// `Schema`, `Personalgrupp`, `Provgrupp`, `Övrigt`: not imported.
    Other,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Membership {
    pub person: Uuid,
    pub start_date: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct GroupRow {
    pub id: Uuid,
    pub name: String,
    pub kind: GroupKind,
    pub school_type: Option<String>,
    /// `organisation.id`: normally a school unit.
    pub organisation: Uuid,
    pub start_date: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
    pub members: Vec<Membership>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DutyRole {
    /// `Rektor`
    Principal,
    /// `Skoladministratör`
    SchoolAdmin,
    /// `Lärare`, `Förskollärare`, `Lärare i fritidshem`, ...
    Teacher,
    /// `Fritidspedagog`, `Barnskötare`, ...
    FritidsStaff,
    /// Any other role the standard knows (`Elevassistent`, `Kurator`, ...).
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssignmentKind {
    /// `Mentor`
    Mentor,
    /// `Undervisande`, `Lärare` or other teaching assignments.
    Teaching,
    /// Any other assignment role the standard knows.
    Other,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Assignment {
    pub group: Uuid,
    pub kind: AssignmentKind,
    pub start_date: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DutyRow {
    pub id: Uuid,
    pub person: Uuid,
    /// `dutyAt.id`: normally a school unit.
    pub duty_at: Uuid,
    pub role: DutyRole,
    pub assignments: Vec<Assignment>,
    pub start_date: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PlacementRow {
    pub id: Uuid,
    pub child: Uuid,
    pub placed_at: Uuid,
    pub group: Option<Uuid>,
    pub school_type: String,
    pub owners: Vec<Uuid>,
    pub start_date: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
}

/// `activityType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ActivityKind {
    /// `Undervisning`
    Teaching,
    /// `Elevaktivitet`
    PupilActivity,
    /// `Provaktivitet`
    Test,
    /// `Studiehandledning`
    StudyGuidance,
    /// `Läxhjälp`
    HomeworkHelp,
    /// `Övrigt`
    Other,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ActivityRow {
    pub id: Uuid,
    pub name: String,
    /// Absent in the row: not said (read as teaching).
    pub kind: Option<ActivityKind>,
    pub groups: Vec<Uuid>,
    /// The teachers' duties (`teachers[].duty.id`), each once.
    pub teachers: Vec<Uuid>,
    /// `syllabus.displayName`, the subject as the schedule names it.
    pub subject: Option<String>,
    /// `organisation.id`: normally a school unit.
    pub organisation: Option<Uuid>,
    pub start_date: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
}

/// A pupil's exception from one lesson. Exceptions of persons whose
/// reference carries a security marking are left out in validation.
#[derive(Debug, Clone, PartialEq)]
pub struct PupilException {
    pub pupil: Uuid,
    pub participates: bool,
    pub start: Option<DateTime<Utc>>,
    pub end: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TeacherException {
    pub duty: Uuid,
    pub participates: bool,
    pub start: Option<DateTime<Utc>>,
    pub end: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CalendarEventRow {
    pub id: Uuid,
    pub activity: Uuid,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub cancelled: bool,
    /// Room names (`rooms[].displayName`), blank ones left out.
    pub rooms: Vec<String>,
    pub pupil_exceptions: Vec<PupilException>,
    pub teacher_exceptions: Vec<TeacherException>,
}

/// `GET /deletedEntities`: ids per type.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Deleted {
    pub organisations: Vec<Uuid>,
    pub persons: Vec<Uuid>,
    pub groups: Vec<Uuid>,
    pub duties: Vec<Uuid>,
    pub placements: Vec<Uuid>,
    pub activities: Vec<Uuid>,
    pub calendar_events: Vec<Uuid>,
}
