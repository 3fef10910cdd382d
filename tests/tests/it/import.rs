//! The nightly import (A3) against the local SS 12000 registry (the
//! fixture server), on the embedded store and on DynamoDB Local.

use async_trait::async_trait;
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use skolnav::child_places::ChildPlaces;
use skolnav::directory::{self, LeftReason, Relation};
use skolnav::ids::{GroupId, PersonId, SchoolId};
use skolnav::import::record::{Mode, RunRecord, Status};
use skolnav::import::source::{Pages, Row, Source, UpstreamStats};
use skolnav::import::{Options, Outcome, run};
use skolnav::roster::{self, RosterName};
use skolnav::ss12000::client::Client;
use skolnav::ss12000::records::{Deleted, ObjectType, Reason};
use skolnav::store::{Item, Query, Store, StoreError};
use skolnav_ss12000_fixture::{
    AssignmentRoleType, BadRow, EntityType, Id, LeaverKind, Municipality, PersonKind,
    SecurityMarking, ServerOptions, Spec, Ss12000Server, generate,
};
use skolnav_tests::{Backend, Watched, Watcher, Writing};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use uuid::Uuid;

/// The fixture's "today"; the first run happens in the night before it.
fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 2).unwrap()
}

fn night(day: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 2, 1, 0, 0).unwrap() + Duration::days(day)
}

fn uuid(id: Id) -> Uuid {
    Uuid::from_u128(id.0)
}

fn person_id(id: Id) -> PersonId {
    PersonId::from_registry(uuid(id))
}

/// Counts the domain items the import writes (not its run record, cursor
/// and lease, nor its own state items).
#[derive(Default)]
struct Counting {
    written: AtomicU64,
    deleted: AtomicU64,
}

impl Counting {
    fn take(&self) -> (u64, u64) {
        (
            self.written.swap(0, Ordering::SeqCst),
            self.deleted.swap(0, Ordering::SeqCst),
        )
    }

    fn count(&self, items: &[Item]) {
        let domain = items
            .iter()
            .filter(|i| !i.entity.starts_with("Import"))
            .count();
        self.written.fetch_add(domain as u64, Ordering::SeqCst);
    }
}

impl Watcher for Counting {
    fn writing(&self, write: Writing<'_>) -> Result<(), StoreError> {
        match write {
            Writing::Put(item) => self.count(std::slice::from_ref(item)),
            Writing::BatchPut(items) => self.count(items),
            Writing::Delete(key) => {
                if !key.pk.starts_with("IMPORT#") {
                    self.deleted.fetch_add(1, Ordering::SeqCst);
                }
            }
            Writing::BatchDelete(keys) => {
                let domain = keys
                    .iter()
                    .filter(|k| !k.pk.starts_with("SS12000#"))
                    .count();
                self.deleted.fetch_add(domain as u64, Ordering::SeqCst);
            }
            Writing::Transact(_) => {}
        }
        Ok(())
    }
}

struct Fixture {
    table: skolnav_tests::RawTable,
    store: Arc<Watched<Counting>>,
    registry: Ss12000Server,
}

impl Fixture {
    async fn new(backend: Backend) -> Fixture {
        Self::with(backend, ServerOptions::default()).await
    }

    async fn with(backend: Backend, options: ServerOptions) -> Fixture {
        let table = skolnav_tests::RawTable::new(backend).await;
        let municipality = generate(&Spec::small().today(today()));
        Fixture {
            store: Arc::new(Watched::new(table.store(), Counting::default())),
            table,
            registry: Ss12000Server::start(municipality, options).await,
        }
    }

    fn client(&self, page_limit: usize) -> Client {
        skolnav_tests::registry_client(&self.registry, page_limit)
    }

    async fn run_with(&self, options: Options) -> RunRecord {
        match run(self.store.as_ref(), &self.client(50), options)
            .await
            .expect("the run reaches the store")
        {
            Outcome::Ran(record) => *record,
            other => panic!("expected a run, got {other:?}"),
        }
    }

    async fn import(&self, day: i64) -> RunRecord {
        let record = self
            .run_with(Options::new(night(day), today() + Duration::days(day)))
            .await;
        assert_eq!(record.status, Status::Succeeded, "{:?}", record.error);
        record
    }

    fn read<R>(&self, f: impl FnOnce(&Municipality) -> R) -> R {
        self.registry.read(f)
    }

    async fn record_of(&self, id: Id) -> Option<directory::PersonRecord> {
        directory::person_record(self.store.as_ref(), person_id(id))
            .await
            .unwrap()
    }
}

/// A pupil with nothing special about them (not protected, not leaving,
/// not a bad row, one school), and their school and class.
fn plain_pupil(m: &Municipality) -> (Id, Id, Id) {
    plain_pupils(m).next().expect("a plain pupil")
}

/// Every plain pupil, in id order.
fn plain_pupils(m: &Municipality) -> impl Iterator<Item = (Id, Id, Id)> + '_ {
    let special: Vec<Id> = m
        .manifest
        .protected
        .iter()
        .map(|p| p.id)
        .chain(m.manifest.leavers.iter().map(|l| l.id))
        .chain(m.manifest.bad_rows.iter().map(|b| b.id))
        .chain(m.manifest.double_enrolled.iter().map(|d| d.pupil))
        .collect();
    m.pupils()
        .filter(move |p| {
            !special.contains(&p.id)
                && p.enrolments.len() == 1
                && m.guardians_of(p.id).iter().all(|g| !special.contains(g))
                && !m.guardians_of(p.id).is_empty()
                && !m.classes_of(p.id).is_empty()
        })
        .map(|p| (p.id, p.enrolments[0].enroled_at.id, m.classes_of(p.id)[0]))
}

fn mentor_of(m: &Municipality, class: Id) -> Id {
    m.duties
        .values()
        .find(|d| {
            d.assignment_role.iter().any(|a| {
                a.group.id == class && a.assignment_role_type == AssignmentRoleType::Mentor
            })
        })
        .map(|d| d.person.id)
        .expect("the class has a mentor")
}

