//! Handlers for development talks (E1): parse, call the domain, render.

use super::{Call, Ctx, Problem, Reply};
use crate::ids::{GroupId, PersonId, SlotId, TalkRoundId};
use crate::talks::{self, NewTalkTimes, Refusal, TalkDay, TalksError, TargetRound, Venue};
use chrono::{NaiveDate, NaiveTime};
use http::StatusCode;
use serde::Deserialize;
use serde_json::json;

pub const MAX_PLACE_CHARS: usize = 200;
pub const MAX_DAYS: usize = 20;

impl From<TalksError> for Problem {
    fn from(e: TalksError) -> Self {
        match e {
            TalksError::NotFound => Problem::not_found(),
            TalksError::Forbidden => Problem::forbidden(),
            TalksError::Refused(Refusal::Invalid(f)) | TalksError::Invalid(f) => {
                Problem::invalid_input(&f.field, f.message)
            }
            TalksError::Refused(Refusal::OutsideWindow(f)) => Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "talk-outside-window",
                "Talk times and deadlines must be today or later",
            )
            .detail(format!("{}: {}", f.field, f.message))
            .invalid(f.field, f.message),
            TalksError::OverlapsSlot { field, existing } => Problem::new(
                StatusCode::CONFLICT,
                "talk-slot-overlaps",
                "The group already has a talk at this time",
            )
            .detail(format!("{field}: overlaps slot {existing}"))
            .invalid(field, "overlaps an existing slot of the group")
            .extension("existingSlotId", json!(existing.to_string())),
            TalksError::SlotTaken => Problem::new(
                StatusCode::CONFLICT,
                "talk-slot-taken",
                "This time has just been booked by someone else; choose another",
            ),
            TalksError::AlreadyBooked(slot) => Problem::new(
                StatusCode::CONFLICT,
                "talk-already-booked",
                "The pupil already has a talk booked in this round; move it instead",
            )
            .extension("bookedSlotId", json!(slot.to_string())),
            TalksError::NotBooked => Problem::new(
                StatusCode::CONFLICT,
                "talk-not-booked",
                "The pupil has no talk booked in this round",
            ),
            TalksError::DeadlinePassed(deadline) => Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "talk-booking-closed",
                "The booking deadline has passed; contact the mentor to change the time",
            )
            .detail(format!("the booking deadline {deadline} has passed"))
            .extension("bookingDeadline", json!(deadline.to_string())),
            TalksError::Contended => Problem::unavailable(),
            TalksError::Store(e) => e.into(),
        }
    }
}

/// One day of talk times as staff send it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct DayBody {
    date: NaiveDate,
    start: String,
    end: String,
    talk_minutes: u32,
    #[serde(default)]
    break_minutes: u32,
}

/// The body of "create talk times".
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CreateBody {
    days: Vec<DayBody>,
    place: Option<String>,
    video_link: Option<String>,
    booking_deadline: Option<NaiveDate>,
    round_id: Option<String>,
}

fn time(field: String, value: &str) -> Result<NaiveTime, Problem> {
    NaiveTime::parse_from_str(value, "%H:%M")
        .map_err(|_| Problem::invalid_input(&field, "a time of day as HH:MM"))
}

fn text(field: &str, value: Option<String>) -> Result<Option<String>, Problem> {
    let value = value
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty());
    if value
        .as_ref()
        .is_some_and(|v| v.chars().count() > MAX_PLACE_CHARS)
    {
        return Err(Problem::invalid_input(
            field,
            format!("at most {MAX_PLACE_CHARS} characters"),
        ));
    }
    Ok(value)
}

impl CreateBody {
    fn parse(self) -> Result<NewTalkTimes, Problem> {
        if self.days.len() > MAX_DAYS {
            return Err(Problem::invalid_input(
                "days",
                format!("at most {MAX_DAYS} days"),
            ));
        }
        let mut days = Vec::with_capacity(self.days.len());
        for (i, d) in self.days.into_iter().enumerate() {
            days.push(TalkDay {
                date: d.date,
                start: time(format!("days[{i}].start"), &d.start)?,
                end: time(format!("days[{i}].end"), &d.end)?,
                talk_minutes: d.talk_minutes,
                break_minutes: d.break_minutes,
            });
        }
        let video_link = text("videoLink", self.video_link)?;
        if video_link
            .as_ref()
            .is_some_and(|v| !v.starts_with("https://") || v.contains(char::is_whitespace))
        {
            return Err(Problem::invalid_input(
                "videoLink",
                "an https:// link without spaces",
            ));
        }
        let round = match (self.round_id, self.booking_deadline) {
            (Some(_), Some(_)) => {
                return Err(Problem::invalid_input(
                    "bookingDeadline",
                    "not with roundId: the round's deadline applies",
                ));
            }
            (None, None) => return Err(Problem::invalid_input("bookingDeadline", "required")),
            (Some(id), None) => TargetRound::Existing(
                TalkRoundId::parse(&id)
                    .ok_or_else(|| Problem::invalid_input("roundId", "not a valid id"))?,
            ),
            (None, Some(deadline)) => TargetRound::New(deadline),
        };
        Ok(NewTalkTimes {
            days,
            venue: Venue {
                place: text("place", self.place)?,
                video_link,
            },
            round,
        })
    }
}

