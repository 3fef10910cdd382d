//! Directory (A1, A2): organisations, schools, groups, people and the
//! relations between them. Roles are never read from a token or a request:
//! they are these relations.

use crate::child_places::ChildPlaces;
use crate::ids::{GroupId, OrganisationId, PersonId, SchoolId};
use crate::keys;
use crate::roster::RosterName;
use crate::sms::MobileNumber;
use crate::store::{Index, Item, Query, SortKey, Store, StoreError, query_all};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Organisation {
    pub id: OrganisationId,
    pub name: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SchoolSettings {
    /// Guardian absence reports are approved on arrival (B1).
    #[serde(default)]
    pub auto_approve_absence: bool,
    /// Responsibles the registry records as `Annan ansvarig`, `God man` or
    /// `Utsedd behörig` get a guardian's rights at this school (A3).
    #[serde(default)]
    pub other_responsibles_are_guardians: bool,
    /// Guardians get an SMS and a mail the same day when their child is
    /// registered absent without a valid reason (B6).
    #[serde(default)]
    pub alert_unexcused_absence: bool,
    /// The comments a teacher picks from when registering a lesson (B3);
    /// free text is allowed too.
    #[serde(default)]
    pub attendance_comments: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct School {
    pub id: SchoolId,
    pub organisation_id: OrganisationId,
    pub name: String,
    #[serde(default)]
    pub settings: SchoolSettings,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum GroupKind {
    Class,
    TeachingGroup,
    MentorGroup,
    FritidsGroup,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Group {
    pub id: GroupId,
    pub school_id: SchoolId,
    pub name: String,
    pub kind: GroupKind,
}

#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    #[default]
    Sv,
    En,
}

/// Which notices a person also gets by e-mail (C7), by kind. Each is on
/// until its owner turns it off; the in-app notice comes either way.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MailPreferences {
    pub important_notices: bool,
    pub school_messages: bool,
    pub user_messages: bool,
}

impl Default for MailPreferences {
    fn default() -> Self {
        MailPreferences {
            important_notices: true,
            school_messages: true,
            user_messages: true,
        }
    }
}

/// The kind of a notice, for [`MailPreferences`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailKind {
    /// From the school that everyone concerned must get (a closed school).
    ImportantNotice,
    /// Blog posts, news and events of a school or a class.
    SchoolMessage,
    /// A message from one user to another.
    UserMessage,
}

impl MailPreferences {
    pub fn wants(&self, kind: MailKind) -> bool {
        match kind {
            MailKind::ImportantNotice => self.important_notices,
            MailKind::SchoolMessage => self.school_messages,
            MailKind::UserMessage => self.user_messages,
        }
    }
}

/// What a person chooses for themselves (GET/PUT /me/preferences).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Preferences {
    pub language: Language,
    pub mail: MailPreferences,
}

impl Preferences {
    pub fn of(person: &Person) -> Self {
        Preferences {
            language: person.language,
            mail: person.mail,
        }
    }
}

