//! What a sample of replies says about the profile and the config: pure functions over JSON.
//! Nothing here keeps or returns a value of a row — only paths, key names, counts and
//! *shapes* (a type, a length, a date pattern such as `dd/MM/yyyy HH:mm:ss`). The one
//! exception is the status labels: they are the vendor's vocabulary, not citizens' data, and
//! the profile's `[statuses]` table is written in them.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use crate::model::{is_well_formed_national_code, Status};
use crate::profile::{drop_keys, get, get_str, Profile};

/// The canonical fields that hold a timestamp, read with the profile's `date_formats`.
const DATE_FIELDS: &[&str] = &[
    "received_at",
    "due_at",
    "finished_at",
    "returned_at",
    "updated_at",
    "supplement_requested_at",
];

/// The date pattern of a text, in the notation engineers and vendors write
/// (`yyyy-MM-ddTHH:mm:ss.SSS+zzzz`, `dd/MM/yyyy HH:mm`), or `None` when it does not look like
/// a date: at least a year, a month and a day; digits only where the pattern has them.
pub fn date_pattern(s: &str) -> Option<String> {
    let s = s.trim();
    // Compact forms: 14 digits (yyyyMMddHHmmss) or 8 (yyyyMMdd).
    if s.bytes().all(|b| b.is_ascii_digit()) {
        return match s.len() {
            14 => Some("yyyyMMddHHmmss".into()),
            8 if s.starts_with("19") || s.starts_with("20") => Some("yyyyMMdd".into()),
            _ => None,
        };
    }
    // Split into digit runs and the separators between them.
    let mut runs: Vec<(usize, String)> = Vec::new(); // (digits, separator before)
    let mut sep = String::new();
    let mut digits = 0;
    for c in s.chars() {
        if c.is_ascii_digit() {
            if digits == 0 {
                runs.push((0, std::mem::take(&mut sep)));
            }
            digits += 1;
            if let Some(last) = runs.last_mut() {
                last.0 = digits;
            }
        } else {
            digits = 0;
            sep.push(c);
        }
    }
    let tail = sep;
    if runs.len() < 3 || !runs[0].1.is_empty() {
        return None;
    }
    let year_first = runs[0].0 == 4;
    let date_sep = &runs[1].1;
    if !matches!(date_sep.as_str(), "-" | "/" | ".") || runs[2].1 != *date_sep {
        return None;
    }
    let (d0, d1, d2) = if year_first {
        ("yyyy", "MM", "dd")
    } else if runs[2].0 == 4 && runs[0].0 <= 2 {
        ("dd", "MM", "yyyy")
    } else {
        return None;
    };
    let width = |tok: &str, n: usize| {
        if n == tok.len() {
            tok.to_string()
        } else {
            tok[..1].repeat(n.max(1))
        }
    };
    let mut out = format!(
        "{}{date_sep}{}{date_sep}{}",
        width(d0, runs[0].0),
        width(d1, runs[1].0),
        width(d2, runs[2].0)
    );
    let mut time = ["HH", "mm", "ss"].into_iter();
    let mut times = 0;
    let mut in_zone = false;
    for (n, sep) in &runs[3..] {
        let sep = sep.as_str();
        let token = if in_zone || sep.ends_with('+') || (sep.ends_with('-') && times > 0) {
            in_zone = true;
            "z".repeat(*n)
        } else if (sep == "." || sep == ",") && times == 3 {
            "S".repeat(*n)
        } else {
            times += 1;
            width(time.next()?, *n)
        };
        out.push_str(sep);
        out.push_str(&token);
    }
    out.push_str(&tail);
    Some(out)
}

