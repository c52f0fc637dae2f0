//! A profile's `[paging]` section: how the list call is paged, and how a reply says where the
//! list ends. Pure: a reply in, a verdict out ([`Paging::judge`]).
//!
//! The end of a pull is *positive evidence*: a page is the last only when every end signal the
//! profile declares says so (`last` = true, no next page, the offset reaching the reported
//! total, a short page). A page whose signals disagree — above all an empty or short page
//! while the reply's own total or `last` flag says more rows follow, as search-backed list APIs
//! and gateways that time out into an empty HTTP 200 answer — is a [`PageEnd::Contradiction`]:
//! a failed page, never the end of the list (docs/profiles.md, "How a reply says the list
//! ended").

use std::fmt;

use serde::de::{self, Deserializer, IntoDeserializer, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::Value;

/// How the list call is paged (`[paging] style`).
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum PagingStyle {
    /// `page` (0-based) and `size` (iGate).
    Page0,
    /// `start` and `end` offsets (OpenCPS).
    Offset,
    /// `PageNumber` (1-based) and `PageSize` (td).
    Page1,
}

/// One way a list reply can say whether it is the last page (`[paging] end_signals`).
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum EndSignal {
    /// A boolean that is true on the last page (`last_field`; Spring's `last`).
    Last,
    /// A boolean that is true while another page follows (`next_field`; td `hasNextPage`).
    Next,
    /// The number of rows of the whole list (`total_field`): the page ending at or past it is
    /// the last.
    Total,
    /// A page with fewer rows than asked is the last (the system always fills its pages).
    Short,
}

impl EndSignal {
    fn name(self) -> &'static str {
        match self {
            EndSignal::Last => "last",
            EndSignal::Next => "next",
            EndSignal::Total => "total",
            EndSignal::Short => "short",
        }
    }
}

/// How the list call is paged and how its replies say where the list ends: the profile's
/// `[paging]` table (or the short form `paging = "page0"`, which takes the style's defaults).
#[derive(Clone, Debug, PartialEq)]
pub struct Paging {
    /// The request parameters' style.
    pub style: PagingStyle,
    /// The end signals every reply gives, all of which must agree that a page is the last.
    pub end_signals: Vec<EndSignal>,
    /// Path of the "last page" flag in a reply (signal `last`).
    pub last_field: String,
    /// Path of the "another page follows" flag (signal `next`).
    pub next_field: String,
    /// Path of the list's total row count (signal `total`).
    pub total_field: String,
    /// The total is an exact count. When false (a search engine's estimate) it is recorded and
    /// shown, but it neither ends a pull, nor contradicts a page, nor judges a sweep complete.
    pub total_exact: bool,
}

impl Paging {
    /// The defaults of a style, as the built-in profiles' vendors page: iGate's Spring page
    /// (`last`, `totalElements`), OpenCPS's `{"total","data"}`, td's `hasNextPage` and
    /// `totalCount`; each system fills its pages, so a short page ends the list.
    pub fn defaults(style: PagingStyle) -> Paging {
        let (end_signals, total_field) = match style {
            PagingStyle::Page0 => (
                vec![EndSignal::Last, EndSignal::Total, EndSignal::Short],
                "totalElements",
            ),
            PagingStyle::Offset => (vec![EndSignal::Total, EndSignal::Short], "total"),
            PagingStyle::Page1 => (
                vec![EndSignal::Next, EndSignal::Total, EndSignal::Short],
                "totalCount",
            ),
        };
        Paging {
            style,
            end_signals,
            last_field: "last".into(),
            next_field: "hasNextPage".into(),
            total_field: total_field.into(),
            total_exact: true,
        }
    }

    /// True when the profile declares a signal.
    pub fn gives(&self, signal: EndSignal) -> bool {
        self.end_signals.contains(&signal)
    }

    /// True when replies carry an exact total of the list (signal `total`, `total_exact`): the
    /// pull can then check its rows against it.
    pub fn exact_total(&self) -> bool {
        self.gives(EndSignal::Total) && self.total_exact
    }

