//! Notices (C7): every publish notifies its audience with an unread
//! notice per person in the app, and an e-mail to those whose preferences
//! ask for that kind. The publish writes its domain items and
//! [`NoticeBatch`] outbox items in one transaction. A large audience is
//! split into batches of [`BATCH_SIZE`], so a failure retries only its
//! batch. Delivering a batch claims it, writes its recipients' notices
//! ("must not exist", so a retried batch neither duplicates a notice nor
//! marks a read one unread again), then sends its mails in one bulk call
//! and records who was mailed, so a retry mails only the rest.

use crate::audience::{GroupTarget, Reach};
use crate::directory::{self, Language, MailKind, Person};
use crate::ids::{EventId, GroupId, NewsId, NoticeId, OutboxId, PersonId, PostId, SchoolId};
use crate::keys;
use crate::mail::{Mail, Mailer};
use crate::outbox::{DeliverError, Delivery, MAX_ATTEMPTS, Status};
use crate::store::{Condition, Index, Item, ListPage, Query, Store, StoreError, query_all};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// Recipients per outbox batch (50 is also SES SendBulkEmail's limit of
/// destinations per call, so a batch is one bulk mail later on).
pub const BATCH_SIZE: usize = 50;

/// Characters of a body a notice carries ([`excerpt`]): a feed entry's
/// preview, small enough that a notice stays one write unit.
pub const EXCERPT_CHARS: usize = 240;

/// The start of a Markdown body as plain text, for a notice.
pub fn excerpt(body: &str) -> String {
    crate::blog::markdown::excerpt(body, EXCERPT_CHARS)
}

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
        /// Its name, for the feed ("7A").
        #[serde(default, skip_serializing_if = "String::is_empty")]
        group_name: String,
        title: String,
        /// The post's start as plain text ([`excerpt`]), kept in step with
        /// edits: the feed shows it without reading the post.
        #[serde(default, skip_serializing_if = "String::is_empty")]
        excerpt: String,
    },
    /// C3: a news item.
    #[serde(rename_all = "camelCase")]
    News {
        news_id: NewsId,
        title: String,
        #[serde(default, skip_serializing_if = "String::is_empty")]
        excerpt: String,
    },
    /// C1: an event with a reminder happens tomorrow.
    #[serde(rename_all = "camelCase")]
    EventReminder {
        event_id: EventId,
        title: String,
        day: NaiveDate,
    },
    /// C1: an event in a group's calendar.
    #[serde(rename_all = "camelCase")]
    CalendarEvent {
        event_id: EventId,
        title: String,
        first_day: NaiveDate,
    },
}

impl Subject {
    /// The same subject with an edit's title and excerpt (a blog post is
    /// the one thing edited after its notice went out).
    pub fn revised(&self, new_title: &str, new_excerpt: &str) -> Subject {
        let mut subject = self.clone();
        match &mut subject {
            Subject::BlogPost { title, excerpt, .. } | Subject::News { title, excerpt, .. } => {
                *title = new_title.to_string();
                *excerpt = new_excerpt.to_string();
            }
            Subject::EventReminder { title, .. } | Subject::CalendarEvent { title, .. } => {
                *title = new_title.to_string();
            }
        }
        subject
    }

    /// Which of a person's e-mail preferences decides whether it is mailed.
    pub fn mail_kind(&self) -> MailKind {
        match self {
            Subject::BlogPost { .. }
            | Subject::CalendarEvent { .. }
            | Subject::EventReminder { .. }
            | Subject::News { .. } => MailKind::SchoolMessage,
        }
    }

