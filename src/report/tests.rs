//! Tests of the renderers. Snapshot tests compare with `tests/it/snapshots/NAME.snap` (insta,
//! through the helper the integration tests use); `INSTA_UPDATE=always` rewrites them after an
//! intended change (then review the diff).

use super::snapshot::check as check_snapshot;
use super::text::{QUOC_HIEU, TIEU_NGU};
use super::*;
use std::io::Read;

/// The example with nothing in the appendices, no published figure, no previous month.
fn quiet_example() -> MonthlyReport {
    let mut r = MonthlyReport::example();
    r.appendix_1.clear();
    r.appendix_2 = vec![AgencyGroup {
        agency_code: "000.00.05.H18".into(),
        agency_name: "Sở Tư pháp".into(),
        rows: vec![],
    }];
    r.appendix_3.clear();
    r.published_score = None;
    r.national_average = None;
    r.previous_month = None;
    r.history.clear();
    r.gap.clear();
    r.provincial_view = r.national_view.clone();
    r
}

fn files(r: &MonthlyReport, f: Format) -> Vec<(String, Vec<u8>)> {
    render(r, f, &DocumentSettings::default()).unwrap()
}

/// The one file of XLSX; the official document of Markdown and HTML.
fn one(r: &MonthlyReport, f: Format) -> (String, Vec<u8>) {
    let mut files = files(r, f);
    let expected = match f {
        Format::Markdown | Format::Html => 2,
        _ => 1,
    };
    assert_eq!(files.len(), expected);
    files.swap_remove(0)
}

/// The IT annex of Markdown and HTML.
fn annex(r: &MonthlyReport, f: Format) -> (String, Vec<u8>) {
    let mut files = files(r, f);
    assert_eq!(files.len(), 2);
    files.pop().unwrap()
}

#[test]
fn markdown_snapshot() {
    let (name, bytes) = one(&MonthlyReport::example(), Format::Markdown);
    assert_eq!(name, "bao-cao-tien-do-2024-08.md");
    check_snapshot(&name, &bytes);
    let (name, bytes) = annex(&MonthlyReport::example(), Format::Markdown);
    assert_eq!(name, "bao-cao-tien-do-2024-08-ky-thuat.md");
    check_snapshot(&name, &bytes);
    let (_, quiet) = one(&quiet_example(), Format::Markdown);
    check_snapshot("quiet.md", &quiet);
}

