//! One import run: lease, mode, the mass-end guard, then organisations,
//! persons, groups, pupils' responsibles, duties, placements, and the
//! schedule (activities, then their calendar events as lessons), page by
//! page.
//!
//! The import's own bookkeeping (state, markers) is read eventually
//! consistent: it was written hours ago, or by a run that died minutes ago,
//! and a stale answer costs a harmless rewrite. Items users also edit are
//! read consistently before they are merged.
//!
//! What a run holds in memory is small per person (the ids it has seen,
//! and each pupil's responsibles until every person was read); rows and
//! items are streamed a page at a time.

use super::id_set::IdSet;
use super::plan::{self, Object, Organisations, Plan};
use super::record::{Counts, HeldBack, Mode, RunRecord, Status};
use super::source::{Pages, Source};
use crate::child_places;
use crate::directory::{self, SchoolSettings};
use crate::ids::{ActivityId, GroupId, ImportRunId, LessonId, PersonId, SchoolId};
use crate::keys;
use crate::lessons::{self, Activity, Lesson, PupilException, TeacherException};
use crate::roster;
use crate::ss12000::records::{Deleted, ObjectType, PersonRow, Reason, Rejection, Responsible};
use crate::ss12000::{validate, wire};
use crate::store::{Condition, Index, Item, Key, Query, SortKey, Store, StoreError};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

/// Reads and writes of the store go in chunks of this many keys.
const CHUNK: usize = 100;

/// Groups planned and written together (see `groups`).
const GROUPS_AT_A_TIME: usize = 20;

#[derive(Debug, Clone)]
pub struct Options {
    pub run_id: ImportRunId,
    pub now: DateTime<Utc>,
    /// Today in Europe/Stockholm: what "active" and "ended" are measured
    /// against.
    pub today: NaiveDate,
    pub dry_run: bool,
    /// Full even if a delta would do.
    pub force_full: bool,
    /// A school whose run would end more than this share of its enrolled
    /// pupils is held back (a truncated feed must not wipe a school).
    pub max_end_share: f64,
    /// A full run at least this often (reconciles what deltas missed).
    pub full_every: chrono::Duration,
    /// How long the lease is held (a run that dies frees it after this).
    pub lease_for: chrono::Duration,
}

impl Options {
    pub fn new(now: DateTime<Utc>, today: NaiveDate) -> Self {
        Options {
            run_id: ImportRunId::generate(),
            now,
            today,
            dry_run: false,
            force_full: false,
            max_end_share: 0.10,
            full_every: chrono::Duration::days(7),
            lease_for: chrono::Duration::minutes(15),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Ran(Box<RunRecord>),
    /// Another run holds the lease.
    AlreadyRunning {
        run_id: ImportRunId,
        until: DateTime<Utc>,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("registry: {0}")]
    Source(String),
    /// The lease ran out and another run took it: this one stops writing.
    #[error("the lease was lost to run {0}: this run stopped")]
    LeaseLost(String),
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Cursor {
    last_success_started_at: DateTime<Utc>,
    last_full_started_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Lease {
    run_id: ImportRunId,
    until: DateTime<Utc>,
}

/// What the import last wrote for one registry object.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct State {
    hash: String,
    targets: Vec<(String, String)>,
    #[serde(default)]
    schools: Vec<SchoolId>,
    #[serde(default)]
    pupil_active: Option<bool>,
    /// A duty's holder (see `Plan::holder`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    holder: Option<PersonId>,
}

impl State {
    fn targets(&self) -> impl Iterator<Item = Key> + '_ {
        self.targets.iter().map(|(pk, sk)| Key::new(pk, sk))
    }
}

/// Runs the import once. A run that fails midway is recorded as failed
/// and is safe to start again: items are written before the state that
/// says they were, and the delta cursor moves only after a success.
pub async fn run(
    store: &dyn Store,
    source: &dyn Source,
    options: Options,
) -> Result<Outcome, ImportError> {
    let lease_version = match acquire_lease(store, &options).await? {
        Ok(version) => version,
        Err((run_id, until)) => return Ok(Outcome::AlreadyRunning { run_id, until }),
    };
    let cursor: Option<Cursor> = store
        .get(&keys::import_cursor())
        .await?
        .map(|i| i.parse())
        .transpose()?;
    let (mode, after) = match &cursor {
        Some(c)
            if !options.force_full && options.now - c.last_full_started_at < options.full_every =>
        {
            (Mode::Delta, Some(c.last_success_started_at))
        }
        _ => (Mode::Full, None),
    };
    let mut record = RunRecord::start(options.run_id, options.now, mode, options.dry_run);
    store.put(&record.to_item()?, Condition::None).await?;

    let (outcome, lease_version) = {
        let mut run = Run {
            store,
            source,
            options: &options,
            record: &mut record,
            after,
            has_state: cursor.is_some(),
            orgs: Organisations::default(),
            settings: HashMap::new(),
            seen: IdSet::new(),
            protected: HashSet::new(),
            rejected: HashSet::new(),
            groups: HashMap::new(),
            not_enrolled: HashSet::new(),
            held: HashSet::new(),
            deleted: Deleted::default(),
            to_remove: Vec::new(),
            duty_holders: HashMap::new(),
            activities: HashMap::new(),
            changed_activities: Vec::new(),
            planned_lessons: HashSet::new(),
            rescan_schedule: false,
            lease_version,
            lease_renewed: std::time::Instant::now(),
            started: std::time::Instant::now(),
        };
        let outcome = run.body().await;
        (outcome, run.lease_version)
    };
    record.upstream = source.stats();
    record.finished_at = Some(chrono::Utc::now().max(options.now));
    match outcome {
        Ok(()) => {
            record.status = Status::Succeeded;
            if !options.dry_run {
                let next = Cursor {
                    last_success_started_at: options.now,
                    last_full_started_at: match (mode, &cursor) {
                        (Mode::Delta, Some(c)) => c.last_full_started_at,
                        _ => options.now,
                    },
                };
                store
                    .put(
                        &Item::new(keys::import_cursor(), keys::IMPORT_CURSOR, &next)?,
                        Condition::None,
                    )
                    .await?;
            }
        }
        Err(e) => {
            tracing::error!(run = %options.run_id, error = %e, "import run failed");
            record.status = Status::Failed;
            record.error = Some(e.to_string());
        }
    }
    store.put(&record.to_item()?, Condition::None).await?;
    release_lease(store, lease_version).await?;
    Ok(Outcome::Ran(Box::new(record)))
}

/// `Ok(version)` of the lease item now held, or who holds it.
async fn acquire_lease(
    store: &dyn Store,
    options: &Options,
) -> Result<Result<u64, (ImportRunId, DateTime<Utc>)>, StoreError> {
    let key = keys::import_lease();
    let lease = Lease {
        run_id: options.run_id,
        until: options.now + options.lease_for,
    };
    let mut item = Item::new(key.clone(), keys::IMPORT_LEASE, &lease)?;
    let condition = match store.get(&key).await? {
        Some(current) => {
            let held: Lease = current.parse()?;
            if held.until > options.now {
                return Ok(Err((held.run_id, held.until)));
            }
            item.version = current.version + 1;
            Condition::VersionEquals(current.version)
        }
        None => Condition::MustNotExist,
    };
    match store.put(&item, condition).await {
        Ok(()) => Ok(Ok(item.version)),
        Err(e) if e.is_condition_failure() => {
            let held: Option<Lease> = store.get(&key).await?.map(|i| i.parse()).transpose()?;
            let held = held.unwrap_or(lease);
            Ok(Err((held.run_id, held.until)))
        }
        Err(e) => Err(e),
    }
}

async fn release_lease(store: &dyn Store, version: u64) -> Result<(), StoreError> {
    match store
        .delete(&keys::import_lease(), Condition::VersionEquals(version))
        .await
    {
        Err(e) if e.is_condition_failure() => Ok(()),
        other => other,
    }
}

struct Run<'a> {
    store: &'a dyn Store,
    source: &'a dyn Source,
    options: &'a Options,
    record: &'a mut RunRecord,
    /// Delta runs: objects modified after this.
    after: Option<DateTime<Utc>>,
    /// A previous run succeeded: there is something to end or compare.
    has_state: bool,
    orgs: Organisations,
    settings: HashMap<SchoolId, SchoolSettings>,
    /// Persons read in this run (not protected).
    seen: IdSet,
    protected: HashSet<u128>,
    /// Persons whose row was rejected in this run (reported once, with its
    /// reason, and left out silently where others refer to them).
    rejected: HashSet<u128>,
    /// Groups read in this run and their school.
    groups: HashMap<u128, SchoolId>,
    /// Pupils enrolled nowhere: planned so in this run, or, for one not
    /// read in it, so stored by an earlier one. They are members of no
    /// group, so a leaver and their guardians lose the class's blog and
    /// notices (the registry often keeps the membership after the
    /// enrolment ends).
    not_enrolled: HashSet<u128>,
    /// Schools the guard holds back.
    held: HashSet<SchoolId>,
    deleted: Deleted,
    /// Pupils no longer in the registry, to end after the persons pass.
    to_remove: Vec<Uuid>,
    /// Duties read in this run: their holder, or `None` for a protected
    /// person's duty (left out of lessons silently).
    duty_holders: HashMap<u128, Option<PersonId>>,
    /// Activities planned in this run, for their events.
    activities: HashMap<u128, Activity>,
    /// Activities that existed before and changed in this run: a delta
    /// run re-plans their stored lessons.
    changed_activities: Vec<Uuid>,
    /// Delta runs: the events planned from the feed in this run.
    planned_lessons: HashSet<u128>,
    /// Someone the import wrote became protected in this run: the schedule
    /// is read whole, so no lesson keeps naming them.
    rescan_schedule: bool,
    /// The version of the lease item this run holds, and when it was last
    /// extended (wall time, so a test clock does not stop it).
    lease_version: u64,
    lease_renewed: std::time::Instant,
    started: std::time::Instant,
}

impl<'a> Run<'a> {
    /// Extends the lease once a third of it has passed, so a run longer
    /// than the lease (a large municipality, a slow registry) still keeps
    /// every other run out. If another run took it meanwhile, this one
    /// stops before its next write.
    async fn keep_lease(&mut self) -> Result<(), ImportError> {
        let every = self.options.lease_for.to_std().unwrap_or_default() / 3;
        if self.lease_renewed.elapsed() < every {
            return Ok(());
        }
        let elapsed = chrono::Duration::from_std(self.started.elapsed()).unwrap_or_default();
        let lease = Lease {
            run_id: self.options.run_id,
            until: self.options.now + elapsed + self.options.lease_for,
        };
        let mut item = Item::new(keys::import_lease(), keys::IMPORT_LEASE, &lease)?;
        item.version = self.lease_version + 1;
        match self
            .store
            .put(&item, Condition::VersionEquals(self.lease_version))
            .await
        {
            Ok(()) => {
                self.lease_version = item.version;
                self.lease_renewed = std::time::Instant::now();
                Ok(())
            }
            Err(e) if e.is_condition_failure() => {
                let holder = self
                    .store
                    .get(&keys::import_lease())
                    .await?
                    .and_then(|i| i.parse::<Lease>().ok())
                    .map(|l| l.run_id.to_string())
                    .unwrap_or_else(|| "none".into());
                Err(ImportError::LeaseLost(holder))
            }
            Err(e) => Err(e.into()),
        }
    }

