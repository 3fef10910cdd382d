//! Handlers for news (C3): parse, call the domain, render.

use super::{Call, Ctx, Problem, Reply};
use crate::audience::AudienceBody;
use crate::ids::{GroupId, SchoolId};
use crate::news::{self, Draft, MAX_BODY_CHARS, MAX_TITLE_CHARS, NewsError};
use chrono::{DateTime, Utc};
use serde::Deserialize;

impl From<NewsError> for Problem {
    fn from(e: NewsError) -> Self {
        match e {
            NewsError::NotFound => Problem::not_found(),
            NewsError::Forbidden => Problem::forbidden(),
            NewsError::NotAddressable { field } => Problem::not_addressable(field),
            NewsError::Invalid(f) => f.into(),
            NewsError::Store(e) => e.into(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct PublishBody {
    audience: AudienceBody,
    title: String,
    body: String,
    /// When it shows (RFC 3339); now when absent or past.
    publish_at: Option<DateTime<Utc>>,
}

/// POST /news
pub async fn publish(ctx: &Ctx, call: Call) -> Result<Reply, Problem> {
    let body = call.json::<PublishBody>()?;
    let title = body.title.trim().to_string();
    if title.is_empty() || title.chars().count() > MAX_TITLE_CHARS {
        return Err(Problem::invalid_input(
            "title",
            format!("1 to {MAX_TITLE_CHARS} characters"),
        ));
    }
    let text = body.body.trim_end().to_string();
    if text.trim().is_empty() || text.chars().count() > MAX_BODY_CHARS {
        return Err(Problem::invalid_input(
            "body",
            format!("1 to {MAX_BODY_CHARS} characters"),
        ));
    }
    let audience = body.audience.parse("audience")?;
    let draft = Draft {
        title,
        body: text,
        publish_at: body.publish_at,
    };
    let published = news::publish(
        ctx.store.as_ref(),
        ctx.clock.as_ref(),
        &call.caller,
        &audience,
        draft,
    )
    .await?;
    Reply::created(published)
}

/// GET /schools/{schoolId}/news
pub async fn school(ctx: &Ctx, call: Call) -> Result<Reply, Problem> {
    let school = call.id("schoolId", SchoolId::parse)?;
    let limit = call.limit(20, 100)?;
    let feed = news::school_feed(
        ctx.store.as_ref(),
        ctx.clock.as_ref(),
        &call.caller,
        school,
        limit,
        call.cursor(),
    )
    .await?;
    Reply::ok(feed)
}

/// GET /groups/{groupId}/news
pub async fn group(ctx: &Ctx, call: Call) -> Result<Reply, Problem> {
    let group = call.id("groupId", GroupId::parse)?;
    let limit = call.limit(20, 100)?;
    let feed = news::group_feed(
        ctx.store.as_ref(),
        ctx.clock.as_ref(),
        &call.caller,
        group,
        limit,
        call.cursor(),
    )
    .await?;
    Reply::ok(feed)
}
