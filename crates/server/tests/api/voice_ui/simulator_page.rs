//! The simulator page without scripts: a call played key by key through
//! the form, and the workflow page's link to try each voice step there.

use super::{admin, app, ivr_workflow};
use crate::common::web::{value_after, Web};

/// Presses `press` on the simulator page whose HTML is `page`, carrying its
/// state as the form does; returns the new page.
async fn press_on(web: &Web, page: &str, press: &str) -> String {
    let field = |name: &str| {
        let marker = format!("name=\"{name}\" value=\"");
        value_after(page, &marker).map(html_unescape).unwrap_or_default()
    };
    let definition = page
        .split("id=\"sim-json\">")
        .nth(1)
        .and_then(|rest| rest.split("</textarea>").next())
        .map(html_unescape)
        .unwrap();
    let (call, log, csrf) = (field("call"), field("log"), field("csrf"));
    let (status, html) = web
        .post_page(
            "/voice/simulator",
            &[
                ("csrf", &csrf),
                ("call", &call),
                ("log", &log),
                ("kind", "ivr"),
                ("definition", &definition),
                ("press", press),
            ],
        )
        .await;
    assert_eq!(status, 200, "{html}");
    html
}

fn html_unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#34;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

#[tokio::test]
async fn the_simulator_page_plays_a_call_without_scripts() {
    let app = app().await;
    let web = admin(&app).await;
    let (status, page) = web.get("/voice/simulator").await;
    assert_eq!(status, 200);
    assert!(page.contains("id=\"key-star\"") && page.contains("id=\"key-hash\""));
    let page = press_on(&web, &page, "answer").await;
    assert!(page.contains("<code>VOICE_DELIVERED</code>"), "{page}");
    let page = press_on(&web, &page, "3").await;
    assert!(page.contains("<code>VOICE_KEY_PRESSED</code>"));
    assert!(page.contains("key: 3"));
    assert!(
        page.matches("<audio controls").count() >= 3,
        "each narration is playable"
    );
    assert!(page.contains("Estamos abertos das nove às dezoito horas."));
}

#[tokio::test]
async fn the_workflow_page_links_each_voice_step_to_the_simulator() {
    let app = app().await;
    let id = ivr_workflow(&app).await;
    let web = admin(&app).await;
    let (_, page) = web.get(&format!("/workflows/{id}")).await;
    let link = format!("/workflows/{id}/nodes/call/simulate");
    assert!(page.contains(&link), "{page}");
    let (status, simulator) = web.get(&link).await;
    assert_eq!(status, 200);
    assert!(
        simulator.contains("Abrimos às nove."),
        "the step's definition is loaded"
    );
}