    async fn body(&mut self) -> Result<(), ImportError> {
        self.read_organisations().await?;
        if let Some(after) = self.after {
            self.deleted = self
                .source
                .deleted(after)
                .await
                .map_err(ImportError::Source)?;
        }
        if self.has_state {
            self.guard().await?;
        }
        self.write_organisations().await?;
        self.persons().await?;
        self.remove_pupils().await?;
        // Guardianships after the groups (and after everything else that
        // changes where a pupil is): each is written once, with its copy of
        // those places (`child_places::fill_in`), and no place changes in
        // this run after a guardianship was created.
        self.groups().await?;
        self.responsibles().await?;
        self.duties().await?;
        self.placements().await?;
        self.activities().await?;
        self.calendar_events().await?;
        self.replan_lessons().await?;
        Ok(())
    }

    async fn open(&self, object: ObjectType) -> Result<Box<dyn Pages + 'a>, ImportError> {
        let schedule = matches!(object, ObjectType::Activity | ObjectType::CalendarEvent);
        let after = if object == ObjectType::Organisation || (schedule && self.rescan_schedule) {
            None
        } else {
            self.after
        };
        let source: &'a dyn Source = self.source;
        source
            .open(object, after)
            .await
            .map_err(ImportError::Source)
    }

    async fn read_organisations(&mut self) -> Result<(), ImportError> {
        let mut pages = self.open(ObjectType::Organisation).await?;
        let mut rows = Vec::new();
        while let Some(page) = pages.next().await.map_err(ImportError::Source)? {
            for raw in &page {
                let raw = &wire::value(raw);
                match validate::organisation(raw) {
                    Ok(row) => rows.push(row),
                    Err(rejection) => self.record.reject("Organisation", rejection),
                }
            }
        }
        drop(pages);
        for row in rows {
            self.orgs.insert(row);
        }
        Ok(())
    }

    async fn write_organisations(&mut self) -> Result<(), ImportError> {
        let mut plans = Vec::new();
        let rows: Vec<_> = self.orgs.rows().cloned().collect();
        for row in &rows {
            match plan::organisation(row, &self.orgs) {
                Ok(Some(p)) => plans.push(p),
                Ok(None) => self.record.counts("Organisation").ignored += 1,
                Err(field) => self.record.reject(
                    "Organisation",
                    Rejection {
                        object_type: ObjectType::Organisation,
                        id: Some(row.id.to_string()),
                        reason: Reason::UnknownReference {
                            field: field.to_string(),
                            id: row.parent.map(|p| p.to_string()).unwrap_or_default(),
                        },
                    },
                ),
            }
        }
        plans.sort_by_key(|p| p.id);
        self.apply(plans).await?;
        let schools: Vec<SchoolId> = self.orgs.schools().collect();
        for chunk in schools.chunks(CHUNK) {
            let keys: Vec<Key> = chunk.iter().map(|s| keys::school(*s)).collect();
            for item in self.store.get_many(&keys).await? {
                let school: crate::directory::School = item.parse()?;
                self.settings.insert(school.id, school.settings);
            }
        }
        Ok(())
    }

