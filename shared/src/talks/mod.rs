//! Development talks (E1): staff create bookable slots for a group,
//! guardians book, move and cancel until the booking deadline, staff see
//! who has booked and who has not.
//!
//! A slot is never booked twice: the booking lives on the slot item, and
//! booking is one transaction of the slot (conditioned on the version we
//! read it free at) and the pupil's booking item for the round
//! (conditioned on not existing, so one booking per pupil and round).
//! Moving releases the old slot and takes the new one in one transaction,
//! so a family never holds two slots and never loses its slot when the
//! target is taken at the same moment.

pub mod calendar;
pub mod schedule;

use crate::clock::Clock;
use crate::directory::{self, Group, Language, PersonRecord};
use crate::ids::{GroupId, OutboxId, PersonId, SchoolId, SlotId, TalkRoundId};
use crate::keys;
use crate::outbox::{self, Notice};
use crate::policy::{self, Decision, SlotView};
use crate::roster;
use crate::store::{
    Condition, Item, ListPage, Query, SortKey, Store, StoreError, Write, query_all,
};
use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
pub use schedule::{FieldError, NewTalkTimes, Refusal, TalkDay, TargetRound, Venue};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};

/// A round of talks: the slots created together, one booking deadline.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct TalkRound {
    pub id: TalkRoundId,
    pub group_id: GroupId,
    pub school_id: SchoolId,
    pub booking_deadline: NaiveDate,
    pub created_by: PersonId,
    pub created_at: DateTime<Utc>,
    /// The start of the round's earliest and of its latest slot, widened by
    /// every creation of times in the round (removing a slot does not
    /// narrow them): the round's slots lie in this stretch of the group's
    /// slots, which sort by start. `None` on a round stored without them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_start: Option<DateTime<FixedOffset>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_start: Option<DateTime<FixedOffset>>,
}

impl TalkRound {
    /// Widens the round's stretch of starts to hold new slots' `starts`. A
    /// round stored without one stays without: its older slots' starts are
    /// not known here.
    fn widen(&mut self, starts: impl IntoIterator<Item = DateTime<FixedOffset>>) {
        let (Some(first), Some(last)) = (&mut self.first_start, &mut self.last_start) else {
            return;
        };
        for start in starts {
            *first = (*first).min(start);
            *last = (*last).max(start);
        }
    }

    /// Where the round's slots start, as instants; `None` when not known.
    fn starts(&self) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        Some((self.first_start?.to_utc(), self.last_start?.to_utc()))
    }
}

/// When and where a talk is.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct TalkTime {
    pub start: DateTime<FixedOffset>,
    pub end: DateTime<FixedOffset>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub place: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub video_link: Option<String>,
}

/// Who holds a slot.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SlotBooking {
    pub pupil_id: PersonId,
    pub pupil_name: String,
    pub booked_by: PersonId,
    pub booked_at: DateTime<Utc>,
}

/// One bookable time.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct TalkSlot {
    pub id: SlotId,
    pub round_id: TalkRoundId,
    pub group_id: GroupId,
    pub school_id: SchoolId,
    #[serde(flatten)]
    pub time: TalkTime,
    pub booking_deadline: NaiveDate,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub booking: Option<SlotBooking>,
}

impl TalkSlot {
    /// The talk's day in Sweden.
    pub fn day(&self) -> NaiveDate {
        self.time
            .start
            .with_timezone(&chrono_tz::Europe::Stockholm)
            .date_naive()
    }

    /// What the reminder index calls a booked slot.
    fn reminder_name(&self) -> String {
        format!("TALK#{}", self.id)
    }

    fn to_item(&self, version: u64) -> Result<Item, StoreError> {
        let mut item = Item::new(
            keys::talk_slot(self.group_id, self.id),
            keys::TALK_SLOT,
            self,
        )?;
        item.version = version;
        // Booked slots are in the day-before reminders (a sparse index).
        if self.booking.is_some() {
            item = item.with_gsi2(keys::reminder(self.day(), &self.reminder_name()));
        }
        Ok(item)
    }
}

/// A pupil's booking in one round (one per pupil and round), whichever
/// guardian made it: both guardians see and may change it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Booking {
    pub pupil_id: PersonId,
    pub round_id: TalkRoundId,
    pub group_id: GroupId,
    pub slot_id: SlotId,
    #[serde(flatten)]
    pub time: TalkTime,
    pub booking_deadline: NaiveDate,
    pub booked_by: PersonId,
    pub booked_at: DateTime<Utc>,
}

impl Booking {
    fn to_item(&self, version: u64) -> Result<Item, StoreError> {
        let mut item = Item::new(
            keys::talk_booking(self.pupil_id, self.round_id),
            keys::TALK_BOOKING,
            self,
        )?;
        item.version = version;
        Ok(item)
    }
}

