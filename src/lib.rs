//! tthc-sync: reconciles a province's one-stop dossier system with the National Public Service
//! Portal, flags every sync discrepancy with what it costs in the 766 score, and reports.
//!
//! See ARCHITECTURE.md for the map and docs/domain.md for the rules the code implements.
//!
//! The modules, in the order data flows through them:
//! - the vocabulary: [`model`] (the canonical dossier, national statuses, months),
//!   [`config`], [`profile`] (the provincial vendors' profiles, as data), [`carries`] (which
//!   dates a vendor fills for which statuses), [`clock`],
//!   [`schedule`] (cron expressions);
//! - the portals: [`http`] (the one HTTP policy), [`source`] (both clients),
//!   [`scores`] (the published 766 scores);
//! - the store: [`store`], the only module that speaks SQL;
//! - the rules, pure: [`calendar`] (working time), [`timeliness`] (the on-time rule),
//!   [`scoring`] (tallies, score, impact), [`reconcile`] (findings), [`lifecycle`]
//!   (open → acknowledged → resolved), [`plan`] (which dossiers to look up), [`freshness`];
//! - one sync cycle: [`cycle`] (its context), [`pull`] (the provincial side), [`sync`] (the
//!   look-ups, the national list, the reconciliation pass);
//! - the outputs: [`report`] (the monthly report), [`dossier_view`] (one dossier for review),
//!   [`csv`], [`discrepancy_export`];
//! - the service: [`daemon`] (schedules, health endpoint, systemd), [`web`] (the review
//!   web page: accounts, sessions, pages);
//! - the simulators of both portals (`sim`) and `tthc-sync demo` (`demo`).

#![warn(missing_docs)]

mod atomic_file;
pub mod calendar;
pub mod carries;
pub mod clock;
pub mod config;
pub mod csv;
pub mod cycle;
pub mod daemon;
#[cfg(feature = "sim")]
pub mod demo;
pub mod discrepancy_export;
pub mod dossier_view;
pub mod facts;
pub mod freshness;
pub mod http;
pub mod lifecycle;
pub mod model;
pub mod plan;
pub mod probe;
pub mod profile;
pub mod pull;
mod quote;
pub mod reconcile;
pub mod report;
pub mod schedule;
pub mod scores;
pub mod scoring;
pub(crate) mod serve;
#[cfg(feature = "sim")]
pub mod sim;
pub mod source;
pub mod store;
pub mod sync;
pub mod timeliness;
pub mod timestamp;
pub mod web;
