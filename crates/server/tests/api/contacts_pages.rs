//! The contacts list and the CSV import page over plain HTTP, on both
//! backends: filters by property, consent and segment; chosen columns;
//! paging; bulk consent changes (legal basis required, source `bulk`), on
//! ticked contacts or all that match; export; erasure after confirmation,
//! for admins only; import with preview, column mapping and the per-line
//! report.

use crate::common::web::Web;
use crate::common::{spawn_app_with, TestApp};
use recado::config::Secret;
use serde_json::{json, Value};

const PASSWORD: &str = "contacts admin password";
const AGENT: &str = "agent@example.com";
const AGENT_PASSWORD: &str = "correct horse battery";

async fn app() -> TestApp {
    spawn_app_with(|s| s.admin_password = Some(Secret::new(PASSWORD))).await
}

async fn admin(app: &TestApp) -> Web {
    let mut web = Web::new(&app.base);
    web.sign_in("admin@localhost", PASSWORD).await;
    web
}

/// Contacts in two cities; the first `subscribed` of Recife subscribed to SMS.
async fn people(app: &TestApp, recife: usize, olinda: usize, subscribed: usize) -> Vec<String> {
    let mut ids = Vec::new();
    for i in 0..recife + olinda {
        let city = if i < recife { "Recife" } else { "Olinda" };
        let id = app
            .contact(
                json!({"firstname": format!("Pessoa {i:03}"), "city": city, "mobilephone": format!("+5511955{i:06}")}),
            )
            .await;
        if i < subscribed {
            app.subscribe(&id, "sms").await;
        }
        ids.push(id);
    }
    ids
}

