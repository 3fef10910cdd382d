//! Who a post, news item or event is addressed to (C1, C2, C3), parsed
//! into types at the edge, and who may address whom (the role table of the
//! seeds: a teacher the groups they teach, a mentor their mentor group,
//! principal and school admin their school and anything within it, an
//! organisation admin the schools of the organisation).
//!
//! An audience is one of: staff of a school; one or more groups, and
//! within each group its pupils and/or their guardians; grade years of a
//! school; a whole school; several schools.

use crate::directory::{self, Group, PersonRecord, School, StaffRole};
use crate::ids::{GroupId, PersonId, SchoolId};
use crate::store::{Index, Query, Store, StoreError, query_all};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap};

/// The most groups one audience may name.
pub const MAX_GROUPS: usize = 20;
/// The most schools one organisation-level audience may name.
pub const MAX_SCHOOLS: usize = 50;
/// Grade years of compulsory school: förskoleklass (0) to year 10
/// (anpassad grundskola).
pub const GRADE_YEARS: std::ops::RangeInclusive<u8> = 0..=10;

/// Some grade years of a school (0-10), as a bit set so that it stays
/// `Copy` inside a placement; on the wire, the sorted list of years.
/// Empty: no grade-year limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Grades(u16);

impl Grades {
    /// The years of [`GRADE_YEARS`] among `years` (others are ignored).
    pub fn of(years: &[u8]) -> Self {
        Grades(
            years
                .iter()
                .filter(|y| GRADE_YEARS.contains(y))
                .fold(0, |bits, y| bits | 1 << y),
        )
    }

    pub fn is_empty(&self) -> bool {
        self.0 == 0
    }

    pub fn years(&self) -> Vec<u8> {
        GRADE_YEARS.filter(|y| self.0 & (1 << y) != 0).collect()
    }

    /// Whether any of `years` is in the set.
    pub fn meets(&self, years: &[u8]) -> bool {
        Grades::of(years).0 & self.0 != 0
    }
}

impl Serialize for Grades {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.years().serialize(s)
    }
}

impl<'de> Deserialize<'de> for Grades {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Grades::of(&Vec::<u8>::deserialize(d)?))
    }
}

/// Which people of a group (or school) are reached.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Reach {
    pub pupils: bool,
    pub guardians: bool,
}

/// One addressed group.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct GroupTarget {
    pub group_id: GroupId,
    #[serde(flatten)]
    pub reach: Reach,
}

/// A parsed audience: every id well formed, no duplicates, something
/// reached.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum Audience {
    #[serde(rename_all = "camelCase")]
    SchoolStaff {
        school_id: SchoolId,
    },
    Groups(Vec<GroupTarget>),
    #[serde(rename_all = "camelCase")]
    GradeYears {
        school_id: SchoolId,
        years: Vec<u8>,
        #[serde(flatten)]
        reach: Reach,
    },
    #[serde(rename_all = "camelCase")]
    School {
        school_id: SchoolId,
        #[serde(flatten)]
        reach: Reach,
        staff: bool,
    },
    #[serde(rename_all = "camelCase")]
    Schools {
        school_ids: Vec<SchoolId>,
        #[serde(flatten)]
        reach: Reach,
        staff: bool,
    },
}