async fn the_first_run_imports_pupils_guardians_groups_and_staff(backend: Backend) {
    let f = Fixture::new(backend).await;
    let record = f.import(0).await;
    assert_eq!(record.mode, Mode::Full);

    let (pupil, school, class) = f.read(plain_pupil);
    let school_id = SchoolId::from_registry(uuid(school));
    let pupil_record = f.record_of(pupil).await.expect("the pupil is imported");
    assert!(
        pupil_record.relations.iter().any(|r| matches!(
            r,
            Relation::EnrolledAt { school_id: s, school_year: Some(_) } if *s == school_id
        )),
        "enrolled, in the registry's grade year"
    );
    // The membership carries the pupil's name for the group's lists.
    assert!(pupil_record.relations.contains(&Relation::MemberOf {
        group_id: GroupId::from_registry(uuid(class)),
        school_id,
        name: Some(RosterName::of(&pupil_record.person)),
    }));
    for guardian in f.read(|m| m.guardians_of(pupil)) {
        let g = f
            .record_of(guardian)
            .await
            .expect("the guardian is imported");
        assert!(g.is_guardian_of(person_id(pupil)));
    }
    let mentor = f.read(|m| mentor_of(m, class));
    let mentor = f.record_of(mentor).await.expect("the mentor is imported");
    assert!(
        mentor
            .mentor_groups()
            .any(|g| g == GroupId::from_registry(uuid(class)))
    );
    assert!(mentor.has_duty_at(school_id));
    let school_item = directory::school(f.store.as_ref(), school_id)
        .await
        .unwrap();
    assert!(school_item.is_some(), "the school unit is a school");

    let persons = f.read(|m| m.persons.len() as u64);
    let counts = &record.counts["Person"];
    assert_eq!(
        counts.created + counts.rejected + counts.skipped_protected,
        persons,
        "every person row is created, rejected or skipped: {counts:?}"
    );

    // Fritids: a placed child is placed at the school, in its fritids
    // group, and the placement's owners may set the stay schedule.
    let (child, at, group, owners) = f.read(|m| {
        let plain: Vec<Id> = plain_pupils(m).map(|(p, _, _)| p).collect();
        let p = m
            .placements
            .values()
            .find(|p| plain.contains(&p.child.id) && !p.owners.is_empty())
            .expect("a plain pupil in fritids");
        let owners: Vec<Id> = p.owners.iter().map(|o| o.id).collect();
        (
            p.child.id,
            p.placed_at.id,
            p.group.as_ref().map(|g| g.id),
            owners,
        )
    });
    let placed = f.record_of(child).await.unwrap();
    assert_eq!(
        placed.placements().collect::<Vec<_>>(),
        vec![(
            SchoolId::from_registry(uuid(at)),
            group.map(|g| GroupId::from_registry(uuid(g)))
        )]
    );
    for owner in owners {
        let owner = f.record_of(owner).await.unwrap();
        assert!(owner.owns_stay_schedule_of(person_id(child)));
    }
    let placements = f.read(|m| m.placements.len() as u64);
    let counts = &record.counts["Placement"];
    assert_eq!(
        counts.created + counts.rejected + counts.skipped_protected,
        placements,
        "{counts:?}"
    );
}

async fn an_unchanged_second_run_writes_nothing(backend: Backend) {
    let f = Fixture::new(backend).await;
    f.import(0).await;
    let (written, _) = f.store.watcher.take();
    assert!(written > 0);
    let record = f.import(1).await;
    assert_eq!(f.store.watcher.take(), (0, 0), "no item written or deleted");
    assert_eq!(record.written(), 0, "{:?}", record.counts);
    assert_eq!(record.mode, Mode::Delta);

    let forced = f
        .run_with(Options {
            force_full: true,
            ..Options::new(night(2), today() + Duration::days(2))
        })
        .await;
    assert_eq!(forced.mode, Mode::Full);
    assert_eq!(
        f.store.watcher.take(),
        (0, 0),
        "a full run of the same feed writes nothing either: {:?}",
        forced.counts
    );
    assert!(forced.counts["Person"].unchanged > 0);
}

async fn what_a_person_chose_themselves_survives_the_registrys_changes(backend: Backend) {
    let f = Fixture::new(backend).await;
    f.import(0).await;
    let guardian = f.read(|m| m.guardians_of(plain_pupil(m).0)[0]);
    let key = skolnav::keys::person(person_id(guardian));
    let mut item = f.store.get(&key).await.unwrap().unwrap();
    let mut person: directory::Person = item.parse().unwrap();
    person.language = directory::Language::En;
    person.mail.school_messages = false;
    item.attrs = serde_json::to_value(&person)
        .unwrap()
        .as_object()
        .unwrap()
        .clone();
    f.store
        .put(&item, skolnav::store::Condition::None)
        .await
        .unwrap();

    f.registry
        .with(|m| m.rename_person(guardian, "Ny", "Namnsson", night(0) + Duration::hours(12)))
        .unwrap();
    let record = f.import(1).await;
    assert_eq!(record.counts["Person"].updated, 1, "{:?}", record.counts);
    let after = f.record_of(guardian).await.unwrap().person;
    assert_eq!(
        (after.given_name.as_str(), after.family_name.as_str()),
        ("Ny", "Namnsson")
    );
    assert_eq!(after.language, directory::Language::En);
    assert!(!after.mail.school_messages);
    assert!(after.mail.important_notices);
}

async fn a_changed_guardian_moves_the_guardian_rights(backend: Backend) {
    let f = Fixture::new(backend).await;
    f.import(0).await;
    let (pupil, _, _) = f.read(plain_pupil);
    let newcomer = f.registry.with(|m| {
        let g = m.add_guardian("Lind", night(0) + Duration::hours(12));
        let old = m
            .change_guardian(pupil, g, night(0) + Duration::hours(12))
            .unwrap()
            .expect("the pupil had a guardian");
        (g, old)
    });
    f.store.watcher.take();
    let record = f.import(1).await;
    let (new_guardian, old_guardian) = newcomer;
    assert!(
        f.record_of(new_guardian)
            .await
            .expect("the new guardian is imported")
            .is_guardian_of(person_id(pupil))
    );
    let old = f
        .record_of(old_guardian)
        .await
        .expect("the old guardian stays");
    assert!(!old.is_guardian_of(person_id(pupil)));
    assert_eq!(
        record.counts["Responsibles"].updated, 1,
        "{:?}",
        record.counts
    );
    // A child in fritids: the right to set the stay schedule moves too.
    let placed = f.read(|m| m.placements.values().any(|p| p.child.id == pupil));
    if placed {
        assert_eq!(record.counts["Placement"].updated, 1);
        assert!(
            f.record_of(new_guardian)
                .await
                .unwrap()
                .owns_stay_schedule_of(person_id(pupil))
        );
        assert!(!old.owns_stay_schedule_of(person_id(pupil)));
    }
    let (written, deleted) = f.store.watcher.take();
    let moved = 1 + u64::from(placed);
    assert!(
        written > moved && deleted == moved,
        "written {written}, deleted {deleted}"
    );
}

/// A class of the school other than `class`.
fn another_class(m: &Municipality, school: Id, class: Id) -> Id {
    m.groups
        .values()
        .find(|g| {
            g.organisation.id == school
                && g.id != class
                && g.group_type == Some(skolnav_ss12000_fixture::GroupType::Klass)
        })
        .expect("another class at the school")
        .id
}

/// The copy each guardianship of the pupil carries, and what the pupil's
/// own relations say it should be.
async fn copies_of_places(f: &Fixture, pupil: Id) -> (Vec<Option<ChildPlaces>>, ChildPlaces) {
    let own = f.record_of(pupil).await.expect("the pupil");
    let mut copies = Vec::new();
    for guardian in f.read(|m| m.guardians_of(pupil)) {
        let record = f.record_of(guardian).await.expect("the guardian");
        copies.extend(
            record
                .children_with_places()
                .filter(|(child, _)| *child == person_id(pupil))
                .map(|(_, places)| places.cloned()),
        );
    }
    (copies, ChildPlaces::of(&own.relations))
}