    /// The mail about it, in a language (Swedish by default). It names the
    /// title, never the text: the post is read in Skolnav.
    pub fn mail(&self, language: Language) -> (String, String) {
        let sv = language == Language::Sv;
        let (subject, line) = match self {
            Subject::BlogPost { title, .. } if sv => (
                format!("Nytt blogginlägg: {title}"),
                format!(
                    "Det finns ett nytt inlägg i gruppens blogg: \"{title}\". Läs det i Skolnav."
                ),
            ),
            Subject::BlogPost { title, .. } => (
                format!("New blog post: {title}"),
                format!(
                    "There is a new post in the group's blog: \"{title}\". Read it in Skolnav."
                ),
            ),
            Subject::EventReminder { title, day, .. } if sv => (
                format!("Påminnelse: {title} i morgon"),
                format!("Påminnelse: \"{title}\" är i morgon, {day}. Se kalendern i Skolnav."),
            ),
            Subject::EventReminder { title, day, .. } => (
                format!("Reminder: {title} tomorrow"),
                format!("A reminder: \"{title}\" is tomorrow, {day}. See the calendar in Skolnav."),
            ),
            Subject::News { title, .. } if sv => (
                format!("Nyhet från skolan: {title}"),
                format!("Skolan har publicerat en nyhet: \"{title}\". Läs den i Skolnav."),
            ),
            Subject::News { title, .. } => (
                format!("News from the school: {title}"),
                format!("The school has published news: \"{title}\". Read it in Skolnav."),
            ),
            Subject::CalendarEvent {
                title, first_day, ..
            } if sv => (
                format!("Ny händelse i kalendern: {title}"),
                format!(
                    "Det finns en ny händelse i kalendern: \"{title}\", {first_day}. Se den i Skolnav."
                ),
            ),
            Subject::CalendarEvent {
                title, first_day, ..
            } => (
                format!("New calendar event: {title}"),
                format!(
                    "There is a new event in the calendar: \"{title}\", {first_day}. See it in Skolnav."
                ),
            ),
        };
        let text = if sv {
            format!(
                "Hej!\n\n{line}\n\nDetta meddelande kan inte besvaras. Vilka e-postmeddelanden du får ändrar du under Inställningar i Skolnav.\n"
            )
        } else {
            format!(
                "Hello,\n\n{line}\n\nThis message cannot be answered. You choose which e-mails you get under Settings in Skolnav.\n"
            )
        };
        (subject, text)
    }
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
    /// When what it points at was last edited (its title and excerpt
    /// follow the edit, see [`Revision`]).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub revised_at: Option<DateTime<Utc>>,
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
    /// Set while a worker delivers it (see [`deliver_batch`]).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub claimed_at: Option<DateTime<Utc>>,
    /// Recipients whose mail the mailer accepted: a retry skips them.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub mailed: Vec<PersonId>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub last_error: Option<String>,
    /// Set when an edit revised `subject` before the batch was delivered.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub revised_at: Option<DateTime<Utc>>,
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
    /// Batches written with the publish.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub batches: Vec<OutboxId>,
    /// The expansion written with the publish, when the outbox finds the
    /// audience: its batches are its derived ids once it is expanded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expansion: Option<OutboxId>,
}

/// Where the batches of a [`Sent`] stand.
enum SentBatches {
    /// These batches exist (or existed: some may be gone).
    Known(Vec<OutboxId>),
    /// The expansion is not expanded yet: this item, at its version.
    Unexpanded(Box<Item>),
}

/// The batches of a publish: those written with it, or those its
/// expansion wrote (one read of the expansion).
async fn sent_batches(store: &dyn Store, sent: &Sent) -> Result<SentBatches, StoreError> {
    let mut ids = sent.batches.clone();
    if let Some(expansion_id) = sent.expansion
        && let Some(item) = store.get(&keys::outbox(expansion_id)).await?
    {
        let expansion: Expansion = item.parse()?;
        if expansion.status != Status::Sent {
            return Ok(SentBatches::Unexpanded(Box::new(item)));
        }
        let n = expansion.batches.unwrap_or(0);
        ids.extend((1..=n).map(|k| expansion_id.derived(k as u128)));
    }
    Ok(SentBatches::Known(ids))
}

/// Packs recipients into batches of at most [`BATCH_SIZE`] so that their
/// mails take as few bulk calls as they can: the people to mail first,
/// one address never split over two batches (so it gets one mail), then
/// those who only get the in-app notice. Reads their person items (one
/// BatchGetItem per 100).
pub async fn pack(
    store: &dyn Store,
    subject: &Subject,
    recipients: &[PersonId],
) -> Result<Vec<Vec<PersonId>>, StoreError> {
    let people = directory::people(store, recipients).await?;
    Ok(pack_people(subject, &people, recipients))
}

/// [`pack`] on people already read.
pub fn pack_people(
    subject: &Subject,
    people: &[Person],
    recipients: &[PersonId],
) -> Vec<Vec<PersonId>> {
    let mut by_address = mails_due(subject, people, &[]);
    by_address.sort_by_key(|(mail, _)| mail.to.to_lowercase());
    let to_mail: std::collections::HashSet<PersonId> = by_address
        .iter()
        .flat_map(|(_, ids)| ids.iter().copied())
        .collect();
    let mut batches: Vec<Vec<PersonId>> = Vec::new();
    let mut current: Vec<PersonId> = Vec::new();
    for (_, ids) in by_address {
        for share in ids.chunks(BATCH_SIZE) {
            if current.len() + share.len() > BATCH_SIZE {
                batches.push(std::mem::take(&mut current));
            }
            current.extend_from_slice(share);
        }
    }
    for id in recipients.iter().filter(|p| !to_mail.contains(p)) {
        if current.len() == BATCH_SIZE {
            batches.push(std::mem::take(&mut current));
        }
        current.push(*id);
    }
    if !current.is_empty() {
        batches.push(current);
    }
    batches
}