/// The shape of a value: its type and, for text, a date pattern, a national dossier code,
/// `digits(N)` or `text(N chars)`. Never the value.
pub fn shape_of(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(_) => "boolean".into(),
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer".into(),
        Value::Number(_) => "number".into(),
        Value::String(s) if s.trim().is_empty() => "empty text".into(),
        Value::String(s) => {
            if let Some(p) = date_pattern(s) {
                format!("date {p}")
            } else if is_well_formed_national_code(s) {
                "national dossier code".into()
            } else if s.bytes().all(|b| b.is_ascii_digit()) {
                format!("digits({})", s.len())
            } else {
                format!("text({} chars)", s.chars().count())
            }
        }
        Value::Array(a) => format!("array({})", a.len()),
        Value::Object(o) => format!("object({} keys)", o.len()),
    }
}

/// The most frequent entry of a tally (ties: the first in order).
fn commonest(tally: &BTreeMap<String, usize>) -> Option<String> {
    tally
        .iter()
        .max_by(|a, b| a.1.cmp(b.1).then_with(|| b.0.cmp(a.0)))
        .map(|(k, _)| k.clone())
}

/// One profile field over the sample.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FieldCoverage {
    /// The canonical field, e.g. `due_at`.
    pub field: &'static str,
    /// Its path in the profile.
    pub path: String,
    /// Rows where the path exists (even as null or empty text).
    pub present: usize,
    /// Rows where it holds a non-empty value.
    pub filled: usize,
    /// The commonest shape of its non-empty values.
    pub shape: Option<String>,
}

/// One status value seen.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StatusSeen {
    /// The status (and sub-status, `status/sub`) as the vendor writes it.
    pub label: String,
    /// Rows carrying it.
    pub rows: usize,
    /// The national code it maps to, when the profile maps it.
    pub maps_to: Option<u8>,
    /// For an unmapped label, the national code its words suggest (to be confirmed).
    pub suggested: Option<u8>,
}

/// A date value no configured format reads.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct UnparsedDate {
    /// The canonical field.
    pub field: &'static str,
    /// The value's shape (a date pattern when it looks like a date).
    pub shape: String,
    /// Rows with this field in this shape.
    pub rows: usize,
}

/// What a sample of provincial rows says about the profile.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ProvincialFindings {
    /// Rows examined.
    pub rows: usize,
    /// Rows that are not JSON objects.
    pub not_objects: usize,
    /// Each field of the profile that has a path.
    pub coverage: Vec<FieldCoverage>,
    /// Status values seen, commonest first.
    pub statuses: Vec<StatusSeen>,
    /// Date values no `date_formats` entry reads, by field and shape.
    pub unparsed_dates: Vec<UnparsedDate>,
    /// Paths of values the profile neither maps nor keeps, with the rows carrying them: may
    /// hold personal data.
    pub unlisted: Vec<(String, usize)>,
    /// `personal_data` keys seen (dropped before anything is read), with their rows.
    pub personal_seen: Vec<(String, usize)>,
    /// Rows whose national code is empty or absent.
    pub without_national_code: usize,
    /// Rows whose national code is not `<unit>-<yyMMdd>-<seq>`, by the code's shape.
    pub malformed_national_codes: Vec<(String, usize)>,
}

/// The national status code a vendor label's words suggest, when they clearly do: the
/// national labels themselves, then the usual words of one-stop systems. `None` when unsure.
pub fn suggest_status(label: &str) -> Option<u8> {
    if let Some(s) = Status::from_label_vi(label) {
        return Some(s.code());
    }
    let l = label.trim().to_lowercase();
    let has = |w: &str| l.contains(w);
    let code = if has("rút") {
        7
    } else if has("dừng") || has("hủy") || has("huỷ") {
        8
    } else if has("từ chối") || has("không tiếp nhận") || has("không được tiếp nhận")
    {
        3
    } else if has("bổ sung") {
        5
    } else if has("nghĩa vụ tài chính") || has("thanh toán") || has("nộp phí") {
        6
    } else if has("đã trả") || has("trả kết quả") {
        10
    } else if has("có kết quả") || has("hoàn thành") || has("xử lý xong") {
        9
    } else if has("xử lý") || has("duyệt") || has("thẩm định") || has("ký") {
        4
    } else if has("đã tiếp nhận") || has("được tiếp nhận") {
        2
    } else if has("chờ tiếp nhận") || has("mới") || has("đăng ký") {
        1
    } else {
        return None;
    };
    Some(code)
}

