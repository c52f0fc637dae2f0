//! Tests of the probe's pure analysis (src/probe/analysis.rs).

use super::*;
use serde_json::json;

#[test]
fn date_patterns() {
    for (s, want) in [
        (
            "2024-08-14T09:30:00.000+0700",
            Some("yyyy-MM-ddTHH:mm:ss.SSS+zzzz"),
        ),
        ("2024-08-14T09:30:00", Some("yyyy-MM-ddTHH:mm:ss")),
        ("2024-08-14T09:30:00Z", Some("yyyy-MM-ddTHH:mm:ssZ")),
        (
            "2024-08-14T09:30:00+07:00",
            Some("yyyy-MM-ddTHH:mm:ss+zz:zz"),
        ),
        ("14/08/2024 09:30", Some("dd/MM/yyyy HH:mm")),
        ("4/8/2024 9:30:00", Some("d/M/yyyy H:mm:ss")),
        ("14-08-2024", Some("dd-MM-yyyy")),
        ("20240814093000", Some("yyyyMMddHHmmss")),
        ("Lò Văn A", None),
        ("000.00.11.H18-240814-0001", None),
        ("011100000001", None),
        ("12/34", None),
    ] {
        assert_eq!(date_pattern(s).as_deref(), want, "{s}");
    }
}

#[test]
fn shapes_never_hold_the_value() {
    for (v, want) in [
        (json!("Lò Văn A"), "text(8 chars)"),
        (json!("011100000001"), "digits(12)"),
        (json!("000.00.11.H18-240814-0001"), "national dossier code"),
        (json!("2024-08-14T09:30:00"), "date yyyy-MM-ddTHH:mm:ss"),
        (json!(4), "integer"),
        (json!(""), "empty text"),
        (json!({"a": 1}), "object(1 keys)"),
    ] {
        assert_eq!(shape_of(&v), want);
    }
    assert_eq!(code_shape("HS24.00001x"), "AA99.99999a");
}

#[test]
fn chrono_formats_read_what_the_pattern_describes() {
    for s in [
        "14/08/2024 09:30",
        "2024-08-14T09:30:00.000+0700",
        "2024-08-14T09:30:00+07:00",
        "20240814093000",
        "4/8/2024 9:30:00",
    ] {
        let f = chrono_format(&date_pattern(s).unwrap()).unwrap();
        let ok = chrono::DateTime::parse_from_str(s, &f).is_ok()
            || chrono::NaiveDateTime::parse_from_str(s, &f).is_ok();
        assert!(ok, "{s} with {f}");
    }
    assert_eq!(
        chrono_format("dd/MM/yyyy HH:mm").as_deref(),
        Some("%d/%m/%Y %H:%M")
    );
}

#[test]
fn national_reply_shapes() {
    let code = "000.00.11.H18-240814-0001";
    let mut n = NationalFindings::default();
    n.record_reply(
        code,
        &json!({"error_code": 0, "result": [{"MaHoSo": code,
        "MaTrangThai": "4", "NgayTiepNhan": "20240814093000", "TenNguoiNop": "MARKER"}]}),
    );
    n.record_reply(code, &json!({"error_code": "00", "data": []}));
    n.record_reply(
        code,
        &json!({"error_code": "0", "data": [{"MaHoSo": "x",
        "TrangThaiHoSo": "Đang xử lý", "NgayHenTra": "2024/08/14"}]}),
    );
    n.record_failure("HTTP 500".into());
    assert_eq!((n.asked, n.found, n.not_found, n.other_code), (4, 1, 1, 1));
    assert_eq!(n.rows_in.get("result"), Some(&1));
    assert_eq!(n.rows_in.get("data"), Some(&2));
    assert_eq!(n.error_codes.get("0 (number)"), Some(&1));
    assert_eq!(n.error_codes.get("\"00\" (text)"), Some(&1));
    assert_eq!(n.status_forms.get("TrangThaiHoSo label"), Some(&1));
    assert_eq!(
        n.date_shapes.get("NgayTiepNhan: date yyyyMMddHHmmss"),
        Some(&1)
    );
    assert_eq!(n.unread_dates.get("NgayHenTra: date yyyy/MM/dd"), Some(&1));
    assert_eq!(n.to_adapt().len(), 2, "{:?}", n.to_adapt());
    assert!(!format!("{n:?}").contains("MARKER"));
}