/// The outbox items that notify each batch of recipients ([`pack`]) of
/// `subject`, to be written in the publishing transaction, and what to
/// keep to withdraw them.
pub fn batches(
    notice_id: NoticeId,
    subject: &Subject,
    packed: &[Vec<PersonId>],
    now: DateTime<Utc>,
) -> Result<(Sent, Vec<Item>), StoreError> {
    let mut sent = Sent {
        notice_id,
        batches: Vec::new(),
        expansion: None,
    };
    let mut items = Vec::new();
    for chunk in packed {
        let batch = NoticeBatch {
            id: OutboxId::generate(),
            kind: BATCH_KIND.to_string(),
            notice_id,
            subject: subject.clone(),
            recipients: chunk.to_vec(),
            status: Status::Pending,
            attempts: 0,
            created_at: now,
            claimed_at: None,
            mailed: Vec::new(),
            last_error: None,
            revised_at: None,
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
    // An expansion no worker has claimed is deleted on the version read,
    // so it never expands (it claims before writing a batch); one being
    // expanded is waited for (`Conflict`: the caller tries again).
    let batch_ids = match sent_batches(store, sent).await? {
        SentBatches::Known(ids) => ids,
        SentBatches::Unexpanded(item) => {
            let expansion: Expansion = item.parse()?;
            if expansion.status != Status::Pending {
                return Err(StoreError::Conflict);
            }
            return match store
                .delete(&item.key, Condition::VersionEquals(item.version))
                .await
            {
                Ok(()) => Ok(0),
                Err(e) if e.is_condition_failure() => Err(StoreError::Conflict),
                Err(e) => Err(e),
            };
        }
    };
    let batch_keys: Vec<_> = batch_ids.iter().map(|id| keys::outbox(*id)).collect();
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

/// The value of an outbox item's `kind` that marks an audience to expand.
pub const EXPANSION_KIND: &str = "audienceExpansion";

/// Who an [`Expansion`] reaches.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Target {
    /// A school's enrolled pupils and/or their guardians, and/or its staff.
    #[serde(rename_all = "camelCase")]
    School {
        school_id: SchoolId,
        reach: Reach,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        staff: bool,
    },
    /// Groups' pupils and/or their guardians.
    Groups { groups: Vec<GroupTarget> },
    /// The pupils of grade years of a school and/or their guardians.
    #[serde(rename_all = "camelCase")]
    GradeYears {
        school_id: SchoolId,
        grades: crate::audience::Grades,
        reach: Reach,
    },
}

/// One outbox item: the notice of a publish whose people are too many, or
/// not yet due, to look up in the request (a school is one query per pupil
/// for their guardians; scheduled news reaches whoever is there when it is
/// released). The worker expands it into [`NoticeBatch`]es.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Expansion {
    pub id: OutboxId,
    /// Always [`EXPANSION_KIND`].
    pub kind: String,
    pub notice_id: NoticeId,
    pub subject: Subject,
    pub target: Target,
    /// Who published, and hears nothing of it.
    pub author_id: PersonId,
    pub status: Status,
    pub created_at: DateTime<Utc>,
    /// How many people it reached, once expanded.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub recipients: Option<usize>,
    /// How many batches it wrote (ids `id.derived(1..=n)`), once expanded.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub batches: Option<usize>,
    /// Set while a worker expands it: a withdrawal then waits for it.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub claimed_at: Option<DateTime<Utc>>,
}

/// Whether an outbox item is an audience to expand.
pub fn is_expansion(item: &Item) -> bool {
    item.attrs.get("kind").and_then(|v| v.as_str()) == Some(EXPANSION_KIND)
}

/// The outbox item that notifies `target` of `subject`, to be written in
/// the publishing transaction.
pub fn expansion(
    subject: &Subject,
    target: Target,
    author_id: PersonId,
    now: DateTime<Utc>,
) -> Result<Item, StoreError> {
    Ok(expansion_sent(subject, target, author_id, now)?.1)
}

/// As [`expansion`], with what to keep to withdraw or revise its notice.
pub fn expansion_sent(
    subject: &Subject,
    target: Target,
    author_id: PersonId,
    now: DateTime<Utc>,
) -> Result<(Sent, Item), StoreError> {
    let expansion = Expansion {
        id: OutboxId::generate(),
        kind: EXPANSION_KIND.to_string(),
        notice_id: NoticeId::generate(),
        subject: subject.clone(),
        target,
        author_id,
        status: Status::Pending,
        created_at: now,
        recipients: None,
        batches: None,
        claimed_at: None,
    };
    let sent = Sent {
        notice_id: expansion.notice_id,
        batches: Vec::new(),
        expansion: Some(expansion.id),
    };
    Ok((
        sent,
        crate::outbox::item(expansion.id, expansion.status, &expansion, 1)?,
    ))
}

/// Expands an audience into notice batches. The batch ids follow
/// from the expansion's id (its ULID plus the batch's number), and each
/// is put only if it does not exist, so a retried or replayed expansion
/// adds no batch twice and never resets one already delivered.
pub async fn expand(
    store: &dyn Store,
    now: DateTime<Utc>,
    item: Item,
) -> Result<Delivery, StoreError> {
    let mut expansion: Expansion = item.parse()?;
    if let Some(outcome) = crate::outbox::settled(expansion.status, expansion.claimed_at, now) {
        return Ok(outcome);
    }
    // Claimed before any batch is written, so a withdrawal that deletes
    // the expansion unclaimed knows none was.
    expansion.status = Status::Sending;
    expansion.claimed_at = Some(now);
    let claimed = item.version + 1;
    match store
        .put(
            &crate::outbox::item(expansion.id, expansion.status, &expansion, claimed)?,
            Condition::VersionEquals(item.version),
        )
        .await
    {
        Ok(()) => {}
        Err(e) if e.is_condition_failure() => return Ok(Delivery::ClaimedElsewhere),
        Err(e) => return Err(e),
    }
    let mut reach = match &expansion.target {
        Target::School {
            school_id,
            reach,
            staff,
        } => {
            let mut people = if reach.pupils || reach.guardians {
                crate::audience::school_recipients(store, *school_id, *reach).await?
            } else {
                Default::default()
            };
            if *staff {
                people.extend(directory::school_staff(store, *school_id).await?);
            }
            people
        }
        Target::Groups { groups } => crate::audience::group_recipients(store, groups).await?,
        Target::GradeYears {
            school_id,
            grades,
            reach,
        } => crate::audience::grade_recipients(store, *school_id, *grades, *reach).await?,
    };
    reach.remove(&expansion.author_id);
    let recipients: Vec<PersonId> = reach.into_iter().collect();
    let packed = pack(store, &expansion.subject, &recipients).await?;
    for (n, chunk) in packed.iter().enumerate() {
        let id = expansion.id.derived(n as u128 + 1);
        let batch = NoticeBatch {
            id,
            kind: BATCH_KIND.to_string(),
            notice_id: expansion.notice_id,
            subject: expansion.subject.clone(),
            recipients: chunk.to_vec(),
            status: Status::Pending,
            attempts: 0,
            created_at: expansion.created_at,
            claimed_at: None,
            mailed: Vec::new(),
            last_error: None,
            revised_at: None,
        };
        match store.put(&batch.to_item(1)?, Condition::MustNotExist).await {
            Ok(()) => {}
            Err(e) if e.is_condition_failure() => {}
            Err(e) => return Err(e),
        }
    }
    expansion.status = Status::Sent;
    expansion.claimed_at = None;
    expansion.recipients = Some(recipients.len());
    expansion.batches = Some(packed.len());
    let done = crate::outbox::item(expansion.id, expansion.status, &expansion, claimed + 1)?;
    match store.put(&done, Condition::VersionEquals(claimed)).await {
        Ok(()) => {}
        Err(e) if e.is_condition_failure() => return Ok(Delivery::AlreadySent),
        Err(e) => return Err(e),
    }
    tracing::info!(
        outbox = %expansion.id,
        recipients = recipients.len(),
        batches = packed.len(),
        "audience expanded"
    );
    Ok(Delivery::Expanded)
}

/// Delivers one batch, at most once per recipient and channel: claims
/// it (a conditional write, as a single mail is claimed), writes each
/// recipient's notice (skipped when already there), sends the mails still
/// due in one bulk call, and marks it sent. A failed call, or a mail that
/// failed alone, puts the batch back to pending with the recipients mailed
/// so far recorded; only it is retried, and only the rest are mailed.
pub async fn deliver_batch(
    store: &dyn Store,
    mailer: &dyn Mailer,
    now: DateTime<Utc>,
    item: Item,
) -> Result<Delivery, DeliverError> {
    let mut batch: NoticeBatch = item.parse()?;
    if let Some(outcome) = crate::outbox::settled(batch.status, batch.claimed_at, now) {
        return Ok(outcome);
    }
    batch.status = Status::Sending;
    batch.claimed_at = Some(now);
    batch.attempts += 1;
    let claimed = item.version + 1;
    match store
        .put(
            &batch.to_item(claimed)?,
            Condition::VersionEquals(item.version),
        )
        .await
    {
        Ok(()) => {}
        Err(e) if e.is_condition_failure() => return Ok(Delivery::ClaimedElsewhere),
        Err(e) => return Err(e.into()),
    }

    let delivered = match write_notices(store, &batch).await {
        Ok(()) => send_mails(store, mailer, &batch).await,
        Err(e) => Err(e),
    };
    let (mailed, failure) = match delivered {
        Ok(done) => done,
        Err(e) => {
            // Released for the next attempt at once, not after the claim
            // times out (best effort: the store just failed).
            batch.status = Status::Pending;
            batch.claimed_at = None;
            batch.last_error = Some(e.to_string());
            let _ = store
                .put(
                    &batch.to_item(claimed + 1)?,
                    Condition::VersionEquals(claimed),
                )
                .await;
            return Err(e.into());
        }
    };
    let mails = mailed.len();
    batch.mailed.extend(mailed);
    batch.claimed_at = None;
    batch.last_error = failure.clone();
    batch.status = match &failure {
        None => Status::Sent,
        Some(_) if batch.attempts >= MAX_ATTEMPTS => Status::Failed,
        Some(_) => Status::Pending,
    };
    match store
        .put(
            &batch.to_item(claimed + 1)?,
            Condition::VersionEquals(claimed),
        )
        .await
    {
        Ok(()) => {}
        // Claimed again after the claim timed out, and finished there.
        Err(e) if e.is_condition_failure() => return Ok(Delivery::AlreadySent),
        Err(e) => return Err(e.into()),
    }
    tracing::info!(
        outbox = %batch.id,
        notices = batch.recipients.len(),
        mails,
        "notice batch delivered"
    );
    match (batch.status, failure) {
        (Status::Failed, _) => {
            tracing::error!(outbox = %batch.id, attempts = batch.attempts, "notice mail given up");
            Ok(Delivery::GaveUp)
        }
        (_, Some(e)) => Err(DeliverError::Mailer(e)),
        _ => Ok(Delivery::Noticed),
    }
}

/// Each recipient's notice, unless already there.
async fn write_notices(store: &dyn Store, batch: &NoticeBatch) -> Result<(), StoreError> {
    let notice = InAppNotice {
        id: batch.notice_id,
        subject: batch.subject.clone(),
        created_at: batch.created_at,
        read_at: None,
        revised_at: batch.revised_at,
    };
    for recipient in &batch.recipients {
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
    Ok(())
}

/// One mail per address still due: recipients not mailed yet, with an
/// address, who want this kind of notice by e-mail. Two people who share
/// an address (or one person twice) get one mail.
pub fn mails_due(
    subject: &Subject,
    people: &[Person],
    mailed: &[PersonId],
) -> Vec<(Mail, Vec<PersonId>)> {
    let kind = subject.mail_kind();
    let mut due: Vec<(Mail, Vec<PersonId>)> = Vec::new();
    for person in people {
        if mailed.contains(&person.id) || !person.mail.wants(kind) {
            continue;
        }
        let Some(address) = person
            .email
            .as_deref()
            .map(str::trim)
            .filter(|a| !a.is_empty())
        else {
            continue;
        };
        if let Some((_, ids)) = due
            .iter_mut()
            .find(|(m, _)| m.to.eq_ignore_ascii_case(address))
        {
            ids.push(person.id);
            continue;
        }
        let (subject, text) = subject.mail(person.language);
        let mail = Mail {
            to: address.to_string(),
            subject,
            text,
            attachments: Vec::new(),
        };
        due.push((mail, vec![person.id]));
    }
    due
}

/// Sends the batch's mails still due in one bulk call. Returns who was
/// mailed, and what went wrong if anything did.
async fn send_mails(
    store: &dyn Store,
    mailer: &dyn Mailer,
    batch: &NoticeBatch,
) -> Result<(Vec<PersonId>, Option<String>), StoreError> {
    let pending: Vec<PersonId> = batch
        .recipients
        .iter()
        .filter(|p| !batch.mailed.contains(p))
        .copied()
        .collect();
    if pending.is_empty() {
        return Ok((Vec::new(), None));
    }
    let people = directory::people(store, &pending).await?;
    let due = mails_due(&batch.subject, &people, &batch.mailed);
    if due.is_empty() {
        return Ok((Vec::new(), None));
    }
    let mails: Vec<Mail> = due.iter().map(|(m, _)| m.clone()).collect();
    let outcome = match mailer.send_bulk(&mails).await {
        Ok(outcome) => outcome,
        Err(e) => return Ok((Vec::new(), Some(e.to_string()))),
    };
    let mut mailed = Vec::new();
    let mut failure = None;
    for ((_, ids), result) in due.into_iter().zip(outcome) {
        match result {
            Ok(()) => mailed.extend(ids),
            Err(e) => failure = Some(e.to_string()),
        }
    }
    Ok((mailed, failure))
}

/// The value of an outbox item's `kind` that marks a revision.
pub const REVISION_KIND: &str = "noticeRevision";

/// One outbox item: an edit of something already notified (a blog post's
/// title or text), to carry into its notices, so that a feed never shows
/// a title the author took back. Written in the edit's transaction.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Revision {
    pub id: OutboxId,
    /// Always [`REVISION_KIND`].
    pub kind: String,
    /// The notice to revise, and the batches that know its recipients.
    pub sent: Sent,
    pub title: String,
    pub excerpt: String,
    /// When the edit was made: a notice already revised by a later edit is
    /// left as it is, whatever order the revisions are delivered in.
    pub revised_at: DateTime<Utc>,
    pub status: Status,
    #[serde(default)]
    pub attempts: u32,
    pub created_at: DateTime<Utc>,
}

/// Whether an outbox item is a revision.
pub fn is_revision(item: &Item) -> bool {
    item.attrs.get("kind").and_then(|v| v.as_str()) == Some(REVISION_KIND)
}

/// The outbox item that revises the notice `sent` with an edit.
pub fn revision(
    sent: &Sent,
    title: &str,
    excerpt: &str,
    now: DateTime<Utc>,
) -> Result<Item, StoreError> {
    let revision = Revision {
        id: OutboxId::generate(),
        kind: REVISION_KIND.to_string(),
        sent: sent.clone(),
        title: title.to_string(),
        excerpt: excerpt.to_string(),
        revised_at: now,
        status: Status::Pending,
        attempts: 0,
        created_at: now,
    };
    crate::outbox::item(revision.id, revision.status, &revision, 1)
}

/// Delivers a revision: each batch not yet delivered gets the new subject
/// (so it writes revised notices), and each notice already written gets
/// it too, keeping whether it was read. A batch a worker is delivering at
/// this moment is waited for (a `Conflict`, retried), never changed under
/// it: that would make its worker lose the record of who was mailed.
/// Nothing is mailed again. Safe to repeat.
pub async fn revise(
    store: &dyn Store,
    now: DateTime<Utc>,
    item: Item,
) -> Result<Delivery, StoreError> {
    let mut revision: Revision = item.parse()?;
    if revision.status == Status::Sent {
        return Ok(Delivery::AlreadySent);
    }
    let batch_ids = match sent_batches(store, &revision.sent).await? {
        SentBatches::Known(ids) => ids,
        // Its audience is not expanded yet: the revision waits for the
        // batches (a retry), and then revises them like any others.
        SentBatches::Unexpanded(_) => return Err(StoreError::Conflict),
    };
    let batch_keys: Vec<_> = batch_ids.iter().map(|id| keys::outbox(*id)).collect();
    let mut revised = 0;
    for batch_item in store.get_many(&batch_keys).await? {
        let mut batch: NoticeBatch = batch_item.parse()?;
        if batch.revised_at >= Some(revision.revised_at) {
            continue;
        }
        match crate::outbox::settled(batch.status, batch.claimed_at, now) {
            Some(Delivery::ClaimedElsewhere) => return Err(StoreError::Conflict),
            Some(_) => {}
            None => {
                batch.subject = batch.subject.revised(&revision.title, &revision.excerpt);
                batch.revised_at = Some(revision.revised_at);
                store
                    .put(
                        &batch.to_item(batch_item.version + 1)?,
                        Condition::VersionEquals(batch_item.version),
                    )
                    .await?;
            }
        }
        // The batch's notices in one read, then a put each; one changed
        // meanwhile (marked read) is read again on its own.
        let notice_keys: Vec<_> = batch
            .recipients
            .iter()
            .map(|p| keys::notice(*p, revision.sent.notice_id))
            .collect();
        let recipient_of: std::collections::HashMap<&str, PersonId> = notice_keys
            .iter()
            .zip(&batch.recipients)
            .map(|(k, p)| (k.pk.as_str(), *p))
            .collect();
        for notice_item in store.get_many(&notice_keys).await? {
            let Some(recipient) = recipient_of.get(notice_item.key.pk.as_str()).copied() else {
                continue;
            };
            if revise_notice(store, recipient, &revision, Some(notice_item)).await? {
                revised += 1;
            }
        }
    }
    revision.status = Status::Sent;
    revision.attempts += 1;
    match store
        .put(
            &crate::outbox::item(revision.id, revision.status, &revision, item.version + 1)?,
            Condition::VersionEquals(item.version),
        )
        .await
    {
        Ok(()) => {}
        Err(e) if e.is_condition_failure() => return Ok(Delivery::AlreadySent),
        Err(e) => return Err(e),
    }
    tracing::info!(outbox = %revision.id, notices = revised, "notices revised");
    Ok(Delivery::Revised)
}

/// One recipient's notice, revised unless missing (withdrawn, or not yet
/// written) or already revised by a later edit. Whether it was read stays.
async fn revise_notice(
    store: &dyn Store,
    recipient: PersonId,
    revision: &Revision,
    read: Option<Item>,
) -> Result<bool, StoreError> {
    let changed = change_notice(store, recipient, revision.sent.notice_id, read, |notice| {
        if notice.revised_at >= Some(revision.revised_at) {
            return false;
        }
        notice.subject = notice.subject.revised(&revision.title, &revision.excerpt);
        notice.revised_at = Some(revision.revised_at);
        true
    })
    .await?;
    Ok(changed.is_some_and(|(_, changed)| changed))
}

/// Changes one person's notice on the version read (`read`, or read
/// here), reading it again when it changed meanwhile, at most four times.
/// `change` says whether there is anything to write. `None`: no notice.
async fn change_notice(
    store: &dyn Store,
    person: PersonId,
    id: NoticeId,
    mut read: Option<Item>,
    change: impl Fn(&mut InAppNotice) -> bool,
) -> Result<Option<(InAppNotice, bool)>, StoreError> {
    let key = keys::notice(person, id);
    for _ in 0..4 {
        let item = match read.take() {
            Some(item) => item,
            None => match store.get(&key).await? {
                Some(item) => item,
                None => return Ok(None),
            },
        };
        let (mut notice, version) = parse_notice(&item)?;
        if !change(&mut notice) {
            return Ok(Some((notice, false)));
        }
        match store
            .put(
                &notice_item(person, &notice, version + 1)?,
                Condition::VersionEquals(version),
            )
            .await
        {
            Ok(()) => return Ok(Some((notice, true))),
            Err(e) if e.is_condition_failure() => continue,
            Err(e) => return Err(e),
        }
    }
    Err(StoreError::Conflict)
}

/// A page of notices.
pub type NoticePage = ListPage<InAppNotice>;

/// Access pattern: a person's unread notices, newest first, one query on
/// GSI1 (`NOTICES#<person>#UNREAD`).
pub async fn unread(
    store: &dyn Store,
    person: PersonId,
    limit: u32,
    cursor: Option<String>,
) -> Result<NoticePage, StoreError> {
    notice_page(
        store,
        Query::partition(keys::unread_notices_partition(person))
            .on(Index::Gsi1)
            .backward()
            .limit(limit)
            .after(cursor),
    )
    .await
}

/// One page of a query of notices, newest first.
async fn notice_page(store: &dyn Store, query: Query) -> Result<NoticePage, StoreError> {
    let page = store.query(&query).await?;
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

/// Access pattern: a person's feed, newest first: every notice they got,
/// read or not, each with what the feed shows (title, excerpt, group,
/// day). One query on the person's own notices partition, and nothing
/// else: what is in it was addressed to them when it was published, so
/// there is nothing to authorize beyond the token that names them.
pub async fn feed(
    store: &dyn Store,
    person: PersonId,
    limit: u32,
    cursor: Option<String>,
) -> Result<NoticePage, StoreError> {
    notice_page(
        store,
        Query::partition(keys::notices_partition(person))
            .backward()
            .limit(limit)
            .after(cursor),
    )
    .await
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
    let marked = change_notice(store, person, id, None, |notice| {
        if notice.read_at.is_some() {
            return false;
        }
        notice.read_at = Some(now);
        true
    })
    .await?;
    marked
        .map(|(notice, _)| notice)
        .ok_or(MarkReadError::NotFound)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(email: Option<&str>, school_messages: bool) -> Person {
        Person {
            id: PersonId::generate(),
            given_name: "A".into(),
            family_name: "B".into(),
            email: email.map(str::to_string),
            mobile: None,
            text_to: None,
            language: Language::Sv,
            mail: crate::directory::MailPreferences {
                school_messages,
                ..Default::default()
            },
            left: None,
            protected_identity: false,
        }
    }

    #[test]
    fn a_notice_mail_names_the_title_in_the_readers_language_and_says_where_to_stop_it() {
        let subject = Subject::News {
            news_id: NewsId::generate(),
            title: "Skolfoto".into(),
            excerpt: "Fotografen kommer på tisdag.".into(),
        };
        let (sv_subject, sv) = subject.mail(Language::Sv);
        assert_eq!(sv_subject, "Nyhet från skolan: Skolfoto");
        assert!(
            !sv.contains("Fotografen"),
            "the text stays in Skolnav: {sv}"
        );
        assert!(sv.starts_with("Hej!\n\nSkolan har publicerat en nyhet: \"Skolfoto\"."));
        assert!(sv.ends_with("under Inställningar i Skolnav.\n"));
        let (en_subject, en) = subject.mail(Language::En);
        assert_eq!(en_subject, "News from the school: Skolfoto");
        assert!(en.starts_with("Hello,\n\nThe school has published news"));
        assert!(en.ends_with("under Settings in Skolnav.\n"));
    }

    #[test]
    fn one_mail_per_address_to_those_who_want_it_and_are_not_mailed_yet() {
        let subject = Subject::BlogPost {
            post_id: PostId::generate(),
            group_id: GroupId::generate(),
            group_name: "4A".into(),
            title: "Utflykt".into(),
            excerpt: String::new(),
        };
        let family = person(Some("familjen@example.se"), true);
        let partner = person(Some(" Familjen@Example.se "), true);
        let opted_out = person(Some("nej@example.se"), false);
        let no_address = person(None, true);
        let done = person(Some("klar@example.se"), true);
        let other = person(Some("annan@example.se"), true);
        let people = [
            family.clone(),
            partner.clone(),
            opted_out,
            no_address,
            done.clone(),
            other.clone(),
        ];
        let due = mails_due(&subject, &people, &[done.id]);
        let to: Vec<(&str, Vec<PersonId>)> = due
            .iter()
            .map(|(m, ids)| (m.to.as_str(), ids.clone()))
            .collect();
        assert_eq!(
            to,
            [
                ("familjen@example.se", vec![family.id, partner.id]),
                ("annan@example.se", vec![other.id]),
            ]
        );
        assert_eq!(due[0].0.subject, "Nytt blogginlägg: Utflykt");
        assert!(due[0].0.attachments.is_empty());
    }

    #[test]
    fn a_large_audience_is_split_into_batches_of_at_most_fifty() {
        let people: Vec<Person> = (0..121).map(|_| person(None, true)).collect();
        let ids: Vec<PersonId> = people.iter().map(|p| p.id).collect();
        let subject = Subject::BlogPost {
            post_id: PostId::generate(),
            group_id: GroupId::generate(),
            group_name: "4A".into(),
            title: "t".into(),
            excerpt: String::new(),
        };
        let packed = pack_people(&subject, &people, &ids);
        let (sent, items) = batches(NoticeId::generate(), &subject, &packed, Utc::now()).unwrap();
        assert_eq!(sent.batches.len(), 3);
        let sizes: Vec<usize> = items
            .iter()
            .map(|i| i.parse::<NoticeBatch>().unwrap().recipients.len())
            .collect();
        assert_eq!(sizes, [50, 50, 21]);
        assert!(items.iter().all(is_batch));
        let mut all: Vec<PersonId> = packed.concat();
        all.sort();
        let mut want = ids.clone();
        want.sort();
        assert_eq!(all, want, "everyone once");
    }

    #[test]
    fn the_people_to_mail_are_packed_first_and_an_address_is_never_split() {
        let subject = Subject::BlogPost {
            post_id: PostId::generate(),
            group_id: GroupId::generate(),
            group_name: "4A".into(),
            title: "t".into(),
            excerpt: String::new(),
        };
        // 60 pupils without an address between 49 guardians with their own
        // and two who share one: 51 people to mail, 50 addresses.
        let mut people = Vec::new();
        for i in 0..60 {
            people.push(person(None, true));
            if i < 49 {
                people.push(person(Some(&format!("g{i:02}@example.se")), true));
            }
        }
        people.push(person(Some("zz-familj@example.se"), true));
        people.push(person(Some("ZZ-Familj@example.se"), true));
        let ids: Vec<PersonId> = people.iter().map(|p| p.id).collect();
        let packed = pack_people(&subject, &people, &ids);
        let mails_per_batch: Vec<usize> = packed
            .iter()
            .map(|batch| {
                let in_batch: Vec<Person> = people
                    .iter()
                    .filter(|p| batch.contains(&p.id))
                    .cloned()
                    .collect();
                mails_due(&subject, &in_batch, &[]).len()
            })
            .collect();
        // 49 own addresses fill the first batch; the shared address would
        // not fit whole and starts the second, which is its only mail.
        assert_eq!(
            mails_per_batch.iter().sum::<usize>(),
            50,
            "{mails_per_batch:?}"
        );
        assert_eq!(mails_per_batch[..2], [49, 1]);
        assert!(mails_per_batch[2..].iter().all(|m| *m == 0));
        assert!(packed.iter().all(|b| b.len() <= BATCH_SIZE));
        assert_eq!(packed.concat().len(), ids.len());
    }
}