    /// The mass-end guard: before anything is written, count per school the
    /// enrolled pupils this run would end (missing from a full feed, deleted,
    /// or ended in their row), and hold back every school above the limit.
    async fn guard(&mut self) -> Result<(), ImportError> {
        let mut in_feed: HashSet<u128> = HashSet::new();
        let mut ended_rows: HashSet<u128> = HashSet::new();
        let mut pages = self.open(ObjectType::Person).await?;
        while let Some(page) = pages.next().await.map_err(ImportError::Source)? {
            self.keep_lease().await?;
            for raw in &page {
                let raw = &wire::value(raw);
                match validate::person(raw) {
                    Ok(PersonRow::Person(d)) => {
                        in_feed.insert(d.id.as_u128());
                        // Only whether the pupil is enrolled anywhere: the
                        // items and their hash are planned in the main pass.
                        if !d.enrolments.is_empty()
                            && plan::enrolled_schools(&d, &self.orgs, self.options.today)
                                .is_ok_and(|s| s.is_empty())
                        {
                            ended_rows.insert(d.id.as_u128());
                        }
                    }
                    Ok(PersonRow::Protected { id, .. }) => {
                        in_feed.insert(id.as_u128());
                    }
                    // A row that cannot be read ends nobody.
                    Err(r) => {
                        if let Some(id) = r.id.as_deref().and_then(|s| Uuid::parse_str(s).ok()) {
                            in_feed.insert(id.as_u128());
                        }
                    }
                }
            }
        }
        drop(pages);
        let deleted: HashSet<u128> = self.deleted.persons.iter().map(|u| u.as_u128()).collect();
        let full = self.after.is_none();
        let schools: Vec<SchoolId> = self.orgs.schools().collect();
        let mut removals = Vec::new();
        for school in schools {
            let enrolled = self.enrolled_pupils(school).await?;
            let candidates: Vec<Uuid> = enrolled
                .iter()
                .filter(|p| {
                    let n = p.as_u128();
                    (full && !in_feed.contains(&n))
                        || deleted.contains(&n)
                        || ended_rows.contains(&n)
                })
                .copied()
                .collect();
            let managed = self.imported(&candidates).await?;
            let would_end: Vec<Uuid> = candidates
                .into_iter()
                .filter(|p| managed.contains(&p.as_u128()))
                .collect();
            let share = if enrolled.is_empty() {
                0.0
            } else {
                would_end.len() as f64 / enrolled.len() as f64
            };
            if !would_end.is_empty() && share > self.options.max_end_share {
                tracing::warn!(school = %school, would_end = would_end.len(), enrolled = enrolled.len(), "import held back a school");
                self.held.insert(school);
                self.record.held_back.push(HeldBack {
                    school_id: school,
                    enrolled_pupils: enrolled.len() as u64,
                    would_end: would_end.len() as u64,
                    share,
                    limit: self.options.max_end_share,
                    reason: format!(
                        "the run would end {} of {} enrolled pupils ({:.0}%, limit {:.0}%): nothing of this school was written; check the registry's feed",
                        would_end.len(),
                        enrolled.len(),
                        share * 100.0,
                        self.options.max_end_share * 100.0
                    ),
                });
            } else {
                removals.extend(
                    would_end
                        .into_iter()
                        .filter(|p| !in_feed.contains(&p.as_u128())),
                );
            }
        }
        removals.sort();
        removals.dedup();
        self.to_remove = removals;
        Ok(())
    }

    /// The pupils enrolled at a school (GSI1 reverse of `EnrolledAt`) whose
    /// ids come from the registry.
    async fn enrolled_pupils(&self, school: SchoolId) -> Result<Vec<Uuid>, ImportError> {
        let mut query = Query::partition(keys::pupils_of_school_partition(school))
            .on(Index::Gsi1)
            .sort(SortKey::BeginsWith("PUPIL#".into()));
        let mut pupils = Vec::new();
        loop {
            let page = self.store.query(&query).await?;
            for item in &page.items {
                if let Some(id) = item
                    .gsi1
                    .as_ref()
                    .and_then(|k| k.sk.strip_prefix("PUPIL#"))
                    .and_then(PersonId::parse)
                {
                    pupils.push(id.registry_uuid());
                }
            }
            match page.next {
                Some(next) => query.cursor = Some(next),
                None => return Ok(pupils),
            }
        }
    }

    /// The stored items of up to 100 keys, by key.
    async fn items(&self, keys: &[Key]) -> Result<HashMap<Key, Item>, ImportError> {
        Ok(self
            .store
            .get_many(keys)
            .await?
            .into_iter()
            .map(|i| (i.key.clone(), i))
            .collect())
    }

    /// The keys of a pupil's `MemberOf` relations.
    async fn memberships(&self, pupil: Uuid) -> Result<Vec<Key>, ImportError> {
        let query = directory::memberships_of(PersonId::from_registry(pupil));
        Ok(crate::store::query_all(self.store, query)
            .await?
            .into_iter()
            .map(|i| i.key)
            .collect())
    }

    /// Which of these persons the import manages (has state for). Those
    /// it last planned as pupils enrolled nowhere join `not_enrolled`.
    async fn imported(&mut self, ids: &[Uuid]) -> Result<HashSet<u128>, ImportError> {
        let mut found = HashSet::new();
        for chunk in ids.chunks(CHUNK) {
            let keys: Vec<Key> = chunk
                .iter()
                .map(|id| state_key(Object::Person, *id))
                .collect();
            for item in self.store.get_many_eventually(&keys).await? {
                if let Some(id) = item
                    .key
                    .pk
                    .rsplit('#')
                    .next()
                    .and_then(|s| ulid::Ulid::from_string(s).ok())
                {
                    let id = u128::from(id);
                    found.insert(id);
                    if item.parse::<State>()?.pupil_active == Some(false) {
                        self.not_enrolled.insert(id);
                    }
                }
            }
        }
        Ok(found)
    }

    /// Whether references to this person are left out without a word:
    /// they are protected, or their own row was rejected (and reported).
    fn left_out(&self, person: u128) -> bool {
        self.protected.contains(&person) || self.rejected.contains(&person)
    }

    /// The persons referred to that are neither read in this run nor
    /// imported before (checked in the store). One that an earlier run
    /// marked protected joins `protected` instead: a delta run does not
    /// read them again.
    async fn unknown_persons(&mut self, ids: &[Uuid]) -> Result<HashSet<u128>, ImportError> {
        let mut unseen: Vec<Uuid> = ids
            .iter()
            .filter(|id| {
                let n = id.as_u128();
                !self.seen.contains(n) && !self.left_out(n)
            })
            .copied()
            .collect();
        unseen.sort();
        unseen.dedup();
        if unseen.is_empty() || !self.has_state {
            return Ok(unseen.iter().map(|u| u.as_u128()).collect());
        }
        let known = self.imported(&unseen).await?;
        unseen.retain(|u| !known.contains(&u.as_u128()));
        for chunk in unseen.chunks(CHUNK) {
            let markers: HashMap<Key, u128> = chunk
                .iter()
                .map(|id| (protected_marker(*id), id.as_u128()))
                .collect();
            let keys: Vec<Key> = markers.keys().cloned().collect();
            for item in self.store.get_many_eventually(&keys).await? {
                if let Some(n) = markers.get(&item.key) {
                    self.protected.insert(*n);
                }
            }
        }
        Ok(unseen
            .iter()
            .map(|u| u.as_u128())
            .filter(|n| !self.protected.contains(n))
            .collect())
    }

