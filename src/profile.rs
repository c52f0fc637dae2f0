//! Provincial vendor profiles as data: auth and paging styles (with how a reply says where the
//! list ends: `paging`), field paths, date formats, the status table, and what of a row may be
//! stored. Built-in presets live in
//! `config/profiles/*.toml`; a province may ship its own file instead (`provincial.profile_file`).
//!
//! Mapping a row is pure: JSON in, canonical record out. What is stored of the raw row is an
//! allowlist: the values at the paths the profile maps (`fields`) and at its `keep` paths
//! (keys known to be impersonal), scalars only. Everything else — an applicant block under a
//! key no list names, a nested e-form, a field whose text is itself JSON — is never stored
//! nor logged (docs/domain.md §6). [`Profile::unlisted_paths`] names (names only) what a row
//! carried beyond the lists, for diagnosis.

use std::collections::{BTreeMap, HashMap};

mod allowlist;
use allowlist::{collect_unlisted, path_names};

use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use unicode_normalization::UnicodeNormalization;

use crate::carries::Carries;
use crate::model::{fold_label, Channel, DossierCore, LocalTime, ProvincialDossier, Status};
use crate::timestamp::{self, DateOnly};

mod paging;

pub use paging::{EndSignal, PageEnd, PageReport, Paging, PagingStyle};

/// How the client authenticates to the one-stop system (the profile's `auth`).
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum AuthStyle {
    /// OAuth2 password grant at a Keycloak realm (iGate).
    Oauth2Password,
    /// HTTP Basic with a `groupId` header (OpenCPS).
    Basic,
    /// `POST /api/tokens` with a `tenant` header (td).
    Token,
}

/// Where each canonical field sits in a row: dotted paths with `[n]` indices
/// (e.g. `procedure.translate[0].name`). Empty = the profile does not carry it.
#[derive(Clone, Debug, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields, default)]
pub struct FieldPaths {
    /// The row's id in the provincial system (required in every row).
    pub id: String,
    /// The system's own dossier code (the id when empty or absent).
    pub local_code: String,
    /// The national dossier code (`MaHoSo`), the join key with the portal.
    pub national_code: String,
    /// A code that, when non-empty, replaces `national_code` as the join key
    /// (td `MaHoSoKhac`).
    pub national_code_override: String,
    /// The national procedure code (`MaTTHC`).
    pub procedure_code: String,
    /// The procedure's name.
    pub procedure_name: String,
    /// The handling agency's code.
    pub agency_code: String,
    /// The handling agency's name.
    pub agency_name: String,
    /// The value looked up in `statuses`.
    pub status: String,
    /// Looked up first in `sub_statuses` when present (OpenCPS).
    pub sub_status: String,
    /// A code read instead of `national_code` when `national_code_alt_if` holds
    /// (OpenCPS: `referenceUid` when `systemId` is 5).
    pub national_code_alt: String,
    /// `path=value`: the condition under which `national_code_alt` is the national code.
    pub national_code_alt_if: String,
    /// A flag that, when true or a non-zero number, makes the channel postal whatever
    /// `channel` says (OpenCPS `viaPostal`).
    pub postal: String,
    /// A lock word; a value listed in the profile's `paused_lock_states` means the processing
    /// clock is paused (OpenCPS `lockState`).
    pub lock_state: String,
    /// The status's label as staff see it (kept for display).
    pub status_label: String,
    /// The submission channel, looked up in `channels`.
    pub channel: String,
    /// Received at (NgayTiepNhan).
    pub received_at: String,
    /// Due at (NgayHenTra).
    pub due_at: String,
    /// Processing finished at (NgayKetThucXuLy).
    pub finished_at: String,
    /// Result returned at (NgayTra).
    pub returned_at: String,
    /// The row's last-modified time (required in every row): the pull's watermark.
    pub updated_at: String,
    /// A boolean that is true when the dossier has no due date (iGate `undefindedCompleteTime`).
    pub no_due_date: String,
    /// The official now handling the dossier (personal data of an official: stored for the
    /// report, never logged; iGate `currentTask[0].assignee.fullname`).
    pub handler: String,
    /// When a supplement was requested (td `NgayYeuCauBoSung`): the pause's start, and one
    /// supplement request.
    pub supplement_requested_at: String,
}

