//! From validated registry rows to the items Skolnav keeps for them: pure
//! functions, no store. Each registry object becomes one [`Plan`]: the
//! items it owns and a hash of their content, so an unchanged object is
//! recognised without writing anything.

use crate::directory::{
    Group, GroupKind, Left, LeftReason, Organisation, Person, Relation, School, SchoolSettings,
    StaffRole,
};
use crate::ids::{GroupId, OrganisationId, PersonId, SchoolId};
use crate::keys;
use crate::sms::MobileNumber;
use crate::ss12000::records::{
    AssignmentKind, DutyRole, DutyRow, Enrolment, GroupKind as RowGroupKind, GroupRow, ObjectType,
    OrganisationKind, OrganisationRow, PersonDetails, PersonStatus, PlacementRow, Responsible,
    ResponsibleKind,
};
use crate::store::{Item, Key, StoreError};
use chrono::NaiveDate;
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// The kinds of object the import keeps state for. `Responsibles` is a
/// pupil's set of responsibles, planned after every person was read (a
/// guardian may come after their child in the feed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Object {
    Organisation,
    Person,
    Responsibles,
    Group,
    Duty,
    Placement,
    Activity,
    /// A lesson (schemaposition).
    CalendarEvent,
}

impl Object {
    pub fn name(self) -> &'static str {
        match self {
            Object::Organisation => "Organisation",
            Object::Person => "Person",
            Object::Responsibles => "Responsibles",
            Object::Group => "Group",
            Object::Duty => "Duty",
            Object::Placement => "Placement",
            Object::Activity => "Activity",
            Object::CalendarEvent => "CalendarEvent",
        }
    }

    pub fn row_type(self) -> ObjectType {
        match self {
            Object::Organisation => ObjectType::Organisation,
            Object::Person | Object::Responsibles => ObjectType::Person,
            Object::Group => ObjectType::Group,
            Object::Duty => ObjectType::Duty,
            Object::Placement => ObjectType::Placement,
            Object::Activity => ObjectType::Activity,
            Object::CalendarEvent => ObjectType::CalendarEvent,
        }
    }
}

/// Attributes the import owns on items that Skolnav users also edit
/// (a person's language, a school's settings): an update replaces these and
/// keeps the rest.
pub fn owned_attributes(entity: &str) -> Option<&'static [&'static str]> {
    match entity {
        keys::PERSON => Some(&[
            "id",
            "givenName",
            "familyName",
            "email",
            "mobile",
            "textTo",
            "left",
        ]),
        keys::SCHOOL => Some(&["id", "organisationId", "name"]),
        _ => None,
    }
}

/// What one registry object should look like in the table.
#[derive(Debug, Clone)]
pub struct Plan {
    pub object: Object,
    pub id: Uuid,
    pub items: Vec<Item>,
    /// The schools the object belongs to (the mass-end guard holds back
    /// every object of a guarded school).
    pub schools: Vec<SchoolId>,
    /// For a pupil: whether they are enrolled anywhere after this plan.
    pub pupil_active: Option<bool>,
    /// For a duty: the person who holds it, kept in the import's state so
    /// a later delta run resolves an activity's teachers without reading
    /// every duty again. Not part of the hash.
    pub holder: Option<PersonId>,
    pub hash: String,
}

impl Plan {
    fn new(
        object: Object,
        id: Uuid,
        items: Vec<Item>,
        schools: Vec<SchoolId>,
        pupil_active: Option<bool>,
    ) -> Self {
        let hash = content_hash(&items);
        Plan {
            object,
            id,
            items,
            schools,
            pupil_active,
            holder: None,
            hash,
        }
    }

    pub fn state_key(&self) -> Key {
        keys::import_state(self.object.name(), ulid::Ulid::from(self.id.as_u128()))
    }

    pub fn targets(&self) -> Vec<Key> {
        self.items.iter().map(|i| i.key.clone()).collect()
    }
}

/// The hash of an object the registry deleted: whatever it was before, it
/// is ended now.
pub const ENDED_HASH: &str = "ended";

