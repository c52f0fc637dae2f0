//! `tthc-sync probe`: the first contact with the real portals, read-only. It logs in to each
//! side, reads a sample of provincial rows and looks a sample of them up on the national
//! portal, checks the published scores, and says what of the profile and the config needs
//! adapting — with key names, counts and value *shapes*, never a value of a row. It never
//! opens the database.
//!
//! [`analysis`] is pure (sampled replies in, findings out); [`driver`] does the calls.

pub mod analysis;
pub mod driver;
pub mod files;
pub mod text;

pub use driver::{probe, ProbeError, ProbeOptions, ProbeReport, Reach};
pub use files::write_files;
