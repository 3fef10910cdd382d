//! Handlers for absence over a period (B4) and the absence reports (B7):
//! parse, call the domain (which authorizes), render as JSON or, with
//! `?format=csv`, as CSV for Swedish Excel. A query parameter rather than
//! `Accept`, so that a plain link downloads the file.

use super::{Call, Ctx, Problem, Reply};
use crate::ids::{GroupId, PersonId, SchoolId};
use crate::reports::{self, Period, ReportError, export};
use chrono::NaiveDate;

impl From<ReportError> for Problem {
    fn from(e: ReportError) -> Self {
        match e {
            ReportError::NotFound => Problem::not_found(),
            ReportError::Forbidden => Problem::forbidden(),
            ReportError::Invalid { field, message } => Problem::invalid_input(&field, message),
            ReportError::Store(e) => e.into(),
        }
    }
}

/// `?from=` and `?to=`, both required (YYYY-MM-DD), at most
/// [`reports::MAX_DAYS`] days.
fn period(call: &Call) -> Result<Period, Problem> {
    let date = |name: &str| -> Result<NaiveDate, Problem> {
        let v = call
            .query
            .get(name)
            .ok_or_else(|| Problem::invalid_input(name, "required, a date as YYYY-MM-DD"))?;
        NaiveDate::parse_from_str(v, "%Y-%m-%d")
            .map_err(|_| Problem::invalid_input(name, "a date as YYYY-MM-DD"))
    };
    let from = date("from")?;
    let to = date("to")?;
    Ok(Period::new(from, to)?)
}

/// `?format=json` (the default) or `?format=csv`.
fn csv_wanted(call: &Call) -> Result<bool, Problem> {
    match call.query.get("format").map(String::as_str) {
        None | Some("json") => Ok(false),
        Some("csv") => Ok(true),
        Some(_) => Err(Problem::invalid_input("format", "json or csv")),
    }
}

/// The most pupils `?pupils=` names: more than any group holds.
const MAX_PUPILS: usize = 200;

/// `?pupils=id,id`: some of the group's pupils, or all without it.
fn pupils(call: &Call) -> Result<Option<Vec<PersonId>>, Problem> {
    let Some(list) = call.query.get("pupils") else {
        return Ok(None);
    };
    let ids: Vec<&str> = list.split(',').map(str::trim).collect();
    if ids.len() > MAX_PUPILS {
        return Err(Problem::invalid_input(
            "pupils",
            format!("at most {MAX_PUPILS} ids"),
        ));
    }
    ids.iter()
        .enumerate()
        .map(|(i, s)| {
            PersonId::parse(s)
                .ok_or_else(|| Problem::invalid_input(&format!("pupils[{i}]"), "not a valid id"))
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

fn filename(what: &str, period: Period) -> String {
    format!("{what}-{}-{}.csv", period.from, period.to)
}

/// GET /groups/{groupId}/absence (B4)
pub async fn group_absence(ctx: &Ctx, call: Call) -> Result<Reply, Problem> {
    let group = call.id("groupId", GroupId::parse)?;
    let period = period(&call)?;
    let only = pupils(&call)?;
    let csv = csv_wanted(&call)?;
    let view = reports::group_absence(
        ctx.store.as_ref(),
        &call.caller,
        group,
        period,
        only.as_deref(),
        ctx.clock.now(),
    )
    .await?;
    if csv {
        Reply::csv(
            &filename("franvaro-dagar", period),
            export::group_absence(&view),
        )
    } else {
        Reply::ok(view)
    }
}

/// GET /groups/{groupId}/absence-report (B7)
pub async fn group_report(ctx: &Ctx, call: Call) -> Result<Reply, Problem> {
    let group = call.id("groupId", GroupId::parse)?;
    let period = period(&call)?;
    let csv = csv_wanted(&call)?;
    let report = reports::group_report(
        ctx.store.as_ref(),
        &call.caller,
        group,
        period,
        ctx.clock.now(),
    )
    .await?;
    if csv {
        Reply::csv(
            &filename("franvaro-grupp", period),
            export::group_report(&report),
        )
    } else {
        Reply::ok(report)
    }
}

/// GET /pupils/{pupilId}/absence-report (B7)
pub async fn pupil_report(ctx: &Ctx, call: Call) -> Result<Reply, Problem> {
    let pupil = call.id("pupilId", PersonId::parse)?;
    let period = period(&call)?;
    let csv = csv_wanted(&call)?;
    let report = reports::pupil_report(
        ctx.store.as_ref(),
        &call.caller,
        pupil,
        period,
        ctx.clock.now(),
    )
    .await?;
    if csv {
        Reply::csv(
            &filename("franvaro-elev", period),
            export::pupil_report(&report),
        )
    } else {
        Reply::ok(report)
    }
}

/// GET /schools/{schoolId}/unreported-lessons (B7)
pub async fn school_unreported(ctx: &Ctx, call: Call) -> Result<Reply, Problem> {
    let school = call.id("schoolId", SchoolId::parse)?;
    let period = period(&call)?;
    let csv = csv_wanted(&call)?;
    let report = reports::school_unreported(
        ctx.store.as_ref(),
        &call.caller,
        school,
        period,
        ctx.clock.now(),
    )
    .await?;
    if csv {
        Reply::csv(
            &filename("ej-rapporterade-lektioner", period),
            export::school_unreported(&report),
        )
    } else {
        Reply::ok(report)
    }
}