/// A deleted object: it keeps `items` (history) and loses the rest.
pub fn ended(object: Object, id: Uuid, items: Vec<Item>, schools: Vec<SchoolId>) -> Plan {
    Plan {
        object,
        id,
        items,
        schools,
        pupil_active: None,
        holder: None,
        hash: ENDED_HASH.to_string(),
    }
}

/// The key part that marks a registry person as protected: SHA-256 of a
/// fixed label and their registry id, first 16 bytes in hex. One way, so
/// the marker tells a later run "skip this reference silently" without the
/// table holding the id of a person with protected identity.
pub fn protected_digest(id: Uuid) -> String {
    let mut digest = Sha256::new();
    digest.update(b"skolnav-protected-person:");
    digest.update(id.as_bytes());
    short_hex(&digest.finalize())
}

fn short_hex(bytes: &[u8]) -> String {
    bytes[..16].iter().map(|b| format!("{b:02x}")).collect()
}

/// SHA-256 over each item's keys and attributes in canonical JSON (keys
/// sorted at every level), first 16 bytes in hex. Canonical by hand, not
/// `Value::to_string`: serde_json keeps insertion order when any crate in a
/// build turns on its `preserve_order` feature, and the same object must
/// hash alike in every binary that imports.
fn content_hash(items: &[Item]) -> String {
    let mut digest = Sha256::new();
    for item in items {
        let mut text = String::new();
        canonical(&serde_json::Value::Object(item.to_map()), &mut text);
        digest.update(text.as_bytes());
        digest.update([0]);
    }
    short_hex(&digest.finalize())
}