    async fn persons(&mut self) -> Result<(), ImportError> {
        let mut pages = self.open(ObjectType::Person).await?;
        while let Some(page) = pages.next().await.map_err(ImportError::Source)? {
            let mut plans = Vec::new();
            let mut protected = Vec::new();
            for raw in &page {
                let raw = &wire::value(raw);
                match validate::person(raw) {
                    Err(rejection) => {
                        if let Some(id) = rejection
                            .id
                            .as_deref()
                            .and_then(|s| Uuid::parse_str(s).ok())
                        {
                            self.rejected.insert(id.as_u128());
                        }
                        self.record.reject("Person", rejection)
                    }
                    Ok(PersonRow::Protected { id, school_units }) => {
                        self.protected.insert(id.as_u128());
                        protected.push(id);
                        self.record.counts("Person").skipped_protected += 1;
                        let schools: Vec<SchoolId> = school_units
                            .iter()
                            .filter_map(|u| self.orgs.school(*u))
                            .collect();
                        if schools.is_empty() {
                            self.record.protected_elsewhere += 1;
                        }
                        for s in schools {
                            *self.record.protected_per_school.entry(s).or_default() += 1;
                        }
                    }
                    Ok(PersonRow::Person(d)) => {
                        match plan::person(&d, &self.orgs, self.options.today) {
                            Err(field) => {
                                self.rejected.insert(d.id.as_u128());
                                let id = d
                                    .enrolments
                                    .iter()
                                    .find(|e| self.orgs.school(e.school_unit).is_none())
                                    .map(|e| e.school_unit.to_string())
                                    .unwrap_or_default();
                                self.record.reject(
                                    "Person",
                                    Rejection {
                                        object_type: ObjectType::Person,
                                        id: Some(d.id.to_string()),
                                        reason: Reason::UnknownReference { field, id },
                                    },
                                );
                            }
                            Ok(p) => {
                                self.seen.insert(d.id.as_u128());
                                plans.push(p);
                            }
                        }
                    }
                }
            }
            self.apply(plans).await?;
            self.protect(&protected).await?;
        }
        // Looked up from here on (responsibles, groups, duties, placements).
        self.seen.seal();
        Ok(())
    }

    /// The protected persons of one page. Each is marked (once, by a one-way
    /// digest of their id), and one the import wrote before, while they were
    /// not protected, is scrubbed: their person item and every relation they
    /// hold, the relations that point at them, their flags, and the import's
    /// state of them are deleted. What users wrote about them elsewhere
    /// (absence history) stays, without a name. The states of groups,
    /// duties and placements that listed their keys lose them when those
    /// objects are next read (a full run reads them all). Lessons can name
    /// them too (a pupil's exception, a teacher) and have no index by
    /// person, so the run then reads the whole schedule and re-plans every
    /// lesson without them. The guard does not hold this back: a protected
    /// identity must not wait for a good feed.
    async fn protect(&mut self, ids: &[Uuid]) -> Result<(), ImportError> {
        for chunk in ids.chunks(CHUNK / 2) {
            let markers: Vec<Key> = chunk.iter().map(|id| protected_marker(*id)).collect();
            let marked: HashSet<Key> = self
                .store
                .get_many_eventually(&markers)
                .await?
                .into_iter()
                .map(|i| i.key)
                .collect();
            let state_keys: Vec<Key> = chunk
                .iter()
                .flat_map(|id| {
                    [
                        state_key(Object::Person, *id),
                        state_key(Object::Responsibles, *id),
                    ]
                })
                .collect();
            let states = self.items(&state_keys).await?;
            let mut items = Vec::new();
            let mut stale_states = Vec::new();
            for id in chunk {
                let mine: Vec<&Item> = [Object::Person, Object::Responsibles]
                    .into_iter()
                    .filter_map(|o| states.get(&state_key(o, *id)))
                    .collect();
                if mine.is_empty() {
                    continue;
                }
                self.record.counts("Person").scrubbed += 1;
                // Lessons name them (an exception, a teacher) with no index
                // to find them by: this run reads the whole schedule.
                self.rescan_schedule = true;
                for state in mine {
                    let parsed: State = state.parse()?;
                    items.extend(parsed.targets());
                    stale_states.push(state.key.clone());
                }
                let person = PersonId::from_registry(*id);
                let (lo, hi) = keys::PERSON_AND_RELATIONS;
                let held = Query::partition(keys::person_partition(person))
                    .sort(SortKey::Between(lo.into(), hi.into()));
                for query in [held, crate::directory::pointing_at(person)] {
                    items.extend(
                        crate::store::query_all(self.store, query)
                            .await?
                            .into_iter()
                            .map(|i| i.key),
                    );
                }
            }
            if self.options.dry_run {
                continue;
            }
            items.sort();
            items.dedup();
            for keys in items.chunks(CHUNK) {
                self.store.batch_delete(keys).await?;
            }
            // The state goes last: a run that dies before this scrubs again.
            self.store.batch_delete(&stale_states).await?;
            let new_markers = markers
                .into_iter()
                .filter(|k| !marked.contains(k))
                .map(|k| Item::new(k, keys::IMPORT_STATE, &serde_json::json!({})))
                .collect::<Result<Vec<_>, _>>()?;
            self.store.batch_put(&new_markers).await?;
        }
        Ok(())
    }

    /// Ends the pupils the guard found gone from the registry.
    async fn remove_pupils(&mut self) -> Result<(), ImportError> {
        let to_remove = std::mem::take(&mut self.to_remove);
        for chunk in to_remove.chunks(CHUNK) {
            let keys: Vec<Key> = chunk
                .iter()
                .map(|id| keys::person(PersonId::from_registry(*id)))
                .collect();
            let current = self.items(&keys).await?;
            let mut plans = Vec::new();
            for (id, key) in chunk.iter().zip(&keys) {
                if let Some(item) = current.get(key) {
                    plans.push(plan::removed_pupil(*id, item, self.options.today)?);
                }
            }
            self.apply(plans).await?;
        }
        Ok(())
    }

    /// Pupils' responsibles, once every person of the feed is written: a
    /// second pass over the persons' pages (not a list kept from the first
    /// pass, so memory stays one page however large the municipality).
    async fn responsibles(&mut self) -> Result<(), ImportError> {
        let mut pages = self.open(ObjectType::Person).await?;
        while let Some(page) = pages.next().await.map_err(ImportError::Source)? {
            let mut pupils = Vec::new();
            for raw in &page {
                let raw = &wire::value(raw);
                let Ok(PersonRow::Person(d)) = validate::person(raw) else {
                    continue;
                };
                // Only those the persons pass planned (a row changed since
                // then waits for the next run).
                if !self.seen.contains(d.id.as_u128())
                    || (d.enrolments.is_empty() && d.responsibles.is_empty())
                {
                    continue;
                }
                let Ok(schools) = plan::enrolled_schools(&d, &self.orgs, self.options.today) else {
                    continue;
                };
                pupils.push((d.id, d.responsibles, schools));
            }
            for chunk in pupils.chunks(CHUNK) {
                self.pupils_responsibles(chunk).await?;
            }
        }
        Ok(())
    }

