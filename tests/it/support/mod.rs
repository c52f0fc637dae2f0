//! Helpers shared by the test modules.

pub mod config;
pub mod logs;
pub mod reliability;
pub mod snapshot;
pub mod web;
