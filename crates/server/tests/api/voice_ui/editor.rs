//! Voice and IVR steps in the workflow editor: saved from their fields,
//! refused next to the key at fault, opened again as fields, and tried in
//! the simulator as edited.

use super::{admin, app, ivr_workflow, tts};
use serde_json::json;

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
    let id = ivr_workflow(&app).await;
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
