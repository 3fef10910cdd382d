//! Starting the import on demand: the API writes a request (and a run
//! record saying "requested"); the table's stream hands it to the import
//! function, so a run never has to fit in an API call's 30 seconds.

use super::Options;
use super::record::{Mode, RunRecord, Status};
use crate::ids::{ImportRunId, PersonId};
use crate::keys;
use crate::store::{Condition, Item, Store, StoreError, Write};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportRequest {
    pub run_id: ImportRunId,
    pub dry_run: bool,
    pub full: bool,
    pub requested_by: PersonId,
    pub requested_at: DateTime<Utc>,
}

impl ImportRequest {
    /// The options of the run that serves this request.
    pub fn options(&self, now: DateTime<Utc>, today: NaiveDate) -> Options {
        Options {
            run_id: self.run_id,
            dry_run: self.dry_run,
            force_full: self.full,
            ..Options::new(now, today)
        }
    }
}

/// Records the request and its run record in one transaction.
pub async fn request(store: &dyn Store, request: &ImportRequest) -> Result<RunRecord, StoreError> {
    let mode = if request.full {
        Mode::Full
    } else {
        Mode::Delta
    };
    let mut record = RunRecord::start(request.run_id, request.requested_at, mode, request.dry_run);
    record.status = Status::Requested;
    let item = Item::new(
        keys::import_request(request.run_id),
        keys::IMPORT_REQUEST,
        request,
    )?
    .expiring_at((request.requested_at + chrono::Duration::days(7)).timestamp());
    store
        .transact(&[
            Write::Put(item, Condition::MustNotExist),
            Write::Put(record.to_item()?, Condition::MustNotExist),
        ])
        .await?;
    Ok(record)
}

/// The request an item of the table's stream carries, if it is one.
pub fn from_stream_image(
    image: &serde_json::Map<String, serde_json::Value>,
) -> Option<ImportRequest> {
    if image.get("entity").and_then(|v| v.as_str()) != Some(keys::IMPORT_REQUEST) {
        return None;
    }
    serde_json::from_value(serde_json::Value::Object(image.clone())).ok()
}

/// Requests whose run has not started (for the local server, which has no
/// stream): one query on the import's partition.
pub async fn waiting(store: &dyn Store) -> Result<Vec<ImportRequest>, StoreError> {
    let items = crate::store::query_all(
        store,
        crate::store::Query::partition(keys::IMPORT_PARTITION)
            .begins_with(keys::IMPORT_REQUEST_PREFIX),
    )
    .await?;
    let mut waiting = Vec::new();
    for item in items {
        let req: ImportRequest = item.parse()?;
        let record = super::record::get(store, req.run_id).await?;
        if record.is_some_and(|r| r.status == Status::Requested) {
            waiting.push(req);
        }
    }
    Ok(waiting)
}
