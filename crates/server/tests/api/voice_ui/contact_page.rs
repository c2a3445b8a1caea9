//! Voice messages from the contact page: sent in the CRM campaign, the key
//! pressed shown in the contact's timeline, and a refusal at its field.

use super::{admin, app, voice_contact};
use serde_json::json;

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