async fn a_guardian_carries_where_their_child_is_a_pupil_and_it_follows_a_class_move(
    backend: Backend,
) {
    let f = Fixture::new(backend).await;
    f.import(0).await;
    let (pupil, school, class) = f.read(plain_pupil);
    let (copies, own) = copies_of_places(&f, pupil).await;
    assert!(!copies.is_empty(), "the pupil has guardians");
    assert!(
        copies.iter().all(|c| c.as_ref() == Some(&own)),
        "{copies:?}"
    );
    let class_id = GroupId::from_registry(uuid(class));
    assert!(own.in_group(class_id), "{own:?}");

    // The registry moves the child to another class of the school; only
    // the two groups change, so a delta run reads neither the pupil nor
    // their guardians.
    let other = f.read(|m| another_class(m, school, class));
    f.registry
        .with(|m| m.move_to_class(pupil, other, night(0) + Duration::hours(12)))
        .unwrap();
    let record = f.import(1).await;
    assert!(
        record.counts.get("Person").is_none_or(|c| c.updated == 0),
        "{:?}",
        record.counts
    );
    let (copies, own) = copies_of_places(&f, pupil).await;
    let other_id = GroupId::from_registry(uuid(other));
    assert!(own.in_group(other_id) && !own.in_group(class_id), "{own:?}");
    assert!(
        copies.iter().all(|c| c.as_ref() == Some(&own)),
        "{copies:?}"
    );
    for guardian in f.read(|m| m.guardians_of(pupil)) {
        let record = f.record_of(guardian).await.unwrap();
        let store = f.store.as_ref();
        assert!(
            directory::children_in_group(store, &record, class_id)
                .await
                .unwrap()
                .is_empty(),
            "the old class is closed to the guardian"
        );
        assert_eq!(
            directory::children_in_group(store, &record, other_id)
                .await
                .unwrap(),
            [person_id(pupil)]
        );
    }

    // A new guardian gets the copy with the guardianship; the pupil's
    // school is in it with the grade year.
    let newcomer = f.registry.with(|m| {
        let g = m.add_guardian("Lind", night(1) + Duration::hours(12));
        m.change_guardian(pupil, g, night(1) + Duration::hours(12))
            .unwrap();
        g
    });
    f.import(2).await;
    let (copies, own) = copies_of_places(&f, pupil).await;
    assert!(
        copies.iter().all(|c| c.as_ref() == Some(&own)),
        "{copies:?}"
    );
    let new_record = f.record_of(newcomer).await.unwrap();
    assert!(new_record.is_guardian_of(person_id(pupil)));
    let school_id = SchoolId::from_registry(uuid(school));
    assert!(own.enrolment_at(school_id).is_some(), "{own:?}");
}

/// The name each of the pupil's memberships carries, by group.
async fn names_on_memberships(f: &Fixture, pupil: Id) -> Vec<(GroupId, Option<RosterName>)> {
    let record = f.record_of(pupil).await.expect("the pupil");
    record
        .relations
        .into_iter()
        .filter_map(|r| match r {
            Relation::MemberOf { group_id, name, .. } => Some((group_id, name)),
            _ => None,
        })
        .collect()
}

async fn a_renamed_pupil_is_named_anew_on_their_groups_lists(backend: Backend) {
    let f = Fixture::new(backend).await;
    f.import(0).await;
    let (pupil, school, class) = f.read(plain_pupil);
    let class_id = GroupId::from_registry(uuid(class));
    let named = |given: &str, family: &str| {
        Some(RosterName {
            given_name: given.into(),
            family_name: family.into(),
            protected_identity: false,
        })
    };
    let person = f.record_of(pupil).await.unwrap().person;
    let before = named(&person.given_name, &person.family_name);
    let memberships = names_on_memberships(&f, pupil).await;
    assert!(!memberships.is_empty());
    assert!(
        memberships.iter().all(|(_, name)| *name == before),
        "{memberships:?}"
    );
    // Every member of the class is named from the memberships alone.
    let roster = roster::group_roster(f.store.as_ref(), class_id)
        .await
        .unwrap();
    assert!(roster.len() > 1 && roster.iter().all(|m| m.name.is_some()));

    // A new name reaches the memberships in a delta run that reads the
    // person and not their groups.
    f.registry
        .with(|m| m.rename_person(pupil, "Ny", "Namnsson", night(0) + Duration::hours(12)))
        .unwrap();
    let record = f.import(1).await;
    assert!(
        record.counts.get("Group").is_none_or(|c| c.updated == 0),
        "{:?}",
        record.counts
    );
    let memberships = names_on_memberships(&f, pupil).await;
    assert!(
        memberships
            .iter()
            .all(|(_, name)| *name == named("Ny", "Namnsson")),
        "{memberships:?}"
    );
    let roster = roster::group_roster(f.store.as_ref(), class_id)
        .await
        .unwrap();
    let member = roster.iter().find(|m| m.pupil_id == person_id(pupil));
    assert_eq!(member.and_then(|m| m.name.clone()), named("Ny", "Namnsson"));

    // A membership written later (a move to another class) carries it too.
    let other = f.read(|m| another_class(m, school, class));
    f.registry
        .with(|m| m.move_to_class(pupil, other, night(1) + Duration::hours(12)))
        .unwrap();
    f.import(2).await;
    let other_id = GroupId::from_registry(uuid(other));
    let memberships = names_on_memberships(&f, pupil).await;
    assert!(
        memberships
            .iter()
            .any(|(g, name)| *g == other_id && *name == named("Ny", "Namnsson")),
        "{memberships:?}"
    );
}

async fn a_pupil_who_leaves_is_ended_not_erased(backend: Backend) {
    let f = Fixture::new(backend).await;
    f.import(0).await;
    let (pupil, school, _) = f.read(plain_pupil);
    f.registry.with(|m| {
        m.end_enrolment(pupil, today(), night(0) + Duration::hours(12))
            .unwrap()
    });
    // The enrolment ended on the 2nd; the run on the night to the 4th sees it.
    let record = f.import(1).await;
    assert_eq!(record.counts["Person"].ended, 1, "{:?}", record.counts);
    let after = f.record_of(pupil).await.expect("the pupil is still there");
    let left = after.person.left.expect("marked as left");
    assert_eq!(left.reason, LeftReason::EnrolmentEnded);
    assert_eq!(left.on, today());
    let school_id = SchoolId::from_registry(uuid(school));
    assert!(!after.relations.iter().any(|r| matches!(
        r,
        Relation::EnrolledAt { school_id: s, .. } if *s == school_id
    )));
    let guardian = f.read(|m| m.guardians_of(pupil)[0]);
    assert!(
        f.record_of(guardian)
            .await
            .unwrap()
            .is_guardian_of(person_id(pupil)),
        "the guardian keeps access to the history"
    );

    // Leavers already ended in the registry were imported as left.
    let emigrated = f.read(|m| m.manifest.leavers_of(LeaverKind::Utvandrad).next().unwrap());
    let emigrated = f.record_of(emigrated).await.unwrap();
    assert_eq!(emigrated.person.left.unwrap().reason, LeftReason::Emigrated);
}

fn is_member(record: &directory::PersonRecord) -> bool {
    record
        .relations
        .iter()
        .any(|r| matches!(r, Relation::MemberOf { .. }))
}

