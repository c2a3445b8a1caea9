//! The Listen button of a narration: its audio with the page's contact's
//! tokens filled, without scripts too, and a refusal named by its field.

use super::{admin, app};
use crate::common::web::Web;
use serde_json::{json, Value};

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