/// Replaces a person's preferences on their stored item, keeping the
/// rest of it (a concurrent import rewrite is retried on its version).
/// `Ok(None)`: no such person.
pub async fn set_preferences(
    store: &dyn Store,
    person: PersonId,
    preferences: Preferences,
) -> Result<Option<Person>, StoreError> {
    let value = |v: serde_json::Result<serde_json::Value>| {
        v.map_err(|e| StoreError::Mapping(e.to_string()))
    };
    let attributes = [
        (
            "language",
            value(serde_json::to_value(preferences.language))?,
        ),
        ("mail", value(serde_json::to_value(preferences.mail))?),
    ];
    crate::store::replace_attributes(store, &keys::person(person), &attributes)
        .await?
        .map(|item| item.parse())
        .transpose()
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Person {
    pub id: PersonId,
    pub given_name: String,
    pub family_name: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub mobile: Option<String>,
    /// `mobile` in E.164, when it is a number a text can reach (a mobile,
    /// not a Swedish landline): parsed by the import, used by the alerts.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub text_to: Option<MobileNumber>,
    #[serde(default)]
    pub language: Language,
    /// Set by the person (GET/PUT /me/preferences), never by the import.
    #[serde(default)]
    pub mail: MailPreferences,
    /// Set when a pupil left (enrolment ended, emigrated, deceased, or
    /// removed from the registry): the person and their history stay.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub left: Option<Left>,
    /// Skyddade personuppgifter. Such a person is never imported (A2); one
    /// registered by hand, with a recorded consent, is handled by staff
    /// like anyone else but never appears in a list shown to guardians.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub protected_identity: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Left {
    pub on: chrono::NaiveDate,
    pub reason: LeftReason,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum LeftReason {
    EnrolmentEnded,
    Emigrated,
    Deceased,
    RemovedFromRegistry,
}

impl Person {
    pub fn full_name(&self) -> String {
        format!("{} {}", self.given_name, self.family_name)
    }
}

/// A duty of staff at a school (SS 12000 dutyRole).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "camelCase")]
pub enum StaffRole {
    Principal,
    SchoolAdmin,
    Teacher,
    FritidsStaff,
}

/// One relation held by a person. Stored in the holder's partition.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Relation {
    /// Vårdnadshavare of a pupil, with where the pupil is a pupil
    /// (`places`, copied from the pupil's relations; `None` where no copy
    /// was made: then they are read, see [`crate::child_places`]).
    #[serde(rename_all = "camelCase")]
    GuardianOf {
        pupil_id: PersonId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        places: Option<ChildPlaces>,
    },
    /// A pupil enrolled at a school, in a grade year (årskurs) when the
    /// registry gives one.
    #[serde(rename_all = "camelCase")]
    EnrolledAt {
        school_id: SchoolId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        school_year: Option<u8>,
    },
    /// A pupil who is a member of a group, with a copy of the pupil's name
    /// for the group's lists (`name`, see [`crate::roster`]; `None` where
    /// no copy was made: then the person is read).
    #[serde(rename_all = "camelCase")]
    MemberOf {
        group_id: GroupId,
        school_id: SchoolId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<RosterName>,
    },
    /// Staff with a duty at a school.
    #[serde(rename_all = "camelCase")]
    Duty {
        school_id: SchoolId,
        role: StaffRole,
    },
    /// Staff who is the mentor of a group's pupils.
    #[serde(rename_all = "camelCase")]
    MentorOf {
        group_id: GroupId,
        school_id: SchoolId,
    },
    /// Staff who teaches a group.
    #[serde(rename_all = "camelCase")]
    TeacherOf {
        group_id: GroupId,
        school_id: SchoolId,
    },
    /// Organisation administrator (verksamhetschef, huvudman level):
    /// registered by hand, never imported.
    #[serde(rename_all = "camelCase")]
    OrganisationAdmin { organisation_id: OrganisationId },
    /// Responsible for a pupil without guardian rights (SS 12000
    /// relationType `Annan ansvarig`, `God man`, `Utsedd behörig`): recorded
    /// with its type, grants nothing.
    #[serde(rename_all = "camelCase")]
    ResponsibleFor {
        pupil_id: PersonId,
        relation_type: String,
    },
    /// A child placed at a school's fritids (SS 12000 Placement; the
    /// school type is `FTH`), in a fritids group when the registry names
    /// one.
    #[serde(rename_all = "camelCase")]
    PlacedAt {
        school_id: SchoolId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        group_id: Option<GroupId>,
        school_type: String,
    },
    /// May see and set a placed child's stay schedule (the placement's
    /// `owners`, usually the guardians).
    #[serde(rename_all = "camelCase")]
    StayScheduleOwnerOf { pupil_id: PersonId },
}

impl Relation {
    /// What the relation points at, as it appears in its sort key.
    fn target(&self) -> String {
        match self {
            Relation::GuardianOf { pupil_id, .. } => format!("{GUARDIAN_TARGET}{pupil_id}"),
            Relation::EnrolledAt { school_id, .. } => format!("{ENROLLED_TARGET}{school_id}"),
            Relation::MemberOf { group_id, .. } => member_target(*group_id),
            Relation::Duty { school_id, role } => {
                let role = serde_json::to_value(role)
                    .ok()
                    .and_then(|v| v.as_str().map(String::from))
                    .unwrap_or_default();
                format!("DUTY#{school_id}#{role}")
            }
            Relation::MentorOf { group_id, .. } => format!("MENTOR#{group_id}"),
            Relation::TeacherOf { group_id, .. } => format!("TEACHER#{group_id}"),
            Relation::ResponsibleFor { pupil_id, .. } => format!("RESPONSIBLE#{pupil_id}"),
            Relation::OrganisationAdmin { organisation_id } => {
                format!("ORGADMIN#{organisation_id}")
            }
            Relation::PlacedAt {
                school_id,
                school_type,
                ..
            } => format!("PLACED#{school_id}#{school_type}"),
            Relation::StayScheduleOwnerOf { pupil_id } => format!("STAYOWNER#{pupil_id}"),
        }
    }

    /// The reverse index entry: who are the guardians of a pupil, who are
    /// the members and mentors of a group. Every relation that points at a
    /// person has one, so what points at them is one query
    /// ([`pointing_at`]).
    fn reverse(&self, holder: PersonId) -> Option<crate::store::Key> {
        match self {
            Relation::GuardianOf { pupil_id, .. } => Some(keys::relation_reverse(
                &keys::person_partition(*pupil_id),
                "GUARDIAN",
                holder,
            )),
            Relation::ResponsibleFor { pupil_id, .. } => Some(keys::relation_reverse(
                &keys::person_partition(*pupil_id),
                "RESPONSIBLE",
                holder,
            )),
            Relation::StayScheduleOwnerOf { pupil_id } => Some(keys::relation_reverse(
                &keys::person_partition(*pupil_id),
                "STAYOWNER",
                holder,
            )),
            Relation::MemberOf { group_id, .. } => Some(keys::relation_reverse(
                &format!("GROUP#{group_id}"),
                "MEMBER",
                holder,
            )),
            Relation::MentorOf { group_id, .. } => Some(keys::relation_reverse(
                &format!("GROUP#{group_id}"),
                "MENTOR",
                holder,
            )),
            Relation::EnrolledAt { school_id, .. } => Some(keys::relation_reverse(
                &format!("SCHOOL#{school_id}"),
                "PUPIL",
                holder,
            )),
            Relation::PlacedAt { school_id, .. } => Some(keys::relation_reverse(
                &format!("SCHOOL#{school_id}"),
                "PLACED",
                holder,
            )),
            // Staff notices (C1, C7): who works at a school. One entry per
            // duty; a person with two roles there is listed twice.
            Relation::Duty { school_id, .. } => Some(keys::relation_reverse(
                &format!("SCHOOL#{school_id}"),
                "STAFF",
                holder,
            )),
            _ => None,
        }
    }

    pub fn to_item(&self, holder: PersonId) -> Result<Item, StoreError> {
        let mut item = Item::new(keys::relation(holder, &self.target()), keys::RELATION, self)?;
        if let Some(k) = self.reverse(holder) {
            item = item.with_gsi1(k);
        }
        // Grade-year audiences (C3): the pupils of a school's grade year.
        if let Relation::EnrolledAt {
            school_id,
            school_year: Some(year),
        } = self
        {
            item = item.with_gsi2(keys::grade_pupil(*school_id, *year, holder));
        }
        Ok(item)
    }
}

fn member_target(group: GroupId) -> String {
    format!("{MEMBER_TARGET}{group}")
}

/// The key of a pupil's `MemberOf` relation to a group.
/// The key of a pupil's enrolment at a school (whatever its grade year).
pub fn enrolment_key(pupil: PersonId, school: SchoolId) -> crate::store::Key {
    keys::relation(
        pupil,
        &Relation::EnrolledAt {
            school_id: school,
            school_year: None,
        }
        .target(),
    )
}

pub fn membership_key(pupil: PersonId, group: GroupId) -> crate::store::Key {
    keys::relation(pupil, &member_target(group))
}

/// The key of a guardian's `GuardianOf` relation to a pupil.
pub fn guardianship_key(guardian: PersonId, pupil: PersonId) -> crate::store::Key {
    keys::relation(guardian, &format!("{GUARDIAN_TARGET}{pupil}"))
}

/// Access pattern: the groups a pupil is a member of, their `MemberOf`
/// relations in their own partition (one query).
pub fn memberships_of(pupil: PersonId) -> crate::store::Query {
    let prefix = keys::relation(pupil, MEMBER_TARGET).sk;
    crate::store::Query::partition(keys::person_partition(pupil)).begins_with(prefix)
}

/// How relations' sort keys name what they point at (after `REL#`).
pub const MEMBER_TARGET: &str = "MEMBER#";
pub const ENROLLED_TARGET: &str = "ENROLLED#";
pub const GUARDIAN_TARGET: &str = "GUARDIAN#";

/// The relations other people hold that point at `person` (guardians,
/// other responsibles, stay-schedule owners): GSI1 `PEOPLE#PERSON#<id>`.
pub fn pointing_at(person: PersonId) -> crate::store::Query {
    crate::store::Query::partition(format!("PEOPLE#{}", keys::person_partition(person)))
        .on(crate::store::Index::Gsi1)
}

/// A person with every relation they hold: the input of every
/// authorization decision. Read with one query.
#[derive(Debug, Clone, PartialEq)]
pub struct PersonRecord {
    pub person: Person,
    pub relations: Vec<Relation>,
}

impl PersonRecord {
    /// The caller of a route that reaches only their own partitions
    /// (`routes::Auth::Own`, and `OwnPerson` when the path names the
    /// caller): the id the token names, without the record,
    /// names or relations (no policy lets such a caller do anything).
    pub fn named_by_token(id: PersonId) -> Self {
        PersonRecord {
            person: Person {
                id,
                given_name: String::new(),
                family_name: String::new(),
                email: None,
                mobile: None,
                text_to: None,
                language: Language::default(),
                mail: MailPreferences::default(),
                left: None,
                protected_identity: false,
            },
            relations: Vec::new(),
        }
    }

    pub fn id(&self) -> PersonId {
        self.person.id
    }

    pub fn is_guardian_of(&self, pupil: PersonId) -> bool {
        self.relations
            .iter()
            .any(|r| matches!(r, Relation::GuardianOf { pupil_id, .. } if *pupil_id == pupil))
    }

    pub fn children(&self) -> impl Iterator<Item = PersonId> + '_ {
        self.children_with_places().map(|(child, _)| child)
    }

    /// Each child with the copy of where they are a pupil, if one was made.
    pub fn children_with_places(
        &self,
    ) -> impl Iterator<Item = (PersonId, Option<&ChildPlaces>)> + '_ {
        self.relations.iter().filter_map(|r| match r {
            Relation::GuardianOf { pupil_id, places } => Some((*pupil_id, places.as_ref())),
            _ => None,
        })
    }

    pub fn has_role_at(&self, school: SchoolId, wanted: &[StaffRole]) -> bool {
        self.relations.iter().any(|r| {
            matches!(r, Relation::Duty { school_id, role } if *school_id == school && wanted.contains(role))
        })
    }

    pub fn is_organisation_admin(&self, organisation: OrganisationId) -> bool {
        self.relations.iter().any(|r| {
            matches!(r, Relation::OrganisationAdmin { organisation_id } if *organisation_id == organisation)
        })
    }

    pub fn has_duty_at(&self, school: SchoolId) -> bool {
        self.relations
            .iter()
            .any(|r| matches!(r, Relation::Duty { school_id, .. } if *school_id == school))
    }

    pub fn mentor_groups(&self) -> impl Iterator<Item = GroupId> + '_ {
        self.relations.iter().filter_map(|r| match r {
            Relation::MentorOf { group_id, .. } => Some(*group_id),
            _ => None,
        })
    }

    pub fn taught_groups(&self) -> impl Iterator<Item = GroupId> + '_ {
        self.relations.iter().filter_map(|r| match r {
            Relation::TeacherOf { group_id, .. } => Some(*group_id),
            _ => None,
        })
    }

    /// The groups a pupil is a member of.
    pub fn groups(&self) -> impl Iterator<Item = GroupId> + '_ {
        self.relations.iter().filter_map(|r| match r {
            Relation::MemberOf { group_id, .. } => Some(*group_id),
            _ => None,
        })
    }

    /// The schools (and fritids groups) a child is placed at.
    pub fn placements(&self) -> impl Iterator<Item = (SchoolId, Option<GroupId>)> + '_ {
        self.relations.iter().filter_map(|r| match r {
            Relation::PlacedAt {
                school_id,
                group_id,
                ..
            } => Some((*school_id, *group_id)),
            _ => None,
        })
    }

    pub fn owns_stay_schedule_of(&self, pupil: PersonId) -> bool {
        self.relations
            .iter()
            .any(|r| matches!(r, Relation::StayScheduleOwnerOf { pupil_id } if *pupil_id == pupil))
    }

    /// The school a pupil is enrolled at (the first, if several).
    pub fn enrolled_school(&self) -> Option<SchoolId> {
        self.relations.iter().find_map(|r| match r {
            Relation::EnrolledAt { school_id, .. } => Some(*school_id),
            _ => None,
        })
    }

    /// The grade year the person is enrolled in at `school`, if any.
    pub fn school_year_at(&self, school: SchoolId) -> Option<u8> {
        self.relations.iter().find_map(|r| match r {
            Relation::EnrolledAt {
                school_id,
                school_year,
            } if *school_id == school => *school_year,
            _ => None,
        })
    }
}

