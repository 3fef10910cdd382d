//! Handlers for the calendar (C1): parse, call the domain, render.

use super::{Call, Ctx, Problem, Reply};
use crate::audience::AudienceBody;
use crate::calendar::{
    self, CalendarError, Details, Every, MAX_DESCRIPTION_CHARS, MAX_SUBJECT_CHARS, MAX_TITLE_CHARS,
    Range, Repeat, When,
};
use crate::ids::{GroupId, SchoolId};
use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// How far ahead a calendar read looks when `to` is not given.
const DEFAULT_DAYS: i64 = 31;

impl From<CalendarError> for Problem {
    fn from(e: CalendarError) -> Self {
        match e {
            CalendarError::NotFound => Problem::not_found(),
            CalendarError::Forbidden => Problem::forbidden(),
            CalendarError::NotAddressable { field } => Problem::not_addressable(field),
            CalendarError::Invalid(f) => f.into(),
            CalendarError::Attachment(e) => e.into(),
            CalendarError::Store(e) => e.into(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct AllDayBody {
    first_day: NaiveDate,
    last_day: Option<NaiveDate>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RepeatBody {
    every: Every,
    until: NaiveDate,
}

/// An event as clients send it: all day (`allDay`) or timed (`start` and
/// `end`, wall-clock times in Europe/Stockholm).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CreateBody {
    audience: AudienceBody,
    title: String,
    #[serde(default)]
    description: String,
    subject: Option<String>,
    all_day: Option<AllDayBody>,
    start: Option<NaiveDateTime>,
    end: Option<NaiveDateTime>,
    repeat: Option<RepeatBody>,
    #[serde(default)]
    reminder: bool,
    /// Files uploaded through `POST /files`.
    #[serde(default)]
    attachments: Vec<String>,
}

fn within(field: &str, text: &str, max: usize, required: bool) -> Result<(), Problem> {
    let n = text.chars().count();
    if (required && text.trim().is_empty()) || n > max {
        let least = if required { 1 } else { 0 };
        return Err(Problem::invalid_input(
            field,
            format!("{least} to {max} characters"),
        ));
    }
    Ok(())
}

impl CreateBody {
    fn details(&self) -> Result<Details, Problem> {
        let title = self.title.trim().to_string();
        within("title", &title, MAX_TITLE_CHARS, true)?;
        within(
            "description",
            &self.description,
            MAX_DESCRIPTION_CHARS,
            false,
        )?;
        let subject = self
            .subject
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty());
        if let Some(s) = subject {
            within("subject", s, MAX_SUBJECT_CHARS, true)?;
        }
        let when = match (&self.all_day, self.start, self.end) {
            (Some(day), None, None) => When::AllDay {
                first_day: day.first_day,
                last_day: day.last_day.unwrap_or(day.first_day),
            },
            (None, Some(start), Some(end)) => When::Timed { start, end },
            (None, None, Some(_)) | (None, None, None) => {
                return Err(Problem::invalid_input(
                    "start",
                    "required, with end (or allDay)",
                ));
            }
            (None, Some(_), None) => {
                return Err(Problem::invalid_input("end", "required with start"));
            }
            (Some(_), _, _) => {
                return Err(Problem::invalid_input(
                    "allDay",
                    "either allDay or start and end",
                ));
            }
        };
        Ok(Details {
            title,
            description: self.description.trim_end().to_string(),
            subject: subject.map(str::to_string),
            when,
            repeat: self.repeat.as_ref().map(|r| Repeat {
                every: r.every,
                until: r.until,
            }),
            reminder: self.reminder,
        })
    }
}

/// POST /calendar/events
pub async fn create(ctx: &Ctx, call: Call) -> Result<Reply, Problem> {
    let body = call.json::<CreateBody>()?;
    let details = body.details()?;
    let audience = body.audience.parse("audience")?;
    let attachments = super::blog::file_ids(&body.attachments, "attachments")?;
    let created = calendar::create(
        ctx.store.as_ref(),
        ctx.files.as_ref(),
        ctx.clock.as_ref(),
        &call.caller,
        &audience,
        details,
        &attachments,
    )
    .await?;
    Reply::created(created)
}

/// `?from=` and `?to=` (YYYY-MM-DD), by default today and a month on.
fn range(ctx: &Ctx, call: &Call) -> Result<Range, Problem> {
    let date = |name: &str| -> Result<Option<NaiveDate>, Problem> {
        call.query
            .get(name)
            .map(|v| {
                v.parse::<NaiveDate>()
                    .map_err(|_| Problem::invalid_input(name, "a date, YYYY-MM-DD"))
            })
            .transpose()
    };
    let from = date("from")?.unwrap_or_else(|| ctx.clock.today());
    let to = date("to")?.unwrap_or(from + chrono::Duration::days(DEFAULT_DAYS));
    Ok(Range::new(from, to)?)
}

/// GET /groups/{groupId}/calendar
pub async fn group(ctx: &Ctx, call: Call) -> Result<Reply, Problem> {
    let group = call.id("groupId", GroupId::parse)?;
    let range = range(ctx, &call)?;
    let events = calendar::group_calendar(ctx.store.as_ref(), &call.caller, group, range).await?;
    Reply::ok(InRange {
        from: range.from,
        to: range.to,
        items: events,
    })
}

/// GET /schools/{schoolId}/calendar
pub async fn school(ctx: &Ctx, call: Call) -> Result<Reply, Problem> {
    let school = call.id("schoolId", SchoolId::parse)?;
    let range = range(ctx, &call)?;
    let events = calendar::school_calendar(ctx.store.as_ref(), &call.caller, school, range).await?;
    Reply::ok(InRange {
        from: range.from,
        to: range.to,
        items: events,
    })
}

/// The events of a range of days, with the range.
#[derive(Serialize)]
struct InRange<T> {
    from: NaiveDate,
    to: NaiveDate,
    items: Vec<T>,
}

/// POST /me/calendar-feed: a new secret feed URL for the caller (the one
/// they had stops working). The token is shown once.
pub async fn create_feed(ctx: &Ctx, call: Call) -> Result<Reply, Problem> {
    let token =
        calendar::feed::create(ctx.store.as_ref(), call.caller.id(), ctx.clock.now()).await?;
    Reply::created(json!({ "path": format!("/calendar/feeds/{token}") }))
}

/// DELETE /me/calendar-feed: the caller's feed URL stops working.
pub async fn revoke_feed(ctx: &Ctx, call: Call) -> Result<Reply, Problem> {
    if !calendar::feed::revoke(ctx.store.as_ref(), call.caller.id()).await? {
        return Err(Problem::not_found());
    }
    Reply::ok(json!({ "revoked": true }))
}

/// GET /calendar/feeds/{token}: the token's holder's events and talks, as
/// `text/calendar` (the route is authenticated by the token).
pub async fn feed(ctx: &Ctx, call: Call) -> Result<Reply, Problem> {
    let contents =
        calendar::feed::contents_of(ctx.store.as_ref(), &call.caller, ctx.clock.today()).await?;
    Reply::calendar(calendar::feed::render(&contents, ctx.clock.now()))
}
