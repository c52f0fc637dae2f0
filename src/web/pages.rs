//! The pages, rendered with maud: markup checked at compile time, and every value inserted
//! with `(…)` escaped, so a portal's string is always text, never markup. Pure: each function
//! takes the data and gives the page; no script anywhere (the CSP forbids it too).

use maud::{html, Markup, DOCTYPE};

use super::users::Role;
use crate::dossier_view::{DossierView, SideVerdict};
use crate::lifecycle::State;
use crate::model::{fmt_time, LocalTime, YearMonth};
use crate::reconcile::{FailingLookup, Kind, Severity};
use crate::report::model::MonthPoint;
use crate::report::{fmt_fixed_vi, fmt_int_vi};
use crate::store::{DiscrepancyRow, EventRow, HistoryRow, RunRow};

/// The one style sheet (served at `/static/style.css`).
pub const STYLE: &str = include_str!("style.css");

/// Percent-encodes `s` for a URL's query value or path segment.
pub fn enc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Who is looking, for the frame of every page.
#[derive(Clone, Debug)]
pub struct Viewer<'a> {
    /// The signed-in user's name.
    pub user: &'a str,
    /// Their role.
    pub role: Role,
    /// The session's CSRF token, put in every form.
    pub csrf: &'a str,
}

fn state_vi(s: &str) -> &str {
    match s {
        "open" => "Đang mở",
        "acknowledged" => "Đã tiếp nhận",
        "resolved" => "Đã giải quyết",
        other => other,
    }
}

fn severity_vi(s: &str) -> &str {
    match s {
        "low" => "Thấp",
        "medium" => "Trung bình",
        "high" => "Cao",
        "critical" => "Nghiêm trọng",
        other => other,
    }
}

fn event_vi(s: &str) -> &str {
    match s {
        "opened" => "Mở",
        "acknowledged" => "Tiếp nhận",
        "resolved" => "Giải quyết (thủ công)",
        "auto_resolved" => "Tự động đóng",
        "reopened" => "Mở lại",
        other => other,
    }
}

/// A stored verdict (`on_time`, …, `absent`) in Vietnamese.
fn verdict_vi(s: &str) -> &str {
    match crate::timeliness::Verdict::parse(s) {
        Some(v) => v.label_vi(),
        None if s == "absent" => "Không có trên Cổng DVCQG",
        None => s,
    }
}

fn outcome_vi(s: &str) -> &str {
    match s {
        "ok" => "Thành công",
        "partial" => "Một phần",
        "failed" => "Thất bại",
        "running" => "Đang chạy",
        other => other,
    }
}

fn job_vi(s: &str) -> &str {
    match s {
        "sync" => "Đồng bộ",
        "housekeeping" => "Bảo trì CSDL",
        "report" => "Báo cáo tháng",
        "scores" => "Điểm công bố",
        other => other,
    }
}

/// `08/2024`.
fn month_vi(m: YearMonth) -> String {
    format!("{:02}/{}", m.month, m.year)
}

fn score(x: Option<f64>) -> String {
    x.map_or("—".into(), |v| fmt_fixed_vi(v, 2))
}

/// Every page's `<head>`: its title, the viewport for phones, the one style sheet.
fn head(title: &str) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            title { (title) " — tthc-sync" }
            link rel="stylesheet" href="/static/style.css";
        }
    }
}

/// The frame of every page for a signed-in user.
pub fn layout(title: &str, who: &Viewer<'_>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="vi" {
            (head(title))
            body {
                header.top {
                    nav {
                        a href="/" { "Tổng quan" }
                        a href="/discrepancies" { "Sai lệch" }
                        a href="/reports" { "Báo cáo" }
                    }
                    div.who {
                        span { (who.user) " (" (if who.role == Role::Operator { "vận hành" } else { "xem" }) ")" }
                        form method="post" action="/logout" {
                            input type="hidden" name="csrf" value=(who.csrf);
                            button type="submit" { "Đăng xuất" }
                        }
                    }
                }
                main { h1 { (title) } (body) }
            }
        }
    }
}

