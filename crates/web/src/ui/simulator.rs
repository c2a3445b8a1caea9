//! The IVR simulator page: a phone keypad that answers a call, presses
//! keys, stays silent or hangs up, and the log of what the call would
//! record and do, each narration playable in the browser. The page keeps
//! the call's state in the form (nothing is stored, dialled or sent); the
//! logic is `recado_app::voice::simulator`, the real call machine.
//!
//! Reached from the workflow editor ("Try it", with the step as edited),
//! from a saved workflow's voice step, or at `/voice/simulator` with a
//! pasted definition. Works without scripts; with them each press updates
//! the page in place and plays the narrations in order.

use super::narration::local_media_url;
use super::page::{html, Chrome, UiResult};
use super::session::{Posted, WebUser};
use super::workflows::editor::EditorForm;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use recado_app::voice::send::number_of;
use recado_app::voice::simulator::{self, Entry, Press, Simulated};
use recado_app::workflows::pages;
use recado_app::AppState;
use recado_core::voice::call::Call;
use recado_core::voice::Key;
use recado_flow::definition::{NodeKind, SendAction};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// Log entries a page carries at most (the oldest are dropped).
const LOG_KEPT: usize = 200;

/// One line of the log as the page draws it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LogLine {
    /// `event`, `play`, `would` or `hang_up`.
    pub kind: String,
    pub title: String,
    pub text: String,
    #[serde(default)]
    pub audio_url: String,
    /// Added by the last press (played in order by the page's script).
    #[serde(skip)]
    pub fresh: bool,
}

fn line_of(state: &AppState, entry: &Entry) -> LogLine {
    match entry {
        Entry::Event { event, details } => {
            let words: Vec<String> = details
                .as_object()
                .map(|o| {
                    o.iter()
                        .map(|(k, v)| format!("{k}: {}", v.as_str().map_or_else(|| v.to_string(), str::to_string)))
                        .collect()
                })
                .unwrap_or_default();
            LogLine {
                kind: "event".into(),
                title: event.clone(),
                text: words.join(" · "),
                audio_url: String::new(),
                fresh: true,
            }
        }
        Entry::Play { what, text, audio_url } => LogLine {
            kind: "play".into(),
            title: what.clone(),
            text: text.clone(),
            audio_url: audio_url
                .as_deref()
                .map(|u| local_media_url(state, u))
                .unwrap_or_default(),
            fresh: true,
        },
        Entry::Would { text } => LogLine {
            kind: "would".into(),
            title: "Would do".into(),
            text: text.clone(),
            audio_url: String::new(),
            fresh: true,
        },
        Entry::HangUp { text } => LogLine {
            kind: "hang_up".into(),
            title: "Hangs up".into(),
            text: text.clone(),
            audio_url: String::new(),
            fresh: true,
        },
    }
}

pub struct KeyButton {
    pub symbol: char,
    pub id: String,
    pub letters: &'static str,
}

