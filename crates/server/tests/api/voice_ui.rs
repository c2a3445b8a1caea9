//! Voice in the web UI and the IVR simulator, on both backends: the Listen
//! button of every narration (tokens filled for the page's contact), the
//! simulator reaching every key's action, a wrong key and silence through
//! the one call machine while nothing is dialled, stored or sent; voice and
//! IVR steps in the workflow editor with refusals next to their field;
//! voice channels in Settings; voice messages from the contact page. The
//! browser tests walk the same pages in Chromium, with screenshots at
//! desktop and phone widths under `target/screenshots/voice-*`.

use crate::browser::{tools, Browser};
use crate::common::web::{value_after, Web};
use crate::common::{spawn_app_with, TestApp};
use recado::config::Secret;
use serde_json::{json, Value};

const ADMIN: &str = "admin@localhost";
const PASSWORD: &str = "voice-ui-admin-password";

async fn app() -> TestApp {
    spawn_app_with(|s| s.admin_password = Some(Secret::new(PASSWORD))).await
}

async fn admin(app: &TestApp) -> Web {
    let mut web = Web::new(&app.base);
    web.sign_in(ADMIN, PASSWORD).await;
    web
}

fn tts(text: &str) -> Value {
    json!({"kind": "tts", "language": "pt-BR", "text": text})
}

fn ivr() -> Value {
    json!({
        "narration": tts("Olá {{contact.firstname}}. Tecle 1, 2, 3 ou 9."),
        "keys": {
            "1": {"action": "transfer", "to": "+34911222333", "narration": tts("A transferir.")},
            "2": {"action": "send_sms", "sender": "Recado", "text": "O seu código: 1234",
                  "narration": tts("Enviámos um SMS.")},
            "3": {"action": "play", "narration": tts("Abrimos às nove."), "then": "menu"},
            "9": {"action": "unsubscribe", "narration": tts("Não voltará a receber chamadas.")}
        },
        "wrong_key": {"narration": tts("Opção inválida.")},
        "no_input": {"timeout_s": 5, "narration": tts("Ainda está aí?")},
        "max_menu_plays": 2
    })
}

/// A simulated call through `presses`: every entry in order, and the last
/// step's answer.
async fn play(app: &TestApp, extra: Value, presses: &[&str]) -> (Vec<Value>, Value) {
    let mut call = Value::Null;
    let mut entries = Vec::new();
    let mut last = Value::Null;
    for press in presses {
        let mut body = json!({"ivr": ivr(), "press": press, "call": call});
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            b.extend(e.clone());
        }
        let r = app.post("/api/v1/voice/simulate", body).await;
        assert_eq!(r.status, 200, "{press}: {}", r.body);
        call = r.body["call"].clone();
        entries.extend(r.body["entries"].as_array().unwrap().iter().cloned());
        last = r.body;
    }
    (entries, last)
}

/// The entries as short words: `VOICE_SENT`, `play:<text>`, `would`, `hang_up`.
fn words(entries: &[Value]) -> Vec<String> {
    entries
        .iter()
        .map(|e| match e["kind"].as_str().unwrap() {
            "event" => e["event"].as_str().unwrap().to_string(),
            "play" => format!("play:{}", e["text"].as_str().unwrap()),
            other => other.to_string(),
        })
        .collect()
}

