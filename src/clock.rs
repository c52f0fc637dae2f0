//! The wall clock in +07:00 ([`local_now`]) and the [`Clock`] a sync cycle reads it through,
//! so that tests can fix the time. The pure modules are given "now" as a parameter.

use std::sync::Arc;

use chrono::Timelike;

use crate::model::LocalTime;

/// The clock a cycle reads: production passes [`local_now`]; tests may pass a fixed time.
pub type Clock = Arc<dyn Fn() -> LocalTime + Send + Sync>;

/// Wall-clock time now in +07:00, to the second.
pub fn local_now() -> LocalTime {
    chrono::Utc::now()
        .with_timezone(&crate::model::vn_offset())
        .naive_local()
        .with_nanosecond(0)
        .expect("valid")
}