/// Access pattern: a person and all their relations, one query on the
/// person's partition for the range `PERSON` ..= `REL$`.
pub async fn person_record(
    store: &dyn Store,
    id: PersonId,
) -> Result<Option<PersonRecord>, StoreError> {
    Ok(record_in(store, id, keys::PERSON_AND_RELATIONS.1).await?.0)
}

/// Access pattern: a person, all their relations and the items of their
/// partition under `prefix`, which sorts after `REL$` (a pupil's talk
/// bookings): one query for the range `PERSON` ..= `<prefix>~`, where
/// [`person_record`] and a query of the prefix would be two.
pub async fn person_record_and(
    store: &dyn Store,
    id: PersonId,
    prefix: &str,
) -> Result<Option<(PersonRecord, Vec<Item>)>, StoreError> {
    let (record, rest) = record_in(store, id, &keys::person_and_relations_through(prefix)).await?;
    Ok(record.map(|r| {
        let under = rest.into_iter().filter(|i| i.key.sk.starts_with(prefix));
        (r, under.collect())
    }))
}

/// The person record in the range `PERSON` ..= `last` of their
/// partition, and the range's other items.
async fn record_in(
    store: &dyn Store,
    id: PersonId,
    last: &str,
) -> Result<(Option<PersonRecord>, Vec<Item>), StoreError> {
    let first = keys::PERSON_AND_RELATIONS.0;
    let items = query_all(
        store,
        Query::partition(keys::person_partition(id))
            .sort(SortKey::Between(first.into(), last.into())),
    )
    .await?;
    let mut person = None;
    let mut relations = Vec::new();
    let mut rest = Vec::new();
    for item in items {
        match item.entity.as_str() {
            keys::PERSON => person = Some(item.parse::<Person>()?),
            keys::RELATION => relations.push(item.parse::<Relation>()?),
            _ => rest.push(item),
        }
    }
    let record = person.map(|person| PersonRecord { person, relations });
    Ok((record, rest))
}