    /// Checks the section; the message names the key under `paging.`.
    pub fn check(&self) -> Result<(), String> {
        if self.end_signals.is_empty() {
            return Err(
                "paging.end_signals must name at least one of last, next, total, \
                        short"
                    .into(),
            );
        }
        for (i, s) in self.end_signals.iter().enumerate() {
            if self.end_signals[..i].contains(s) {
                return Err(format!("paging.end_signals names \"{}\" twice", s.name()));
            }
            let (key, path) = match s {
                EndSignal::Last => ("last_field", &self.last_field),
                EndSignal::Next => ("next_field", &self.next_field),
                EndSignal::Total => ("total_field", &self.total_field),
                EndSignal::Short => continue,
            };
            if path.trim().is_empty() {
                return Err(format!(
                    "paging.{key} must not be empty: paging.end_signals includes \"{}\"",
                    s.name()
                ));
            }
        }
        if self.end_signals == [EndSignal::Total] && !self.total_exact {
            return Err(
                "paging.end_signals = [\"total\"] with total_exact = false can never \
                        establish the end of the list: add \"short\", \"last\" or \"next\""
                    .into(),
            );
        }
        Ok(())
    }

    /// What a reply says about where it stands: the page held `rows` rows of the `asked`,
    /// after `offset` rows of earlier pages. Reads only the signals the profile declares.
    pub fn report(&self, reply: &Value, rows: usize, asked: u32, offset: u64) -> PageReport {
        let field = |signal: EndSignal, path: &str| {
            self.gives(signal)
                .then(|| super::get(reply, path))
                .flatten()
        };
        PageReport {
            rows,
            asked,
            offset,
            last: field(EndSignal::Last, &self.last_field).and_then(flag),
            next: field(EndSignal::Next, &self.next_field).and_then(flag),
            total: field(EndSignal::Total, &self.total_field).and_then(count),
        }
    }

    /// Whether the page is the last, is followed by more, or contradicts itself. The end only
    /// when every declared signal says so; more when every signal that speaks says more and
    /// the page is full; anything else — signals that disagree, an empty page that no signal
    /// ends, a declared signal the reply lacks — is a contradiction, described for the run's
    /// problems (never with row content).
    pub fn judge(&self, r: &PageReport) -> PageEnd {
        let mut ends: Vec<String> = Vec::new();
        let mut more: Vec<String> = Vec::new();
        // A page holding more rows than asked (a row repeated from the page before) still
        // ends where a full page would.
        let through = r.offset + r.rows.min(r.asked as usize) as u64;
        for signal in &self.end_signals {
            match signal {
                EndSignal::Last => match r.last {
                    Some(true) => ends.push(format!("`{}` = true", self.last_field)),
                    Some(false) => more.push(format!("`{}` = false", self.last_field)),
                    None => return self.lacks(EndSignal::Last, &self.last_field),
                },
                EndSignal::Next => match r.next {
                    Some(false) => ends.push(format!("`{}` = false", self.next_field)),
                    Some(true) => more.push(format!("`{}` = true", self.next_field)),
                    None => return self.lacks(EndSignal::Next, &self.next_field),
                },
                EndSignal::Total => match r.total {
                    // An estimate says nothing about this page.
                    _ if !self.total_exact => {}
                    Some(t) if through >= t => ends.push(format!(
                        "`{}` = {t} (reached: this page ends at row {through})",
                        self.total_field
                    )),
                    Some(t) => more.push(format!(
                        "`{}` = {t} (this page ends at row {through})",
                        self.total_field
                    )),
                    None => return self.lacks(EndSignal::Total, &self.total_field),
                },
                EndSignal::Short => {
                    if r.rows < r.asked as usize {
                        ends.push(short_page(r));
                    }
                }
            }
        }
        match (ends.is_empty(), more.is_empty()) {
            (false, true) => PageEnd::End,
            (true, _) if r.rows == 0 => {
                let why = if more.is_empty() {
                    "no end signal says it is the last".to_string()
                } else {
                    more.join(" and ")
                };
                PageEnd::Contradiction(format!("{} but {why}", short_page(r)))
            }
            (true, _) => PageEnd::More,
            (false, false) => {
                PageEnd::Contradiction(format!("{} but {}", ends.join(" and "), more.join(" and ")))
            }
        }
    }

    fn lacks(&self, signal: EndSignal, path: &str) -> PageEnd {
        PageEnd::Contradiction(format!(
            "the reply has no `{path}`, which the profile's paging.end_signals (\"{}\") says \
             every reply gives",
            signal.name()
        ))
    }
}

fn short_page(r: &PageReport) -> String {
    if r.rows == 0 {
        format!("an empty page (0 of {} rows)", r.asked)
    } else {
        format!("a short page ({} of {} rows)", r.rows, r.asked)
    }
}

