//! In-app notices (C7): every publish notifies its audience with an
//! unread notice per person. The publish writes its domain items and
//! [`NoticeBatch`] outbox items in one transaction; delivering a batch
//! writes its recipients' notices. A large audience is split into batches
//! of [`BATCH_SIZE`], so a failure retries only its batch, and a notice is
//! written with "must not exist", so a retried batch neither duplicates a
//! notice nor marks a read one unread again.

use crate::ids::{GroupId, NoticeId, OutboxId, PersonId, PostId};
use crate::keys;
use crate::outbox::{Delivery, Status};
use crate::store::{Condition, Index, Item, Query, Store, StoreError, query_all};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Recipients per outbox batch (50 is also SES SendBulkEmail's limit of
/// destinations per call, so a batch is one bulk mail later on).
pub const BATCH_SIZE: usize = 50;

/// What a notice points at.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Subject {
    /// C2: a post in a group's blog.
    #[serde(rename_all = "camelCase")]
    BlogPost {
        post_id: PostId,
        /// The addressed group the person reads it in (the first one that
        /// reaches them).
        group_id: GroupId,
        title: String,
    },
}

/// One person's notice (the person is the partition it lives in).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct InAppNotice {
    pub id: NoticeId,
    pub subject: Subject,
    pub created_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub read_at: Option<DateTime<Utc>>,
}

fn notice_item(
    recipient: PersonId,
    notice: &InAppNotice,
    version: u64,
) -> Result<Item, StoreError> {
    let mut item = Item::new(keys::notice(recipient, notice.id), keys::NOTICE, notice)?;
    item.version = version;
    if notice.read_at.is_none() {
        item = item.with_gsi1(keys::unread_notice(recipient, notice.id));
    }
    Ok(item)
}

fn parse_notice(item: &Item) -> Result<(InAppNotice, u64), StoreError> {
    Ok((item.parse()?, item.version))
}

/// The value of an outbox item's `kind` that marks a notice batch.
pub const BATCH_KIND: &str = "noticeBatch";

/// One outbox item: a notice for up to [`BATCH_SIZE`] people.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct NoticeBatch {
    pub id: OutboxId,
    /// Always [`BATCH_KIND`].
    pub kind: String,
    pub notice_id: NoticeId,
    pub subject: Subject,
    pub recipients: Vec<PersonId>,
    pub status: Status,
    pub attempts: u32,
    pub created_at: DateTime<Utc>,
}

impl NoticeBatch {
    fn to_item(&self, version: u64) -> Result<Item, StoreError> {
        crate::outbox::item(self.id, self.status, self, version)
    }
}

/// Whether an outbox item is a notice batch.
pub fn is_batch(item: &Item) -> bool {
    item.attrs.get("kind").and_then(|v| v.as_str()) == Some(BATCH_KIND)
}

/// The notice of one publish, kept on what was published so that it can
/// be withdrawn: its id and the outbox batches that write it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Sent {
    pub notice_id: NoticeId,
    pub batches: Vec<OutboxId>,
}

/// The outbox items that notify `recipients` of `subject`, one per
/// [`BATCH_SIZE`] people, to be written in the publishing transaction, and
/// what to keep to withdraw them.
pub fn batches(
    notice_id: NoticeId,
    subject: &Subject,
    recipients: &[PersonId],
    now: DateTime<Utc>,
) -> Result<(Sent, Vec<Item>), StoreError> {
    let mut sent = Sent {
        notice_id,
        batches: Vec::new(),
    };
    let mut items = Vec::new();
    for chunk in recipients.chunks(BATCH_SIZE) {
        let batch = NoticeBatch {
            id: OutboxId::generate(),
            kind: BATCH_KIND.to_string(),
            notice_id,
            subject: subject.clone(),
            recipients: chunk.to_vec(),
            status: Status::Pending,
            attempts: 0,
            created_at: now,
        };
        sent.batches.push(batch.id);
        items.push(batch.to_item(1)?);
    }
    Ok((sent, items))
}

/// Takes back the notice of something unpublished (a deleted post, whose
/// title the notice carries): its batches are deleted, so one not yet
/// delivered never is, and the notice of every recipient is deleted, read
/// or not. Safe to repeat. A batch being delivered at this very moment can
/// still write notices after this (its "sent" mark then fails on the
/// deleted batch); publishing and deleting within that second is not
/// covered.
pub async fn withdraw(store: &dyn Store, sent: &Sent) -> Result<usize, StoreError> {
    let batch_keys: Vec<_> = sent.batches.iter().map(|id| keys::outbox(*id)).collect();
    let mut notices = Vec::new();
    for item in store.get_many(&batch_keys).await? {
        let batch: NoticeBatch = item.parse()?;
        notices.extend(
            batch
                .recipients
                .iter()
                .map(|p| keys::notice(*p, sent.notice_id)),
        );
    }
    store.batch_delete(&batch_keys).await?;
    store.batch_delete(&notices).await?;
    Ok(notices.len())
}