    async fn pupils_responsibles(
        &mut self,
        chunk: &[(Uuid, Vec<Responsible>, Vec<SchoolId>)],
    ) -> Result<(), ImportError> {
        let referenced: Vec<Uuid> = chunk
            .iter()
            .flat_map(|(_, rs, _)| rs.iter().map(|r| r.person))
            .collect();
        let unknown = self.unknown_persons(&referenced).await?;
        let mut plans = Vec::new();
        for (pupil, responsibles, schools) in chunk {
            let mut kept = Vec::new();
            for r in responsibles {
                let n = r.person.as_u128();
                if self.left_out(n) {
                    continue;
                }
                if unknown.contains(&n) {
                    self.record.reject(
                        "Responsibles",
                        unknown_reference(
                            ObjectType::Person,
                            *pupil,
                            "responsibles.person",
                            r.person,
                        ),
                    );
                    continue;
                }
                kept.push(r.clone());
            }
            let others_are_guardians = schools.iter().any(|s| {
                self.settings
                    .get(s)
                    .is_some_and(|s| s.other_responsibles_are_guardians)
            });
            plans.push(plan::responsibles(
                *pupil,
                &kept,
                schools,
                others_are_guardians,
            )?);
        }
        self.apply(plans).await?;
        Ok(())
    }

    async fn groups(&mut self) -> Result<(), ImportError> {
        let mut pages = self.open(ObjectType::Group).await?;
        while let Some(page) = pages.next().await.map_err(ImportError::Source)? {
            // A group is its item and one per membership, so a page of 500
            // groups is over 10,000 items (12,618 at 10k pupils): planned
            // and written a few groups at a time, memory holds the items of
            // one slice of the page, not of the whole page.
            for slice in page.chunks(GROUPS_AT_A_TIME) {
                self.groups_slice(slice).await?;
            }
        }
        drop(pages);
        // Deleted groups keep their item (history) and lose their members.
        let deleted = std::mem::take(&mut self.deleted.groups);
        for chunk in deleted.chunks(CHUNK) {
            let keys: Vec<Key> = chunk
                .iter()
                .map(|id| keys::group(crate::ids::GroupId::from_registry(*id)))
                .collect();
            let current = self.items(&keys).await?;
            let mut plans = Vec::new();
            for (id, key) in chunk.iter().zip(&keys) {
                if let Some(item) = current.get(key) {
                    let group: crate::directory::Group = item.parse()?;
                    plans.push(plan::ended(
                        Object::Group,
                        *id,
                        vec![item.clone()],
                        vec![group.school_id],
                    ));
                }
            }
            self.apply(plans).await?;
        }
        Ok(())
    }

    /// Validates, plans and writes some rows of a groups page.
    async fn groups_slice(&mut self, slice: &[wire::Row]) -> Result<(), ImportError> {
        let today = self.options.today;
        let mut rows = Vec::new();
        for raw in slice {
            let raw = &wire::value(raw);
            match validate::group(raw) {
                Err(rejection) => self.record.reject("Group", rejection),
                Ok(row) => rows.push(row),
            }
        }
        let members: Vec<Uuid> = rows
            .iter()
            .flat_map(|g| g.members.iter().map(|m| m.person))
            .collect();
        let unknown = self.unknown_persons(&members).await?;
        let mut plans = Vec::new();
        for row in rows {
            let Some(kind) = plan::group_kind(&row) else {
                self.record.counts("Group").ignored += 1;
                continue;
            };
            let Some(school) = self.orgs.school(row.organisation) else {
                self.record.reject(
                    "Group",
                    unknown_reference(ObjectType::Group, row.id, "organisation", row.organisation),
                );
                continue;
            };
            self.groups.insert(row.id.as_u128(), school);
            let group_active = plan::is_active(row.start_date, row.end_date, today);
            let mut current = Vec::new();
            for m in &row.members {
                let n = m.person.as_u128();
                if self.left_out(n) {
                    continue;
                }
                if unknown.contains(&n) {
                    self.record.reject(
                        "Group",
                        unknown_reference(
                            ObjectType::Group,
                            row.id,
                            "groupMemberships.person",
                            m.person,
                        ),
                    );
                    continue;
                }
                if group_active
                    && plan::is_active(m.start_date, m.end_date, today)
                    && !self.not_enrolled.contains(&n)
                {
                    current.push(m.person);
                }
            }
            plans.push(plan::group(&row, kind, school, &current)?);
        }
        self.apply(plans).await?;
        Ok(())
    }

    /// A group's school: read in this run, or from what an earlier run
    /// stored.
    async fn group_schools(&self, ids: &[Uuid]) -> Result<HashMap<u128, SchoolId>, ImportError> {
        let mut found: HashMap<u128, SchoolId> = ids
            .iter()
            .filter_map(|id| self.groups.get(&id.as_u128()).map(|s| (id.as_u128(), *s)))
            .collect();
        let missing: Vec<Uuid> = ids
            .iter()
            .filter(|id| !found.contains_key(&id.as_u128()))
            .copied()
            .collect();
        for chunk in missing.chunks(CHUNK) {
            let keys: Vec<Key> = chunk
                .iter()
                .map(|id| keys::group(crate::ids::GroupId::from_registry(*id)))
                .collect();
            for item in self.store.get_many(&keys).await? {
                let group: crate::directory::Group = item.parse()?;
                if let Some(id) = chunk
                    .iter()
                    .find(|u| crate::ids::GroupId::from_registry(**u) == group.id)
                {
                    found.insert(id.as_u128(), group.school_id);
                }
            }
        }
        Ok(found)
    }

    async fn duties(&mut self) -> Result<(), ImportError> {
        let mut pages = self.open(ObjectType::Duty).await?;
        let today = self.options.today;
        while let Some(page) = pages.next().await.map_err(ImportError::Source)? {
            let mut rows = Vec::new();
            for raw in &page {
                let raw = &wire::value(raw);
                match validate::duty(raw) {
                    Err(rejection) => self.record.reject("Duty", rejection),
                    Ok(row) => rows.push(row),
                }
            }
            let people: Vec<Uuid> = rows.iter().map(|d| d.person).collect();
            let unknown = self.unknown_persons(&people).await?;
            let groups: Vec<Uuid> = rows
                .iter()
                .flat_map(|d| d.assignments.iter().map(|a| a.group))
                .collect();
            let group_schools = self.group_schools(&groups).await?;
            let mut plans = Vec::new();
            for row in rows {
                let reject =
                    |field: &str, id: Uuid| unknown_reference(ObjectType::Duty, row.id, field, id);
                if self.protected.contains(&row.person.as_u128()) {
                    self.duty_holders.insert(row.id.as_u128(), None);
                    self.record.counts("Duty").skipped_protected += 1;
                    // Whatever an earlier run wrote for it goes.
                    plans.push(plan::ended(Object::Duty, row.id, Vec::new(), Vec::new()));
                    continue;
                }
                // A whole row that hangs on a person not imported is
                // rejected; only members and owners are left out silently.
                let person = row.person.as_u128();
                if unknown.contains(&person) || self.rejected.contains(&person) {
                    let r = reject("person", row.person);
                    self.record.reject("Duty", r);
                    continue;
                }
                let holder = PersonId::from_registry(row.person);
                self.duty_holders.insert(row.id.as_u128(), Some(holder));
                let Some(school) = self.orgs.school(row.duty_at) else {
                    let r = reject("dutyAt", row.duty_at);
                    self.record.reject("Duty", r);
                    continue;
                };
                let mut assignments = Vec::new();
                for a in &row.assignments {
                    if !plan::is_active(a.start_date, a.end_date, today) {
                        continue;
                    }
                    match group_schools.get(&a.group.as_u128()) {
                        Some(s) => assignments.push((
                            crate::ids::GroupId::from_registry(a.group),
                            *s,
                            a.kind,
                        )),
                        None => {
                            let r = reject("assignmentRole.group", a.group);
                            self.record.reject("Duty", r);
                        }
                    }
                }
                if plan::staff_role(row.role).is_none() && assignments.is_empty() {
                    self.record.counts("Duty").ignored += 1;
                    continue;
                }
                let mut p = plan::duty(&row, school, &assignments, today)?;
                p.holder = Some(holder);
                plans.push(p);
            }
            self.apply(plans).await?;
        }
        drop(pages);
        // Deleted duties grant nothing any more.
        let deleted = std::mem::take(&mut self.deleted.duties);
        let plans = deleted
            .iter()
            .map(|id| plan::ended(Object::Duty, *id, Vec::new(), Vec::new()))
            .collect();
        self.apply(plans).await?;
        Ok(())
    }