fn canonical(value: &serde_json::Value, out: &mut String) {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                canonical(&map[key], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical(item, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

pub fn is_active(start: Option<NaiveDate>, end: Option<NaiveDate>, today: NaiveDate) -> bool {
    start.is_none_or(|d| d <= today) && end.is_none_or(|d| d >= today)
}

fn enrolment_active(e: &Enrolment, today: NaiveDate) -> bool {
    !e.cancelled && is_active(e.start_date, e.end_date, today)
}

/// What a school unit's organisation tree says: which school units exist
/// and whose they are.
#[derive(Debug, Default)]
pub struct Organisations {
    rows: std::collections::HashMap<Uuid, OrganisationRow>,
}

impl Organisations {
    pub fn insert(&mut self, row: OrganisationRow) {
        self.rows.insert(row.id, row);
    }

    pub fn school(&self, id: Uuid) -> Option<SchoolId> {
        self.rows
            .get(&id)
            .filter(|r| r.kind == OrganisationKind::SchoolUnit)
            .map(|r| SchoolId::from_registry(r.id))
    }

    pub fn schools(&self) -> impl Iterator<Item = SchoolId> + '_ {
        self.rows
            .values()
            .filter(|r| r.kind == OrganisationKind::SchoolUnit)
            .map(|r| SchoolId::from_registry(r.id))
    }

    /// The owner (huvudman) above an organisation, following parents.
    pub fn owner_of(&self, id: Uuid) -> Option<OrganisationId> {
        let mut current = self.rows.get(&id)?;
        for _ in 0..16 {
            if current.kind == OrganisationKind::Owner {
                return Some(OrganisationId::from_registry(current.id));
            }
            current = self.rows.get(&current.parent?)?;
        }
        None
    }

    pub fn rows(&self) -> impl Iterator<Item = &OrganisationRow> {
        self.rows.values()
    }
}

/// An owner becomes an organisation, a school unit a school; the levels in
/// between only link the two. `Err` names the unresolvable reference.
pub fn organisation(
    row: &OrganisationRow,
    orgs: &Organisations,
) -> Result<Option<Plan>, &'static str> {
    let items = match row.kind {
        OrganisationKind::Owner => vec![crate::directory::organisation_item(&Organisation {
            id: OrganisationId::from_registry(row.id),
            name: row.name.clone(),
        })],
        OrganisationKind::SchoolUnit => {
            let owner = orgs.owner_of(row.id).ok_or("parentOrganisation")?;
            vec![crate::directory::school_item(&School {
                id: SchoolId::from_registry(row.id),
                organisation_id: owner,
                name: row.name.clone(),
                settings: SchoolSettings::default(),
            })]
        }
        OrganisationKind::Other => return Ok(None),
    }
    .into_iter()
    .collect::<Result<Vec<_>, StoreError>>()
    .map_err(|_| "displayName")?;
    let schools = orgs.school(row.id).into_iter().collect();
    Ok(Some(Plan::new(
        Object::Organisation,
        row.id,
        items,
        schools,
        None,
    )))
}

/// A person: their item, the schools they are enrolled at now, and for a
/// pupil enrolled at several schools a flag on each. A pupil who left
/// keeps their item, with the date and reason. `Err` names an enrolment
/// at a school the registry never sent.
pub fn person(row: &PersonDetails, orgs: &Organisations, today: NaiveDate) -> Result<Plan, String> {
    let id = PersonId::from_registry(row.id);
    let schools = enrolled_schools(row, orgs, today)?;
    let pupil = !row.enrolments.is_empty();
    let left = (pupil && schools.is_empty() && has_ended(row, today)).then(|| Left {
        on: left_on(row, today),
        reason: match row.status {
            PersonStatus::Emigrated => LeftReason::Emigrated,
            PersonStatus::Deceased => LeftReason::Deceased,
            PersonStatus::Active => LeftReason::EnrolmentEnded,
        },
    });
    let person = Person {
        id,
        given_name: row.given_name.clone(),
        family_name: row.family_name.clone(),
        email: row.email.clone(),
        mobile: row.mobile.clone(),
        text_to: row.mobile.as_deref().and_then(MobileNumber::parse),
        language: Default::default(),
        mail: Default::default(),
        left,
        // The import skips every protected person (A2).
        protected_identity: false,
    };
    let relations: Vec<Relation> = schools
        .iter()
        .map(|s| Relation::EnrolledAt {
            school_id: *s,
            school_year: school_year_at(row, orgs, *s, today),
        })
        .collect();
    let mut items =
        crate::directory::person_items(&person, &relations).map_err(|e| e.to_string())?;
    if schools.len() > 1 {
        for school in &schools {
            let flag = serde_json::json!({ "pupilId": id, "schoolIds": schools });
            items.push(
                Item::new(
                    keys::school_flag(*school, "ENROLLED_ELSEWHERE", id),
                    keys::FLAG,
                    &flag,
                )
                .map_err(|e| e.to_string())?,
            );
        }
    }
    let active = pupil.then_some(!schools.is_empty());
    let mut plan = Plan::new(Object::Person, row.id, items, schools, active);
    if row.status != PersonStatus::Active {
        // The registry says when nobody left by emigrating or dying: the
        // date is the first night the import saw it ([`keep_left`]), and
        // the hash leaves it out so later nights compare equal.
        let mut undated = plan.items.clone();
        if let Some(left) = undated[0]
            .attrs
            .get_mut("left")
            .and_then(|l| l.as_object_mut())
        {
            left.remove("on");
        }
        plan.hash = content_hash(&undated);
    }
    Ok(plan)
}

/// A person's `left` is set once: when the stored item already says the
/// person left for the same reason, its date stays.
pub fn keep_left(planned: &mut serde_json::Map<String, serde_json::Value>, stored: &Item) {
    let reason = |v: Option<&serde_json::Value>| v.and_then(|l| l.get("reason")).cloned();
    let stored_left = stored.attrs.get("left");
    if let (Some(r), Some(s)) = (reason(planned.get("left")), reason(stored_left))
        && r == s
        && let Some(stored_left) = stored_left
    {
        planned.insert("left".into(), stored_left.clone());
    }
}

/// The schools a person is enrolled at today (none once they emigrated or
/// died). `Err` names an enrolment at a school the registry never sent.
pub fn enrolled_schools(
    row: &PersonDetails,
    orgs: &Organisations,
    today: NaiveDate,
) -> Result<Vec<SchoolId>, String> {
    let mut schools = Vec::new();
    for (i, e) in row.enrolments.iter().enumerate() {
        let school = orgs
            .school(e.school_unit)
            .ok_or_else(|| format!("enrolments[{i}].enroledAt"))?;
        if enrolment_active(e, today)
            && row.status == PersonStatus::Active
            && !schools.contains(&school)
        {
            schools.push(school);
        }
    }
    Ok(schools)
}

/// The grade year of the pupil's active enrolment at `school`, if the
/// registry gives one.
fn school_year_at(
    row: &PersonDetails,
    orgs: &Organisations,
    school: SchoolId,
    today: NaiveDate,
) -> Option<u8> {
    row.enrolments
        .iter()
        .filter(|e| enrolment_active(e, today) && orgs.school(e.school_unit) == Some(school))
        .find_map(|e| e.school_year)
}

/// Ended, as opposed to not started yet: emigrated or deceased, or every
/// enrolment cancelled or over.
fn has_ended(row: &PersonDetails, today: NaiveDate) -> bool {
    row.status != PersonStatus::Active
        || row
            .enrolments
            .iter()
            .all(|e| e.cancelled || e.end_date.is_some_and(|d| d < today))
}

fn left_on(row: &PersonDetails, today: NaiveDate) -> NaiveDate {
    if row.status != PersonStatus::Active {
        return today;
    }
    row.enrolments
        .iter()
        .filter_map(|e| e.end_date)
        .max()
        .unwrap_or(today)
}

/// A pupil the registry no longer lists (deleted, or missing from a full
/// feed): their item stays, marked as left; enrolments and flags go.
pub fn removed_pupil(id: Uuid, current: &Item, today: NaiveDate) -> Result<Plan, StoreError> {
    let mut person: Person = current.parse()?;
    if person.left.is_none() {
        person.left = Some(Left {
            on: today,
            reason: LeftReason::RemovedFromRegistry,
        });
    }
    let items = crate::directory::person_items(&person, &[])?;
    Ok(Plan::new(
        Object::Person,
        id,
        items,
        Vec::new(),
        Some(false),
    ))
}

/// A pupil's responsibles: guardians get guardian rights; the other
/// relation types are recorded with their type and grant nothing, unless
/// `others_are_guardians` (a school setting) says so.
pub fn responsibles(
    pupil: Uuid,
    responsibles: &[Responsible],
    schools: &[SchoolId],
    others_are_guardians: bool,
) -> Result<Plan, StoreError> {
    let pupil_id = PersonId::from_registry(pupil);
    let mut items = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for r in responsibles {
        if !seen.insert((r.person, r.kind)) {
            continue;
        }
        let holder = PersonId::from_registry(r.person);
        // The copy of the pupil's places is made once they are written
        // (`child_places::copy_to_guardians`).
        let guardian = Relation::GuardianOf {
            pupil_id,
            places: None,
        };
        let relation = match r.kind {
            ResponsibleKind::Guardian => guardian,
            _ if others_are_guardians => guardian,
            kind => Relation::ResponsibleFor {
                pupil_id,
                relation_type: responsible_name(kind).to_string(),
            },
        };
        let item = relation.to_item(holder)?;
        if !items.iter().any(|i: &Item| i.key == item.key) {
            items.push(item);
        }
    }
    Ok(Plan::new(
        Object::Responsibles,
        pupil,
        items,
        schools.to_vec(),
        None,
    ))
}

fn responsible_name(kind: ResponsibleKind) -> &'static str {
    match kind {
        ResponsibleKind::Guardian => "Vårdnadshavare",
        ResponsibleKind::OtherResponsible => "Annan ansvarig",
        ResponsibleKind::TrustedRepresentative => "God man",
        ResponsibleKind::AppointedAuthorised => "Utsedd behörig",
    }
}

