//! Helpers shared by the test modules.

pub mod logs;
pub mod reliability;
pub mod snapshot;
