//! The web UI end to end in headless Chromium, on both backends: an agent
//! signs in, answers a conversation a signed webhook created, sees the next
//! inbound message arrive live, sends a template once the session closes;
//! quarantined content shows nowhere; other workspaces' threads are 404; a
//! form post without its CSRF token is 403; pages read without JavaScript.
//! Screenshots of the main pages land in `target/screenshots/`.

use crate::browser::{tools, Browser};
use crate::common::cloud_api::CloudApi;
use crate::common::{spawn_app, TestApp};
use recado_channels::whatsapp::testkit::{self, Inbound};
use recado_core::clock::Clock;
use serde_json::json;

const APP_SECRET: &str = "ui-app-secret";
const PHONE_ID: &str = "1065000042";
const CUSTOMER: &str = "5511912345678";
const AGENT: &str = "agent@example.com";
const PASSWORD: &str = "correct horse battery";

struct Desk {
    app: TestApp,
    api: CloudApi,
    channel: String,
}

/// A workspace with a Cloud API channel against the stand-in, its templates
/// synced, and an agent who signs in with a password.
async fn desk() -> Desk {
    let app = spawn_app().await;
    // The pages count the session down with the browser's own clock.
    app.clock.set(chrono::Utc::now());
    let api = CloudApi::start().await;
    api.set_templates(vec![
        json!({"id": "1", "name": "order_update", "language": "pt_BR", "category": "UTILITY", "status": "APPROVED",
               "components": [{"type": "BODY", "text": "Olá {{1}}, pedido {{2}} enviado."}]}),
        json!({"id": "2", "name": "pending_one", "language": "en_US", "category": "UTILITY", "status": "PENDING",
               "components": [{"type": "BODY", "text": "Hi"}]}),
    ]);
    let r = app
        .post(
            "/api/v1/channels",
            json!({"kind": "whatsapp_cloud", "name": "Main number", "config": {
                "waba_id": "WABA1", "phone_numbers": [{"phone_number_id": PHONE_ID, "display_phone_number": "+15550001111"}],
                "access_token": "EAAG-token", "app_secret": APP_SECRET, "verify_token": "v",
                "graph_base_url": api.base_url, "graph_version": "v23.0", "tier": "unlimited"}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let channel = r.body["id"].as_str().unwrap().to_string();
    assert_eq!(app.post("/api/v1/whatsapp/templates/sync", json!({})).await.status, 200);
    let r = app
        .post(
            "/api/v1/users",
            json!({"email": AGENT, "name": "Marta Agent", "password": PASSWORD, "role": "agent"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    Desk { app, api, channel }
}

impl Desk {
    async fn deliver(&self, body: Vec<u8>) {
        let sig = recado_channels::whatsapp::sign(APP_SECRET.as_bytes(), &body);
        let r = self
            .app
            .post_webhook(&format!("/webhooks/whatsapp/{}", self.channel), body, Some(&sig))
            .await;
        assert_eq!(r.status, 200);
        self.app.run_jobs().await;
    }

    fn now_secs(&self) -> i64 {
        self.app.clock.now_ms() / 1000
    }

    async fn inbound(&self, wamid: &str, text: &str) {
        self.deliver(testkit::inbound_text(
            PHONE_ID,
            CUSTOMER,
            "Ana",
            wamid,
            self.now_secs(),
            text,
        ))
        .await;
    }

    /// The open conversation (threads that templates started have no ticket).
    async fn thread_id(&self) -> String {
        let r = self.app.get("/api/v1/threads?status=open").await;
        r.body["items"][0]["id"].as_str().expect("a thread").to_string()
    }
}

#[tokio::test]
async fn an_agent_answers_live_and_sends_a_template_once_the_session_closes() {
    let Some((driver, chromium)) = tools() else { return };
    let d = desk().await;
    d.inbound("wamid.IN1", "Olá, preciso de ajuda com o pedido 4521").await;
    let b = Browser::start(&driver, &chromium, true).await;
    let base = &d.app.base;

    b.goto(&format!("{base}/")).await;
    b.wait_for("#login-form").await;
    assert_eq!(b.path().await, "/login");
    b.screenshot("01-sign-in").await;
    b.sign_in(base, AGENT, PASSWORD).await;
    assert_eq!(b.path().await, "/inbox");
    b.wait_for("li.thread").await;
    assert!(b.text_of("li.thread .who").await.contains("Ana"));
    assert!(b.text_of("li.thread .preview").await.contains("preciso de ajuda"));
    assert_eq!(b.text_of("a[data-view=open] .count").await, "1");
    b.screenshot("02-views").await;

    b.click("li.thread a").await;
    b.wait_for("#reply-form").await;
    assert!(b.text_of("#session-state").await.contains("closes in 23 h"));
    b.type_into("#reply-text", "Olá Ana, já verifico o pedido.").await;
    b.click("#send-reply").await;
    b.wait_for_text("Message queued for sending.").await;
    d.app.run_jobs().await;
    let sent = d.api.requests();
    assert_eq!(sent.len(), 1, "the reply reached the Cloud API");
    assert_eq!(sent[0].body["text"]["body"], "Olá Ana, já verifico o pedido.");
    assert_eq!(sent[0].body["to"], format!("+{CUSTOMER}"));

    b.client.refresh().await.unwrap();
    b.wait_for("li.msg.out .ticks.status-sent").await;
    // A second inbound message appears without a reload, with a notification.
    b.wait_for("body[data-live=on]").await;
    d.inbound("wamid.IN2", "Obrigada! Chega hoje?").await;
    b.wait_for_text("Obrigada! Chega hoje?").await;
    b.wait_for("#toasts .toast").await;
    assert!(b.has("li.msg.in.fresh").await);
    b.screenshot("03-conversation").await;

    // A day later the session is closed: only templates, and only to subscribers.
    d.app.clock.advance(chrono::Duration::hours(25));
    b.client.refresh().await.unwrap();
    b.wait_for("#template-form").await;
    assert!(
        !b.has("#reply-form").await,
        "free-form is not offered outside the session"
    );
    assert!(b.text_of("#session-state").await.contains("Session closed"));
    b.click("#open-subscribe").await;
    b.wait_for("#subscribe-dialog[open]").await;
    b.select("#legal-basis", "consent").await;
    b.type_into(
        "#subscribe-dialog textarea[name=explanation]",
        "Asked for order updates by phone",
    )
    .await;
    b.screenshot("04-subscribe-dialog").await;
    b.click("#subscribe-dialog button").await;
    b.wait_for_text("Subscription changed.").await;
    assert!(b.source().await.contains("Asked for order updates by phone"));

    b.select("#template-select", "order_update|pt_BR").await;
    b.type_into("input[name='order_update|pt_BR.body.1']", "Ana").await;
    b.type_into("input[name='order_update|pt_BR.body.2']", "4521").await;
    assert_eq!(
        b.text_of("fieldset[data-template='order_update|pt_BR'] .preview").await,
        "Olá Ana, pedido 4521 enviado."
    );
    assert!(
        !b.source().await.contains("pending_one"),
        "only approved templates are offered"
    );
    b.screenshot("05-template-picker").await;
    b.click("#send-template").await;
    b.wait_for_text("Message queued for sending.").await;
    d.app.run_jobs().await;
    let sent = d.api.requests();
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[1].body["type"], "template");
    assert_eq!(sent[1].body["template"]["name"], "order_update");
    assert_eq!(
        sent[1].body["template"]["components"][0]["parameters"][1]["text"],
        "4521"
    );

    b.click("#close-ticket").await;
    b.wait_for("#reopen-ticket").await;
    assert_eq!(b.text_of("#ticket-status").await, "closed");

    // The agent makes an API token for their own programs.
    b.click("#tokens-link").await;
    b.wait_for("#new-token-form").await;
    b.type_into("#new-token-form input[name=name]", "order system").await;
    b.click("#new-token-form button").await;
    b.wait_for("#new-token code.token").await;
    assert!(b.text_of("#new-token code.token").await.starts_with("rcd_"));
    b.screenshot("06-api-tokens").await;
    b.close().await;
}

#[tokio::test]
async fn quarantined_content_other_workspaces_and_forged_posts_show_nothing() {
    let Some((driver, chromium)) = tools() else { return };
    let d = desk().await;
    d.deliver(
        Inbound::new(PHONE_ID, CUSTOMER, "Ana", "wamid.Q1", d.now_secs())
            .policy_violation()
            .text("forbidden secret words"),
    )
    .await;
    let thread = d.thread_id().await;
    let b = Browser::start(&driver, &chromium, true).await;
    let base = &d.app.base;
    b.sign_in(base, AGENT, PASSWORD).await;
    b.wait_for("li.thread").await;
    assert_eq!(b.text_of("li.thread .preview").await, "Message hidden (content policy)");
    b.goto(&format!("{base}/inbox/threads/{thread}")).await;
    b.wait_for("li.msg.kind-quarantined").await;
    let page = b.source().await;
    assert!(page.contains("flagged it under its content policy"));
    assert!(!page.contains("forbidden") && !page.contains("secret words"));
    b.screenshot("06-quarantined").await;
    b.goto(&format!("{base}/inbox?view=all&q=forbidden")).await;
    b.wait_for_text("No conversations here.").await;
    b.goto(&format!("{base}/inbox?view=all&q=ana")).await;
    b.wait_for("li.thread").await;
    assert!(!b.source().await.contains("forbidden"));
    let api = d.app.get(&format!("/api/v1/threads/{thread}")).await;
    assert!(!api.body.to_string().contains("forbidden"), "{}", api.body);
    let found = d.app.get("/api/v1/threads?q=forbidden").await;
    assert!(found.body["items"].as_array().unwrap().is_empty());

    // Another workspace's thread is not found by URL.
    let other_token = d.app.other_workspace("beta").await;
    let sandbox = d
        .app
        .post_as(
            "/api/v1/channels",
            json!({"kind": "whatsapp_sandbox", "name": "B"}),
            &other_token,
        )
        .await;
    let sim = d
        .app
        .post_as(
            &format!("/api/v1/channels/{}/simulate", sandbox.body["id"].as_str().unwrap()),
            json!({"from": "+34612345678", "name": "Beto", "text": "Only for workspace B"}),
            &other_token,
        )
        .await;
    assert_eq!(sim.status, 202, "{}", sim.body);
    d.app.run_jobs().await;
    let theirs = d.app.get_as("/api/v1/threads", &other_token).await.body["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    b.goto(&format!("{base}/inbox/threads/{theirs}")).await;
    b.wait_for_text("thread not found").await;
    assert!(!b.source().await.contains("Only for workspace B"));
    let cookie = b.cookie_header().await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = http
        .get(d.app.url(&format!("/inbox/threads/{theirs}")))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
    let r = http
        .get(d.app.url(&format!("/inbox/threads/{theirs}/messages")))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);

    // A form post without the CSRF token is refused and sends nothing.
    b.goto(&format!("{base}/inbox/threads/{thread}")).await;
    b.wait_for("#reply-form").await;
    b.client
        .execute(
            "document.querySelector('#reply-form input[name=csrf]').remove();\
             document.querySelector('#reply-text').value = 'forged';\
             document.querySelector('#reply-form').submit();",
            vec![],
        )
        .await
        .unwrap();
    b.wait_for_text("Form refused").await;
    let r = http
        .post(d.app.url(&format!("/inbox/threads/{thread}/reply")))
        .header("cookie", &cookie)
        .form(&[("text", "forged")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    let r = http
        .post(d.app.url(&format!("/inbox/threads/{thread}/reply")))
        .header("cookie", &cookie)
        .form(&[
            ("text", "forged"),
            (
                "csrf",
                "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            ),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403, "another token is no token");
    let r = http
        .post(d.app.url("/logout"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    d.app.run_jobs().await;
    assert!(d.api.requests().is_empty(), "nothing was sent");
    b.close().await;
}

#[tokio::test]
async fn pages_read_without_javascript_and_admins_manage_users() {
    let Some((driver, chromium)) = tools() else { return };
    let d = desk().await;
    d.inbound("wamid.IN1", "Bom dia, tenho uma dúvida").await;
    // Three counted conversations of a limit of four: the banner shows at 75 %.
    assert_eq!(
        d.app
            .put("/api/v1/whatsapp/usage/settings", json!({"monthly_limit": 4}))
            .await
            .status,
        200
    );
    for phone in ["+5511911110001", "+5511911110002", "+5511911110003"] {
        let id = d
            .app
            .contact(json!({"firstname": "Cliente", "whatsapp_phone": phone}))
            .await;
        let sub = d
            .app
            .put(
                &format!("/api/v1/contacts/{id}/subscriptions/whatsapp"),
                json!({"status": "subscribed", "legal_basis": "consent", "explanation": "signed up"}),
            )
            .await;
        assert_eq!(sub.status, 200);
        let r = d
            .app
            .post("/api/v1/messages", json!({"channel": "whatsapp", "contact_id": id, "template": {"name": "order_update", "language": "pt_BR", "parameters": {"body": ["Cliente", "1"]}}}))
            .await;
        assert_eq!(r.status, 202, "{}", r.body);
    }
    let r = d
        .app
        .post(
            "/api/v1/users",
            json!({"email": "boss@example.com", "name": "Bea Admin", "password": PASSWORD, "role": "admin"}),
        )
        .await;
    assert_eq!(r.status, 201);
    let thread = d.thread_id().await;

    let b = Browser::start(&driver, &chromium, false).await;
    let base = &d.app.base;
    b.sign_in(base, "boss@example.com", PASSWORD).await;
    let banner = b.text_of("#usage-banner").await;
    assert!(banner.contains("75 %"), "{banner}");
    assert!(
        banner.contains("At the current pace the limit is reached on"),
        "{banner}"
    );
    b.goto(&format!("{base}/inbox?view=all")).await;
    b.wait_for("li.thread").await;
    b.goto(&format!("{base}/inbox/threads/{}", d.thread_id().await)).await;
    assert!(b.source().await.contains("tenho uma dúvida"));
    assert!(b.text_of("#session-state").await.contains("closes in"));
    b.screenshot("07-no-javascript").await;

    // The subscription dialog opens from its link, without a script.
    b.click("#open-subscribe").await;
    b.wait_for("#subscribe-dialog[open]").await;
    b.select("#subscribe-dialog select[name=status]", "subscribed").await;
    b.click("#subscribe-dialog button").await;
    b.wait_for_text("Subscribing needs a legal basis and an explanation.")
        .await;
    b.goto(&format!("{base}/inbox/threads/{thread}?subscribe=1")).await;
    b.select("#legal-basis", "legitimate_interest_client").await;
    b.type_into("#subscribe-dialog textarea[name=explanation]", "Customer since 2021")
        .await;
    b.click("#subscribe-dialog button").await;
    b.wait_for_text("Subscription changed.").await;
    assert!(b.source().await.contains("Customer since 2021"));

    // Assigning from the ticket panel moves the thread to "Assigned to me".
    b.click("#assign-me").await;
    b.wait_for_text("Ticket updated.").await;
    assert_eq!(b.text_of("a[data-view=mine] .count").await, "1");

    b.goto(&format!("{base}/admin/users")).await;
    b.type_into("#add-user input[name=name]", "Nuno Novo").await;
    b.type_into("#add-user input[name=email]", "nuno@example.com").await;
    b.type_into("#add-user input[name=password]", "another long password")
        .await;
    b.click("#add-user button").await;
    b.wait_for_text("User added.").await;
    assert!(b.source().await.contains("nuno@example.com"));
    b.screenshot("08-users").await;

    // The new agent signs in; an agent may not open the users page.
    b.click("#sign-out").await;
    b.wait_for("#login-form").await;
    b.sign_in(base, "nuno@example.com", "another long password").await;
    b.goto(&format!("{base}/admin/users")).await;
    b.wait_for_text("Only admins can manage users.").await;
    b.goto(&format!("{base}/login")).await;
    b.click("#sign-out").await;
    b.wait_for("#login-form").await;
    b.type_into("#email", "nuno@example.com").await;
    b.type_into("#password", "a wrong password").await;
    b.click("#sign-in").await;
    b.wait_for_text("Wrong e-mail or password.").await;
    b.close().await;
}

#[tokio::test]
async fn an_agent_starts_a_whatsapp_conversation_from_a_contact_and_answers_an_sms() {
    let Some((driver, chromium)) = tools() else { return };
    let d = desk().await;
    let ana = d
        .app
        .contact(json!({"firstname": "Ana", "lastname": "Souza", "whatsapp_phone": format!("+{CUSTOMER}")}))
        .await;
    for channel in ["whatsapp", "sms"] {
        d.app.subscribe(&ana, channel).await;
    }
    let b = Browser::start(&driver, &chromium, true).await;
    let base = &d.app.base;
    b.sign_in(base, AGENT, PASSWORD).await;

    // Find the contact and write first, with an approved template.
    b.click("#contacts-link").await;
    b.wait_for("#contact-search").await;
    b.type_into("#contact-search", "souza").await;
    b.click("#contacts-pane .list-search button").await;
    // The results page carries the query in its search box.
    b.wait_for_text(r#"value="souza""#).await;
    b.wait_for("tr.contact-row").await;
    b.click("tr.contact-row a").await;
    b.wait_for("#template-form").await;
    assert!(b.text_of("#conversations").await.contains("No conversation"));
    b.select("#template-select", "order_update|pt_BR").await;
    b.type_into("input[name='order_update|pt_BR.body.1']", "Ana").await;
    b.type_into("input[name='order_update|pt_BR.body.2']", "4521").await;
    assert_eq!(
        b.text_of("fieldset[data-template='order_update|pt_BR'] .preview").await,
        "Olá Ana, pedido 4521 enviado."
    );
    b.screenshot("09-contact").await;
    b.click("#send-template").await;
    b.wait_for_text("Message queued for sending.").await;
    assert!(b.path().await.starts_with("/inbox/threads/"));
    d.app.run_jobs().await;
    let sent = d.api.requests();
    assert_eq!(sent.len(), 1, "the template reached the Cloud API");
    assert_eq!(sent[0].body["type"], "template");
    assert_eq!(sent[0].body["to"], format!("+{CUSTOMER}"));

    // An SMS from the same customer is answered by SMS, with the cost shown as one types.
    let sms = d
        .app
        .channel("sms_sandbox", "SMS", json!({"senders": ["Recado"]}))
        .await;
    d.app
        .simulate(
            &sms,
            json!({"from": format!("+{CUSTOMER}"), "text": "Ainda tem o modelo azul?"}),
        )
        .await;
    let thread = d.app.first_thread("?channel=sms").await;
    b.goto(&format!("{base}/inbox/threads/{thread}")).await;
    b.wait_for("#reply-form[data-meter]").await;
    b.type_into("#reply-text", "Olá {{contact.firstname}}, temos sim!")
        .await;
    b.wait_for_text("GSM-7 · 1 part · 141 characters left").await;
    b.screenshot("10-sms-conversation").await;
    b.click("#send-reply").await;
    b.wait_for_text("Message queued for sending.").await;
    d.app.run_jobs().await;
    let r = d.app.get(&format!("/api/v1/threads/{thread}")).await;
    let last = r.body["messages"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (
            last["direction"].as_str(),
            last["status"].as_str(),
            last["text"].as_str()
        ),
        (Some("out"), Some("delivered"), Some("Ola Ana, temos sim!")),
        "{}",
        r.body
    );
    b.close().await;
}
