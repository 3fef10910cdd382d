//! Where a guardian's children are pupils (their groups, their schools and
//! grade years), copied onto the guardian's `GuardianOf` relation. A
//! guardian's read of a class or a school is then decided from their own
//! record, the one read every bearer request makes, instead of one more
//! BatchGetItem of their children's relations.
//!
//! The copy is written by whoever writes the relations it copies: the
//! import, per chunk, after the chunk's items and before the state that
//! says they were written ([`copy_to_guardians`]), and the demo seed. A
//! guardianship without a copy (written before copies existed, or by hand)
//! is decided as before, by reading the child's relations
//! ([`crate::directory::children_in_group`]).

use crate::directory::{self, Relation};
use crate::ids::{GroupId, PersonId, SchoolId};
use crate::keys;
use crate::store::{Item, Key, Store, StoreError};
use futures_util::{StreamExt, TryStreamExt, stream};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// A child's groups and enrolments, as their own relations say.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChildPlaces {
    pub groups: Vec<GroupId>,
    pub schools: Vec<ChildSchool>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChildSchool {
    pub school_id: SchoolId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub school_year: Option<u8>,
}

impl ChildPlaces {
    /// The places a pupil's relations name, in id order.
    pub fn of(relations: &[Relation]) -> Self {
        let mut groups = Vec::new();
        let mut schools = Vec::new();
        for r in relations {
            match r {
                Relation::MemberOf { group_id, .. } => groups.push(*group_id),
                Relation::EnrolledAt {
                    school_id,
                    school_year,
                } => schools.push(ChildSchool {
                    school_id: *school_id,
                    school_year: *school_year,
                }),
                _ => {}
            }
        }
        groups.sort();
        groups.dedup();
        schools.sort();
        schools.dedup();
        ChildPlaces { groups, schools }
    }

    pub fn in_group(&self, group: GroupId) -> bool {
        self.groups.contains(&group)
    }

    /// `Some(grade year)` when enrolled at the school (the year if known).
    pub fn enrolment_at(&self, school: SchoolId) -> Option<Option<u8>> {
        self.schools
            .iter()
            .find(|s| s.school_id == school)
            .map(|s| s.school_year)
    }
}

/// The pupils whose own places a batch of writes changed: a membership
/// added or deleted, an enrolment written or deleted.
#[derive(Debug, Default)]
pub struct Changes {
    pupils: BTreeSet<PersonId>,
}

impl Changes {
    pub fn deleted(&mut self, key: &Key) {
        self.pupils.extend(place_of(key).map(|(pupil, _)| pupil));
    }

    /// An item put; `rewritten`: one with its key was there before. A
    /// membership rewritten changes no place (its key is its group); an
    /// enrolment rewritten may have a new grade year.
    pub fn put(&mut self, key: &Key, rewritten: bool) {
        if let Some((pupil, membership)) = place_of(key)
            && !(rewritten && membership)
        {
            self.pupils.insert(pupil);
        }
    }

    /// Copies the places of every pupil noted onto their guardianships
    /// ([`copy_to_guardians`]).
    pub async fn copy(self, store: &dyn Store) -> Result<usize, StoreError> {
        copy_to_guardians(store, &self.pupils).await
    }
}

/// The pupil a membership or enrolment key is of, and whether it is a
/// membership. Anything else: `None`.
fn place_of(key: &Key) -> Option<(PersonId, bool)> {
    let pupil = keys::person_of_partition(&key.pk)?;
    let target = key.sk.strip_prefix(keys::RELATION_PREFIX)?;
    if target.starts_with(directory::MEMBER_TARGET) {
        Some((pupil, true))
    } else if target.starts_with(directory::ENROLLED_TARGET) {
        Some((pupil, false))
    } else {
        None
    }
}

/// The guardian and pupil of a guardianship key.
fn guardianship_of(key: &Key) -> Option<(PersonId, PersonId)> {
    let guardian = keys::person_of_partition(&key.pk)?;
    let target = key.sk.strip_prefix(keys::RELATION_PREFIX)?;
    let pupil = PersonId::parse(target.strip_prefix(directory::GUARDIAN_TARGET)?)?;
    Some((guardian, pupil))
}

/// How many pupils' places are read or copied at the same time.
const CONCURRENT_PUPILS: usize = 16;

/// Copies onto guardianship items about to be written their pupils'
/// places, read from each pupil's record (one query per pupil, 16 at a
/// time), so a guardianship is never written without its copy. Other
/// items are left as they are.
pub async fn fill_in(store: &dyn Store, items: &mut [Item]) -> Result<(), StoreError> {
    let pupils: BTreeSet<PersonId> = items
        .iter()
        .filter_map(|i| guardianship_of(&i.key).map(|(_, pupil)| pupil))
        .collect();
    let places: BTreeMap<PersonId, ChildPlaces> = stream::iter(pupils)
        .map(|pupil| async move { Ok::<_, StoreError>((pupil, places_of(store, pupil).await?)) })
        .buffer_unordered(CONCURRENT_PUPILS)
        .try_collect()
        .await?;
    for item in items.iter_mut() {
        if let Some(places) = guardianship_of(&item.key).and_then(|(_, p)| places.get(&p)) {
            copy_onto(item, places)?;
        }
    }
    Ok(())
}