pub fn group_kind(row: &GroupRow) -> Option<GroupKind> {
    match row.kind {
        RowGroupKind::Class => Some(GroupKind::Class),
        RowGroupKind::Teaching => Some(GroupKind::TeachingGroup),
        RowGroupKind::Mentor => Some(GroupKind::MentorGroup),
        RowGroupKind::Department if row.school_type.as_deref() == Some("FTH") => {
            Some(GroupKind::FritidsGroup)
        }
        RowGroupKind::Department | RowGroupKind::Other => None,
    }
}

/// A group and its current members (each a `MemberOf` in the member's
/// partition). `members` are the memberships whose person is known and
/// not protected; the caller has filtered them.
pub fn group(
    row: &GroupRow,
    kind: GroupKind,
    school: SchoolId,
    members: &[Uuid],
) -> Result<Plan, StoreError> {
    let group_id = GroupId::from_registry(row.id);
    let mut items = vec![crate::directory::group_item(&Group {
        id: group_id,
        school_id: school,
        name: row.name.clone(),
        kind,
    })?];
    for m in members {
        // The copy of the pupil's name is made as it is written
        // (`roster::fill_in`).
        let relation = Relation::MemberOf {
            group_id,
            school_id: school,
            name: None,
        };
        let item = relation.to_item(PersonId::from_registry(*m))?;
        if !items.iter().any(|i: &Item| i.key == item.key) {
            items.push(item);
        }
    }
    Ok(Plan::new(Object::Group, row.id, items, vec![school], None))
}

