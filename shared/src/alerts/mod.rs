//! B6: guardians hear the same day when their child is absent without a
//! valid reason (the Education Act's same-day information).
//!
//! A registration that marks pupils absent without a valid reason at a
//! lesson of today writes one [`AlertRequest`] to the outbox, in the
//! registration's own transaction. Its delivery, when the school has the
//! setting on, writes each pupil's [`PupilAlert`] of the day under an id
//! made from pupil and day ([`OutboxId::of_pupil_day`]) on condition that
//! it does not exist: however many lessons and teachers register the pupil
//! that day, and however they race, one alert exists, and it texts each
//! guardian once.
//!
//! A pupil alert texts each guardian with a mobile number (SNS), drawing
//! one text per guardian on the school's [`credit`]; at zero credit the
//! text is not sent, the mail still is, and the school's administrators
//! see a warning on the credit. It mails each guardian who wants important
//! notices by e-mail. Texts and mails name the pupil by first name and the
//! lesson, never a personal number. Progress (who was texted, who mailed)
//! is kept on the alert, so a retry sends only what is missing.
//!
//! These items have their own entity, so the stream sends them to
//! `absence-alerts` (which links the SMS client) and not to
//! `notifications-deliver`.

pub mod credit;
mod texts;

use crate::audience;
use crate::clock::Clock;
use crate::directory::{self, MailKind, Person};
use crate::ids::{LessonId, OutboxId, PersonId, SchoolId};
use crate::keys;
use crate::mail::{Mail, Mailer};
use crate::outbox::{DeliverError, Delivery, MAX_ATTEMPTS, Status};
use crate::sms::{MobileNumber, Sms, SmsSender};
use crate::store::{Condition, Item, Store, StoreError, Write};
use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

const REQUEST_KIND: &str = "absenceAlertRequest";
const PUPIL_KIND: &str = "absenceAlert";

/// The lesson an alert is about, as the texts name it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertLesson {
    pub lesson_id: LessonId,
    pub title: String,
    pub start: DateTime<FixedOffset>,
}

/// Pupils registered absent without a valid reason at one lesson today.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertRequest {
    pub id: OutboxId,
    pub kind: String,
    pub school_id: SchoolId,
    pub day: NaiveDate,
    pub lesson: AlertLesson,
    pub pupils: Vec<PersonId>,
    pub status: Status,
    pub created_at: DateTime<Utc>,
}

/// One pupil's alert of one day, and how far its delivery got.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PupilAlert {
    pub id: OutboxId,
    pub kind: String,
    pub school_id: SchoolId,
    pub pupil_id: PersonId,
    pub day: NaiveDate,
    /// The first lesson registered that day.
    pub lesson: AlertLesson,
    pub status: Status,
    pub attempts: u32,
    pub created_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claimed_at: Option<DateTime<Utc>>,
    /// The guardians the credit paid a text for (`None`: not drawn yet).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sms_granted: Option<Vec<PersonId>>,
    /// Guardians with a mobile number the credit did not cover.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sms_refused: Vec<PersonId>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub texted: Vec<PersonId>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mailed: Vec<PersonId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

fn outbox_item<T: Serialize>(
    id: OutboxId,
    status: Status,
    body: &T,
    version: u64,
) -> Result<Item, StoreError> {
    crate::outbox::item_of(keys::ABSENCE_ALERT, id, status, body, version)
}

/// Whether an outbox item is an alert (request or pupil alert).
pub fn is_alert(item: &Item) -> bool {
    item.entity == keys::ABSENCE_ALERT
}

/// The outbox write (as `id`) that asks for today's alerts of `pupils`,
/// to go in the registration's transaction; `None` when there is no one
/// to alert.
pub fn request(
    id: OutboxId,
    clock: &dyn Clock,
    school_id: SchoolId,
    lesson: AlertLesson,
    pupils: Vec<PersonId>,
) -> Result<Option<Write>, StoreError> {
    if pupils.is_empty() {
        return Ok(None);
    }
    let request = AlertRequest {
        id,
        kind: REQUEST_KIND.into(),
        school_id,
        day: clock.today(),
        lesson,
        pupils,
        status: Status::Pending,
        created_at: clock.now(),
    };
    Ok(Some(Write::Put(
        outbox_item(request.id, request.status, &request, 1)?,
        Condition::MustNotExist,
    )))
}

