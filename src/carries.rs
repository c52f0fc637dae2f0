//! What a provincial vendor carries: for each date field of the canonical record, the dossier
//! statuses for which the vendor's rows fill it — a profile's `[carries]` table
//! (docs/profiles.md). An empty value where the vendor does not carry the field is *unknown*,
//! not *different*: reconciliation opens no date discrepancy on it (docs/discrepancies.md).
//!
//! Pure data. Reconciliation reads it from the profile in use at comparison time, not from the
//! stored rows: a profile corrected after rows were stored applies to every stored row at the
//! next pass (the carries are part of the pass's basis, so that pass is a full one).

use std::fmt;

use serde::{Deserialize, Deserializer};

use crate::model::{LocalTime, ProvincialDossier, Reported, Status};

/// A date field of the canonical record that a vendor may fill for some statuses only.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DateField {
    /// Received at (`NgayTiepNhan`).
    ReceivedAt,
    /// Due at (`NgayHenTra`).
    DueAt,
    /// Processing finished at (`NgayKetThucXuLy`).
    FinishedAt,
    /// Result returned at (`NgayTra`).
    ReturnedAt,
}

impl DateField {
    /// Every date field, in record order.
    pub const ALL: [DateField; 4] = [
        DateField::ReceivedAt,
        DateField::DueAt,
        DateField::FinishedAt,
        DateField::ReturnedAt,
    ];

    /// The field's name, as `[fields]` and `[carries]` spell it (`finished_at`, …).
    pub fn name(self) -> &'static str {
        match self {
            DateField::ReceivedAt => "received_at",
            DateField::DueAt => "due_at",
            DateField::FinishedAt => "finished_at",
            DateField::ReturnedAt => "returned_at",
        }
    }

    /// The field's value in a record (`None`: the row has none).
    pub fn of(self, core: &crate::model::DossierCore) -> Option<LocalTime> {
        match self {
            DateField::ReceivedAt => core.received_at,
            DateField::DueAt => core.due_at,
            DateField::FinishedAt => core.finished_at,
            DateField::ReturnedAt => core.returned_at,
        }
    }
}

/// Bits 1–10 set: every status code.
const ALL_STATUSES: u16 = 0b111_1111_1110;

/// For which dossiers a vendor fills one date field: a set of status codes, and optionally
/// only when the row says the procedure has a due date. Written in a profile as a list of
/// status codes (`[9, 10]`), `"always"`, `"never"`, `"with_due_date"`, or a table
/// `{ statuses = [...], with_due_date = true }`.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Carried {
    /// Bit `c` set: filled for status code `c` (1–10).
    statuses: u16,
    /// Filled only for a dossier whose procedure has a due date (the profile's
    /// `fields.no_due_date` is not true).
    with_due_date: bool,
}

impl Carried {
    /// Filled for every dossier: what a field not listed in `[carries]` is.
    pub const ALWAYS: Carried = Carried {
        statuses: ALL_STATUSES,
        with_due_date: false,
    };

    /// Filled for these status codes; an error names a code outside 1–10.
    pub fn statuses(codes: &[u8]) -> Result<Carried, String> {
        let mut statuses = 0u16;
        for &c in codes {
            if Status::from_code(c).is_none() {
                return Err(format!("status {c} is not a status code 1..10"));
            }
            statuses |= 1 << c;
        }
        Ok(Carried {
            statuses,
            with_due_date: false,
        })
    }

    /// The same, only for dossiers whose procedure has a due date.
    pub fn with_due_date(self) -> Carried {
        Carried {
            with_due_date: true,
            ..self
        }
    }

    /// Whether the vendor fills the field for a dossier in `status` (`None`: a status the
    /// profile does not map — then only a field filled for every status counts as carried).
    pub fn covers(self, status: Option<Status>, has_due_date: bool) -> bool {
        if self.with_due_date && !has_due_date {
            return false;
        }
        match status {
            Some(s) => self.statuses & (1 << s.code()) != 0,
            None => self.statuses == ALL_STATUSES,
        }
    }

    /// Reads one `[carries]` value; the error says what is expected.
    fn from_toml(v: &toml::Value) -> Result<Carried, String> {
        const EXPECTED: &str = "expected a list of status codes (e.g. [9, 10]), \"always\", \
                                \"never\", \"with_due_date\" or a table { statuses = [...], \
                                with_due_date = true }";
        let codes = |a: &[toml::Value]| -> Result<Carried, String> {
            let codes = a
                .iter()
                .map(|c| {
                    c.as_integer()
                        .and_then(|c| u8::try_from(c).ok())
                        .ok_or_else(|| format!("`{c}` is not a status code 1..10"))
                })
                .collect::<Result<Vec<u8>, String>>()?;
            Carried::statuses(&codes)
        };
        match v {
            toml::Value::String(w) => match w.as_str() {
                "always" => Ok(Carried::ALWAYS),
                "never" => Carried::statuses(&[]),
                "with_due_date" => Ok(Carried::ALWAYS.with_due_date()),
                other => Err(format!("unknown word `{other}`: {EXPECTED}")),
            },
            toml::Value::Array(a) => codes(a),
            toml::Value::Table(t) => {
                let mut out = Carried::ALWAYS;
                for (key, value) in t {
                    match (key.as_str(), value) {
                        ("statuses", toml::Value::Array(a)) => {
                            out = Carried {
                                with_due_date: out.with_due_date,
                                ..codes(a)?
                            }
                        }
                        ("with_due_date", toml::Value::Boolean(b)) => out.with_due_date = *b,
                        _ => return Err(format!("unexpected `{key} = {value}`: {EXPECTED}")),
                    }
                }
                Ok(out)
            }
            other => Err(format!("unexpected `{other}`: {EXPECTED}")),
        }
    }
}