/// How many outbox batches notify this many people.
pub fn batches_for(recipients: usize) -> usize {
    recipients.div_ceil(BATCH_SIZE)
}

/// Delivers one batch: each recipient's notice (skipped when already
/// there), then the batch marked sent on the version it was read at. A
/// failure leaves the batch pending, and only it is retried.
pub async fn deliver_batch(store: &dyn Store, item: Item) -> Result<Delivery, StoreError> {
    let mut batch: NoticeBatch = item.parse()?;
    if batch.status == Status::Sent {
        return Ok(Delivery::AlreadySent);
    }
    for recipient in &batch.recipients {
        let notice = InAppNotice {
            id: batch.notice_id,
            subject: batch.subject.clone(),
            created_at: batch.created_at,
            read_at: None,
        };
        match store
            .put(
                &notice_item(*recipient, &notice, 1)?,
                Condition::MustNotExist,
            )
            .await
        {
            Ok(()) => {}
            Err(e) if e.is_condition_failure() => {}
            Err(e) => return Err(e),
        }
    }
    batch.status = Status::Sent;
    batch.attempts += 1;
    match store
        .put(
            &batch.to_item(item.version + 1)?,
            Condition::VersionEquals(item.version),
        )
        .await
    {
        Ok(()) => {}
        // Another worker finished the same batch first: the notices are
        // written either way.
        Err(e) if e.is_condition_failure() => return Ok(Delivery::AlreadySent),
        Err(e) => return Err(e),
    }
    tracing::info!(outbox = %batch.id, notices = batch.recipients.len(), "notices written");
    Ok(Delivery::Noticed)
}

/// A page of notices.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct NoticePage {
    pub items: Vec<InAppNotice>,
    /// Pass as `cursor` for the next page; `None` when there is none.
    pub next_cursor: Option<String>,
}

/// Access pattern: a person's unread notices, newest first, one query on
/// GSI1 (`NOTICES#<person>#UNREAD`).
pub async fn unread(
    store: &dyn Store,
    person: PersonId,
    limit: u32,
    cursor: Option<String>,
) -> Result<NoticePage, StoreError> {
    let page = store
        .query(
            &Query::partition(keys::unread_notices_partition(person))
                .on(Index::Gsi1)
                .backward()
                .limit(limit)
                .after(cursor),
        )
        .await?;
    let items = page
        .items
        .iter()
        .filter(|i| i.entity == keys::NOTICE)
        .map(|i| parse_notice(i).map(|(n, _)| n))
        .collect::<Result<_, _>>()?;
    Ok(NoticePage {
        items,
        next_cursor: page.next,
    })
}

/// Access pattern: how many unread notices a person has, one query on
/// GSI1 (every page of it; the entries are small).
pub async fn unread_count(store: &dyn Store, person: PersonId) -> Result<usize, StoreError> {
    Ok(query_all(
        store,
        Query::partition(keys::unread_notices_partition(person)).on(Index::Gsi1),
    )
    .await?
    .len())
}

#[derive(Debug, thiserror::Error)]
pub enum MarkReadError {
    #[error("no such notice")]
    NotFound,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Marks one of the caller's own notices read (a notice of someone else
/// is not found: the key is in the caller's partition). Reading it again
/// is a no-op.
pub async fn mark_read(
    store: &dyn Store,
    person: PersonId,
    id: NoticeId,
    now: DateTime<Utc>,
) -> Result<InAppNotice, MarkReadError> {
    for _ in 0..4 {
        let item = store
            .get(&keys::notice(person, id))
            .await?
            .ok_or(MarkReadError::NotFound)?;
        let (mut notice, version) = parse_notice(&item)?;
        if notice.read_at.is_some() {
            return Ok(notice);
        }
        notice.read_at = Some(now);
        match store
            .put(
                &notice_item(person, &notice, version + 1)?,
                Condition::VersionEquals(version),
            )
            .await
        {
            Ok(()) => return Ok(notice),
            Err(e) if e.is_condition_failure() => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(MarkReadError::Store(StoreError::Conflict))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_large_audience_is_split_into_batches_of_at_most_fifty() {
        let people: Vec<PersonId> = (0..121).map(|_| PersonId::generate()).collect();
        let subject = Subject::BlogPost {
            post_id: PostId::generate(),
            group_id: GroupId::generate(),
            title: "t".into(),
        };
        let (sent, items) = batches(NoticeId::generate(), &subject, &people, Utc::now()).unwrap();
        assert_eq!(sent.batches.len(), 3);
        assert_eq!(items.len(), 3);
        assert_eq!(batches_for(121), 3);
        let sizes: Vec<usize> = items
            .iter()
            .map(|i| i.parse::<NoticeBatch>().unwrap().recipients.len())
            .collect();
        assert_eq!(sizes, [50, 50, 21]);
        assert!(items.iter().all(is_batch));
    }
}