/// The national code the profile maps `status` (and `sub`) to, as `map_row` would.
fn mapped_status(profile: &Profile, status: &str, sub: Option<&str>) -> Option<u8> {
    profile.status_of(status, sub).map(Status::code)
}

/// The `personal_data` keys present anywhere in a row.
fn personal_keys(v: &Value, keys: &[String], out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                if keys.iter().any(|d| d == k) {
                    out.push(k.clone());
                } else {
                    personal_keys(child, keys, out);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|c| personal_keys(c, keys, out)),
        _ => {}
    }
}

/// Examines a sample of provincial rows against the profile: what it maps, and the keys it
/// neither maps nor keeps (`Profile::unlisted_paths`).
pub fn analyse_rows(profile: &Profile, rows: &[Value]) -> ProvincialFindings {
    let mut f = ProvincialFindings {
        rows: rows.len(),
        ..Default::default()
    };
    let fields = profile.fields.paths();
    let mut present = vec![0usize; fields.len()];
    let mut filled = vec![0usize; fields.len()];
    let mut shapes: Vec<BTreeMap<String, usize>> = vec![BTreeMap::new(); fields.len()];
    let mut statuses: BTreeMap<String, usize> = BTreeMap::new();
    let mut unparsed: BTreeMap<(&'static str, String), usize> = BTreeMap::new();
    let mut unlisted: BTreeMap<String, usize> = BTreeMap::new();
    let mut personal: BTreeMap<String, usize> = BTreeMap::new();
    let mut malformed: BTreeMap<String, usize> = BTreeMap::new();
    for raw in rows {
        if !raw.is_object() {
            f.not_objects += 1;
            continue;
        }
        let mut seen = Vec::new();
        personal_keys(raw, &profile.personal_data, &mut seen);
        seen.sort();
        seen.dedup();
        for k in seen {
            *personal.entry(k).or_default() += 1;
        }
        let mut row = raw.clone();
        drop_keys(&mut row, &profile.personal_data);
        for (i, (name, path)) in fields.iter().enumerate() {
            let Some(v) = get(&row, path) else { continue };
            present[i] += 1;
            let empty = v.is_null() || v.as_str().is_some_and(|s| s.trim().is_empty());
            if empty {
                continue;
            }
            filled[i] += 1;
            *shapes[i].entry(shape_of(v)).or_default() += 1;
            if DATE_FIELDS.contains(name) {
                if let Some(text) = get_str(&row, path) {
                    if profile
                        .parse_date(name, &text, crate::timestamp::DateOnly::StartOfDay)
                        .is_err()
                    {
                        *unparsed.entry((name, shape_of(v))).or_default() += 1;
                    }
                }
            }
        }
        let status = get_str(&row, &profile.fields.status).unwrap_or_default();
        let sub = get_str(&row, &profile.fields.sub_status).filter(|s| !s.is_empty());
        let label = match &sub {
            Some(sub) => format!("{status}/{sub}"),
            None => status,
        };
        *statuses.entry(label).or_default() += 1;
        for p in profile.unlisted_paths(&row) {
            *unlisted.entry(p).or_default() += 1;
        }
        match profile.national_code(&row) {
            None => f.without_national_code += 1,
            Some(c) if !is_well_formed_national_code(&c) => {
                *malformed.entry(code_shape(&c)).or_default() += 1
            }
            Some(_) => {}
        }
    }
    f.coverage = fields
        .iter()
        .enumerate()
        .filter(|(_, (_, path))| !path.is_empty())
        .map(|(i, (name, path))| FieldCoverage {
            field: name,
            path: path.to_string(),
            present: present[i],
            filled: filled[i],
            shape: commonest(&shapes[i]),
        })
        .collect();
    f.statuses = statuses
        .into_iter()
        .map(|(label, rows)| {
            let (status, sub) = match label.split_once('/') {
                Some((s, sub)) if !profile.fields.sub_status.is_empty() => (s, Some(sub)),
                _ => (label.as_str(), None),
            };
            let maps_to = mapped_status(profile, status, sub);
            let suggested = maps_to.is_none().then(|| suggest_status(status)).flatten();
            StatusSeen {
                label: label.clone(),
                rows,
                maps_to,
                suggested,
            }
        })
        .collect();
    f.statuses
        .sort_by(|a, b| b.rows.cmp(&a.rows).then(a.label.cmp(&b.label)));
    f.unparsed_dates = unparsed
        .into_iter()
        .map(|((field, shape), rows)| UnparsedDate { field, shape, rows })
        .collect();
    f.unlisted = unlisted.into_iter().collect();
    f.personal_seen = personal.into_iter().collect();
    f.malformed_national_codes = malformed.into_iter().collect();
    f
}

/// The shape of a dossier code: digits as `9`, upper-case letters as `A`, lower-case as `a`,
/// anything else kept (`000.00.11.H18-240814-0001` → `999.99.99.A99-999999-9999`).
pub fn code_shape(code: &str) -> String {
    code.chars()
        .map(|c| {
            if c.is_ascii_digit() {
                '9'
            } else if c.is_uppercase() {
                'A'
            } else if c.is_lowercase() {
                'a'
            } else {
                c
            }
        })
        .collect()
}

impl ProvincialFindings {
    /// What the profile must be adapted for, one line each, naming the key to change; empty
    /// when it covers everything seen.
    pub fn to_adapt(&self) -> Vec<String> {
        let mut out = Vec::new();
        let with_rows = self.rows - self.not_objects;
        if self.not_objects > 0 {
            out.push(format!(
                "{} of {} rows are not JSON objects: check rows_field",
                self.not_objects, self.rows
            ));
        }
        if with_rows > 0 {
            for c in self.coverage.iter().filter(|c| c.present == 0) {
                out.push(format!(
                    "fields.{} = \"{}\": found in none of {with_rows} rows (renamed? set the \
                     path the rows use)",
                    c.field, c.path
                ));
            }
        }
        for s in self.statuses.iter().filter(|s| s.maps_to.is_none()) {
            let hint = match s.suggested {
                Some(code) => format!("suggested: \"{}\" = {code}", s.label),
                None => format!("add \"{}\" = <national code 1..10>", s.label),
            };
            out.push(format!(
                "status \"{}\" ({} rows) is not in [statuses]: {hint}",
                s.label, s.rows
            ));
        }
        for d in &self.unparsed_dates {
            out.push(format!(
                "fields.{}: {} rows hold a date no date_formats entry reads, shaped `{}`: add \
                 its format to date_formats",
                d.field, d.rows, d.shape
            ));
        }
        for (path, rows) in &self.unlisted {
            out.push(format!(
                "key `{path}` ({rows} rows) is neither mapped nor kept: may hold personal \
                 data: confirm and add to the profile (keep if impersonal, personal_data if not)"
            ));
        }
        out
    }

    /// Rows without a national code or with a malformed one, one line each (they cannot be
    /// looked up; the sync flags them, the profile may be reading the wrong path).
    pub fn code_notes(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.without_national_code > 0 {
            out.push(format!(
                "{} of {} rows have no national code",
                self.without_national_code, self.rows
            ));
        }
        for (shape, rows) in &self.malformed_national_codes {
            out.push(format!(
                "{rows} rows have a malformed national code shaped `{shape}` (want \
                 <unit>-<yyMMdd>-<seq>)"
            ));
        }
        out
    }
}

/// The date fields of a national reply row (docs/domain.md §8).
const NATIONAL_DATES: &[&str] = &["NgayTiepNhan", "NgayHenTra", "NgayKetThucXuLy", "NgayTra"];

/// What a sample of `TraCuuHoSo` replies looked like: where the rows sit, the forms of
/// `error_code` and of the status, the date shapes, not-found replies, whether the codes
/// match. Counts and shapes only.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct NationalFindings {
    /// Look-ups sent.
    pub asked: usize,
    /// Replies by where their rows sit: `result`, `data`, or `neither`.
    pub rows_in: BTreeMap<String, usize>,
    /// Replies by the form of their `error_code`: `0` (a number), `"0"`, `"00"` (text), or
    /// another code.
    pub error_codes: BTreeMap<String, usize>,
    /// Replies with a row for the code asked.
    pub found: usize,
    /// Success replies with no row: the portal does not have the dossier.
    pub not_found: usize,
    /// Replies whose rows are for another code than the one asked.
    pub other_code: usize,
    /// Replies with more than one row for the code asked.
    pub duplicate_rows: usize,
    /// Rows by how they give the status: `MaTrangThai code`, `TrangThaiHoSo code`,
    /// `TrangThaiHoSo label`, `TrangThaiHoSo unknown label`, `none`.
    pub status_forms: BTreeMap<String, usize>,
    /// Date values by field and shape.
    pub date_shapes: BTreeMap<String, usize>,
    /// Date values tthc-sync cannot read, by field and shape.
    pub unread_dates: BTreeMap<String, usize>,
    /// Look-ups that failed, by the error's kind (never its text: it may quote a value).
    pub failures: BTreeMap<String, usize>,
}