/// A flag as vendors write it: a boolean, or the text `true`/`false`.
fn flag(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::String(s) => match s.trim() {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// A count as vendors write it: a non-negative integer, or its digits as text.
fn count(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// What one list reply says about its place in the list (see [`Paging::report`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PageReport {
    /// Rows on the page.
    pub rows: usize,
    /// Rows asked for (the page size).
    pub asked: u32,
    /// Rows before this page (page number × page size).
    pub offset: u64,
    /// The "last page" flag, when declared and present.
    pub last: Option<bool>,
    /// The "next page follows" flag, when declared and present.
    pub next: Option<bool>,
    /// The reported total of the list, when declared and present.
    pub total: Option<u64>,
}

/// The verdict on one page (see [`Paging::judge`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PageEnd {
    /// Every declared signal says this is the last page.
    End,
    /// More pages follow.
    More,
    /// The reply contradicts itself (or lacks a declared signal): a failed page, to be fetched
    /// again. The text says what the reply said.
    Contradiction(String),
}

/// The `[paging]` table as written: every key but `style` optional.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PagingTable {
    style: PagingStyle,
    end_signals: Option<Vec<EndSignal>>,
    last_field: Option<String>,
    next_field: Option<String>,
    total_field: Option<String>,
    total_exact: Option<bool>,
}

impl From<PagingTable> for Paging {
    fn from(t: PagingTable) -> Paging {
        let d = Paging::defaults(t.style);
        Paging {
            style: t.style,
            end_signals: t.end_signals.unwrap_or(d.end_signals),
            last_field: t.last_field.unwrap_or(d.last_field),
            next_field: t.next_field.unwrap_or(d.next_field),
            total_field: t.total_field.unwrap_or(d.total_field),
            total_exact: t.total_exact.unwrap_or(d.total_exact),
        }
    }
}

/// `paging = "page0"` (the style, with its defaults: profiles written before the `[paging]`
/// table) or a `[paging]` table.
impl<'de> Deserialize<'de> for Paging {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Paging, D::Error> {
        struct PagingVisitor;
        impl<'de> Visitor<'de> for PagingVisitor {
            type Value = Paging;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a paging style (\"page0\", \"offset\", \"page1\") or a [paging] table")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Paging, E> {
                let style = PagingStyle::deserialize(v.into_deserializer())?;
                Ok(Paging::defaults(style))
            }
            fn visit_map<M: MapAccess<'de>>(self, map: M) -> Result<Paging, M::Error> {
                PagingTable::deserialize(de::value::MapAccessDeserializer::new(map)).map(Into::into)
            }
        }
        d.deserialize_any(PagingVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn paging(text: &str) -> Result<Paging, String> {
        #[derive(Deserialize)]
        struct Doc {
            paging: Paging,
        }
        toml::from_str::<Doc>(text)
            .map(|d| d.paging)
            .map_err(|e| e.to_string())
    }

    /// Judges `reply` as page `n` of `size` rows holding `rows` rows.
    fn judge(p: &Paging, reply: Value, n: u64, size: u32, rows: usize) -> PageEnd {
        p.judge(&p.report(&reply, rows, size, n * u64::from(size)))
    }

    fn is_contradiction(e: &PageEnd, words: &[&str]) -> bool {
        matches!(e, PageEnd::Contradiction(why) if words.iter().all(|w| why.contains(w)))
    }

    /// A reply, its page, the rows on it, and the verdict (or the words of the contradiction).
    type Case = (Value, u64, usize, Result<PageEnd, &'static [&'static str]>);