#[test]
fn markdown_says_what_the_province_writes() {
    let md = String::from_utf8(one(&MonthlyReport::example(), Format::Markdown).1).unwrap();
    for needle in [
        "| UBND TỈNH ĐIỆN BIÊN | CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM |",
        "| **VĂN PHÒNG** | **Độc lập - Tự do - Hạnh phúc** |",
        "| Số:       /BC-VPUB | *Điện Biên, ngày      tháng 9 năm 2024* |",
        "\n# BÁO CÁO\n",
        "Căn cứ Nghị quyết số 85/NQ-CP ngày 09/7/2022",
        "trong Tháng 8/2024 như sau:",
        "### 1. Tiến độ, kết quả giải quyết TTHC Tháng 8 năm 2024",
        "tỉnh Điện Biên là **19,5/20** điểm - đạt **97,5%** (điểm trung bình cả nước Tháng 8 là **17,5/20** - đạt **87,5%**)",
        "đạt **97,5%** tăng 4,5% so với tỉ lệ Tháng 7 đạt 93%.",
        "### 2. Đánh giá chung",
        "có **15 hồ sơ**",
        "**6 cơ quan, đơn vị**",
        "### 3. Đề xuất, kiến nghị",
        "UBND tỉnh; UBND các huyện, thị xã, thành phố tiếp tục",
        "có văn bản gửi Sở Thông tin và Truyền thông để được hỗ trợ",
        "Sở Tài nguyên và Môi trường (5 hồ sơ giải quyết quá hạn, 1 hồ sơ đang xử lý quá hạn)",
        "Đề nghị Sở Thông tin và Truyền thông kiểm tra, khắc phục lỗi đồng bộ trạng thái của **6 hồ sơ**",
        "Văn phòng UBND tỉnh báo cáo Chủ tịch UBND tỉnh để nắm và chỉ đạo./.",
        "**CHÁNH VĂN PHÒNG**",
        "**Lê Thanh Bình**",
        "***Nơi nhận:***",
        "- Cổng DVC trực tuyến tỉnh (Sở TT&TT);",
        "- UBND các huyện, thị xã, thành phố;",
        "| 2 | 000.21.31.H18-240709-0002 |",
        // user text is escaped, not interpreted
        "Chứng thực bản sao từ bản chính \"giấy tờ, văn bản\" \\<do cơ quan có thẩm quyền cấp\\>",
    ] {
        assert!(md.contains(needle), "missing {needle:?} in\n{md}");
    }
    // Two audiences: no discrepancy codes, no Phụ lục III, no officials' names (off by
    // default), no slash between two agencies in the official document.
    for absent in [
        "closed_locally_open_nationally",
        "Phụ lục III",
        "Lò Thị Bình",
        "Sở KH&CN/",
        "Cán bộ",
    ] {
        assert!(!md.contains(absent), "{absent:?} in the official document");
    }

    let it = String::from_utf8(annex(&MonthlyReport::example(), Format::Markdown).1).unwrap();
    for needle in [
        "# PHỤ LỤC KỸ THUẬT",
        "(gửi Sở Thông tin và Truyền thông)",
        "| Trước hạn | 1.185 | 1.190 | +5 |",
        "| Quá hạn | 18 | 15 | -3 |",
        "| Đã kết thúc tại tỉnh, chưa kết thúc trên Cổng DVCQG | `closed_locally_open_nationally` | 4 | +0,04 |",
        "Chênh lệch giữa điểm tính lại và điểm công bố: **+0,26 điểm**",
        "## Phụ lục III. Hồ sơ đúng hạn tại tỉnh nhưng quá hạn trên Cổng DVCQG — đề nghị Sở TT&TT kiểm tra đồng bộ",
    ] {
        assert!(it.contains(needle), "missing {needle:?} in\n{it}");
    }
    // The kinds explain 0,06 of the 0,07 point: the remainder has its line.
    assert!(it.contains("| Phần chênh lệch chưa giải thích được | — | — | +0,01 |"));
}

/// The parts of the official document in the order of Nghị định 30/2020/NĐ-CP: the header
/// block (authority and number on the left; Quốc hiệu, Tiêu ngữ, place and date on the right),
/// the kind and abstract, the legal basis, the content (sections 1–3 and the closing), the
/// signature block (signatory and "Nơi nhận"), then the appendices.
#[test]
fn the_official_document_parts_come_in_the_rules_order() {
    let r = MonthlyReport::example();
    for f in [Format::Markdown, Format::Html] {
        let text = String::from_utf8(one(&r, f).1).unwrap();
        let at = |needle: &str| {
            text.find(needle)
                .unwrap_or_else(|| panic!("{f}: missing {needle:?}"))
        };
        // Each column of the header block, top to bottom.
        assert!(at("UBND TỈNH ĐIỆN BIÊN") < at("VĂN PHÒNG"), "{f}");
        assert!(at("VĂN PHÒNG") < at("Số: "), "{f}");
        assert!(at(QUOC_HIEU) < at(TIEU_NGU), "{f}");
        assert!(at(TIEU_NGU) < at("Điện Biên, ngày"), "{f}");
        let header_end = at("Số: ").max(at("Điện Biên, ngày"));
        let sequence = [
            header_end,
            at(match f {
                Format::Html => "<p class=\"kind\">BÁO CÁO</p>",
                _ => "\n# BÁO CÁO\n",
            }),
            at("Tiến độ giải quyết TTHC trên Cổng dịch vụ công quốc gia và danh sách"),
            at("Căn cứ Nghị quyết"),
            at("Thực hiện Công văn"),
            at("1. Tiến độ, kết quả giải quyết TTHC"),
            at("2. Đánh giá chung"),
            at("3. Đề xuất, kiến nghị"),
            at("Trên đây là Báo cáo"),
            at("Nơi nhận:").min(at("CHÁNH VĂN PHÒNG")),
            at("Lê Thanh Bình").max(at("Lưu: VT")),
            at("Phụ lục I."),
            at("Phụ lục II."),
        ];
        for w in sequence.windows(2) {
            assert!(w[0] < w[1], "{f}: parts out of order: {sequence:?}");
        }
    }
}