/// What a notice tells the guardian.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum TalkChange {
    Booked,
    Moved,
    Cancelled,
    /// Staff removed the booked slot.
    Removed,
    /// The talk is tomorrow.
    Reminder,
}

#[derive(Debug, thiserror::Error)]
pub enum TalksError {
    #[error("not found")]
    NotFound,
    #[error("forbidden")]
    Forbidden,
    #[error(transparent)]
    Refused(#[from] Refusal),
    #[error("{field} overlaps slot {existing}")]
    OverlapsSlot { field: String, existing: SlotId },
    #[error("the slot is taken")]
    SlotTaken,
    #[error("the pupil already has a booking in this round (slot {0})")]
    AlreadyBooked(SlotId),
    #[error("the pupil has no booking in this round")]
    NotBooked,
    #[error("the booking deadline {0} has passed")]
    DeadlinePassed(NaiveDate),
    #[error("{0}")]
    Invalid(FieldError),
    #[error("too many concurrent changes, try again")]
    Contended,
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn invalid(field: &str, message: &str) -> TalksError {
    TalksError::Invalid(FieldError {
        field: field.into(),
        message: message.into(),
    })
}

fn decide(decision: Decision) -> Result<(), TalksError> {
    match decision {
        Decision::Allow => Ok(()),
        Decision::Forbidden => Err(TalksError::Forbidden),
        Decision::NotFound => Err(TalksError::NotFound),
    }
}

const ATTEMPTS: usize = 8;

/// A few milliseconds, different for each caller, so racing requests do
/// not collide again in step.
async fn pause_before_retry() {
    let jitter = u64::from(ulid::Ulid::generate().random() as u8 % 20);
    tokio::time::sleep(std::time::Duration::from_millis(5 + jitter)).await;
}

async fn group(store: &dyn Store, id: GroupId) -> Result<Group, TalksError> {
    directory::group(store, id)
        .await?
        .ok_or(TalksError::NotFound)
}

/// The caller's children who are pupils of the group; no request for
/// staff of the group, who are decided without it.
async fn children_in_group(
    store: &dyn Store,
    caller: &PersonRecord,
    group: &Group,
) -> Result<Vec<PersonId>, TalksError> {
    if policy::is_talk_staff(caller, group) {
        return Ok(vec![]);
    }
    Ok(directory::children_in_group(store, caller, group.id).await?)
}

/// A page of a group's rounds, newest first, with their slots (by start).
struct RoundsPage {
    rounds: Vec<TalkRound>,
    slots: Vec<TalkSlot>,
    next: Option<String>,
}

/// Access pattern: a page of a group's rounds, newest first (one query of
/// the `ROUND#` range), then the slots of those rounds: one query of the
/// stretch of starts they span ([`slots_in`]). Slots of other rounds in
/// that stretch are read and left out.
async fn rounds_page(
    store: &dyn Store,
    group: GroupId,
    limit: u32,
    cursor: Option<String>,
) -> Result<RoundsPage, TalksError> {
    let page = store
        .query(
            &Query::partition(keys::talks_partition(group))
                .begins_with(keys::TALK_ROUND_PREFIX)
                .backward()
                .limit(limit)
                .after(cursor),
        )
        .await?;
    let rounds = page
        .items
        .iter()
        .filter(|item| item.entity == keys::TALK_ROUND)
        .map(|item| item.parse::<TalkRound>())
        .collect::<Result<Vec<_>, _>>()?;
    let starts: Option<Vec<_>> = rounds.iter().map(TalkRound::starts).collect();
    let range = match starts {
        Some(starts) => {
            let from = starts.iter().map(|(first, _)| *first).min();
            let to = starts.iter().map(|(_, last)| *last).max();
            match from.zip(to) {
                Some((from, to)) => keys::talk_slots_starting(from, Some(to)),
                // No rounds on this page: no slots to read.
                None => {
                    return Ok(RoundsPage {
                        rounds,
                        slots: Vec::new(),
                        next: page.next,
                    });
                }
            }
        }
        // A round stored without its stretch: every slot of the group.
        None => keys::talk_slots_from(None),
    };
    let ids: HashSet<TalkRoundId> = rounds.iter().map(|r| r.id).collect();
    let slots = slots_in(store, group, range)
        .await?
        .into_iter()
        .filter_map(|(slot, _)| ids.contains(&slot.round_id).then_some(slot))
        .collect();
    Ok(RoundsPage {
        rounds,
        slots,
        next: page.next,
    })
}

/// Access pattern: a group's slots in a `range` of slot keys (a stretch
/// of time, [`keys::talk_slots_starting`]), with their versions, by start;
/// one query of that stretch, however many rounds the group has had.
async fn slots_in(
    store: &dyn Store,
    group: GroupId,
    range: SortKey,
) -> Result<Vec<(TalkSlot, u64)>, TalksError> {
    let query = Query::partition(keys::talks_partition(group)).sort(range);
    let mut slots = query_all(store, query)
        .await?
        .into_iter()
        .filter(|item| item.entity == keys::TALK_SLOT)
        .map(|item| Ok((item.parse::<TalkSlot>()?, item.version)))
        .collect::<Result<Vec<_>, StoreError>>()?;
    slots.sort_by_key(|(s, _)| (s.time.start, s.id));
    Ok(slots)
}

/// The group's slots that new `spans` could overlap: those starting less
/// than the longest talk before the first span and before the last one
/// ends.
async fn slots_around(
    store: &dyn Store,
    group: GroupId,
    spans: &[schedule::Span],
) -> Result<Vec<(TalkSlot, u64)>, TalksError> {
    let (Some(first), Some(last)) = (
        spans.iter().map(|s| s.start).min(),
        spans.iter().map(|s| s.end).max(),
    ) else {
        return Ok(vec![]);
    };
    let longest = chrono::Duration::minutes(i64::from(schedule::MAX_TALK_MINUTES));
    let from = (first - longest).with_timezone(&Utc);
    slots_in(
        store,
        group,
        keys::talk_slots_starting(from, Some(last.with_timezone(&Utc))),
    )
    .await
}

/// A guardian's change is refused once the deadline day has passed in
/// Sweden.
fn check_deadline(clock: &dyn Clock, deadline: NaiveDate) -> Result<(), TalksError> {
    if clock.today() > deadline {
        Err(TalksError::DeadlinePassed(deadline))
    } else {
        Ok(())
    }
}

#[allow(clippy::too_many_arguments)]
fn notice(
    recipient: PersonId,
    change: TalkChange,
    pupil_id: PersonId,
    round_id: TalkRoundId,
    pupil_name: &str,
    time: &TalkTime,
    previous: Option<&TalkTime>,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Write, StoreError> {
    let item = outbox::message_item(
        OutboxId::generate(),
        recipient,
        Notice::Talk {
            change,
            pupil_id,
            round_id,
            pupil_name: pupil_name.to_string(),
            time: time.clone(),
            previous: previous.cloned(),
            reason: reason.map(str::to_string),
        },
        now,
    )?;
    Ok(Write::Put(item, Condition::MustNotExist))
}

/// Created talk times: the round and its new slots.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Created {
    pub round: TalkRound,
    pub slots: Vec<TalkSlot>,
}

/// E1: staff create talk times for a group, as a new round or added to
/// an existing one, whose deadline then applies. New slots may not overlap
/// the group's existing slots.
pub async fn create_times(
    store: &dyn Store,
    clock: &dyn Clock,
    caller: &PersonRecord,
    group_id: GroupId,
    new: NewTalkTimes,
) -> Result<Created, TalksError> {
    let group = group(store, group_id).await?;
    let children = children_in_group(store, caller, &group).await?;
    decide(policy::manage_talks(caller, &group, &children))?;
    // The request's own checks, once: input that cannot be created costs
    // no read, and a retry does not repeat them.
    let spans = schedule::split(&new, clock.today())?;

    for _ in 0..ATTEMPTS {
        let attempt = try_create_times(store, clock, caller, &group, new.round, &spans, &new.venue);
        if let Some(created) = attempt.await? {
            return Ok(created);
        }
        pause_before_retry().await;
    }
    Err(TalksError::Contended)
}

/// One attempt of [`create_times`]: `None` when the group's schedule
/// changed meanwhile.
async fn try_create_times(
    store: &dyn Store,
    clock: &dyn Clock,
    caller: &PersonRecord,
    group: &Group,
    target: TargetRound,
    spans: &[schedule::Span],
    venue: &Venue,
) -> Result<Option<Created>, TalksError> {
    let group_id = group.id;
    // The schedule's version is read before the slots: a creation that
    // commits after this read changes it, so our write fails and we read
    // again; one that committed before it is in the slots read next.
    let schedule_key = keys::talk_schedule(group_id);
    let mut wanted = vec![schedule_key.clone()];
    if let TargetRound::Existing(id) = target {
        wanted.push(keys::talk_round(group_id, id));
    }
    let read = store.get_many(&wanted).await?;
    let schedule_version = read
        .iter()
        .find(|item| item.key == schedule_key)
        .map(|item| item.version);
    let now = clock.now();
    let (round, round_version) = match target {
        TargetRound::Existing(id) => {
            let (mut round, version) = read
                .iter()
                .find(|item| item.key == keys::talk_round(group_id, id))
                .map(|item| Ok::<_, StoreError>((item.parse::<TalkRound>()?, item.version)))
                .transpose()?
                .ok_or_else(|| invalid("roundId", "not a talk round of this group"))?;
            round.widen(spans.iter().map(|span| span.start));
            (round, Some(version))
        }
        TargetRound::New(deadline) => {
            let round = TalkRound {
                id: TalkRoundId::generate(),
                group_id,
                school_id: group.school_id,
                booking_deadline: deadline,
                created_by: caller.id(),
                created_at: now,
                first_start: spans.iter().map(|span| span.start).min(),
                last_start: spans.iter().map(|span| span.start).max(),
            };
            (round, None)
        }
    };
    let existing = slots_around(store, group_id, spans).await?;
    for span in spans {
        if let Some((slot, _)) = existing
            .iter()
            .find(|(s, _)| span.overlaps(s.time.start, s.time.end))
        {
            return Err(TalksError::OverlapsSlot {
                field: format!("days[{}].start", span.day),
                existing: slot.id,
            });
        }
    }
    let slots: Vec<TalkSlot> = spans
        .iter()
        .map(|span| TalkSlot {
            id: SlotId::starting_at(&span.start),
            round_id: round.id,
            group_id,
            school_id: group.school_id,
            time: TalkTime {
                start: span.start,
                end: span.end,
                place: venue.place.clone(),
                video_link: venue.video_link.clone(),
            },
            booking_deadline: round.booking_deadline,
            booking: None,
        })
        .collect();
    let mut writes = Vec::with_capacity(slots.len() + 2);
    // Every creation rewrites the group's schedule item on the version
    // read with the slots: of two overlapping creations at one moment,
    // the second fails here, reads again and finds the overlap.
    let schedule = Item::new(
        keys::talk_schedule(group_id),
        keys::TALK_SCHEDULE,
        &serde_json::json!({ "changedAt": now }),
    )?;
    writes.push(match schedule_version {
        Some(v) => Write::Put(
            Item {
                version: v + 1,
                ..schedule
            },
            Condition::VersionEquals(v),
        ),
        None => Write::Put(schedule, Condition::MustNotExist),
    });
    // The round, with its stretch of starts widened to the new slots: on
    // the version read, when times are added to it.
    let round_item = Item::new(
        keys::talk_round(group_id, round.id),
        keys::TALK_ROUND,
        &round,
    )?;
    writes.push(match round_version {
        None => Write::Put(round_item, Condition::MustNotExist),
        Some(v) => Write::Put(
            Item {
                version: v + 1,
                ..round_item
            },
            Condition::VersionEquals(v),
        ),
    });
    for slot in &slots {
        writes.push(Write::Put(slot.to_item(1)?, Condition::MustNotExist));
    }
    match store.transact(&writes).await {
        Ok(()) => Ok(Some(Created { round, slots })),
        // The schedule or the round changed since read: read again.
        Err(StoreError::TransactionConditionFailed { index: 0 | 1, .. } | StoreError::Conflict) => {
            Ok(None)
        }
        Err(e) => Err(e.into()),
    }
}

/// E1: a page of the group's slots, by start: staff see every slot with
/// its booking; a family the open slots and their own children's from
/// today on. One query of the slots, `limit` at most, so the answer stays
/// the size of a page however many rounds the group has had. A family's
/// page may hold fewer than `limit` slots (others' bookings are left out);
/// follow `next_cursor`.
pub async fn list_slots(
    store: &dyn Store,
    clock: &dyn Clock,
    caller: &PersonRecord,
    group_id: GroupId,
    limit: u32,
    cursor: Option<String>,
) -> Result<ListPage<TalkSlot>, TalksError> {
    let view = match crate::audience::family_of_group(store, caller, group_id).await? {
        // A guardian or pupil: the group is not read.
        Some(family) => policy::read_talk_slots_as_family(&family),
        None => {
            let group = group(store, group_id).await?;
            let children = children_in_group(store, caller, &group).await?;
            policy::read_talk_slots(caller, &group, &children)
        }
    }
    .map_err(|d| match d {
        Decision::Forbidden => TalksError::Forbidden,
        _ => TalksError::NotFound,
    })?;
    let from = match view {
        SlotView::Staff => None,
        SlotView::Family(_) => Some(clock.start_of_today()),
    };
    let page = store
        .query(
            &Query::partition(keys::talks_partition(group_id))
                .sort(keys::talk_slots_from(from))
                .limit(limit)
                .after(cursor),
        )
        .await?;
    let mut items = Vec::with_capacity(page.items.len());
    for item in &page.items {
        if item.entity != keys::TALK_SLOT {
            continue;
        }
        let slot: TalkSlot = item.parse()?;
        let sees = match (&view, &slot.booking) {
            (SlotView::Staff, _) | (SlotView::Family(_), None) => true,
            (SlotView::Family(children), Some(b)) => children.contains(&b.pupil_id),
        };
        if sees {
            items.push(slot);
        }
    }
    Ok(ListPage {
        items,
        next_cursor: page.next,
    })
}

async fn pupil_record(store: &dyn Store, pupil: PersonId) -> Result<PersonRecord, TalksError> {
    directory::person_record(store, pupil)
        .await?
        .ok_or(TalksError::NotFound)
}

/// The slot with this id in one of the pupil's groups (one BatchGetItem),
/// with its version; `NotFound` when there is none.
async fn slot_for_pupil(
    store: &dyn Store,
    pupil: &PersonRecord,
    slot: SlotId,
) -> Result<(TalkSlot, u64), TalksError> {
    let keys: Vec<_> = pupil.groups().map(|g| keys::talk_slot(g, slot)).collect();
    if keys.is_empty() {
        return Err(TalksError::NotFound);
    }
    let item = store
        .get_many(&keys)
        .await?
        .into_iter()
        .next()
        .ok_or(TalksError::NotFound)?;
    Ok((item.parse()?, item.version))
}

async fn booking_of(
    store: &dyn Store,
    pupil: PersonId,
    round: TalkRoundId,
) -> Result<Option<(Booking, u64)>, TalksError> {
    Ok(match store.get(&keys::talk_booking(pupil, round)).await? {
        Some(item) => Some((item.parse()?, item.version)),
        None => None,
    })
}

/// E1: a guardian books a slot for their child: one booking per pupil and
/// round, a slot never twice. The guardian gets a confirmation e-mail.
pub async fn book(
    store: &dyn Store,
    clock: &dyn Clock,
    caller: &PersonRecord,
    pupil_id: PersonId,
    slot_id: SlotId,
) -> Result<Booking, TalksError> {
    let pupil = pupil_record(store, pupil_id).await?;
    decide(policy::book_talk(caller, &pupil))?;
    let pupil_name = pupil.person.full_name();
    for _ in 0..ATTEMPTS {
        let (mut slot, version) = slot_for_pupil(store, &pupil, slot_id).await?;
        check_deadline(clock, slot.booking_deadline)?;
        match &slot.booking {
            Some(b) if b.pupil_id == pupil_id => return Err(TalksError::AlreadyBooked(slot.id)),
            Some(_) => return Err(TalksError::SlotTaken),
            None => {}
        }
        let now = clock.now();
        slot.booking = Some(SlotBooking {
            pupil_id,
            pupil_name: pupil_name.clone(),
            booked_by: caller.id(),
            booked_at: now,
        });
        let booking = Booking {
            pupil_id,
            round_id: slot.round_id,
            group_id: slot.group_id,
            slot_id: slot.id,
            time: slot.time.clone(),
            booking_deadline: slot.booking_deadline,
            booked_by: caller.id(),
            booked_at: now,
        };
        let writes = [
            Write::Put(
                slot.to_item(version + 1)?,
                Condition::VersionEquals(version),
            ),
            Write::Put(booking.to_item(1)?, Condition::MustNotExist),
            notice(
                caller.id(),
                TalkChange::Booked,
                pupil_id,
                slot.round_id,
                &pupil_name,
                &slot.time,
                None,
                None,
                now,
            )?,
        ];
        match store.transact(&writes).await {
            Ok(()) => return Ok(booking),
            // The slot changed since we read it: read it again; taken is 409.
            Err(StoreError::TransactionConditionFailed { index: 0, .. } | StoreError::Conflict) => {
                pause_before_retry().await
            }
            Err(StoreError::TransactionConditionFailed { index: 1, .. }) => {
                let existing = booking_of(store, pupil_id, slot.round_id).await?;
                return Err(match existing {
                    Some((b, _)) => TalksError::AlreadyBooked(b.slot_id),
                    None => TalksError::Contended,
                });
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(TalksError::Contended)
}

/// E1: a guardian moves their child's booking to another open slot of the
/// same round: the old slot is released and the new one taken in one
/// transaction. If the target is taken meanwhile, nothing changes.
pub async fn move_booking(
    store: &dyn Store,
    clock: &dyn Clock,
    caller: &PersonRecord,
    pupil_id: PersonId,
    round_id: TalkRoundId,
    to: SlotId,
) -> Result<Booking, TalksError> {
    let pupil = pupil_record(store, pupil_id).await?;
    decide(policy::book_talk(caller, &pupil))?;
    for _ in 0..ATTEMPTS {
        let (mut booking, booking_version) = booking_of(store, pupil_id, round_id)
            .await?
            .ok_or(TalksError::NotBooked)?;
        check_deadline(clock, booking.booking_deadline)?;
        if booking.slot_id == to {
            return Ok(booking);
        }
        let (mut target, target_version) = slot_for_pupil(store, &pupil, to).await?;
        if target.round_id != round_id {
            return Err(invalid("slotId", "not a slot of this talk round"));
        }
        if target.booking.is_some() {
            return Err(TalksError::SlotTaken);
        }
        let old_key = keys::talk_slot(booking.group_id, booking.slot_id);
        let Some(old_item) = store.get(&old_key).await? else {
            return Err(TalksError::Contended);
        };
        let mut old: TalkSlot = old_item.parse()?;
        if old.booking.as_ref().map(|b| b.pupil_id) != Some(pupil_id) {
            // The booking item and its slot disagree only mid-change.
            pause_before_retry().await;
            continue;
        }
        let previous = old.time.clone();
        let now = clock.now();
        old.booking = None;
        target.booking = Some(SlotBooking {
            pupil_id,
            pupil_name: pupil.person.full_name(),
            booked_by: caller.id(),
            booked_at: now,
        });
        booking.slot_id = target.id;
        booking.group_id = target.group_id;
        booking.time = target.time.clone();
        booking.booked_by = caller.id();
        booking.booked_at = now;
        let writes = [
            Write::Put(
                old.to_item(old_item.version + 1)?,
                Condition::VersionEquals(old_item.version),
            ),
            Write::Put(
                target.to_item(target_version + 1)?,
                Condition::VersionEquals(target_version),
            ),
            Write::Put(
                booking.to_item(booking_version + 1)?,
                Condition::VersionEquals(booking_version),
            ),
            notice(
                caller.id(),
                TalkChange::Moved,
                pupil_id,
                round_id,
                &pupil.person.full_name(),
                &target.time,
                Some(&previous),
                None,
                now,
            )?,
        ];
        match store.transact(&writes).await {
            Ok(()) => return Ok(booking),
            Err(StoreError::TransactionConditionFailed { .. } | StoreError::Conflict) => {
                pause_before_retry().await
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(TalksError::Contended)
}

/// E1: a guardian cancels their child's booking in a round; the slot is
/// open again.
pub async fn cancel(
    store: &dyn Store,
    clock: &dyn Clock,
    caller: &PersonRecord,
    pupil_id: PersonId,
    round_id: TalkRoundId,
) -> Result<Booking, TalksError> {
    let pupil = pupil_record(store, pupil_id).await?;
    decide(policy::book_talk(caller, &pupil))?;
    for _ in 0..ATTEMPTS {
        let (booking, booking_version) = booking_of(store, pupil_id, round_id)
            .await?
            .ok_or(TalksError::NotBooked)?;
        check_deadline(clock, booking.booking_deadline)?;
        let old_key = keys::talk_slot(booking.group_id, booking.slot_id);
        let Some(old_item) = store.get(&old_key).await? else {
            return Err(TalksError::Contended);
        };
        let mut old: TalkSlot = old_item.parse()?;
        if old.booking.as_ref().map(|b| b.pupil_id) != Some(pupil_id) {
            pause_before_retry().await;
            continue;
        }
        old.booking = None;
        let writes = [
            Write::Put(
                old.to_item(old_item.version + 1)?,
                Condition::VersionEquals(old_item.version),
            ),
            Write::Delete(
                keys::talk_booking(pupil_id, round_id),
                Condition::VersionEquals(booking_version),
            ),
            notice(
                caller.id(),
                TalkChange::Cancelled,
                pupil_id,
                round_id,
                &pupil.person.full_name(),
                &old.time,
                None,
                None,
                clock.now(),
            )?,
        ];
        match store.transact(&writes).await {
            Ok(()) => return Ok(booking),
            Err(StoreError::TransactionConditionFailed { .. } | StoreError::Conflict) => {
                pause_before_retry().await
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(TalksError::Contended)
}

/// A pupil of the group who has not booked in a round.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Unbooked {
    pub pupil_id: PersonId,
    pub pupil_name: String,
}

/// One round as staff see it: who booked when, who has not booked.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RoundBookings {
    pub round_id: TalkRoundId,
    pub booking_deadline: NaiveDate,
    pub slots: Vec<TalkSlot>,
    pub not_booked: Vec<Unbooked>,
}

/// E1: the booking list of a group per round, with the pupils who have
/// not booked yet: `limit` rounds a page, the newest first, so the answer
/// stays the size of a page however many rounds the group has had.
pub async fn bookings(
    store: &dyn Store,
    caller: &PersonRecord,
    group_id: GroupId,
    limit: u32,
    cursor: Option<String>,
) -> Result<ListPage<RoundBookings>, TalksError> {
    let group = group(store, group_id).await?;
    let children = children_in_group(store, caller, &group).await?;
    decide(policy::manage_talks(caller, &group, &children))?;
    // The rounds and their slots, and beside them the pupils with their names.
    let roster = async { Ok::<_, TalksError>(roster::group_roster(store, group_id).await?) };
    let (
        RoundsPage {
            rounds,
            slots,
            next,
        },
        members,
    ) = futures_util::future::try_join(rounds_page(store, group_id, limit, cursor), roster).await?;
    // Each slot moves to its round (in start order), not copied.
    let mut by_round: BTreeMap<TalkRoundId, Vec<TalkSlot>> = BTreeMap::new();
    for slot in slots {
        by_round.entry(slot.round_id).or_default().push(slot);
    }
    let items = rounds
        .iter()
        .map(|r| {
            let slots = by_round.remove(&r.id).unwrap_or_default();
            let booked: HashSet<PersonId> = slots
                .iter()
                .filter_map(|s| s.booking.as_ref().map(|b| b.pupil_id))
                .collect();
            let mut not_booked: Vec<Unbooked> = members
                .iter()
                .filter(|m| !booked.contains(&m.pupil_id))
                .map(|m| Unbooked {
                    pupil_id: m.pupil_id,
                    pupil_name: m.name.as_ref().map(|n| n.full_name()).unwrap_or_default(),
                })
                .collect();
            not_booked.sort_by(|a, b| a.pupil_name.cmp(&b.pupil_name));
            RoundBookings {
                round_id: r.id,
                booking_deadline: r.booking_deadline,
                slots,
                not_booked,
            }
        })
        .collect();
    Ok(ListPage {
        items,
        next_cursor: next,
    })
}

/// The day-before reminder of a booked slot (an item of the reminder
/// index): the marker that it was sent and the guardian's notice, to be
/// written in one transaction; `None` for an open slot.
pub fn reminder_writes(
    item: &Item,
    now: DateTime<Utc>,
) -> Result<Option<(crate::store::Key, Write)>, StoreError> {
    let slot: TalkSlot = item.parse()?;
    let Some(b) = &slot.booking else {
        return Ok(None);
    };
    let marker = keys::reminder_sent(
        slot.day(),
        &format!("{}#{}", slot.reminder_name(), b.pupil_id),
    );
    let notice = notice(
        b.booked_by,
        TalkChange::Reminder,
        b.pupil_id,
        slot.round_id,
        &b.pupil_name,
        &slot.time,
        None,
        None,
        now,
    )?;
    Ok(Some((marker, notice)))
}

/// The longest reason for removing a booked slot.
pub const MAX_REASON_CHARS: usize = 500;

/// E1: staff remove a slot. A booked slot needs a reason: its booking goes
/// with it and the guardian who booked is told why.
pub async fn remove_slot(
    store: &dyn Store,
    clock: &dyn Clock,
    caller: &PersonRecord,
    group_id: GroupId,
    slot_id: SlotId,
    reason: Option<String>,
) -> Result<TalkSlot, TalksError> {
    let group = group(store, group_id).await?;
    let children = children_in_group(store, caller, &group).await?;
    decide(policy::manage_talks(caller, &group, &children))?;
    for _ in 0..ATTEMPTS {
        let item = store
            .get(&keys::talk_slot(group_id, slot_id))
            .await?
            .ok_or(TalksError::NotFound)?;
        let slot: TalkSlot = item.parse()?;
        let mut writes = vec![Write::Delete(
            item.key.clone(),
            Condition::VersionEquals(item.version),
        )];
        if let Some(b) = &slot.booking {
            let Some(reason) = reason.as_deref() else {
                return Err(invalid(
                    "reason",
                    "required: the slot is booked and the guardian will be told why",
                ));
            };
            // The slot's version guards the booking: every change of the
            // booking changes the slot too.
            writes.push(Write::Delete(
                keys::talk_booking(b.pupil_id, slot.round_id),
                Condition::None,
            ));
            writes.push(notice(
                b.booked_by,
                TalkChange::Removed,
                b.pupil_id,
                slot.round_id,
                &b.pupil_name,
                &slot.time,
                None,
                Some(reason),
                clock.now(),
            )?);
        }
        match store.transact(&writes).await {
            Ok(()) => return Ok(slot),
            Err(StoreError::TransactionConditionFailed { .. } | StoreError::Conflict) => {
                pause_before_retry().await
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(TalksError::Contended)
}

fn when(time: &TalkTime) -> String {
    let start = time
        .start
        .with_timezone(&chrono_tz::Europe::Stockholm)
        .format("%Y-%m-%d %H:%M");
    let end = time
        .end
        .with_timezone(&chrono_tz::Europe::Stockholm)
        .format("%H:%M");
    format!("{start}-{end}")
}

fn where_text(time: &TalkTime) -> String {
    [time.place.as_deref(), time.video_link.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(", ")
}

/// Subject and text of a talk notice (F5: Swedish by default).
pub fn render_notice(
    change: TalkChange,
    pupil_name: &str,
    time: &TalkTime,
    previous: Option<&TalkTime>,
    reason: Option<&str>,
    lang: Language,
) -> (String, String) {
    let at = when(time);
    let place = where_text(time);
    match lang {
        Language::Sv => {
            let (subject, first) = match change {
                TalkChange::Booked => ("Utvecklingssamtal bokat", "är bokat"),
                TalkChange::Moved => ("Utvecklingssamtal flyttat", "är flyttat till"),
                TalkChange::Cancelled => ("Utvecklingssamtal avbokat", "är avbokat"),
                TalkChange::Removed => (
                    "Utvecklingssamtal inställt",
                    "är inställt av skolan; boka gärna en ny tid",
                ),
                TalkChange::Reminder => ("Påminnelse: utvecklingssamtal i morgon", "är i morgon"),
            };
            let mut text =
                format!("Hej!\n\nUtvecklingssamtalet för {pupil_name} {first}: {at} ({place}).\n");
            if let Some(p) = previous {
                text.push_str(&format!("Tidigare tid: {}.\n", when(p)));
            }
            if let Some(r) = reason {
                text.push_str(&format!("Orsak: {r}\n"));
            }
            text.push_str("\nMed vänliga hälsningar\nSkolnav\n");
            (format!("{subject}: {pupil_name}, {at}"), text)
        }
        Language::En => {
            let (subject, first) = match change {
                TalkChange::Booked => ("Development talk booked", "is booked"),
                TalkChange::Moved => ("Development talk moved", "is moved to"),
                TalkChange::Cancelled => ("Development talk cancelled", "is cancelled"),
                TalkChange::Removed => (
                    "Development talk called off",
                    "was called off by the school; please book a new time",
                ),
                TalkChange::Reminder => ("Reminder: development talk tomorrow", "is tomorrow"),
            };
            let mut text = format!(
                "Hello,\n\nThe development talk for {pupil_name} {first}: {at} ({place}).\n"
            );
            if let Some(p) = previous {
                text.push_str(&format!("Earlier time: {}.\n", when(p)));
            }
            if let Some(r) = reason {
                text.push_str(&format!("Reason: {r}\n"));
            }
            text.push_str("\nKind regards\nSkolnav\n");
            (format!("{subject}: {pupil_name}, {at}"), text)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn time() -> TalkTime {
        TalkTime {
            start: DateTime::parse_from_rfc3339("2026-12-02T14:00:00+01:00").unwrap(),
            end: DateTime::parse_from_rfc3339("2026-12-02T14:30:00+01:00").unwrap(),
            place: Some("Rum 12".into()),
            video_link: None,
        }
    }

    #[test]
    fn a_booking_notice_names_the_pupil_the_time_and_the_place_in_swedish() {
        let (subject, text) = render_notice(
            TalkChange::Booked,
            "Alva Berg",
            &time(),
            None,
            None,
            Language::Sv,
        );
        assert_eq!(
            subject,
            "Utvecklingssamtal bokat: Alva Berg, 2026-12-02 14:00-14:30"
        );
        assert!(text.contains("(Rum 12)"), "{text}");
    }

    #[test]
    fn a_removal_notice_gives_the_reason_in_english_on_request() {
        let (subject, text) = render_notice(
            TalkChange::Removed,
            "Alva Berg",
            &time(),
            None,
            Some("Mentor sick"),
            Language::En,
        );
        assert!(subject.starts_with("Development talk called off"));
        assert!(text.contains("Reason: Mentor sick"));
    }

    #[test]
    fn a_slot_serializes_its_time_flat_with_the_swedish_offset() {
        let slot = TalkSlot {
            id: SlotId::generate(),
            round_id: TalkRoundId::generate(),
            group_id: GroupId::generate(),
            school_id: SchoolId::generate(),
            time: time(),
            booking_deadline: NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
            booking: None,
        };
        let json = serde_json::to_value(&slot).unwrap();
        assert_eq!(json["start"], "2026-12-02T14:00:00+01:00");
        assert!(json.get("booking").is_none());
        let back: TalkSlot = serde_json::from_value(json).unwrap();
        assert_eq!(back, slot);
    }
}