impl FieldPaths {
    /// Every field that is a path, as `(name, path)`, in declaration order (empty paths
    /// included; `national_code_alt_if` is a condition, read by `Profile::alt_condition`).
    pub(crate) fn paths(&self) -> [(&'static str, &str); 23] {
        [
            ("id", &self.id),
            ("local_code", &self.local_code),
            ("national_code", &self.national_code),
            ("national_code_override", &self.national_code_override),
            ("procedure_code", &self.procedure_code),
            ("procedure_name", &self.procedure_name),
            ("agency_code", &self.agency_code),
            ("agency_name", &self.agency_name),
            ("status", &self.status),
            ("sub_status", &self.sub_status),
            ("national_code_alt", &self.national_code_alt),
            ("postal", &self.postal),
            ("lock_state", &self.lock_state),
            ("status_label", &self.status_label),
            ("channel", &self.channel),
            ("received_at", &self.received_at),
            ("due_at", &self.due_at),
            ("finished_at", &self.finished_at),
            ("returned_at", &self.returned_at),
            ("updated_at", &self.updated_at),
            ("no_due_date", &self.no_due_date),
            ("handler", &self.handler),
            ("supplement_requested_at", &self.supplement_requested_at),
        ]
    }
}

/// A vendor profile: how to talk to one kind of one-stop system and how to read its rows
/// (docs/profiles.md). A file of `config/profiles/` or `provincial.profile_file`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// The profile's name (`igate`, `opencps`, `td`, or a province's own); names the
    /// watermark's source (`provincial:<name>`).
    pub name: String,
    /// How to authenticate.
    pub auth: AuthStyle,
    /// How the list call is paged and how a reply says where the list ends (`[paging]`).
    pub paging: Paging,
    /// Path of the list endpoint, appended to `provincial.api_url`.
    pub list_path: String,
    /// Fixed query parameters of the list call (sort newest-first by last-modified).
    #[serde(default)]
    pub list_params: BTreeMap<String, String>,
    /// Field of the reply holding the rows.
    pub rows_field: String,
    /// Where each canonical field sits in a row.
    pub fields: FieldPaths,
    /// chrono formats tried in order; a format with `%z` honours the offset.
    pub date_formats: Vec<String>,
    /// Channel field value → channel.
    #[serde(default)]
    pub channels: BTreeMap<String, Channel>,
    /// Status field value → national code (labels compared after trim + NFC + lower case).
    pub statuses: BTreeMap<String, u8>,
    /// Sub-status field value → national code, looked up before `statuses` (OpenCPS).
    #[serde(default)]
    pub sub_statuses: BTreeMap<String, u8>,
    /// Paths of raw values known to hold nothing personal, stored in
    /// `provincial_dossier.raw_json` beside the mapped fields for diagnosis (same syntax as
    /// `fields`; scalars only: a path to an object or array keeps nothing). Nothing outside
    /// `fields` and `keep` is ever stored (docs/profiles.md, "Adding a kept key").
    #[serde(default)]
    pub keep: Vec<String>,
    /// Keys that hold citizens' personal data, dropped at any depth before a row is read: a
    /// second guard behind the allowlist. A `fields` or `keep` path through one of them is
    /// refused when the profile is loaded.
    #[serde(default)]
    pub personal_data: Vec<String>,
    /// Extra request headers: header name → the `[provincial]` config key holding its value
    /// (`group_id` or `tenant`). E.g. OpenCPS `groupId = "group_id"`, td `tenant = "tenant"`.
    #[serde(default)]
    pub extra_headers: BTreeMap<String, String>,
    /// Values of `fields.lock_state` that mean "paused" (compared ignoring case).
    #[serde(default)]
    pub paused_lock_states: Vec<String>,
    /// For which statuses the vendor fills each date field (`[carries]`; a field not listed:
    /// always). An empty date where the vendor does not fill it is unknown, not different.
    #[serde(default)]
    pub carries: Carries,
    /// `statuses` and `sub_statuses` keyed by their normalized labels (trim + NFC + lower
    /// case; the first label in table order wins a tie), filled once by [`Profile::parse`] so
    /// that rows need not normalize the table.
    #[serde(skip)]
    normalized: NormalizedStatuses,
    /// Every path whose value may be stored: the mapped `fields` (and the path of
    /// `national_code_alt_if`), then `keep`; sorted, without duplicates. Filled by
    /// [`Profile::parse`].
    #[serde(skip)]
    listed: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq)]
struct NormalizedStatuses {
    statuses: HashMap<String, u8>,
    sub_statuses: HashMap<String, u8>,
}

/// The table's labels normalized ([`norm_label`]), then — where they do not collide with a
/// normalized label — folded without diacritics ([`fold_label`]), a folded form kept only
/// when every label folding to it maps to the same code: an accent-less label still maps,
/// and folding never has to choose between two codes.
fn normalized(table: &BTreeMap<String, u8>) -> HashMap<String, u8> {
    let mut out = HashMap::with_capacity(table.len() * 2);
    for (label, code) in table {
        out.entry(norm_label(label)).or_insert(*code);
    }
    let mut folded: HashMap<String, Option<u8>> = HashMap::new();
    for (label, code) in table {
        let slot = folded.entry(fold_label(label)).or_insert(Some(*code));
        if *slot != Some(*code) {
            *slot = None;
        }
    }
    for (f, code) in folded {
        if let Some(code) = code {
            out.entry(f).or_insert(code);
        }
    }
    out
}