/// The agency in charge of the sync and the local units are those in force on the report's
/// date: 28/02/2025 → 01/03/2025, 30/06/2025 → 01/07/2025.
#[test]
fn the_wording_follows_the_report_date() {
    let at = |y, m, d| {
        let mut r = MonthlyReport::example();
        r.generated_at = chrono::NaiveDate::from_ymd_opt(y, m, d)
            .unwrap()
            .and_hms_opt(8, 0, 0)
            .unwrap();
        String::from_utf8(one(&r, Format::Markdown).1).unwrap()
    };
    let ttt = "Sở Thông tin và Truyền thông";
    let khcn = "Sở Khoa học và Công nghệ";
    let districts = "UBND các huyện, thị xã, thành phố";
    let communes = "UBND các xã, phường";
    let cases = [
        ((2025, 2, 28), ttt, khcn, districts, communes),
        ((2025, 3, 1), khcn, ttt, districts, communes),
        ((2025, 6, 30), khcn, ttt, districts, communes),
        ((2025, 7, 1), khcn, ttt, communes, districts),
    ];
    for ((y, m, d), agency, not_agency, units, not_units) in cases {
        let md = at(y, m, d);
        let day = format!("{d:02}/{m:02}/{y}");
        assert!(md.contains(agency), "{day}: {agency}");
        assert!(!md.contains(not_agency), "{day}: {not_agency}");
        assert!(md.contains(&format!("- {units};")), "{day}: {units}");
        assert!(!md.contains(not_units), "{day}: {not_units}");
    }
    // Overridden in config: the table is the Office's.
    let mut s = DocumentSettings::default();
    s.sync_agency[1].name = "Sở Khoa học, Công nghệ và Chuyển đổi số".into();
    let mut r = MonthlyReport::example();
    r.generated_at = chrono::NaiveDate::from_ymd_opt(2025, 3, 2)
        .unwrap()
        .and_hms_opt(8, 0, 0)
        .unwrap();
    let md = String::from_utf8(render(&r, Format::Markdown, &s).unwrap().remove(0).1).unwrap();
    assert!(md.contains("có văn bản gửi Sở Khoa học, Công nghệ và Chuyển đổi số để"));
}

/// Officials' names only when the Office turns them on; a month the portal has not published
/// says "chưa công bố" and the recalculated score only as "tạm tính"; a month not over is
/// provisional in its title.
#[test]
fn officials_unpublished_and_provisional() {
    let r = MonthlyReport::example();
    let s = DocumentSettings {
        show_officials: true,
        ..DocumentSettings::default()
    };
    let md = String::from_utf8(render(&r, Format::Markdown, &s).unwrap().remove(0).1).unwrap();
    assert!(md.contains("Nguyễn Văn An; Lò Thị Bình"));

    let mut r = MonthlyReport::example();
    r.published_score = None;
    r.national_average = None;
    r.generated_at = chrono::NaiveDate::from_ymd_opt(2024, 8, 20)
        .unwrap()
        .and_hms_opt(9, 0, 0)
        .unwrap();
    let md = String::from_utf8(one(&r, Format::Markdown).1).unwrap();
    for needle in [
        "tỉnh Điện Biên chưa công bố; theo dữ liệu hồ sơ trên Cổng, điểm tạm tính là **19,76/20** điểm - đạt **98,8%** (điểm trung bình cả nước chưa công bố)",
        "quá hạn trong Tháng 8/2024 (số liệu tạm tính đến ngày 20/08/2024)",
        "Tháng 8 năm 2024 (tạm tính) đạt **98,8%**",
    ] {
        assert!(md.contains(needle), "missing {needle:?} in\n{md}");
    }
    assert!(!md.contains("19,5/20"));
}

