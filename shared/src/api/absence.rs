//! Handlers for absence (B1, B2, B5): parse, call the domain, render.

use super::{Call, Ctx, Problem, Reply};
use crate::absence::{self, AbsenceError, AbsenceReport, NewReport, Period, Reason};
use crate::ids::{PersonId, ReportId, SchoolId};
use crate::store::ListPage;
use chrono::{NaiveDate, NaiveTime};
use http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::json;

pub const MAX_NOTE_CHARS: usize = 500;

impl From<AbsenceError> for Problem {
    fn from(e: AbsenceError) -> Self {
        match e {
            AbsenceError::NotFound => Problem::not_found(),
            AbsenceError::Forbidden => Problem::forbidden(),
            AbsenceError::Overlaps(existing) => Problem::new(
                StatusCode::CONFLICT,
                "absence-overlaps",
                "An absence report already covers this time",
            )
            .detail(format!("report {existing} covers part of this period"))
            .extension("existingReportId", json!(existing.to_string())),
            AbsenceError::OutsideWindow { field, message } => Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "absence-outside-window",
                "Absence can be reported from today up to 30 days ahead",
            )
            .detail(format!("{field}: {message}"))
            .invalid(field, message),
            AbsenceError::NotEnrolled => Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "pupil-not-enrolled",
                "The pupil is not enrolled at a school",
            ),
            AbsenceError::Contended => Problem::unavailable(),
            AbsenceError::Store(e) => e.into(),
        }
    }
}

/// The body of B1 as a guardian sends it. Either whole days
/// (`firstDay`, optional `lastDay`) or part of one day (`day`, `fromTime`,
/// `toTime` as HH:MM).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ReportBody {
    first_day: Option<NaiveDate>,
    last_day: Option<NaiveDate>,
    day: Option<NaiveDate>,
    from_time: Option<String>,
    to_time: Option<String>,
    reason: Reason,
    note: Option<String>,
}

fn time(field: &str, value: &str) -> Result<NaiveTime, Problem> {
    NaiveTime::parse_from_str(value, "%H:%M")
        .map_err(|_| Problem::invalid_input(field, "a time of day as HH:MM"))
}

impl ReportBody {
    fn parse(self) -> Result<NewReport, Problem> {
        let period = match (self.first_day, self.day) {
            (Some(_), Some(_)) => {
                return Err(Problem::invalid_input(
                    "day",
                    "give either firstDay (whole days) or day (part of a day), not both",
                ));
            }
            (None, None) => {
                return Err(Problem::invalid_input(
                    "firstDay",
                    "required (or day with fromTime and toTime)",
                ));
            }
            (Some(first_day), None) => {
                if let Some(field) = [("fromTime", &self.from_time), ("toTime", &self.to_time)]
                    .iter()
                    .find_map(|(name, v)| v.is_some().then_some(*name))
                {
                    return Err(Problem::invalid_input(
                        field,
                        "only with day (part of a day), not with firstDay",
                    ));
                }
                let last_day = self.last_day.unwrap_or(first_day);
                if last_day < first_day {
                    return Err(Problem::invalid_input(
                        "lastDay",
                        "must not be before firstDay",
                    ));
                }
                Period::WholeDays {
                    first_day,
                    last_day,
                }
            }
            (None, Some(day)) => {
                if self.last_day.is_some() {
                    return Err(Problem::invalid_input(
                        "lastDay",
                        "only with firstDay (whole days), not with day",
                    ));
                }
                let from = time(
                    "fromTime",
                    self.from_time
                        .as_deref()
                        .ok_or_else(|| Problem::invalid_input("fromTime", "required with day"))?,
                )?;
                let to = time(
                    "toTime",
                    self.to_time
                        .as_deref()
                        .ok_or_else(|| Problem::invalid_input("toTime", "required with day"))?,
                )?;
                if to <= from {
                    return Err(Problem::invalid_input("toTime", "must be after fromTime"));
                }
                Period::PartOfDay { day, from, to }
            }
        };
        let note = self
            .note
            .map(|n| n.trim().to_string())
            .filter(|n| !n.is_empty());
        if note
            .as_ref()
            .is_some_and(|n| n.chars().count() > MAX_NOTE_CHARS)
        {
            return Err(Problem::invalid_input(
                "note",
                format!("at most {MAX_NOTE_CHARS} characters"),
            ));
        }
        Ok(NewReport {
            period,
            reason: self.reason,
            note,
        })
    }
}

/// POST /pupils/{pupilId}/absence-reports
pub async fn report(ctx: &Ctx, call: Call) -> Result<Reply, Problem> {
    let pupil = call.id("pupilId", PersonId::parse)?;
    let new = call.json::<ReportBody>()?.parse()?;
    let report = absence::report(
        ctx.store.as_ref(),
        ctx.clock.as_ref(),
        &call.caller,
        pupil,
        new,
    )
    .await?;
    Reply::created(report)
}

/// GET /pupils/{pupilId}/absence-reports
pub async fn list(ctx: &Ctx, call: Call) -> Result<Reply, Problem> {
    let pupil = call.id("pupilId", PersonId::parse)?;
    let limit = call.limit(50, 100)?;
    let (items, next) = absence::list_for_pupil(
        ctx.store.as_ref(),
        &call.caller,
        pupil,
        call.cursor(),
        limit,
    )
    .await?;
    Reply::ok(ListPage {
        items,
        next_cursor: next,
    })
}

/// POST /pupils/{pupilId}/absence-reports/{reportId}/approve
pub async fn approve(ctx: &Ctx, call: Call) -> Result<Reply, Problem> {
    let pupil = call.id("pupilId", PersonId::parse)?;
    let report = call.id("reportId", ReportId::parse)?;
    let approval = absence::approve(
        ctx.store.as_ref(),
        ctx.clock.as_ref(),
        &call.caller,
        pupil,
        report,
    )
    .await?;
    Reply::ok(approval.report)
}

/// GET /schools/{schoolId}/absence-reports/pending
pub async fn pending(ctx: &Ctx, call: Call) -> Result<Reply, Problem> {
    let school = call.id("schoolId", SchoolId::parse)?;
    let limit = call.limit(50, 100)?;
    let (items, next) = absence::pending_for_school(
        ctx.store.as_ref(),
        &call.caller,
        school,
        call.cursor(),
        limit,
    )
    .await?;
    Reply::ok(PendingPage {
        count: items.len(),
        items,
        next_cursor: next,
    })
}

/// GET /schools/{schoolId}/absence-today
pub async fn today(ctx: &Ctx, call: Call) -> Result<Reply, Problem> {
    let school = call.id("schoolId", SchoolId::parse)?;
    let (date, items) =
        absence::today_for_school(ctx.store.as_ref(), ctx.clock.as_ref(), &call.caller, school)
            .await?;
    Reply::ok(DayList {
        date,
        count: items.len(),
        items,
    })
}

/// One day's list with the day and its length (B5).
#[derive(Serialize)]
struct DayList<T> {
    date: NaiveDate,
    count: usize,
    items: Vec<T>,
}

/// A page of the reports waiting for approval (B2). `count` is the page's,
/// what the staff's badge shows, with a "+" while `nextCursor` is set.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PendingPage {
    count: usize,
    items: Vec<AbsenceReport>,
    next_cursor: Option<String>,
}
