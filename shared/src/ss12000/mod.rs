//! Reading the student registry over SS 12000 v2.1: the wire format
//! ([`wire`]), the client that pages through it ([`client`]), validation of
//! each row ([`validate`]) into the objects the import works with
//! ([`records`]).

pub mod client;
pub mod records;
pub mod validate;
pub mod wire;
