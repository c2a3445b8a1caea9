//! Voice in the web UI and the IVR simulator, on both backends: the Listen
//! button of every narration (tokens filled for the page's contact), the
//! simulator reaching every key's action, a wrong key and silence through
//! the one call machine while nothing is dialled, stored or sent; voice and
//! IVR steps in the workflow editor with refusals next to their field;
//! voice channels in Settings; voice messages from the contact page. The
//! browser tests walk the same pages in Chromium, with screenshots at
//! desktop and phone widths under `target/screenshots/voice-*`.

// Named `browser` so the Chromium tests run one at a time with the other
// browser tests (the `browser::` group of .config/nextest.toml).
mod browser;
mod channel_settings;
mod contact_page;
mod editor;
mod listen;
mod simulator;
mod simulator_page;

use crate::common::web::Web;
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

/// A workflow with one IVR step (the menu of [`ivr`]) on sandbox channels;
/// its id.
async fn ivr_workflow(app: &TestApp) -> String {
    app.channel("sms_sandbox", "SMS", json!({"senders": ["Recado"]})).await;
    app.channel("voice_sandbox", "Calls", json!({})).await;
    let definition = json!({
        "triggers": [{"type": "manual"}], "start": "call",
        "nodes": {"call": {"type": "send_ivr", "ivr": ivr(), "next": "end"}, "end": {"type": "end"}}
    });
    let r = app
        .post("/api/v1/workflows", json!({"name": "IVR", "definition": definition}))
        .await;
    r.body["id"].as_str().unwrap().to_string()
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

/// A contact at `phone`, subscribed to voice, and a sandbox voice channel
/// with two caller ids to call them from.
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
