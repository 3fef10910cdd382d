//! Handlers for the import's API (A3): an organisation admin starts a run
//! and reads run records.

use super::{Call, Ctx, Problem, Reply};
use crate::ids::{ImportRunId, OrganisationId};
use crate::import::record;
use crate::import::request::{self, ImportRequest};
use crate::policy::{self, Decision};
use http::StatusCode;
use serde::Deserialize;

fn allowed(call: &Call) -> Result<OrganisationId, Problem> {
    let organisation = call.id("organisationId", OrganisationId::parse)?;
    match policy::manage_imports(&call.caller, organisation) {
        Decision::Allow => Ok(organisation),
        Decision::Forbidden => Err(Problem::forbidden()),
        Decision::NotFound => Err(Problem::not_found()),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct StartBody {
    #[serde(default)]
    dry_run: bool,
    #[serde(default)]
    full: bool,
}

/// POST /organisations/{organisationId}/imports: 202 with the run's id;
/// the run record says how it went.
pub async fn start(ctx: &Ctx, call: Call) -> Result<Reply, Problem> {
    allowed(&call)?;
    let body: StartBody = if call.body.is_empty() {
        StartBody::default()
    } else {
        call.json()?
    };
    let req = ImportRequest {
        run_id: ImportRunId::generate(),
        dry_run: body.dry_run,
        full: body.full,
        requested_by: call.caller.id(),
        requested_at: ctx.clock.now(),
    };
    let record = request::request(ctx.store.as_ref(), &req).await?;
    Reply::with_status(StatusCode::ACCEPTED, record)
}

/// GET /organisations/{organisationId}/imports: the newest run records.
pub async fn list(ctx: &Ctx, call: Call) -> Result<Reply, Problem> {
    allowed(&call)?;
    let limit = call.limit(20, 100)?;
    let runs = record::recent(ctx.store.as_ref(), limit).await?;
    #[derive(serde::Serialize)]
    struct Runs<T> {
        runs: Vec<T>,
    }
    Reply::ok(Runs { runs })
}

/// GET /organisations/{organisationId}/imports/{runId}
pub async fn get(ctx: &Ctx, call: Call) -> Result<Reply, Problem> {
    allowed(&call)?;
    let run = call.id("runId", ImportRunId::parse)?;
    match record::get(ctx.store.as_ref(), run).await? {
        Some(r) => Reply::ok(r),
        None => Err(Problem::not_found()),
    }
}