/// Access pattern: one person item.
pub async fn person(store: &dyn Store, id: PersonId) -> Result<Option<Person>, StoreError> {
    store
        .get(&keys::person(id))
        .await?
        .map(|i| i.parse())
        .transpose()
}

/// Access pattern: one school item.
pub async fn school(store: &dyn Store, id: SchoolId) -> Result<Option<School>, StoreError> {
    store
        .get(&keys::school(id))
        .await?
        .map(|i| i.parse())
        .transpose()
}

/// Access pattern: one group item.
pub async fn group(store: &dyn Store, id: GroupId) -> Result<Option<Group>, StoreError> {
    store
        .get(&keys::group(id))
        .await?
        .map(|i| i.parse())
        .transpose()
}

/// The caller's children who are pupils of the group, in the order of
/// their guardianships: from the copies on the caller's own record, and
/// for children without one, one BatchGetItem of their `MemberOf`
/// relations (none when every child has a copy).
pub async fn children_in_group(
    store: &dyn Store,
    caller: &PersonRecord,
    group: GroupId,
) -> Result<Vec<PersonId>, StoreError> {
    let unknown: Vec<PersonId> = caller
        .children_with_places()
        .filter(|(_, places)| places.is_none())
        .map(|(child, _)| child)
        .collect();
    let read = members_among(store, group, &unknown).await?;
    Ok(caller
        .children_with_places()
        .filter(|(child, places)| match places {
            Some(places) => places.in_group(group),
            None => read.contains(child),
        })
        .map(|(child, _)| child)
        .collect())
}

