//! Vendor habits: how real one-stop systems write correct data differently — none of them is a
//! sync fault, so none is in the ground truth, and a discrepancy they cause is a false positive.
//! Switched on by `WorldParams::vendor_habits`; off, every row is written in the
//! simulator's one canonical form.
//!
//! - A withdrawn (7) or stopped (8) dossier has a closing time the province pushed and the portal
//!   shows (`NgayKetThucXuLy`); a vendor whose profile's `[carries]` says it does not write that
//!   date for the status leaves it empty in its rows — as it does any date its `[carries]`
//!   leaves out (docs/profiles.md, "What a vendor carries").
//! - *Beyond* the profile (a vendor the profile does not know well): every [`BEYOND_EVERY`]-th
//!   resolved (9) dossier has no finish time although the profile says it is carried. That is a
//!   `finish_date_mismatch` of severity `low` (nothing the portal counts or shows changes), not
//!   listed by default, so it is no false positive of the default listing.
//! - Time-zone forms (iGate): `+0700`, `+0000` (UTC), `Z` (UTC) or no offset (local time).
//! - Dates in the other formats the profile lists (OpenCPS without seconds, td with
//!   milliseconds).
//! - Label-only statuses (iGate): no `dossierStatus.id`, the label in another case or with
//!   spaces around it.
//!
//! The national simulator always varies its replies (`result` or `data`, `error_code` as
//! number or string, status as code or label, several date forms): `super::national`.

use chrono::{SecondsFormat, Utc};
use serde_json::Value;

use super::records::{SimDossier, SimProfile};
use crate::carries::{Carries, DateField};
use crate::model::{vn_offset, LocalTime, Status};
use crate::profile::Profile;

/// Every this many resolved (9) dossiers, one has no finish time where its profile says the
/// vendor writes one.
pub const BEYOND_EVERY: usize = 7;

/// The province's true closing time of a withdrawn or stopped dossier: the time of that status
/// (applied to every dossier of a world with vendor habits, before the portal's view is made).
pub(super) fn close_times(dossiers: &mut [SimDossier]) {
    for d in dossiers {
        if matches!(d.status(), Status::Withdrawn | Status::Stopped) {
            d.finished_at = Some(d.status_since());
        }
    }
}

/// Whether dossier `index` (in the world) is one whose vendor leaves its finish time empty
/// beyond what its profile says.
pub fn finish_left_empty(index: usize, d: &SimDossier) -> bool {
    d.status() == Status::Resolved && index % BEYOND_EVERY == 3
}

/// What `profile`'s vendor writes ([`written`]): its built-in profile's `[carries]`.
pub fn carries(profile: SimProfile) -> Carries {
    Profile::builtin(profile.name())
        .expect("built-in profile")
        .carries
}

/// A date of dossier `index` as a vendor with these `carries` writes it in a world with vendor
/// habits: empty where `[carries]` leaves it out, or beyond it ([`finish_left_empty`]).
pub fn written(
    carries: &Carries,
    index: usize,
    d: &SimDossier,
    field: DateField,
) -> Option<LocalTime> {
    // The simulated procedures all have a time limit.
    if !carries.of(field).covers(Some(d.status()), true) {
        return None;
    }
    if field == DateField::FinishedAt && finish_left_empty(index, d) {
        return None;
    }
    value(d, field)
}

/// A date field of a simulated dossier, as the province truly has it.
pub fn value(d: &SimDossier, field: DateField) -> Option<LocalTime> {
    match field {
        DateField::ReceivedAt => d.received_at,
        DateField::DueAt => d.due_at,
        DateField::FinishedAt => d.finished_at,
        DateField::ReturnedAt => d.returned_at,
    }
}

/// An iGate date in one of its time-zone forms, by dossier `index`.
pub fn igate_date(t: Option<LocalTime>, index: usize) -> Value {
    let Some(t) = t else {
        return Value::Null;
    };
    let local = t
        .and_local_timezone(vn_offset())
        .single()
        .expect("fixed offset");
    match index % 4 {
        0 => local.format("%Y-%m-%dT%H:%M:%S%.3f%z").to_string(),
        1 => local
            .with_timezone(&Utc)
            .format("%Y-%m-%dT%H:%M:%S%.3f+0000")
            .to_string(),
        2 => local
            .with_timezone(&Utc)
            .to_rfc3339_opts(SecondsFormat::Secs, true),
        _ => t.format("%Y-%m-%dT%H:%M:%S").to_string(),
    }
    .into()
}

/// An iGate status label as some rows write it, by dossier `index`.
pub fn igate_label_form(label: &str, index: usize) -> String {
    match index % 3 {
        0 => label.to_string(),
        1 => label.to_uppercase(),
        _ => format!("  {label} "),
    }
}

/// Whether iGate's row for dossier `index` carries only the status label (no id).
pub fn igate_label_only(index: usize) -> bool {
    index % 2 == 1
}

/// The OpenCPS date format of dossier `index`: both are in its profile's `date_formats`.
pub fn opencps_format(index: usize) -> &'static str {
    if index % 3 == 1 {
        "%d/%m/%Y %H:%M"
    } else {
        "%d/%m/%Y %H:%M:%S"
    }
}

/// The td date format of dossier `index`: both are in its profile's `date_formats`.
pub fn td_format(index: usize) -> &'static str {
    if index % 3 == 1 {
        "%Y-%m-%dT%H:%M:%S%.3f"
    } else {
        "%Y-%m-%dT%H:%M:%S"
    }
}
