//! Helpers shared by the test modules.

pub mod config;
pub mod logs;
pub mod reliability;
pub mod snapshot;
pub mod web;

/// A local time (+07:00) from its parts, to the minute.
pub fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> tthc_sync::model::LocalTime {
    chrono::NaiveDate::from_ymd_opt(y, mo, d)
        .and_then(|d| d.and_hms_opt(h, mi, 0))
        .expect("a valid date and time")
}