async fn a_pupil_who_leaves_loses_their_groups_while_the_registry_still_lists_them(
    backend: Backend,
) {
    let f = Fixture::new(backend).await;
    f.import(0).await;
    let (pupil, _, class) = f.read(plain_pupil);
    let class_id = GroupId::from_registry(uuid(class));
    let members = || async {
        directory::group_members(f.store.as_ref(), class_id)
            .await
            .unwrap()
    };
    assert!(is_member(&f.record_of(pupil).await.unwrap()));
    assert!(members().await.contains(&person_id(pupil)));

    // The registry ends the enrolment and keeps the class membership; the
    // class itself does not change, so a delta run does not read it.
    f.registry.with(|m| {
        m.end_enrolment(pupil, today(), night(0) + Duration::hours(12))
            .unwrap()
    });
    let record = f.import(1).await;
    assert!(
        record.counts.get("Group").is_none_or(|c| c.updated == 0),
        "{:?}",
        record.counts
    );
    assert!(f.read(|m| m.classes_of(pupil).contains(&class)));
    assert!(!is_member(&f.record_of(pupil).await.unwrap()));
    assert!(!members().await.contains(&person_id(pupil)));
    let classmate = f.read(|m| {
        plain_pupils(m)
            .find(|p| p.2 == class && p.0 != pupil)
            .unwrap()
            .0
    });
    assert!(
        members().await.contains(&person_id(classmate)),
        "only the leaver goes"
    );

    // The class changes (a delta run reads it, the leaver not) and a full
    // run reads everything: neither brings the leaver back.
    f.registry
        .with(|m| m.touch(EntityType::Group, class, night(1) + Duration::hours(12)))
        .unwrap();
    f.import(2).await;
    assert!(!members().await.contains(&person_id(pupil)));
    let full = f
        .run_with(Options {
            force_full: true,
            ..Options::new(night(3), today() + Duration::days(3))
        })
        .await;
    assert_eq!(full.mode, Mode::Full);
    assert!(!members().await.contains(&person_id(pupil)));
    assert!(members().await.contains(&person_id(classmate)));

    // A pupil the registry listed as gone on the first night never joined.
    let (emigrated, classes) = f.read(|m| {
        let id = m.manifest.leavers_of(LeaverKind::Utvandrad).next().unwrap();
        (id, m.classes_of(id))
    });
    assert!(!classes.is_empty(), "the registry lists them in a class");
    assert!(!is_member(&f.record_of(emigrated).await.unwrap()));
}

async fn a_pupil_deleted_upstream_is_ended_as_removed(backend: Backend) {
    let f = Fixture::new(backend).await;
    f.import(0).await;
    let (pupil, _, _) = f.read(plain_pupil);
    f.registry
        .with(|m| m.delete(EntityType::Person, pupil, night(0) + Duration::hours(12)))
        .unwrap();
    let record = f.import(1).await;
    assert_eq!(record.mode, Mode::Delta);
    assert!(record.held_back.is_empty(), "one pupil is under the limit");
    let after = f.record_of(pupil).await.expect("kept, not erased");
    let left = after.person.left.expect("ended");
    assert_eq!(left.reason, LeftReason::RemovedFromRegistry);
    assert!(
        !after
            .relations
            .iter()
            .any(|r| matches!(r, Relation::EnrolledAt { .. })),
        "no longer enrolled"
    );
}

async fn a_pupil_active_at_two_schools_is_flagged_at_both(backend: Backend) {
    let f = Fixture::new(backend).await;
    f.import(0).await;
    let double = f.read(|m| m.manifest.double_enrolled[0].clone());
    for school in double.schools {
        let flag = skolnav::keys::school_flag(
            SchoolId::from_registry(uuid(school)),
            "ENROLLED_ELSEWHERE",
            person_id(double.pupil),
        );
        assert!(
            f.store.get(&flag).await.unwrap().is_some(),
            "flag missing at one school"
        );
    }
}

async fn a_protected_person_appears_nowhere(backend: Backend) {
    let f = Fixture::new(backend).await;
    let record = f.import(0).await;
    let protected: Vec<(Id, String, String)> = f.read(|m| {
        m.manifest
            .protected
            .iter()
            .map(|p| {
                let person = m.person(p.id).unwrap();
                (p.id, person.given_name.clone(), person.family_name.clone())
            })
            .collect()
    });
    assert!(!protected.is_empty());
    assert_eq!(
        record.counts["Person"].skipped_protected,
        protected.len() as u64
    );
    let everything = f.table.dump().await;
    for (id, given, family) in protected {
        assert!(f.record_of(id).await.is_none());
        let ulid = person_id(id).to_string();
        assert!(
            !everything.contains(&ulid),
            "the protected person's id is stored"
        );
        assert!(
            !everything.contains(&format!("\"{given} {family}\"")),
            "the protected person's name is stored"
        );
        assert!(!everything.contains(&uuid(id).to_string()));
    }
    let pupils_protected: u64 = record.protected_per_school.values().sum();
    let expected = f.read(|m| m.manifest.protected_of(PersonKind::Pupil).count() as u64);
    assert_eq!(pupils_protected, expected);
}

/// A pupil and another family's guardian who were imported, then get a
/// protected identity upstream: the next (delta) run deletes everything it
/// wrote of them, and later runs leave them out of groups without a word.
async fn a_person_who_becomes_protected_is_scrubbed_from_everything(backend: Backend) {
    let f = Fixture::new(backend).await;
    f.import(0).await;
    let (pupil, class, guardian, other_pupil) = f.read(|m| {
        let mut plain = plain_pupils(m);
        let (pupil, _, class) = plain.next().unwrap();
        let pupils_guardians = m.guardians_of(pupil);
        let (other_pupil, _, _) = plain
            .find(|(p, _, _)| {
                m.guardians_of(*p)
                    .iter()
                    .all(|g| !pupils_guardians.contains(g))
            })
            .unwrap();
        (pupil, class, m.guardians_of(other_pupil)[0], other_pupil)
    });
    let names: Vec<String> = f.read(|m| {
        [pupil, guardian]
            .iter()
            .map(|id| {
                let p = m.person(*id).unwrap();
                format!("{} {}", p.given_name, p.family_name)
            })
            .collect()
    });
    assert!(f.record_of(pupil).await.is_some());
    assert!(
        f.record_of(guardian)
            .await
            .unwrap()
            .is_guardian_of(person_id(other_pupil))
    );

    let marked = night(0) + Duration::hours(12);
    f.registry.with(|m| {
        m.set_security_marking(pupil, SecurityMarking::SkyddadFolkbokforing, marked)
            .unwrap();
        m.set_security_marking(guardian, SecurityMarking::Sekretessmarkering, marked)
            .unwrap();
    });
    let record = f.import(1).await;
    assert_eq!(record.mode, Mode::Delta);
    assert_eq!(record.counts["Person"].scrubbed, 2, "{:?}", record.counts);
    assert!(f.record_of(pupil).await.is_none());
    assert!(f.record_of(guardian).await.is_none());
    let everything = f.table.dump().await;
    for name in &names {
        assert!(
            !everything.contains(name.as_str()),
            "a protected name stays"
        );
    }
    // Only the import's bookkeeping of objects not read since (the class,
    // a duty) may still list the keys that were deleted.
    let domain: String = everything
        .lines()
        .filter(|item| !item.contains("\"SS12000#"))
        .collect();
    for id in [pupil, guardian] {
        assert!(
            !domain.contains(&person_id(id).to_string()),
            "an item still refers to a protected person"
        );
        assert!(!everything.contains(&uuid(id).to_string()));
    }
    let other_guardians = f.read(|m| m.guardians_of(other_pupil));
    for g in other_guardians.iter().filter(|g| **g != guardian) {
        assert!(
            f.record_of(*g)
                .await
                .unwrap()
                .is_guardian_of(person_id(other_pupil)),
            "the other guardian keeps their rights"
        );
    }

    // The class changes upstream and still lists the pupil: the delta run
    // does not read the pupil again, and leaves them out silently.
    f.registry
        .with(|m| m.touch(EntityType::Group, class, night(1) + Duration::hours(12)))
        .unwrap();
    let later = f.import(2).await;
    assert_eq!(
        later.counts["Group"].updated + later.counts["Group"].unchanged,
        1
    );
    assert!(
        later
            .rejections
            .iter()
            .all(|r| !format!("{r:?}").contains(&uuid(pupil).to_string())),
        "{:?}",
        later.rejections
    );
    // The weekly full run reads every object: then no state lists them.
    let mut full = Options::new(night(3), today() + Duration::days(3));
    full.force_full = true;
    let full = f.run_with(full).await;
    assert_eq!(full.status, Status::Succeeded);
    let everything = f.table.dump().await;
    for id in [pupil, guardian] {
        assert!(
            !everything.contains(&person_id(id).to_string()),
            "the import's state still lists a protected person's keys"
        );
    }
}