/// The `[provincial]` config keys a profile's `extra_headers` may name.
pub const HEADER_CONFIG_KEYS: &[&str] = &["group_id", "tenant"];

/// Why a provincial row could not be mapped (the row is skipped and counted, never guessed).
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum MapError {
    /// A required field (the id or the last-modified time) is absent; the path is given.
    #[error("row has no `{0}`")]
    Missing(String),
    /// A date field holds text none of the profile's `date_formats` reads.
    #[error("field `{field}`: cannot read date `{value}` (formats tried: {formats})")]
    BadDate {
        /// The canonical field, e.g. `due_at`.
        field: String,
        /// The text found, quoted bounded: at most 40 characters, then its length.
        value: String,
        /// The formats tried, separated by ` | `.
        formats: String,
    },
}

/// Why a profile cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    /// Unknown built-in name, unreadable file, invalid TOML, or a table or header the code
    /// cannot use.
    #[error("profile {name}: {message}")]
    Invalid {
        /// The profile's name or file.
        name: String,
        /// What is wrong.
        message: String,
    },
}

const BUILTIN: &[(&str, &str)] = &[
    ("igate", include_str!("../config/profiles/igate.toml")),
    ("opencps", include_str!("../config/profiles/opencps.toml")),
    ("td", include_str!("../config/profiles/td.toml")),
];

fn norm_label(s: &str) -> String {
    s.trim().nfc().collect::<String>().to_lowercase()
}

impl Profile {
    /// A built-in preset by name.
    pub fn builtin(name: &str) -> Result<Profile, ProfileError> {
        let (_, text) =
            BUILTIN
                .iter()
                .find(|(n, _)| *n == name)
                .ok_or_else(|| ProfileError::Invalid {
                    name: name.into(),
                    message: format!(
                        "no such built-in profile; known: {}",
                        BUILTIN.iter().map(|b| b.0).collect::<Vec<_>>().join(", ")
                    ),
                })?;
        Profile::parse(name, text)
    }

