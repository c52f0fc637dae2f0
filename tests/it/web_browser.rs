//! The review web page in headless Chromium (Debian packages `chromium` and
//! `chromium-driver`, installed by .ci/run): sign in, filter, open a discrepancy, acknowledge
//! it and see its history change, open a dossier, download a report; a viewer cannot
//! acknowledge; a form without its CSRF token is refused; markup in portal strings shows as
//! text and never runs.
//!
//! `WEB_SCREENSHOTS=docs/img cargo test --test it web_browser` keeps screenshots of the
//! overview, a discrepancy and a dossier.

use std::path::PathBuf;
use std::time::Duration;

use tthc_sync::lifecycle::State;
use tthc_sync::reconcile::Kind;
use tthc_sync::store::DiscrepancyFilter;

use crate::support::web::{Browser, WebFixture, HOSTILE, OPERATOR, VIEWER};

/// Where to keep screenshots, when asked.
fn screenshot_dir() -> Option<PathBuf> {
    std::env::var_os("WEB_SCREENSHOTS").map(PathBuf::from)
}

/// Waits for a downloaded file ending in `.ext` (not a partial `.crdownload`).
async fn downloaded(b: &Browser, ext: &str) -> Vec<u8> {
    for _ in 0..100 {
        let found = std::fs::read_dir(&b.downloads)
            .unwrap()
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|x| x == ext));
        if let Some(f) = found {
            return std::fs::read(f).unwrap();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no .{ext} file downloaded in {:?}", b.downloads);
}

