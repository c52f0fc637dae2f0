//! Tests of the renderers. Snapshot tests compare with `tests/it/snapshots/NAME.snap` (insta,
//! through the helper the integration tests use); `INSTA_UPDATE=always` rewrites them after an
//! intended change (then review the diff).

use super::snapshot::check as check_snapshot;
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

fn one(r: &MonthlyReport, f: Format) -> (String, Vec<u8>) {
    let mut files = render(r, f).unwrap();
    assert_eq!(files.len(), 1);
    files.pop().unwrap()
}

#[test]
fn markdown_snapshot() {
    let (name, bytes) = one(&MonthlyReport::example(), Format::Markdown);
    assert_eq!(name, "bao-cao-tien-do-2024-08.md");
    check_snapshot(&name, &bytes);
    let (_, quiet) = one(&quiet_example(), Format::Markdown);
    check_snapshot("quiet.md", &quiet);
}

#[test]
fn markdown_says_what_the_province_writes() {
    let md = String::from_utf8(one(&MonthlyReport::example(), Format::Markdown).1).unwrap();
    for needle in [
        "### 1. Tiến độ, kết quả giải quyết TTHC Tháng 8 năm 2024",
        "là **19,5/20** điểm - đạt **97,5%** (điểm trung bình cả nước Tháng 8 là **17,5/20** điểm - đạt **87,5%**)",
        "đạt **97,5%** tăng 4,5% so với tỉ lệ Tháng 7 đạt 93%.",
        "### 2. Đánh giá chung",
        "| Trước hạn | 1.185 | 1.190 | +5 |",
        "| Quá hạn | 18 | 15 | -3 |",
        "| Đã kết thúc tại tỉnh, chưa kết thúc trên Cổng DVCQG | `closed_locally_open_nationally` | 4 | +0,04 |",
        "**6 cơ quan, đơn vị**",
        "có **15 hồ sơ**",
        "| 2 | 000.21.31.H18-240709-0002 |",
        "| Đã giải quyết quá hạn | 0,3 | Lò Thị Bình |",
        "Nguyễn Văn An; Lò Thị Bình",
        "## Phụ lục III. Hồ sơ đúng hạn tại tỉnh nhưng quá hạn trên Cổng DVCQG — đề nghị Sở KH&CN/ Sở TT&TT kiểm tra đồng bộ",
        // user text is escaped, not interpreted
        "Chứng thực bản sao từ bản chính \"giấy tờ, văn bản\" \\<do cơ quan có thẩm quyền cấp\\>",
    ] {
        assert!(md.contains(needle), "missing {needle:?} in\n{md}");
    }
    // The kinds explain 0,06 of the 0,07 point: the remainder has its line.
    assert!(md.contains("| Phần chênh lệch chưa giải thích được | — | — | +0,01 |"));
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
    let files = render(&MonthlyReport::example(), Format::Csv).unwrap();
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
    let quiet = render(&quiet_example(), Format::Csv).unwrap();
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
    let files = render(&r, Format::Csv).unwrap();
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
        assert!(!render(&MonthlyReport::example(), f).unwrap().is_empty());
    }
    assert_eq!(Format::parse(" Markdown ").unwrap(), Format::Markdown);
    let err = Format::parse("pdf").unwrap_err().to_string();
    assert!(
        err.contains("\"pdf\"") && err.contains("md, html, xlsx, csv"),
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
    let md = String::from_utf8(one(&r, Format::Markdown).1).unwrap();
    assert!(
        md.contains("| Phần chênh lệch chưa giải thích được | — | — | +0,02 |"),
        "{md}"
    );
    // The total adds the remainder: it is the score difference, +0,07 (19,83 − 19,76).
    assert!(md.contains("| **Cộng** |  | **5** | **+0,07** |"), "{md}");
    let csv = String::from_utf8(render(&r, Format::Csv).unwrap().remove(0).1).unwrap();
    assert!(
        csv.contains("chenh_lech,unexplained,Phần chênh lệch chưa giải thích được,diem,0.02\r\n"),
        "{csv}"
    );
    assert!(csv.contains("chenh_lech,total,Cộng,diem,0.07\r\n"), "{csv}");
}
