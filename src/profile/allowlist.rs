//! What of a provincial row may be stored: the helpers behind `Profile::stored_json` and
//! `Profile::unlisted_paths` (docs/profiles.md, "What is stored of a row"), and their tests.

use serde_json::Value;

/// The key names along a path (`a.b[0].c` → `a`, `b`, `c`).
pub(super) fn path_names(path: &str) -> impl Iterator<Item = &str> {
    path.split('.')
        .map(|part| part.split('[').next().unwrap_or(""))
        .filter(|name| !name.is_empty())
}

/// Pushes onto `out` the path of every leaf under `v` (at `path`) that no listed path names.
pub(super) fn collect_unlisted(
    v: &Value,
    path: &mut String,
    listed: &[String],
    out: &mut Vec<String>,
) {
    let is_listed = |p: &str| listed.binary_search_by(|l| l.as_str().cmp(p)).is_ok();
    let at = path.len();
    match v {
        Value::Object(map) if !map.is_empty() => {
            for (k, child) in map {
                if at > 0 {
                    path.push('.');
                }
                path.push_str(k);
                collect_unlisted(child, path, listed, out);
                path.truncate(at);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            for (i, child) in items.iter().enumerate() {
                path.push_str(&format!("[{i}]"));
                collect_unlisted(child, path, listed, out);
                path.truncate(at);
            }
        }
        // A listed path to an object or array keeps nothing, so its leaves are unlisted.
        _ if !is_listed(path) || v.is_object() || v.is_array() => out.push(path.clone()),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::super::*;
    use serde_json::json;

    /// Personal data where no list names it — an e-form block, deep nesting, a field whose
    /// text is JSON, an array of people, a renamed block — never reaches the stored JSON, for
    /// every preset; the mapped and kept values do, and only they.
    #[test]
    fn only_mapped_and_kept_values_are_stored() {
        let hidden = json!({
            "eForm": {"data": {"hoTenNguoiYeuCau": "PII-NAME-1", "soCCCD": "PII-ID-1"}},
            "deep": [{"a": {"b": [{"c": "PII-DEEP-2"}]}}],
            "eFormJson": "{\"applicantName\":\"PII-JSON-3\",\"cmnd\":\"PII-JSON-ID-3\"}",
            "nguoiNop": [{"ten": "PII-LIST-4"}, {"ten": "PII-LIST-5"}],
            "applicantV2": {"fullName": "PII-RENAMED-6"},
        });
        let rows = [
            json!({"id": "1", "code": "HS1", "nationCode": "000.00.11.H18-240814-0001",
                "dossierStatus": {"id": 4, "name": "Đang xử lý"}, "appliedDate": "x",
                "updatedDate": "2024-08-14T10:00:00.000+0700",
                "currentTask": [{"assignee": {"fullname": "Cán bộ B"}}]}),
            json!({"dossierId": 1, "dossierNo": "000.00.11.H18-240814-0001", "systemId": 1,
                "dossierStatus": "processing", "modifiedDate": "14/08/2024 10:00:00",
                "durationCount": 5}),
            json!({"Id": "1", "MaHoSo": "000.00.11.H18-240814-0001", "TrangThaiHoSoId": 4,
                "LastModifiedOn": "2024-08-14T11:00:00", "NguoiDangXuLy": "Cán bộ B",
                "NgayNopHoSo": "2024-08-14T09:00:00"}),
        ];
        for ((name, _), row) in BUILTIN.iter().zip(rows) {
            let p = Profile::builtin(name).unwrap();
            let mut full = row.clone();
            for (k, v) in hidden.as_object().unwrap() {
                full[k] = v.clone();
            }
            let (_, raw) = p.map_row(full.clone()).unwrap();
            assert!(!raw.contains("PII-"), "{name}: {raw}");
            let stored: serde_json::Map<String, Value> = serde_json::from_str(&raw).unwrap();
            assert!(stored.len() >= 3, "{name}: {raw}");
            for (path, v) in &stored {
                assert!(
                    p.listed_paths().contains(path),
                    "{name}: {path} is not listed"
                );
                assert_eq!(get(&full, path), Some(v), "{name}: {path}");
            }
            // The unlisted paths name every hidden value, never a value.
            let unlisted = p.unlisted_paths(&full);
            for want in [
                "eForm.data.hoTenNguoiYeuCau",
                "deep[0].a.b[0].c",
                "eFormJson",
                "nguoiNop[1].ten",
                "applicantV2.fullName",
            ] {
                assert!(
                    unlisted.iter().any(|u| u == want),
                    "{name}: {want} in {unlisted:?}"
                );
            }
            assert!(unlisted.iter().all(|u| !u.contains("PII-")), "{unlisted:?}");
            // The row hash sees the stored values only: the hidden blocks change nothing.
            let (plain, _) = p.map_row(row).unwrap();
            let (with_hidden, _) = p.map_row(full).unwrap();
            assert_eq!(plain.row_hash, with_hidden.row_hash, "{name}");
        }
    }

    #[test]
    fn the_row_hash_sees_every_mapped_and_kept_value() {
        let p = Profile::builtin("igate").unwrap();
        let base = json!({"id": "1", "dossierStatus": {"id": 4, "name": "Đang xử lý"},
            "updatedDate": "2024-08-14T10:00:00.000+0700", "appliedDate": "a",
            "currentTask": [{"assignee": {"fullname": "Cán bộ B"}}], "other": 1});
        let hash = |edit: &dyn Fn(&mut Value)| {
            let mut row = base.clone();
            edit(&mut row);
            p.map_row(row).unwrap().0.row_hash
        };
        let h0 = hash(&|_| {});
        // Mapped (the status, the handler) and kept (the status id, appliedDate) values.
        assert_ne!(
            h0,
            hash(&|r| r["dossierStatus"]["name"] = json!("Có kết quả"))
        );
        assert_ne!(
            h0,
            hash(&|r| r["currentTask"][0]["assignee"]["fullname"] = json!("C"))
        );
        assert_ne!(h0, hash(&|r| r["dossierStatus"]["id"] = json!(9)));
        assert_ne!(h0, hash(&|r| r["appliedDate"] = json!("b")));
        // Neither mapped nor kept: not stored, so not a change of the stored row.
        assert_eq!(h0, hash(&|r| r["other"] = json!(2)));
    }

    #[test]
    fn unlisted_paths_name_leaves_beyond_the_lists() {
        let p = Profile::builtin("igate").unwrap();
        let row = json!({"id": "1", "procedure": {"code": "c", "secret": "s", "translate":
            [{"name": "n", "languageId": 228}]}, "dossierStatus": {"name": "x", "id": {}},
            "empty": [], "nul": null});
        assert_eq!(
            p.unlisted_paths(&row),
            ["dossierStatus.id", "empty", "nul", "procedure.secret"]
        );
    }

    #[test]
    fn keep_paths_are_checked() {
        let base = BUILTIN[0].1;
        let with_keep = |keep: &str| {
            base.replace(
                "keep = [\"appliedDate\", \"dossierStatus.id\", \"procedure.id\", \"agency.id\", \
                 \"procedure.translate[0].languageId\"]",
                &format!("keep = {keep}"),
            )
        };
        let err = Profile::parse("x", &with_keep("[\"\"]"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("keep[0] is empty"), "{err}");
        let err = Profile::parse("x", &with_keep("[\"a\", \"applicant.data.fullname\"]"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("keep[1]") && err.contains("`applicant`"),
            "{err}"
        );
        let err = Profile::parse(
            "x",
            &base.replace(
                "handler = \"currentTask[0].assignee.fullname\"",
                "handler = \"applicant.data.fullname\"",
            ),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("fields.handler"), "{err}");
        // A profile written before `keep` existed still loads: nothing beyond `fields` is kept.
        let old = Profile::parse("old", &with_keep("[]").replace("keep = []", "")).unwrap();
        assert!(old.keep.is_empty() && old.listed_paths().contains(&"nationCode".to_string()));
    }
}
