//! A group's roster: its pupils with their names, from the one query of
//! the group's memberships. Each `MemberOf` relation carries a copy of
//! its pupil's name, so the lists that name a group's pupils (the talk
//! booking overview, the group's absence reports) read no person items.
//!
//! The copy is written by whoever writes memberships: the import, per
//! chunk, fills it in on the memberships it writes ([`fill_in`]) and, when
//! a person's name changes, copies the new name onto their memberships
//! ([`Renames`]) before the state that says the chunk was written;
//! [`crate::directory::person_items`] (the demo seed, hand registration)
//! writes it with the person. A membership without a copy (written before
//! copies existed, or by hand) is named as before, by reading the person.

use crate::directory::{self, Person, Relation};
use crate::ids::{GroupId, PersonId};
use crate::keys;
use crate::store::{Item, Key, Store, StoreError, query_all};
use futures_util::{StreamExt, TryStreamExt, stream};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// A pupil's name as a group's lists show it, copied onto their
/// memberships.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RosterName {
    pub given_name: String,
    pub family_name: String,
    /// A person registered by hand with skyddade personuppgifter: staff
    /// see the row and take care with it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub protected_identity: bool,
}

impl RosterName {
    pub fn of(person: &Person) -> Self {
        RosterName {
            given_name: person.given_name.clone(),
            family_name: person.family_name.clone(),
            protected_identity: person.protected_identity,
        }
    }

    pub fn full_name(&self) -> String {
        format!("{} {}", self.given_name, self.family_name)
    }
}

/// One pupil of a group; `name` is `None` when the pupil has no person
/// item.
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    pub pupil_id: PersonId,
    pub name: Option<RosterName>,
}

/// Access pattern: a group's pupils with their names, one query on GSI1
/// (`PEOPLE#GROUP#<group>`, `MEMBER#<pupil>`), every page. Members whose
/// membership carries no copy of their name are named by one BatchGetItem
/// of their person items per 100 (none when every membership has one).
pub async fn group_roster(store: &dyn Store, group: GroupId) -> Result<Vec<Member>, StoreError> {
    let items = query_all(store, directory::member_entries(group)).await?;
    let mut members = Vec::with_capacity(items.len());
    for item in &items {
        let Some(pupil_id) = directory::member_entry_pupil(item) else {
            continue;
        };
        let name = match item.parse::<Relation>()? {
            Relation::MemberOf { name, .. } => name,
            _ => None,
        };
        members.push(Member { pupil_id, name });
    }
    let unnamed: Vec<PersonId> = members
        .iter()
        .filter(|m| m.name.is_none())
        .map(|m| m.pupil_id)
        .collect();
    if !unnamed.is_empty() {
        let read: HashMap<PersonId, RosterName> = directory::people(store, &unnamed)
            .await?
            .iter()
            .map(|p| (p.id, RosterName::of(p)))
            .collect();
        for m in members.iter_mut().filter(|m| m.name.is_none()) {
            m.name = read.get(&m.pupil_id).cloned();
        }
    }
    Ok(members)
}

/// The pupil a membership key is of.
fn member_of(key: &Key) -> Option<PersonId> {
    let pupil = keys::person_of_partition(&key.pk)?;
    let target = key.sk.strip_prefix(keys::RELATION_PREFIX)?;
    target
        .starts_with(directory::MEMBER_TARGET)
        .then_some(pupil)
}

/// Copies `name` onto a membership item; `false` when it already carries
/// it (or is not a membership).
fn copy_onto(item: &mut Item, name: &RosterName) -> Result<bool, StoreError> {
    let Relation::MemberOf {
        group_id,
        school_id,
        name: current,
    } = item.parse::<Relation>()?
    else {
        return Ok(false);
    };
    if current.as_ref() == Some(name) {
        return Ok(false);
    }
    let relation = Relation::MemberOf {
        group_id,
        school_id,
        name: Some(name.clone()),
    };
    item.attrs = Item::new(item.key.clone(), keys::RELATION, &relation)?.attrs;
    Ok(true)
}

/// Copies onto membership items about to be written their pupil's name:
/// from a person item among `items`, or read (one consistent BatchGetItem
/// per 100 pupils), so a membership is never written without its copy
/// while its pupil has a person item. Other items are left as they are.
pub async fn fill_in(store: &dyn Store, items: &mut [Item]) -> Result<(), StoreError> {
    let mut names: BTreeMap<PersonId, RosterName> = BTreeMap::new();
    for item in items.iter().filter(|i| i.entity == keys::PERSON) {
        let person: Person = item.parse()?;
        names.insert(person.id, RosterName::of(&person));
    }
    let mut unread: Vec<PersonId> = items
        .iter()
        .filter_map(|i| member_of(&i.key))
        .filter(|p| !names.contains_key(p))
        .collect();
    unread.sort();
    unread.dedup();
    for chunk in unread.chunks(100) {
        let keys: Vec<Key> = chunk.iter().map(|p| keys::person(*p)).collect();
        for item in store.get_many(&keys).await? {
            let person: Person = item.parse()?;
            names.insert(person.id, RosterName::of(&person));
        }
    }
    for item in items.iter_mut() {
        if let Some(name) = member_of(&item.key).and_then(|p| names.get(&p)) {
            copy_onto(item, name)?;
        }
    }
    Ok(())
}

