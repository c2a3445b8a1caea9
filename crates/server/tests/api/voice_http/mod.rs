//! Calls over an HTTP voice provider of the TwiML dialect (`voice_http`),
//! end to end against the stand-in provider of `recado-channels`
//! (`TwimlRunner`): it answers the Calls API on loopback, then plays each
//! call against the hub as the provider would — signed status callbacks,
//! the call's document, `<Gather>` actions with the digits its script
//! presses, `<Redirect>`s and `<Dial>` actions.
//!
//! - [`messages`]: voice messages — delivered, unanswered, refused, never
//!   handed over; the Calls API request, signatures, documents, calls per
//!   second, and a call settled from the provider's record.
//! - [`ivr`]: IVR calls sent by workflows — keys, a wrong key, transfer,
//!   silence, a key posted twice, opt-out and retries.

mod ivr;
mod messages;

use crate::common::process::free_port;
use crate::common::{spawn_app_with, TestApp};
use crate::workflows::{active_workflow, enrol};
use recado_channels::voice::twiml::testkit::{RunnerCall, TwimlRunner};
use recado_channels::voice::twiml::{Response, Verb};
use serde_json::{json, Value};
use std::time::Duration;

const CALLER_ID: &str = "+34910000000";
const PHONE: &str = "+5511900000042";
const WAIT: Duration = Duration::from_secs(20);
const AGENT: &str = "+34911222333";

/// The hub (reachable at its public URL, as the provider needs, unless a
/// test says otherwise), the stand-in provider, and a `voice_http` channel
/// on it.
struct Rig {
    app: TestApp,
    runner: TwimlRunner,
    channel: String,
}

async fn rig() -> Rig {
    rig_with(None, 50).await
}

/// The rig with its hub telling the provider it is reached at `public_url`
/// (its own address when `None`) and its channel placing at most `max_cps`
/// calls a second.
async fn rig_with(public_url: Option<String>, max_cps: u32) -> Rig {
    let port = free_port();
    let public_url = public_url.unwrap_or_else(|| format!("http://127.0.0.1:{port}"));
    let app = spawn_app_with(|s| {
        s.listen = format!("127.0.0.1:{port}").parse().unwrap();
        s.public_url = public_url;
    })
    .await;
    let runner = TwimlRunner::start().await;
    let channel = app
        .channel(
            "voice_http",
            "Calls",
            json!({"base_url": runner.base_url(), "account_sid": runner.account_sid(),
                   "auth_token": runner.auth_token(), "caller_ids": [CALLER_ID], "max_cps": max_cps}),
        )
        .await;
    Rig { app, runner, channel }
}

impl Rig {
    /// A contact subscribed to voice at `phone`.
    async fn contact(&self, phone: &str) -> String {
        let contact = self
            .app
            .contact(json!({"firstname": "Ana", "mobilephone": phone}))
            .await;
        self.app.subscribe(&contact, "voice").await;
        contact
    }

    /// A voice message to `contact` through the API; its message id.
    async fn voice_message(&self, contact: &str) -> String {
        let r = self
            .app
            .post(
                "/api/v1/messages",
                json!({"channel": "voice", "contact_id": contact,
                       "voice": {"narration": narration("Olá {{contact.firstname}}, a sua encomenda chegou.")}}),
            )
            .await;
        assert_eq!(r.status, 202, "{}", r.body);
        r.body["id"].as_str().unwrap().to_string()
    }

    /// Dials what is queued and plays the one new call to its end; then
    /// runs what the call left to do.
    async fn play_call(&self) -> RunnerCall {
        let before = self.runner.calls().len();
        self.app.run_jobs().await;
        let calls = self.runner.calls();
        assert_eq!(calls.len(), before + 1, "one call placed: {calls:#?}");
        let call = self.runner.finished(&calls[before].sid, WAIT).await;
        self.app.run_jobs().await;
        assert!(call.errors().is_empty(), "{:#?}", call.errors());
        call
    }

    fn url(&self, leg: &str, message: &str, query: &str) -> String {
        format!(
            "{}/webhooks/voice/{}/{leg}/{message}?{query}",
            self.app.app_state.settings.public_url, self.channel
        )
    }

    async fn message(&self, id: &str) -> Value {
        self.app.get(&format!("/api/v1/messages/{id}")).await.body
    }
}

fn narration(text: &str) -> Value {
    json!({"kind": "tts", "language": "pt-BR", "text": text})
}

/// The contact's timeline entries, oldest first.
async fn timeline(app: &TestApp, contact: &str) -> Vec<Value> {
    let r = app.get(&format!("/api/v1/contacts/{contact}/timeline")).await;
    let mut items = r.body["items"].as_array().unwrap().clone();
    items.reverse();
    items
}

fn kinds(items: &[Value], prefix: &str) -> Vec<String> {
    items
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_string())
        .filter(|k| k.starts_with(prefix))
        .collect()
}

/// A menu: key 1 transfers to an agent, key 2 sends a code by SMS.
fn menu() -> Value {
    json!({
        "narration": narration("Para falar com um agente, tecle 1. Para receber o código por SMS, tecle 2."),
        "keys": {
            "1": {"action": "transfer", "to": AGENT, "narration": narration("Vamos transferir a sua chamada.")},
            "2": {"action": "send_sms", "text": "O seu codigo: 1234", "narration": narration("Enviámos-lhe um SMS.")}
        },
        "wrong_key": {"narration": narration("Opção inválida.")},
        "no_input": {"timeout_s": 5, "narration": narration("Ainda está aí?")}
    })
}

impl Rig {
    /// The rig with the SMS channel a menu's SMS key needs.
    async fn with_sms(self) -> Rig {
        self.app
            .channel("sms_sandbox", "SMS", json!({"senders": ["Recado"]}))
            .await;
        self
    }

    /// An IVR call of `definition` to `contact`, sent by a workflow's
    /// `send_ivr` (not dialled yet).
    async fn ivr_call(&self, contact: &str, definition: Value) {
        let workflow = active_workflow(
            &self.app,
            json!({
                "triggers": [{"type": "manual"}],
                "start": "call",
                "nodes": {
                    "call": {"type": "send_ivr", "ivr": definition, "next": "end"},
                    "end": {"type": "end"}
                }
            }),
        )
        .await;
        enrol(&self.app, &workflow, &[contact]).await;
    }

    /// Where the provider fetches the rendering of a pt-BR narration.
    fn media_url(&self, text: &str) -> String {
        use recado_channels::voice::speech::{cache_key, TELEPHONE_RATE};
        format!(
            "{}/voice/media/{}.wav",
            self.app.app_state.settings.public_url,
            cache_key("pt-br", TELEPHONE_RATE, text)
        )
    }
}

/// The hub's message id of a call, from the URL the hub gave the provider.
fn message_of(call: &RunnerCall) -> String {
    let path = call.url.split('?').next().unwrap();
    path.rsplit('/').next().unwrap().to_string()
}

fn gather_of(document: &str) -> recado_channels::voice::twiml::Gather {
    let parsed = Response::parse(document).expect("valid TwiML");
    match parsed.verbs.as_slice() {
        [Verb::Gather(gather)] => gather.clone(),
        other => panic!("not a menu: {other:?}"),
    }
}
