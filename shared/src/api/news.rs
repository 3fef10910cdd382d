//! Handlers for news (C3): parse, call the domain, render.

use super::blog::TextBody;
use super::{Call, Ctx, Problem, Reply};
use crate::audience::AudienceBody;
use crate::ids::{GroupId, SchoolId};
use crate::news::{self, Draft, NewsError};
use chrono::{DateTime, Utc};
use serde::Deserialize;

impl From<NewsError> for Problem {
    fn from(e: NewsError) -> Self {
        match e {
            NewsError::NotFound => Problem::not_found(),
            NewsError::Forbidden => Problem::forbidden(),
            NewsError::NotAddressable { field } => Problem::not_addressable(field),
            NewsError::Invalid(f) => f.into(),
            NewsError::Attachment(e) => e.into(),
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
    /// Files uploaded through `POST /files`: an image, attachments.
    #[serde(default)]
    attachments: Vec<String>,
}

/// POST /news
pub async fn publish(ctx: &Ctx, call: Call) -> Result<Reply, Problem> {
    let body = call.json::<PublishBody>()?;
    let text = TextBody {
        title: body.title,
        body: body.body,
    }
    .parse()?;
    let audience = body.audience.parse("audience")?;
    let draft = Draft {
        title: text.title,
        body: text.body,
        publish_at: body.publish_at,
        attachments: super::blog::file_ids(&body.attachments, "attachments")?,
    };
    let published = news::publish(
        ctx.store.as_ref(),
        ctx.files.as_ref(),
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