/// The persons whose name a batch of writes changed, with the new name.
#[derive(Debug, Default)]
pub struct Renames {
    pupils: BTreeMap<PersonId, RosterName>,
}

impl Renames {
    /// A person item about to be written over `stored`: noted when it
    /// names the person differently. A new person has no memberships yet.
    pub fn put(&mut self, written: &Item, stored: Option<&Item>) -> Result<(), StoreError> {
        let Some(stored) = stored else {
            return Ok(());
        };
        if written.entity != keys::PERSON {
            return Ok(());
        }
        let (now, before): (Person, Person) = (written.parse()?, stored.parse()?);
        let name = RosterName::of(&now);
        if name != RosterName::of(&before) {
            self.pupils.insert(now.id, name);
        }
        Ok(())
    }

    /// Copies each new name onto the person's memberships
    /// ([`copy_to_memberships`]), 16 persons at a time. Returns how many
    /// memberships were rewritten.
    pub async fn copy(self, store: &dyn Store) -> Result<usize, StoreError> {
        let written: Vec<usize> = stream::iter(self.pupils)
            .map(|(pupil, name)| async move { copy_to_memberships(store, pupil, &name).await })
            .buffer_unordered(16)
            .try_collect()
            .await?;
        Ok(written.into_iter().sum())
    }
}

/// Brings the copies on a pupil's memberships in step with their person
/// item's `name`: one query of their memberships (in their own partition),
/// then the ones that differ written. Whoever changes a person's name or
/// protected identity outside the import calls it after writing the
/// person. Returns how many memberships were rewritten.
pub async fn copy_to_memberships(
    store: &dyn Store,
    pupil: PersonId,
    name: &RosterName,
) -> Result<usize, StoreError> {
    let mut changed = Vec::new();
    for mut item in query_all(store, directory::memberships_of(pupil)).await? {
        if copy_onto(&mut item, name)? {
            changed.push(item);
        }
    }
    store.batch_put(&changed).await?;
    Ok(changed.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::SchoolId;

    fn person(given: &str, family: &str) -> Person {
        let id = PersonId::from_ulid(ulid::Ulid::from_parts(0, 1));
        crate::demo::person(id, given, family, false, Default::default())
    }

    fn item(p: &Person) -> Item {
        Item::new(keys::person(p.id), keys::PERSON, p).unwrap()
    }

    #[test]
    fn only_a_person_whose_name_changed_is_copied_again() {
        let before = person("Maja", "Johansson");
        let mut renames = Renames::default();
        // A new person has no memberships yet.
        renames.put(&item(&before), None).unwrap();
        // Another number is not another name.
        let mut moved = before.clone();
        moved.mobile = Some("0701234567".into());
        renames.put(&item(&moved), Some(&item(&before))).unwrap();
        assert!(renames.pupils.is_empty());

        let renamed = person("Maja", "Lind");
        renames.put(&item(&renamed), Some(&item(&before))).unwrap();
        assert_eq!(
            renames.pupils.get(&before.id),
            Some(&RosterName::of(&renamed))
        );
    }

    #[test]
    fn a_name_is_copied_onto_a_membership_and_nothing_else() {
        let p = person("Maja", "Lind");
        let name = RosterName::of(&p);
        let group = GroupId::from_ulid(ulid::Ulid::from_parts(0, 9));
        let school = SchoolId::from_ulid(ulid::Ulid::from_parts(0, 8));
        let mut membership = Relation::MemberOf {
            group_id: group,
            school_id: school,
            name: None,
        }
        .to_item(p.id)
        .unwrap();
        assert_eq!(member_of(&membership.key), Some(p.id));
        assert!(copy_onto(&mut membership, &name).unwrap());
        assert!(!copy_onto(&mut membership, &name).unwrap(), "already so");
        assert_eq!(
            membership.parse::<Relation>().unwrap(),
            Relation::MemberOf {
                group_id: group,
                school_id: school,
                name: Some(name.clone()),
            }
        );
        assert!(membership.gsi1.is_some(), "still in the group's roster");

        let mut enrolment = Relation::EnrolledAt {
            school_id: school,
            school_year: None,
        }
        .to_item(p.id)
        .unwrap();
        assert_eq!(member_of(&enrolment.key), None);
        assert!(!copy_onto(&mut enrolment, &name).unwrap());
    }
}