async fn a_truncated_feed_holds_back_its_school_and_writes_nothing_of_it(backend: Backend) {
    let f = Fixture::new(backend).await;
    f.import(0).await;
    let (_, school, _) = f.read(plain_pupil);
    let school_id = SchoolId::from_registry(uuid(school));
    let dropped = f.registry.with(|m| m.truncate_school_pupils(school, 0.3));
    let mut enrolled_dropped = Vec::new();
    for pupil in &dropped {
        if let Some(r) = f.record_of(*pupil).await
            && r.relations.iter().any(|r| {
                matches!(
                    r,
                    Relation::EnrolledAt { school_id: s, .. } if *s == school_id
                )
            })
        {
            enrolled_dropped.push(*pupil);
        }
    }
    // Something else of the school changes too: it must not be written.
    let (_, _, class) = f.read(plain_pupil);
    f.registry
        .with(|m| m.touch(EntityType::Group, class, night(0) + Duration::hours(12)))
        .unwrap();
    f.store.watcher.take();
    let record = f
        .run_with(Options {
            force_full: true,
            ..Options::new(night(1), today() + Duration::days(1))
        })
        .await;
    assert_eq!(record.status, Status::Succeeded, "{:?}", record.error);
    assert_eq!(record.held_back.len(), 1, "{:?}", record.held_back);
    let held = &record.held_back[0];
    assert_eq!(held.school_id, school_id);
    assert!(enrolled_dropped.len() > 3);
    assert_eq!(held.would_end, enrolled_dropped.len() as u64, "{held:?}");
    assert!(held.reason.contains("nothing of this school was written"));
    for pupil in &enrolled_dropped {
        let r = f.record_of(*pupil).await.unwrap();
        assert!(r.person.left.is_none(), "a dropped pupil was ended");
        assert!(r.relations.iter().any(|r| matches!(
            r,
            Relation::EnrolledAt { school_id: s, .. } if *s == school_id
        )));
    }
    assert_eq!(
        f.store.watcher.take().0,
        0,
        "nothing written for the held school"
    );
}

async fn a_run_that_dies_midway_is_resumed_without_duplicates(backend: Backend) {
    let f = Fixture::new(backend).await;
    f.registry.fail_after_more_requests(Some(6));
    let failed = f.run_with(Options::new(night(0), today())).await;
    assert_eq!(failed.status, Status::Failed);
    assert!(failed.error.as_deref().unwrap_or("").contains("registry"));
    f.registry.fail_after_more_requests(None);
    let resumed = f.import(0).await;
    assert_eq!(
        resumed.mode,
        Mode::Full,
        "no success yet: the resumed run is full"
    );
    assert!(
        resumed.counts["Person"].unchanged > 0,
        "what the dead run wrote counts as unchanged: {:?}",
        resumed.counts
    );
    let (pupil, _, _) = f.read(plain_pupil);
    let guardians = f.read(|m| m.guardians_of(pupil)).len();
    let stored = skolnav::store::query_all(
        f.store.as_ref(),
        Query::partition(format!("PEOPLE#PERSON#{}", person_id(pupil)))
            .on(skolnav::store::Index::Gsi1),
    )
    .await
    .unwrap();
    let stored = stored
        .iter()
        .filter(|i| {
            i.gsi1
                .as_ref()
                .is_some_and(|k| k.sk.starts_with("GUARDIAN#"))
        })
        .count();
    assert_eq!(
        stored, guardians,
        "one guardian relation each, no duplicates"
    );
    f.store.watcher.take();
    f.import(1).await;
    assert_eq!(f.store.watcher.take(), (0, 0));
}

async fn each_kind_of_bad_row_is_rejected_with_its_reason(backend: Backend) {
    let f = Fixture::new(backend).await;
    let record = f.import(0).await;
    let bad = f.read(|m| m.manifest.bad_rows.clone());
    for kind in [
        BadRow::UnknownEnum,
        BadRow::InvalidPersonnummer,
        BadRow::TfNumber,
        BadRow::MissingField,
        BadRow::UnknownReference,
    ] {
        let rows: Vec<_> = bad.iter().filter(|b| b.kind == kind).collect();
        assert!(!rows.is_empty(), "the fixture has {kind:?} rows");
        for row in rows {
            let id = uuid(row.id).to_string();
            let found = record
                .rejections
                .iter()
                .find(|r| r.id.as_deref() == Some(id.as_str()))
                .unwrap_or_else(|| panic!("{kind:?} row {id} ({}) not reported", row.field));
            let matches = matches!(
                (&found.reason, kind),
                (Reason::UnknownEnumValue { .. }, BadRow::UnknownEnum)
                    | (
                        Reason::InvalidPersonnummer { .. },
                        BadRow::InvalidPersonnummer
                    )
                    | (Reason::TemporaryNumber { .. }, BadRow::TfNumber)
                    | (Reason::MissingField { .. }, BadRow::MissingField)
                    | (Reason::UnknownReference { .. }, BadRow::UnknownReference)
            );
            assert!(matches, "{kind:?} row reported as {:?}", found.reason);
        }
    }
    let text = serde_json::to_string(&record).unwrap();
    let numbers: Vec<String> = f.read(|m| {
        m.persons
            .values()
            .filter_map(|p| p.civic_no.as_ref().map(|c| c.value.clone()))
            .collect()
    });
    assert!(
        numbers.iter().all(|n| !text.contains(n.as_str())),
        "the run record names no personnummer"
    );
}

async fn pages_are_followed_and_a_too_large_answer_is_asked_again_smaller(backend: Backend) {
    let f = Fixture::with(
        backend,
        ServerOptions {
            max_limit_before_503: Some(20),
            ..ServerOptions::default()
        },
    )
    .await;
    let record = f.import(0).await;
    assert!(
        record.upstream.too_large_retries > 0,
        "{:?}",
        record.upstream
    );
    assert!(f.registry.stats().service_unavailable > 0);
    let persons = f.read(|m| m.persons.len() as u64);
    let c = &record.counts["Person"];
    assert_eq!(c.created + c.rejected + c.skipped_protected, persons);
}

async fn a_dry_run_writes_only_its_run_record(backend: Backend) {
    let f = Fixture::new(backend).await;
    let record = f
        .run_with(Options {
            dry_run: true,
            ..Options::new(night(0), today())
        })
        .await;
    assert_eq!(record.status, Status::Succeeded);
    assert!(record.dry_run);
    assert!(
        record.counts["Person"].created > 0,
        "it reports what it would do"
    );
    assert_eq!(f.store.watcher.take(), (0, 0));
    let (pupil, _, _) = f.read(plain_pupil);
    assert!(f.record_of(pupil).await.is_none());
    let stored = skolnav::import::record::get(f.store.as_ref(), record.run_id)
        .await
        .unwrap()
        .expect("the run record is stored");
    assert_eq!(stored, record);
    // A real run after it is still a first, full run.
    assert_eq!(f.import(0).await.mode, Mode::Full);
}