    #[test]
    fn igate_page_replies() {
        let p = Paging::defaults(PagingStyle::Page0);
        let r = |last: bool, total: u64| json!({"last": last, "totalElements": total});
        // (reply, page, rows on it, verdict words: None = End/More as given)
        let cases: Vec<Case> = vec![
            (r(false, 1500), 0, 100, Ok(PageEnd::More)),
            (r(false, 1500), 13, 100, Ok(PageEnd::More)),
            (r(true, 1500), 14, 100, Ok(PageEnd::End)),
            (r(true, 1450), 14, 50, Ok(PageEnd::End)),
            // past the end: empty, last, total reached
            (r(true, 1500), 15, 0, Ok(PageEnd::End)),
            (r(true, 0), 0, 0, Ok(PageEnd::End)),
            // the page: empty, not last, 1,500 in all
            (
                r(false, 1500),
                3,
                0,
                Err(&[
                    "an empty page (0 of 100 rows)",
                    "`last` = false",
                    "`totalElements` = 1500",
                ]),
            ),
            // short mid-list
            (
                r(false, 1500),
                3,
                37,
                Err(&["a short page (37 of 100 rows)", "`last` = false"]),
            ),
            // `last` while the total says more
            (
                r(true, 1500),
                3,
                100,
                Err(&["`last` = true", "`totalElements` = 1500"]),
            ),
            // an empty page that says it is the last, while the total says 1,500
            (
                r(true, 1500),
                3,
                0,
                Err(&["`last` = true", "`totalElements` = 1500"]),
            ),
            // not last while the total is reached
            (r(false, 400), 3, 100, Err(&["`last` = false", "reached"])),
            // a declared signal missing from the reply
            (json!({"last": false}), 0, 100, Err(&["no `totalElements`"])),
            (json!({"totalElements": 9}), 0, 9, Err(&["no `last`"])),
            (json!({}), 0, 0, Err(&["no `last`"])),
        ];
        for (reply, n, rows, want) in cases {
            let got = judge(&p, reply.clone(), n, 100, rows);
            match want {
                Ok(v) => assert_eq!(got, v, "{reply} page {n} rows {rows}"),
                Err(words) => assert!(
                    is_contradiction(&got, words),
                    "{reply} page {n} rows {rows}: {got:?}, want {words:?}"
                ),
            }
        }
    }

    #[test]
    fn igate_slice_replies() {
        // `spec = "slice"`: Spring's Slice has no totals.
        let p = paging("[paging]\nstyle = \"page0\"\nend_signals = [\"last\", \"short\"]").unwrap();
        assert!(!p.exact_total());
        let r = |last: bool| json!({"last": last, "number": 0});
        assert_eq!(judge(&p, r(false), 0, 100, 100), PageEnd::More);
        assert_eq!(judge(&p, r(true), 4, 100, 100), PageEnd::End);
        assert_eq!(judge(&p, r(true), 4, 100, 3), PageEnd::End);
        assert!(is_contradiction(
            &judge(&p, r(false), 4, 100, 0),
            &["an empty page", "`last` = false"]
        ));
        assert!(is_contradiction(
            &judge(&p, r(false), 4, 100, 99),
            &["a short page (99 of 100 rows)", "`last` = false"]
        ));
        // A total in the reply is not read: it is not declared.
        assert_eq!(
            p.report(&json!({"last": false, "totalElements": 5}), 100, 100, 0)
                .total,
            None
        );
    }

    #[test]
    fn opencps_offset_replies() {
        let p = Paging::defaults(PagingStyle::Offset);
        let r = |total: u64| json!({"total": total, "data": []});
        assert_eq!(judge(&p, r(1500), 0, 100, 100), PageEnd::More);
        assert_eq!(judge(&p, r(1500), 14, 100, 100), PageEnd::End);
        assert_eq!(judge(&p, r(1450), 14, 100, 50), PageEnd::End);
        assert_eq!(judge(&p, r(0), 0, 100, 0), PageEnd::End);
        // A total that grew while we read: this page is full and more follow.
        assert_eq!(judge(&p, r(1510), 14, 100, 100), PageEnd::More);
        // A total that shrank: the offset passed it, the page is empty.
        assert_eq!(judge(&p, r(1390), 14, 100, 0), PageEnd::End);
        assert!(is_contradiction(
            &judge(&p, r(1500), 3, 100, 0),
            &[
                "an empty page",
                "`total` = 1500 (this page ends at row 300)"
            ]
        ));
        assert!(is_contradiction(
            &judge(&p, r(1500), 3, 100, 40),
            &["a short page (40 of 100 rows)", "`total` = 1500"]
        ));
        assert!(is_contradiction(
            &judge(&p, json!({"data": []}), 0, 100, 0),
            &["no `total`"]
        ));
        // Totals as text are read.
        assert_eq!(
            judge(&p, json!({"total": "1500"}), 14, 100, 100),
            PageEnd::End
        );
    }