#[test]
fn html_snapshot_and_self_contained() {
    let (name, bytes) = one(&MonthlyReport::example(), Format::Html);
    assert_eq!(name, "bao-cao-tien-do-2024-08.html");
    check_snapshot(&name, &bytes);
    let html = String::from_utf8(bytes).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>\n<html lang=\"vi\">"));
    for forbidden in ["<script", "<link", " src=", "url(", "@import", "<img"] {
        assert!(
            !html.contains(forbidden),
            "external resource hint {forbidden:?}"
        );
    }
    assert!(html.contains("@page { size: A4"));
    assert!(html.contains("&quot;giấy tờ, văn bản&quot; &lt;do cơ quan có thẩm quyền cấp&gt;"));
    assert!(html.contains("<strong>19,5/20</strong> điểm - đạt <strong>97,5%</strong>"));
    assert!(html.contains("<table class=\"frame\">"));
    assert!(!html.contains("closed_locally_open_nationally"));
    // The IT annex: its own page, with the chart.
    let (name, bytes) = annex(&MonthlyReport::example(), Format::Html);
    assert_eq!(name, "bao-cao-tien-do-2024-08-ky-thuat.html");
    check_snapshot(&name, &bytes);
    let html = String::from_utf8(bytes).unwrap();
    for forbidden in ["<script", "<link", " src=", "url(", "@import", "<img"] {
        assert!(
            !html.contains(forbidden),
            "external resource hint {forbidden:?}"
        );
    }
    // The chart: 12 month labels, the three series, the empty month marked, the gap
    // breaking the lines (two polylines per series with values around month 5).
    assert_eq!(html.matches("<svg ").count(), 1);
    for m in ["09/2023", "01/2024", "08/2024"] {
        assert!(html.contains(&format!(">{m}</text>")), "{m}");
    }
    for label in ["Cổng DVCQG (tính lại)", "Hệ thống của tỉnh", "Điểm công bố"] {
        assert!(html.contains(&format!(">{label}</text>")), "{label}");
    }
    assert!(html.contains(">không có số liệu</text>"));
    assert_eq!(
        html.matches("<polyline ").count(),
        6,
        "3 series broken at 02/2024; published also at 04/2024 (07–08/2024 is one line; 03/2024 alone is a dot)"
    );
    let (_, quiet) = one(&quiet_example(), Format::Html);
    check_snapshot("quiet.html", &quiet);
}

#[test]
fn csv_snapshots() {
    let files = files(&MonthlyReport::example(), Format::Csv);
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "bao-cao-tien-do-2024-08-tong-hop.csv",
            "bao-cao-tien-do-2024-08-phu-luc-1.csv",
            "bao-cao-tien-do-2024-08-phu-luc-2.csv",
            "bao-cao-tien-do-2024-08-phu-luc-3.csv",
        ]
    );
    for (name, bytes) in &files {
        assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "{name}: BOM");
        let text = std::str::from_utf8(&bytes[3..]).unwrap();
        assert!(text.ends_with("\r\n"));
        assert!(!text.replace("\r\n", "").contains('\n'), "{name}: bare LF");
        check_snapshot(name, bytes);
    }
    let p1 = String::from_utf8(files[1].1.clone()).unwrap();
    assert!(p1.contains(
        ",\"Chứng thực bản sao từ bản chính \"\"giấy tờ, văn bản\"\" <do cơ quan có thẩm quyền cấp>\","
    ));
    // An empty appendix still has its header line.
    let quiet = super::tests::files(&quiet_example(), Format::Csv);
    assert_eq!(
        quiet[3].1,
        files[3].1[..files[3].1.iter().position(|&b| b == b'\n').unwrap() + 1]
    );
}