    async fn placements(&mut self) -> Result<(), ImportError> {
        let mut pages = self.open(ObjectType::Placement).await?;
        let today = self.options.today;
        while let Some(page) = pages.next().await.map_err(ImportError::Source)? {
            let mut rows = Vec::new();
            for raw in &page {
                let raw = &wire::value(raw);
                match validate::placement(raw) {
                    Err(rejection) => self.record.reject("Placement", rejection),
                    Ok(row) => rows.push(row),
                }
            }
            let people: Vec<Uuid> = rows
                .iter()
                .flat_map(|p| std::iter::once(p.child).chain(p.owners.iter().copied()))
                .collect();
            let unknown = self.unknown_persons(&people).await?;
            let groups: Vec<Uuid> = rows.iter().filter_map(|p| p.group).collect();
            let group_schools = self.group_schools(&groups).await?;
            let mut plans = Vec::new();
            for row in rows {
                let reject = |field: &str, id: Uuid| {
                    unknown_reference(ObjectType::Placement, row.id, field, id)
                };
                let child = row.child.as_u128();
                if self.protected.contains(&child) {
                    self.record.counts("Placement").skipped_protected += 1;
                    plans.push(plan::ended(
                        Object::Placement,
                        row.id,
                        Vec::new(),
                        Vec::new(),
                    ));
                    continue;
                }
                if unknown.contains(&child) || self.rejected.contains(&child) {
                    let r = reject("child", row.child);
                    self.record.reject("Placement", r);
                    continue;
                }
                let Some(school) = self.orgs.school(row.placed_at) else {
                    let r = reject("placedAt", row.placed_at);
                    self.record.reject("Placement", r);
                    continue;
                };
                let group = match row.group {
                    Some(g) if group_schools.contains_key(&g.as_u128()) => {
                        Some(crate::ids::GroupId::from_registry(g))
                    }
                    Some(g) => {
                        let r = reject("group", g);
                        self.record.reject("Placement", r);
                        None
                    }
                    None => None,
                };
                let mut owners = Vec::new();
                for (i, owner) in row.owners.iter().enumerate() {
                    let n = owner.as_u128();
                    if self.left_out(n) {
                        continue;
                    }
                    if unknown.contains(&n) {
                        let r = reject(&format!("owners[{i}]"), *owner);
                        self.record.reject("Placement", r);
                        continue;
                    }
                    owners.push(*owner);
                }
                plans.push(plan::placement(&row, school, group, &owners, today)?);
            }
            self.apply(plans).await?;
        }
        drop(pages);
        // A deleted placement grants nothing any more.
        let deleted = std::mem::take(&mut self.deleted.placements);
        let plans = deleted
            .iter()
            .map(|id| plan::ended(Object::Placement, *id, Vec::new(), Vec::new()))
            .collect();
        self.apply(plans).await?;
        Ok(())
    }

    /// Who holds each of these duties: read in this run, or from the
    /// import's state of the duty. `None` for a duty that grants nothing
    /// now (a protected person's, an ended one): left out silently. A duty
    /// missing from the result is unknown.
    async fn duty_holders(
        &self,
        ids: &[Uuid],
    ) -> Result<HashMap<u128, Option<PersonId>>, ImportError> {
        let mut found = HashMap::new();
        let mut missing = Vec::new();
        for id in ids {
            match self.duty_holders.get(&id.as_u128()) {
                Some(h) => {
                    found.insert(id.as_u128(), *h);
                }
                None => missing.push(*id),
            }
        }
        missing.sort();
        missing.dedup();
        if !self.has_state {
            return Ok(found);
        }
        for chunk in missing.chunks(CHUNK) {
            let keys: HashMap<Key, u128> = chunk
                .iter()
                .map(|id| (state_key(Object::Duty, *id), id.as_u128()))
                .collect();
            let wanted: Vec<Key> = keys.keys().cloned().collect();
            for item in self.store.get_many_eventually(&wanted).await? {
                let Some(id) = keys.get(&item.key) else {
                    continue;
                };
                let state: State = item.parse()?;
                // States written before `holder` existed: the person's
                // partition of the first relation the duty wrote.
                let holder = state.holder.or_else(|| {
                    state
                        .targets
                        .first()
                        .and_then(|(pk, _)| keys::person_of_partition(pk))
                });
                // A holder who became protected is left out, like the duty.
                let holder =
                    holder.filter(|p| !self.protected.contains(&p.registry_uuid().as_u128()));
                found.insert(*id, holder);
            }
        }
        Ok(found)
    }

    /// Activities: what their lessons share. A group the import does not
    /// hold (unknown, or a kind it ignores) and an unknown duty are each
    /// a rejection naming the field; the activity keeps the rest.
    async fn activities(&mut self) -> Result<(), ImportError> {
        let mut pages = self.open(ObjectType::Activity).await?;
        while let Some(page) = pages.next().await.map_err(ImportError::Source)? {
            let mut rows = Vec::new();
            for raw in &page {
                let raw = &wire::value(raw);
                match validate::activity(raw) {
                    Err(rejection) => self.record.reject("Activity", rejection),
                    Ok(row) => rows.push(row),
                }
            }
            let groups: Vec<Uuid> = rows.iter().flat_map(|a| a.groups.clone()).collect();
            let group_schools = self.group_schools(&groups).await?;
            let duties: Vec<Uuid> = rows.iter().flat_map(|a| a.teachers.clone()).collect();
            let holders = self.duty_holders(&duties).await?;
            let mut plans = Vec::new();
            for row in rows {
                let reject = |field: &str, id: Uuid| {
                    unknown_reference(ObjectType::Activity, row.id, field, id)
                };
                let mut group_ids = Vec::new();
                let mut group_school = None;
                for (i, g) in row.groups.iter().enumerate() {
                    match group_schools.get(&g.as_u128()) {
                        Some(s) => {
                            group_ids.push(GroupId::from_registry(*g));
                            group_school.get_or_insert(*s);
                        }
                        None => {
                            let r = reject(&format!("groups[{i}]"), *g);
                            self.record.reject("Activity", r);
                        }
                    }
                }
                let school = row
                    .organisation
                    .and_then(|o| self.orgs.school(o))
                    .or(group_school);
                let Some(school) = school else {
                    let r = reject("organisation", row.organisation.unwrap_or_default());
                    self.record.reject("Activity", r);
                    continue;
                };
                let mut teacher_ids = Vec::new();
                for (i, d) in row.teachers.iter().enumerate() {
                    match holders.get(&d.as_u128()) {
                        Some(Some(p)) => {
                            if !teacher_ids.contains(p) {
                                teacher_ids.push(*p);
                            }
                        }
                        Some(None) => {}
                        None => {
                            let r = reject(&format!("teachers[{i}].duty"), *d);
                            self.record.reject("Activity", r);
                        }
                    }
                }
                let activity = Activity {
                    id: ActivityId::from_registry(row.id),
                    school_id: school,
                    title: row.name,
                    subject: row.subject,
                    group_ids,
                    teacher_ids,
                    removed: false,
                };
                plans.push(plan::activity(row.id, &activity)?);
                self.activities.insert(row.id.as_u128(), activity);
            }
            let changed = self.apply(plans).await?;
            self.changed_activities.extend(changed);
        }
        drop(pages);
        // A deleted activity is kept, removed; its lessons are cancelled.
        let deleted = std::mem::take(&mut self.deleted.activities);
        for chunk in deleted.chunks(CHUNK) {
            let keys: Vec<Key> = chunk
                .iter()
                .map(|id| keys::activity(ActivityId::from_registry(*id)))
                .collect();
            let current = self.items(&keys).await?;
            let mut plans = Vec::new();
            for (id, key) in chunk.iter().zip(&keys) {
                if let Some(item) = current.get(key) {
                    let mut activity: Activity = item.parse()?;
                    activity.removed = true;
                    plans.push(plan::activity(*id, &activity)?);
                    self.activities.insert(id.as_u128(), activity);
                }
            }
            let changed = self.apply(plans).await?;
            self.changed_activities.extend(changed);
        }
        Ok(())
    }

