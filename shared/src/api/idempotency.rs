//! Idempotency-Key on POSTs (F4): the first request with a key claims it
//! with a conditional write; the answer is stored on the claim; a retry
//! with the same key and the same request gets the stored answer, and the
//! same key with another request is refused. Records expire after a day.

use super::{Ctx, Problem};
use crate::keys;
use crate::store::{Condition, Item, StoreError};
use http::{Method, StatusCode};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::sync::atomic::{AtomicU64, Ordering};

const TTL_SECONDS: i64 = 24 * 3600;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What makes two requests "the same": method, path and body.
pub fn fingerprint(method: &Method, path: &str, body: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(method.as_str().as_bytes());
    h.update([0]);
    h.update(path.as_bytes());
    h.update([0]);
    h.update(body);
    hex(&h.finalize())
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Record {
    fingerprint: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    body: Option<serde_json::Value>,
    /// Until when (epoch seconds, by the injected clock) the record
    /// answers; older records had only the item's TTL.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    valid_until: Option<i64>,
}

pub enum Taken {
    Fresh,
    Replay(StatusCode, serde_json::Value),
}

pub struct Claim {
    key: crate::store::Key,
    fingerprint: String,
    /// The version our claim was written with.
    version: AtomicU64,
}

impl Claim {
    pub fn new(subject: &str, idempotency_key: &str, fingerprint: String) -> Self {
        let hash = hex(&Sha256::digest(idempotency_key.as_bytes()));
        Claim {
            key: keys::idempotency(subject, &hash),
            fingerprint,
            version: AtomicU64::new(1),
        }
    }

    fn item(&self, ctx: &Ctx, record: &Record, version: u64) -> Result<Item, StoreError> {
        let valid_until = ctx.clock.now().timestamp() + TTL_SECONDS;
        let record = Record {
            fingerprint: record.fingerprint.clone(),
            status: record.status,
            body: record.body.clone(),
            valid_until: Some(valid_until),
        };
        // Whether a record still answers is decided by the injected clock
        // (`valid_until`); the table's TTL only removes it afterwards, and
        // TTL runs on the wall clock (DynamoDB's, and the SQLite adapter's
        // reads). In production the two clocks agree; with a clock fixed in
        // the past (tests, demos) the record must not vanish before use.
        let housekeeping = valid_until.max(chrono::Utc::now().timestamp() + TTL_SECONDS);
        let mut item =
            Item::new(self.key.clone(), keys::IDEMPOTENCY, &record)?.expiring_at(housekeeping);
        item.version = version;
        Ok(item)
    }

    /// Claims the key, or returns the stored answer of an earlier request.
    pub async fn take(&self, ctx: &Ctx) -> Result<Taken, Problem> {
        let record = Record {
            fingerprint: self.fingerprint.clone(),
            status: None,
            body: None,
            valid_until: None,
        };
        match ctx
            .store
            .put(&self.item(ctx, &record, 1)?, Condition::MustNotExist)
            .await
        {
            Ok(()) => return Ok(Taken::Fresh),
            Err(StoreError::ConditionFailed { .. }) => {}
            Err(e) => return Err(e.into()),
        }
        let Some(item) = ctx.store.get(&self.key).await? else {
            return Err(in_progress());
        };
        let existing: Record = item.parse()?;
        // TTL deletes lazily: a record past its day is as good as gone.
        if existing
            .valid_until
            .or(item.expires_at)
            .is_some_and(|t| t <= ctx.clock.now().timestamp())
        {
            let version = item.version + 1;
            return match ctx
                .store
                .put(
                    &self.item(ctx, &record, version)?,
                    Condition::VersionEquals(item.version),
                )
                .await
            {
                Ok(()) => {
                    self.version.store(version, Ordering::SeqCst);
                    Ok(Taken::Fresh)
                }
                Err(StoreError::ConditionFailed { .. }) => Err(in_progress()),
                Err(e) => Err(e.into()),
            };
        }
        if existing.fingerprint != self.fingerprint {
            return Err(Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency-key-reused",
                "This Idempotency-Key was used for another request",
            )
            .invalid("Idempotency-Key", "already used for a different request"));
        }
        match (
            existing.status.and_then(|s| StatusCode::from_u16(s).ok()),
            existing.body,
        ) {
            (Some(status), Some(body)) => Ok(Taken::Replay(status, body)),
            _ => Err(in_progress()),
        }
    }

    /// Stores the answer; a server-side failure releases the key instead,
    /// so the client's retry runs again.
    pub async fn finish(&self, ctx: &Ctx, status: StatusCode, body: serde_json::Value) {
        let claimed = self.version.load(Ordering::SeqCst);
        let result = if status.is_server_error() {
            ctx.store
                .delete(&self.key, Condition::VersionEquals(claimed))
                .await
        } else {
            let record = Record {
                fingerprint: self.fingerprint.clone(),
                status: Some(status.as_u16()),
                body: Some(body),
                valid_until: None,
            };
            match self.item(ctx, &record, claimed + 1) {
                Ok(item) => {
                    ctx.store
                        .put(&item, Condition::VersionEquals(claimed))
                        .await
                }
                Err(e) => Err(e),
            }
        };
        if let Err(e) = result {
            tracing::warn!(error = %e, "idempotency record not finished");
        }
    }
}

fn in_progress() -> Problem {
    Problem::new(
        StatusCode::CONFLICT,
        "request-in-progress",
        "A request with this Idempotency-Key is still being processed; retry shortly",
    )
}