#[test]
fn csv_quotes_and_neutralises_formulas() {
    assert_eq!(crate::csv::field("a,b"), "\"a,b\"");
    assert_eq!(crate::csv::field("say \"hi\""), "\"say \"\"hi\"\"\"");
    assert_eq!(crate::csv::field("two\nlines"), "\"two\nlines\"");
    assert_eq!(crate::csv::field("plain"), "plain");
    let mut r = quiet_example();
    r.appendix_3.push(SyncFaultRow {
        dossier_code: "=HYPERLINK(\"http://x\")".into(),
        agency_code: "X".into(),
        agency_name: "@evil".into(),
        kind: "status_mismatch".into(),
        provincial_value: "-1".into(),
        national_value: "4".into(),
        points: -0.5,
    });
    let files = files(&r, Format::Csv);
    let p3 = String::from_utf8(files[3].1[3..].to_vec()).unwrap();
    assert_eq!(
        p3.lines().nth(1).unwrap(),
        "1,\"'=HYPERLINK(\"\"http://x\"\")\",'@evil,status_mismatch,Trạng thái không khớp,'-1,4,-0.5"
    );
}

// -- XLSX: read the zip back and dump what a person would see.

fn unzip(bytes: &[u8]) -> Vec<(String, String)> {
    let mut z = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("xlsx is a zip");
    let mut out = Vec::new();
    for i in 0..z.len() {
        let mut f = z.by_index(i).unwrap();
        let mut s = String::new();
        f.read_to_string(&mut s).unwrap();
        out.push((f.name().to_string(), s));
    }
    out.sort();
    out
}

fn attr<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let key = format!(" {name}=\"");
    let start = tag.find(&key)? + key.len();
    Some(&tag[start..start + tag[start..].find('"')?])
}