pub fn staff_role(role: DutyRole) -> Option<StaffRole> {
    match role {
        DutyRole::Principal => Some(StaffRole::Principal),
        DutyRole::SchoolAdmin => Some(StaffRole::SchoolAdmin),
        DutyRole::Teacher => Some(StaffRole::Teacher),
        DutyRole::FritidsStaff => Some(StaffRole::FritidsStaff),
        DutyRole::Other => None,
    }
}

/// A duty: the person's role at the school, and their mentor and teaching
/// assignments to groups. `groups` resolves a group to its school (only
/// known groups are passed in).
pub fn duty(
    row: &DutyRow,
    school: SchoolId,
    assignments: &[(GroupId, SchoolId, AssignmentKind)],
    today: NaiveDate,
) -> Result<Plan, StoreError> {
    let holder = PersonId::from_registry(row.person);
    let mut relations = Vec::new();
    if is_active(row.start_date, row.end_date, today) {
        if let Some(role) = staff_role(row.role) {
            relations.push(Relation::Duty {
                school_id: school,
                role,
            });
        }
        for (group_id, school_id, kind) in assignments {
            let relation = match kind {
                AssignmentKind::Mentor => Relation::MentorOf {
                    group_id: *group_id,
                    school_id: *school_id,
                },
                AssignmentKind::Teaching => Relation::TeacherOf {
                    group_id: *group_id,
                    school_id: *school_id,
                },
                AssignmentKind::Other => continue,
            };
            if !relations.contains(&relation) {
                relations.push(relation);
            }
        }
    }
    let items = relations
        .iter()
        .map(|r| r.to_item(holder))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Plan::new(Object::Duty, row.id, items, vec![school], None))
}

/// A placement (fritids): while it is active, the child is `PlacedAt` the
/// school (and group), and each owner may set the child's stay schedule.
/// Ended or not started yet, it holds nothing. `owners` are the known,
/// unprotected ones; the caller has filtered them.
pub fn placement(
    row: &PlacementRow,
    school: SchoolId,
    group: Option<GroupId>,
    owners: &[Uuid],
    today: NaiveDate,
) -> Result<Plan, StoreError> {
    let child = PersonId::from_registry(row.child);
    let mut items = Vec::new();
    if is_active(row.start_date, row.end_date, today) {
        let placed = Relation::PlacedAt {
            school_id: school,
            group_id: group,
            school_type: row.school_type.clone(),
        };
        items.push(placed.to_item(child)?);
        for owner in owners {
            let right = Relation::StayScheduleOwnerOf { pupil_id: child };
            let item = right.to_item(PersonId::from_registry(*owner))?;
            if !items.iter().any(|i: &Item| i.key == item.key) {
                items.push(item);
            }
        }
    }
    Ok(Plan::new(
        Object::Placement,
        row.id,
        items,
        vec![school],
        None,
    ))
}

