//! Handlers for the group blog (C2): parse, call the domain, render.
//! There is no comment handler: guardians (and pupils) only read.

use super::{Call, Ctx, Problem, Reply};
use crate::audience::{AudienceBody, FieldError};
use crate::blog::{self, BlogError, MAX_BODY_CHARS, MAX_TITLE_CHARS, PostText};
use crate::ids::{FileId, GroupId, PostId};
use http::StatusCode;
use serde::Deserialize;
use serde_json::json;

impl From<FieldError> for Problem {
    fn from(e: FieldError) -> Self {
        Problem::invalid_input(&e.field, e.message)
    }
}

impl From<BlogError> for Problem {
    fn from(e: BlogError) -> Self {
        match e {
            BlogError::NotFound => Problem::not_found(),
            BlogError::Forbidden => Problem::forbidden(),
            BlogError::NotAddressable { field } => Problem::not_addressable(field),
            BlogError::Invalid(f) => f.into(),
            BlogError::Contended => Problem::new(
                StatusCode::CONFLICT,
                "post-changed",
                "The post was changed at the same moment; reload it and try again",
            ),
            BlogError::Attachment(e) => e.into(),
            BlogError::Store(e) => e.into(),
        }
    }
}

/// Title and body as clients send them (a blog post's, a news item's).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct TextBody {
    pub(super) title: String,
    pub(super) body: String,
}

impl TextBody {
    pub(super) fn parse(self) -> Result<PostText, Problem> {
        let title = self.title.trim().to_string();
        if title.is_empty() || title.chars().count() > MAX_TITLE_CHARS {
            return Err(Problem::invalid_input(
                "title",
                format!("1 to {MAX_TITLE_CHARS} characters"),
            ));
        }
        let body = self.body.trim_end().to_string();
        if body.trim().is_empty() || body.chars().count() > MAX_BODY_CHARS {
            return Err(Problem::invalid_input(
                "body",
                format!("1 to {MAX_BODY_CHARS} characters"),
            ));
        }
        Ok(PostText { title, body })
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct PublishBody {
    audience: AudienceBody,
    title: String,
    body: String,
    #[serde(default)]
    attachments: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct EditBody {
    title: String,
    body: String,
    /// The new list of files; absent keeps the list as it is.
    #[serde(default)]
    attachments: Option<Vec<String>>,
}

/// File ids as sent (`attachments[i]`), each a well-formed id.
pub(super) fn file_ids(ids: &[String], field: &str) -> Result<Vec<FileId>, Problem> {
    if ids.len() > crate::files::MAX_ATTACHMENTS {
        return Err(Problem::invalid_input(
            field,
            format!("at most {} files", crate::files::MAX_ATTACHMENTS),
        ));
    }
    ids.iter()
        .enumerate()
        .map(|(i, id)| {
            FileId::parse(id)
                .ok_or_else(|| Problem::invalid_input(&format!("{field}[{i}]"), "not a valid id"))
        })
        .collect()
}

/// POST /blog/posts
pub async fn publish(ctx: &Ctx, call: Call) -> Result<Reply, Problem> {
    let body = call.json::<PublishBody>()?;
    let audience = body.audience.parse("audience")?;
    let text = TextBody {
        title: body.title,
        body: body.body,
    }
    .parse()?;
    let attachments = file_ids(&body.attachments, "attachments")?;
    let published = blog::publish(
        ctx.store.as_ref(),
        ctx.files.as_ref(),
        ctx.clock.as_ref(),
        &call.caller,
        &audience,
        text,
        &attachments,
    )
    .await?;
    Reply::created(published)
}

/// GET /groups/{groupId}/posts
pub async fn feed(ctx: &Ctx, call: Call) -> Result<Reply, Problem> {
    let group = call.id("groupId", GroupId::parse)?;
    let limit = call.limit(20, 100)?;
    let feed = blog::feed(
        ctx.store.as_ref(),
        &call.caller,
        group,
        limit,
        call.cursor(),
    )
    .await?;
    Reply::ok(feed)
}

/// PUT /groups/{groupId}/posts/{postId}
pub async fn edit(ctx: &Ctx, call: Call) -> Result<Reply, Problem> {
    let group = call.id("groupId", GroupId::parse)?;
    let post = call.id("postId", PostId::parse)?;
    let body = call.json::<EditBody>()?;
    let text = TextBody {
        title: body.title,
        body: body.body,
    }
    .parse()?;
    let attachments = body
        .attachments
        .as_deref()
        .map(|ids| file_ids(ids, "attachments"))
        .transpose()?;
    let view = blog::edit(
        ctx.store.as_ref(),
        ctx.files.as_ref(),
        ctx.clock.as_ref(),
        &call.caller,
        group,
        post,
        text,
        attachments.as_deref(),
    )
    .await?;
    Reply::ok(view)
}

/// DELETE /groups/{groupId}/posts/{postId}
pub async fn delete(ctx: &Ctx, call: Call) -> Result<Reply, Problem> {
    let group = call.id("groupId", GroupId::parse)?;
    let post = call.id("postId", PostId::parse)?;
    blog::delete(
        ctx.store.as_ref(),
        ctx.files.as_ref(),
        &call.caller,
        group,
        post,
    )
    .await?;
    Reply::ok(json!({ "id": post, "deleted": true }))
}