fn listed(page: &str) -> Vec<String> {
    page.match_indices("data-contact=\"")
        .map(|(at, m)| page[at + m.len()..].split('"').next().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn the_list_filters_by_property_consent_and_segment_together() {
    let app = app().await;
    let ids = people(&app, 4, 3, 2).await;
    let web = admin(&app).await;
    let (status, page) = web
        .get("/contacts?property=city&op=eq&value=recife&sub_channel=sms&sub_status=subscribed")
        .await;
    assert_eq!(status, 200);
    let mut found = listed(&page);
    found.sort();
    let mut expected = ids[..2].to_vec();
    expected.sort();
    assert_eq!(found, expected);
    let (_, count) = web
        .get("/contacts/count?property=city&op=eq&value=recife&sub_channel=sms&sub_status=subscribed")
        .await;
    assert_eq!(count, "2", "the count of matching contacts");
    let (_, counted) = web
        .get("/contacts?property=city&op=eq&value=recife&sub_channel=sms&sub_status=subscribed&count=1")
        .await;
    assert!(
        counted.contains("id=\"matching-count\">2<"),
        "and without scripts, on request"
    );
    let segment = app
        .post(
            "/api/v1/segments",
            json!({"name": "Olinda", "filter": {"property": "city", "op": "eq", "value": "Olinda"}}),
        )
        .await;
    let (_, page) = web
        .get(&format!("/contacts?segment={}", segment.body["id"].as_str().unwrap()))
        .await;
    assert_eq!(listed(&page).len(), 3);
    let (_, page) = web.get("/contacts?property=city&op=bigger&value=1").await;
    assert!(
        page.contains("id=\"filter-error\""),
        "a filter that cannot be read is explained: {page}"
    );
}

#[tokio::test]
async fn the_columns_a_user_chooses_are_kept_for_the_next_visit() {
    let app = app().await;
    people(&app, 1, 0, 1).await;
    let web = admin(&app).await;
    let r = web
        .http
        .get(format!("{}/contacts?cols=1&col=city&col=sub%3Asms", app.base))
        .header("cookie", &web.cookie)
        .send()
        .await
        .unwrap();
    let kept = crate::common::web::cookie_of(&r, "recado_contact_columns").expect("the choice is kept");
    let page = r.text().await.unwrap();
    assert!(
        page.contains("<th>city</th>") && page.contains("<th>sms consent</th>"),
        "{page}"
    );
    assert!(!page.contains("<th>Phone numbers</th>"));
    let again = web
        .http
        .get(format!("{}/contacts", app.base))
        .header("cookie", format!("{}; {kept}", web.cookie))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        again.contains("<th>city</th>") && again.contains(">subscribed</span>"),
        "{again}"
    );
}

#[tokio::test]
async fn pages_follow_each_other_without_repeating_or_skipping_a_contact() {
    let app = app().await;
    let mut ids = people(&app, 0, 120, 0).await;
    let web = admin(&app).await;
    let mut seen = Vec::new();
    let mut path = "/contacts?property=city&op=eq&value=Olinda".to_string();
    loop {
        let (_, page) = web.get(&path).await;
        seen.extend(listed(&page));
        match page.split("id=\"next-page\" href=\"").nth(1) {
            Some(rest) => path = rest.split('"').next().unwrap().replace("&amp;", "&"),
            None => break,
        }
    }
    assert_eq!(seen.len(), 120);
    let mut sorted = seen.clone();
    sorted.dedup();
    assert_eq!(sorted.len(), 120, "no contact twice");
    ids.reverse();
    assert_eq!(seen, ids, "newest first");
}

async fn history(app: &TestApp, id: &str) -> Vec<Value> {
    app.get(&format!("/api/v1/contacts/{id}/subscriptions/sms/history"))
        .await
        .body["items"]
        .as_array()
        .unwrap()
        .clone()
}

#[tokio::test]
async fn a_bulk_subscription_needs_its_legal_basis_and_is_recorded_with_source_bulk() {
    let app = app().await;
    let ids = people(&app, 3, 0, 0).await;
    let web = admin(&app).await;
    let ticked: Vec<(&str, &str)> = ids.iter().map(|id| ("id", id.as_str())).collect();
    let mut fields = ticked.clone();
    fields.extend([
        ("action", "subscription"),
        ("channel", "sms"),
        ("status", "subscribed"),
        ("legal_basis", ""),
        ("explanation", ""),
    ]);
    let (_, page) = web.submit("/contacts", "/contacts/bulk", &fields).await;
    assert!(page.contains("notice error"), "{page}");
    assert!(history(&app, &ids[0]).await.is_empty(), "nothing changed");
    let mut fields = ticked.clone();
    fields.extend([
        ("action", "subscription"),
        ("channel", "sms"),
        ("status", "subscribed"),
        ("legal_basis", "consent"),
        ("explanation", "signed the paper form at the fair"),
    ]);
    let (_, page) = web.submit("/contacts", "/contacts/bulk", &fields).await;
    assert!(page.contains("Consent changed for 3 contact(s)."), "{page}");
    for id in &ids {
        let h = history(&app, id).await;
        assert_eq!(h.len(), 1);
        assert_eq!(
            (h[0]["source"].as_str(), h[0]["legal_basis"].as_str()),
            (Some("bulk"), Some("consent"))
        );
    }
}

#[tokio::test]
async fn a_bulk_change_of_all_that_match_reaches_every_match_and_no_other() {
    let app = app().await;
    let ids = people(&app, 60, 5, 0).await;
    let web = admin(&app).await;
    let (_, page) = web
        .submit(
            "/contacts",
            "/contacts/bulk",
            &[
                ("scope", "matching"),
                ("property", "city"),
                ("op", "eq"),
                ("value", "Recife"),
                ("action", "subscription"),
                ("channel", "sms"),
                ("status", "unsubscribed"),
            ],
        )
        .await;
    assert!(page.contains("Consent changed for 60 contact(s)."), "{page}");
    assert_eq!(history(&app, &ids[0]).await.len(), 1);
    assert!(history(&app, &ids[64]).await.is_empty(), "Olinda is untouched");
}

#[tokio::test]
async fn an_export_has_one_row_per_contact_with_its_consent() {
    let app = app().await;
    let ids = people(&app, 2, 1, 1).await;
    let web = admin(&app).await;
    let csrf = web.csrf("/contacts").await;
    let r = web
        .http
        .post(format!("{}/contacts/bulk", app.base))
        .header("cookie", &web.cookie)
        .form(&[("csrf", csrf.as_str()), ("scope", "matching"), ("action", "export")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["content-type"], "text/csv; charset=utf-8");
    let text = r.text().await.unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers = reader.headers().unwrap().clone();
    assert!(headers.iter().any(|h| h == "city") && headers.iter().any(|h| h == "sms_consent"));
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 3);
    let sms = headers.iter().position(|h| h == "sms_consent").unwrap();
    let first = rows.iter().find(|r| r[0] == *ids[0]).unwrap();
    assert_eq!(&first[sms], "subscribed");
}

#[tokio::test]
async fn erasing_asks_first_and_is_for_admins_only() {
    let app = app().await;
    let ids = people(&app, 2, 0, 0).await;
    let r = app
        .post(
            "/api/v1/users",
            json!({"email": AGENT, "name": "Marta", "password": AGENT_PASSWORD, "role": "agent"}),
        )
        .await;
    assert_eq!(r.status, 201);
    let mut agent = Web::new(&app.base);
    agent.sign_in(AGENT, AGENT_PASSWORD).await;
    let (status, _) = agent
        .submit(
            "/contacts",
            "/contacts/bulk",
            &[("id", &ids[0]), ("action", "erase"), ("confirm", "yes")],
        )
        .await;
    assert_eq!(status, 403);
    let web = admin(&app).await;
    let (status, page) = web
        .submit("/contacts", "/contacts/bulk", &[("id", &ids[0]), ("action", "erase")])
        .await;
    assert_eq!(status, 200);
    assert!(page.contains("Erase 1 contact(s)?"), "{page}");
    assert_eq!(
        app.get(&format!("/api/v1/contacts/{}", ids[0])).await.status,
        200,
        "asking erases nothing"
    );
    let (_, page) = web
        .submit(
            "/contacts",
            "/contacts/bulk",
            &[("id", &ids[0]), ("action", "erase"), ("confirm", "yes")],
        )
        .await;
    assert!(page.contains("1 contact(s) erased."), "{page}");
    assert_eq!(app.get(&format!("/api/v1/contacts/{}", ids[0])).await.status, 404);
    assert_eq!(app.get(&format!("/api/v1/contacts/{}", ids[1])).await.status, 200);
}

#[tokio::test]
async fn the_import_page_previews_maps_columns_and_reports_each_bad_line() {
    let app = app().await;
    let web = admin(&app).await;
    let csv = "Nome,Cidade,Celular,E-mail\nAna,Recife,+5511912345678,ana@example.com\nBia,Olinda,12,bia@example.com\nCaio,Recife,+5511912345670,caio@example.com\n";
    let (status, page) = web
        .submit(
            "/contacts/import",
            "/contacts/import",
            &[("step", "preview"), ("text", csv)],
        )
        .await;
    assert_eq!(status, 200);
    assert!(
        page.contains("id=\"preview-table\"") && page.contains("<td>Ana</td>"),
        "{page}"
    );
    assert!(page.contains("3 line(s) to import"));
    assert!(
        page.contains("<option value=\"email\" selected>"),
        "E-mail is suggested as email"
    );
    let (_, page) = web
        .submit(
            "/contacts/import",
            "/contacts/import",
            &[
                ("step", "import"),
                ("text", csv),
                ("map_0", "firstname"),
                ("map_1", "custom"),
                ("custom_1", "city"),
                ("map_2", "mobilephone"),
                ("map_3", "email"),
            ],
        )
        .await;
    assert!(page.contains("id=\"report-created\">2<"), "{page}");
    assert!(page.contains("id=\"report-failed\">1<"));
    assert!(page.contains("<td>3</td>"), "line 3 of the file is reported: {page}");
    let found = app.get("/api/v1/contacts?q=ana%40example.com").await.body;
    assert_eq!(found["items"][0]["properties"]["city"], "Recife");
}

/// A contact with a mobile number, subscribed to SMS, and a sandbox SMS channel.
async fn sms_contact(app: &TestApp) -> (String, String) {
    let channel = app.channel("sms_sandbox", "SMS", json!({"senders": ["Loja"]})).await;
    let id = app
        .contact(json!({"firstname": "Ana", "lastname": "Souza", "mobilephone": "+5511912345678", "city": "Recife"}))
        .await;
    app.subscribe(&id, "sms").await;
    (channel, id)
}

#[tokio::test]
async fn the_contact_pages_meter_counts_the_sms_as_it_is_then_sent() {
    let app = app().await;
    let (channel, id) = sms_contact(&app).await;
    let web = admin(&app).await;
    let page = format!("/contacts/{id}");
    let text =
        "Olá {{contact.firstname}}, sua encomenda chegou! Veja https://loja.example/pedidos/4521 Sair: {UNSUB_URL}";
    let fields = [
        ("channel_id", channel.as_str()),
        ("text", text),
        ("shorten_urls", "1"),
        ("utm_source", "crm"),
    ];
    let csrf = web.csrf(&page).await;
    let mut with_csrf = vec![("csrf", csrf.as_str())];
    with_csrf.extend(fields);
    let meter: Value = web
        .http
        .post(format!("{}/contacts/{id}/sms-meter", app.base))
        .header("cookie", &web.cookie)
        .form(&with_csrf)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let (_, after) = web.submit(&page, &format!("/contacts/{id}/sms"), &fields).await;
    assert!(after.contains("queued for sending"), "{after}");
    let message = app.get(&format!("/api/v1/contacts/{id}/timeline")).await.body["items"][0]["message_id"]
        .as_str()
        .unwrap()
        .to_string();
    let sent = app.get(&format!("/api/v1/messages/{message}")).await.body;
    let analysis = app
        .post(
            "/api/v1/sms/analyze",
            json!({"text": sent["text"], "policy": "transliterate"}),
        )
        .await
        .body;
    assert_eq!(
        (
            meter["encoding"].clone(),
            meter["segments"].clone(),
            meter["remaining_in_segment"].clone()
        ),
        (
            analysis["encoding"].clone(),
            analysis["segments"].clone(),
            analysis["remaining_in_segment"].clone()
        ),
        "the meter counted what was sent: {}",
        sent["text"]
    );
    assert!(
        sent["text"].as_str().unwrap().starts_with("Ola Ana,"),
        "tokens filled, transliterated"
    );
}

#[tokio::test]
async fn an_sms_from_the_contact_page_shows_on_its_timeline_under_the_crm_campaign() {
    let app = app().await;
    let (channel, id) = sms_contact(&app).await;
    let web = admin(&app).await;
    let page = format!("/contacts/{id}");
    let (_, after) = web
        .submit(
            &page,
            &format!("/contacts/{id}/sms"),
            &[("channel_id", &channel), ("text", "Oi {{contact.firstname}}!")],
        )
        .await;
    assert!(after.contains("queued for sending"), "{after}");
    app.run_jobs().await;
    let (_, page) = web.get(&page).await;
    use recado_core::clock::Clock;
    let campaign = format!("CRM_SMS_{}", app.clock.now().format("%Y_%m"));
    for kind in ["SMS_SENT", "SMS_DELIVERED"] {
        let at = page
            .find(&format!("data-kind=\"{kind}\""))
            .unwrap_or_else(|| panic!("{kind} on the timeline: {page}"));
        let row = &page[at..at + page[at..].find("</tr>").unwrap()];
        assert!(row.contains(&campaign) && row.contains("<code>msg_"), "{row}");
    }
}

#[tokio::test]
async fn an_sms_to_an_unsubscribed_contact_is_refused_on_the_page_and_recorded() {
    let app = app().await;
    let channel = app.channel("sms_sandbox", "SMS", json!({"senders": ["Loja"]})).await;
    let id = app
        .contact(json!({"firstname": "Bia", "mobilephone": "+5511912345679"}))
        .await;
    let web = admin(&app).await;
    let page = format!("/contacts/{id}");
    let (_, after) = web
        .submit(
            &page,
            &format!("/contacts/{id}/sms"),
            &[("channel_id", &channel), ("text", "Promo!")],
        )
        .await;
    assert!(after.contains("not subscribed to SMS"), "{after}");
    let timeline = app.get(&format!("/api/v1/contacts/{id}/timeline")).await.body;
    assert_eq!(timeline["items"][0]["type"], "SMS_NOT_SENT");
}

#[tokio::test]
async fn properties_are_edited_added_and_cleared_on_the_contact_page() {
    let app = app().await;
    let (_, id) = sms_contact(&app).await;
    let web = admin(&app).await;
    let page = format!("/contacts/{id}");
    let action = format!("/contacts/{id}/properties");
    let (_, after) = web
        .submit(
            &page,
            &action,
            &[
                ("prop_firstname", "Ana"),
                ("prop_lastname", ""),
                ("prop_city", "Olinda"),
                ("prop_mobilephone", "+5511912345678"),
                ("new_name", "plan"),
                ("new_value", "gold"),
            ],
        )
        .await;
    assert!(after.contains("Properties saved."), "{after}");
    let contact = app.get(&format!("/api/v1/contacts/{id}")).await.body;
    assert_eq!(contact["properties"]["city"], "Olinda");
    assert_eq!(contact["properties"]["plan"], "gold");
    assert!(
        contact["properties"]["lastname"].is_null(),
        "an emptied field removes the property"
    );
    let (_, after) = web
        .submit(&page, &action, &[("new_name", "Bad Name!"), ("new_value", "x")])
        .await;
    assert!(after.contains("id=\"property-notice\""), "{after}");
    assert!(app.get(&format!("/api/v1/contacts/{id}")).await.body["properties"]
        .get("Bad Name!")
        .is_none());
}