fn error_code_form(v: Option<&Value>) -> String {
    match v {
        None => "absent".into(),
        Some(Value::Number(n)) => format!("{n} (number)"),
        Some(Value::String(s))
            if s.len() <= 8 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') =>
        {
            format!("\"{s}\" (text)")
        }
        Some(other) => shape_of(other),
    }
}

impl NationalFindings {
    /// Records the reply to a look-up of `code` (a success envelope or not).
    pub fn record_reply(&mut self, code: &str, reply: &Value) {
        self.asked += 1;
        *self
            .error_codes
            .entry(error_code_form(reply.get("error_code")))
            .or_default() += 1;
        let (key, rows) = match (reply.get("result"), reply.get("data")) {
            (Some(r @ Value::Array(_)), _) => ("result", r),
            (_, Some(d @ Value::Array(_))) => ("data", d),
            _ => ("neither", &Value::Null),
        };
        *self.rows_in.entry(key.into()).or_default() += 1;
        let rows = rows.as_array().map(Vec::as_slice).unwrap_or(&[]);
        if key == "neither" {
            return;
        }
        if rows.is_empty() {
            self.not_found += 1;
            return;
        }
        let mine: Vec<&Value> = rows
            .iter()
            .filter(|r| get_str(r, "MaHoSo").is_some_and(|c| c.trim() == code))
            .collect();
        match mine.len() {
            0 => self.other_code += 1,
            1 => self.found += 1,
            _ => {
                self.found += 1;
                self.duplicate_rows += 1
            }
        }
        for row in rows {
            let form = match (get_str(row, "MaTrangThai"), get_str(row, "TrangThaiHoSo")) {
                (Some(c), _) if c.trim().parse::<u8>().is_ok() => "MaTrangThai code",
                (_, Some(t)) if t.trim().parse::<u8>().is_ok() => "TrangThaiHoSo code",
                (_, Some(t)) if Status::from_label_vi(&t).is_some() => "TrangThaiHoSo label",
                (_, Some(_)) => "TrangThaiHoSo unknown label",
                _ => "none",
            };
            *self.status_forms.entry(form.into()).or_default() += 1;
            for field in NATIONAL_DATES {
                let Some(v) = row.get(*field) else { continue };
                let text = get_str(row, field).unwrap_or_default();
                if text.trim().is_empty() {
                    continue;
                }
                let key = format!("{field}: {}", shape_of(v));
                if crate::source::national::parse_date(
                    &text,
                    crate::timestamp::DateOnly::StartOfDay,
                )
                .is_err()
                {
                    *self.unread_dates.entry(key.clone()).or_default() += 1;
                }
                *self.date_shapes.entry(key).or_default() += 1;
            }
        }
    }

