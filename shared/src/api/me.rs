//! GET /me: who the caller is to Skolnav, and the relations that decide
//! what they may do. Clients use it to choose what to show. And the
//! caller's own preferences (language, e-mail per kind of notice).

use super::{Call, Ctx, Problem, Reply};
use crate::directory::{self, Preferences};
use serde_json::json;

pub async fn me(_ctx: &Ctx, call: Call) -> Result<Reply, Problem> {
    Reply::ok(json!({
        "person": call.caller.person,
        "relations": call.caller.relations,
    }))
}

/// GET /me/preferences
pub async fn preferences(_ctx: &Ctx, call: Call) -> Result<Reply, Problem> {
    Reply::ok(Preferences::of(&call.caller.person))
}

/// PUT /me/preferences: the whole set, every field required, so a client
/// never changes a choice it did not show.
pub async fn set_preferences(ctx: &Ctx, call: Call) -> Result<Reply, Problem> {
    let wanted: Preferences = call.json()?;
    let person = directory::set_preferences(ctx.store.as_ref(), call.caller.id(), wanted)
        .await?
        .ok_or_else(Problem::not_found)?;
    Reply::ok(Preferences::of(&person))
}
