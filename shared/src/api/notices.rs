//! Handlers for the caller's own in-app notices (C7). Every route is under
//! /me: a person reaches only their own notices, by key.

use super::{Call, Ctx, Problem, Reply};
use crate::ids::NoticeId;
use crate::notices::{self, MarkReadError};
use serde_json::json;

impl From<MarkReadError> for Problem {
    fn from(e: MarkReadError) -> Self {
        match e {
            MarkReadError::NotFound => Problem::not_found(),
            MarkReadError::Store(e) => e.into(),
        }
    }
}

/// GET /me/notices: unread notices, newest first.
pub async fn unread(ctx: &Ctx, call: Call) -> Result<Reply, Problem> {
    let limit = call.limit(20, 100)?;
    let page = notices::unread(ctx.store.as_ref(), call.caller.id(), limit, call.cursor()).await?;
    Reply::ok(page)
}

/// GET /me/feed: everything addressed to the caller, read or not,
/// newest first: one query of their own notices.
pub async fn feed(ctx: &Ctx, call: Call) -> Result<Reply, Problem> {
    let limit = call.limit(20, 100)?;
    let page = notices::feed(ctx.store.as_ref(), call.caller.id(), limit, call.cursor()).await?;
    Reply::ok(page)
}

/// POST /me/notices/{noticeId}/read
pub async fn mark_read(ctx: &Ctx, call: Call) -> Result<Reply, Problem> {
    let id = call.id("noticeId", NoticeId::parse)?;
    let notice =
        notices::mark_read(ctx.store.as_ref(), call.caller.id(), id, ctx.clock.now()).await?;
    Reply::ok(notice)
}

/// GET /me/notices/unread-count
pub async fn unread_count(ctx: &Ctx, call: Call) -> Result<Reply, Problem> {
    let count = notices::unread_count(ctx.store.as_ref(), call.caller.id()).await?;
    Reply::ok(json!({ "unread": count }))
}
