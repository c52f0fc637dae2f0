//! The Office's choices for the official document (`[report.document]`): the issuing authority,
//! the number pattern, the place, the legal basis, the standing recommendations, the closing
//! sentence, "Nơi nhận", the signatory, whether officials' names are shown, and the wording
//! that changes with the date (the agency in charge of the sync, the local units). Pure data
//! and pure functions: the report's renderers take a [`Wording`] resolved for its date.
//!
//! Every text is a template: `{province}`, `{PROVINCE}` (upper case), `{month}` ("Tháng
//! 8/2024"), `{month_long}` ("Tháng 8 năm 2024"), `{year}`, `{sync_agency}`,
//! `{sync_agency_short}`, `{units}`; the number pattern also `{number}` (left blank for the
//! clerk who registers the document). An unknown placeholder is a config error naming the key.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::model::YearMonth;

/// A wording in force from a date (to the day before the next entry's `from`).
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct DatedWording {
    /// First day it is in force (`"YYYY-MM-DD"`); `None` for the first entry (in force since
    /// always).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<NaiveDate>,
    /// The full name, e.g. "Sở Khoa học và Công nghệ".
    pub name: String,
    /// The abbreviation, e.g. "Sở KH&CN"; the name when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub short: Option<String>,
}

impl DatedWording {
    fn new(from: Option<NaiveDate>, name: &str, short: Option<&str>) -> DatedWording {
        DatedWording {
            from,
            name: name.to_string(),
            short: short.map(str::to_string),
        }
    }

    /// The abbreviation, else the name.
    pub fn short(&self) -> &str {
        self.short.as_deref().unwrap_or(&self.name)
    }
}

/// The entry of `table` in force on `day`: the last whose `from` is not after it (the first
/// entry when `day` is before every `from`). `None` only for an empty table.
pub fn in_force(table: &[DatedWording], day: NaiveDate) -> Option<&DatedWording> {
    table
        .iter()
        .rev()
        .find(|w| w.from.is_none_or(|f| f <= day))
        .or_else(|| table.first())
}

fn date(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(y, m, d)
}

/// The default agency in charge of the sync: the Department of Information and Communications
/// until 28/02/2025; from 01/03/2025 (its merger) the Department of Science and Technology.
pub fn default_sync_agency() -> Vec<DatedWording> {
    vec![
        DatedWording::new(None, "Sở Thông tin và Truyền thông", Some("Sở TT&TT")),
        DatedWording::new(
            date(2025, 3, 1),
            "Sở Khoa học và Công nghệ",
            Some("Sở KH&CN"),
        ),
    ]
}

/// The default local units: districts, towns and cities before 01/07/2025, communes and wards
/// from then (the two-level local government).
pub fn default_units() -> Vec<DatedWording> {
    vec![
        DatedWording::new(None, "UBND các huyện, thị xã, thành phố", None),
        DatedWording::new(date(2025, 7, 1), "UBND các xã, phường", None),
    ]
}

/// `[report.document]`: the Office's choices for the official document. The defaults are the
/// Điện Biên Office's (its August 2024 report), with the province's name as `{province}`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct DocumentSettings {
    /// The governing body, first line of the authority block ("UBND TỈNH ĐIỆN BIÊN").
    pub parent_authority: String,
    /// The issuing body, in bold under it ("VĂN PHÒNG").
    pub authority: String,
    /// The document's number and symbol after "Số: "; `{number}` is left blank for the clerk.
    pub number_pattern: String,
    /// The place in the date line ("Điện Biên, ngày … tháng … năm …").
    pub place: String,
    /// Leave the day of the date line blank, to be filled when it is signed (the Office's
    /// habit); when false the report's date is written.
    pub blank_day: bool,
    /// The legal-basis paragraphs ("Căn cứ …", "Thực hiện …"), before section 1.
    pub legal_basis: Vec<String>,
    /// The standing recommendations of section 3, before the generated ones.
    pub recommendations: Vec<String>,
    /// The closing sentence after section 3.
    pub closing: String,
    /// "Nơi nhận", one recipient a line.
    pub recipients: Vec<String>,
    /// The signatory's title (lines separated by `\n`, e.g. "KT. CHÁNH VĂN PHÒNG\nPHÓ CHÁNH
    /// VĂN PHÒNG").
    pub signatory_title: String,
    /// The signatory's name; empty leaves the place for it blank.
    pub signatory_name: String,
    /// Whether the officials who handled late dossiers are named in Phụ lục II of the official
    /// document (personal data: off by default; the agencies look them up themselves). The
    /// XLSX and CSV files and each agency's pack always name them.
    pub show_officials: bool,
    /// The agency in charge of the sync (`{sync_agency}`, `{sync_agency_short}`) over time.
    pub sync_agency: Vec<DatedWording>,
    /// The local units (`{units}`) over time.
    pub units: Vec<DatedWording>,
}