fn keypad() -> Vec<KeyButton> {
    let letters = ["", "", "ABC", "DEF", "GHI", "JKL", "MNO", "PQRS", "TUV", "WXYZ"];
    "123456789*0#"
        .chars()
        .map(|c| KeyButton {
            symbol: c,
            id: match c {
                '*' => "key-star".into(),
                '#' => "key-hash".into(),
                d => format!("key-{d}"),
            },
            letters: c.to_digit(10).map_or("", |d| letters[d as usize]),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "voice_simulator.html")]
struct SimulatorPage {
    chrome: Chrome,
    title: String,
    /// Where "back" goes (the workflow), if the call came from one.
    back: Option<(String, String)>,
    /// `ivr` or `voice`.
    kind: String,
    definition: String,
    definition_error: Option<String>,
    contact_id: String,
    contact_error: Option<String>,
    call_json: String,
    log_json: String,
    log: Vec<LogLine>,
    status: String,
    listening: bool,
    in_call: bool,
    keys: Vec<KeyButton>,
}

/// An IVR to start from on the bare simulator page.
fn example() -> Value {
    let tts = |text: &str| json!({"kind": "tts", "language": "pt-BR", "text": text});
    json!({
        "narration": tts("Olá {{contact.firstname}}. Tecle 1 para falar com um agente, 2 para receber o código por SMS, 3 para ouvir o horário, 9 para não receber mais chamadas."),
        "keys": {
            "1": {"action": "transfer", "to": "+34911222333", "narration": tts("Vamos transferir a sua chamada.")},
            "2": {"action": "send_sms", "text": "O seu código: 1234", "narration": tts("Enviámos um SMS.")},
            "3": {"action": "play", "narration": tts("Estamos abertos das nove às dezoito horas."), "then": "menu"},
            "9": {"action": "unsubscribe", "narration": tts("Não voltará a receber chamadas.")}
        },
        "wrong_key": {"narration": tts("Opção inválida.")},
        "no_input": {"timeout_s": 5, "narration": tts("Ainda está aí?")},
        "max_menu_plays": 3
    })
}

struct Shown {
    title: String,
    back: Option<(String, String)>,
    kind: String,
    definition: String,
    definition_error: Option<String>,
    contact_id: String,
    contact_error: Option<String>,
    call: Option<Call>,
    log: Vec<LogLine>,
    listening: bool,
}

impl Shown {
    fn new(title: String, kind: &str, definition: &Value) -> Shown {
        Shown {
            title,
            back: None,
            kind: kind.to_string(),
            definition: serde_json::to_string_pretty(definition).unwrap_or_default(),
            definition_error: None,
            contact_id: String::new(),
            contact_error: None,
            call: None,
            log: Vec::new(),
            listening: false,
        }
    }
}

async fn render(state: &AppState, user: &WebUser, shown: Shown, status: StatusCode) -> UiResult<Response> {
    let in_call = shown.call.as_ref().is_some_and(|c| !c.is_ended() && c.attempt > 0);
    let status_text = match (&shown.call, shown.listening) {
        (None, _) => "Ready: answer to start the call.".to_string(),
        (Some(c), _) if c.is_ended() => "The call is over. Answer to call again.".to_string(),
        (Some(_), true) => "In the call: press a key, stay silent or hang up.".to_string(),
        (Some(_), false) => "In the call.".to_string(),
    };
    let mut page = SimulatorPage {
        chrome: Chrome::build(state, user, &shown.title, "").await?,
        title: shown.title,
        back: shown.back,
        kind: shown.kind,
        definition: shown.definition,
        definition_error: shown.definition_error,
        contact_id: shown.contact_id,
        contact_error: shown.contact_error,
        call_json: shown
            .call
            .as_ref()
            .and_then(|c| serde_json::to_string(c).ok())
            .unwrap_or_default(),
        log_json: serde_json::to_string(&shown.log).unwrap_or_default(),
        log: shown.log,
        status: status_text,
        listening: shown.listening,
        in_call,
        keys: keypad(),
    };
    page.log.reverse();
    let mut response = html(page)?;
    *response.status_mut() = status;
    Ok(response)
}

/// `GET /voice/simulator`: an example IVR to edit and try.
pub async fn page(State(state): State<AppState>, user: WebUser) -> UiResult<Response> {
    let shown = Shown::new("IVR simulator".into(), "ivr", &example());
    render(&state, &user, shown, StatusCode::OK).await
}

/// The call definition of a workflow's voice step: (`ivr`|`voice`, JSON).
fn call_of_node(kind: &NodeKind) -> Option<(&'static str, Value)> {
    match kind {
        NodeKind::Send(send) => match &send.action {
            SendAction::Ivr(m) => Some(("ivr", m.ivr.clone())),
            SendAction::Voice(m) => Some(("voice", m.voice.clone())),
            _ => None,
        },
        _ => None,
    }
}

/// `GET /workflows/{id}/nodes/{node}/simulate`: a voice step of the
/// workflow as its page shows it (the published version, else the draft)
/// in the simulator.
pub async fn node_page(
    State(state): State<AppState>,
    user: WebUser,
    Path((id, node)): Path<(String, String)>,
) -> UiResult<Response> {
    let w = pages::workflow(&state, user.workspace_id(), &id).await?;
    let (_, def) = pages::shown_definition(&state, &w).await?;
    let Some((kind, definition)) = def.nodes.get(node.as_str()).and_then(|n| call_of_node(&n.kind)) else {
        return Err(recado_app::AppError::not_found("voice step").into());
    };
    let mut shown = Shown::new(format!("Try {node} of {}", w.name), kind, &definition);
    shown.back = Some((format!("/workflows/{}", w.id), w.name.clone()));
    render(&state, &user, shown, StatusCode::OK).await
}

/// `POST /voice/simulator/try`: the editor's step `try` as edited (saved or
/// not) in the simulator.
pub async fn try_step(
    State(state): State<AppState>,
    posted: Posted<super::narration::AnyFields>,
) -> UiResult<Response> {
    let index: usize = posted
        .fields
        .iter()
        .find(|(k, _)| k == "try")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let form = EditorForm::from_fields(&posted.fields);
    let Some(step) = form.steps.get(index) else {
        return Err(recado_app::AppError::not_found("step").into());
    };
    let (kind, definition) = step.voice_definition();
    let mut shown = Shown::new(format!("Try step {}", step.id), kind, &definition);
    if let Some(back) = posted.fields.iter().find(|(k, _)| k == "back").map(|(_, v)| v.clone()) {
        if back.starts_with("/workflows/") && !back.contains("//") {
            shown.back = Some((back.clone(), "the editor".into()));
        }
    }
    render(&state, &posted.user, shown, StatusCode::OK).await
}

/// `POST /voice/simulator`: one press on the simulated phone.
pub async fn press(State(state): State<AppState>, posted: Posted<super::narration::AnyFields>) -> UiResult<Response> {
    let field = |k: &str| {
        posted
            .fields
            .iter()
            .find(|(f, _)| f == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let kind = if field("kind") == "voice" { "voice" } else { "ivr" };
    let definition_text = field("definition");
    let mut log: Vec<LogLine> = serde_json::from_str(&field("log")).unwrap_or_default();
    let previous: Option<Call> = serde_json::from_str(&field("call")).ok();
    let mut shown = Shown {
        title: field("title").trim().to_string(),
        back: None,
        kind: kind.to_string(),
        definition: definition_text.clone(),
        definition_error: None,
        contact_id: field("contact_id").trim().to_string(),
        contact_error: None,
        call: previous.clone(),
        log: Vec::new(),
        listening: false,
    };
    if shown.title.is_empty() {
        shown.title = "IVR simulator".into();
    }
    let back = field("back");
    if back.starts_with("/workflows/") && !back.contains("//") {
        shown.back = Some((back, field("back_label")));
    }
    let ws_id = posted.user.workspace_id().to_string();
    let press = Press::parse(&field("press")).unwrap_or(Press::Answer);
    let value: Value = match serde_json::from_str(&definition_text) {
        Ok(v) => v,
        Err(e) => {
            shown.definition_error = Some(format!("the definition is not JSON: {e}"));
            shown.log = log;
            return render(&state, &posted.user, shown, StatusCode::UNPROCESSABLE_ENTITY).await;
        }
    };
    let content = match kind {
        "voice" => simulator::content_of(None, Some(&value)),
        _ => simulator::content_of(Some(&value), None),
    };
    let content = match content {
        Ok(c) => c,
        Err(e) => {
            let field = e.field.clone().unwrap_or_default();
            shown.definition_error = Some(format!("{field}: {}", e.message));
            shown.log = log;
            return render(&state, &posted.user, shown, StatusCode::UNPROCESSABLE_ENTITY).await;
        }
    };
    let (properties, to) = if shown.contact_id.is_empty() {
        (Default::default(), None)
    } else {
        let ws = state.store.workspace(&ws_id).await?;
        match state.store.contact(&ws_id, &shown.contact_id).await {
            Ok(contact) => {
                let to = number_of(&ws, &contact, &Default::default());
                (contact.properties, to)
            }
            Err(recado_store::StoreError::NotFound) => {
                shown.contact_error = Some("no contact with this id in the workspace".into());
                shown.log = log;
                return render(&state, &posted.user, shown, StatusCode::UNPROCESSABLE_ENTITY).await;
            }
            Err(e) => return Err(e.into()),
        }
    };
    let result = simulator::step(&state, &content, &properties, to.as_deref(), previous, press).await;
    let Simulated {
        call,
        entries,
        listening,
        ..
    } = match result {
        Ok(s) => s,
        Err(e) if !e.is_internal() => {
            log.push(LogLine {
                kind: "note".into(),
                title: "Not in a call".into(),
                text: e.message.clone(),
                audio_url: String::new(),
                fresh: true,
            });
            shown.log = log;
            shown.listening = false;
            return render(&state, &posted.user, shown, StatusCode::OK).await;
        }
        Err(e) => return Err(e.into()),
    };
    if press == Press::Answer {
        log.push(LogLine {
            kind: "note".into(),
            title: "Answer".into(),
            text: "The phone rings and the contact answers.".into(),
            audio_url: String::new(),
            fresh: true,
        });
    } else if let Press::Key(key) = press {
        log.push(pressed(key));
    } else if press == Press::Silence {
        log.push(LogLine {
            kind: "note".into(),
            title: "Silence".into(),
            text: "The contact says nothing until the no-input timeout.".into(),
            audio_url: String::new(),
            fresh: true,
        });
    }
    log.extend(entries.iter().map(|e| line_of(&state, e)));
    if log.len() > LOG_KEPT {
        log.drain(..log.len() - LOG_KEPT);
    }
    shown.log = log;
    shown.call = Some(call);
    shown.listening = listening;
    render(&state, &posted.user, shown, StatusCode::OK).await
}

fn pressed(key: Key) -> LogLine {
    LogLine {
        kind: "note".into(),
        title: format!("Key {key}"),
        text: format!("The contact presses {key}."),
        audio_url: String::new(),
        fresh: true,
    }
}