fn w(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

// ---- the simulator through the API ------------------------------------------

#[tokio::test]
async fn answering_a_simulated_call_records_sent_then_delivered_and_plays_the_menu() {
    let app = app().await;
    let (entries, last) = play(&app, json!({}), &["answer"]).await;
    assert_eq!(
        words(&entries),
        w(&["VOICE_SENT", "VOICE_DELIVERED", "play:Olá. Tecle 1, 2, 3 ou 9."])
    );
    assert_eq!(entries[1]["details"]["answered_by"], "human");
    assert_eq!(
        (last["listening"].as_bool(), last["ended"].as_bool()),
        (Some(true), Some(false))
    );
}

#[tokio::test]
async fn a_simulated_narration_is_served_as_telephone_audio() {
    let app = app().await;
    let (entries, _) = play(&app, json!({}), &["answer"]).await;
    let url = entries[2]["audio_url"].as_str().unwrap();
    let path = &url[url.find("/voice/media/").expect("a narration rendered by the hub")..];
    assert!(path.ends_with(".wav"), "{url}");
    let r = app.client.get(app.url(path)).send().await.unwrap();
    assert_eq!(r.headers()["content-type"], "audio/wav");
    let wav = r.bytes().await.unwrap();
    assert_eq!(&wav[..4], b"RIFF");
}

#[tokio::test]
async fn a_transfer_key_records_the_key_and_says_where_the_call_would_go() {
    let app = app().await;
    let (entries, last) = play(&app, json!({}), &["answer", "1"]).await;
    assert_eq!(
        words(&entries[3..]),
        w(&["VOICE_KEY_PRESSED", "play:A transferir.", "would", "hang_up"])
    );
    assert_eq!(entries[3]["details"]["key"], "1");
    assert!(entries[5]["text"].as_str().unwrap().contains("+34911222333"));
    assert_eq!(last["ended"], true);
}

#[tokio::test]
async fn an_sms_key_says_which_sms_would_go_to_the_contacts_number() {
    let app = app().await;
    let ana = app
        .contact(json!({"firstname": "Ana", "mobilephone": "+5511912345678"}))
        .await;
    let (entries, _) = play(&app, json!({"contact_id": ana}), &["answer", "2"]).await;
    assert_eq!(entries[2]["text"], "Olá Ana. Tecle 1, 2, 3 ou 9.");
    assert_eq!(
        words(&entries[3..]),
        w(&["VOICE_KEY_PRESSED", "would", "play:Enviámos um SMS.", "hang_up"])
    );
    let would = entries[4]["text"].as_str().unwrap();
    assert!(
        would.contains("O seu código: 1234") && would.contains("+5511912345678") && would.contains("Recado"),
        "{would}"
    );
}

#[tokio::test]
async fn the_opt_out_key_records_voice_unsubscribed_right_after_its_key() {
    let app = app().await;
    let (entries, _) = play(&app, json!({}), &["answer", "9"]).await;
    assert_eq!(
        words(&entries[3..]),
        w(&[
            "VOICE_KEY_PRESSED",
            "VOICE_UNSUBSCRIBED",
            "would",
            "play:Não voltará a receber chamadas.",
            "hang_up"
        ])
    );
    assert_eq!(entries[4]["details"], json!({"key": "9", "source": "ivr_key"}));
}

#[tokio::test]
async fn a_play_key_plays_its_narration_and_then_the_menu_again() {
    let app = app().await;
    let (entries, last) = play(&app, json!({}), &["answer", "3"]).await;
    assert_eq!(
        words(&entries[3..]),
        w(&[
            "VOICE_KEY_PRESSED",
            "play:Abrimos às nove.",
            "play:Olá. Tecle 1, 2, 3 ou 9."
        ])
    );
    assert_eq!(last["listening"], true);
}

#[tokio::test]
async fn wrong_keys_replay_the_menu_until_its_plays_run_out() {
    let app = app().await;
    let (entries, last) = play(&app, json!({}), &["answer", "5", "#"]).await;
    assert_eq!(
        words(&entries[3..]),
        w(&[
            "play:Opção inválida.",
            "play:Olá. Tecle 1, 2, 3 ou 9.",
            "play:Opção inválida.",
            "hang_up"
        ])
    );
    assert!(!words(&entries).contains(&"VOICE_KEY_PRESSED".to_string()));
    assert_eq!(last["ended"], true);
}

#[tokio::test]
async fn silence_plays_the_no_input_narration_until_goodbye() {
    let app = app().await;
    let (entries, last) = play(&app, json!({}), &["answer", "silence", "silence"]).await;
    assert_eq!(
        words(&entries[3..]),
        w(&[
            "play:Ainda está aí?",
            "play:Olá. Tecle 1, 2, 3 ou 9.",
            "play:Ainda está aí?",
            "hang_up"
        ])
    );
    assert_eq!(last["ended"], true);
}

#[tokio::test]
async fn a_simulated_call_dials_stores_and_sends_nothing() {
    let app = app().await;
    app.channel("sms_sandbox", "SMS", json!({"senders": ["Recado"]})).await;
    app.channel("voice_sandbox", "Calls", json!({"caller_ids": ["+34910000000"]}))
        .await;
    let ana = app
        .contact(json!({"firstname": "Ana", "mobilephone": "+5511912345678"}))
        .await;
    play(&app, json!({"contact_id": ana}), &["answer", "2"]).await;
    play(&app, json!({"contact_id": ana}), &["answer", "9"]).await;
    app.run_jobs().await;
    let messages = app.get("/api/v1/messages").await;
    assert_eq!(messages.body["items"], json!([]), "{}", messages.body);
    let timeline = app.get(&format!("/api/v1/contacts/{ana}/timeline")).await;
    assert_eq!(timeline.body["items"], json!([]), "{}", timeline.body);
    assert!(app.sandbox_sms().is_empty());
}

#[tokio::test]
async fn a_simulated_voice_message_plays_once_and_hangs_up() {
    let app = app().await;
    let voice = json!({"narration": tts("O seu pedido chegou."), "caller_id": "+34910000000"});
    let r = app
        .post("/api/v1/voice/simulate", json!({"voice": voice, "press": "answer"}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let entries = r.body["entries"].as_array().unwrap();
    assert_eq!(
        words(entries),
        w(&["VOICE_SENT", "VOICE_DELIVERED", "play:O seu pedido chegou.", "hang_up"])
    );
    assert_eq!(r.body["ended"], true);
}

#[tokio::test]
async fn a_key_before_the_answer_is_refused() {
    let app = app().await;
    let r = app
        .post("/api/v1/voice/simulate", json!({"ivr": ivr(), "press": "1"}))
        .await;
    assert_eq!((r.status, r.code()), (422, "call_not_answered"), "{}", r.body);
}

#[tokio::test]
async fn a_simulated_definition_is_refused_by_the_field_at_fault() {
    let app = app().await;
    let mut bad = ivr();
    bad["keys"]["1"]["to"] = json!("911222333");
    let r = app
        .post("/api/v1/voice/simulate", json!({"ivr": bad, "press": "answer"}))
        .await;
    assert_eq!(
        (r.status, r.code(), r.field()),
        (422, "invalid_voice", "keys.1.to"),
        "{}",
        r.body
    );
}

// ---- Listen ----------------------------------------------------------------------

async fn listen(web: &Web, fields: &[(&str, &str)], json: bool) -> reqwest::Response {
    let csrf = web.csrf("/voice/simulator").await;
    let mut all: Vec<(&str, &str)> = vec![("csrf", csrf.as_str())];
    all.extend_from_slice(fields);
    let mut request = web
        .http
        .post(format!("{}/voice/listen", web.base))
        .header("cookie", &web.cookie)
        .form(&all);
    if json {
        request = request.header("accept", "application/json");
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn listen_plays_a_narration_with_the_pages_contact_tokens_filled() {
    let app = app().await;
    let ana = app
        .contact(json!({"firstname": "Ana", "mobilephone": "+5511912345678"}))
        .await;
    let web = admin(&app).await;
    let narration = |text: &'static str| {
        vec![
            ("listen", "narration"),
            ("narration.kind", "tts"),
            ("narration.language", "pt-BR"),
            ("narration.text", text),
        ]
    };
    let mut with_ana = narration("Olá {{contact.firstname}}, o seu pedido chegou.");
    with_ana.push(("listen_contact", ana.as_str()));
    let r = listen(&web, &with_ana, true).await;
    assert_eq!(r.status(), 200);
    let heard: Value = r.json().await.unwrap();
    assert_eq!(heard["text"], "Olá Ana, o seu pedido chegou.");
    let written = listen(&web, &narration("Olá Ana, o seu pedido chegou."), true).await;
    let written: Value = written.json().await.unwrap();
    assert_eq!(
        heard["url"], written["url"],
        "the same words as the text with the name written in"
    );
    let audio = reqwest::get(format!("{}{}", app.base, heard["url"].as_str().unwrap()))
        .await
        .unwrap();
    assert_eq!(audio.headers()["content-type"], "audio/wav");
}

#[tokio::test]
async fn listen_without_scripts_opens_the_audio() {
    let app = app().await;
    let web = admin(&app).await;
    let r = listen(
        &web,
        &[
            ("listen", "s0.v.keys.3.narration"),
            ("s0.v.keys.3.narration.kind", "tts"),
            ("s0.v.keys.3.narration.language", "es"),
            ("s0.v.keys.3.narration.voice", "female"),
            ("s0.v.keys.3.narration.text", "Abrimos a las nueve."),
        ],
        false,
    )
    .await;
    assert_eq!(r.status(), 303);
    let location = r.headers()["location"].to_str().unwrap();
    assert!(
        location.starts_with("/voice/media/") && location.ends_with(".wav"),
        "{location}"
    );
}

#[tokio::test]
async fn listen_refuses_a_narration_by_its_field() {
    let app = app().await;
    let web = admin(&app).await;
    let r = listen(
        &web,
        &[
            ("narration.kind", "tts"),
            ("narration.language", "tlh"),
            ("narration.text", "Qapla'"),
        ],
        true,
    )
    .await;
    assert_eq!(r.status(), 422);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["field"], "narration.language");
}

// ---- the simulator page ------------------------------------------------------------

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
    app.channel("sms_sandbox", "SMS", json!({"senders": ["Recado"]})).await;
    app.channel("voice_sandbox", "Calls", json!({})).await;
    let definition = json!({
        "triggers": [{"type": "manual"}], "start": "call",
        "nodes": {"call": {"type": "send_ivr", "ivr": ivr(), "next": "end"}, "end": {"type": "end"}}
    });
    let r = app
        .post("/api/v1/workflows", json!({"name": "IVR", "definition": definition}))
        .await;
    let id = r.body["id"].as_str().unwrap().to_string();
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

// ---- the workflow editor -------------------------------------------------------------

fn ivr_step_fields(to: &str) -> Vec<(&str, &str)> {
    vec![
        ("name", "Call"),
        ("start", "n1"),
        ("t0.type", "manual"),
        ("reenrolment", "never"),
        ("timezone", "workspace"),
        ("s0.id", "n1"),
        ("s0.type", "send_ivr"),
        ("s0.next", "n2"),
        ("s0.v.caller_id", "+34910000000"),
        ("s0.v.narration.kind", "tts"),
        ("s0.v.narration.language", "pt-BR"),
        ("s0.v.narration.voice", "female"),
        ("s0.v.narration.text", "Olá. Tecle 1 ou 9."),
        ("s0.v.keys.1.action", "transfer"),
        ("s0.v.keys.1.to", to),
        ("s0.v.keys.1.narration.kind", "tts"),
        ("s0.v.keys.1.narration.language", "pt-BR"),
        ("s0.v.keys.1.narration.text", ""),
        ("s0.v.keys.9.action", "unsubscribe"),
        ("s0.v.keys.9.narration.kind", "tts"),
        ("s0.v.keys.9.narration.language", "pt-BR"),
        ("s0.v.keys.9.narration.text", "Adeus."),
        ("s0.v.keys.9.then", ""),
        ("s0.v.wrong_key.narration.kind", "tts"),
        ("s0.v.wrong_key.narration.language", "pt-BR"),
        ("s0.v.wrong_key.narration.text", "Opção inválida."),
        ("s0.v.max_menu_plays", "2"),
        ("s0.v.retry.on", "busy"),
        ("s0.v.retry.max_attempts", "3"),
        ("s0.v.retry.delay_s", "600"),
        ("s1.id", "n2"),
        ("s1.type", "end"),
        ("op", "save"),
    ]
}

#[tokio::test]
async fn the_editor_saves_an_ivr_step_from_its_fields() {
    let app = app().await;
    app.channel("voice_sandbox", "Calls", json!({"caller_ids": ["+34910000000"]}))
        .await;
    let web = admin(&app).await;
    let csrf = web.csrf("/workflows/new").await;
    let mut fields = vec![("csrf", csrf.as_str())];
    fields.extend(ivr_step_fields("+34911222333"));
    let (status, location) = web.post("/workflows/new", &fields).await;
    assert_eq!(status, 303, "{location}");
    let id = location.trim_start_matches("/workflows/").split('?').next().unwrap();
    let draft = app.get(&format!("/api/v1/workflows/{id}")).await.body["draft"].clone();
    assert_eq!(
        draft["nodes"]["n1"],
        json!({"type": "send_ivr", "next": "n2", "ivr": {
            "caller_id": "+34910000000",
            "narration": {"kind": "tts", "language": "pt-BR", "voice": "female", "text": "Olá. Tecle 1 ou 9."},
            "keys": {"1": {"action": "transfer", "to": "+34911222333"},
                     "9": {"action": "unsubscribe", "narration": tts("Adeus.")}},
            "wrong_key": {"narration": tts("Opção inválida.")},
            "max_menu_plays": 2,
            "retry": {"on": ["busy"], "max_attempts": 3, "delay_s": 600}
        }})
    );
}

#[tokio::test]
async fn the_editor_shows_a_refusal_next_to_the_key_it_names() {
    let app = app().await;
    app.channel("voice_sandbox", "Calls", json!({})).await;
    let web = admin(&app).await;
    let csrf = web.csrf("/workflows/new").await;
    let mut fields = vec![("csrf", csrf.as_str())];
    fields.extend(ivr_step_fields("911222333"));
    let (status, page) = web.post_page("/workflows/new", &fields).await;
    assert_eq!(status, 422);
    let at = page
        .find("data-error-for=\"s0.v.keys.1\"")
        .expect("the error sits in key 1's box");
    assert!(page[at..].starts_with("data-error-for=\"s0.v.keys.1\">to: transfer to an E.164 number"));
    assert!(page.contains("value=\"911222333\""), "the field keeps what was typed");
}

#[tokio::test]
async fn a_saved_ivr_step_opens_in_the_editor_as_fields() {
    let app = app().await;
    app.channel("sms_sandbox", "SMS", json!({"senders": ["Recado"]})).await;
    app.channel("voice_sandbox", "Calls", json!({})).await;
    let definition = json!({
        "triggers": [{"type": "manual"}], "start": "call",
        "nodes": {"call": {"type": "send_ivr", "ivr": ivr(), "next": "end"}, "end": {"type": "end"}}
    });
    let r = app
        .post("/api/v1/workflows", json!({"name": "IVR", "definition": definition}))
        .await;
    let id = r.body["id"].as_str().unwrap();
    let web = admin(&app).await;
    let (_, page) = web.get(&format!("/workflows/{id}/edit")).await;
    assert!(page.contains(r#"<option value="send_ivr" selected>"#));
    assert!(page.contains(r#"name="s0.v.keys.1.to" value="+34911222333""#));
    assert!(page.contains(r#"name="s0.v.keys.2.sender" value="Recado""#));
    assert!(page.contains("Ainda está aí?"));
    assert!(!page.contains(r#"<option value="json" selected>"#), "not shown as JSON");
    for narration in [
        "narration",
        "keys.1.narration",
        "keys.9.narration",
        "wrong_key.narration",
        "no_input.narration",
    ] {
        let listen = format!(r#"name="listen" value="s0.v.{narration}""#);
        assert!(page.contains(&listen), "a Listen button for {narration}");
    }
}

#[tokio::test]
async fn the_editors_try_button_opens_the_step_as_edited_in_the_simulator() {
    let app = app().await;
    let web = admin(&app).await;
    let csrf = web.csrf("/workflows/new").await;
    let mut fields = vec![("csrf", csrf.as_str()), ("try", "0"), ("back", "/workflows/new")];
    fields.extend(ivr_step_fields("+34911222333"));
    let (status, page) = web.post_page("/voice/simulator/try", &fields).await;
    assert_eq!(status, 200);
    assert!(page.contains("Olá. Tecle 1 ou 9."), "the unsaved step is tried");
    assert!(page.contains("href=\"/workflows/new\""));
}

// ---- Settings → Channels ------------------------------------------------------------

#[tokio::test]
async fn a_voice_channel_is_listed_with_its_kind_and_caller_ids() {
    let app = app().await;
    let web = admin(&app).await;
    let (status, page) = web
        .submit(
            "/settings/channels/new?kind=voice_sandbox",
            "/settings/channels/new",
            &[
                ("kind", "voice_sandbox"),
                ("name", "Calls"),
                ("caller_ids", "+34910000000\n+34910000001"),
                ("default_caller_id", "+34910000001"),
                ("ring_ms", "0"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("id=\"connected\""));
    let (_, list) = web.get("/settings/channels").await;
    assert!(list.contains("Voice sandbox"));
    assert!(
        list.contains("caller ids: +34910000000, +34910000001 (default)"),
        "{list}"
    );
}

#[tokio::test]
async fn an_asterisk_password_is_never_shown_and_kept_when_left_empty() {
    let app = app().await;
    let web = admin(&app).await;
    let (status, page) = web
        .submit(
            "/settings/channels/new?kind=voice_asterisk",
            "/settings/channels/new",
            &[
                ("kind", "voice_asterisk"),
                ("name", "PBX"),
                ("ari_url", "http://127.0.0.1:9/ari"),
                ("ari_user", "recado"),
                ("ari_password", "ari-secret-password"),
                ("dial_template", "PJSIP/{number}@trunk"),
                ("caller_ids", "+34910000000"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{page}");
    assert!(!page.contains("ari-secret-password"));
    let id = value_after(&page, "data-channel=\"").unwrap().to_string();
    let path = format!("/settings/channels/{id}");
    let (_, edit) = web.get(&path).await;
    assert!(!edit.contains("ari-secret-password"));
    // Saved without retyping it: the stored password stays (it is required).
    let (status, location) = web
        .post(
            &path,
            &[
                ("csrf", &web.csrf(&path).await),
                ("name", "PBX 2"),
                ("ari_url", "http://127.0.0.1:9/ari"),
                ("ari_user", "recado"),
                ("ari_password", ""),
                ("dial_template", "PJSIP/{number}@trunk"),
                ("caller_ids", "+34910000000"),
            ],
        )
        .await;
    assert_eq!((status, location.as_str()), (303, format!("{path}?saved=1").as_str()));
}

#[tokio::test]
async fn a_voice_channel_form_shows_a_refusal_next_to_its_field() {
    let app = app().await;
    let web = admin(&app).await;
    let (status, page) = web
        .submit(
            "/settings/channels/new?kind=voice_asterisk",
            "/settings/channels/new",
            &[
                ("kind", "voice_asterisk"),
                ("name", "PBX"),
                ("ari_url", "http://127.0.0.1:9/ari"),
                ("ari_user", "recado"),
                ("ari_password", "pw"),
                ("dial_template", "PJSIP/trunk"),
            ],
        )
        .await;
    assert_eq!(status, 422);
    assert!(
        page.contains("id=\"e-dial_template\" role=\"alert\">the dial string names the number called as {number}"),
        "{page}"
    );
}

#[tokio::test]
async fn the_voice_sandbox_test_says_it_is_offline() {
    let app = app().await;
    let id = app
        .channel("voice_sandbox", "Calls", json!({"caller_ids": ["+34910000000"]}))
        .await;
    let web = admin(&app).await;
    let path = format!("/settings/channels/{id}");
    let (status, page) = web.submit(&path, &format!("{path}/test"), &[]).await;
    assert_eq!(status, 200);
    assert!(page.contains("The voice sandbox is offline"), "{page}");
    assert!(page.contains("Calls show +34910000000"));
}

#[tokio::test]
async fn the_asterisk_test_asks_ari_for_its_version_with_the_stored_credentials() {
    use axum::http::{HeaderMap, StatusCode};
    let app = app().await;
    let ari = axum::Router::new().route(
        "/ari/asterisk/info",
        axum::routing::get(|headers: HeaderMap| async move {
            // recado:ari-pw
            let right = headers
                .get("authorization")
                .is_some_and(|v| v == "Basic cmVjYWRvOmFyaS1wdw==");
            if right {
                (
                    StatusCode::OK,
                    r#"{"system": {"version": "22.10.1", "entity_id": "aa:bb"}}"#,
                )
            } else {
                (StatusCode::UNAUTHORIZED, r#"{"message": "Authentication required"}"#)
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, ari).await });
    let config = |password: &str| {
        json!({"ari_url": format!("http://127.0.0.1:{port}/ari"), "ari_user": "recado",
               "ari_password": password, "dial_template": "PJSIP/{number}@trunk"})
    };
    let right = app.channel("voice_asterisk", "PBX", config("ari-pw")).await;
    let wrong = app.channel("voice_asterisk", "PBX wrong", config("nope")).await;
    let web = admin(&app).await;
    let test = |id: String| {
        let web = &web;
        async move {
            let path = format!("/settings/channels/{id}");
            web.submit(&path, &format!("{path}/test"), &[]).await.1
        }
    };
    let ok = test(right).await;
    assert!(ok.contains("Asterisk 22.10.1 answered"), "{ok}");
    let refused = test(wrong).await;
    assert!(
        refused.contains("notice error") && refused.contains("did not accept the test"),
        "{refused}"
    );
}

// ---- the contact page ---------------------------------------------------------------

async fn voice_contact(app: &TestApp, phone: &str) -> String {
    app.channel(
        "voice_sandbox",
        "Calls",
        json!({"caller_ids": ["+34910000000", "+34910000001"]}),
    )
    .await;
    let ana = app.contact(json!({"firstname": "Ana", "mobilephone": phone})).await;
    app.subscribe(&ana, "voice").await;
    ana
}

fn voice_fields<'a>(caller_id: &'a str, text: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("phone_property", "mobilephone"),
        ("country", ""),
        ("caller_id", caller_id),
        ("narration.kind", "tts"),
        ("narration.language", "pt-BR"),
        ("narration.voice", ""),
        ("narration.text", text),
        ("campaign", ""),
    ]
}

#[tokio::test]
async fn a_voice_message_from_the_contact_page_goes_in_the_crm_campaign() {
    let app = app().await;
    let ana = voice_contact(&app, "+5511912345678").await;
    let web = admin(&app).await;
    let page = format!("/contacts/{ana}");
    let csrf = web.csrf(&page).await;
    let mut fields = vec![("csrf", csrf.as_str())];
    fields.extend(voice_fields(
        "+34910000001",
        "Olá {{contact.firstname}}, o seu pedido chegou.",
    ));
    let (status, location) = web.post(&format!("{page}/voice"), &fields).await;
    assert_eq!(status, 303, "{location}");
    assert!(location.contains("voice_sent="), "{location}");
    let messages = app.get("/api/v1/messages").await.body;
    let m = &messages["items"][0];
    assert_eq!(
        (m["channel"].as_str(), m["type"].as_str()),
        (Some("voice"), Some("voice")),
        "{m}"
    );
    assert!(m["campaign"].as_str().unwrap().starts_with("CRM_VOICE_"), "{m}");
    assert_eq!(m["from"], "+34910000001", "{m}");
    assert_eq!(m["text"], "Olá Ana, o seu pedido chegou.");
}

#[tokio::test]
async fn the_contact_timeline_shows_the_key_pressed_in_a_call() {
    let app = app().await;
    // The sandbox phone …12 answers and presses 2.
    let ana = voice_contact(&app, "+5511900000012").await;
    let web = admin(&app).await;
    let page = format!("/contacts/{ana}");
    let csrf = web.csrf(&page).await;
    let mut fields = vec![("csrf", csrf.as_str())];
    fields.extend(voice_fields("+34910000000", "Tecle 2."));
    let (status, _) = web.post(&format!("{page}/voice"), &fields).await;
    assert_eq!(status, 303);
    app.run_jobs().await;
    let message_id = app.get("/api/v1/messages").await.body["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, html) = web.get(&page).await;
    let row = html
        .split("<tr data-kind=\"VOICE_KEY_PRESSED\" data-key=\"2\">")
        .nth(1)
        .expect("a key row")
        .split("</tr>")
        .next()
        .unwrap();
    assert!(
        row.contains("<kbd class=\"pressed\" title=\"key pressed\">2</kbd>"),
        "{row}"
    );
    assert!(
        row.contains(&message_id) && row.contains("CRM_VOICE_") && row.contains("+34910000000"),
        "{row}"
    );
}

#[tokio::test]
async fn a_refused_voice_message_shows_the_form_again_with_the_error_at_its_field() {
    let app = app().await;
    let ana = voice_contact(&app, "+5511912345678").await;
    let web = admin(&app).await;
    let page = format!("/contacts/{ana}");
    let csrf = web.csrf(&page).await;
    let mut fields = vec![("csrf", csrf.as_str())];
    fields.extend(voice_fields("+34919999999", "O seu pedido chegou."));
    let (status, html) = web.post_page(&format!("{page}/voice"), &fields).await;
    assert_eq!(status, 422);
    assert!(
        html.contains("data-error-for=\"caller_id\">`+34919999999` is not one of this channel&#39;s caller ids"),
        "{html}"
    );
    assert!(html.contains(">O seu pedido chegou.</textarea>"), "the text is kept");
    assert_eq!(
        app.get("/api/v1/messages").await.body["items"],
        json!([]),
        "nothing was sent"
    );
}

// ---- in the browser ---------------------------------------------------------------------

const PHONE: (u32, u32) = (360, 760);

async fn browser(app: &TestApp, javascript: bool) -> Option<Browser> {
    let (driver, chromium) = tools()?;
    let b = Browser::start(&driver, &chromium, javascript).await;
    b.client.set_window_size(1366, 1000).await.unwrap();
    b.sign_in(&app.base, ADMIN, PASSWORD).await;
    Some(b)
}

/// Screenshots at desktop and phone widths, `at` scrolled to the top.
async fn both_widths(b: &Browser, name: &str, height: u32, at: &str) {
    let scroll = format!("const e = document.querySelector({at:?}); if (e) e.scrollIntoView();");
    b.client.set_window_size(1366, height).await.unwrap();
    b.client.execute(&scroll, vec![]).await.unwrap();
    b.screenshot(&format!("{name}-desktop")).await;
    b.client
        .set_window_size(PHONE.0, PHONE.1.max(height.min(1600)))
        .await
        .unwrap();
    b.client.execute(&scroll, vec![]).await.unwrap();
    b.screenshot(&format!("{name}-phone")).await;
    b.client.set_window_size(1366, 1000).await.unwrap();
}

/// Waits until `script` (a JavaScript expression) is true in the page.
async fn until(b: &Browser, script: &str) {
    let deadline = std::time::Instant::now() + crate::browser::PATIENCE;
    loop {
        let v = b
            .client
            .execute(&format!("return !!({script});"), vec![])
            .await
            .unwrap();
        if v == json!(true) {
            return;
        }
        assert!(std::time::Instant::now() < deadline, "never true: {script}");
        tokio::time::sleep(std::time::Duration::from_millis(150)).await;
    }
}

#[tokio::test]
async fn the_simulator_in_the_browser_plays_the_menu_and_logs_each_key() {
    let app = app().await;
    let Some(b) = browser(&app, true).await else { return };
    b.goto(&format!("{}/voice/simulator", app.base)).await;
    b.wait_for("#answer").await;
    b.click("#answer").await;
    b.wait_for_text("<code>VOICE_DELIVERED</code>").await;
    // The menu's narration is loaded and starts playing by itself.
    until(
        &b,
        "[...document.querySelectorAll('#sim-log audio')].some(a => a.currentTime > 0 || !a.paused)",
    )
    .await;
    b.click("#key-3").await;
    b.wait_for_text("key: 3").await;
    b.click("#key-hash").await;
    b.wait_for_text("The contact presses #.").await;
    b.wait_for_text("Plays the wrong-key narration").await;
    let log = b.text_of("#sim-log").await;
    assert!(
        log.contains("VOICE_KEY_PRESSED") && log.contains("Plays key 3's narration"),
        "{log}"
    );
    both_widths(&b, "voice-simulator", 1300, "main").await;
    b.click("#key-9").await;
    b.wait_for_text("VOICE_UNSUBSCRIBED").await;
    b.wait_for("#key-1[disabled]").await;
    b.close().await;
}

#[tokio::test]
async fn the_editor_in_the_browser_listens_to_a_keys_narration() {
    let app = app().await;
    app.channel("sms_sandbox", "SMS", json!({"senders": ["Recado"]})).await;
    app.channel("voice_sandbox", "Calls", json!({})).await;
    let definition = json!({
        "triggers": [{"type": "manual"}], "start": "call",
        "nodes": {"call": {"type": "send_ivr", "ivr": ivr(), "next": "end"}, "end": {"type": "end"}}
    });
    let r = app
        .post("/api/v1/workflows", json!({"name": "IVR", "definition": definition}))
        .await;
    let id = r.body["id"].as_str().unwrap().to_string();
    let Some(b) = browser(&app, true).await else { return };
    b.goto(&format!("{}/workflows/{id}/edit", app.base)).await;
    b.wait_for("#step-0").await;
    b.click("[data-narration='s0.v.keys.3.narration'] button[data-listen]")
        .await;
    until(
        &b,
        "document.querySelector(\"[data-narration='s0.v.keys.3.narration'] audio.listen-player\").src.includes('/voice/media/')",
    )
    .await;
    both_widths(&b, "voice-editor-ivr-step", 3400, "#step-0").await;
    // The workflow's page shows the call in its graph, with a way to try it.
    b.goto(&format!("{}/workflows/{id}", app.base)).await;
    b.wait_for("#node-call[data-type='send_ivr']").await;
    both_widths(&b, "voice-workflow-graph", 900, "main").await;
    b.click("#try-call").await;
    b.wait_for("#simulator").await;
    assert!(b.text_of("#simulator-back").await.contains("IVR"));
    b.close().await;
}

#[tokio::test]
async fn a_voice_channel_is_connected_in_the_browser() {
    let app = app().await;
    let Some(b) = browser(&app, false).await else { return };
    b.goto(&format!("{}/settings/channels", app.base)).await;
    b.click("#connect-voice_asterisk").await;
    b.wait_for("#channel-form").await;
    b.type_into("#f-name", "Central PBX").await;
    b.type_into("#f-ari_url", "http://127.0.0.1:8088/ari").await;
    b.type_into("#f-ari_user", "recado").await;
    b.type_into("#f-ari_password", "ari-secret").await;
    b.type_into("#f-dial_template", "PJSIP/trunk").await;
    b.type_into("#f-caller_ids", "+34910000000").await;
    b.click("#connect-button").await;
    b.wait_for("#e-dial_template").await;
    both_widths(&b, "voice-channel-form-error", 1500, "main").await;
    b.type_into("#f-ari_password", "ari-secret").await;
    b.type_into("#f-dial_template", "PJSIP/{number}@trunk").await;
    b.click("#connect-button").await;
    b.wait_for("#connected").await;
    assert!(b.text_of("#channel-page .hint").await.contains("+34910000000"));
    both_widths(&b, "voice-channel-connected", 1400, "main").await;
    b.close().await;
}

#[tokio::test]
async fn the_contact_page_in_the_browser_listens_and_sends_a_voice_message() {
    let app = app().await;
    // The sandbox phone …12 answers and presses 2.
    let ana = voice_contact(&app, "+5511900000012").await;
    let Some(b) = browser(&app, true).await else { return };
    b.goto(&format!("{}/contacts/{ana}#voice", app.base)).await;
    b.wait_for("#voice-form").await;
    b.type_into(
        "#voice-form textarea[name='narration.text']",
        "Olá {{contact.firstname}}, o seu pedido chegou.",
    )
    .await;
    b.select("#voice-caller-id", "+34910000001").await;
    b.click("#voice-form button[data-listen]").await;
    until(
        &b,
        "document.querySelector('#voice-form audio.listen-player').src.includes('/voice/media/')",
    )
    .await;
    both_widths(&b, "voice-contact-form", 1000, "#voice").await;
    b.click("#send-voice").await;
    b.wait_for("#voice-notice").await;
    assert!(b.text_of("#voice-notice").await.contains("queued"));
    app.run_jobs().await;
    b.client.refresh().await.unwrap();
    b.wait_for("#contact-timeline tr[data-kind='VOICE_KEY_PRESSED'][data-key='2']")
        .await;
    both_widths(&b, "voice-contact-timeline", 1000, "#timeline-panel").await;
    b.close().await;
}

#[tokio::test]
async fn the_campaign_page_in_the_browser_lists_the_keys_pressed_in_its_calls() {
    let app = app().await;
    // Sandbox phones …12 and …19 answer and press 2 and 9.
    let two = voice_contact(&app, "+5511900000012").await;
    for (contact, phone) in [(two.clone(), None), (String::new(), Some("+5511900000019"))] {
        let contact = match phone {
            None => contact,
            Some(phone) => {
                let id = app.contact(json!({"firstname": "Rui", "mobilephone": phone})).await;
                app.subscribe(&id, "voice").await;
                id
            }
        };
        let r = app
            .post(
                "/api/v1/messages",
                json!({"channel": "voice", "contact_id": contact, "campaign": "Recall",
                       "voice": {"narration": {"kind": "tts", "language": "pt-BR", "text": "Tecle 2 para confirmar."}}}),
            )
            .await;
        assert_eq!(r.status, 202, "{}", r.body);
    }
    app.run_jobs().await;
    let campaigns = app.get("/api/v1/campaigns?channel=voice").await;
    let id = campaigns.body["items"][0]["id"].as_str().unwrap().to_string();
    let Some(b) = browser(&app, false).await else { return };
    b.goto(&format!("{}/campaigns/{id}", app.base)).await;
    b.wait_for("#keys-pressed tr[data-key='2']").await;
    assert_eq!(b.text_of("#keys-pressed tr[data-key='9'] td.num").await, "1");
    both_widths(&b, "voice-campaign-keys", 1100, "#keys-pressed").await;
    both_widths(&b, "voice-campaign-chart", 1100, "svg.chart").await;
    b.close().await;
}
