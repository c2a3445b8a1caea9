//! The web UI's forms over plain HTTP, on both backends: the first admin's
//! sign-in password, the sign-in throttle, the contact pages (search, start a
//! WhatsApp conversation with a template, workspace isolation) and answering
//! an SMS thread with its cost meter. The browser tests cover the same pages
//! with scripts and screenshots.

use crate::common::web::Web;
use crate::common::{spawn_app, spawn_app_with, TestApp};
use recado::config::{Secret, Settings};
use recado_store::testing::TestDatabase;
use serde_json::{json, Value};

const AGENT: &str = "agent@example.com";
const PASSWORD: &str = "correct horse battery";

async fn with_agent() -> TestApp {
    let app = spawn_app().await;
    let r = app
        .post(
            "/api/v1/users",
            json!({"email": AGENT, "name": "Marta Agent", "password": PASSWORD, "role": "agent"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    app
}

#[tokio::test]
async fn the_first_admin_signs_in_with_the_password_generated_at_first_start() {
    let db = TestDatabase::new().await;
    let dir = db
        .data_dir()
        .cloned()
        .unwrap_or_else(|| std::env::temp_dir().join(recado_core::ids::new_id(recado_core::ids::IdKind::Workspace)));
    let app = recado::Application::build(Settings::for_tests(&db.url, dir))
        .await
        .unwrap();
    let password = app.first_start.password.clone().expect("a generated password");
    assert!(app.first_start.token.is_some(), "a generated token");
    assert!(password.chars().count() >= recado_app::settings::MIN_PASSWORD_CHARS);
    let base = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    let mut web = Web::new(&base);
    web.sign_in("admin@localhost", &password).await;
    let (status, page) = web.get("/admin/users").await;
    assert_eq!(status, 200);
    assert!(page.contains("admin@localhost"));
}

#[tokio::test]
async fn a_given_admin_password_is_used_and_never_returned() {
    let app = spawn_app_with(|s| s.admin_password = Some(Secret::new("given-admin-password"))).await;
    let mut web = Web::new(&app.base);
    web.sign_in("admin@localhost", "given-admin-password").await;
    let users = app.get("/api/v1/users").await;
    assert!(!users.body.to_string().contains("given-admin-password"));
    assert!(!users.body.to_string().contains("argon2"));
}

#[tokio::test]
async fn sign_in_is_refused_for_an_address_after_five_failures() {
    let app = with_agent().await;
    let mut web = Web::new(&app.base);
    for _ in 0..5 {
        let r = web.try_sign_in(AGENT, "wrong password!").await;
        assert_eq!(r.status().as_u16(), 401);
    }
    // Even the right password is refused now, and no session is made.
    let r = web.try_sign_in(AGENT, PASSWORD).await;
    assert_eq!(r.status().as_u16(), 429);
    assert!(r.text().await.unwrap().contains("Too many failed sign-ins"));
    assert!(web.cookie.is_empty());
    // Other addresses are not held back.
    let r = app
        .post(
            "/api/v1/users",
            json!({"email": "other@example.com", "name": "Other", "password": PASSWORD, "role": "agent"}),
        )
        .await;
    assert_eq!(r.status, 201);
    web.sign_in("other@example.com", PASSWORD).await;
    // After the window the address may sign in again.
    app.clock.advance(chrono::Duration::minutes(16));
    let mut again = Web::new(&app.base);
    again.sign_in(AGENT, PASSWORD).await;
}

#[tokio::test]
async fn a_contact_page_starts_a_whatsapp_conversation_with_an_approved_template() {
    let app = with_agent().await;
    let channel = app.channel("whatsapp_sandbox", "Front desk", json!({})).await;
    let ana = app
        .contact(json!({"firstname": "Ana", "lastname": "Souza", "whatsapp_phone": "+5511912345678"}))
        .await;
    let mut web = Web::new(&app.base);
    web.sign_in(AGENT, PASSWORD).await;

    // Found by name and by a national form of the number.
    for q in ["souza", "11%2091234-5678"] {
        let (status, page) = web.get(&format!("/contacts?q={q}")).await;
        assert_eq!(status, 200);
        assert!(page.contains(&format!("/contacts/{ana}")), "{q}: {page}");
    }
    let (status, page) = web.get(&format!("/contacts/{ana}")).await;
    assert_eq!(status, 200);
    assert!(page.contains("Start a WhatsApp conversation"));
    assert!(page.contains("not subscribed to WhatsApp"), "the warning shows");
    assert!(page.contains("order_update|pt_BR"), "approved templates are offered");

    let csrf = web.csrf(&format!("/contacts/{ana}")).await;
    let path = format!("/contacts/{ana}/whatsapp");
    let fields = |csrf: &str| -> Vec<(String, String)> {
        [
            ("csrf", csrf),
            ("channel_id", channel.as_str()),
            ("template", "order_update|pt_BR"),
            ("order_update|pt_BR.body.1", "Ana"),
            ("order_update|pt_BR.body.2", "4521"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    };
    let post = |f: Vec<(String, String)>| {
        let web = &web;
        let path = path.clone();
        async move {
            let refs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            web.post(&path, &refs).await
        }
    };
    // Without the CSRF token: refused, nothing stored.
    let (status, _) = post(fields("")).await;
    assert_eq!(status, 403);
    // Not subscribed: refused with the reason, back on the contact page.
    let (status, location) = post(fields(&csrf)).await;
    assert_eq!(status, 303);
    assert!(location.contains("error=not_subscribed"), "{location}");
    app.subscribe(&ana, "whatsapp").await;
    // Missing a parameter: refused by the template rules.
    let mut short = fields(&csrf);
    short.retain(|(k, _)| k != "order_update|pt_BR.body.2");
    let (_, location) = post(short).await;
    assert!(location.contains("error=template_parameters"), "{location}");
    // Sent: the agent lands in the new conversation.
    let (status, location) = post(fields(&csrf)).await;
    assert_eq!(status, 303);
    assert!(location.starts_with("/inbox/threads/thr_"), "{location}");
    let thread = location
        .trim_start_matches("/inbox/threads/")
        .split('?')
        .next()
        .unwrap()
        .to_string();
    app.run_jobs().await;
    let r = app.get(&format!("/api/v1/threads/{thread}")).await;
    let messages = r.body["messages"].as_array().unwrap();
    let sent: Vec<&Value> = messages.iter().filter(|m| m["status"] != "not_sent").collect();
    assert_eq!(sent.len(), 1, "{}", r.body);
    assert_eq!(sent[0]["template"]["name"], "order_update", "{}", r.body);
    assert_eq!(sent[0]["text"], "Olá Ana, o seu pedido 4521 foi enviado.");
    assert_eq!(sent[0]["status"], "read", "the sandbox delivered it");
    let (_, page) = web.get(&format!("/contacts/{ana}")).await;
    assert!(
        page.contains(&format!("/inbox/threads/{thread}")),
        "listed under Conversations"
    );
    // History and timeline name who changed the subscription, not their id.
    assert!(page.contains("manual by Administrator"), "{page}");
    assert!(!page.contains("usr_"), "no user ids shown");

    // Another workspace's contact is not found, and cannot be written to.
    let other = app.other_workspace("beta").await;
    let theirs = app
        .post_as(
            "/api/v1/contacts",
            json!({"properties": {"firstname": "Beto", "whatsapp_phone": "+34612345678"}}),
            &other,
        )
        .await;
    let theirs = theirs.body["id"].as_str().unwrap().to_string();
    let (status, page) = web.get(&format!("/contacts/{theirs}")).await;
    assert_eq!(status, 404);
    assert!(!page.contains("Beto"));
    let (status, _) = web
        .post(
            &format!("/contacts/{theirs}/whatsapp"),
            &[
                ("csrf", &csrf),
                ("channel_id", &channel),
                ("template", "order_update|pt_BR"),
            ],
        )
        .await;
    assert_eq!(status, 404);
    let (_, list) = web.get("/contacts?q=beto").await;
    assert!(!list.contains("Beto"));
}

#[tokio::test]
async fn an_sms_thread_is_answered_from_its_page_with_the_cost_meter() {
    let app = with_agent().await;
    let channel = app.channel("sms_sandbox", "SMS", json!({"senders": ["Recado"]})).await;
    let ana = app
        .contact(json!({"firstname": "Ana", "mobilephone": "+5511912345678"}))
        .await;
    app.subscribe(&ana, "sms").await;
    app.simulate(
        &channel,
        json!({"from": "+5511912345678", "text": "Ainda tem o modelo azul?"}),
    )
    .await;
    let thread = app.first_thread("?channel=sms").await;
    let mut web = Web::new(&app.base);
    web.sign_in(AGENT, PASSWORD).await;
    let (status, page) = web.get(&format!("/inbox/threads/{thread}")).await;
    assert_eq!(status, 200);
    assert!(page.contains("Send SMS") && page.contains("sms-meter"), "{page}");
    let csrf = web.csrf(&format!("/inbox/threads/{thread}")).await;

    // The meter measures the text as it will be sent to this contact.
    let meter = |text: &'static str| {
        let web = &web;
        let csrf = csrf.clone();
        let url = format!("{}/inbox/threads/{thread}/sms-meter", app.base);
        async move {
            let r = web
                .http
                .post(url)
                .header("cookie", &web.cookie)
                .form(&[("csrf", csrf.as_str()), ("text", text)])
                .send()
                .await
                .unwrap();
            assert_eq!(r.status().as_u16(), 200);
            r.json::<Value>().await.unwrap()
        }
    };
    let m = meter("Olá {{contact.firstname}}, temos sim!").await;
    assert_eq!(
        m["summary"], "GSM-7 · 1 part · 141 characters left · replaced á→a",
        "{m}"
    );
    let long: &'static str = Box::leak("x".repeat(153 * 5 + 1).into_boxed_str());
    let m = meter(long).await;
    assert_eq!(m["too_long"], true, "{m}");
    // Without its token the meter is a refused form like any other.
    let (status, _) = web
        .post(&format!("/inbox/threads/{thread}/sms-meter"), &[("text", "x")])
        .await;
    assert_eq!(status, 403);

    let (status, location) = web
        .post(
            &format!("/inbox/threads/{thread}/reply"),
            &[("csrf", &csrf), ("text", "Olá {{contact.firstname}}, temos sim!")],
        )
        .await;
    assert_eq!((status, location.contains("sent=1")), (303, true), "{location}");
    let (_, location) = web
        .post(
            &format!("/inbox/threads/{thread}/reply"),
            &[("csrf", &csrf), ("text", long)],
        )
        .await;
    assert!(location.contains("error=too_many_segments"), "{location}");
    app.run_jobs().await;
    let r = app.get(&format!("/api/v1/threads/{thread}")).await;
    let delivered: Vec<&Value> = r.body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["direction"] == "out" && m["status"] == "delivered")
        .collect();
    assert_eq!(delivered.len(), 1, "{}", r.body);
    assert_eq!(delivered[0]["text"], "Ola Ana, temos sim!");
    assert_eq!(delivered[0]["to"], "+5511912345678");
}

#[tokio::test]
async fn a_conversation_shows_every_message_type_in_its_own_form() {
    use recado_channels::whatsapp::testkit::{combine, Inbound};
    let app = with_agent().await;
    let api = crate::common::cloud_api::CloudApi::start().await;
    let secret = "render-secret";
    let r = app
        .post(
            "/api/v1/channels",
            json!({"kind": "whatsapp_cloud", "name": "Main", "config": {
                "waba_id": "WABA1", "phone_numbers": [{"phone_number_id": "1065000042", "display_phone_number": "+15550001111"}],
                "access_token": "EAAG-token", "app_secret": secret, "verify_token": "v",
                "graph_base_url": api.base_url, "graph_version": "v23.0", "tier": "unlimited"}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let channel = r.body["id"].as_str().unwrap().to_string();
    let ts = recado_core::clock::Clock::now_ms(&app.clock) / 1000;
    let from = |wamid: &str| Inbound::new("1065000042", "5511912345678", "Ana", wamid, ts);
    let body = combine(&[
        from("wamid.T1").text("Olá, segue o comprovante"),
        from("wamid.R1").reaction("wamid.T1", Some("👍")),
        from("wamid.I1").image("media-image", Some("a foto do produto")),
        from("wamid.V1").video("media-video", None),
        from("wamid.A1").audio("media-audio", true),
        from("wamid.D1").document("media-doc", "factura-4521.pdf", None),
        from("wamid.S1").sticker("media-sticker", false),
        from("wamid.L1").location(-23.5613, -46.6565, Some("Avenida Paulista")),
        from("wamid.C1").contacts("Bruno Lima", "+5511987654321"),
        from("wamid.B1").button_reply("yes", "Sim, confirmo"),
        from("wamid.U1").unsupported("poll_update"),
        from("wamid.Q1").policy_violation().text("conteúdo proibido"),
    ]);
    let sig = recado_channels::whatsapp::sign(secret.as_bytes(), &body);
    let r = app
        .post_webhook(&format!("/webhooks/whatsapp/{channel}"), body, Some(&sig))
        .await;
    assert_eq!(r.status, 200);
    app.run_jobs().await;
    let thread = app.first_thread("").await;
    let mut web = Web::new(&app.base);
    web.sign_in(AGENT, PASSWORD).await;
    let (status, page) = web.get(&format!("/inbox/threads/{thread}")).await;
    assert_eq!(status, 200);
    for (what, expected) in [
        ("text", "Olá, segue o comprovante"),
        ("image", r#"class="media image""#),
        ("image caption", "a foto do produto"),
        ("video player", "<video src=\"/inbox/media/"),
        ("audio player", "<audio src=\"/inbox/media/"),
        ("voice note label", "Voice note"),
        ("document link", ">factura-4521.pdf</a>"),
        ("sticker", r#"class="media sticker""#),
        (
            "location link",
            "https://www.openstreetmap.org/?mlat=-23.5613&#38;mlon=-46.6565",
        ),
        ("location name", "Avenida Paulista"),
        ("contact card", "👤 Bruno Lima"),
        ("contact phone", "tel:+5511987654321"),
        ("reaction on its message", r#"<span class="reaction">👍</span>"#),
        ("button reply", "Chose “Sim, confirmo”"),
        ("unsupported notice", "Unsupported message:"),
        ("quarantined notice", "flagged it under its content policy"),
    ] {
        assert!(page.contains(expected), "no {what} ({expected}) in the page");
    }
    assert!(!page.contains("conteúdo proibido"), "quarantined content never shows");
    assert!(
        !page.contains("kind-reaction"),
        "a reaction shows on its message, not as one"
    );
}

#[tokio::test]
async fn an_admin_resets_a_password_which_ends_the_users_sessions() {
    let app = spawn_app_with(|s| s.admin_password = Some(Secret::new("given-admin-password"))).await;
    let r = app
        .post(
            "/api/v1/users",
            json!({"email": AGENT, "name": "Marta Agent", "password": PASSWORD, "role": "agent"}),
        )
        .await;
    let agent_id = r.body["id"].as_str().unwrap().to_string();
    let mut agent = Web::new(&app.base);
    agent.sign_in(AGENT, PASSWORD).await;
    let mut admin = Web::new(&app.base);
    admin.sign_in("admin@localhost", "given-admin-password").await;
    let csrf = admin.csrf("/admin/users").await;
    let path = format!("/admin/users/{agent_id}/password");

    let (_, location) = admin.post(&path, &[("csrf", &csrf), ("password", "short")]).await;
    assert!(location.contains("error=weak_password"), "{location}");
    // An agent may not reset anyone's password, not even with a valid form.
    let agent_csrf = agent.csrf("/inbox").await;
    let (status, _) = agent
        .post(&path, &[("csrf", &agent_csrf), ("password", "agent chose this")])
        .await;
    assert_eq!(status, 403);
    let (status, _) = admin.post(&path, &[("password", "no token at all")]).await;
    assert_eq!(status, 403, "a post without its CSRF token is refused");

    let (status, location) = admin
        .post(&path, &[("csrf", &csrf), ("password", "a brand new password")])
        .await;
    assert_eq!((status, location.contains("done=reset")), (303, true), "{location}");
    // The agent's open session ended; the old password no longer works.
    let (status, _) = agent.get("/inbox").await;
    assert_eq!(status, 303, "signed out by the reset");
    let r = Web::new(&app.base).try_sign_in(AGENT, PASSWORD).await;
    assert_eq!(r.status().as_u16(), 401);
    Web::new(&app.base).sign_in(AGENT, "a brand new password").await;

    // Another workspace's user is not found.
    let other = app.other_workspace("beta").await;
    let theirs = app
        .post_as(
            "/api/v1/users",
            json!({"email": "beto@example.com", "name": "Beto", "password": PASSWORD, "role": "agent"}),
            &other,
        )
        .await;
    let theirs = theirs.body["id"].as_str().unwrap().to_string();
    let (status, _) = admin
        .post(
            &format!("/admin/users/{theirs}/password"),
            &[("csrf", &csrf), ("password", "taken over password")],
        )
        .await;
    assert_eq!(status, 404);
    Web::new(&app.base).sign_in("beto@example.com", PASSWORD).await;
}

#[tokio::test]
async fn a_locked_out_admin_gets_a_new_password_from_the_command_line() {
    let app = spawn_app_with(|s| s.admin_password = Some(Secret::new("forgotten-password"))).await;
    let mut before = Web::new(&app.base);
    before.sign_in("admin@localhost", "forgotten-password").await;
    let store = &app.app_state.store;
    let password =
        recado_app::bootstrap::reset_password(store, " Admin@Localhost ", recado_app::auth::PasswordCost::Minimal)
            .await
            .unwrap()
            .expect("the admin exists");
    let (status, _) = before.get("/inbox").await;
    assert_eq!(status, 303, "the old session ended");
    let r = Web::new(&app.base)
        .try_sign_in("admin@localhost", "forgotten-password")
        .await;
    assert_eq!(r.status().as_u16(), 401);
    Web::new(&app.base).sign_in("admin@localhost", &password).await;
    assert!(recado_app::bootstrap::reset_password(
        store,
        "nobody@example.com",
        recado_app::auth::PasswordCost::Minimal
    )
    .await
    .unwrap()
    .is_none());
}

#[tokio::test]
async fn an_agent_makes_an_api_token_on_the_tokens_page_and_revokes_it() {
    let app = with_agent().await;
    let mut web = Web::new(&app.base);
    web.sign_in(AGENT, PASSWORD).await;
    let csrf = web.csrf("/account/tokens").await;
    let r = web
        .http
        .post(format!("{}/account/tokens", web.base))
        .header("cookie", &web.cookie)
        .form(&[("name", "order system"), ("csrf", &csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let html = r.text().await.unwrap();
    let token = html
        .split(r#"<code class="token">"#)
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .expect("the new token is shown once")
        .to_string();
    assert_eq!(
        app.get_as("/api/v1/contacts", &token).await.status,
        200,
        "the token works"
    );
    let (_, page) = web.get("/account/tokens").await;
    assert!(!page.contains(&token), "shown only once");
    let id = app.get_as("/api/v1/tokens", &token).await.body["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        web.post(&format!("/account/tokens/{id}/revoke"), &[]).await.0,
        403,
        "no CSRF token, no revocation"
    );
    let (status, _) = web
        .post(&format!("/account/tokens/{id}/revoke"), &[("csrf", &csrf)])
        .await;
    assert_eq!(status, 303);
    assert_eq!(app.get_as("/api/v1/contacts", &token).await.status, 401);
}