async fn places_of(store: &dyn Store, pupil: PersonId) -> Result<ChildPlaces, StoreError> {
    Ok(match directory::person_record(store, pupil).await? {
        Some(record) => ChildPlaces::of(&record.relations),
        None => ChildPlaces::default(),
    })
}

/// Brings the copies on the guardianships of these pupils in step with
/// the pupils' own relations. Per pupil, 16 pupils at a time: one query of
/// their record and one of their guardians (GSI1, side by side), then one
/// BatchGetItem of those guardianships read consistently (one deleted
/// since is not found); then the changed ones written. Returns how many
/// were rewritten.
///
/// The guardians come from the index, which may lag a guardianship created
/// moments ago; the import writes guardianships after every membership
/// and enrolment of the run (with their copy, [`fill_in`]), so within a
/// run no place changes after a guardianship was created.
pub async fn copy_to_guardians(
    store: &dyn Store,
    pupils: &BTreeSet<PersonId>,
) -> Result<usize, StoreError> {
    let written: Vec<Vec<Item>> = stream::iter(pupils.iter().copied())
        .map(|pupil| copy_of(store, pupil))
        .buffer_unordered(CONCURRENT_PUPILS)
        .try_collect()
        .await?;
    let written: Vec<Item> = written.into_iter().flatten().collect();
    store.batch_put(&written).await?;
    Ok(written.len())
}

/// One pupil's guardianships whose copy differs from the pupil's places,
/// with the places copied onto them.
async fn copy_of(store: &dyn Store, pupil: PersonId) -> Result<Vec<Item>, StoreError> {
    let (places, guardians) = futures_util::future::try_join(
        places_of(store, pupil),
        crate::audience::guardians_of(store, pupil),
    )
    .await?;
    let keys: Vec<Key> = guardians
        .into_iter()
        .map(|guardian| directory::guardianship_key(guardian, pupil))
        .collect();
    let mut written = Vec::new();
    for chunk in keys.chunks(100) {
        for mut item in store.get_many(chunk).await? {
            if copy_onto(&mut item, &places)? {
                written.push(item);
            }
        }
    }
    Ok(written)
}

/// Copies `places` onto a guardianship item; `false` when it already says
/// so (or is not a guardianship).
fn copy_onto(item: &mut Item, places: &ChildPlaces) -> Result<bool, StoreError> {
    let Relation::GuardianOf {
        pupil_id,
        places: current,
    } = item.parse::<Relation>()?
    else {
        return Ok(false);
    };
    if current.as_ref() == Some(places) {
        return Ok(false);
    }
    let relation = Relation::GuardianOf {
        pupil_id,
        places: Some(places.clone()),
    };
    item.attrs = Item::new(item.key.clone(), keys::RELATION, &relation)?.attrs;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u8) -> PersonId {
        PersonId::from_ulid(ulid::Ulid::from_parts(0, u128::from(n)))
    }

    #[test]
    fn a_pupils_own_memberships_and_enrolments_change_their_places_and_nothing_else() {
        let (pupil, guardian) = (id(1), id(2));
        let group = GroupId::from_ulid(ulid::Ulid::from_parts(0, 9));
        let school = SchoolId::from_ulid(ulid::Ulid::from_parts(0, 8));
        let member = directory::membership_key(pupil, group);
        let enrolled = directory::enrolment_key(pupil, school);
        let guardianship = directory::guardianship_key(guardian, pupil);
        assert_eq!(place_of(&member), Some((pupil, true)));
        assert_eq!(place_of(&enrolled), Some((pupil, false)));
        assert_eq!(place_of(&guardianship), None);
        assert_eq!(guardianship_of(&guardianship), Some((guardian, pupil)));
        assert_eq!(guardianship_of(&member), None);
        assert_eq!(place_of(&keys::person(pupil)), None);
        let mentor = keys::relation(guardian, &format!("MENTOR#{group}"));
        assert_eq!(place_of(&mentor), None);
        assert_eq!(place_of(&keys::group(group)), None);

        // A membership rewritten as it was changes nothing; an enrolment
        // rewritten may carry a new grade year.
        let mut changes = Changes::default();
        changes.put(&member, true);
        changes.put(&guardianship, false);
        assert!(changes.pupils.is_empty());
        changes.put(&enrolled, true);
        assert_eq!(changes.pupils.iter().collect::<Vec<_>>(), [&pupil]);
        let mut changes = Changes::default();
        changes.deleted(&member);
        assert_eq!(changes.pupils.iter().collect::<Vec<_>>(), [&pupil]);
    }
}
