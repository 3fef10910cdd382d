//! Reading the student registry over SS 12000 v2.1: the objects after
//! validation ([`records`]).

pub mod records;
