//! The admin's settings pages over plain HTTP, on both backends: admins
//! only, CSRF on every form, channels connected, tested, edited and removed
//! through forms with the errors next to their fields, secrets never shown
//! again, channel health, WhatsApp usage with packs, outbound webhooks with
//! their deliveries, keywords and the workspace. The browser tests walk the
//! same pages with screenshots.

use crate::common::cloud_api::CloudApi;
use crate::common::web::{value_after, Web};
use crate::common::{spawn_app_with, TestApp};
use recado::config::Secret;
use serde_json::json;

const ADMIN_PASSWORD: &str = "settings admin password";
const AGENT: &str = "agent@example.com";
const AGENT_PASSWORD: &str = "correct horse battery";

async fn app() -> TestApp {
    spawn_app_with(|s| s.admin_password = Some(Secret::new(ADMIN_PASSWORD))).await
}

async fn admin(app: &TestApp) -> Web {
    let mut web = Web::new(&app.base);
    web.sign_in("admin@localhost", ADMIN_PASSWORD).await;
    web
}

async fn agent(app: &TestApp) -> Web {
    let r = app
        .post(
            "/api/v1/users",
            json!({"email": AGENT, "name": "Marta Agent", "password": AGENT_PASSWORD, "role": "agent"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let mut web = Web::new(&app.base);
    web.sign_in(AGENT, AGENT_PASSWORD).await;
    web
}

/// The text of the element with `id`, tags removed.
fn text_of(html: &str, id: &str) -> String {
    let marker = format!("id=\"{id}\"");
    let Some(at) = html.find(&marker) else {
        return String::new();
    };
    let from = html[at..].find('>').map_or(at, |i| at + i + 1);
    let tag_end = ["</p>", "</dd>", "</div>", "</strong>", "</span>", "</code>"]
        .iter()
        .filter_map(|t| html[from..].find(t))
        .min()
        .unwrap_or(html.len() - from);
    let mut out = String::new();
    let mut inside = false;
    for c in html[from..from + tag_end].chars() {
        match c {
            '<' => inside = true,
            '>' => inside = false,
            c if !inside => out.push(c),
            _ => {}
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

const SETTINGS_PAGES: [&str; 9] = [
    "/settings",
    "/settings/channels",
    "/settings/channels/new?kind=sms_sandbox",
    "/settings/usage",
    "/settings/templates",
    "/settings/keywords",
    "/settings/webhooks",
    "/settings/workspace",
    "/admin/users",
];

#[tokio::test]
async fn an_agent_gets_the_403_page_on_every_settings_page() {
    let app = app().await;
    let agent = agent(&app).await;
    for path in SETTINGS_PAGES {
        let (status, page) = agent.get(path).await;
        assert_eq!(status, 403, "{path}");
        assert!(page.contains("Not allowed"), "{path}: {page}");
    }
    let (_, inbox) = agent.get("/inbox").await;
    assert!(!inbox.contains("href=\"/settings\""), "agents see no settings link");
}

#[tokio::test]
async fn an_agents_settings_form_is_refused_and_changes_nothing() {
    let app = app().await;
    let agent = agent(&app).await;
    let csrf = agent.csrf("/inbox").await;
    let (status, _) = agent
        .post(
            "/settings/channels/new",
            &[("csrf", &csrf), ("kind", "sms_sandbox"), ("name", "Sneaky")],
        )
        .await;
    assert_eq!(status, 403);
    let (status, _) = agent
        .post("/settings/usage/packs", &[("csrf", &csrf), ("count", "5")])
        .await;
    assert_eq!(status, 403);
    assert_eq!(app.get("/api/v1/channels").await.body["items"], json!([]));
    assert_eq!(app.get("/api/v1/whatsapp/usage").await.body["packs"], 0);
}

#[tokio::test]
async fn a_settings_form_without_its_csrf_token_is_refused() {
    let app = app().await;
    let admin = admin(&app).await;
    let (status, _) = admin
        .post(
            "/settings/channels/new",
            &[("kind", "sms_sandbox"), ("name", "No token")],
        )
        .await;
    assert_eq!(status, 403);
    let (status, _) = admin
        .post("/settings/workspace", &[("csrf", "forged"), ("name", "Taken over")])
        .await;
    assert_eq!(status, 403);
    assert_eq!(app.get("/api/v1/channels").await.body["items"], json!([]));
    assert_ne!(app.get("/api/v1/workspace").await.body["name"], "Taken over");
}

/// Connects a Cloud API channel pointed at the stand-in through the form.
async fn connect_cloud(admin: &Web, api: &CloudApi, token: &str) -> (u16, String) {
    admin
        .submit(
            "/settings/channels/new?kind=whatsapp_cloud",
            "/settings/channels/new",
            &[
                ("kind", "whatsapp_cloud"),
                ("name", "Loja"),
                ("waba_id", "100000000000001"),
                ("phone_numbers", "1065000001 +1 555 000 1111"),
                ("access_token", token),
                ("app_secret", "the-app-secret"),
                ("verify_token", "paste-me-into-meta"),
                ("graph_base_url", &api.base_url),
                ("tier", "unverified"),
            ],
        )
        .await
}

#[tokio::test]
async fn a_connected_cloud_channel_shows_its_webhook_url_and_verify_token_which_pass_the_handshake() {
    let app = app().await;
    let api = CloudApi::start().await;
    let admin = admin(&app).await;
    let (status, page) = connect_cloud(&admin, &api, "good-token").await;
    assert_eq!(status, 200, "{page}");
    let url = text_of(&page, "webhook-url");
    let path = url.strip_prefix("http://127.0.0.1").expect("the test hub's public URL");
    assert!(path.starts_with("/webhooks/whatsapp/ch_"), "{url}");
    assert_eq!(text_of(&page, "verify-token"), "paste-me-into-meta");
    // Meta's handshake, as the provider's console makes it.
    let handshake = reqwest::get(format!(
        "{}{path}?hub.mode=subscribe&hub.verify_token=paste-me-into-meta&hub.challenge=1158201444",
        app.base
    ))
    .await
    .unwrap();
    assert_eq!(handshake.status(), 200);
    assert_eq!(handshake.text().await.unwrap(), "1158201444");
}

#[tokio::test]
async fn the_test_button_shows_the_providers_answer_and_a_wrong_token_shows_its_error() {
    let app = app().await;
    let api = CloudApi::start().await;
    api.require_access_token("good-token");
    let admin = admin(&app).await;
    let (_, page) = connect_cloud(&admin, &api, "wrong-token").await;
    let id = value_after(&page, "data-channel=\"").unwrap().to_string();
    let channel_page = format!("/settings/channels/{id}");
    let test = format!("/settings/channels/{id}/test");
    let (status, page) = admin.submit(&channel_page, &test, &[]).await;
    assert_eq!(status, 200, "a provider's refusal is a page, not a 500");
    let result = text_of(&page, "test-result");
    assert!(
        result.contains("HTTP 401") && result.contains("190") && result.contains("Invalid OAuth access token"),
        "{result}"
    );
    // The right token, typed into the edit form; the other secrets are kept.
    let (status, _) = admin
        .submit(
            &channel_page,
            &channel_page,
            &[
                ("name", "Loja"),
                ("waba_id", "100000000000001"),
                ("phone_numbers", "1065000001"),
                ("access_token", "good-token"),
                ("verify_token", "paste-me-into-meta"),
            ],
        )
        .await;
    assert_eq!(status, 200);
    let (_, page) = admin.submit(&channel_page, &test, &[]).await;
    let result = text_of(&page, "test-result");
    assert!(result.contains("Loja Stand-in") && result.contains("GREEN"), "{result}");
    assert!(
        !page.contains("good-token") && !page.contains("the-app-secret"),
        "secrets are never shown"
    );
}

#[tokio::test]
async fn a_refused_setting_is_shown_next_to_its_field_and_nothing_is_connected() {
    let app = app().await;
    let admin = admin(&app).await;
    let (status, page) = admin
        .submit(
            "/settings/channels/new?kind=whatsapp_360dialog",
            "/settings/channels/new",
            &[
                ("kind", "whatsapp_360dialog"),
                ("name", "Dialog"),
                ("phone_numbers", "2077"),
                ("api_key", "k"),
            ],
        )
        .await;
    assert_eq!(status, 422);
    let error = text_of(&page, "e-app_secret");
    assert!(error.contains("app_secret") && error.contains("required"), "{error}");
    let (status, page) = admin
        .submit(
            "/settings/channels/new?kind=sms_smpp",
            "/settings/channels/new",
            &[
                ("kind", "sms_smpp"),
                ("name", "Operator"),
                ("host", "127.0.0.1"),
                ("system_id", "recado"),
                ("port", "two"),
            ],
        )
        .await;
    assert_eq!(status, 422);
    assert!(text_of(&page, "e-port").contains("`port` must be a number"), "{page}");
    assert!(page.contains("value=\"Operator\""), "what was typed stays in the form");
    assert_eq!(app.get("/api/v1/channels").await.body["items"], json!([]));
}

#[tokio::test]
async fn a_secret_left_empty_on_edit_keeps_the_stored_one() {
    let app = app().await;
    let admin = admin(&app).await;
    let (status, page) = admin
        .submit(
            "/settings/channels/new?kind=sms_http",
            "/settings/channels/new",
            &[
                ("kind", "sms_http"),
                ("name", "Twilio"),
                ("account_sid", "AC123"),
                ("auth_token", "tw-secret"),
                ("senders", "+15550001111"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{page}");
    let id = value_after(&page, "data-channel=\"").unwrap().to_string();
    let path = format!("/settings/channels/{id}");
    let (status, page) = admin
        .submit(
            &path,
            &path,
            &[
                ("name", "Twilio US"),
                ("account_sid", "AC123"),
                ("auth_token", ""),
                ("senders", "+15550001111\n+15550002222"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Settings saved."));
    assert!(!page.contains("tw-secret"));
    let channel = app.get(&format!("/api/v1/channels/{id}")).await.body;
    assert_eq!(channel["name"], "Twilio US");
    assert_eq!(channel["config"]["senders"], json!(["+15550001111", "+15550002222"]));
    assert!(channel["error"].is_null(), "the stored auth token was kept: {channel}");
}

#[tokio::test]
async fn the_channel_list_shows_the_last_send_and_the_last_provider_error() {
    let app = app().await;
    let sandbox = app
        .channel("sms_sandbox", "Sandbox", json!({"senders": ["+15550001111"]}))
        .await;
    // An HTTP provider nobody listens to: each submission fails to connect.
    let closed = crate::common::process::free_port();
    let broken = app
        .channel(
            "sms_http",
            "Broken",
            json!({"base_url": format!("http://127.0.0.1:{closed}"), "account_sid": "AC1", "auth_token": "t", "senders": ["+15550001111"]}),
        )
        .await;
    let ana = app
        .contact(json!({"firstname": "Ana", "mobilephone": "+5511912345678"}))
        .await;
    app.subscribe(&ana, "sms").await;
    for channel in [&sandbox, &broken] {
        let r = app
            .post(
                "/api/v1/messages",
                json!({"channel": "sms", "channel_id": channel, "contact_id": ana, "text": "Oi"}),
            )
            .await;
        assert_eq!(r.status, 202, "{}", r.body);
    }
    app.run_jobs().await;
    let admin = admin(&app).await;
    let (_, page) = admin.get("/settings/channels").await;
    let row = |id: &str| {
        let at = page.find(&format!("data-channel=\"{id}\"")).unwrap();
        page[at..at + page[at..].find("</tr>").unwrap()].to_string()
    };
    let ok = row(&sandbox);
    assert!(ok.contains("health-ok") && ok.contains("none"), "{ok}");
    let failing = row(&broken);
    assert!(
        failing.contains("health-error") && failing.contains("unreachable"),
        "{failing}"
    );
    let (_, inbox) = admin.get("/inbox").await;
    assert!(
        inbox.contains("1 channel(s) reporting errors"),
        "the settings link asks for attention"
    );
}

#[tokio::test]
async fn removing_a_channel_asks_first_then_keeps_its_messages() {
    let app = app().await;
    let id = app.channel("sms_sandbox", "Old provider", json!({})).await;
    let admin = admin(&app).await;
    let confirm = format!("/settings/channels/{id}/delete");
    let (status, page) = admin.get(&confirm).await;
    assert_eq!(status, 200);
    assert!(text_of(&page, "question").contains("Remove the channel Old provider"));
    assert_eq!(
        app.get("/api/v1/channels").await.body["items"]
            .as_array()
            .unwrap()
            .len(),
        1,
        "asking removes nothing"
    );
    let (status, page) = admin.submit(&confirm, &confirm, &[]).await;
    assert_eq!(status, 200);
    assert!(page.contains("Channel Old provider removed."));
    assert_eq!(app.get("/api/v1/channels").await.body["items"], json!([]));
}

#[tokio::test]
async fn the_usage_page_shows_the_share_used_and_packs_change_it() {
    let app = app().await;
    let admin = admin(&app).await;
    let (_, page) = admin
        .submit(
            "/settings/usage",
            "/settings/usage/settings",
            &[("monthly_limit", "8"), ("billing_anchor_day", "1")],
        )
        .await;
    assert!(page.contains("Usage settings saved."), "{page}");
    assert_eq!(text_of(&page, "usage-percent"), "0.0 %");
    let (_, page) = admin
        .submit("/settings/usage", "/settings/usage/packs", &[("count", "2")])
        .await;
    assert_eq!(text_of(&page, "usage-limit"), "2008");
    assert_eq!(text_of(&page, "pack-count"), "2");
    let (_, page) = admin
        .submit("/settings/usage", "/settings/usage/packs", &[("count", "-1")])
        .await;
    assert_eq!(text_of(&page, "usage-limit"), "1008");
    let (_, page) = admin
        .submit("/settings/usage", "/settings/usage/packs", &[("count", "-5")])
        .await;
    assert!(page.contains("between 0 and 1,000,000"), "{page}");
    assert_eq!(app.get("/api/v1/whatsapp/usage").await.body["packs"], 1);
    let (_, page) = admin
        .submit(
            "/settings/usage",
            "/settings/usage/settings",
            &[("monthly_limit", "8"), ("billing_anchor_day", "32")],
        )
        .await;
    assert!(page.contains("1 to 31"), "{page}");
    assert!(
        page.contains("<tbody>") && page.matches("<tr><td>").count() >= 12,
        "12 earlier periods are listed"
    );
}

#[tokio::test]
async fn an_outbound_webhook_added_on_the_page_shows_its_secret_once_and_records_the_test_delivery() {
    let app = app().await;
    let received = std::sync::Arc::new(std::sync::Mutex::new(Vec::<serde_json::Value>::new()));
    let sink = {
        let received = received.clone();
        axum::Router::new().route(
            "/hook",
            axum::routing::post(move |body: axum::Json<serde_json::Value>| {
                let received = received.clone();
                async move {
                    received.lock().unwrap().push(body.0);
                    "thanks"
                }
            }),
        )
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, sink).await.unwrap() });
    let admin = admin(&app).await;
    let (status, page) = admin
        .submit(
            "/settings/webhooks",
            "/settings/webhooks",
            &[
                ("url", &hook),
                ("events", "message.status"),
                ("events", "consent.changed"),
            ],
        )
        .await;
    assert_eq!(status, 200);
    let secret = value_after(&page, "<code class=\"token\">").unwrap_or_default();
    assert!(
        secret.starts_with("whsec_") && page.contains("id=\"new-secret\""),
        "{page}"
    );
    let (_, again) = admin.get("/settings/webhooks").await;
    assert!(!again.contains("whsec_"), "the secret is shown once");
    assert!(again.contains("message.status, consent.changed"));
    let id = value_after(&again, "data-endpoint=\"").unwrap().to_string();
    let (_, page) = admin
        .submit("/settings/webhooks", &format!("/settings/webhooks/{id}/test"), &[])
        .await;
    assert!(page.contains("The test event was accepted"), "{page}");
    assert!(
        page.contains("webhook.test") && page.contains(">200<") && page.contains("thanks"),
        "{page}"
    );
    assert_eq!(received.lock().unwrap()[0]["type"], "webhook.test");
    let (status, page) = admin
        .submit("/settings/webhooks", "/settings/webhooks", &[("url", "ftp://nope")])
        .await;
    assert_eq!(status, 422);
    assert!(text_of(&page, "e-url").contains("http(s) URL"));
}

#[tokio::test]
async fn keywords_are_added_and_removed_and_replies_saved_on_the_keywords_page() {
    let app = app().await;
    let admin = admin(&app).await;
    let (_, page) = admin
        .submit(
            "/settings/keywords",
            "/settings/keywords",
            &[("word", "SAIR"), ("kind", "opt_out"), ("language", "pt")],
        )
        .await;
    assert!(page.contains("Keyword added."), "{page}");
    let words: Vec<String> = app.get("/api/v1/keywords").await.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| k["builtin"] == false)
        .map(|k| k["word"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(words, vec!["SAIR"]);
    let (_, page) = admin
        .submit(
            "/settings/keywords",
            "/settings/keywords",
            &[("word", "SAIR"), ("kind", "opt_out")],
        )
        .await;
    assert!(page.contains("already has that keyword"), "{page}");
    let (_, page) = admin
        .submit(
            "/settings/keywords",
            "/settings/keywords",
            &[("opt_in_reply", "Bem-vindo!"), ("opt_out_reply", "")],
        )
        .await;
    assert!(page.contains("Confirmation replies saved."));
    assert!(page.contains(">Bem-vindo!</textarea>"));
    let (_, page) = admin
        .submit("/settings/keywords", "/settings/keywords/remove", &[("word", "SAIR")])
        .await;
    assert!(page.contains("Keyword removed."));
}

#[tokio::test]
async fn the_workspace_page_saves_name_country_and_time_zone_and_checks_the_public_url() {
    let port = crate::common::process::free_port();
    let app = spawn_app_with(|s| {
        s.admin_password = Some(Secret::new(ADMIN_PASSWORD));
        s.listen = format!("127.0.0.1:{port}").parse().unwrap();
        s.public_url = format!("http://127.0.0.1:{port}");
    })
    .await;
    let admin = admin(&app).await;
    let (_, page) = admin
        .submit(
            "/settings/workspace",
            "/settings/workspace",
            &[
                ("name", "Loja Azul"),
                ("default_country", "BR"),
                ("timezone", "America/Sao_Paulo"),
            ],
        )
        .await;
    assert!(page.contains("Workspace saved."), "{page}");
    let ws = app.get("/api/v1/workspace").await.body;
    assert_eq!(
        (
            ws["name"].as_str(),
            ws["default_country"].as_str(),
            ws["timezone"].as_str()
        ),
        (Some("Loja Azul"), Some("BR"), Some("America/Sao_Paulo"))
    );
    let (_, page) = admin
        .submit(
            "/settings/workspace",
            "/settings/workspace",
            &[("name", "Loja Azul"), ("timezone", "Mars/Olympus")],
        )
        .await;
    assert!(page.contains("IANA name"), "{page}");
    assert_eq!(app.get("/api/v1/workspace").await.body["timezone"], "America/Sao_Paulo");
    let (_, page) = admin
        .submit("/settings/workspace", "/settings/workspace", &[("check", "1")])
        .await;
    assert!(text_of(&page, "url-check").contains("this hub is reachable"), "{page}");
}

#[tokio::test]
async fn the_templates_page_marks_each_variable_of_a_template_body() {
    let app = app().await;
    app.channel("whatsapp_sandbox", "Front desk", json!({})).await;
    let admin = admin(&app).await;
    let (status, page) = admin.get("/settings/templates").await;
    assert_eq!(status, 200);
    assert!(page.contains("data-template=\"order_update\""), "{page}");
    assert!(page.contains("<mark class=\"var\">{{1}}</mark>"), "{page}");
    let (_, page) = admin
        .submit("/settings/templates", "/settings/templates/sync", &[])
        .await;
    assert!(page.contains("Synced"), "{page}");
}

#[tokio::test]
async fn each_usage_threshold_is_emailed_to_the_admins_once() {
    let sink = crate::common::smtp_sink::SmtpSink::start().await;
    let url = sink.url.clone();
    let app = spawn_app_with(move |s| {
        s.smtp = Some(recado_app::settings::SmtpSettings {
            url: Secret::new(&url),
            from: "hub@example.com".into(),
        });
    })
    .await;
    let r = app
        .put("/api/v1/whatsapp/usage/settings", json!({"monthly_limit": 5}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    app.channel("whatsapp_sandbox", "Front desk", json!({})).await;
    for i in 0..4 {
        let id = app
            .contact(json!({"firstname": format!("C{i}"), "whatsapp_phone": format!("+55119123456{i:02}")}))
            .await;
        app.subscribe(&id, "whatsapp").await;
        let r = app
            .post("/api/v1/messages", json!({"channel": "whatsapp", "contact_id": id, "template": {"name": "hello_world", "language": "en_US"}}))
            .await;
        assert_eq!(r.status, 202, "{}", r.body);
    }
    app.run_jobs().await;
    app.run_jobs().await;
    let mails = sink.received();
    let at_80: Vec<_> = mails
        .iter()
        .filter(|m| m.data.contains("WhatsApp usage at 80 %"))
        .collect();
    assert_eq!(at_80.len(), 1, "{mails:?}");
    assert_eq!(at_80[0].to, vec!["admin@localhost".to_string()]);
    assert!(
        at_80[0].data.contains("4 of its 5 WhatsApp conversations"),
        "{}",
        at_80[0].data
    );
    assert_eq!(mails.len(), 2, "70 % and 80 %, each once");
}

/// Every form the web UI posts to (ids filled with ones that exist or not:
/// the token is checked before anything else).
const FORMS: [&str; 38] = [
    "/logout",
    "/inbox/views",
    "/inbox/views/x/delete",
    "/inbox/threads/x/reply",
    "/inbox/threads/x/template",
    "/inbox/threads/x/ticket",
    "/inbox/threads/x/sms-meter",
    "/inbox/contacts/x/subscriptions",
    "/contacts/bulk",
    "/contacts/x/whatsapp",
    "/contacts/x/sms",
    "/contacts/x/sms-meter",
    "/contacts/x/properties",
    "/contacts/x/workflows",
    "/contacts/import",
    "/campaigns/broadcasts/x/pause",
    "/broadcasts/new",
    "/broadcasts/sms-meter",
    "/workflows/new",
    "/workflows/import",
    "/workflows/x/import",
    "/workflows/x/edit",
    "/workflows/x/publish",
    "/admin/users",
    "/account/tokens",
    "/account/tokens/x/revoke",
    "/admin/users/x/password",
    "/settings/channels/new",
    "/settings/channels/x",
    "/settings/channels/x/test",
    "/settings/channels/x/delete",
    "/settings/usage/settings",
    "/settings/usage/packs",
    "/settings/templates/sync",
    "/settings/keywords",
    "/settings/keywords/remove",
    "/settings/webhooks",
    "/settings/workspace",
];

#[tokio::test]
async fn every_form_without_its_csrf_token_is_refused() {
    let app = app().await;
    let admin = admin(&app).await;
    for path in FORMS {
        let (status, _) = admin.post(path, &[("name", "x"), ("text", "x")]).await;
        assert_eq!(status, 403, "{path} without a token");
        let (status, _) = admin
            .post(path, &[("csrf", "another-sessions-token"), ("name", "x")])
            .await;
        assert_eq!(status, 403, "{path} with a wrong token");
    }
    let (status, _) = admin.get("/settings/channels").await;
    assert_eq!(status, 200, "the session is still signed in");
}

/// The text of the last message the hub sent in the thread of `number`.
async fn last_reply(app: &TestApp, number: &str) -> String {
    let threads = app.get("/api/v1/threads?status=open").await.body;
    for t in threads["items"].as_array().unwrap() {
        let contact = app
            .get(&format!("/api/v1/contacts/{}", t["contact_id"].as_str().unwrap()))
            .await
            .body;
        if contact["phones"].as_object().unwrap().values().any(|v| v == number) {
            let thread = app
                .get(&format!("/api/v1/threads/{}", t["id"].as_str().unwrap()))
                .await
                .body;
            return thread["messages"]
                .as_array()
                .unwrap()
                .iter()
                .rfind(|m| m["direction"] == "out")
                .map(|m| m["text"].as_str().unwrap_or_default().to_string())
                .unwrap_or_default();
        }
    }
    panic!("no thread with {number}")
}

#[tokio::test]
async fn a_reply_set_for_a_language_answers_that_languages_keyword_and_no_other() {
    let app = app().await;
    let channel = app.channel("whatsapp_sandbox", "Front desk", json!({})).await;
    let admin = admin(&app).await;
    let (_, page) = admin
        .submit(
            "/settings/keywords",
            "/settings/keywords/replies",
            &[
                ("language", "pt"),
                ("opt_in_reply", ""),
                (
                    "opt_out_reply",
                    "Pronto, não enviamos mais nada. Responda VOLTAR para voltar.",
                ),
            ],
        )
        .await;
    assert!(page.contains("Confirmation replies saved."), "{page}");
    app.simulate(
        &channel,
        json!({"from": "+5511912345678", "name": "Ana", "text": "PARAR"}),
    )
    .await;
    app.simulate(
        &channel,
        json!({"from": "+34612345678", "name": "Lola", "text": "ALTO"}),
    )
    .await;
    app.run_jobs().await;
    assert_eq!(
        last_reply(&app, "+5511912345678").await,
        "Pronto, não enviamos mais nada. Responda VOLTAR para voltar."
    );
    assert!(
        last_reply(&app, "+34612345678")
            .await
            .starts_with("Te has dado de baja"),
        "Spanish keeps the built-in text"
    );
    let (_, page) = admin
        .submit(
            "/settings/keywords",
            "/settings/keywords/replies",
            &[("language", "Português"), ("opt_out_reply", "x")],
        )
        .await;
    assert!(page.contains("two or three letters"), "{page}");
}