    #[test]
    fn td_page1_replies() {
        let p = Paging::defaults(PagingStyle::Page1);
        let r = |next: bool, total: u64| json!({"hasNextPage": next, "totalCount": total});
        assert_eq!(judge(&p, r(true, 1500), 0, 100, 100), PageEnd::More);
        assert_eq!(judge(&p, r(false, 1500), 14, 100, 100), PageEnd::End);
        assert_eq!(judge(&p, r(false, 1401), 14, 100, 1), PageEnd::End);
        assert!(is_contradiction(
            &judge(&p, r(true, 1500), 3, 100, 0),
            &[
                "an empty page",
                "`hasNextPage` = true",
                "`totalCount` = 1500"
            ]
        ));
        assert!(is_contradiction(
            &judge(&p, r(false, 1500), 3, 100, 100),
            &["`hasNextPage` = false", "`totalCount` = 1500"]
        ));
        assert!(is_contradiction(
            &judge(
                &p,
                json!({"hasNextPage": "yes", "totalCount": 3}),
                0,
                100,
                3
            ),
            &["no `hasNextPage`"]
        ));
    }

    #[test]
    fn estimated_totals_neither_end_nor_contradict() {
        let p = paging(
            "[paging]\nstyle = \"page0\"\nend_signals = [\"last\", \"total\", \"short\"]\n\
             total_exact = false",
        )
        .unwrap();
        assert!(!p.exact_total());
        let reply = json!({"last": false, "totalElements": 10000});
        assert_eq!(judge(&p, reply, 150, 100, 100), PageEnd::More);
        let reply = json!({"last": true, "totalElements": 10000});
        assert_eq!(judge(&p, reply.clone(), 3, 100, 40), PageEnd::End);
        // Still recorded.
        assert_eq!(p.report(&reply, 40, 100, 300).total, Some(10000));
    }

    #[test]
    fn short_only_profiles_end_on_a_short_page() {
        let p = paging("[paging]\nstyle = \"offset\"\nend_signals = [\"short\"]").unwrap();
        assert_eq!(judge(&p, json!({}), 0, 100, 100), PageEnd::More);
        assert_eq!(judge(&p, json!({}), 3, 100, 99), PageEnd::End);
        assert_eq!(judge(&p, json!({}), 3, 100, 0), PageEnd::End);
    }

    #[test]
    fn the_short_form_takes_the_style_defaults() {
        for (text, style) in [
            ("paging = \"page0\"", PagingStyle::Page0),
            ("paging = \"offset\"", PagingStyle::Offset),
            ("paging = \"page1\"", PagingStyle::Page1),
        ] {
            assert_eq!(paging(text).unwrap(), Paging::defaults(style));
        }
        let p = paging("[paging]\nstyle = \"page1\"\ntotal_field = \"meta.count\"").unwrap();
        assert_eq!(p.total_field, "meta.count");
        assert_eq!(
            p.end_signals,
            Paging::defaults(PagingStyle::Page1).end_signals
        );
        assert_eq!(
            p.report(&json!({"meta": {"count": 7}}), 7, 10, 0).total,
            Some(7)
        );
    }

    #[test]
    fn bad_sections_are_refused_by_key() {
        let cases = [
            ("paging = \"pages\"", "unknown variant `pages`"),
            (
                "[paging]\nstyle = \"page0\"\nend_signal = []",
                "unknown field `end_signal`",
            ),
            ("[paging]\nend_signals = []", "missing field `style`"),
            (
                "[paging]\nstyle = \"page0\"\nend_signals = [\"first\"]",
                "unknown variant `first`",
            ),
        ];
        for (text, want) in cases {
            let err = paging(text).unwrap_err();
            assert!(err.contains(want), "{text}: {err}");
        }
        let checks = [
            (
                "[paging]\nstyle = \"page0\"\nend_signals = []",
                "paging.end_signals must name",
            ),
            (
                "[paging]\nstyle = \"page0\"\nend_signals = [\"last\", \"last\"]",
                "names \"last\" twice",
            ),
            (
                "[paging]\nstyle = \"page0\"\nlast_field = \"\"",
                "paging.last_field must not be empty",
            ),
            (
                "[paging]\nstyle = \"offset\"\nend_signals = [\"total\"]\ntotal_exact = false",
                "can never establish the end",
            ),
        ];
        for (text, want) in checks {
            let err = paging(text).unwrap().check().unwrap_err();
            assert!(err.contains(want), "{text}: {err}");
        }
        for style in [PagingStyle::Page0, PagingStyle::Offset, PagingStyle::Page1] {
            Paging::defaults(style).check().unwrap();
        }
    }
}