/// The sign-in page; `error` says why the last try failed.
pub fn login(pre_csrf: &str, error: Option<&str>) -> Markup {
    html! {
        (DOCTYPE)
        html lang="vi" {
            (head("Đăng nhập"))
            body {
                main.login {
                    h1 { "Đối soát hồ sơ TTHC" }
                    p { "Đăng nhập để xem sai lệch đồng bộ giữa hệ thống một cửa của tỉnh và Cổng DVCQG." }
                    @if let Some(e) = error { p.error role="alert" { (e) } }
                    form method="post" action="/login" {
                        input type="hidden" name="csrf" value=(pre_csrf);
                        label { "Tên đăng nhập" input name="user" autocomplete="username" required; }
                        label { "Mật khẩu" input name="password" type="password" autocomplete="current-password" required; }
                        button type="submit" { "Đăng nhập" }
                    }
                }
            }
        }
    }
}

/// A page that says what went wrong (not found, refused, an error).
pub fn message(title: &str, who: Option<&Viewer<'_>>, text: &str) -> Markup {
    let body = html! { p.error { (text) } p { a href="/" { "Về trang tổng quan" } } };
    match who {
        Some(w) => layout(title, w, body),
        None => html! {
            (DOCTYPE)
            html lang="vi" { head { meta charset="utf-8"; title { (title) } link rel="stylesheet" href="/static/style.css"; }
                body { main { h1 { (title) } (body) } } }
        },
    }
}

/// The national view's age over the active dossiers, in seconds.
#[derive(Clone, Debug, PartialEq)]
pub struct FreshnessFigures {
    /// Active dossiers with a national code.
    pub dossiers: usize,
    /// Median age.
    pub p50: Option<i64>,
    /// 95th percentile.
    pub p95: Option<i64>,
    /// The oldest.
    pub max: Option<i64>,
}

/// What the overview shows.
#[derive(Clone, Debug)]
pub struct Overview {
    /// The month shown.
    pub month: YearMonth,
    /// The last runs, newest first.
    pub runs: Vec<RunRow>,
    /// The month's score from the portal's view, the province's, and the published one.
    pub scores: [Option<f64>; 3],
    /// Why the scores could not be computed, if so.
    pub scores_error: Option<String>,
    /// The last 12 months.
    pub history: Vec<MonthPoint>,
    /// Open discrepancies by kind and severity.
    pub by_kind_severity: Vec<(String, String, u64)>,
    /// The agencies with most open discrepancies.
    pub agencies: Vec<(String, u64)>,
    /// Look-ups failing longer than the configured time (the first few).
    pub failing: Vec<FailingLookup>,
    /// How many are failing in all.
    pub failing_total: usize,
    /// The national view's freshness.
    pub freshness: FreshnessFigures,
}

fn age(secs: Option<i64>) -> String {
    match secs {
        None => "—".into(),
        Some(s) if s < 3600 => format!("{} phút", s / 60),
        Some(s) if s < 48 * 3600 => format!("{} giờ", s / 3600),
        Some(s) => format!("{} ngày", s / 86_400),
    }
}