    /// Records a look-up that failed with `kind` (e.g. `HTTP 500`, `error_code 99`).
    pub fn record_failure(&mut self, kind: String) {
        self.asked += 1;
        *self.failures.entry(kind).or_default() += 1;
    }

    /// What does not fit what tthc-sync reads, one line each.
    pub fn to_adapt(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(n) = self.rows_in.get("neither") {
            out.push(format!(
                "{n} national replies have neither a `result` nor a `data` array: the adapter's \
                 reply shape differs (report it with the redacted sample)"
            ));
        }
        for (shape, n) in &self.unread_dates {
            out.push(format!(
                "{n} national dates shaped {shape} are not read by tthc-sync (report it with the \
                 redacted sample)"
            ));
        }
        if let Some(n) = self.status_forms.get("TrangThaiHoSo unknown label") {
            out.push(format!(
                "{n} national rows give the status as a label tthc-sync does not know (report \
                 it with the redacted sample)"
            ));
        }
        if self.other_code > 0 {
            out.push(format!(
                "{} national replies answered for another code than the one asked",
                self.other_code
            ));
        }
        out
    }
}

/// The published scores check: reachable, rows, the province's own row found.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ScoresCheck {
    /// The API (`legacy` or `progress_tree`).
    pub api: String,
    /// The month asked, `YYYY-MM`.
    pub month: String,
    /// Rows read, when the API answered.
    pub rows: Option<usize>,
    /// The province's own row was among them.
    pub province_found: bool,
    /// Why it failed, when it did (the portal's message, never a secret).
    pub error: Option<String>,
    /// The failure was the portal being unreachable (transport), not a reply saying no.
    pub unreachable: bool,
}

