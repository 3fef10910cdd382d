//! Absence over a period (B4) and the absence reports (B7). The
//! arithmetic is in [`tally`]; the CSV dialect in [`csv`].

pub mod csv;
pub mod tally;