async fn two_runs_never_overlap(backend: Backend) {
    let f = Fixture::new(backend).await;
    let client_a = f.client(50);
    let client_b = f.client(50);
    let (a, b) = tokio::join!(
        run(f.store.as_ref(), &client_a, Options::new(night(0), today())),
        run(f.store.as_ref(), &client_b, Options::new(night(0), today())),
    );
    let outcomes = [a.unwrap(), b.unwrap()];
    let ran = outcomes
        .iter()
        .filter(|o| matches!(o, Outcome::Ran(_)))
        .count();
    let refused = outcomes
        .iter()
        .filter(|o| matches!(o, Outcome::AlreadyRunning { .. }))
        .count();
    assert_eq!((ran, refused), (1, 1));
    // The lease is freed when the run ends.
    assert!(matches!(
        run(
            f.store.as_ref(),
            &f.client(50),
            Options::new(night(1), today())
        )
        .await
        .unwrap(),
        Outcome::Ran(_)
    ));
}

/// A registry that answers each page after a pause.
struct Slow<'a> {
    inner: &'a Client,
    pause: std::time::Duration,
}

struct SlowPages<'a> {
    inner: Box<dyn Pages + 'a>,
    pause: std::time::Duration,
}

#[async_trait]
impl Pages for SlowPages<'_> {
    async fn next(&mut self) -> Result<Option<Vec<Row>>, String> {
        tokio::time::sleep(self.pause).await;
        self.inner.next().await
    }
}

#[async_trait]
impl Source for Slow<'_> {
    async fn open(
        &self,
        object: ObjectType,
        after: Option<DateTime<Utc>>,
    ) -> Result<Box<dyn Pages + '_>, String> {
        Ok(Box::new(SlowPages {
            inner: Source::open(self.inner, object, after).await?,
            pause: self.pause,
        }))
    }

    async fn deleted(&self, after: DateTime<Utc>) -> Result<Deleted, String> {
        Source::deleted(self.inner, after).await
    }

    fn stats(&self) -> UpstreamStats {
        Source::stats(self.inner)
    }
}

/// A slow registry makes the run outlast its lease: the run extends the
/// lease as it goes, so a second run started after the first lease would
/// have ended is still refused.
async fn a_run_longer_than_its_lease_keeps_other_runs_out(backend: Backend) {
    let f = Fixture::new(backend).await;
    let lease = Duration::milliseconds(800);
    let client = f.client(20);
    let slow = Slow {
        inner: &client,
        pause: std::time::Duration::from_millis(250),
    };
    let first = run(
        f.store.as_ref(),
        &slow,
        Options {
            lease_for: lease,
            ..Options::new(Utc::now(), today())
        },
    );
    let second = async {
        tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
        let now = Utc::now();
        let outcome = run(
            f.store.as_ref(),
            &f.client(50),
            Options {
                lease_for: lease,
                ..Options::new(now, today())
            },
        )
        .await;
        (now, outcome)
    };
    let (first, (second_started, second)) = tokio::join!(first, second);
    let Outcome::Ran(record) = first.unwrap() else {
        panic!("the first run holds the lease from the start");
    };
    assert_eq!(record.status, Status::Succeeded, "{:?}", record.error);
    assert!(
        record.finished_at.unwrap() > second_started,
        "the first run was still running when the second started"
    );
    assert!(
        matches!(second.unwrap(), Outcome::AlreadyRunning { .. }),
        "a run started while the first one still runs is refused"
    );
}

on_both_stores!(
    the_first_run_imports_pupils_guardians_groups_and_staff,
    an_unchanged_second_run_writes_nothing,
    a_changed_guardian_moves_the_guardian_rights,
    a_guardian_carries_where_their_child_is_a_pupil_and_it_follows_a_class_move,
    what_a_person_chose_themselves_survives_the_registrys_changes,
    a_renamed_pupil_is_named_anew_on_their_groups_lists,
    a_pupil_who_leaves_is_ended_not_erased,
    a_pupil_who_leaves_loses_their_groups_while_the_registry_still_lists_them,
    a_protected_person_appears_nowhere,
    a_person_who_becomes_protected_is_scrubbed_from_everything,
    a_pupil_deleted_upstream_is_ended_as_removed,
    a_pupil_active_at_two_schools_is_flagged_at_both,
    a_full_rerun_of_several_schools_writes_nothing,
    a_truncated_feed_holds_back_its_school_and_writes_nothing_of_it,
    a_run_that_dies_midway_is_resumed_without_duplicates,
    each_kind_of_bad_row_is_rejected_with_its_reason,
    pages_are_followed_and_a_too_large_answer_is_asked_again_smaller,
    a_dry_run_writes_only_its_run_record,
    two_runs_never_overlap,
    a_run_longer_than_its_lease_keeps_other_runs_out,
    the_import_creates_the_lessons_of_each_group_and_teacher,
    a_protected_pupils_exception_is_left_out_without_a_trace,
    an_unchanged_rerun_writes_no_lesson,
    a_moved_lesson_leaves_its_old_day_and_appears_on_the_new,
    a_cancelled_or_deleted_event_shows_as_cancelled_and_is_kept,
    a_changed_activity_updates_its_lessons_in_a_delta_run,
    a_rejected_schedule_row_is_recorded_with_its_reason,
    a_pupil_or_teacher_who_becomes_protected_leaves_no_trace_in_the_lessons,
);

/// Several schools of about 600 pupils, pages of 500: what the benchmark
/// runs, small enough for a test.
async fn a_full_rerun_of_several_schools_writes_nothing(backend: Backend) {
    let table = skolnav_tests::RawTable::new(backend).await;
    let store = Arc::new(Watched::new(table.store(), Counting::default()));
    let municipality = generate(&Spec::with_pupils(1500).today(today()));
    let registry = Ss12000Server::start(municipality, ServerOptions::default()).await;
    let client = skolnav_tests::registry_client(&registry, 500);
    let first = run(store.as_ref(), &client, Options::new(night(0), today()))
        .await
        .unwrap();
    assert!(matches!(first, Outcome::Ran(ref r) if r.status == Status::Succeeded));
    store.watcher.take();
    let Outcome::Ran(again) = run(
        store.as_ref(),
        &client,
        Options {
            force_full: true,
            ..Options::new(night(0) + Duration::hours(1), today())
        },
    )
    .await
    .unwrap() else {
        panic!("lease taken")
    };
    assert_eq!(again.written(), 0, "{:?}", again.counts);
    assert_eq!(store.watcher.take(), (0, 0));
}

// ---- A4: the schedule (activities and calendar events as lessons) ----

mod schedule {
    use super::*;
    use skolnav::ids::LessonId;
    use skolnav::keys;
    use skolnav::lessons::Lesson;
    use skolnav::store::{Index, SortKey};
    use skolnav_ss12000_fixture::{CalendarEvent, Reference};

    /// The lessons of one index partition on one day, read as the day
    /// views read them: one query.
    async fn day(f: &Fixture, index: Index, partition: String, day: NaiveDate) -> Vec<Lesson> {
        let (lo, hi) = keys::lesson_day_range(day, day);
        let page = f
            .store
            .query(
                &Query::partition(partition)
                    .on(index)
                    .sort(SortKey::Between(lo, hi)),
            )
            .await
            .unwrap();
        assert!(page.next.is_none(), "a day is one page");
        page.items.iter().map(|i| i.parse().unwrap()).collect()
    }

    async fn group_day(f: &Fixture, class: Id, on: NaiveDate) -> Vec<Lesson> {
        let group = GroupId::from_registry(uuid(class));
        day(f, Index::Gsi1, keys::lessons_of_group_partition(group), on).await
    }

    async fn teacher_day(f: &Fixture, teacher: Id, on: NaiveDate) -> Vec<Lesson> {
        day(
            f,
            Index::Gsi2,
            keys::lessons_of_teacher_partition(person_id(teacher)),
            on,
        )
        .await
    }

