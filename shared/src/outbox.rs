//! Notifications through the outbox (C7 base). A use case that must notify
//! writes an outbox item in the same transaction as its domain change. In
//! the cloud the table's stream feeds `notifications-deliver`; locally a
//! worker polls the pending index. Either way [`deliver`] does the work.
//!
//! Delivery claims the item with a conditional write before it sends, and
//! marks it sent after: a replayed stream record or a second worker finds
//! it claimed or sent and sends nothing. A failed send releases the claim,
//! so nothing is lost. A claim older than [`CLAIM_TIMEOUT_SECONDS`] (an
//! instance that died mid-send) may be taken again: that one case can send
//! twice, which we prefer to losing a receipt.

use crate::absence::{Period, Reason};
use crate::directory::{self, Language};
use crate::ids::{OutboxId, PersonId, ReportId};
use crate::keys;
use crate::mail::{Mail, Mailer};
use crate::store::{Condition, Item, Query, Store, StoreError};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub const CLAIM_TIMEOUT_SECONDS: i64 = 300;

/// After this many failed sends an item is set aside as `failed` (and
/// leaves the pending index and the stream filter) instead of retrying
/// for ever; the DLQ alarm and the pending index show what needs a look.
pub const MAX_ATTEMPTS: u32 = 5;

/// What happened that someone should hear about. Rendered in the
/// recipient's language at delivery time.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum Notice {
    #[serde(rename_all = "camelCase")]
    AbsenceApproved {
        report_id: ReportId,
        pupil_name: String,
        period: Period,
        reason: Reason,
    },
    /// E1: a development talk was booked, moved or cancelled by a
    /// guardian, or its slot was removed by staff.
    #[serde(rename_all = "camelCase")]
    Talk {
        change: crate::talks::TalkChange,
        pupil_id: PersonId,
        round_id: crate::ids::TalkRoundId,
        pupil_name: String,
        time: crate::talks::TalkTime,
        #[serde(skip_serializing_if = "Option::is_none", default)]
        previous: Option<crate::talks::TalkTime>,
        #[serde(skip_serializing_if = "Option::is_none", default)]
        reason: Option<String>,
    },
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum Status {
    Pending,
    Sending,
    Sent,
    /// The recipient has no address: nothing to send, nothing to retry.
    Undeliverable,
    /// Sending failed [`MAX_ATTEMPTS`] times.
    Failed,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct OutboxMessage {
    pub id: OutboxId,
    pub recipient: PersonId,
    pub notice: Notice,
    pub status: Status,
    pub attempts: u32,
    pub created_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub claimed_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub sent_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub last_error: Option<String>,
}

impl OutboxMessage {
    fn to_item(&self, version: u64) -> Result<Item, StoreError> {
        item(self.id, self.status, self, version)
    }
}

/// Any outbox item (a mail, a notice batch) at `version`: on the pending
/// index while it waits or is being sent, so the sweeper finds it.
pub(crate) fn item<T: Serialize>(
    id: OutboxId,
    status: Status,
    body: &T,
    version: u64,
) -> Result<Item, StoreError> {
    item_of(keys::OUTBOX, id, status, body, version)
}

/// As [`item`], of another entity (absence alerts, which their own
/// function delivers).
pub(crate) fn item_of<T: Serialize>(
    entity: &str,
    id: OutboxId,
    status: Status,
    body: &T,
    version: u64,
) -> Result<Item, StoreError> {
    let mut item = Item::new(keys::outbox(id), entity, body)?;
    item.version = version;
    if matches!(status, Status::Pending | Status::Sending) {
        item = item.with_gsi1(keys::pending_outbox(id));
    }
    Ok(item)
}

/// A new outbox item, to be written in the caller's transaction.
pub fn message_item(
    id: OutboxId,
    recipient: PersonId,
    notice: Notice,
    now: DateTime<Utc>,
) -> Result<Item, StoreError> {
    OutboxMessage {
        id,
        recipient,
        notice,
        status: Status::Pending,
        attempts: 0,
        created_at: now,
        claimed_at: None,
        sent_at: None,
        last_error: None,
    }
    .to_item(1)
}

/// The result of one delivery attempt that did not fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    Sent,
    AlreadySent,
    /// Another worker holds a fresh claim; it will finish or release it.
    ClaimedElsewhere,
    Undeliverable,
    /// Failed too often before: set aside, not retried.
    GaveUp,
    /// No such item (e.g. removed): nothing to do.
    Missing,
    /// A notice batch: its in-app notices are written.
    Noticed,
    /// A school audience: its notice batches are written.
    Expanded,
    /// A revision: the notices of an edited post are in step with it.
    Revised,
    /// Not this deliverer's item: an absence alert, which
    /// `absence-alerts` delivers (`alerts::deliver`).
    Elsewhere,
}

