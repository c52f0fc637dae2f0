//! tthc-sync: reconciles a province's one-stop dossier system with the National Public Service
//! Portal, flags every sync discrepancy with what it costs in the 766 score, and reports.
//!
//! See ARCHITECTURE.md for the map.

pub mod calendar;
pub mod clock;
pub mod config;
pub mod csv;
pub mod cycle;
pub mod daemon;
#[cfg(feature = "sim")]
pub mod demo;
pub mod dossier_view;
pub mod freshness;
pub mod http;
pub mod lifecycle;
pub mod model;
pub mod plan;
pub mod pull;
pub mod reconcile;
pub mod report;
pub mod schedule;
pub mod scores;
pub mod scoring;
#[cfg(feature = "sim")]
pub mod sim;
pub mod source;
pub mod store;
pub mod sync;
pub mod timeliness;
