//! Absence over a period (B4) and the absence reports (B7). The
//! arithmetic is in [`tally`].

pub mod tally;