/// The 12 months as an inline SVG bar chart: the portal's view and the province's, out of 20.
pub fn history_chart(history: &[MonthPoint]) -> Markup {
    let (w, h, top, bottom, left) = (640.0_f64, 220.0_f64, 10.0, 30.0, 30.0);
    let slot = (w - left) / history.len().max(1) as f64;
    let bar = (slot - 6.0) / 2.0;
    let y = |v: f64| top + (h - top - bottom) * (1.0 - (v / 20.0).clamp(0.0, 1.0));
    html! {
        svg.chart viewBox=(format!("0 0 {w} {h}")) role="img" aria-label="Điểm tiến độ giải quyết 12 tháng" {
            title { "Điểm Tiến độ giải quyết (thang 20) 12 tháng gần nhất" }
            @for t in [0.0, 5.0, 10.0, 15.0, 20.0] {
                line.grid x1=(left) x2=(w) y1=(y(t)) y2=(y(t)) {}
                text.axis x="2" y=(y(t) + 4.0) { (t) }
            }
            @for (i, p) in history.iter().enumerate() {
                @let x = left + i as f64 * slot + 3.0;
                @if let Some(v) = p.national_view {
                    rect.nat x=(x) y=(y(v)) width=(bar) height=(y(0.0) - y(v)) { title { "Cổng DVCQG " (month_vi(p.month)) ": " (fmt_fixed_vi(v, 2)) } }
                }
                @if let Some(v) = p.provincial_view {
                    rect.prov x=(x + bar) y=(y(v)) width=(bar) height=(y(0.0) - y(v)) { title { "Tỉnh " (month_vi(p.month)) ": " (fmt_fixed_vi(v, 2)) } }
                }
                text.axis x=(x) y=(h - 12.0) { (format!("{:02}/{}", p.month.month, p.month.year % 100)) }
            }
        }
        p.legend { span.key.nat {} " theo Cổng DVCQG " span.key.prov {} " theo hồ sơ của tỉnh" }
    }
}

/// The overview page.
pub fn overview(who: &Viewer<'_>, o: &Overview) -> Markup {
    let body = html! {
        section.cards {
            div.card { h2 { "Điểm tháng " (month_vi(o.month)) }
                @if let Some(e) = &o.scores_error { p.error { (e) } }
                table.figures {
                    tr { th { "Theo Cổng DVCQG" } td.num { (score(o.scores[0])) } }
                    tr { th { "Theo hồ sơ của tỉnh" } td.num { (score(o.scores[1])) } }
                    tr { th { "Điểm công bố" } td.num { (score(o.scores[2])) } }
                }
            }
            div.card { h2 { "Độ mới dữ liệu Cổng DVCQG" }
                table.figures {
                    tr { th { "Hồ sơ đang xử lý" } td.num { (fmt_int_vi(o.freshness.dossiers as u64)) } }
                    tr { th { "Trung vị" } td.num { (age(o.freshness.p50)) } }
                    tr { th { "95%" } td.num { (age(o.freshness.p95)) } }
                    tr { th { "Cũ nhất" } td.num { (age(o.freshness.max)) } }
                }
            }
        }
        section { h2 { "12 tháng gần nhất" } (history_chart(&o.history)) }
        section { h2 { "Các lần chạy gần nhất" }
            table { thead { tr { th { "#" } th { "Việc" } th { "Bắt đầu" } th { "Kết quả" } th { "Vấn đề" } } }
                tbody { @for r in &o.runs {
                    tr { td { (r.id) } td { (job_vi(&r.job)) } td { (r.started_at) }
                        td class=(format!("outcome-{}", r.outcome)) { (outcome_vi(&r.outcome)) }
                        td { @if let Some(e) = &r.error { div { (e) } } @for p in &r.problems { div { (p) } } } }
                } }
            }
        }
        section { h2 { "Sai lệch đang mở theo loại và mức độ" }
            table { thead { tr { th { "Loại" } th { "Mức độ" } th.num { "Số lượng" } } }
                tbody { @for (kind, sev, n) in &o.by_kind_severity {
                    tr { td { a href=(format!("/discrepancies?kind={}&severity={}", enc(kind), enc(sev))) { (Kind::label_vi_of(kind)) } }
                        td { (severity_vi(sev)) } td.num { (fmt_int_vi(*n)) } }
                } }
            }
        }
        section { h2 { "Cơ quan có nhiều sai lệch nhất" }
            table { thead { tr { th { "Cơ quan" } th.num { "Đang mở" } } }
                tbody { @for (a, n) in &o.agencies {
                    tr { td { a href=(format!("/discrepancies?agency={}&severity=low", enc(a))) { (a) } } td.num { (fmt_int_vi(*n)) } }
                } }
            }
        }
        section { h2 { "Tra cứu Cổng DVCQG lỗi kéo dài (" (o.failing_total) ")" }
            table { thead { tr { th { "Mã hồ sơ" } th { "Cơ quan" } th { "Từ" } th.num { "Số lần" } th { "Lỗi" } } }
                tbody { @for f in &o.failing {
                    tr { td { a href=(format!("/dossier/{}", enc(&f.code))) { (f.code) } }
                        td { (f.agency_name.as_deref().or(f.agency_code.as_deref()).unwrap_or("")) }
                        td { (fmt_time(&f.since)) } td.num { (f.attempts) }
                        td { (f.last_error_class.as_deref().unwrap_or("")) } }
                } }
            }
        }
    };
    layout("Tổng quan", who, body)
}

