//! tthc-sync: reconciles a province's one-stop dossier system with the National Public Service
//! Portal, flags every sync discrepancy with what it costs in the 766 score, and reports.
//!
//! See ARCHITECTURE.md for the map.

pub mod daemon;
pub mod http;
pub mod model;
pub mod plan;