impl ScoresCheck {
    /// What to adapt in `[scores]`, one line each.
    pub fn to_adapt(&self) -> Vec<String> {
        if self.unreachable {
            return Vec::new();
        }
        let key = if self.api == "legacy" {
            "scores.province_id"
        } else {
            "scores.root_department_id"
        };
        match (&self.error, self.province_found) {
            (Some(e), _) => vec![format!(
                "published scores ({}, {}): {e}: check {key} and scores.api",
                self.api, self.month
            )],
            (None, false) => vec![format!(
                "published scores ({}, {}): {} rows, none is the province's: check {key}",
                self.api,
                self.month,
                self.rows.unwrap_or(0)
            )],
            (None, true) => Vec::new(),
        }
    }
}

/// The chrono format (for `date_formats`) of a date pattern from [`date_pattern`], when
/// there is one (`dd/MM/yyyy HH:mm` → `%d/%m/%Y %H:%M`).
pub fn chrono_format(pattern: &str) -> Option<String> {
    let mut out = String::new();
    let mut rest = pattern;
    let table: &[(&str, &str)] = &[
        ("yyyyMMddHHmmss", "%Y%m%d%H%M%S"),
        ("yyyyMMdd", "%Y%m%d"),
        ("yyyy", "%Y"),
        (".SSSSSSSSS", "%.f"),
        (".SSSSSS", "%.f"),
        (".SSS", "%.3f"),
        ("+zz:zz", "%:z"),
        ("-zz:zz", "%:z"),
        ("+zzzz", "%z"),
        ("-zzzz", "%z"),
        ("MM", "%m"),
        ("dd", "%d"),
        ("HH", "%H"),
        ("mm", "%M"),
        ("ss", "%S"),
        ("M", "%m"),
        ("d", "%d"),
        ("H", "%H"),
    ];
    'outer: while !rest.is_empty() {
        for (tok, f) in table {
            if let Some(r) = rest.strip_prefix(tok) {
                out.push_str(f);
                rest = r;
                continue 'outer;
            }
        }
        let c = rest.chars().next()?;
        if c.is_ascii_alphabetic() && !matches!(c, 'T' | 'Z') {
            return None;
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    Some(out)
}

#[cfg(test)]
#[path = "analysis_tests.rs"]
mod tests;