#[test]
fn suggestions_from_labels() {
    assert_eq!(suggest_status("Đang xử lý"), Some(4));
    assert_eq!(suggest_status("Chờ phê duyệt"), Some(4));
    assert_eq!(suggest_status("Yêu cầu bổ sung hồ sơ"), Some(5));
    assert_eq!(suggest_status("Đã trả kết quả cho công dân"), Some(10));
    assert_eq!(suggest_status("Công dân rút hồ sơ"), Some(7));
    assert_eq!(suggest_status("Trạng thái lạ"), None);
}

fn row(i: u32) -> Value {
    json!({"id": format!("id{i}"), "code": "HS1", "nationCode": "000.00.11.H18-240814-0001",
        "procedure": {"code": "1.001193", "translate": [{"name": "Khai sinh"}]},
        "agency": {"code": "000.00.11.H18", "name": "Xã A"},
        "dossierStatus": {"name": "Đang xử lý"}, "applyMethod": {"id": 1},
        "acceptedDate": "2024-08-14T09:30:00.000+0700", "appointmentDate": null,
        "completedDate": null, "returnedDate": null,
        "updatedDate": "2024-08-14T10:00:00.000+0700", "undefindedCompleteTime": false,
        "currentTask": [{"assignee": {"fullname": "Cán bộ B"}}],
        "applicant": {"data": {"fullname": "MARKER-NAME"}}})
}

#[test]
fn a_matching_sample_needs_nothing() {
    let p = Profile::builtin("igate").unwrap();
    let f = analyse_rows(&p, &[row(1), row(2)]);
    assert_eq!(f.to_adapt(), Vec::<String>::new(), "{f:?}");
    assert!(f.code_notes().is_empty());
    assert_eq!(f.personal_seen, [("applicant".to_string(), 2)]);
    let due = f.coverage.iter().find(|c| c.field == "due_at").unwrap();
    assert_eq!(
        (due.present, due.filled, due.shape.as_deref()),
        (2, 0, None)
    );
    let rec = f
        .coverage
        .iter()
        .find(|c| c.field == "received_at")
        .unwrap();
    assert_eq!(
        rec.shape.as_deref(),
        Some("date yyyy-MM-ddTHH:mm:ss.SSS+zzzz")
    );
    assert_eq!(f.statuses[0].maps_to, Some(4));
}

#[test]
fn each_mismatch_is_named_and_no_value_appears() {
    let p = Profile::builtin("igate").unwrap();
    type Edit = fn(&mut Value);
    let cases: [(Edit, &str); 6] = [
        (
            |r| r["dossierStatus"]["name"] = json!("Chờ phê duyệt"),
            "status \"Chờ phê duyệt\" (1 rows) is not in [statuses]: suggested: \"Chờ phê duyệt\" = 4",
        ),
        (
            |r| {
                let v = r.as_object_mut().unwrap().remove("appointmentDate").unwrap();
                r["dueDate"] = v;
            },
            "fields.due_at = \"appointmentDate\": found in none of 1 rows",
        ),
        (
            |r| r["acceptedDate"] = json!("14/08/2024 09:30"),
            "fields.received_at: 1 rows hold a date no date_formats entry reads, shaped \
             `date dd/MM/yyyy HH:mm`",
        ),
        (
            |r| r["nguoiNop"] = json!({"hoTen": "MARKER-NAME-2", "cccd": "MARKER-ID"}),
            "key `nguoiNop.cccd` (1 rows) is neither mapped nor kept: may hold personal data",
        ),
        (|r| r["nationCode"] = json!(""), ""),
        (|r| r["nationCode"] = json!("hs-MARKER"), ""),
    ];
    for (edit, want) in cases {
        let mut r = row(1);
        edit(&mut r);
        let f = analyse_rows(&p, &[r]);
        let text = format!("{:?}\n{}", f, f.to_adapt().join("\n"));
        if want.is_empty() {
            assert!(f.to_adapt().is_empty(), "{text}");
            assert_eq!(f.code_notes().len(), 1, "{text}");
        } else {
            assert!(
                f.to_adapt().iter().any(|l| l.starts_with(want)),
                "{want}\n{text}"
            );
        }
        assert!(!text.contains("MARKER"), "{text}");
    }
    // A kept path is not flagged.
    let mut r = row(1);
    r["extra"] = json!(1);
    let text = Profile::builtin_text("igate")
        .unwrap()
        .replace("keep = [", "keep = [\"extra\", ");
    let p = Profile::parse("igate", &text).unwrap();
    let f = analyse_rows(&p, &[r]);
    assert!(f.to_adapt().is_empty(), "{:?}", f.to_adapt());
}