/// POST /groups/{groupId}/talks
pub async fn create(ctx: &Ctx, call: Call) -> Result<Reply, Problem> {
    let group = call.id("groupId", GroupId::parse)?;
    let new = call.json::<CreateBody>()?.parse()?;
    let created = talks::create_times(
        ctx.store.as_ref(),
        ctx.clock.as_ref(),
        &call.caller,
        group,
        new,
    )
    .await?;
    Reply::created(created)
}

/// GET /groups/{groupId}/talks/slots
pub async fn slots(ctx: &Ctx, call: Call) -> Result<Reply, Problem> {
    let group = call.id("groupId", GroupId::parse)?;
    let limit = call.limit(50, 100)?;
    let page = talks::list_slots(
        ctx.store.as_ref(),
        ctx.clock.as_ref(),
        &call.caller,
        group,
        limit,
        call.cursor(),
    )
    .await?;
    Reply::ok(page)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SlotBody {
    slot_id: String,
}

impl SlotBody {
    fn slot(&self) -> Result<SlotId, Problem> {
        SlotId::parse(&self.slot_id)
            .ok_or_else(|| Problem::invalid_input("slotId", "not a valid id"))
    }
}

/// POST /pupils/{pupilId}/talk-bookings
pub async fn book(ctx: &Ctx, call: Call) -> Result<Reply, Problem> {
    let pupil = call.id("pupilId", PersonId::parse)?;
    let slot = call.json::<SlotBody>()?.slot()?;
    let booking = talks::book(
        ctx.store.as_ref(),
        ctx.clock.as_ref(),
        &call.caller,
        pupil,
        slot,
    )
    .await?;
    Reply::created(booking)
}

/// PUT /pupils/{pupilId}/talk-bookings/{roundId}
pub async fn move_booking(ctx: &Ctx, call: Call) -> Result<Reply, Problem> {
    let pupil = call.id("pupilId", PersonId::parse)?;
    let round = call.id("roundId", TalkRoundId::parse)?;
    let slot = call.json::<SlotBody>()?.slot()?;
    let booking = talks::move_booking(
        ctx.store.as_ref(),
        ctx.clock.as_ref(),
        &call.caller,
        pupil,
        round,
        slot,
    )
    .await?;
    Reply::ok(booking)
}

/// DELETE /pupils/{pupilId}/talk-bookings/{roundId}
pub async fn cancel(ctx: &Ctx, call: Call) -> Result<Reply, Problem> {
    let pupil = call.id("pupilId", PersonId::parse)?;
    let round = call.id("roundId", TalkRoundId::parse)?;
    let booking = talks::cancel(
        ctx.store.as_ref(),
        ctx.clock.as_ref(),
        &call.caller,
        pupil,
        round,
    )
    .await?;
    Reply::ok(booking)
}

/// GET /groups/{groupId}/talks/bookings
pub async fn bookings(ctx: &Ctx, call: Call) -> Result<Reply, Problem> {
    let group = call.id("groupId", GroupId::parse)?;
    let limit = call.limit(1, 100)?;
    let page = talks::bookings(
        ctx.store.as_ref(),
        &call.caller,
        group,
        limit,
        call.cursor(),
    )
    .await?;
    Reply::ok(page)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RemoveBody {
    reason: Option<String>,
}

/// DELETE /groups/{groupId}/talks/slots/{slotId}, with an optional JSON
/// body `{"reason": ...}` (required when the slot is booked).
pub async fn remove_slot(ctx: &Ctx, call: Call) -> Result<Reply, Problem> {
    let group = call.id("groupId", GroupId::parse)?;
    let slot = call.id("slotId", SlotId::parse)?;
    let reason = if call.body.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        call.json::<RemoveBody>()?
            .reason
            .map(|r| r.trim().to_string())
            .filter(|r| !r.is_empty())
    };
    if reason
        .as_ref()
        .is_some_and(|r| r.chars().count() > talks::MAX_REASON_CHARS)
    {
        return Err(Problem::invalid_input(
            "reason",
            format!("at most {} characters", talks::MAX_REASON_CHARS),
        ));
    }
    let removed = talks::remove_slot(
        ctx.store.as_ref(),
        ctx.clock.as_ref(),
        &call.caller,
        group,
        slot,
        reason,
    )
    .await?;
    Reply::ok(removed)
}