/// Access pattern: which of these pupils are members of a group, with one
/// BatchGetItem of their `MemberOf` relations (none for no pupils).
pub async fn members_among(
    store: &dyn Store,
    group: GroupId,
    pupils: &[PersonId],
) -> Result<Vec<PersonId>, StoreError> {
    let mut members = Vec::new();
    for chunk in pupils.chunks(100) {
        let keys: Vec<_> = chunk.iter().map(|p| membership_key(*p, group)).collect();
        for item in store.get_many(&keys).await? {
            if let Some(p) = chunk
                .iter()
                .find(|p| membership_key(**p, group) == item.key)
            {
                members.push(*p);
            }
        }
    }
    Ok(members)
}

/// Whether one of the caller's children is enrolled at the school (see
/// [`children_enrolled_at`]).
pub async fn has_child_enrolled_at(
    store: &dyn Store,
    caller: &PersonRecord,
    school_id: SchoolId,
) -> Result<bool, StoreError> {
    Ok(children_enrolled_at(store, caller, school_id)
        .await?
        .is_some())
}

/// The grade years of the caller's children enrolled at a school, or
/// `None` when none is: from the copies on the caller's own record, and
/// for children without one, one BatchGetItem of their enrolments.
pub async fn children_enrolled_at(
    store: &dyn Store,
    caller: &PersonRecord,
    school_id: SchoolId,
) -> Result<Option<Vec<u8>>, StoreError> {
    let mut enrolled = false;
    let mut years = Vec::new();
    let mut keys = Vec::new();
    for (child, places) in caller.children_with_places() {
        match places {
            Some(places) => {
                if let Some(year) = places.enrolment_at(school_id) {
                    enrolled = true;
                    years.extend(year);
                }
            }
            None => keys.push(enrolment_key(child, school_id)),
        }
    }
    let enrolments = if keys.is_empty() {
        Vec::new()
    } else {
        store.get_many(&keys).await?
    };
    if !enrolled && enrolments.is_empty() {
        return Ok(None);
    }
    for item in enrolments {
        if let Relation::EnrolledAt {
            school_year: Some(year),
            ..
        } = item.parse::<Relation>()?
        {
            years.push(year);
        }
    }
    Ok(Some(years))
}