impl Default for DocumentSettings {
    fn default() -> Self {
        let s = |x: &str| x.to_string();
        DocumentSettings {
            parent_authority: s("UBND TỈNH {PROVINCE}"),
            authority: s("VĂN PHÒNG"),
            number_pattern: s("{number}/BC-VPUB"),
            place: s("{province}"),
            blank_day: true,
            legal_basis: vec![
                s("Căn cứ Nghị quyết số 85/NQ-CP ngày 09/7/2022 của Chính phủ Hội nghị Chính phủ với địa phương và Phiên họp Chính phủ thường kỳ tháng 6 năm 2022;"),
                s("Thực hiện Công văn số 4660/VPCP-KSTT ngày 26/7/2022 của Văn phòng Chính phủ và ý kiến chỉ đạo của UBND tỉnh tại Công văn số 1982/UBND-KSTT ngày 29/6/2022 về việc triển khai thực hiện Quyết định số 766/QĐ-TTg ngày 23/6/2022 của Thủ tướng Chính phủ phê duyệt Bộ chỉ số chỉ đạo, điều hành và đánh giá chất lượng phục vụ người dân, doanh nghiệp trong thực hiện TTHC, DVC theo thời gian thực trên môi trường điện tử; Văn phòng UBND tỉnh báo cáo Tiến độ giải quyết TTHC trên Cổng Dịch vụ công quốc gia và danh sách các cơ quan, đơn vị, địa phương giải quyết hồ sơ TTHC quá hạn trong {month} như sau:"),
            ],
            recommendations: vec![
                s("Đề nghị các cơ quan chuyên môn thuộc UBND tỉnh; {units} tiếp tục quan tâm chỉ đạo việc xử lý hồ sơ TTHC cho cá nhân, tổ chức đảm bảo về thời hạn giải quyết; truy cập Hệ thống thông tin giải quyết TTHC của tỉnh để tra cứu danh sách các cán bộ, công chức giải quyết hồ sơ thủ tục hành chính quá hạn của cơ quan, đơn vị mình, chỉ đạo thực hiện nghiêm việc xin lỗi tổ chức, cá nhân đối với các trường hợp quá hạn; gửi báo cáo giải trình nguyên nhân quá hạn, báo cáo UBND tỉnh, Chủ tịch UBND tỉnh, đồng thời gửi Sở Nội vụ để phục vụ theo dõi, đánh giá kiểm điểm, bình xét thi đua, khen thưởng cuối năm."),
                s("Rà soát các hồ sơ giải quyết quá hạn trên Cổng Dịch vụ công quốc gia, đối chiếu với số liệu hồ sơ giải quyết quá hạn trên Hệ thống thông tin giải quyết thủ tục hành chính tỉnh, nếu trên Hệ thống của tỉnh không xử lý quá hạn thì có văn bản gửi {sync_agency} để được hỗ trợ, tháo gỡ kịp thời."),
                s("Các cơ quan, đơn vị giải quyết dứt điểm các hồ sơ đang xử lý quá hạn; đưa ra các nhiệm vụ, giải pháp cụ thể để tránh tình trạng quá hạn trong giải quyết TTHC tại cơ quan, đơn vị, địa phương mình trong thời gian tới; nghiêm túc khắc phục, chấn chỉnh tình trạng quá hạn, xử lý nghiêm cán bộ, công chức, viên chức có hành vi nhũng nhiễu, tiêu cực và kéo dài thời gian giải quyết hồ sơ TTHC."),
            ],
            closing: s("Trên đây là Báo cáo tiến độ giải quyết TTHC trên Cổng dịch vụ công quốc gia và danh sách các cơ quan, đơn vị, địa phương giải quyết hồ sơ TTHC quá hạn trong {month_long}; Văn phòng UBND tỉnh báo cáo Chủ tịch UBND tỉnh để nắm và chỉ đạo./."),
            recipients: vec![
                s("Văn phòng Chính phủ (Cục KSTTHC);"),
                s("Đ/c Chủ tịch UBND tỉnh (b/c);"),
                s("Các cơ quan chuyên môn thuộc UBND tỉnh;"),
                s("{units};"),
                s("Cổng Thông tin điện tử tỉnh (ĐT);"),
                s("Cổng DVC trực tuyến tỉnh ({sync_agency_short});"),
                s("Lưu: VT, KSTT (ĐTTH)."),
            ],
            signatory_title: s("CHÁNH VĂN PHÒNG"),
            signatory_name: s("Lê Thanh Bình"),
            show_officials: false,
            sync_agency: default_sync_agency(),
            units: default_units(),
        }
    }
}