    fn lesson_id(id: Id) -> LessonId {
        LessonId::from_registry(uuid(id))
    }

    /// The first lesson of a plain pupil's class (the one with planted
    /// exceptions), its class and the class's mentor.
    fn first_lesson(m: &Municipality) -> (CalendarEvent, Id, Id) {
        let (_, _, class) = plain_pupil(m);
        let first = m
            .activities_of(class)
            .into_iter()
            .flat_map(|a| m.lessons_of(a))
            .min_by_key(|e| (e.start_time, e.id))
            .expect("the class has lessons")
            .clone();
        (first, class, mentor_of(m, class))
    }

    pub(super) async fn the_import_creates_the_lessons_of_each_group_and_teacher(backend: Backend) {
        let f = Fixture::new(backend).await;
        let record = f.import(0).await;
        let (events, activities) = f.read(|m| (m.calendar_events.len(), m.activities.len()));
        assert_eq!(record.counts["CalendarEvent"].created, events as u64);
        assert_eq!(record.counts["Activity"].created, activities as u64);

        let (first, class, mentor) = f.read(first_lesson);
        let on = first.start_time.date_naive();
        let expected: Vec<LessonId> = f.read(|m| {
            let mut ids: Vec<&CalendarEvent> = m
                .activities_of(class)
                .into_iter()
                .flat_map(|a| m.lessons_of(a))
                .filter(|e| e.start_time.date_naive() == on)
                .collect();
            ids.sort_by_key(|e| (e.start_time, e.id));
            ids.into_iter().map(|e| lesson_id(e.id)).collect()
        });
        let lessons = group_day(&f, class, on).await;
        let got: Vec<LessonId> = lessons.iter().map(|l| l.id).collect();
        assert_eq!(got, expected, "the group's day, in the order of the day");
        let lesson = &lessons[0];
        assert_eq!(lesson.id, lesson_id(first.id));
        assert_eq!(lesson.start, first.start_time);
        assert_eq!(lesson.minutes, 45);
        assert_eq!(lesson.teacher_ids, vec![person_id(mentor)]);
        assert!(lesson.subject.is_some());
        assert_eq!(lesson.rooms.len(), 1);
        // The first member arrives 20 minutes late: 25 minutes of 45.
        let late = &lesson.pupil_exceptions[0];
        assert_eq!(
            late.pupil_id,
            person_id(first.student_exceptions[0].student.id)
        );
        assert_eq!(late.minutes, 25);

        let theirs = teacher_day(&f, mentor, on).await;
        assert!(!theirs.is_empty());
        assert!(
            theirs
                .iter()
                .all(|l| l.teacher_ids.contains(&person_id(mentor))),
            "a teacher's day holds only their lessons"
        );
        assert!(theirs.iter().any(|l| l.id == lesson_id(first.id)));
    }

    pub(super) async fn a_protected_pupils_exception_is_left_out_without_a_trace(backend: Backend) {
        let f = Fixture::new(backend).await;
        let record = f.import(0).await;
        let hidden: Vec<Id> = f.read(|m| {
            m.calendar_events
                .values()
                .flat_map(|e| e.student_exceptions.iter().map(|x| x.student.id))
                .filter(|p| m.manifest.protected.iter().any(|x| x.id == *p))
                .collect()
        });
        assert!(
            !hidden.is_empty(),
            "the fixture plants protected exceptions"
        );
        let everything = f.table.dump().await;
        for id in hidden {
            assert!(!everything.contains(&person_id(id).to_string()));
            assert!(!everything.contains(&uuid(id).to_string()));
            let text = serde_json::to_string(&record).unwrap();
            assert!(
                !text.contains(&uuid(id).to_string()),
                "not in the run record"
            );
        }
    }

    pub(super) async fn an_unchanged_rerun_writes_no_lesson(backend: Backend) {
        let f = Fixture::new(backend).await;
        f.import(0).await;
        f.store.watcher.take();
        let forced = f
            .run_with(Options {
                force_full: true,
                ..Options::new(night(1), today() + Duration::days(1))
            })
            .await;
        assert_eq!(f.store.watcher.take(), (0, 0), "{:?}", forced.counts);
        let events = f.read(|m| m.calendar_events.len()) as u64;
        assert_eq!(forced.counts["CalendarEvent"].unchanged, events);
        assert_eq!(forced.counts["CalendarEvent"].updated, 0);
    }

    pub(super) async fn a_moved_lesson_leaves_its_old_day_and_appears_on_the_new(backend: Backend) {
        let f = Fixture::new(backend).await;
        f.import(0).await;
        let (first, class, mentor) = f.read(first_lesson);
        let monday = first.start_time.date_naive();
        let tuesday = monday + Duration::days(1);
        f.registry.with(|m| {
            let e = m.calendar_events.get_mut(&first.id).unwrap();
            e.start_time += Duration::days(1);
            e.end_time += Duration::days(1);
            m.touch(
                EntityType::CalendarEvent,
                first.id,
                night(0) + Duration::hours(12),
            )
            .unwrap();
        });
        f.store.watcher.take();
        let record = f.import(1).await;
        assert_eq!(record.mode, Mode::Delta);
        assert_eq!(record.counts["CalendarEvent"].updated, 1);
        let (written, deleted) = f.store.watcher.take();
        assert_eq!((written, deleted), (3, 0), "the lesson and its two copies");
        let id = lesson_id(first.id);
        for lessons in [
            group_day(&f, class, monday).await,
            teacher_day(&f, mentor, monday).await,
        ] {
            assert!(lessons.iter().all(|l| l.id != id), "gone from Monday");
        }
        for lessons in [
            group_day(&f, class, tuesday).await,
            teacher_day(&f, mentor, tuesday).await,
        ] {
            let moved = lessons.iter().find(|l| l.id == id).expect("on Tuesday");
            assert_eq!(moved.start, first.start_time + Duration::days(1));
        }
    }

    pub(super) async fn a_cancelled_or_deleted_event_shows_as_cancelled_and_is_kept(
        backend: Backend,
    ) {
        let f = Fixture::new(backend).await;
        f.import(0).await;
        let (first, class, _) = f.read(first_lesson);
        let (second, _, _) = f.read(|m| {
            let (_, _, class) = plain_pupil(m);
            let mut all: Vec<CalendarEvent> = m
                .activities_of(class)
                .into_iter()
                .flat_map(|a| m.lessons_of(a))
                .cloned()
                .collect();
            all.sort_by_key(|e| (e.start_time, e.id));
            (all[1].clone(), class, ())
        });
        let at = night(0) + Duration::hours(12);
        f.registry.with(|m| {
            m.calendar_events.get_mut(&first.id).unwrap().cancelled = true;
            m.touch(EntityType::CalendarEvent, first.id, at).unwrap();
            m.delete(EntityType::CalendarEvent, second.id, at).unwrap();
        });
        let record = f.import(1).await;
        assert_eq!(record.counts["CalendarEvent"].updated, 1);
        assert_eq!(record.counts["CalendarEvent"].ended, 1);
        let lessons = group_day(&f, class, first.start_time.date_naive()).await;
        let cancelled = lessons
            .iter()
            .find(|l| l.id == lesson_id(first.id))
            .unwrap();
        assert!(cancelled.cancelled && !cancelled.removed);
        let on = second.start_time.date_naive();
        let lessons = group_day(&f, class, on).await;
        let removed = lessons
            .iter()
            .find(|l| l.id == lesson_id(second.id))
            .expect("a deleted lesson is kept");
        assert!(removed.cancelled && removed.removed);
        // Deleted again in the next delta: not news.
        let again = f.import(2).await;
        assert_eq!(again.written(), 0, "{:?}", again.counts);
    }