    /// The TOML text of a built-in preset, as shipped.
    pub fn builtin_text(name: &str) -> Option<&'static str> {
        BUILTIN.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
    }

    /// Reads a profile from TOML text and checks it (status codes 1–10, the required field
    /// paths, at least one date format, known header keys); `name` names it in errors.
    pub fn parse(name: &str, text: &str) -> Result<Profile, ProfileError> {
        let mut p: Profile = toml::from_str(text).map_err(|e| ProfileError::Invalid {
            name: name.into(),
            message: e.to_string(),
        })?;
        let bad = |message: String| ProfileError::Invalid {
            name: name.into(),
            message,
        };
        for (label, code) in p.statuses.iter().chain(p.sub_statuses.iter()) {
            if Status::from_code(*code).is_none() {
                return Err(bad(format!("status `{label}` maps to {code}, not 1..10")));
            }
        }
        p.normalized = NormalizedStatuses {
            statuses: normalized(&p.statuses),
            sub_statuses: normalized(&p.sub_statuses),
        };
        for (field, path) in [
            ("fields.id", &p.fields.id),
            ("fields.status", &p.fields.status),
            ("fields.updated_at", &p.fields.updated_at),
        ] {
            if path.is_empty() {
                return Err(bad(format!("{field} is required")));
            }
        }
        p.paging.check().map_err(bad)?;
        if p.date_formats.is_empty() {
            return Err(bad("date_formats must list at least one format".into()));
        }
        if let Some(f) = p
            .date_formats
            .iter()
            .find(|f| !timestamp::is_valid_format(f))
        {
            return Err(bad(format!(
                "date_formats: `{f}` is not a chrono format nor one of {}",
                timestamp::NUMBER_FORMATS.join(", ")
            )));
        }
        if !p.fields.national_code_alt.is_empty() && p.alt_condition().is_none() {
            return Err(bad(
                "fields.national_code_alt needs fields.national_code_alt_if = \"path=value\""
                    .into(),
            ));
        }
        for (header, key) in &p.extra_headers {
            if !HEADER_CONFIG_KEYS.contains(&key.as_str()) {
                return Err(bad(format!(
                    "extra_headers.{header} = \"{key}\": must name one of the config keys {}",
                    HEADER_CONFIG_KEYS.join(", ")
                )));
            }
        }
        let mut listed: Vec<String> = Vec::new();
        let alt_path = p.alt_condition().map(|(path, _)| path.to_string());
        let mapped = p
            .fields
            .paths()
            .into_iter()
            .map(|(name, path)| (format!("fields.{name}"), path.to_string()))
            .chain(alt_path.map(|path| ("fields.national_code_alt_if".to_string(), path)));
        let kept = p
            .keep
            .iter()
            .enumerate()
            .map(|(i, path)| (format!("keep[{i}]"), path.clone()));
        for (key, path) in mapped.chain(kept) {
            if path.is_empty() {
                if key.starts_with("keep") {
                    return Err(bad(format!(
                        "{key} is empty: name a path such as `a.b[0].c`"
                    )));
                }
                continue;
            }
            if let Some(k) = path_names(&path).find(|k| p.personal_data.iter().any(|d| d == k)) {
                return Err(bad(format!(
                    "{key} = \"{path}\" goes through `{k}`, a personal_data key: it would \
                     never be read"
                )));
            }
            listed.push(path);
        }
        listed.sort();
        listed.dedup();
        p.listed = listed;
        Ok(p)
    }

    /// Reads a profile from a file (`provincial.profile_file`); errors name the file.
    pub fn from_file(path: &std::path::Path) -> Result<Profile, ProfileError> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ProfileError::Invalid {
            name: name.clone(),
            message: format!("cannot read: {e}"),
        })?;
        Profile::parse(&name, &text)
    }

    fn alt_condition(&self) -> Option<(&str, &str)> {
        self.fields
            .national_code_alt_if
            .split_once('=')
            .map(|(p, v)| (p.trim(), v.trim()))
            .filter(|(p, _)| !p.is_empty())
    }

    /// The status `raw` (and `sub`, looked up first) maps to, as [`Profile::map_row`] reads it.
    pub(crate) fn status_of(&self, raw: &str, sub: Option<&str>) -> Option<Status> {
        let lookup = |table: &BTreeMap<String, u8>, norm: &HashMap<String, u8>, v: &str| {
            // The common case, a label written exactly as in the table, needs no normalizing.
            table
                .get(v)
                .or_else(|| norm.get(&norm_label(v)))
                .or_else(|| norm.get(&fold_label(v)))
                .and_then(|c| Status::from_code(*c))
        };
        let n = &self.normalized;
        sub.filter(|s| !s.is_empty())
            .and_then(|s| lookup(&self.sub_statuses, &n.sub_statuses, s))
            .or_else(|| lookup(&self.statuses, &n.statuses, raw))
    }

    /// Parses a timestamp of `field` with the profile's formats ([`crate::timestamp`]: offsets
    /// are converted to +07:00; a date alone is placed in its day by `date_only`).
    pub fn parse_date(
        &self,
        field: &str,
        v: &str,
        date_only: DateOnly,
    ) -> Result<Option<LocalTime>, MapError> {
        timestamp::parse(v, &self.date_formats, date_only).map_err(|_| MapError::BadDate {
            field: field.into(),
            value: crate::quote::bounded(v, 40),
            formats: self.date_formats.join(" | "),
        })
    }

    /// How a date alone of mapped field `field` is placed in its day: a due date at its end.
    fn date_only_of(field: &str) -> DateOnly {
        if field == "due_at" {
            DateOnly::EndOfDay
        } else {
            DateOnly::StartOfDay
        }
    }

    /// Every path whose value may be stored (the mapped `fields`, the path of
    /// `national_code_alt_if`, and `keep`), sorted.
    pub fn listed_paths(&self) -> &[String] {
        &self.listed
    }

    /// What may be stored of a row: a JSON object from each listed path (as written in the
    /// profile, e.g. `"dossierStatus.name"`) to its value, for the paths that hold a string,
    /// number, boolean or null. Objects and arrays are never copied, so nothing the lists do
    /// not name can ride along. Keys are sorted: the same values give the same text.
    pub fn stored_json(&self, row: &Value) -> String {
        let mut kept = serde_json::Map::new();
        for path in &self.listed {
            if let Some(v) = get(row, path).filter(|v| !v.is_object() && !v.is_array()) {
                kept.insert(path.clone(), v.clone());
            }
        }
        Value::Object(kept).to_string()
    }

    /// The national code a row carries: `national_code_override` when filled, else
    /// `national_code_alt` when the `national_code_alt_if` condition holds, else
    /// `national_code`; `None` when the chosen one is absent or blank.
    pub fn national_code(&self, row: &Value) -> Option<String> {
        let f = &self.fields;
        let s = |path: &str| get_str(row, path);
        let use_alt = self
            .alt_condition()
            .is_some_and(|(path, want)| s(path).is_some_and(|v| v.trim() == want));
        s(&f.national_code_override)
            .filter(|c| !c.trim().is_empty())
            .or_else(|| {
                s(if use_alt {
                    &f.national_code_alt
                } else {
                    &f.national_code
                })
            })
            .filter(|c| !c.trim().is_empty())
    }

    /// The paths of a row's values that are neither mapped nor kept (names only, never a
    /// value), sorted: what a new vendor version added, for diagnosis. A leaf is a string,
    /// number, boolean, null, or an empty object or array; array items are written `[n]`.
    /// A key that a listed path reaches only in part (`a` of `a.b`) is reported by its own
    /// unlisted leaves.
    pub fn unlisted_paths(&self, row: &Value) -> Vec<String> {
        let mut out = Vec::new();
        let mut path = String::new();
        collect_unlisted(row, &mut path, &self.listed, &mut out);
        out.sort();
        out.dedup();
        out
    }

    /// Drops the personal-data keys, then maps the row. Returns the record and what may be
    /// stored of the row ([`Profile::stored_json`]); the row hash is that text's, so it
    /// changes exactly when a mapped or kept value does.
    pub fn map_row(&self, mut row: Value) -> Result<(ProvincialDossier, String), MapError> {
        drop_keys(&mut row, &self.personal_data);
        let raw = self.stored_json(&row);
        let f = &self.fields;
        let s = |path: &str| get_str(&row, path);
        let date = |name: &str, path: &str| match get_str(&row, path) {
            Some(v) => self.parse_date(name, &v, Profile::date_only_of(name)),
            None => Ok(None),
        };
        let id = s(&f.id).ok_or_else(|| MapError::Missing(f.id.clone()))?;
        let local_code = s(&f.local_code).unwrap_or_else(|| id.clone());
        let national = self.national_code(&row).unwrap_or_default();
        let status_raw = s(&f.status).unwrap_or_default();
        let sub = s(&f.sub_status);
        let status = self.status_of(&status_raw, sub.as_deref());
        let updated_at = date("updated_at", &f.updated_at)?
            .ok_or_else(|| MapError::Missing(f.updated_at.clone()))?;
        let postal = match get(&row, &f.postal) {
            Some(Value::Bool(b)) => *b,
            Some(Value::Number(n)) => n.as_f64().is_some_and(|x| x != 0.0),
            Some(Value::String(v)) => !matches!(v.trim(), "" | "0" | "false"),
            _ => false,
        };
        let channel = if postal {
            Channel::Postal
        } else {
            s(&f.channel)
                .and_then(|c| self.channels.get(&c).copied())
                .unwrap_or_default()
        };
        let locked = s(&f.lock_state).is_some_and(|v| {
            self.paused_lock_states
                .iter()
                .any(|p| p.eq_ignore_ascii_case(v.trim()))
        });
        let no_due = get(&row, &f.no_due_date).and_then(Value::as_bool) == Some(true);
        let supplement_at = date("supplement_requested_at", &f.supplement_requested_at)?;
        let core = DossierCore {
            code: national.clone(),
            procedure_code: s(&f.procedure_code),
            agency_code: s(&f.agency_code),
            status,
            status_raw: match &sub {
                Some(sub) if !sub.is_empty() => format!("{status_raw}/{sub}"),
                _ => status_raw.clone(),
            },
            received_at: date("received_at", &f.received_at)?,
            due_at: date("due_at", &f.due_at)?,
            finished_at: date("finished_at", &f.finished_at)?,
            returned_at: date("returned_at", &f.returned_at)?,
        };
        let paused_since = if locked
            || status
                .is_some_and(|s| matches!(s, Status::SupplementRequested | Status::AwaitingPayment))
        {
            supplement_at.or(Some(updated_at))
        } else {
            None
        };
        let row_hash = {
            let mut h = Sha256::new();
            h.update(raw.as_bytes());
            let d = h.finalize();
            const HEX: &[u8; 16] = b"0123456789abcdef";
            let mut hex = String::with_capacity(32);
            for b in d.iter().take(16) {
                hex.push(HEX[usize::from(b >> 4)] as char);
                hex.push(HEX[usize::from(b & 15)] as char);
            }
            hex
        };
        Ok((
            ProvincialDossier {
                key: if national.is_empty() {
                    local_code.clone()
                } else {
                    national
                },
                core,
                local_id: id,
                local_code,
                procedure_name: s(&f.procedure_name),
                agency_name: s(&f.agency_name),
                channel,
                has_due_date: !no_due,
                status_label: s(&f.status_label),
                paused_since,
                supplement_requests: supplement_at.map(|_| 1),
                handler: s(&f.handler),
                updated_at,
                row_hash,
                observed: None,
            },
            raw,
        ))
    }
}