/// Access pattern: the pupils of grade years of a school, one query per
/// year on GSI2 (`PEOPLE#SCHOOL#<school>#YEAR#<year>`, `PUPIL#<pupil>`).
pub async fn grade_pupils(
    store: &dyn Store,
    school: SchoolId,
    years: &[u8],
) -> Result<Vec<PersonId>, StoreError> {
    let mut pupils = Vec::new();
    for year in years {
        let partition = keys::grade_pupils_partition(school, *year);
        pupils.extend(indexed_people(store, Index::Gsi2, partition, "PUPIL#").await?);
    }
    Ok(pupils)
}

/// The people an index partition lists under `prefix` (`PUPIL#<id>`,
/// `STAFF#<id>`, ...), every page, in the index's order.
async fn indexed_people(
    store: &dyn Store,
    index: Index,
    partition: String,
    prefix: &str,
) -> Result<Vec<PersonId>, StoreError> {
    let items = query_all(
        store,
        Query::partition(partition).on(index).begins_with(prefix),
    )
    .await?;
    Ok(items
        .iter()
        .filter_map(|i| match index {
            Index::Gsi2 => i.gsi2.as_ref(),
            _ => i.gsi1.as_ref(),
        })
        .filter_map(|k| k.sk.strip_prefix(prefix))
        .filter_map(PersonId::parse)
        .collect())
}