fn unescape_xml(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

fn shared_strings(xml: &str) -> Vec<String> {
    xml.split("<si>")
        .skip(1)
        .map(|si| {
            let t = &si[si.find("<t").unwrap()..];
            let body = &t[t.find('>').unwrap() + 1..t.find("</t>").unwrap()];
            unescape_xml(body)
        })
        .collect()
}

/// `A1 [s3] "text"` / `B6 [s4] 310` lines for every cell of a sheet.
fn dump_cells(sheet: &str, strings: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for c in sheet.split("<c ").skip(1) {
        let tag_end = c.find('>').unwrap();
        let tag = format!(" {}", &c[..tag_end]);
        let r = attr(&tag, "r").unwrap();
        let s = attr(&tag, "s").unwrap_or("0");
        let v = if tag.ends_with('/') {
            String::new()
        } else {
            let v = &c[c.find("<v>").unwrap() + 3..c.find("</v>").unwrap()];
            match attr(&tag, "t") {
                Some("s") => format!("{:?}", strings[v.parse::<usize>().unwrap()]),
                _ => v.to_string(),
            }
        };
        out.push(format!("{r} [s{s}] {v}"));
    }
    out
}

#[test]
fn xlsx_snapshot() {
    let (name, bytes) = one(&MonthlyReport::example(), Format::Xlsx);
    assert_eq!(name, "bao-cao-tien-do-2024-08.xlsx");
    let parts = unzip(&bytes);
    let get = |n: &str| {
        &parts
            .iter()
            .find(|(p, _)| p == n)
            .unwrap_or_else(|| panic!("{n}"))
            .1
    };
    let workbook = get("xl/workbook.xml");
    let names: Vec<&str> = workbook
        .split("<sheet ")
        .skip(1)
        .map(|s| attr(&format!(" {s}"), "name").unwrap().to_string())
        .map(|s| &*s.leak())
        .collect();
    assert_eq!(names, xlsx::SHEETS);
    assert!(get("xl/styles.xml").contains("formatCode=\"dd/mm/yyyy hh:mm\""));
    let strings = shared_strings(get("xl/sharedStrings.xml"));

    let mut dump = String::new();
    dump.push_str("# zip entries\n");
    for (p, _) in &parts {
        dump.push_str(p);
        dump.push('\n');
    }
    for (i, sheet) in xlsx::SHEETS.iter().enumerate() {
        dump.push_str(&format!("\n# {sheet}\n"));
        let cells = dump_cells(get(&format!("xl/worksheets/sheet{}.xml", i + 1)), &strings);
        for c in &cells {
            dump.push_str(c);
            dump.push('\n');
        }
    }
    check_snapshot("bao-cao-tien-do-2024-08.xlsx.txt", dump.as_bytes());

    // A few cells by meaning: numbers are numbers, dates are Excel serials.
    let s1 = dump_cells(get("xl/worksheets/sheet1.xml"), &strings);
    assert!(
        s1.iter()
            .any(|c| c.starts_with("B7 ") && c.ends_with(" 1185")),
        "{s1:?}"
    );
    let s2 = dump_cells(get("xl/worksheets/sheet2.xml"), &strings);
    // 01/08/2024 08:15 = 45505 + (8×60+15)/1440
    let received = s2.iter().find(|c| c.starts_with("E4 ")).unwrap();
    let serial: f64 = received.rsplit(' ').next().unwrap().parse().unwrap();
    assert!(
        (serial - (45505.0 + 495.0 / 1440.0)).abs() < 1e-6,
        "{received}"
    );
    // Cells hold the rounded value they show: 0,25 working days → 0.3 ("0.0"), 20/2000
    // points → 0.01 ("0.00").
    let s3 = dump_cells(get("xl/worksheets/sheet3.xml"), &strings);
    assert!(
        s3.iter()
            .any(|c| c.starts_with("I5 ") && c.ends_with(" 0.3")),
        "{s3:?}"
    );
    let s4 = dump_cells(get("xl/worksheets/sheet4.xml"), &strings);
    assert!(
        s4.iter()
            .any(|c| c.starts_with("H4 ") && c.ends_with(" 0.01")),
        "{s4:?}"
    );
    assert!(s4
        .iter()
        .any(|c| c.contains("\"closed_locally_open_nationally\"")));

    // Same report, same bytes.
    assert_eq!(one(&MonthlyReport::example(), Format::Xlsx).1, bytes);
    // Empty appendices still give four sheets.
    let quiet = unzip(&one(&quiet_example(), Format::Xlsx).1);
    assert!(quiet.iter().any(|(p, _)| p == "xl/worksheets/sheet4.xml"));
}

#[test]
fn every_format_renders_and_parses() {
    for f in Format::ALL {
        assert_eq!(Format::parse(f.extension()).unwrap(), f);
        assert!(!files(&MonthlyReport::example(), f).is_empty());
    }
    assert_eq!(Format::parse(" Markdown ").unwrap(), Format::Markdown);
    let err = Format::parse("pdf").unwrap_err().to_string();
    assert!(
        err.contains("\"pdf\"") && err.contains("md, html, docx, packs, xlsx, csv"),
        "{err}"
    );
}

#[test]
fn year_month() {
    let m: YearMonth = "2024-08".parse().unwrap();
    assert_eq!(
        m,
        YearMonth {
            year: 2024,
            month: 8
        }
    );
    assert_eq!(m.to_string(), "08/2024");
    assert_eq!(m.iso(), "2024-08");
    assert_eq!(
        YearMonth {
            year: 2024,
            month: 1
        }
        .previous(),
        YearMonth {
            year: 2023,
            month: 12
        }
    );
    for bad in [
        "2024-13", "2024-00", "24-08", "2024/08", "2024-8x", "", "2024-",
    ] {
        assert!(bad.parse::<YearMonth>().is_err(), "{bad}");
    }
    assert_eq!("2024-8".parse::<YearMonth>().unwrap().month, 8);
}

#[test]
fn score_is_none_without_dossiers() {
    let f = ScoreFigures::from_counts(0, 0, 0, 0, 0);
    assert_eq!(f.score, None);
    let f = ScoreFigures::from_counts(30, 8, 1, 1, 0);
    assert_eq!(f.counted, 40);
    assert!((f.score.unwrap() - 19.5).abs() < 1e-9);
    assert!((f.percent().unwrap() - 97.5).abs() < 1e-9);
}

#[test]
fn unexplained_gap_is_shown() {
    let mut r = MonthlyReport::example();
    r.gap.pop();
    let md = String::from_utf8(annex(&r, Format::Markdown).1).unwrap();
    assert!(
        md.contains("| Phần chênh lệch chưa giải thích được | — | — | +0,02 |"),
        "{md}"
    );
    // The total adds the remainder: it is the score difference, +0,07 (19,83 − 19,76).
    assert!(md.contains("| **Cộng** |  | **5** | **+0,07** |"), "{md}");
    let csv = String::from_utf8(files(&r, Format::Csv).remove(0).1).unwrap();
    assert!(
        csv.contains("chenh_lech,unexplained,Phần chênh lệch chưa giải thích được,diem,0.02\r\n"),
        "{csv}"
    );
    assert!(csv.contains("chenh_lech,total,Cộng,diem,0.07\r\n"), "{csv}");
}

/// Checks that `xml` is well-formed as far as elements go: every start tag closed, in order.
fn assert_balanced(xml: &str) {
    let mut stack: Vec<&str> = Vec::new();
    let mut rest = xml;
    while let Some(i) = rest.find('<') {
        rest = &rest[i + 1..];
        let end = rest.find('>').expect("tag closed");
        let tag = &rest[..end];
        rest = &rest[end + 1..];
        if tag.starts_with('?') || tag.starts_with('!') {
            continue;
        }
        if let Some(name) = tag.strip_prefix('/') {
            assert_eq!(stack.pop(), Some(name), "unbalanced </{name}>");
        } else if !tag.ends_with('/') {
            stack.push(tag.split_whitespace().next().unwrap());
        }
    }
    assert!(stack.is_empty(), "unclosed: {stack:?}");
    assert!(!rest.contains('<'));
}

/// The text of a document.xml, paragraph by paragraph (one line each).
fn docx_text(xml: &str) -> String {
    let mut out = String::new();
    for p in xml.split("</w:p>") {
        for t in p.split("<w:t xml:space=\"preserve\">").skip(1) {
            out.push_str(&unescape_xml(&t[..t.find("</w:t>").unwrap()]));
        }
        out.push('\n');
    }
    out
}

#[test]
fn docx_opens_and_holds_the_frame_and_the_tables() {
    let (name, bytes) = one(&MonthlyReport::example(), Format::Docx);
    assert_eq!(name, "bao-cao-tien-do-2024-08.docx");
    let parts = unzip(&bytes);
    let names: Vec<&str> = parts.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "[Content_Types].xml",
            "_rels/.rels",
            "docProps/core.xml",
            "word/_rels/document.xml.rels",
            "word/document.xml",
            "word/styles.xml",
        ]
    );
    for (n, xml) in &parts {
        assert!(xml.starts_with("<?xml version=\"1.0\""), "{n}");
        assert_balanced(xml);
    }
    let get = |n: &str| &parts.iter().find(|(p, _)| p == n).unwrap().1;
    let doc = get("word/document.xml");
    let styles = get("word/styles.xml");
    // Times New Roman 14 pt; A4 portrait, then the appendices landscape; margins of Nghị định
    // 30/2020: top and bottom 20 mm, left 30 mm, right 15 mm.
    assert!(
        styles.contains("w:ascii=\"Times New Roman\"") && styles.contains("<w:sz w:val=\"28\"/>")
    );
    assert!(doc.contains("<w:pgSz w:w=\"11906\" w:h=\"16838\"/>"));
    assert!(doc.contains("<w:pgSz w:w=\"16838\" w:h=\"11906\" w:orient=\"landscape\"/>"));
    assert_eq!(
        doc.matches("<w:pgMar w:top=\"1134\" w:right=\"850\" w:bottom=\"1134\" w:left=\"1701\"")
            .count(),
        2
    );
    // The header and signature blocks are borderless two-column tables; then Phụ lục I (one
    // table per agency: 4) and Phụ lục II (the summary and one per agency: 7).
    assert_eq!(doc.matches("<w:tbl>").count(), 2 + 4 + 7);
    assert_eq!(doc.matches("<w:insideV w:val=\"nil\"/>").count(), 2);
    assert_eq!(doc.matches("<w:tblHeader/>").count(), 4 + 7);

    let text = docx_text(doc);
    check_snapshot(
        "bao-cao-tien-do-2024-08.docx.txt",
        format!("{}\n", text.trim_end()).as_bytes(),
    );
    let at = |needle: &str| {
        text.find(needle)
            .unwrap_or_else(|| panic!("missing {needle:?} in\n{text}"))
    };
    let order = [
        at("UBND TỈNH ĐIỆN BIÊN\nVĂN PHÒNG\n"),
        at("Số:       /BC-VPUB"),
        at("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc\n"),
        at("Điện Biên, ngày      tháng 9 năm 2024"),
        at("\nBÁO CÁO\n"),
        at("Căn cứ Nghị quyết số 85/NQ-CP"),
        at("là 19,5/20 điểm - đạt 97,5% (điểm trung bình cả nước Tháng 8 là 17,5/20 - đạt 87,5%)"),
        at("tăng 4,5% so với tỉ lệ Tháng 7 đạt 93%"),
        at("trong Tháng 8 có 15 hồ sơ"),
        at("3. Đề xuất, kiến nghị"),
        at("Trên đây là Báo cáo"),
        at("Nơi nhận:"),
        at("- Cổng DVC trực tuyến tỉnh (Sở TT&TT);"),
        at("CHÁNH VĂN PHÒNG"),
        at("Lê Thanh Bình"),
        at("PHỤ LỤC I\n"),
        at("000.21.31.H18-240715-0012"),
        at("PHỤ LỤC II\n"),
        at("Đã giải quyết quá hạn"),
    ];
    for w in order.windows(2) {
        assert!(w[0] < w[1], "out of order: {order:?}\n{text}");
    }
    assert!(text.contains(
        "Chứng thực bản sao từ bản chính \"giấy tờ, văn bản\" <do cơ quan có thẩm quyền cấp>"
    ));
    for absent in [
        "closed_locally_open_nationally",
        "PHỤ LỤC III",
        "Lò Thị Bình",
    ] {
        assert!(!text.contains(absent), "{absent}");
    }
    // Same report, same bytes.
    assert_eq!(one(&MonthlyReport::example(), Format::Docx).1, bytes);
}