/// The placeholders every template may use (the number pattern also `{number}`).
pub const PLACEHOLDERS: [&str; 8] = [
    "province",
    "PROVINCE",
    "month",
    "month_long",
    "year",
    "sync_agency",
    "sync_agency_short",
    "units",
];

/// Replaces `{name}` by its value in `vars`; an unknown name is an error naming it.
fn fill(template: &str, vars: &[(&str, &str)]) -> Result<String, String> {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            return Err(format!("`{{` without `}}` in {template:?}"));
        };
        let name = &after[..close];
        match vars.iter().find(|(k, _)| *k == name) {
            Some((_, v)) => out.push_str(v),
            None => {
                return Err(format!(
                    "unknown placeholder {{{name}}} in {template:?}; known: {}",
                    vars.iter()
                        .map(|(k, _)| format!("{{{k}}}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            }
        }
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

impl DocumentSettings {
    /// Checks every template and both dated tables; the error is `(key, message)` with the key
    /// under `report.document`.
    pub fn validate(&self) -> Result<(), (String, String)> {
        let key = |k: &str| format!("report.document.{k}");
        for (k, table) in [("sync_agency", &self.sync_agency), ("units", &self.units)] {
            if table.is_empty() {
                return Err((key(k), "must list at least one wording".into()));
            }
            if table[0].from.is_some() {
                return Err((
                    key(k),
                    "the first wording has no `from` (it is in force before the others)".into(),
                ));
            }
            let mut last: Option<NaiveDate> = None;
            for (i, w) in table.iter().enumerate() {
                if w.name.trim().is_empty() {
                    return Err((format!("{}[{i}].name", key(k)), "must not be empty".into()));
                }
                if i > 0 {
                    let Some(from) = w.from else {
                        return Err((
                            format!("{}[{i}].from", key(k)),
                            "every wording after the first needs the date it comes in force".into(),
                        ));
                    };
                    if last.is_some_and(|l| from <= l) {
                        return Err((
                            format!("{}[{i}].from", key(k)),
                            "dates must increase from one wording to the next".into(),
                        ));
                    }
                    last = Some(from);
                }
            }
        }
        let sample = Wording::sample();
        let mut texts: Vec<(String, &str)> = vec![
            (key("parent_authority"), &self.parent_authority),
            (key("authority"), &self.authority),
            (key("place"), &self.place),
            (key("closing"), &self.closing),
            (key("signatory_title"), &self.signatory_title),
            (key("signatory_name"), &self.signatory_name),
        ];
        for (k, list) in [
            ("legal_basis", &self.legal_basis),
            ("recommendations", &self.recommendations),
            ("recipients", &self.recipients),
        ] {
            for (i, x) in list.iter().enumerate() {
                texts.push((format!("{}[{i}]", key(k)), x));
            }
        }
        for (k, text) in texts {
            sample.try_fill(text).map_err(|m| (k, m))?;
        }
        sample
            .try_fill_number(&self.number_pattern)
            .map_err(|m| (key("number_pattern"), m))?;
        if self.place.trim().is_empty() {
            return Err((key("place"), "must not be empty".into()));
        }
        Ok(())
    }

    /// The wording of the document of `province` for `month`, dated `day`: the dated wording
    /// in force on that day.
    pub fn wording(&self, province: &str, month: YearMonth, day: NaiveDate) -> Wording {
        let pick = |table: &[DatedWording], fallback: fn() -> Vec<DatedWording>| {
            in_force(table, day)
                .cloned()
                .or_else(|| in_force(&fallback(), day).cloned())
                .unwrap_or_else(|| DatedWording::new(None, "", None))
        };
        let sync = pick(&self.sync_agency, default_sync_agency);
        let units = pick(&self.units, default_units);
        let m = month;
        Wording {
            vars: vec![
                ("province", province.to_string()),
                ("PROVINCE", province.to_uppercase()),
                ("month", format!("Tháng {}/{}", m.month, m.year)),
                ("month_long", format!("Tháng {} năm {}", m.month, m.year)),
                ("year", m.year.to_string()),
                ("sync_agency_short", sync.short().to_string()),
                ("sync_agency", sync.name),
                ("units", units.name),
            ],
            day,
        }
    }
}

/// The values of the placeholders for one report (see the module doc), and its date.
#[derive(Clone, Debug, PartialEq)]
pub struct Wording {
    vars: Vec<(&'static str, String)>,
    day: NaiveDate,
}

impl Wording {
    fn sample() -> Wording {
        Wording {
            vars: PLACEHOLDERS.iter().map(|k| (*k, String::new())).collect(),
            day: NaiveDate::default(),
        }
    }

    fn pairs(&self) -> Vec<(&str, &str)> {
        self.vars.iter().map(|(k, v)| (*k, v.as_str())).collect()
    }

    fn try_fill(&self, template: &str) -> Result<String, String> {
        fill(template, &self.pairs())
    }

    fn try_fill_number(&self, template: &str) -> Result<String, String> {
        let mut vars = self.pairs();
        vars.push(("number", NUMBER_BLANK));
        fill(template, &vars)
    }

    /// `template` with its placeholders filled (a template that does not validate is shown as
    /// written: validation rejects it at load).
    pub fn fill(&self, template: &str) -> String {
        self.try_fill(template)
            .unwrap_or_else(|_| template.to_string())
    }

    /// The value of a placeholder, e.g. `"sync_agency"`; empty when unknown.
    pub fn get(&self, name: &str) -> &str {
        self.vars
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    }

    /// "Số: …/BC-VPUB" from the number pattern.
    pub fn number_line(&self, pattern: &str) -> String {
        let n = self
            .try_fill_number(pattern)
            .unwrap_or_else(|_| pattern.to_string());
        format!("Số: {n}")
    }

    /// "Điện Biên, ngày 05 tháng 9 năm 2024" (Nghị định 30/2020/NĐ-CP: a day below 10 and a
    /// month below 3 take a leading zero); the day left blank when `blank_day`.
    pub fn date_line(&self, place: &str, blank_day: bool) -> String {
        let d = self.day;
        let day = if blank_day {
            DAY_BLANK.to_string()
        } else {
            format!("{:02}", d.day())
        };
        let month = if d.month() < 3 {
            format!("{:02}", d.month())
        } else {
            d.month().to_string()
        };
        format!(
            "{}, ngày {day} tháng {month} năm {}",
            self.fill(place),
            d.year()
        )
    }
}

/// What stands for the number the clerk writes in when the document is registered.
const NUMBER_BLANK: &str = "      ";
/// What stands for the day filled in when the document is signed.
const DAY_BLANK: &str = "    ";

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn dated_wording_follows_the_day() {
        let s = default_sync_agency();
        assert_eq!(in_force(&s, d(2025, 2, 28)).unwrap().short(), "Sở TT&TT");
        assert_eq!(in_force(&s, d(2025, 3, 1)).unwrap().short(), "Sở KH&CN");
        let u = default_units();
        assert_eq!(
            in_force(&u, d(2025, 6, 30)).unwrap().name,
            "UBND các huyện, thị xã, thành phố"
        );
        assert_eq!(
            in_force(&u, d(2025, 7, 1)).unwrap().name,
            "UBND các xã, phường"
        );
        assert!(in_force(&[], d(2025, 7, 1)).is_none());
    }

    #[test]
    fn templates_fill_and_unknown_placeholders_are_named() {
        let vars = [("units", "UBND các xã, phường")];
        assert_eq!(
            fill("Gửi {units};", &vars).unwrap(),
            "Gửi UBND các xã, phường;"
        );
        let err = fill("Gửi {unit};", &vars).unwrap_err();
        assert!(err.contains("{unit}") && err.contains("{units}"), "{err}");
        assert!(fill("Gửi {units", &vars).is_err());
        assert!(DocumentSettings::default().validate().is_ok());
    }

    #[test]
    fn bad_settings_name_their_key() {
        let mut s = DocumentSettings::default();
        s.recipients.push("{nguoi_ky}".into());
        assert_eq!(s.validate().unwrap_err().0, "report.document.recipients[7]");
        let mut s = DocumentSettings::default();
        s.units
            .push(DatedWording::new(Some(d(2025, 1, 1)), "X", None));
        assert_eq!(s.validate().unwrap_err().0, "report.document.units[2].from");
        let mut s = DocumentSettings::default();
        s.sync_agency.clear();
        assert_eq!(s.validate().unwrap_err().0, "report.document.sync_agency");
    }
}
