//! Handlers for a school's SMS credit (B6): parse, call the domain, render.

use super::{Call, Ctx, Problem, Reply};
use crate::alerts::credit::{self, CreditError, SmsCredit};
use crate::ids::SchoolId;
use http::StatusCode;
use serde::{Deserialize, Serialize};

impl From<CreditError> for Problem {
    fn from(e: CreditError) -> Self {
        match e {
            CreditError::NotFound => Problem::not_found(),
            CreditError::Forbidden => Problem::forbidden(),
            CreditError::Invalid { field, message } => Problem::invalid_input(field, message),
            CreditError::Conflict => Problem::new(
                StatusCode::CONFLICT,
                "changed-meanwhile",
                "The credit changed meanwhile; try again",
            ),
            CreditError::Store(e) => e.into(),
        }
    }
}

/// The credit with what the administrators should be told.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CreditView {
    #[serde(flatten)]
    credit: SmsCredit,
    #[serde(skip_serializing_if = "Option::is_none")]
    warning: Option<&'static str>,
}

impl From<SmsCredit> for CreditView {
    fn from(credit: SmsCredit) -> Self {
        CreditView {
            warning: credit.warning(),
            credit,
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct TopUp {
    add: u32,
}

/// GET /schools/{schoolId}/sms-credit
pub async fn get(ctx: &Ctx, call: Call) -> Result<Reply, Problem> {
    let school = call.id("schoolId", SchoolId::parse)?;
    let credit = credit::get(ctx.store.as_ref(), &call.caller, school).await?;
    Reply::ok(CreditView::from(credit))
}

/// POST /schools/{schoolId}/sms-credit
pub async fn top_up(ctx: &Ctx, call: Call) -> Result<Reply, Problem> {
    let school = call.id("schoolId", SchoolId::parse)?;
    let body = call.json::<TopUp>()?;
    let credit = credit::top_up(
        ctx.store.as_ref(),
        ctx.clock.as_ref(),
        &call.caller,
        school,
        body.add,
    )
    .await?;
    Reply::ok(CreditView::from(credit))
}
