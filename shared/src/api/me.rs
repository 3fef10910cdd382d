//! GET /me: who the caller is to Skolnav, and the relations that decide
//! what they may do. Clients use it to choose what to show.

use super::{Call, Ctx, Problem, Reply};
use serde_json::json;

pub async fn me(_ctx: &Ctx, call: Call) -> Result<Reply, Problem> {
    Reply::ok(json!({
        "person": call.caller.person,
        "relations": call.caller.relations,
    }))
}