/// One pack per agency with overdue dossiers: its dossiers on both systems, the officials for
/// the apology letters, its sync faults marked as needing no explanation.
#[test]
fn one_pack_per_agency_with_overdue_dossiers() {
    let packs = files(&MonthlyReport::example(), Format::Packs);
    let names: Vec<&str> = packs.iter().map(|(n, _)| n.as_str()).collect();
    // Phụ lục II's six agencies and Phụ lục I's Sở Tư pháp, by code.
    assert_eq!(
        names,
        [
            "bao-cao-tien-do-2024-08-don-vi-000.01.31.H18.md",
            "bao-cao-tien-do-2024-08-don-vi-000.21.31.H18.md",
            "bao-cao-tien-do-2024-08-don-vi-000.23.31.H18.md",
            "bao-cao-tien-do-2024-08-don-vi-000.24.31.H18.md",
            "bao-cao-tien-do-2024-08-don-vi-000.40.31.H18.md",
            "bao-cao-tien-do-2024-08-don-vi-000.45.31.H18.md",
            "bao-cao-tien-do-2024-08-don-vi-000.48.31.H18.md",
        ]
    );
    let (name, bytes) = &packs[1];
    check_snapshot(name, bytes);
    let tnmt = std::str::from_utf8(bytes).unwrap();
    for needle in [
        "# Hồ sơ quá hạn Tháng 8/2024 — Sở Tài nguyên và Môi trường (000.21.31.H18)",
        "Nguyễn Văn An; Lò Thị Bình",
        "| 000.21.31.H18-240722-0027 |",
        "Lỗi đồng bộ (mục 3) |",
        "Đã kết thúc tại tỉnh, chưa kết thúc trên Cổng DVCQG",
    ] {
        assert!(tnmt.contains(needle), "missing {needle:?} in\n{tnmt}");
    }
    assert!(!tnmt.contains("closed_locally_open_nationally"));
    // The file names stay in the output directory whatever the code.
    assert_eq!(super::file_safe("../x/y"), "_x_y");
    assert_eq!(super::file_safe(""), "khong-ma");
}