impl Default for Carried {
    fn default() -> Carried {
        Carried::ALWAYS
    }
}

/// As written in a profile, e.g. `[9, 10] with_due_date` (also the pass basis: stable).
impl fmt::Debug for Carried {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let codes: Vec<u8> = (1..=10u8)
            .filter(|c| self.statuses & (1 << c) != 0)
            .collect();
        write!(f, "{codes:?}")?;
        if self.with_due_date {
            f.write_str(" with_due_date")?;
        }
        Ok(())
    }
}

impl<'de> Deserialize<'de> for Carried {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Carried, D::Error> {
        let v = toml::Value::deserialize(d)?;
        Carried::from_toml(&v).map_err(serde::de::Error::custom)
    }
}

/// A profile's `[carries]`: for each date field, for which dossiers the vendor fills it. A field
/// not listed is filled for every dossier ([`Carried::ALWAYS`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Carries {
    /// `received_at` (`NgayTiepNhan`).
    pub received_at: Carried,
    /// `due_at` (`NgayHenTra`).
    pub due_at: Carried,
    /// `finished_at` (`NgayKetThucXuLy`).
    pub finished_at: Carried,
    /// `returned_at` (`NgayTra`).
    pub returned_at: Carried,
}

impl Carries {
    /// What the vendor carries of `field`.
    pub fn of(&self, field: DateField) -> Carried {
        match field {
            DateField::ReceivedAt => self.received_at,
            DateField::DueAt => self.due_at,
            DateField::FinishedAt => self.finished_at,
            DateField::ReturnedAt => self.returned_at,
        }
    }

    /// What the province's record says of `field`: its value; [`Reported::Absent`] when empty
    /// where the vendor fills the field; [`Reported::Unknown`] when empty where it does not. A
    /// value is always taken, carried or not: data beats the profile.
    pub fn reported(&self, p: &ProvincialDossier, field: DateField) -> Reported<LocalTime> {
        match field.of(&p.core) {
            Some(t) => Reported::Value(t),
            None if self.of(field).covers(p.core.status, p.has_due_date) => Reported::Absent,
            None => Reported::Unknown,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Carries, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }

    #[test]
    fn every_form_reads_and_a_field_not_listed_is_always_carried() {
        let c = parse(
            "finished_at = [9, 10]\nreturned_at = \"never\"\ndue_at = \"with_due_date\"\n\
             received_at = { statuses = [2, 4], with_due_date = true }",
        )
        .unwrap();
        let s = |c: u8| Status::from_code(c);
        assert!(c.finished_at.covers(s(9), true) && c.finished_at.covers(s(10), false));
        assert!(!c.finished_at.covers(s(7), true) && !c.finished_at.covers(None, true));
        assert!((1..=10).all(|x| !c.returned_at.covers(s(x), true)));
        assert!(c.due_at.covers(s(4), true) && !c.due_at.covers(s(4), false));
        assert!(
            c.due_at.covers(None, true),
            "every status, so an unmapped one too"
        );
        assert!(c.received_at.covers(s(2), true) && !c.received_at.covers(s(2), false));
        assert!(!c.received_at.covers(s(5), true));
        assert_eq!(parse("").unwrap(), Carries::default());
        assert!((1..=10).all(|x| Carried::ALWAYS.covers(s(x), false)));
        assert_eq!(format!("{:?}", c.finished_at), "[9, 10]");
        assert_eq!(
            format!("{:?}", c.received_at),
            "[2, 4] with_due_date",
            "the pass basis reads the Debug form"
        );
    }

    #[test]
    fn a_bad_entry_says_what_is_wrong() {
        for (text, want) in [
            (
                "finished_at = [9, 11]",
                "status 11 is not a status code 1..10",
            ),
            ("finished_at = [\"9\"]", "is not a status code"),
            ("finished_at = \"sometimes\"", "unknown word `sometimes`"),
            (
                "finished_at = { statuses = [9], when = 1 }",
                "unexpected `when = 1`",
            ),
            ("finished_at = 9", "expected a list of status codes"),
            ("handler = [9]", "unknown field `handler`"),
        ] {
            let err = parse(text).unwrap_err();
            assert!(err.contains(want), "{text}: {err}");
        }
    }

    #[test]
    fn a_record_reports_value_absent_or_unknown() {
        let carries = parse("finished_at = [9, 10]\ndue_at = \"with_due_date\"").unwrap();
        let t = chrono::NaiveDate::from_ymd_opt(2024, 10, 16)
            .unwrap()
            .and_hms_opt(15, 0, 0)
            .unwrap();
        let mut p = ProvincialDossier {
            has_due_date: true,
            ..Default::default()
        };
        let finished = |p: &ProvincialDossier| carries.reported(p, DateField::FinishedAt);
        p.core.status = Some(Status::Withdrawn);
        assert_eq!(finished(&p), Reported::Unknown);
        p.core.finished_at = Some(t);
        assert_eq!(
            finished(&p),
            Reported::Value(t),
            "a value is taken, carried or not"
        );
        p.core.status = Some(Status::Resolved);
        p.core.finished_at = None;
        assert_eq!(finished(&p), Reported::Absent);
        assert_eq!(carries.reported(&p, DateField::DueAt), Reported::Absent);
        p.has_due_date = false;
        assert_eq!(carries.reported(&p, DateField::DueAt), Reported::Unknown);
        assert_eq!(
            carries.reported(&p, DateField::ReceivedAt),
            Reported::Absent,
            "not listed: always carried"
        );
    }
}
