//! Reading the student registry over SS 12000 v2.1: the wire format
//! ([`wire`]) and the objects after validation ([`records`]).

pub mod records;
pub mod wire;
