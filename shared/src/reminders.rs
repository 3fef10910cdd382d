//! Day-before reminders, for every feature that has them (talks, and
//! calendar events with a reminder). A daily schedule (Europe/
//! Stockholm) reads tomorrow's partition of the reminder index (GSI2
//! `REMINDERS#<day>`), and for each entry writes the notice to the outbox
//! together with a marker that it was sent, in one transaction: a re-run
//! of the schedule, or a retried invocation, sends nothing twice.

use crate::clock::Clock;
use crate::keys;
use crate::store::{Condition, Index, Item, Query, SortKey, Store, StoreError, Write, query_all};
use chrono::{Days, NaiveDate};
use serde::Serialize;

/// How long the sent-markers are kept (TTL), well past the reminded day.
const MARKER_DAYS: u64 = 30;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    /// The day reminded of (tomorrow).
    pub day: NaiveDate,
    /// Reminders written to the outbox now.
    pub sent: usize,
    /// Reminders an earlier run had written already.
    pub already_sent: usize,
}

/// Writes tomorrow's reminders to the outbox.
pub async fn send_day_before(store: &dyn Store, clock: &dyn Clock) -> Result<Summary, StoreError> {
    let today = clock.today();
    let day = today.checked_add_days(Days::new(1)).unwrap_or(today);
    let now = clock.now();
    let expires = day
        .checked_add_days(Days::new(MARKER_DAYS))
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc().timestamp());
    let items = query_all(
        store,
        Query::partition(keys::reminders_partition(day)).on(Index::Gsi2),
    )
    .await?;
    let mut summary = Summary {
        day,
        sent: 0,
        already_sent: 0,
    };
    for item in items {
        let writes = match item.entity.as_str() {
            keys::TALK_SLOT => crate::talks::reminder_writes(&item, now)?,
            _ => None,
        };
        let Some((marker_key, notice)) = writes else {
            continue;
        };
        let mut marker = Item::new(
            marker_key,
            keys::REMINDER_SENT,
            &serde_json::json!({ "day": day }),
        )?;
        if let Some(t) = expires {
            marker = marker.expiring_at(t);
        }
        match store
            .transact(&[Write::Put(marker, Condition::MustNotExist), notice])
            .await
        {
            Ok(()) => summary.sent += 1,
            Err(StoreError::TransactionConditionFailed { index: 0, .. }) => {
                summary.already_sent += 1
            }
            Err(e) => return Err(e),
        }
    }
    // C1: events with a reminder whose last day is not past; those that
    // start tomorrow notify their audience through the outbox.
    let events = query_all(
        store,
        Query::partition(keys::EVENT_REMINDERS_PARTITION)
            .on(Index::Gsi2)
            .sort(SortKey::AtLeast(day.to_string())),
    )
    .await?;
    for item in events {
        let Some((marker_key, notices)) = crate::calendar::reminder_writes(&item, day, now)? else {
            continue;
        };
        let mut marker = Item::new(
            marker_key,
            keys::REMINDER_SENT,
            &serde_json::json!({ "day": day }),
        )?;
        if let Some(t) = expires {
            marker = marker.expiring_at(t);
        }
        let mut writes = vec![Write::Put(marker, Condition::MustNotExist)];
        writes.extend(notices);
        match store.transact(&writes).await {
            Ok(()) => summary.sent += 1,
            Err(StoreError::TransactionConditionFailed { index: 0, .. }) => {
                summary.already_sent += 1
            }
            Err(e) => return Err(e),
        }
    }
    Ok(summary)
}
