//! The run record: what one run did, for the organisation admin (read
//! through the API) and for the next run (where a delta starts).

use crate::ids::{ImportRunId, SchoolId};
use crate::import::source::UpstreamStats;
use crate::keys;
use crate::ss12000::records::Rejection;
use crate::store::{Item, Query, Store, StoreError};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// At most this many rejected rows are listed in one record (an item is
/// at most 400 KB); the rest are counted.
pub const MAX_LISTED_REJECTIONS: usize = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Mode {
    /// Every object; pupils the feed no longer lists are ended.
    Full,
    /// Objects modified since the last successful run, and deletions.
    Delta,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Status {
    /// Asked for through the API; the import function has not started it.
    Requested,
    Running,
    Succeeded,
    Failed,
}

/// Per kind of object.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Counts {
    pub created: u64,
    pub updated: u64,
    pub ended: u64,
    pub unchanged: u64,
    pub skipped_protected: u64,
    /// Imported before and protected now: everything the import wrote of
    /// them was deleted.
    #[serde(default)]
    pub scrubbed: u64,
    pub rejected: u64,
    /// Kinds Skolnav does not keep (schedule groups, other duty roles, ...).
    pub ignored: u64,
    /// Not written because their school was held back by the guard.
    pub held_back: u64,
}

/// A school the mass-end guard held back: nothing of it was written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HeldBack {
    pub school_id: SchoolId,
    pub enrolled_pupils: u64,
    pub would_end: u64,
    pub share: f64,
    pub limit: f64,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunRecord {
    pub run_id: ImportRunId,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub mode: Mode,
    pub dry_run: bool,
    pub status: Status,
    /// Keyed by object kind (`Person`, `Responsibles`, `Group`, ...).
    pub counts: BTreeMap<String, Counts>,
    /// Protected persons skipped, per school of their enrolment.
    pub protected_per_school: BTreeMap<SchoolId, u64>,
    /// Protected persons without an enrolment (guardians, staff).
    pub protected_elsewhere: u64,
    pub held_back: Vec<HeldBack>,
    pub rejections: Vec<Rejection>,
    pub rejections_not_listed: u64,
    pub upstream: UpstreamStats,
    pub error: Option<String>,
}

impl RunRecord {
    pub fn start(run_id: ImportRunId, now: DateTime<Utc>, mode: Mode, dry_run: bool) -> Self {
        RunRecord {
            run_id,
            started_at: now,
            finished_at: None,
            mode,
            dry_run,
            status: Status::Running,
            counts: BTreeMap::new(),
            protected_per_school: BTreeMap::new(),
            protected_elsewhere: 0,
            held_back: Vec::new(),
            rejections: Vec::new(),
            rejections_not_listed: 0,
            upstream: UpstreamStats::default(),
            error: None,
        }
    }

    pub fn counts(&mut self, kind: &str) -> &mut Counts {
        self.counts.entry(kind.to_string()).or_default()
    }

    pub fn reject(&mut self, kind: &str, rejection: Rejection) {
        self.counts(kind).rejected += 1;
        if self.rejections.len() < MAX_LISTED_REJECTIONS {
            self.rejections.push(rejection);
        } else {
            self.rejections_not_listed += 1;
        }
    }

    /// Items written by the run (creates, updates and ends).
    pub fn written(&self) -> u64 {
        self.counts
            .values()
            .map(|c| c.created + c.updated + c.ended)
            .sum()
    }

    pub fn to_item(&self) -> Result<Item, StoreError> {
        Item::new(keys::import_run(self.run_id), keys::IMPORT_RUN, self)
    }
}

/// Access pattern: the newest run records first, one query.
pub async fn recent(store: &dyn Store, limit: u32) -> Result<Vec<RunRecord>, StoreError> {
    let page = store
        .query(
            &Query::partition(keys::IMPORT_RUNS_PARTITION)
                .backward()
                .limit(limit),
        )
        .await?;
    page.items.iter().map(|i| i.parse()).collect()
}

/// Access pattern: one run record.
pub async fn get(store: &dyn Store, id: ImportRunId) -> Result<Option<RunRecord>, StoreError> {
    store
        .get(&keys::import_run(id))
        .await?
        .map(|i| i.parse())
        .transpose()
}