/// Nothing injected ran, and no element came from a portal string.
async fn assert_inert(b: &Browser, page: &str) {
    let pwned = b.eval("return window.__pwned === undefined;").await;
    assert_eq!(
        pwned,
        serde_json::json!(true),
        "{page}: injected script ran"
    );
    let scripts = b
        .eval("return document.querySelectorAll('script, img[src=x]').length;")
        .await;
    assert_eq!(
        scripts,
        serde_json::json!(0),
        "{page}: markup became elements"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_reviews_acknowledges_and_downloads_in_a_browser() {
    let fx = WebFixture::start().await;
    let base = &fx.base;
    let b = Browser::start().await;

    // Every page needs a signed-in user.
    b.goto(&format!("{base}/discrepancies")).await;
    assert!(b.current_url().await.ends_with("/login"));
    // A wrong password is refused.
    b.sign_in(base, (OPERATOR.0, "not the password at all"))
        .await;
    assert!(b.text(".error").await.contains("không đúng"));
    b.sign_in(base, OPERATOR).await;
    assert_eq!(
        b.current_url().await,
        format!("{base}/"),
        "{}",
        b.text("main").await
    );
    let overview = b.text("main").await;
    assert!(overview.contains("Điểm tháng"), "{overview}");
    assert!(overview.contains("Sai lệch đang mở theo loại và mức độ"));
    assert_eq!(
        b.eval("return document.querySelectorAll('svg.chart rect').length > 0;")
            .await,
        serde_json::json!(true)
    );
    // The agencies with most discrepancies include one whose name holds markup: shown as text.
    assert!(
        overview.contains("<script>window.__pwned=1</script>"),
        "{overview}"
    );
    assert_inert(&b, "overview").await;
    if let Some(dir) = screenshot_dir() {
        b.screenshot(&dir.join("web-overview.png")).await;
    }

    // Filter: open only, every severity, the commonest kind.
    let store = fx.store();
    let every_open = |kind: Option<Kind>| {
        store
            .discrepancies(&DiscrepancyFilter {
                states: vec![State::Open],
                kind,
                ..Default::default()
            })
            .unwrap()
    };
    let mut counts = std::collections::BTreeMap::<String, usize>::new();
    for d in every_open(None) {
        *counts.entry(d.kind).or_default() += 1;
    }
    let kind = counts.iter().max_by_key(|(_, n)| **n).unwrap().0.clone();
    b.goto(&format!("{base}/discrepancies")).await;
    b.eval(&format!(
        "document.querySelector('select[name=severity]').value = 'low'; \
         document.querySelector('select[name=state]').value = 'open'; \
         document.querySelector('select[name=kind]').value = '{kind}'; return 0;"
    ))
    .await;
    b.click_and_wait("form.filters button").await;
    let url = b.current_url().await;
    assert!(
        url.contains("severity=low") && url.contains("state=open") && url.contains(&kind),
        "{url}"
    );
    let filtered = b.text("p.summary").await;
    let open_all = every_open(Kind::parse(&kind));
    assert!(
        filtered.starts_with(&format!("{} sai lệch", open_all.len())),
        "{filtered} vs {}",
        open_all.len()
    );
    let label = Kind::parse(&kind).unwrap().label_vi();
    let kinds_shown = b
        .eval("return Array.from(document.querySelectorAll('table.list tbody tr td:nth-child(3)')).map(e => e.textContent);")
        .await;
    for k in kinds_shown.as_array().unwrap() {
        assert_eq!(k.as_str(), Some(label));
    }
    // Sorted by score impact: the first row is the largest.
    let first_id = b.text("table.list tbody tr td a").await;
    assert_eq!(first_id, open_all[0].id.to_string());

    // Open it, acknowledge with a note, and see the history change.
    b.click_and_wait("table.list tbody tr td a").await;
    assert!(b
        .current_url()
        .await
        .ends_with(&format!("/discrepancy/{first_id}")));
    assert!(b.text("section.guide").await.contains("Cần làm"));
    let before = b
        .eval("return document.querySelectorAll('ol.timeline li').length;")
        .await;
    b.type_into(
        "form[action$='/ack'] textarea[name=note]",
        "Đã gọi bộ phận một cửa, chờ đồng bộ lại",
    )
    .await;
    b.click_and_wait("form[action$='/ack'] button").await;
    assert!(b.current_url().await.contains("done=ack"));
    assert!(b.text("td#state").await.contains("Đã tiếp nhận"));
    let after = b
        .eval("return document.querySelectorAll('ol.timeline li').length;")
        .await;
    assert_eq!(after.as_u64(), before.as_u64().map(|n| n + 1));
    let history = b.text("ol.timeline").await;
    assert!(
        history.contains(OPERATOR.0) && history.contains("chờ đồng bộ lại"),
        "{history}"
    );
    let events = store.discrepancy_events(first_id.parse().unwrap()).unwrap();
    let last = events.last().unwrap();
    assert_eq!(
        (last.event.as_str(), last.actor.as_str()),
        ("acknowledged", OPERATOR.0)
    );
    assert!(last
        .os_user
        .as_deref()
        .unwrap()
        .starts_with("web:127.0.0.1"));
    assert_inert(&b, "discrepancy").await;
    if let Some(dir) = screenshot_dir() {
        b.screenshot(&dir.join("web-discrepancy.png")).await;
    }

    // A form whose CSRF token was taken out is refused, and changes nothing.
    b.eval(
        "document.querySelector('form[action$=\"/resolve\"] input[name=csrf]').remove(); return 0;",
    )
    .await;
    b.type_into(
        "form[action$='/resolve'] textarea[name=note]",
        "không có mã",
    )
    .await;
    b.click_and_wait("form[action$='/resolve'] button").await;
    assert!(b.text("main").await.contains("CSRF"));
    let events_now = store.discrepancy_events(first_id.parse().unwrap()).unwrap();
    assert_eq!(events_now.len(), events.len());

    // A dossier: both sides, their timelines, its discrepancies; portal strings are text.
    let with_dossier = open_all
        .iter()
        .find(|d| !d.dossier_id.starts_with("nat:"))
        .expect("a discrepancy of a provincial dossier");
    b.goto(&format!("{base}/discrepancy/{}", with_dossier.id))
        .await;
    b.click_and_wait("table.figures a[href^='/dossier/']").await;
    let dossier = b.text("main").await;
    assert!(dossier.contains("Hệ thống một cửa của tỉnh") && dossier.contains("Cổng DVCQG"));
    assert!(dossier.contains("Diễn biến") && dossier.contains(&with_dossier.dossier_code));
    assert_inert(&b, "dossier").await;
    if let Some(dir) = screenshot_dir() {
        b.screenshot(&dir.join("web-dossier.png")).await;
    }
    // Nothing of the hostile strings reached the markup unescaped.
    assert!(!b.source().await.contains(HOSTILE));

    // Reports: generate this month's, then download its XLSX.
    b.goto(&format!("{base}/reports")).await;
    b.click_and_wait("form[action='/reports/generate'] button")
        .await;
    assert!(b.text("p.flash").await.contains("Đã lập báo cáo"));
    b.click("a.file[href$='.xlsx']").await;
    let bytes = downloaded(&b, "xlsx").await;
    assert!(bytes.starts_with(b"PK"), "an XLSX (zip) file");
    // And the list's CSV export of the current filter.
    b.goto(&format!(
        "{base}/discrepancies?state=open&severity=low&kind={kind}"
    ))
    .await;
    b.click("p.summary a[href^='/discrepancies.csv']").await;
    let csv = String::from_utf8(downloaded(&b, "csv").await).unwrap();
    let now_open = every_open(Kind::parse(&kind));
    assert_eq!(now_open.len(), open_all.len() - 1, "one was acknowledged");
    assert_eq!(csv.lines().count(), now_open.len() + 1, "{csv}");
    assert!(csv.contains(&format!("\n{},", now_open[0].id)));
    b.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_viewer_reads_but_cannot_acknowledge() {
    let fx = WebFixture::start().await;
    let base = &fx.base;
    let b = Browser::start().await;
    b.sign_in(base, VIEWER).await;
    assert_eq!(b.current_url().await, format!("{base}/"));
    let d = fx
        .store()
        .discrepancies(&DiscrepancyFilter {
            states: vec![State::Open],
            ..Default::default()
        })
        .unwrap()
        .remove(0);
    b.goto(&format!("{base}/discrepancy/{}", d.id)).await;
    // No form is offered to a viewer.
    assert!(b.try_find("form[action$='/ack']").await.is_none());
    // A forged form with the viewer's own CSRF token is refused by the server all the same.
    let csrf = b
        .eval("return document.querySelector('input[name=csrf]').value;")
        .await;
    b.eval(&format!(
        "const f = document.createElement('form'); f.method = 'post'; \
         f.action = '/discrepancy/{}/ack'; \
         for (const [k, v] of [['csrf', {csrf}], ['note', 'giả mạo']]) {{ \
           const i = document.createElement('input'); i.name = k; i.value = v; f.appendChild(i); }} \
         document.body.appendChild(f); f.submit(); return 0;",
        d.id
    ))
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(b.text("main").await.contains("chỉ có quyền xem"));
    assert_eq!(fx.store().discrepancy(d.id).unwrap().unwrap().state, "open");
    // No generate button either.
    b.goto(&format!("{base}/reports")).await;
    assert!(b
        .try_find("form[action='/reports/generate']")
        .await
        .is_none());
    b.quit().await;
}