/// An activity: the item its lessons are re-planned from.
pub fn activity(id: Uuid, activity: &crate::lessons::Activity) -> Result<Plan, StoreError> {
    let items = vec![crate::lessons::activity_item(activity)?];
    if activity.removed {
        return Ok(ended(Object::Activity, id, items, vec![activity.school_id]));
    }
    Ok(Plan::new(
        Object::Activity,
        id,
        items,
        vec![activity.school_id],
        None,
    ))
}

/// A lesson: its item and its group and teacher copies. A lesson removed
/// in the registry keeps them (cancelled) as an ended plan.
pub fn lesson(id: Uuid, lesson: &crate::lessons::Lesson) -> Result<Plan, StoreError> {
    let items = lesson.items()?;
    let schools = vec![lesson.school_id];
    if lesson.removed {
        return Ok(ended(Object::CalendarEvent, id, items, schools));
    }
    Ok(Plan::new(Object::CalendarEvent, id, items, schools, None))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ss12000::records::{CivicNo, CivicNoKind};

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn uuid(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    fn orgs() -> Organisations {
        let mut o = Organisations::default();
        o.insert(OrganisationRow {
            id: uuid(1),
            name: "Kommunen".into(),
            kind: OrganisationKind::Owner,
            parent: None,
            school_unit_code: None,
            end_date: None,
        });
        o.insert(OrganisationRow {
            id: uuid(2),
            name: "Rektorsområde Norr".into(),
            kind: OrganisationKind::Other,
            parent: Some(uuid(1)),
            school_unit_code: None,
            end_date: None,
        });
        for (id, name) in [(3, "Solrosskolan"), (4, "Ekbacken")] {
            o.insert(OrganisationRow {
                id: uuid(id),
                name: name.into(),
                kind: OrganisationKind::SchoolUnit,
                parent: Some(uuid(2)),
                school_unit_code: Some("12345678".into()),
                end_date: None,
            });
        }
        o
    }

    fn pupil(enrolments: Vec<Enrolment>, status: PersonStatus) -> PersonDetails {
        PersonDetails {
            id: uuid(100),
            given_name: "Alva".into(),
            family_name: "Berg".into(),
            civic_no: CivicNo {
                value: "201501012386".into(),
                kind: CivicNoKind::Personnummer,
            },
            status,
            email: None,
            mobile: None,
            enrolments,
            responsibles: vec![],
        }
    }

    fn enrolment(school: u128, start: &str, end: Option<&str>) -> Enrolment {
        Enrolment {
            school_unit: uuid(school),
            school_type: "GR".into(),
            school_year: Some(4),
            start_date: Some(day(start)),
            end_date: end.map(day),
            cancelled: false,
        }
    }

    #[test]
    fn canonical_json_sorts_keys_at_every_level_whatever_the_map_order() {
        let mut inner = serde_json::Map::new();
        inner.insert("d".into(), serde_json::json!(2));
        inner.insert("c".into(), serde_json::json!([{"z": 1, "y": 2}]));
        let mut outer = serde_json::Map::new();
        outer.insert("b".into(), serde_json::json!(1));
        outer.insert("a".into(), serde_json::Value::Object(inner));
        let mut text = String::new();
        canonical(&serde_json::Value::Object(outer), &mut text);
        assert_eq!(text, r#"{"a":{"c":[{"y":2,"z":1}],"d":2},"b":1}"#);
    }

    #[test]
    fn a_school_unit_belongs_to_the_owner_above_the_levels_between() {
        let o = orgs();
        assert_eq!(
            o.owner_of(uuid(3)),
            Some(OrganisationId::from_registry(uuid(1)))
        );
        let plan = organisation(o.rows.get(&uuid(3)).unwrap(), &o)
            .unwrap()
            .unwrap();
        let school: School = plan.items[0].parse().unwrap();
        assert_eq!(
            school.organisation_id,
            OrganisationId::from_registry(uuid(1))
        );
        assert!(
            organisation(o.rows.get(&uuid(2)).unwrap(), &o)
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn an_enrolled_pupil_is_active_at_their_school_and_not_left() {
        let today = day("2026-11-23");
        let plan = person(
            &pupil(vec![enrolment(3, "2022-08-15", None)], PersonStatus::Active),
            &orgs(),
            today,
        )
        .unwrap();
        assert_eq!(plan.pupil_active, Some(true));
        assert_eq!(plan.schools, vec![SchoolId::from_registry(uuid(3))]);
        let person: Person = plan.items[0].parse().unwrap();
        assert_eq!(person.left, None);
    }

    #[test]
    fn the_import_keeps_the_mobile_as_sent_and_stores_where_a_text_can_reach_it() {
        let today = day("2026-11-23");
        let with = |mobile: &str| {
            let mut row = pupil(vec![], PersonStatus::Active);
            row.mobile = Some(mobile.into());
            let plan = person(&row, &orgs(), today).unwrap();
            plan.items[0].parse::<Person>().unwrap()
        };
        let mobile = with("070-123 45 67");
        assert_eq!(mobile.mobile.as_deref(), Some("070-123 45 67"));
        assert_eq!(
            mobile.text_to.as_ref().map(MobileNumber::as_str),
            Some("+46701234567")
        );
        let landline = with("08-123 456 78");
        assert_eq!(landline.mobile.as_deref(), Some("08-123 456 78"));
        assert_eq!(landline.text_to, None, "a landline takes no text");
        assert_eq!(with("ring mamma").text_to, None);
    }

    #[test]
    fn a_pupil_whose_enrolment_ended_has_left_on_its_last_day() {
        let today = day("2026-11-23");
        let plan = person(
            &pupil(
                vec![enrolment(3, "2022-08-15", Some("2026-10-31"))],
                PersonStatus::Active,
            ),
            &orgs(),
            today,
        )
        .unwrap();
        assert_eq!(plan.pupil_active, Some(false));
        let person: Person = plan.items[0].parse().unwrap();
        assert_eq!(
            person.left,
            Some(Left {
                on: day("2026-10-31"),
                reason: LeftReason::EnrolmentEnded
            })
        );
        assert_eq!(plan.items.len(), 1, "no enrolment relation is kept");
    }

    #[test]
    fn an_emigrated_pupil_has_left_even_with_an_open_enrolment() {
        let plan = person(
            &pupil(
                vec![enrolment(3, "2022-08-15", None)],
                PersonStatus::Emigrated,
            ),
            &orgs(),
            day("2026-11-23"),
        )
        .unwrap();
        let person: Person = plan.items[0].parse().unwrap();
        assert_eq!(person.left.unwrap().reason, LeftReason::Emigrated);
    }

    #[test]
    fn a_pupil_who_starts_next_term_has_not_left() {
        let plan = person(
            &pupil(vec![enrolment(3, "2027-01-08", None)], PersonStatus::Active),
            &orgs(),
            day("2026-11-23"),
        )
        .unwrap();
        let person: Person = plan.items[0].parse().unwrap();
        assert_eq!(person.left, None);
        assert_eq!(plan.pupil_active, Some(false));
    }

    #[test]
    fn a_pupil_at_two_schools_is_flagged_at_both() {
        let plan = person(
            &pupil(
                vec![
                    enrolment(3, "2022-08-15", None),
                    enrolment(4, "2025-08-15", None),
                ],
                PersonStatus::Active,
            ),
            &orgs(),
            day("2026-11-23"),
        )
        .unwrap();
        let flags: Vec<_> = plan
            .items
            .iter()
            .filter(|i| i.entity == keys::FLAG)
            .collect();
        assert_eq!(flags.len(), 2);
        assert!(
            flags[0]
                .key
                .pk
                .ends_with(&SchoolId::from_registry(uuid(3)).to_string())
        );
        assert!(
            flags[1]
                .key
                .pk
                .ends_with(&SchoolId::from_registry(uuid(4)).to_string())
        );
    }

    #[test]
    fn an_enrolment_at_an_unknown_school_names_the_field() {
        let err = person(
            &pupil(
                vec![enrolment(99, "2022-08-15", None)],
                PersonStatus::Active,
            ),
            &orgs(),
            day("2026-11-23"),
        )
        .unwrap_err();
        assert_eq!(err, "enrolments[0].enroledAt");
    }

    #[test]
    fn the_same_content_hashes_alike_and_a_changed_guardian_does_not() {
        let guarded_by = |guardian: u128| {
            let r = Responsible {
                person: uuid(guardian),
                kind: ResponsibleKind::Guardian,
            };
            responsibles(uuid(100), &[r], &[], false).unwrap().hash
        };
        assert_eq!(guarded_by(200), guarded_by(200));
        assert_ne!(guarded_by(200), guarded_by(201));
    }

    #[test]
    fn other_responsibles_are_recorded_without_guardian_rights_unless_the_school_says_so() {
        let r = [Responsible {
            person: uuid(200),
            kind: ResponsibleKind::TrustedRepresentative,
        }];
        let plan = responsibles(uuid(100), &r, &[], false).unwrap();
        let relation: Relation = plan.items[0].parse().unwrap();
        assert_eq!(
            relation,
            Relation::ResponsibleFor {
                pupil_id: PersonId::from_registry(uuid(100)),
                relation_type: "God man".into()
            }
        );
        let plan = responsibles(uuid(100), &r, &[], true).unwrap();
        let relation: Relation = plan.items[0].parse().unwrap();
        assert!(matches!(relation, Relation::GuardianOf { .. }));
    }

    #[test]
    fn an_ended_duty_grants_nothing() {
        let row = DutyRow {
            id: uuid(300),
            person: uuid(301),
            duty_at: uuid(3),
            role: DutyRole::Teacher,
            assignments: vec![],
            start_date: Some(day("2020-08-01")),
            end_date: Some(day("2026-06-30")),
        };
        let plan = duty(
            &row,
            SchoolId::from_registry(uuid(3)),
            &[],
            day("2026-11-23"),
        )
        .unwrap();
        assert!(plan.items.is_empty());
    }

    #[test]
    fn a_fritids_placement_places_the_child_and_lets_its_owners_set_the_schedule_until_it_ends() {
        let school = SchoolId::from_registry(uuid(3));
        let group = Some(GroupId::from_registry(uuid(40)));
        let mut row = PlacementRow {
            id: uuid(400),
            child: uuid(401),
            placed_at: uuid(3),
            group: Some(uuid(40)),
            school_type: "FTH".into(),
            owners: vec![uuid(402), uuid(403)],
            start_date: Some(day("2026-08-17")),
            end_date: None,
        };
        let owners = [uuid(402), uuid(403), uuid(402)];
        let active = placement(&row, school, group, &owners, day("2026-11-23")).unwrap();
        let relations: Vec<Relation> = active.items.iter().map(|i| i.parse().unwrap()).collect();
        assert_eq!(
            relations,
            vec![
                Relation::PlacedAt {
                    school_id: school,
                    group_id: group,
                    school_type: "FTH".into()
                },
                Relation::StayScheduleOwnerOf {
                    pupil_id: PersonId::from_registry(uuid(401))
                },
                Relation::StayScheduleOwnerOf {
                    pupil_id: PersonId::from_registry(uuid(401))
                },
            ]
        );
        assert_eq!(
            active.items[0].key.pk,
            keys::person_partition(PersonId::from_registry(uuid(401)))
        );
        assert_eq!(
            active.items[2].key.pk,
            keys::person_partition(PersonId::from_registry(uuid(403)))
        );

        row.end_date = Some(day("2026-11-20"));
        let ended = placement(&row, school, group, &owners, day("2026-11-23")).unwrap();
        assert!(ended.items.is_empty());
        assert_ne!(ended.hash, active.hash);
    }
}