/// The filter of the discrepancy list, as the query string gives it.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(default)]
pub struct ListQuery {
    /// `open`, `acknowledged`, `resolved`, or empty for open and acknowledged.
    pub state: String,
    /// A kind, or empty for every kind.
    pub kind: String,
    /// The least severity (`low` … `critical`); empty = medium.
    pub severity: String,
    /// An agency's code or name.
    pub agency: String,
    /// A month, `YYYY-MM`.
    pub month: String,
    /// The page, from 1.
    pub page: Option<u64>,
}

impl ListQuery {
    /// The query string of this filter (without the page).
    pub fn query(&self) -> String {
        format!(
            "state={}&kind={}&severity={}&agency={}&month={}",
            enc(&self.state),
            enc(&self.kind),
            enc(&self.severity),
            enc(&self.agency),
            enc(&self.month)
        )
    }
}

/// Rows on one page of the list.
pub const PAGE_SIZE: u64 = 50;

fn select(name: &str, current: &str, options: &[(&str, &str)]) -> Markup {
    html! {
        select name=(name) {
            @for (v, label) in options { option value=(v) selected[*v == current] { (label) } }
        }
    }
}

/// The discrepancy list page: the filter form, one page of rows, paging and the exports.
pub fn discrepancies(
    who: &Viewer<'_>,
    q: &ListQuery,
    total: u64,
    page: u64,
    rows: &[DiscrepancyRow],
) -> Markup {
    let pages = total.div_ceil(PAGE_SIZE).max(1);
    let mut kinds: Vec<(&str, &str)> = vec![("", "Mọi loại")];
    kinds.extend(Kind::ALL.iter().map(|k| (k.as_str(), k.label_vi())));
    let mut sevs: Vec<(&str, &str)> = vec![("", "Từ Trung bình")];
    sevs.extend(
        Severity::ALL
            .iter()
            .map(|s| (s.as_str(), severity_vi(s.as_str()))),
    );
    let states = [
        ("", "Đang mở và đã tiếp nhận"),
        ("open", "Đang mở"),
        ("acknowledged", "Đã tiếp nhận"),
        ("resolved", "Đã giải quyết"),
    ];
    let body = html! {
        form.filters method="get" action="/discrepancies" {
            label { "Trạng thái" (select("state", &q.state, &states)) }
            label { "Loại" (select("kind", &q.kind, &kinds)) }
            label { "Mức độ tối thiểu" (select("severity", &q.severity, &sevs)) }
            label { "Cơ quan (mã hoặc tên)" input name="agency" value=(q.agency); }
            label { "Tháng tính điểm" input name="month" type="month" value=(q.month) placeholder="2026-08"; }
            button type="submit" { "Lọc" }
        }
        p.summary {
            (fmt_int_vi(total)) " sai lệch, xếp theo điểm ảnh hưởng. Tải xuống: "
            a href=(format!("/discrepancies.csv?{}", q.query())) { "CSV" } " · "
            a href=(format!("/discrepancies.xlsx?{}", q.query())) { "XLSX" }
        }
        table.list {
            thead { tr { th { "#" } th { "Hồ sơ" } th { "Loại" } th { "Mức độ" } th.num { "Ảnh hưởng" } th { "Cơ quan" } th { "Trạng thái" } th { "Tháng" } } }
            tbody { @for d in rows {
                tr class=(format!("sev-{}", d.severity)) {
                    td { a href=(format!("/discrepancy/{}", d.id)) { (d.id) } }
                    td { (d.dossier_code) }
                    td { (Kind::label_vi_of(&d.kind)) }
                    td { (severity_vi(&d.severity)) }
                    td.num { (fmt_fixed_vi(d.score_impact, 4)) }
                    td { (crate::discrepancy_export::agency(d)) }
                    td { (state_vi(&d.state)) }
                    td { (d.period.as_deref().unwrap_or("")) }
                }
            } }
        }
        nav.pages {
            @if page > 1 { a rel="prev" href=(format!("/discrepancies?{}&page={}", q.query(), page - 1)) { "← Trang trước" } }
            span { "Trang " (page) " / " (pages) }
            @if page < pages { a rel="next" href=(format!("/discrepancies?{}&page={}", q.query(), page + 1)) { "Trang sau →" } }
        }
    };
    layout("Sai lệch", who, body)
}

