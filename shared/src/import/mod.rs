//! The nightly import from the student registry (SS 12000), A3: keeps
//! schools, groups, pupils, guardians and staff in step with the registry.
//!
//! - Writes only what changed: each registry object's items are hashed and
//!   the hash is kept beside the keys it wrote ([`plan`], state items
//!   `SS12000#<object>#<id>`), so an unchanged object costs a read and no
//!   write, and an item an object no longer needs is deleted.
//! - Never imports a protected person (securityMarking other than `Ingen`):
//!   counts them, keeps nothing of theirs, and drops references to them.
//! - Ends pupils who left, never erases them; a school whose run would end
//!   more than a share of its pupils is held back whole ([`run`]).
//! - Each run writes a [`record`]; a dry run writes nothing else. One run
//!   at a time (a lease item); a run that dies is safe to start again.

mod id_set;
pub mod plan;
pub mod record;
pub mod request;
mod run;
pub mod source;

pub use run::{ImportError, Options, Outcome, run};