    /// The activities of these events: planned in this run, or stored by
    /// an earlier one.
    async fn activities_of(&self, ids: &[Uuid]) -> Result<HashMap<u128, Activity>, ImportError> {
        let mut missing: Vec<Uuid> = ids
            .iter()
            .filter(|id| !self.activities.contains_key(&id.as_u128()))
            .copied()
            .collect();
        missing.sort();
        missing.dedup();
        let mut found = HashMap::new();
        for chunk in missing.chunks(CHUNK) {
            let keys: Vec<Key> = chunk
                .iter()
                .map(|id| keys::activity(ActivityId::from_registry(*id)))
                .collect();
            for item in self.store.get_many_eventually(&keys).await? {
                let activity: Activity = item.parse()?;
                found.insert(activity.id.registry_uuid().as_u128(), activity);
            }
        }
        Ok(found)
    }

    /// Calendar events: one lesson each, with its activity's title,
    /// subject, groups and teachers. Exceptions of protected persons are
    /// left out silently; of unknown ones, rejected naming the field.
    async fn calendar_events(&mut self) -> Result<(), ImportError> {
        let mut pages = self.open(ObjectType::CalendarEvent).await?;
        while let Some(page) = pages.next().await.map_err(ImportError::Source)? {
            self.keep_lease().await?;
            let mut rows = Vec::new();
            for raw in &page {
                let raw = &wire::value(raw);
                match validate::calendar_event(raw) {
                    Err(rejection) => self.record.reject("CalendarEvent", rejection),
                    Ok(row) => rows.push(row),
                }
            }
            let activity_ids: Vec<Uuid> = rows.iter().map(|e| e.activity).collect();
            let stored = self.activities_of(&activity_ids).await?;
            let pupils: Vec<Uuid> = rows
                .iter()
                .flat_map(|e| e.pupil_exceptions.iter().map(|x| x.pupil))
                .collect();
            let unknown = self.unknown_persons(&pupils).await?;
            let duties: Vec<Uuid> = rows
                .iter()
                .flat_map(|e| e.teacher_exceptions.iter().map(|x| x.duty))
                .collect();
            let holders = self.duty_holders(&duties).await?;
            let mut plans = Vec::new();
            for row in rows {
                let reject = |field: &str, id: Uuid| {
                    unknown_reference(ObjectType::CalendarEvent, row.id, field, id)
                };
                let key = row.activity.as_u128();
                let Some(activity) = self.activities.get(&key).or_else(|| stored.get(&key)) else {
                    let r = reject("activity", row.activity);
                    self.record.reject("CalendarEvent", r);
                    continue;
                };
                let start = lessons::local(row.start);
                let end = lessons::local(row.end);
                let mut pupil_exceptions = Vec::new();
                let mut rejections = Vec::new();
                for (i, x) in row.pupil_exceptions.iter().enumerate() {
                    let n = x.pupil.as_u128();
                    if self.left_out(n) {
                        continue;
                    }
                    if unknown.contains(&n) {
                        rejections
                            .push(reject(&format!("studentExceptions[{i}].student"), x.pupil));
                        continue;
                    }
                    pupil_exceptions.push(PupilException::new(
                        PersonId::from_registry(x.pupil),
                        x.participates,
                        x.start,
                        x.end,
                        (start, end),
                    ));
                }
                let mut teacher_exceptions = Vec::new();
                for (i, x) in row.teacher_exceptions.iter().enumerate() {
                    match holders.get(&x.duty.as_u128()) {
                        Some(Some(p)) => teacher_exceptions.push(TeacherException {
                            teacher_id: *p,
                            participates: x.participates,
                            start: x.start.map(lessons::local),
                            end: x.end.map(lessons::local),
                        }),
                        Some(None) => {}
                        None => {
                            rejections.push(reject(&format!("teacherExceptions[{i}].duty"), x.duty))
                        }
                    }
                }
                let lesson = Lesson {
                    id: LessonId::from_registry(row.id),
                    activity_id: activity.id,
                    school_id: activity.school_id,
                    title: String::new(),
                    subject: None,
                    group_ids: Vec::new(),
                    teacher_ids: Vec::new(),
                    rooms: row.rooms,
                    start,
                    end,
                    minutes: lessons::minutes_between(start, end),
                    cancelled: row.cancelled,
                    removed: false,
                    pupil_exceptions,
                    teacher_exceptions,
                }
                .with_activity(activity);
                plans.push(plan::lesson(row.id, &lesson)?);
                for r in rejections {
                    self.record.reject("CalendarEvent", r);
                }
                if self.after.is_some() {
                    self.planned_lessons.insert(row.id.as_u128());
                }
            }
            self.apply(plans).await?;
        }
        drop(pages);
        // A deleted event's lesson is kept, cancelled.
        let deleted = std::mem::take(&mut self.deleted.calendar_events);
        for chunk in deleted.chunks(CHUNK) {
            let keys: Vec<Key> = chunk
                .iter()
                .map(|id| keys::lesson(LessonId::from_registry(*id)))
                .collect();
            let current = self.items(&keys).await?;
            let mut plans = Vec::new();
            for (id, key) in chunk.iter().zip(&keys) {
                if let Some(item) = current.get(key) {
                    let mut lesson: Lesson = item.parse()?;
                    lesson.removed = true;
                    lesson.cancelled = true;
                    plans.push(plan::lesson(*id, &lesson)?);
                }
            }
            self.apply(plans).await?;
        }
        Ok(())
    }

