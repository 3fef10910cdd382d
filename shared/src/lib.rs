//! Skolnav: the domain, the authorization policy, the ports and their
//! adapters. Functions (functions/) and the local server (local/) are thin
//! shells around this crate.

pub mod clock;
pub mod ids;
pub mod keys;
pub mod store;
