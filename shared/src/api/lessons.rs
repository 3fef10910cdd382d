//! Handlers for the schedule's day views (A4): parse, call the domain,
//! render.

use super::{Call, Ctx, Problem, Reply};
use crate::ids::{GroupId, PersonId};
use crate::lessons::{self, LessonsError};
use chrono::NaiveDate;

impl From<LessonsError> for Problem {
    fn from(e: LessonsError) -> Self {
        match e {
            LessonsError::NotFound => Problem::not_found(),
            LessonsError::Forbidden => Problem::forbidden(),
            LessonsError::Store(e) => e.into(),
        }
    }
}

/// `?date=YYYY-MM-DD`, or today in Europe/Stockholm.
fn date(ctx: &Ctx, call: &Call) -> Result<NaiveDate, Problem> {
    match call.query.get("date") {
        None => Ok(ctx.clock.today()),
        Some(v) => NaiveDate::parse_from_str(v, "%Y-%m-%d")
            .map_err(|_| Problem::invalid_input("date", "a date as YYYY-MM-DD")),
    }
}

/// GET /teachers/{personId}/lessons
pub async fn teacher_day(ctx: &Ctx, call: Call) -> Result<Reply, Problem> {
    let teacher = call.id("personId", PersonId::parse)?;
    let day = date(ctx, &call)?;
    let view = lessons::teacher_day(ctx.store.as_ref(), &call.caller, teacher, day).await?;
    Reply::ok(view)
}

/// GET /groups/{groupId}/lessons
pub async fn group_day(ctx: &Ctx, call: Call) -> Result<Reply, Problem> {
    let group = call.id("groupId", GroupId::parse)?;
    let day = date(ctx, &call)?;
    let view = lessons::group_day(ctx.store.as_ref(), &call.caller, group, day).await?;
    Reply::ok(view)
}

/// GET /me/lessons/unreported: the caller's lessons of the last 14 days
/// not yet reported.
pub async fn unreported(ctx: &Ctx, call: Call) -> Result<Reply, Problem> {
    let items = lessons::unreported(ctx.store.as_ref(), &call.caller, ctx.clock.now()).await?;
    #[derive(serde::Serialize)]
    struct Unreported<T> {
        days: u64,
        items: Vec<T>,
    }
    Reply::ok(Unreported {
        days: lessons::UNREPORTED_DAYS,
        items,
    })
}
