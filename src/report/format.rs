//! Vietnamese formatting for the report: numbers with a decimal comma and '.' between
//! thousands, dates `dd/mm/yyyy hh:mm`, scores out of 20, and the Vietnamese labels of
//! discrepancy kinds and Phụ lục II categories.

use crate::model::LocalTime;

/// Vietnamese label of a discrepancy kind (docs/domain.md §7): [`Kind::label_vi`], the one
/// definition; unknown kinds fall back to the code.
///
/// [`Kind::label_vi`]: crate::reconcile::Kind::label_vi
pub fn kind_label_vi(kind: &str) -> &str {
    crate::reconcile::Kind::label_vi_of(kind)
}

/// Vietnamese label of a Phụ lục II category (`late`, `in_process_overdue`).
pub fn category_label_vi(category: &str) -> &str {
    match category {
        "late" => "Đã giải quyết quá hạn",
        "in_process_overdue" => "Đang xử lý quá hạn",
        other => other,
    }
}

/// `x` rounded to at most `max_decimals`, trailing zeros dropped: 19.5 → "19,5", 93.0 → "93",
/// 1234.5 → "1.234,5".
pub fn fmt_vi(x: f64, max_decimals: usize) -> String {
    let s = fmt_fixed_vi(x, max_decimals);
    if s.contains(',') {
        s.trim_end_matches('0').trim_end_matches(',').to_string()
    } else {
        s
    }
}

/// `x` with exactly `decimals` decimals: (2.25, 1) → "2,3"; (3.0, 1) → "3,0".
pub fn fmt_fixed_vi(x: f64, decimals: usize) -> String {
    if !x.is_finite() {
        return "—".to_string();
    }
    // Half away from zero, as people round (`format!` alone rounds 0.25 to "0.2").
    let factor = 10f64.powi(decimals.min(15) as i32);
    let rounded = (x.abs() * factor).round() / factor;
    let s = format!("{:.*}", decimals, rounded);
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (s.as_str(), None),
    };
    let negative = x < 0.0 && s.bytes().any(|b| matches!(b, b'1'..=b'9'));
    let mut out = String::new();
    if negative {
        out.push('-');
    }
    out.push_str(&group_thousands(int));
    if let Some(f) = frac {
        out.push(',');
        out.push_str(f);
    }
    out
}

/// A count with '.' between thousands: 1234 → "1.234".
pub fn fmt_int_vi(n: u64) -> String {
    group_thousands(&n.to_string())
}

fn group_thousands(digits: &str) -> String {
    let len = digits.len();
    let mut out = String::with_capacity(len + len / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (len - i) % 3 == 0 {
            out.push('.');
        }
        out.push(c);
    }
    out
}

/// A signed figure: "+0,2", "-0,03", "0".
pub(crate) fn fmt_signed_vi(x: f64, max_decimals: usize) -> String {
    let s = fmt_vi(x, max_decimals);
    if x > 0.0 && s != "0" {
        format!("+{s}")
    } else {
        s
    }
}

/// `05/09/2024 08:30`.
pub fn fmt_time_vi(t: &LocalTime) -> String {
    t.format("%d/%m/%Y %H:%M").to_string()
}

pub(crate) fn fmt_opt_time_vi(t: &Option<LocalTime>) -> String {
    t.as_ref()
        .map(fmt_time_vi)
        .unwrap_or_else(|| "—".to_string())
}

/// "19,5/20" or "—".
pub(crate) fn fmt_score(score: Option<f64>) -> String {
    match score {
        Some(s) => format!("{}/20", fmt_vi(s, 2)),
        None => "—".to_string(),
    }
}

/// "97,5%" (of a score out of 20) or "—".
pub(crate) fn fmt_percent_of_score(score: Option<f64>) -> String {
    match score {
        Some(s) => format!("{}%", fmt_vi(s * 5.0, 2)),
        None => "—".to_string(),
    }
}

/// Working days with one decimal: "3,0", "0,3"; "—" when unknown.
pub(crate) fn fmt_days(d: Option<f64>) -> String {
    d.map(|d| fmt_fixed_vi(d, 1))
        .unwrap_or_else(|| "—".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vietnamese_numbers() {
        assert_eq!(fmt_vi(19.5, 2), "19,5");
        assert_eq!(fmt_vi(93.0, 2), "93");
        assert_eq!(fmt_vi(97.4999, 2), "97,5");
        assert_eq!(fmt_vi(1234567.25, 2), "1.234.567,25");
        assert_eq!(fmt_vi(-0.001, 2), "0");
        assert_eq!(fmt_vi(-0.25, 2), "-0,25");
        assert_eq!(fmt_fixed_vi(3.0, 1), "3,0");
        assert_eq!(fmt_fixed_vi(0.25, 1), "0,3");
        assert_eq!(fmt_int_vi(0), "0");
        assert_eq!(fmt_int_vi(1000), "1.000");
        assert_eq!(fmt_int_vi(999), "999");
        assert_eq!(fmt_signed_vi(0.2, 2), "+0,2");
        assert_eq!(fmt_signed_vi(0.0001, 2), "0");
        assert_eq!(fmt_score(None), "—");
        assert_eq!(fmt_percent_of_score(Some(18.6)), "93%");
    }
}