/// Delivers one alert outbox item (see the module notes).
pub async fn deliver(
    store: &dyn Store,
    mailer: &dyn Mailer,
    sms: &dyn SmsSender,
    now: DateTime<Utc>,
    id: OutboxId,
) -> Result<Delivery, DeliverError> {
    let Some(item) = store.get(&keys::outbox(id)).await? else {
        return Ok(Delivery::Missing);
    };
    match item.attrs.get("kind").and_then(|k| k.as_str()) {
        Some(REQUEST_KIND) => expand(store, now, item).await,
        Some(PUPIL_KIND) => alert(store, mailer, sms, now, item).await,
        _ => Ok(Delivery::Missing),
    }
}

/// A request becomes a pupil alert per pupil not yet alerted today, if
/// the school alerts at all. Replays write nothing new.
async fn expand(
    store: &dyn Store,
    now: DateTime<Utc>,
    item: Item,
) -> Result<Delivery, DeliverError> {
    let mut request: AlertRequest = item.parse()?;
    if request.status != Status::Pending {
        return Ok(Delivery::AlreadySent);
    }
    let school = directory::school(store, request.school_id).await?;
    let alerting = school.is_some_and(|s| s.settings.alert_unexcused_absence);
    if alerting {
        for pupil in &request.pupils {
            let alert = PupilAlert {
                id: OutboxId::of_pupil_day(*pupil, request.day),
                kind: PUPIL_KIND.into(),
                school_id: request.school_id,
                pupil_id: *pupil,
                day: request.day,
                lesson: request.lesson.clone(),
                status: Status::Pending,
                attempts: 0,
                created_at: now,
                claimed_at: None,
                sms_granted: None,
                sms_refused: Vec::new(),
                texted: Vec::new(),
                mailed: Vec::new(),
                last_error: None,
            };
            match store
                .put(
                    &outbox_item(alert.id, alert.status, &alert, 1)?,
                    Condition::MustNotExist,
                )
                .await
            {
                Ok(()) => {}
                // Already alerted today (another lesson, another teacher).
                Err(e) if e.is_condition_failure() => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
    request.status = Status::Sent;
    match store
        .put(
            &outbox_item(request.id, request.status, &request, item.version + 1)?,
            Condition::VersionEquals(item.version),
        )
        .await
    {
        Ok(()) => {}
        Err(e) if e.is_condition_failure() => return Ok(Delivery::AlreadySent),
        Err(e) => return Err(e.into()),
    }
    tracing::info!(outbox = %request.id, pupils = request.pupils.len(), alerting, "absence alerts expanded");
    Ok(Delivery::Expanded)
}

/// Who of the guardians gets what.
struct Guardians {
    people: Vec<Person>,
}

impl Guardians {
    async fn of(store: &dyn Store, pupil: PersonId) -> Result<Self, StoreError> {
        let ids = audience::guardians_of(store, pupil).await?;
        let mut people = directory::people(store, &ids).await?;
        people.sort_by_key(|p| p.id);
        Ok(Guardians { people })
    }

    /// The guardians a text can reach.
    fn mobiles(&self) -> Vec<(&Person, MobileNumber)> {
        self.people
            .iter()
            .filter_map(|p| Some((p, p.text_to.clone()?)))
            .collect()
    }
}

async fn alert(
    store: &dyn Store,
    mailer: &dyn Mailer,
    sms: &dyn SmsSender,
    now: DateTime<Utc>,
    item: Item,
) -> Result<Delivery, DeliverError> {
    let mut alert: PupilAlert = item.parse()?;
    if let Some(outcome) = crate::outbox::settled(alert.status, alert.claimed_at, now) {
        return Ok(outcome);
    }
    alert.status = Status::Sending;
    alert.claimed_at = Some(now);
    alert.attempts += 1;
    let mut version = item.version + 1;
    match store
        .put(
            &outbox_item(alert.id, alert.status, &alert, version)?,
            Condition::VersionEquals(item.version),
        )
        .await
    {
        Ok(()) => {}
        Err(e) if e.is_condition_failure() => return Ok(Delivery::ClaimedElsewhere),
        Err(e) => return Err(e.into()),
    }

    let failure = match send(store, mailer, sms, now, &mut alert, &mut version).await {
        Ok(failure) => failure,
        Err(e) => Some(e.to_string()),
    };
    alert.claimed_at = None;
    alert.status = match &failure {
        None => Status::Sent,
        Some(_) if alert.attempts >= MAX_ATTEMPTS => Status::Failed,
        Some(_) => Status::Pending,
    };
    alert.last_error = failure.clone();
    match store
        .put(
            &outbox_item(alert.id, alert.status, &alert, version + 1)?,
            Condition::VersionEquals(version),
        )
        .await
    {
        Ok(()) => {}
        Err(e) if e.is_condition_failure() => return Ok(Delivery::AlreadySent),
        Err(e) => return Err(e.into()),
    }
    tracing::info!(
        outbox = %alert.id,
        texted = alert.texted.len(),
        refused = alert.sms_refused.len(),
        mailed = alert.mailed.len(),
        "absence alert delivered"
    );
    match (alert.status, failure) {
        (Status::Failed, _) => {
            tracing::error!(outbox = %alert.id, attempts = alert.attempts, "absence alert given up");
            Ok(Delivery::GaveUp)
        }
        (_, Some(e)) => Err(DeliverError::Mailer(e)),
        _ => Ok(Delivery::Sent),
    }
}

/// Draws the credit once, then texts and mails whoever is still due.
/// `Ok(Some(e))`: some send failed (retried later); `Err`: the store did.
async fn send(
    store: &dyn Store,
    mailer: &dyn Mailer,
    sms: &dyn SmsSender,
    now: DateTime<Utc>,
    alert: &mut PupilAlert,
    version: &mut u64,
) -> Result<Option<String>, StoreError> {
    let Some(pupil) = directory::person(store, alert.pupil_id).await? else {
        return Ok(None);
    };
    let guardians = Guardians::of(store, alert.pupil_id).await?;
    let mobiles = guardians.mobiles();
    if alert.sms_granted.is_none() {
        let wanted: Vec<PersonId> = mobiles.iter().map(|(p, _)| p.id).collect();
        draw_credit(store, now, alert, version, wanted).await?;
    }
    let granted = alert.sms_granted.clone().unwrap_or_default();
    let mut failure = None;
    for (guardian, number) in &mobiles {
        if !granted.contains(&guardian.id) || alert.texted.contains(&guardian.id) {
            continue;
        }
        let text = texts::sms(guardian.language, &pupil, &alert.lesson);
        match sms
            .send(&Sms {
                to: number.clone(),
                text,
            })
            .await
        {
            Ok(()) => alert.texted.push(guardian.id),
            Err(e) => failure = Some(e.to_string()),
        }
    }
    let mut addresses: Vec<&str> = Vec::new();
    for guardian in &guardians.people {
        let Some(address) = guardian.email.as_deref() else {
            continue;
        };
        if !guardian.mail.wants(MailKind::ImportantNotice) || addresses.contains(&address) {
            continue;
        }
        addresses.push(address);
        if alert.mailed.contains(&guardian.id) {
            continue;
        }
        let (subject, text) = texts::mail(guardian.language, &pupil, &alert.lesson);
        match mailer
            .send(&Mail {
                to: address.to_string(),
                subject,
                text,
                attachments: Vec::new(),
            })
            .await
        {
            Ok(()) => alert.mailed.push(guardian.id),
            Err(e) => failure = Some(crate::mail::without_addresses(&e.to_string())),
        }
    }
    Ok(failure)
}

/// Takes one text per wanted guardian from the school's credit, as far as
/// it goes, in one transaction with the alert (so a retry never draws
/// twice); what it does not cover is counted on the credit as refused.
async fn draw_credit(
    store: &dyn Store,
    now: DateTime<Utc>,
    alert: &mut PupilAlert,
    version: &mut u64,
    wanted: Vec<PersonId>,
) -> Result<(), StoreError> {
    if wanted.is_empty() {
        alert.sms_granted = Some(Vec::new());
        return Ok(());
    }
    for _ in 0..5 {
        let (mut credit, credit_version) = credit::read(store, alert.school_id).await?;
        let covered = wanted.len().min(credit.credit as usize);
        let (granted, refused) = wanted.split_at(covered);
        credit.credit -= covered as u32;
        if !refused.is_empty() {
            credit.refused += refused.len() as u32;
            credit.last_refused_at = Some(now);
        }
        let mut drawn = alert.clone();
        drawn.sms_granted = Some(granted.to_vec());
        drawn.sms_refused = refused.to_vec();
        let writes = [
            Write::Put(
                credit.to_item(credit_version + 1)?,
                credit::unchanged(credit_version),
            ),
            Write::Put(
                outbox_item(drawn.id, drawn.status, &drawn, *version + 1)?,
                Condition::VersionEquals(*version),
            ),
        ];
        match store.transact(&writes).await {
            Ok(()) => {
                *alert = drawn;
                *version += 1;
                if !refused.is_empty() {
                    tracing::warn!(
                        school = %alert.school_id,
                        refused = refused.len(),
                        "SMS credit exhausted; texts not sent"
                    );
                }
                return Ok(());
            }
            // The credit moved (another alert, a top-up): read it again.
            Err(StoreError::TransactionConditionFailed { index: 0, .. })
            | Err(StoreError::Conflict) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(StoreError::Conflict)
}