/// Access pattern: the pupils enrolled at a school, one query on GSI1
/// (`PEOPLE#SCHOOL#<school>`, `PUPIL#<pupil>`), every page.
pub async fn school_pupils(
    store: &dyn Store,
    school: SchoolId,
) -> Result<Vec<PersonId>, StoreError> {
    let partition = keys::pupils_of_school_partition(school);
    indexed_people(store, Index::Gsi1, partition, "PUPIL#").await
}

/// Access pattern: the staff of a school (anyone with a duty there), one
/// query on GSI1 (`PEOPLE#SCHOOL#<school>`, `STAFF#<person>`), each once.
pub async fn school_staff(
    store: &dyn Store,
    school: SchoolId,
) -> Result<Vec<PersonId>, StoreError> {
    let partition = keys::pupils_of_school_partition(school);
    let mut staff = indexed_people(store, Index::Gsi1, partition, "STAFF#").await?;
    staff.sort();
    staff.dedup();
    Ok(staff)
}

/// Access pattern: the pupils of a group, one query on GSI1
/// (`PEOPLE#GROUP#<group>`, `MEMBER#<pupil>`).
pub async fn group_members(store: &dyn Store, group: GroupId) -> Result<Vec<PersonId>, StoreError> {
    let partition = keys::members_of_group_partition(group);
    indexed_people(store, Index::Gsi1, partition, MEMBER_ENTRY).await
}

/// GSI1 sort-key prefix of a group's member entries (the reverse of
/// `MemberOf`, `MEMBER#<pupilId>`).
const MEMBER_ENTRY: &str = "MEMBER#";

/// Access pattern: a group's member entries, each a pupil's `MemberOf`
/// item (GSI1 `PEOPLE#GROUP#<group>`, `MEMBER#<pupil>`).
pub fn member_entries(group: GroupId) -> Query {
    Query::partition(keys::members_of_group_partition(group))
        .on(Index::Gsi1)
        .begins_with(MEMBER_ENTRY)
}

/// The pupil a member entry (an item of [`member_entries`]) names.
pub fn member_entry_pupil(item: &Item) -> Option<PersonId> {
    PersonId::parse(item.gsi1.as_ref()?.sk.strip_prefix(MEMBER_ENTRY)?)
}

/// Access pattern: people by id, with one BatchGetItem per 100, read
/// eventually consistent (half the read units): every reader (the names
/// of a booking list, addresses and preferences for a mail) may lag a
/// second.
pub async fn people(store: &dyn Store, ids: &[PersonId]) -> Result<Vec<Person>, StoreError> {
    let mut people = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(100) {
        let keys: Vec<_> = chunk.iter().map(|p| keys::person(*p)).collect();
        for item in store.get_many_eventually(&keys).await? {
            people.push(item.parse()?);
        }
    }
    Ok(people)
}

/// The items that register a person and their relations (for seeding and
/// hand registration). Their memberships carry their name
/// ([`crate::roster`]).
pub fn person_items(person: &Person, relations: &[Relation]) -> Result<Vec<Item>, StoreError> {
    let mut items = vec![Item::new(keys::person(person.id), keys::PERSON, person)?];
    for r in relations {
        let item = match r {
            Relation::MemberOf {
                group_id,
                school_id,
                name: None,
            } => Relation::MemberOf {
                group_id: *group_id,
                school_id: *school_id,
                name: Some(RosterName::of(person)),
            }
            .to_item(person.id)?,
            _ => r.to_item(person.id)?,
        };
        items.push(item);
    }
    Ok(items)
}

pub fn school_item(school: &School) -> Result<Item, StoreError> {
    Item::new(keys::school(school.id), keys::SCHOOL, school)
}

pub fn group_item(group: &Group) -> Result<Item, StoreError> {
    Item::new(keys::group(group.id), keys::GROUP, group)
}

pub fn organisation_item(org: &Organisation) -> Result<Item, StoreError> {
    Item::new(keys::organisation(org.id), keys::ORGANISATION, org)
}