fn events_table(events: &[EventRow]) -> Markup {
    html! {
        ol.timeline { @for e in events {
            li { span.when { (e.at) } " " strong { (event_vi(&e.event)) } " — " (e.actor)
                @if let Some(n) = &e.note { div.note { (n) } }
                @if let Some(s) = &e.seen { div.seen { "Khi đó: " (state_vi(&s.state)) ", " (severity_vi(&s.severity)) ", tỉnh: " (s.provincial) ", Cổng: " (s.national) } }
            }
        } }
    }
}

/// One discrepancy: both values, its meaning and what to do, its history, and (for an
/// operator) the acknowledge and resolve forms.
pub fn discrepancy(
    who: &Viewer<'_>,
    d: &DiscrepancyRow,
    events: &[EventRow],
    flash: Option<&str>,
) -> Markup {
    let guide = super::guide::kind_guide(&d.kind);
    let can_ack = who.role == Role::Operator && d.state == State::Open.as_str();
    let can_resolve = who.role == Role::Operator && d.state != State::Resolved.as_str();
    let dossier_link = !d.dossier_id.starts_with("nat:");
    let body = html! {
        @if let Some(f) = flash { p.flash role="status" { (f) } }
        table.figures {
            tr { th { "Hồ sơ" } td { @if dossier_link { a href=(format!("/dossier/{}", enc(&d.dossier_id))) { (d.dossier_code) } } @else { (d.dossier_code) } } }
            tr { th { "Loại" } td { (Kind::label_vi_of(&d.kind)) " (" code { (d.kind) } ")" } }
            tr { th { "Trạng thái" } td #state { (state_vi(&d.state)) } }
            tr { th { "Mức độ" } td { (severity_vi(&d.severity)) } }
            tr { th { "Điểm ảnh hưởng" } td { (fmt_fixed_vi(d.score_impact, 4)) @if let Some(p) = &d.period { " (tháng " (p) ")" } } }
            tr { th { "Cơ quan" } td { (crate::discrepancy_export::agency(d)) } }
            tr { th { "Thấy lần đầu / gần nhất" } td { (d.first_seen) " / " (d.last_seen) } }
        }
        div.sides {
            div { h2 { "Hệ thống một cửa của tỉnh" } p.value { (d.provincial) } @if let Some(v) = &d.provincial_verdict { p { "Đánh giá: " (verdict_vi(v)) } } }
            div { h2 { "Cổng DVCQG" } p.value { (d.national) } @if let Some(v) = &d.national_verdict { p { "Đánh giá: " (verdict_vi(v)) } } }
        }
        @if let Some(g) = guide {
            section.guide { h2 { "Ý nghĩa và cách xử lý" }
                dl { dt { "Ý nghĩa" } dd { (g.meaning) } dt { "Nguyên nhân thường gặp" } dd { (g.cause) } dt { "Cần làm" } dd { (g.action) } }
            }
        }
        section { h2 { "Lịch sử" } (events_table(events)) }
        @if can_ack || can_resolve {
            section.actions.noprint { h2 { "Xử lý" }
                @if can_ack {
                    form method="post" action=(format!("/discrepancy/{}/ack", d.id)) {
                        input type="hidden" name="csrf" value=(who.csrf);
                        label { "Ghi chú (đã kiểm tra gì, đã làm gì)" textarea name="note" required rows="2" {} }
                        button type="submit" name="do" value="ack" { "Tiếp nhận" }
                    }
                }
                @if can_resolve {
                    form method="post" action=(format!("/discrepancy/{}/resolve", d.id)) {
                        input type="hidden" name="csrf" value=(who.csrf);
                        label { "Ghi chú (đã kiểm tra gì, đã làm gì)" textarea name="note" required rows="2" {} }
                        button type="submit" name="do" value="resolve" { "Đánh dấu đã giải quyết" }
                    }
                }
            }
        }
    };
    layout(&format!("Sai lệch #{}", d.id), who, body)
}

fn time_opt(t: &Option<LocalTime>) -> String {
    t.as_ref().map(fmt_time).unwrap_or_else(|| "—".into())
}

fn history_timeline(rows: &[HistoryRow]) -> Markup {
    html! {
        @if rows.is_empty() { p { "Chưa có." } }
        ol.timeline { @for h in rows {
            li { span.when { (h.observed_at) } " "
                strong { (h.status_raw.as_deref().unwrap_or("")) } @if let Some(c) = h.status_code { " (" (c) ")" }
                @if let Some(d) = &h.due_at { div { "Hạn trả: " (d) } }
                @if let Some(d) = &h.finished_at { div { "Kết thúc xử lý: " (d) } }
                @if let Some(d) = &h.returned_at { div { "Trả kết quả: " (d) } }
            }
        } }
    }
}

fn verdict(v: &SideVerdict) -> String {
    match v {
        SideVerdict::Judged {
            verdict,
            working_days_late,
            statutory,
            ..
        } => {
            let text = match working_days_late {
                Some(d) if *d > 0.0 => format!(
                    "{} ({} ngày làm việc)",
                    verdict.label_vi(),
                    fmt_fixed_vi(*d, 1)
                ),
                _ => verdict.label_vi().to_string(),
            };
            match statutory {
                Some(t) => format!("{text}; không có hạn trả, thời hạn {}", t.describe_vi()),
                None => text,
            }
        }
        SideVerdict::Unjudged { error } => format!("Không đánh giá được: {error}"),
    }
}

/// One dossier: both views side by side, both histories, its look-up state and discrepancies.
pub fn dossier(who: &Viewer<'_>, v: &DossierView) -> Markup {
    let p = &v.provincial;
    let status = |s: Option<crate::model::Status>, raw: &str| match s {
        Some(s) => format!("{} ({raw})", s.label_vi()),
        None => raw.to_string(),
    };
    let body = html! {
        div.sides {
            div { h2 { "Hệ thống một cửa của tỉnh" }
                table.figures {
                    tr { th { "Mã hồ sơ" } td { (p.core.code) } }
                    tr { th { "Mã nội bộ" } td { (p.local_code) } }
                    tr { th { "Thủ tục" } td { (p.procedure_name.as_deref().unwrap_or("")) " " (p.core.procedure_code.as_deref().unwrap_or("")) } }
                    tr { th { "Cơ quan" } td { (p.agency_name.as_deref().unwrap_or("")) " " (p.core.agency_code.as_deref().unwrap_or("")) } }
                    tr { th { "Trạng thái" } td { (status(p.core.status, &p.core.status_raw)) } }
                    tr { th { "Tiếp nhận" } td { (time_opt(&p.core.received_at)) } }
                    tr { th { "Hạn trả" } td { (time_opt(&p.core.due_at)) } }
                    tr { th { "Kết thúc xử lý" } td { (time_opt(&p.core.finished_at)) } }
                    tr { th { "Trả kết quả" } td { (time_opt(&p.core.returned_at)) } }
                    tr { th { "Đánh giá (" (month_vi(v.timeliness.period)) ")" } td { (verdict(&v.timeliness.provincial)) } }
                }
                h3 { "Diễn biến" } (history_timeline(&v.provincial_history))
            }
            div { h2 { "Cổng DVCQG" }
                @match &v.national {
                    None => p { "Chưa tra cứu." },
                    Some(n) if !n.found => p { "Cổng DVCQG trả lời không có hồ sơ này (tra cứu lúc " (fmt_time(&n.looked_up_at)) ")." },
                    Some(n) => table.figures {
                        tr { th { "Tra cứu lúc" } td { (fmt_time(&n.looked_up_at)) } }
                        tr { th { "Đơn vị" } td { (n.dossier.unit_name.as_deref().unwrap_or("")) " " (n.dossier.core.agency_code.as_deref().unwrap_or("")) } }
                        tr { th { "Trạng thái" } td { (status(n.dossier.core.status, &n.dossier.core.status_raw)) } }
                        tr { th { "Tiếp nhận" } td { (time_opt(&n.dossier.core.received_at)) } }
                        tr { th { "Hạn trả" } td { (time_opt(&n.dossier.core.due_at)) } }
                        tr { th { "Kết thúc xử lý" } td { (time_opt(&n.dossier.core.finished_at)) } }
                        tr { th { "Trả kết quả" } td { (time_opt(&n.dossier.core.returned_at)) } }
                        @if let Some(nv) = &v.timeliness.national { tr { th { "Đánh giá" } td { (verdict(nv)) } } }
                    },
                }
                h3 { "Diễn biến" } (history_timeline(&v.national_history))
                h3 { "Tra cứu" }
                @match &v.lookup {
                    None => p { "Chưa tra cứu lần nào." },
                    Some(l) => table.figures {
                        tr { th { "Lần gần nhất" } td { (l.last_attempt_at) " — " (l.last_outcome) } }
                        tr { th { "Thành công gần nhất" } td { (l.last_success_at.as_deref().unwrap_or("—")) } }
                        tr { th { "Lỗi liên tiếp" } td { (l.consecutive_failures) @if let Some(s) = &l.failing_since { " (từ " (s) ")" } } }
                        @if let Some(c) = &l.last_error_class { tr { th { "Loại lỗi" } td { (c) } } }
                    },
                }
            }
        }
        section { h2 { "Sai lệch của hồ sơ" }
            table.list { thead { tr { th { "#" } th { "Loại" } th { "Mức độ" } th { "Trạng thái" } th { "Tỉnh" } th { "Cổng DVCQG" } } }
                tbody { @for d in &v.discrepancies {
                    tr { td { a href=(format!("/discrepancy/{}", d.id)) { (d.id) } } td { (Kind::label_vi_of(&d.kind)) }
                        td { (severity_vi(&d.severity)) } td { (state_vi(&d.state)) } td { (d.provincial) } td { (d.national) } }
                } }
            }
        }
    };
    layout(&format!("Hồ sơ {}", p.core.code), who, body)
}

/// One month's report files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportMonth {
    /// `YYYY-MM`.
    pub month: String,
    /// The file names, sorted.
    pub files: Vec<String>,
}

/// The reports page: every month written, each file downloadable; an operator may generate
/// the current month's.
pub fn reports(
    who: &Viewer<'_>,
    months: &[ReportMonth],
    current: YearMonth,
    flash: Option<&str>,
) -> Markup {
    let body = html! {
        @if let Some(f) = flash { p.flash role="status" { (f) } }
        @if who.role == Role::Operator {
            form.noprint method="post" action="/reports/generate" {
                input type="hidden" name="csrf" value=(who.csrf);
                button type="submit" { "Lập báo cáo tháng " (month_vi(current)) }
            }
        }
        @if months.is_empty() { p { "Chưa có báo cáo nào." } }
        table.list { thead { tr { th { "Tháng" } th { "Tệp" } } }
            tbody { @for m in months {
                tr { td { (m.month) } td { @for f in &m.files { a.file href=(format!("/reports/file/{}", enc(f))) download { (f) } " " } } }
            } }
        }
    };
    layout("Báo cáo", who, body)
}