    pub(super) async fn a_changed_activity_updates_its_lessons_in_a_delta_run(backend: Backend) {
        let f = Fixture::new(backend).await;
        f.import(0).await;
        let (first, class, _) = f.read(first_lesson);
        let activity = first.activity.id;
        let n = f.read(|m| m.lessons_of(activity).len()) as u64;
        // Another teacher takes over: the language teacher of the school.
        let substitute = f.read(|m| {
            let school = m.groups[&class].organisation.id;
            m.duties
                .values()
                .find(|d| {
                    d.duty_at.id == school
                        && d.assignment_role.is_empty()
                        && d.duty_role.as_str() == "Lärare"
                })
                .map(|d| (d.id, d.person.id))
                .expect("a teacher without assignments")
        });
        f.registry.with(|m| {
            let a = m.activities.get_mut(&activity).unwrap();
            a.display_name = "Matte 4X".into();
            a.teachers[0].duty = Reference::from(substitute.0);
            m.touch(
                EntityType::Activity,
                activity,
                night(0) + Duration::hours(12),
            )
            .unwrap();
        });
        let record = f.import(1).await;
        assert_eq!(record.counts["Activity"].updated, 1);
        assert_eq!(record.counts["CalendarEvent"].updated, n);
        let on = first.start_time.date_naive();
        let lesson = group_day(&f, class, on)
            .await
            .into_iter()
            .find(|l| l.id == lesson_id(first.id))
            .unwrap();
        assert_eq!(lesson.title, "Matte 4X");
        assert_eq!(lesson.teacher_ids, vec![person_id(substitute.1)]);
        let theirs = teacher_day(&f, substitute.1, on).await;
        assert!(theirs.iter().any(|l| l.id == lesson_id(first.id)));
        let mentor = f.read(|m| mentor_of(m, class));
        let old = teacher_day(&f, mentor, on).await;
        assert!(
            old.iter().all(|l| l.id != lesson_id(first.id)),
            "gone from the old teacher's day"
        );
        // Deleting the activity cancels its lessons and keeps them.
        f.registry.with(|m| {
            m.delete(
                EntityType::Activity,
                activity,
                night(1) + Duration::hours(12),
            )
            .unwrap()
        });
        let record = f.import(2).await;
        assert_eq!(record.counts["Activity"].ended, 1);
        assert_eq!(record.counts["CalendarEvent"].ended, n);
        let lesson = group_day(&f, class, on)
            .await
            .into_iter()
            .find(|l| l.id == lesson_id(first.id))
            .unwrap();
        assert!(lesson.cancelled && lesson.removed);
    }

    pub(super) async fn a_pupil_or_teacher_who_becomes_protected_leaves_no_trace_in_the_lessons(
        backend: Backend,
    ) {
        let f = Fixture::new(backend).await;
        f.import(0).await;
        let (first, class, mentor) = f.read(first_lesson);
        let late = first.student_exceptions[0].student.id;
        let marked = night(0) + Duration::hours(12);
        f.registry.with(|m| {
            m.set_security_marking(late, SecurityMarking::SkyddadFolkbokforing, marked)
                .unwrap();
            m.set_security_marking(mentor, SecurityMarking::Sekretessmarkering, marked)
                .unwrap();
        });
        let record = f.import(1).await;
        assert_eq!(record.mode, Mode::Delta);
        assert_eq!(record.counts["Person"].scrubbed, 2, "{:?}", record.counts);
        let everything = f.table.dump().await;
        let domain: String = everything
            .lines()
            .filter(|item| !item.contains("\"SS12000#"))
            .collect();
        for id in [late, mentor] {
            assert!(
                !domain.contains(&person_id(id).to_string()),
                "a lesson still names a protected person"
            );
        }
        let lesson = group_day(&f, class, first.start_time.date_naive())
            .await
            .into_iter()
            .find(|l| l.id == lesson_id(first.id))
            .expect("the lesson stays");
        assert!(lesson.teacher_ids.is_empty());
        assert!(
            lesson
                .pupil_exceptions
                .iter()
                .all(|x| x.pupil_id != person_id(late))
        );
        // The next night is an ordinary delta again: nothing to write.
        let next = f.import(2).await;
        assert_eq!(next.written(), 0, "{:?}", next.counts);
    }

    pub(super) async fn a_rejected_schedule_row_is_recorded_with_its_reason(backend: Backend) {
        let f = Fixture::new(backend).await;
        let (first, class, _) = f.read(first_lesson);
        let ghost = Id(0x0bad_0000_0000_4000_8000_0000_0000_0001);
        let ids = f.registry.with(|m| {
            let mut bad_type = m.activities[&first.activity.id].clone();
            bad_type.id = Id(0x0bad_0000_0000_4000_8000_0000_0000_0002);
            bad_type.activity_type = "Rast".into();
            let mut ghost_group = m.activities[&first.activity.id].clone();
            ghost_group.id = Id(0x0bad_0000_0000_4000_8000_0000_0000_0003);
            ghost_group.groups = vec![ghost.into(), class.into()];
            let mut backwards = first.clone();
            backwards.id = Id(0x0bad_0000_0000_4000_8000_0000_0000_0004);
            backwards.end_time = backwards.start_time - Duration::minutes(5);
            let mut orphan = first.clone();
            orphan.id = Id(0x0bad_0000_0000_4000_8000_0000_0000_0005);
            orphan.activity = ghost.into();
            let ids = [bad_type.id, ghost_group.id, backwards.id, orphan.id];
            m.activities.insert(bad_type.id, bad_type);
            m.activities.insert(ghost_group.id, ghost_group);
            m.calendar_events.insert(backwards.id, backwards);
            m.calendar_events.insert(orphan.id, orphan);
            ids
        });
        let record = f.import(0).await;
        let reason = |id: Id| {
            record
                .rejections
                .iter()
                .find(|r| r.id.as_deref() == Some(uuid(id).to_string().as_str()))
                .map(|r| (r.object_type, r.reason.clone()))
                .unwrap_or_else(|| panic!("{id} not reported"))
        };
        assert_eq!(
            reason(ids[0]),
            (
                ObjectType::Activity,
                Reason::UnknownEnumValue {
                    field: "activityType".into(),
                    value: "Rast".into()
                }
            )
        );
        assert_eq!(
            reason(ids[1]),
            (
                ObjectType::Activity,
                Reason::UnknownReference {
                    field: "groups[0]".into(),
                    id: uuid(ghost).to_string()
                }
            )
        );
        assert_eq!(
            reason(ids[2]),
            (
                ObjectType::CalendarEvent,
                Reason::EndNotAfterStart {
                    field: "endTime".into()
                }
            )
        );
        assert_eq!(
            reason(ids[3]),
            (
                ObjectType::CalendarEvent,
                Reason::UnknownReference {
                    field: "activity".into(),
                    id: uuid(ghost).to_string()
                }
            )
        );
        assert_eq!(record.counts["Activity"].rejected, 2);
        assert_eq!(record.counts["CalendarEvent"].rejected, 2);
        // The activity with one unknown group keeps its known one.
        assert!(
            f.store
                .get(&keys::activity(skolnav::ids::ActivityId::from_registry(
                    uuid(ids[1])
                )))
                .await
                .unwrap()
                .is_some()
        );
    }
}

use schedule::*;