/// An audience as a client sends it: exactly one of the keys.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub enum AudienceBody {
    SchoolStaff(SchoolStaffBody),
    Groups(Vec<GroupBody>),
    GradeYears(GradeYearsBody),
    School(SchoolBody),
    Schools(SchoolsBody),
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SchoolStaffBody {
    school_id: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GroupBody {
    group_id: String,
    #[serde(default = "yes")]
    pupils: bool,
    #[serde(default = "yes")]
    guardians: bool,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GradeYearsBody {
    school_id: String,
    years: Vec<u8>,
    #[serde(default = "yes")]
    pupils: bool,
    #[serde(default = "yes")]
    guardians: bool,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SchoolBody {
    school_id: String,
    #[serde(default = "yes")]
    pupils: bool,
    #[serde(default = "yes")]
    guardians: bool,
    #[serde(default)]
    staff: bool,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SchoolsBody {
    school_ids: Vec<String>,
    #[serde(default = "yes")]
    pupils: bool,
    #[serde(default = "yes")]
    guardians: bool,
    #[serde(default)]
    staff: bool,
}

fn yes() -> bool {
    true
}

/// A field of the request at fault, with why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

fn field_error(field: impl Into<String>, message: impl Into<String>) -> FieldError {
    FieldError {
        field: field.into(),
        message: message.into(),
    }
}

fn reach(field: &str, pupils: bool, guardians: bool) -> Result<Reach, FieldError> {
    if !pupils && !guardians {
        return Err(field_error(
            field,
            "reaches no one: set pupils or guardians (or both)",
        ));
    }
    Ok(Reach { pupils, guardians })
}

fn school_id(field: &str, text: &str) -> Result<SchoolId, FieldError> {
    SchoolId::parse(text).ok_or_else(|| field_error(field, "not a valid id"))
}

impl AudienceBody {
    /// Parses into an [`Audience`]; `at` is the path of the audience in the
    /// request (`audience`), so an error names the exact field.
    pub fn parse(self, at: &str) -> Result<Audience, FieldError> {
        match self {
            AudienceBody::SchoolStaff(b) => Ok(Audience::SchoolStaff {
                school_id: school_id(&format!("{at}.schoolStaff.schoolId"), &b.school_id)?,
            }),
            AudienceBody::Groups(groups) => {
                let field = format!("{at}.groups");
                if groups.is_empty() {
                    return Err(field_error(field, "at least one group"));
                }
                if groups.len() > MAX_GROUPS {
                    return Err(field_error(field, format!("at most {MAX_GROUPS} groups")));
                }
                let mut seen = BTreeSet::new();
                let mut targets = Vec::with_capacity(groups.len());
                for (i, g) in groups.into_iter().enumerate() {
                    let id_field = format!("{field}[{i}].groupId");
                    let group_id = GroupId::parse(&g.group_id)
                        .ok_or_else(|| field_error(&id_field, "not a valid id"))?;
                    if !seen.insert(group_id) {
                        return Err(field_error(id_field, "the same group twice"));
                    }
                    targets.push(GroupTarget {
                        group_id,
                        reach: reach(&format!("{field}[{i}]"), g.pupils, g.guardians)?,
                    });
                }
                Ok(Audience::Groups(targets))
            }
            AudienceBody::GradeYears(b) => {
                let field = format!("{at}.gradeYears");
                let years: BTreeSet<u8> = b.years.iter().copied().collect();
                if years.is_empty() {
                    return Err(field_error(format!("{field}.years"), "at least one year"));
                }
                if years.len() != b.years.len() || years.iter().any(|y| !GRADE_YEARS.contains(y)) {
                    return Err(field_error(
                        format!("{field}.years"),
                        "distinct grade years from 0 (förskoleklass) to 10",
                    ));
                }
                Ok(Audience::GradeYears {
                    school_id: school_id(&format!("{field}.schoolId"), &b.school_id)?,
                    years: years.into_iter().collect(),
                    reach: reach(&field, b.pupils, b.guardians)?,
                })
            }
            AudienceBody::School(b) => {
                let field = format!("{at}.school");
                let school_id = school_id(&format!("{field}.schoolId"), &b.school_id)?;
                if !b.pupils && !b.guardians && !b.staff {
                    return Err(field_error(field, "reaches no one"));
                }
                Ok(Audience::School {
                    school_id,
                    reach: Reach {
                        pupils: b.pupils,
                        guardians: b.guardians,
                    },
                    staff: b.staff,
                })
            }
            AudienceBody::Schools(b) => {
                let field = format!("{at}.schools");
                if b.school_ids.is_empty() || b.school_ids.len() > MAX_SCHOOLS {
                    return Err(field_error(
                        format!("{field}.schoolIds"),
                        format!("1 to {MAX_SCHOOLS} schools"),
                    ));
                }
                let mut ids = Vec::with_capacity(b.school_ids.len());
                for (i, s) in b.school_ids.iter().enumerate() {
                    let f = format!("{field}.schoolIds[{i}]");
                    let id = school_id(&f, s)?;
                    if ids.contains(&id) {
                        return Err(field_error(f, "the same school twice"));
                    }
                    ids.push(id);
                }
                if !b.pupils && !b.guardians && !b.staff {
                    return Err(field_error(field, "reaches no one"));
                }
                Ok(Audience::Schools {
                    school_ids: ids,
                    reach: Reach {
                        pupils: b.pupils,
                        guardians: b.guardians,
                    },
                    staff: b.staff,
                })
            }
        }
    }
}

impl Audience {
    /// The groups named, when the audience is groups.
    pub fn groups(&self) -> Option<&[GroupTarget]> {
        match self {
            Audience::Groups(g) => Some(g),
            _ => None,
        }
    }

    /// The schools the audience is within (empty for groups: their schools
    /// are on the group items).
    pub fn schools(&self) -> Vec<SchoolId> {
        match self {
            Audience::SchoolStaff { school_id }
            | Audience::GradeYears { school_id, .. }
            | Audience::School { school_id, .. } => vec![*school_id],
            Audience::Schools { school_ids, .. } => school_ids.clone(),
            Audience::Groups(_) => vec![],
        }
    }
}

/// Why an audience may not be addressed: the field naming the part the
/// caller may not reach.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("may not address {field}")]
pub struct NotAddressable {
    pub field: String,
}

const LEADERS: [StaffRole; 2] = [StaffRole::Principal, StaffRole::SchoolAdmin];

/// Whether the caller may address anything at all: staff with a duty
/// somewhere, or an organisation admin. Decided before anything is read,
/// so guardians and pupils are refused without a request to the store.
pub fn may_address_anyone(caller: &PersonRecord) -> bool {
    caller.relations.iter().any(|r| {
        matches!(
            r,
            directory::Relation::Duty { .. } | directory::Relation::OrganisationAdmin { .. }
        )
    })
}

/// The role table for one group: its teachers and mentors, the leaders
/// of its school, admins of the school's organisation.
pub fn may_address_group(caller: &PersonRecord, group: &Group, school: Option<&School>) -> bool {
    caller.taught_groups().any(|g| g == group.id)
        || caller.mentor_groups().any(|g| g == group.id)
        || caller.has_role_at(group.school_id, &LEADERS)
        || school.is_some_and(|s| caller.is_organisation_admin(s.organisation_id))
}

/// News to groups (C3) is for the leaders of their school and admins of
/// its organisation, not for every teacher of the group.
pub fn may_send_news_to_group(
    caller: &PersonRecord,
    group: &Group,
    school: Option<&School>,
) -> bool {
    caller.has_role_at(group.school_id, &LEADERS)
        || school.is_some_and(|s| caller.is_organisation_admin(s.organisation_id))
}

/// The role table for a school-level audience: staff of the school only
/// for the principal (Haldor: skolledare), the school's pupils and
/// guardians for principal and admin, and the organisation admin for the
/// schools of the organisation.
pub fn may_address_school(caller: &PersonRecord, school: &School, staff: bool) -> bool {
    let roles: &[StaffRole] = if staff {
        &[StaffRole::Principal]
    } else {
        &LEADERS
    };
    caller.has_role_at(school.id, roles) || caller.is_organisation_admin(school.organisation_id)
}

/// Decides a whole audience. `groups` and `schools` are the items the
/// audience names (an id missing from them is treated like one the caller
/// may not address, so a refusal never tells whether a group exists).
pub fn authorize(
    caller: &PersonRecord,
    audience: &Audience,
    at: &str,
    groups: &HashMap<GroupId, Group>,
    schools: &HashMap<SchoolId, School>,
) -> Result<(), NotAddressable> {
    let refuse = |field: String| Err(NotAddressable { field });
    match audience {
        Audience::Groups(targets) => {
            for (i, t) in targets.iter().enumerate() {
                let ok = groups
                    .get(&t.group_id)
                    .is_some_and(|g| may_address_group(caller, g, schools.get(&g.school_id)));
                if !ok {
                    return refuse(format!("{at}.groups[{i}].groupId"));
                }
            }
            Ok(())
        }
        Audience::SchoolStaff { school_id } => match schools.get(school_id) {
            Some(s) if may_address_school(caller, s, true) => Ok(()),
            _ => refuse(format!("{at}.schoolStaff.schoolId")),
        },
        Audience::GradeYears { school_id, .. } => match schools.get(school_id) {
            Some(s) if may_address_school(caller, s, false) => Ok(()),
            _ => refuse(format!("{at}.gradeYears.schoolId")),
        },
        Audience::School {
            school_id, staff, ..
        } => match schools.get(school_id) {
            Some(s) if may_address_school(caller, s, *staff) => Ok(()),
            _ => refuse(format!("{at}.school.schoolId")),
        },
        Audience::Schools { school_ids, .. } => {
            for (i, id) in school_ids.iter().enumerate() {
                let ok = schools
                    .get(id)
                    .is_some_and(|s| caller.is_organisation_admin(s.organisation_id));
                if !ok {
                    return refuse(format!("{at}.schools.schoolIds[{i}]"));
                }
            }
            Ok(())
        }
    }
}

/// Access pattern: the guardians of a pupil, one query on GSI1
/// (`PEOPLE#PERSON#<pupil>`, `GUARDIAN#<guardian>`).
pub async fn guardians_of(store: &dyn Store, pupil: PersonId) -> Result<Vec<PersonId>, StoreError> {
    let items = query_all(
        store,
        Query::partition(directory::pointing_at(pupil).pk)
            .on(Index::Gsi1)
            .begins_with("GUARDIAN#"),
    )
    .await?;
    Ok(items
        .iter()
        .filter_map(|i| i.gsi1.as_ref())
        .filter_map(|k| k.sk.strip_prefix("GUARDIAN#"))
        .filter_map(PersonId::parse)
        .collect())
}

/// The people a group audience reaches, each once (a guardian of two
/// children in two addressed groups is one recipient). Persons with
/// protected identity are never in the table (the import skips them and
/// removes what it wrote of someone who becomes protected), so they are
/// never among these; the list itself is never shown to anyone, only its
/// size.
pub async fn group_recipients(
    store: &dyn Store,
    targets: &[GroupTarget],
) -> Result<BTreeSet<PersonId>, StoreError> {
    let mut people = BTreeSet::new();
    for t in targets {
        let pupils = directory::group_members(store, t.group_id).await?;
        families(store, &pupils, t.reach, &mut people).await?;
    }
    Ok(people)
}

/// Guardian queries in flight at once: a class's families are read in a
/// few round trips instead of one per pupil, well inside what one
/// partition of the index serves.
const CONCURRENT_GUARDIAN_QUERIES: usize = 16;

/// Adds the pupils and/or their guardians to `people`: one query per pupil
/// for guardians ([`guardians_of`]), [`CONCURRENT_GUARDIAN_QUERIES`] at once.
async fn families(
    store: &dyn Store,
    pupils: &[PersonId],
    reach: Reach,
    people: &mut BTreeSet<PersonId>,
) -> Result<(), StoreError> {
    use futures_util::{StreamExt, TryStreamExt};
    if reach.pupils {
        people.extend(pupils.iter().copied());
    }
    if reach.guardians {
        let mut guardians = futures_util::stream::iter(pupils.to_vec())
            .map(|pupil| guardians_of(store, pupil))
            .buffer_unordered(CONCURRENT_GUARDIAN_QUERIES);
        while let Some(found) = guardians.try_next().await? {
            people.extend(found);
        }
    }
    Ok(())
}

/// The groups and schools an audience names (the schools of its groups
/// included), two BatchGetItems. An id missing from the answer is refused
/// by [`authorize`] like one the caller may not address.
pub async fn addressed(
    store: &dyn Store,
    audience: &Audience,
) -> Result<(HashMap<GroupId, Group>, HashMap<SchoolId, School>), StoreError> {
    let mut groups = HashMap::new();
    if let Some(targets) = audience.groups() {
        let keys: Vec<_> = targets
            .iter()
            .map(|t| crate::keys::group(t.group_id))
            .collect();
        for item in store.get_many(&keys).await? {
            let g: Group = item.parse()?;
            groups.insert(g.id, g);
        }
    }
    let mut school_ids: Vec<SchoolId> = groups.values().map(|g| g.school_id).collect();
    school_ids.extend(audience.schools());
    school_ids.sort();
    school_ids.dedup();
    let keys: Vec<_> = school_ids.iter().map(|s| crate::keys::school(*s)).collect();
    let mut schools = HashMap::new();
    for item in store.get_many(&keys).await? {
        let s: School = item.parse()?;
        schools.insert(s.id, s);
    }
    Ok((groups, schools))
}

/// Who of a school the caller is, for its calendar and news
/// ([`crate::policy::read_school`]): the guardian's question (is a child of theirs
/// enrolled there) costs one read, and only for someone neither staff nor
/// pupil of the school.
pub async fn school_view(
    store: &dyn Store,
    caller: &PersonRecord,
    school: SchoolId,
) -> Result<Option<crate::policy::ReadView>, StoreError> {
    let child_enrolled = !caller.has_duty_at(school)
        && caller.enrolled_school() != Some(school)
        && directory::has_child_enrolled_at(store, caller, school).await?;
    Ok(crate::policy::read_school(caller, school, child_enrolled))
}

/// What a caller with no duty anywhere and no organisation role is to a
/// group, found without reading the group: whether they are one of its
/// pupils (their own record says) and which of their children are (one
/// BatchGetItem of the children's memberships, none without children).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Family {
    pub pupil: bool,
    pub children: Vec<PersonId>,
}

impl Family {
    /// Someone who is neither a pupil of the group nor a guardian of one
    /// may not know the group exists.
    pub fn knows_group(&self) -> bool {
        self.pupil || !self.children.is_empty()
    }
}

/// The family side of a group read ([`Family`]), or `None` for a caller
/// with a duty anywhere or an organisation role: staff views need the
/// group's school, so those take the group's path.
pub async fn family_of_group(
    store: &dyn Store,
    caller: &PersonRecord,
    group_id: GroupId,
) -> Result<Option<Family>, StoreError> {
    if may_address_anyone(caller) {
        return Ok(None);
    }
    Ok(Some(Family {
        pupil: caller.groups().any(|g| g == group_id),
        children: directory::children_in_group(store, caller, group_id).await?,
    }))
}

/// How a pupil or guardian reads a group's feeds (blog, calendar, news),
/// without reading the group ([`family_of_group`]). `None` for staff.
pub async fn family_view(
    store: &dyn Store,
    caller: &PersonRecord,
    group_id: GroupId,
) -> Result<Option<Result<crate::policy::ReadView, crate::policy::Decision>>, StoreError> {
    Ok(family_of_group(store, caller, group_id)
        .await?
        .map(|family| crate::policy::read_group_feed_as_family(&family)))
}

/// The caller's children who are pupils of the group
/// ([`directory::children_in_group`]; none asked for the group's staff, who
/// are decided without them).
pub async fn children_in_group(
    store: &dyn Store,
    caller: &PersonRecord,
    group: &Group,
) -> Result<Vec<PersonId>, StoreError> {
    if crate::policy::is_group_staff(caller, group) {
        return Ok(Vec::new());
    }
    directory::children_in_group(store, caller, group.id).await
}

/// How the caller reads a group's blog and calendar
/// ([`crate::policy::read_blog`]): a pupil or guardian without reading the
/// group ([`family_view`]), staff with it. A missing group is 404.
pub async fn group_view(
    store: &dyn Store,
    caller: &PersonRecord,
    group_id: GroupId,
) -> Result<Result<crate::policy::ReadView, crate::policy::Decision>, StoreError> {
    if let Some(view) = family_view(store, caller, group_id).await? {
        return Ok(view);
    }
    let Some(group) = directory::group(store, group_id).await? else {
        return Ok(Err(crate::policy::Decision::NotFound));
    };
    let children = children_in_group(store, caller, &group).await?;
    Ok(crate::policy::read_blog(caller, &group, &children))
}

/// The people a grade-year audience reaches: the pupils of those grade
/// years of the school and/or their guardians, each once. One query per
/// year, and one per pupil for guardians: for the outbox worker.
pub async fn grade_recipients(
    store: &dyn Store,
    school: SchoolId,
    grades: Grades,
    reach: Reach,
) -> Result<BTreeSet<PersonId>, StoreError> {
    let mut people = BTreeSet::new();
    let pupils = directory::grade_pupils(store, school, &grades.years()).await?;
    families(store, &pupils, reach, &mut people).await?;
    Ok(people)
}

/// The people a school audience reaches: its enrolled pupils and/or
/// their guardians, each once. One query for the pupils and one per
/// pupil for guardians, so this runs in the outbox worker, not in a
/// request (a school of 600 pupils is 601 queries).
pub async fn school_recipients(
    store: &dyn Store,
    school: SchoolId,
    reach: Reach,
) -> Result<BTreeSet<PersonId>, StoreError> {
    let mut people = BTreeSet::new();
    let pupils = directory::school_pupils(store, school).await?;
    families(store, &pupils, reach, &mut people).await?;
    Ok(people)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grades_keep_the_years_of_compulsory_school_and_meet_any_shared_year() {
        let g = Grades::of(&[9, 4, 11, 4]);
        assert_eq!(g.years(), [4, 9], "11 is no grade year; 4 once");
        assert!(g.meets(&[1, 9]));
        assert!(!g.meets(&[5]));
        assert!(!g.meets(&[]));
        assert_eq!(serde_json::to_string(&g).unwrap(), "[4,9]");
        assert_eq!(serde_json::from_str::<Grades>("[9,4]").unwrap(), g);
        assert!(Grades::default().is_empty());
    }
    use crate::directory::{GroupKind, Language, Person, Relation};
    use crate::ids::OrganisationId;

    fn body(json: serde_json::Value) -> Result<Audience, FieldError> {
        serde_json::from_value::<AudienceBody>(json)
            .map_err(|e| field_error("audience", e.to_string()))?
            .parse("audience")
    }

    fn record(relations: Vec<Relation>) -> PersonRecord {
        PersonRecord {
            person: Person {
                id: PersonId::generate(),
                given_name: "A".into(),
                family_name: "B".into(),
                email: None,
                mobile: None,
                text_to: None,
                language: Language::Sv,
                mail: Default::default(),
                left: None,
                protected_identity: false,
            },
            relations,
        }
    }

    #[test]
    fn a_group_audience_names_the_group_that_is_malformed_twice_or_reaches_no_one() {
        let g = GroupId::generate().to_string();
        let bad = body(serde_json::json!({ "groups": [{ "groupId": g }, { "groupId": "x" }] }));
        assert_eq!(bad.unwrap_err().field, "audience.groups[1].groupId");
        let twice = body(serde_json::json!({ "groups": [{ "groupId": g }, { "groupId": g }] }));
        assert_eq!(twice.unwrap_err().field, "audience.groups[1].groupId");
        let no_one = body(
            serde_json::json!({ "groups": [{ "groupId": g, "pupils": false, "guardians": false }] }),
        );
        assert_eq!(no_one.unwrap_err().field, "audience.groups[0]");
        let empty = body(serde_json::json!({ "groups": [] }));
        assert_eq!(empty.unwrap_err().field, "audience.groups");
        let years = body(
            serde_json::json!({ "gradeYears": { "schoolId": SchoolId::generate().to_string(), "years": [4, 11] } }),
        );
        assert_eq!(years.unwrap_err().field, "audience.gradeYears.years");
    }

    #[test]
    fn a_teacher_addresses_the_groups_they_teach_and_no_other() {
        let school = School {
            id: SchoolId::generate(),
            organisation_id: OrganisationId::generate(),
            name: "S".into(),
            settings: Default::default(),
        };
        let group = |id| Group {
            id,
            school_id: school.id,
            name: "G".into(),
            kind: GroupKind::Class,
        };
        let (taught, other) = (GroupId::generate(), GroupId::generate());
        let teacher = record(vec![Relation::TeacherOf {
            group_id: taught,
            school_id: school.id,
        }]);
        let groups: HashMap<_, _> = [(taught, group(taught)), (other, group(other))].into();
        let schools: HashMap<_, _> = [(school.id, school.clone())].into();
        let to = |ids: &[GroupId]| {
            Audience::Groups(
                ids.iter()
                    .map(|g| GroupTarget {
                        group_id: *g,
                        reach: Reach {
                            pupils: true,
                            guardians: true,
                        },
                    })
                    .collect(),
            )
        };
        assert!(authorize(&teacher, &to(&[taught]), "audience", &groups, &schools).is_ok());
        let refused = authorize(
            &teacher,
            &to(&[taught, other]),
            "audience",
            &groups,
            &schools,
        );
        assert_eq!(refused.unwrap_err().field, "audience.groups[1].groupId");
        let principal = record(vec![Relation::Duty {
            school_id: school.id,
            role: StaffRole::Principal,
        }]);
        assert!(
            authorize(
                &principal,
                &to(&[taught, other]),
                "audience",
                &groups,
                &schools
            )
            .is_ok()
        );
        let staff = Audience::SchoolStaff {
            school_id: school.id,
        };
        assert!(authorize(&principal, &staff, "audience", &groups, &schools).is_ok());
        assert!(authorize(&teacher, &staff, "audience", &groups, &schools).is_err());
        let admin = record(vec![Relation::Duty {
            school_id: school.id,
            role: StaffRole::SchoolAdmin,
        }]);
        assert!(authorize(&admin, &staff, "audience", &groups, &schools).is_err());
        let org = record(vec![Relation::OrganisationAdmin {
            organisation_id: school.organisation_id,
        }]);
        let several = Audience::Schools {
            school_ids: vec![school.id],
            reach: Reach {
                pupils: true,
                guardians: true,
            },
            staff: true,
        };
        assert!(authorize(&org, &several, "audience", &groups, &schools).is_ok());
        assert!(authorize(&principal, &several, "audience", &groups, &schools).is_err());
    }
}