    /// Lessons whose activity changed while the events did not: a delta
    /// run reads only the changed activity, so its stored lessons are
    /// re-planned with the new title, groups and teachers (one query per
    /// activity). A full run read every event already; a removed activity
    /// cancels its lessons in either.
    async fn replan_lessons(&mut self) -> Result<(), ImportError> {
        let changed = std::mem::take(&mut self.changed_activities);
        for id in changed {
            let Some(activity) = self.activities.get(&id.as_u128()).cloned() else {
                continue;
            };
            if self.after.is_none() && !activity.removed {
                continue;
            }
            let stored = lessons::of_activity(self.store, activity.id).await?;
            let mut plans = Vec::new();
            for lesson in stored {
                let event = lesson.id.registry_uuid();
                if self.planned_lessons.contains(&event.as_u128()) {
                    continue;
                }
                plans.push(plan::lesson(event, &lesson.with_activity(&activity))?);
            }
            self.apply(plans).await?;
        }
        Ok(())
    }

    /// Compares each plan with what the import last wrote for its object
    /// and writes only what changed: stale items deleted, the object's
    /// items put (keeping what users own on shared items), then its state.
    ///
    /// Returns the objects that existed before and changed (updated or
    /// ended), written or, in a dry run, that would be.
    async fn apply(&mut self, plans: Vec<Plan>) -> Result<Vec<Uuid>, ImportError> {
        let mut changed_before = Vec::new();
        for chunk in plans.chunks(CHUNK) {
            self.keep_lease().await?;
            let state_keys: Vec<Key> = chunk.iter().map(|p| p.state_key()).collect();
            let states: HashMap<Key, State> = self
                .store
                .get_many_eventually(&state_keys)
                .await?
                .into_iter()
                .map(|i| Ok((i.key.clone(), i.parse::<State>()?)))
                .collect::<Result<_, StoreError>>()?;
            let mut changed: Vec<(&Plan, Option<&State>)> = Vec::new();
            let mut merge_keys: Vec<Key> = Vec::new();
            for (p, key) in chunk.iter().zip(&state_keys) {
                let old = states.get(key);
                let kind = p.object.name();
                if old.is_none() && p.hash == plan::ENDED_HASH {
                    // Ended before the import ever wrote it: nothing to do.
                    continue;
                }
                if old.is_some_and(|s| s.hash == p.hash) {
                    // Ended long ago (a protected person's duty): not news.
                    if p.hash != plan::ENDED_HASH {
                        self.record.counts(kind).unchanged += 1;
                    }
                    if p.pupil_active == Some(false) {
                        self.not_enrolled.insert(p.id.as_u128());
                    }
                    continue;
                }
                let schools = p
                    .schools
                    .iter()
                    .chain(old.into_iter().flat_map(|s| s.schools.iter()));
                if schools.into_iter().any(|s| self.held.contains(s)) {
                    self.record.counts(kind).held_back += 1;
                    continue;
                }
                if p.pupil_active == Some(false) {
                    self.not_enrolled.insert(p.id.as_u128());
                }
                let counts: &mut Counts = self.record.counts(kind);
                match old {
                    None => counts.created += 1,
                    Some(s) if ended(p, s) => counts.ended += 1,
                    Some(_) => counts.updated += 1,
                }
                if old.is_some() {
                    changed_before.push(p.id);
                    merge_keys.extend(
                        p.items
                            .iter()
                            .filter(|i| plan::owned_attributes(&i.entity).is_some())
                            .map(|i| i.key.clone()),
                    );
                }
                changed.push((p, old));
            }
            if self.options.dry_run || changed.is_empty() {
                continue;
            }
            let mut current: HashMap<Key, Item> = HashMap::new();
            for keys in merge_keys.chunks(CHUNK) {
                for item in self.store.get_many(keys).await? {
                    current.insert(item.key.clone(), item);
                }
            }
            let mut puts: HashMap<Key, Item> = HashMap::new();
            let mut deletes: HashSet<Key> = HashSet::new();
            let mut state_items = Vec::new();
            let mut places = child_places::Changes::default();
            let mut renames = roster::Renames::default();
            for (p, old) in changed {
                let targets: HashSet<Key> = p.targets().into_iter().collect();
                let before: HashSet<Key> = old.into_iter().flat_map(|o| o.targets()).collect();
                for key in &targets {
                    places.put(key, before.contains(key));
                }
                deletes.extend(before.into_iter().filter(|k| !targets.contains(k)));
                if p.pupil_active == Some(false) {
                    // The groups that list a leaver are not read again in a
                    // delta run: their memberships go with the enrolment.
                    deletes.extend(self.memberships(p.id).await?);
                }
                for item in &p.items {
                    let stored = current.get(&item.key);
                    let put = merged(item, stored);
                    renames.put(&put, stored)?;
                    puts.insert(item.key.clone(), put);
                }
                let state = State {
                    hash: p.hash.clone(),
                    targets: p
                        .items
                        .iter()
                        .map(|i| (i.key.pk.clone(), i.key.sk.clone()))
                        .collect(),
                    schools: p.schools.clone(),
                    pupil_active: p.pupil_active,
                    holder: p.holder,
                };
                state_items.push(Item::new(p.state_key(), keys::IMPORT_STATE, &state)?);
            }
            deletes.retain(|k| !puts.contains_key(k));
            let deletes: Vec<Key> = deletes.into_iter().collect();
            let mut puts: Vec<Item> = puts.into_values().collect();
            // A guardianship is written with its copy of where the child is
            // a pupil; a change of those places is copied onto the child's
            // guardianships after the chunk and before the state that says
            // it was written (a run that dies in between writes both again).
            // So is a membership with its copy of the pupil's name, and a
            // new name is copied onto the person's memberships, the same way.
            child_places::fill_in(self.store, &mut puts).await?;
            roster::fill_in(self.store, &mut puts).await?;
            self.store.batch_delete(&deletes).await?;
            self.store.batch_put(&puts).await?;
            deletes.iter().for_each(|k| places.deleted(k));
            places.copy(self.store).await?;
            renames.copy(self.store).await?;
            self.store.batch_put(&state_items).await?;
        }
        Ok(changed_before)
    }
}

/// A row that names an object the registry never sent (or one it sent
/// and we rejected).
fn unknown_reference(object_type: ObjectType, row: Uuid, field: &str, target: Uuid) -> Rejection {
    Rejection {
        object_type,
        id: Some(row.to_string()),
        reason: Reason::UnknownReference {
            field: field.to_string(),
            id: target.to_string(),
        },
    }
}

fn protected_marker(id: Uuid) -> Key {
    keys::import_protected(&plan::protected_digest(id))
}

fn state_key(object: Object, id: Uuid) -> Key {
    keys::import_state(object.name(), ulid::Ulid::from(id.as_u128()))
}

/// A pupil enrolled before and nowhere now; a deleted group or duty.
fn ended(plan: &Plan, old: &State) -> bool {
    match plan.pupil_active {
        Some(active) => !active && old.pupil_active == Some(true),
        None => plan.hash == plan::ENDED_HASH,
    }
}

/// The planned item, keeping attributes the import does not own from the
/// stored one (a person's language, a school's settings).
fn merged(planned: &Item, current: Option<&Item>) -> Item {
    let (Some(owned), Some(current)) = (plan::owned_attributes(&planned.entity), current) else {
        return planned.clone();
    };
    let mut attrs = current.attrs.clone();
    for name in owned {
        attrs.remove(*name);
    }
    // Only what the import owns: the planned item also carries the
    // defaults of what it does not (a new person's language).
    let mut own = planned.attrs.clone();
    own.retain(|name, _| owned.contains(&name.as_str()));
    if planned.entity == keys::PERSON {
        plan::keep_left(&mut own, current);
    }
    attrs.extend(own);
    Item {
        attrs,
        ..planned.clone()
    }
}