#[derive(Debug, thiserror::Error)]
pub enum DeliverError {
    #[error("mail not sent: {0}")]
    Mailer(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a delivery attempt finds before it claims an item: the outcome
/// when the item is sent, given up or freshly claimed by another worker;
/// `None` when it may be claimed (pending, or a claim that timed out).
pub(crate) fn settled(
    status: Status,
    claimed_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Option<Delivery> {
    match status {
        Status::Sent => Some(Delivery::AlreadySent),
        Status::Undeliverable => Some(Delivery::Undeliverable),
        Status::Failed => Some(Delivery::GaveUp),
        Status::Sending
            if claimed_at.is_some_and(|t| (now - t).num_seconds() < CLAIM_TIMEOUT_SECONDS) =>
        {
            Some(Delivery::ClaimedElsewhere)
        }
        Status::Pending | Status::Sending => None,
    }
}

/// Delivers one outbox item at most once (see the module notes).
pub async fn deliver(
    store: &dyn Store,
    mailer: &dyn Mailer,
    now: DateTime<Utc>,
    id: OutboxId,
) -> Result<Delivery, DeliverError> {
    let Some(item) = store.get(&keys::outbox(id)).await? else {
        return Ok(Delivery::Missing);
    };
    if crate::alerts::is_alert(&item) {
        return Ok(Delivery::Elsewhere);
    }
    if crate::notices::is_expansion(&item) {
        return Ok(crate::notices::expand(store, now, item).await?);
    }
    if crate::notices::is_revision(&item) {
        return Ok(crate::notices::revise(store, now, item).await?);
    }
    if crate::notices::is_batch(&item) {
        return crate::notices::deliver_batch(store, mailer, now, item).await;
    }
    let mut message: OutboxMessage = item.parse()?;
    if let Some(outcome) = settled(message.status, message.claimed_at, now) {
        return Ok(outcome);
    }

    // Claim.
    message.status = Status::Sending;
    message.claimed_at = Some(now);
    message.attempts += 1;
    let claimed = item.version + 1;
    match store
        .put(
            &message.to_item(claimed)?,
            Condition::VersionEquals(item.version),
        )
        .await
    {
        Ok(()) => {}
        Err(StoreError::ConditionFailed { .. }) => return Ok(Delivery::ClaimedElsewhere),
        Err(e) => return Err(e.into()),
    }

    let recipient = directory::person(store, message.recipient).await?;
    let mail = recipient.as_ref().and_then(|p| {
        p.email.as_ref().map(|to| {
            let (subject, text) = render(&message.notice, p.language);
            Mail {
                to: to.clone(),
                attachments: attachments(&message.notice, p.language, message.created_at),
                subject,
                text,
            }
        })
    });
    let Some(mail) = mail else {
        message.status = Status::Undeliverable;
        store
            .put(
                &message.to_item(claimed + 1)?,
                Condition::VersionEquals(claimed),
            )
            .await?;
        return Ok(Delivery::Undeliverable);
    };

    match mailer.send(&mail).await {
        Ok(()) => {
            message.status = Status::Sent;
            message.sent_at = Some(now);
            message.last_error = None;
            store
                .put(
                    &message.to_item(claimed + 1)?,
                    Condition::VersionEquals(claimed),
                )
                .await?;
            Ok(Delivery::Sent)
        }
        Err(e) => {
            let gave_up = message.attempts >= MAX_ATTEMPTS;
            message.status = if gave_up {
                Status::Failed
            } else {
                Status::Pending
            };
            message.claimed_at = None;
            message.last_error = Some(e.to_string());
            store
                .put(
                    &message.to_item(claimed + 1)?,
                    Condition::VersionEquals(claimed),
                )
                .await?;
            if gave_up {
                tracing::error!(outbox = %message.id, attempts = message.attempts, "delivery given up");
                return Ok(Delivery::GaveUp);
            }
            Err(DeliverError::Mailer(e.to_string()))
        }
    }
}

/// The ids of items waiting for delivery (local worker, sweeps).
pub async fn pending(store: &dyn Store, limit: u32) -> Result<Vec<OutboxId>, StoreError> {
    let page = store
        .query(
            &Query::partition(keys::PENDING_OUTBOX_PARTITION)
                .on(crate::store::Index::Gsi1)
                .limit(limit),
        )
        .await?;
    // Mails and notice batches alike carry their id as `id`.
    page.items
        .iter()
        .map(|i| {
            id_of(&i.attrs)
                .ok_or_else(|| StoreError::Mapping(format!("outbox item {} without id", i.key.pk)))
        })
        .collect()
}

/// The id named by an outbox item's attributes (from a stream image).
pub fn id_of(attrs: &serde_json::Map<String, serde_json::Value>) -> Option<OutboxId> {
    attrs
        .get("id")
        .and_then(|v| v.as_str())
        .and_then(OutboxId::parse)
}

fn period_text(period: &Period, lang: Language) -> String {
    match (*period, lang) {
        (
            Period::WholeDays {
                first_day,
                last_day,
            },
            _,
        ) if first_day == last_day => first_day.to_string(),
        (
            Period::WholeDays {
                first_day,
                last_day,
            },
            Language::Sv,
        ) => {
            format!("{first_day} till {last_day}")
        }
        (
            Period::WholeDays {
                first_day,
                last_day,
            },
            Language::En,
        ) => {
            format!("{first_day} to {last_day}")
        }
        (Period::PartOfDay { day, from, to }, _) => {
            format!("{day} {}-{}", from.format("%H:%M"), to.format("%H:%M"))
        }
    }
}

/// Files sent with a notice: a talk's calendar event.
pub fn attachments(
    notice: &Notice,
    lang: Language,
    created_at: DateTime<Utc>,
) -> Vec<crate::mail::Attachment> {
    match notice {
        Notice::Talk {
            change: crate::talks::TalkChange::Reminder,
            ..
        } => vec![],
        Notice::Talk {
            change,
            pupil_id,
            round_id,
            pupil_name,
            time,
            ..
        } => {
            let summary = match lang {
                Language::Sv => format!("Utvecklingssamtal: {pupil_name}"),
                Language::En => format!("Development talk: {pupil_name}"),
            };
            vec![crate::talks::calendar::talk_event(
                *change, *pupil_id, *round_id, &summary, time, created_at,
            )]
        }
        Notice::AbsenceApproved { .. } => vec![],
    }
}

/// Subject and text of a notice in a language (F5: Swedish by default).
pub fn render(notice: &Notice, lang: Language) -> (String, String) {
    match notice {
        Notice::Talk {
            change,
            pupil_name,
            time,
            previous,
            reason,
            ..
        } => crate::talks::render_notice(
            *change,
            pupil_name,
            time,
            previous.as_ref(),
            reason.as_deref(),
            lang,
        ),
        Notice::AbsenceApproved {
            pupil_name,
            period,
            reason,
            ..
        } => {
            let when = period_text(period, lang);
            match lang {
                Language::Sv => {
                    let why = match reason {
                        Reason::Sick => "sjukdom",
                        Reason::Other => "annan orsak",
                    };
                    (
                        format!("Frånvaroanmälan godkänd: {pupil_name}"),
                        format!(
                            "Hej!\n\nFrånvaroanmälan för {pupil_name} ({when}, {why}) är mottagen och godkänd av skolan.\n\nDetta meddelande kan inte besvaras.\n"
                        ),
                    )
                }
                Language::En => {
                    let why = match reason {
                        Reason::Sick => "illness",
                        Reason::Other => "other reason",
                    };
                    (
                        format!("Absence report approved: {pupil_name}"),
                        format!(
                            "Hello,\n\nThe absence report for {pupil_name} ({when}, {why}) has been received and approved by the school.\n\nThis message cannot be answered.\n"
                        ),
                    )
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn notice() -> Notice {
        let d = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        Notice::AbsenceApproved {
            report_id: ReportId::generate(),
            pupil_name: "Alva Berg".into(),
            period: Period::WholeDays {
                first_day: d,
                last_day: d,
            },
            reason: Reason::Sick,
        }
    }

    #[test]
    fn the_receipt_is_swedish_by_default_and_english_on_request() {
        let (sv_subject, sv_text) = render(&notice(), Language::default());
        assert_eq!(sv_subject, "Frånvaroanmälan godkänd: Alva Berg");
        assert!(sv_text.contains("2026-11-23, sjukdom"));
        let (en_subject, en_text) = render(&notice(), Language::En);
        assert_eq!(en_subject, "Absence report approved: Alva Berg");
        assert!(en_text.contains("illness"));
    }
}
