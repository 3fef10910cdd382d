//! Skolnav: the domain, the authorization policy, the ports and their
//! adapters. Functions (functions/) and the local server (local/) are thin
//! shells around this crate.

pub mod absence;
pub mod alerts;
pub mod api;
pub mod attendance;
pub mod audience;
pub mod auth;
#[cfg(any(feature = "dynamodb", feature = "ses", feature = "sns", feature = "s3"))]
pub mod aws;
pub mod blog;
pub mod calendar;
pub mod child_places;
pub mod clock;
pub mod demo;
pub mod devkeys;
pub mod directory;
pub mod files;
pub mod http_client;
pub mod ids;
pub mod import;
pub mod init_code;
pub mod keys;
#[cfg(feature = "lambda")]
pub mod lambda;
pub mod lessons;
pub mod mail;
pub mod news;
pub mod notices;
pub mod outbox;
pub mod policy;
pub mod relocations;
pub mod reminders;
pub mod reports;
pub mod roster;
pub mod school_settings;
pub mod sms;
pub mod ss12000;
pub mod store;
pub mod talks;