/// The value at a dotted path with `[n]` indices.
pub fn get<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    if path.is_empty() {
        return None;
    }
    let mut cur = v;
    for part in path.split('.') {
        let (name, idx) = match part.find('[') {
            Some(i) => (&part[..i], Some(&part[i..])),
            None => (part, None),
        };
        if !name.is_empty() {
            cur = cur.get(name)?;
        }
        if let Some(mut rest) = idx {
            // `[n]` groups only; anything else (`a[0]]`, `a[x`) finds nothing.
            while !rest.is_empty() {
                let inner = rest.strip_prefix('[')?;
                let close = inner.find(']')?;
                let n: usize = inner[..close].parse().ok()?;
                cur = cur.get(n)?;
                rest = &inner[close + 1..];
            }
        }
    }
    Some(cur)
}

/// The value at `path` as a string (numbers and booleans written out; null/absent = None).
pub fn get_str(v: &Value, path: &str) -> Option<String> {
    match get(v, path)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Removes every object key named in `keys`, at any depth.
pub fn drop_keys(v: &mut Value, keys: &[String]) {
    match v {
        Value::Object(map) => {
            map.retain(|k, _| !keys.iter().any(|d| d == k));
            for child in map.values_mut() {
                drop_keys(child, keys);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|c| drop_keys(c, keys)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn malformed_paths_find_nothing_and_never_panic() {
        let v = json!({"a": [{"b": 1}], "c": {"d": "x"}});
        assert_eq!(get_str(&v, "a[0].b").as_deref(), Some("1"));
        assert_eq!(get_str(&v, "c.d").as_deref(), Some("x"));
        for bad in [
            "a[0]]", "a[0", "a[x]", "a]0[", "a[]", "a[0]x", "[", "]", "a..b", "a[99]",
        ] {
            assert_eq!(get(&v, bad), None, "{bad}");
        }
    }

    #[test]
    fn builtin_profiles_parse() {
        for (name, _) in BUILTIN {
            Profile::builtin(name).unwrap();
        }
        assert!(Profile::builtin("nope").is_err());
    }

    /// The presets declare their vendors' end signals, which are also the short form's
    /// defaults (`paging = "page0"` in a profile written before `[paging]`).
    #[test]
    fn builtin_paging_and_the_short_form() {
        for (name, style) in [
            ("igate", PagingStyle::Page0),
            ("opencps", PagingStyle::Offset),
            ("td", PagingStyle::Page1),
        ] {
            let p = Profile::builtin(name).unwrap();
            assert_eq!(p.paging, Paging::defaults(style), "{name}");
            assert!(p.paging.exact_total(), "{name}");
        }
        let text = BUILTIN[0].1;
        let start = text.find("[paging]").unwrap();
        let end = start + text[start..].find("\n\n").unwrap();
        let old = text[..start].replace("name = \"igate\"", "name = \"igate\"\npaging = \"page0\"")
            + &text[end..];
        assert_eq!(
            Profile::parse("old", &old).unwrap(),
            Profile::builtin("igate").unwrap()
        );
        let bad = text.replace(
            "end_signals = [\"last\", \"total\", \"short\"]",
            "end_signals = []",
        );
        let err = Profile::parse("my-igate.toml", &bad)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("my-igate.toml") && err.contains("paging.end_signals"),
            "{err}"
        );
    }

    #[test]
    fn igate_row_maps_and_drops_personal_data() {
        let p = Profile::builtin("igate").unwrap();
        let row = json!({
            "id": "65a1", "code": "HS24.000001", "nationCode": "000.00.11.H18-240814-0001",
            "procedure": {"code": "1.001193", "translate": [{"name": "Đăng ký khai sinh"}]},
            "agency": {"code": "000.00.11.H18", "name": "Xã A"},
            "dossierStatus": {"id": 4, "name": " Đang xử lý "},
            "applyMethod": {"id": 1},
            "acceptedDate": "2024-08-14T09:30:00.000+0700",
            "appointmentDate": "2024-08-15T02:30:00.000+0000",
            "updatedDate": "2024-08-14T10:00:00.000+0700",
            "applicant": {"data": {"fullname": "Lò Văn A", "identityNumber": "011100000001"}},
            "currentTask": [{"assignee": {"fullname": "Cán bộ B"}}]
        });
        let (d, raw) = p.map_row(row).unwrap();
        assert_eq!(d.core.status, Some(Status::Processing));
        assert_eq!(d.key, "000.00.11.H18-240814-0001");
        assert_eq!(d.channel, Channel::Online);
        assert_eq!(
            d.core.due_at.unwrap().to_string(),
            "2024-08-15 09:30:00",
            "+0000 converted to +07:00"
        );
        assert_eq!(d.handler.as_deref(), Some("Cán bộ B"));
        assert!(!raw.contains("Lò Văn A") && !raw.contains("011100000001"));
        assert!(!raw.contains("applicant"));
    }

    #[test]
    fn igate_reads_every_time_zone_form_as_the_same_local_time() {
        let p = Profile::builtin("igate").unwrap();
        for v in [
            "2024-08-15T09:30:00.000+0700",
            "2024-08-15T02:30:00.000+0000",
            "2024-08-15T02:30:00.000Z",
            "2024-08-15T02:30:00Z",
            "2024-08-15T09:30:00+07:00",
            "2024-08-15T09:30:00.000",
            "2024-08-15T09:30:00",
        ] {
            let t = p
                .parse_date("due_at", v, DateOnly::EndOfDay)
                .unwrap()
                .unwrap();
            assert_eq!(t.to_string(), "2024-08-15 09:30:00", "{v}");
        }
    }

    #[test]
    fn builtin_profiles_say_what_their_vendor_carries() {
        use crate::carries::DateField;
        let s = Status::from_code;
        for name in ["igate", "opencps", "td"] {
            let c = Profile::builtin(name).unwrap().carries;
            for field in [DateField::FinishedAt, DateField::ReturnedAt] {
                assert!(c.of(field).covers(s(10), true), "{name} {field:?} for 10");
                assert!(!c.of(field).covers(s(3), true), "{name} {field:?} for 3");
            }
            assert!(c.of(DateField::ReceivedAt).covers(s(4), false), "{name}");
            let closing = [7, 8].map(|x| c.finished_at.covers(s(x), true));
            assert_eq!(
                closing,
                [name == "td"; 2],
                "{name}: a finish time for 7 and 8"
            );
        }
        let igate = Profile::builtin("igate").unwrap().carries;
        assert!(
            !igate.due_at.covers(s(4), false),
            "iGate: no due date without a limit"
        );
        assert!(igate.due_at.covers(s(4), true));
    }

    #[test]
    fn a_date_alone_and_a_number_still_read() {
        let p = Profile::builtin("opencps").unwrap();
        let row = json!({"dossierId": 1, "dossierStatus": "done",
            "modifiedDate": "30/08/2024 16:00:00", "receiveDate": "14/08/2024",
            "dueDate": "30/08/2024", "releaseDate": 1725001200000_i64});
        let (d, _) = p.map_row(row).unwrap();
        let t =
            |s: &str| Some(chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap());
        assert_eq!(d.core.received_at, t("2024-08-14 00:00:00"));
        assert_eq!(
            d.core.due_at,
            t("2024-08-30 23:59:59"),
            "due by the end of the day"
        );
        assert_eq!(d.core.finished_at, t("2024-08-30 14:00:00"));
    }

    #[test]
    fn a_label_without_its_diacritics_still_maps_unless_two_codes_fold_together() {
        let p = Profile::builtin("igate").unwrap();
        for (label, want) in [("DANG XU LY", 4), ("Đang  xử lý", 4)] {
            assert_eq!(p.status_of(label, None), Status::from_code(want), "{label}");
        }
        let mut table = BTreeMap::new();
        table.insert("Bổ sung".to_string(), 5u8);
        table.insert("Bồ sung".to_string(), 4u8);
        table.insert("Đã trả".to_string(), 10u8);
        let n = normalized(&table);
        assert_eq!(n.get("bo sung"), None, "two codes fold together: no guess");
        assert_eq!(n.get("da tra"), Some(&10));
        assert_eq!(n.get("bổ sung"), Some(&5));
    }

    #[test]
    fn unknown_label_is_unmapped_not_guessed() {
        let p = Profile::builtin("igate").unwrap();
        let row = json!({"id": "1", "dossierStatus": {"name": "Chờ phê duyệt"},
            "updatedDate": "2024-08-14T10:00:00.000+0700"});
        let (d, _) = p.map_row(row).unwrap();
        assert_eq!(d.core.status, None);
        assert_eq!(d.core.status_raw, "Chờ phê duyệt");
    }

    #[test]
    fn bad_date_names_the_field() {
        let p = Profile::builtin("igate").unwrap();
        let row = json!({"id": "1", "dossierStatus": {"name": "Đang xử lý"},
            "updatedDate": "2024-08-14T10:00:00.000+0700", "appointmentDate": "15/08/2024"});
        let err = p.map_row(row).unwrap_err().to_string();
        assert!(
            err.contains("due_at") && err.contains("15/08/2024"),
            "{err}"
        );
    }

    #[test]
    fn opencps_row_maps_sub_status_first_reference_uid_and_lock() {
        let p = Profile::builtin("opencps").unwrap();
        let row = json!({
            "dossierId": 4101, "dossierNo": "HS-000123", "referenceUid": "000.00.11.H18-240814-0001",
            "systemId": 5, "serviceCode": "1.001193", "serviceName": "Đăng ký khai sinh",
            "govAgencyCode": "000.00.11.H18", "govAgencyName": "Xã A",
            "dossierStatus": "processing", "dossierSubStatus": "paying",
            "dossierStatusText": "Đang xử lý", "online": false, "viaPostal": 1,
            "receiveDate": "14/08/2024 09:30:00", "dueDate": "", "releaseDate": "",
            "finishDate": "", "modifiedDate": "14/08/2024 10:00:00", "lockState": "PAUSE",
            "applicantName": "Lò Văn A", "applicantIdNo": "011100000001", "contactTelNo": "0912"
        });
        let (d, raw) = p.map_row(row).unwrap();
        assert_eq!(
            d.key, "000.00.11.H18-240814-0001",
            "systemId 5 → referenceUid"
        );
        assert_eq!(d.local_code, "HS-000123");
        assert_eq!(
            d.core.status,
            Some(Status::AwaitingPayment),
            "sub-status first"
        );
        assert_eq!(d.core.status_raw, "processing/paying");
        assert_eq!(d.channel, Channel::Postal);
        assert_eq!(d.core.due_at, None, "empty string is no date");
        assert_eq!(
            d.core.received_at.unwrap().to_string(),
            "2024-08-14 09:30:00"
        );
        assert_eq!(d.paused_since, Some(d.updated_at));
        assert!(
            !raw.contains("Lò Văn A") && !raw.contains("011100000001") && !raw.contains("0912")
        );

        // Not systemId 5: dossierNo; lockState PAUSE alone pauses; unknown word stays raw.
        let row = json!({"dossierId": 1, "dossierNo": "000.00.11.H18-240814-0002",
            "referenceUid": "x", "systemId": 1, "dossierStatus": "approving",
            "modifiedDate": "14/08/2024 10:00:00", "lockState": "PAUSE_OVERDUE", "online": true});
        let (d, _) = p.map_row(row).unwrap();
        assert_eq!(d.key, "000.00.11.H18-240814-0002");
        assert_eq!(d.core.status, None);
        assert_eq!(d.core.status_raw, "approving");
        assert_eq!(d.channel, Channel::Online);
        assert!(d.paused_since.is_some());
    }

    #[test]
    fn td_row_uses_ma_ho_so_khac_and_national_status_ids() {
        let p = Profile::builtin("td").unwrap();
        let row = json!({
            "Id": "3fa85f64", "MaHoSo": "TD-2024-0001", "MaHoSoKhac": "000.00.11.H18-240814-0001",
            "MaTTHC": "1.001193", "TenTTHC": "Đăng ký khai sinh", "DonViId": "000.00.11.H18",
            "TenDonVi": "Xã A", "TrangThaiHoSoId": 5, "KenhThucHien": 2,
            "NgayTiepNhan": "2024-08-14T09:30:00", "NgayHenTra": "2024-08-15T09:30:00.1234567",
            "NgayKetThucXuLy": null, "NgayYeuCauBoSung": "2024-08-14T11:00:00",
            "LastModifiedOn": "2024-08-14T11:00:00", "NguoiDangXuLy": "Cán bộ B",
            "ChuHoSo": "Lò Văn A", "SoGiayToChuHoSo": "011100000001"
        });
        let (d, raw) = p.map_row(row).unwrap();
        assert_eq!(d.key, "000.00.11.H18-240814-0001");
        assert_eq!(d.local_code, "TD-2024-0001");
        assert_eq!(d.core.status, Some(Status::SupplementRequested));
        assert_eq!(d.core.status_raw, "5");
        assert_eq!(d.channel, Channel::Online);
        assert_eq!(
            d.core.due_at.unwrap().to_string(),
            "2024-08-15 09:30:00.123456700"
        );
        assert_eq!(d.supplement_requests, Some(1));
        assert_eq!(d.paused_since.unwrap().to_string(), "2024-08-14 11:00:00");
        assert!(!raw.contains("Lò Văn A") && !raw.contains("011100000001"));
        // Empty MaHoSoKhac: MaHoSo is the key; an id outside 1..10 is unmapped, kept raw.
        let row = json!({"Id": "1", "MaHoSo": "000.00.11.H18-240814-0002", "MaHoSoKhac": "",
            "TrangThaiHoSoId": 11, "LastModifiedOn": "2024-08-14T11:00:00"});
        let (d, _) = p.map_row(row).unwrap();
        assert_eq!(d.key, "000.00.11.H18-240814-0002");
        assert_eq!((d.core.status, d.core.status_raw.as_str()), (None, "11"));
    }

    #[test]
    fn profile_file_errors_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("my-igate.toml");
        let text = BUILTIN[0]
            .1
            .replace("\"Đang xử lý\" = 4", "\"Đang xử lý\" = 40");
        std::fs::write(&path, text).unwrap();
        let err = Profile::from_file(&path).unwrap_err().to_string();
        assert!(err.contains("my-igate.toml") && err.contains("40"), "{err}");
        let err = Profile::from_file(&dir.path().join("none.toml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("none.toml"), "{err}");
        let bad = BUILTIN[1]
            .1
            .replace("groupId = \"group_id\"", "groupId = \"site\"");
        let err = Profile::parse("x", &bad).unwrap_err().to_string();
        assert!(err.contains("extra_headers.groupId"), "{err}");
        let bad = BUILTIN[0]
            .1
            .replace("finished_at = [9, 10]", "finished_at = [9, 12]");
        std::fs::write(&path, bad).unwrap();
        let err = Profile::from_file(&path).unwrap_err().to_string();
        assert!(
            err.contains("my-igate.toml") && err.contains("finished_at = [9, 12]"),
            "{err}"
        );
        assert!(
            err.contains("status 12 is not a status code 1..10"),
            "{err}"
        );
    }
}
