//! The TwiML runner (the stand-in provider of `voice::twiml::testkit`) playing calls against a
//! tiny hub written here: the hub places the call with the real client, checks every signature,
//! feeds status callbacks, keys and silences to the call's state machine
//! (`recado_core::voice::call`) and answers each request with the document of the menu's
//! reaction — the same loop the server runs.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use recado_channels::voice::twiml::contract::assert_valid_create_call;
use recado_channels::voice::twiml::testkit::{
    status_callback_form, HungUpBy, RunnerCall, Script, Step, TwimlRunner, MAX_DOCUMENTS,
};
use recado_channels::voice::twiml::{
    create_call_form, parse_dial_action, parse_gather, parse_status_callback, parse_voice_request, verify_signature,
    CallError, CallRequest, CallStatus, CallsClient, Dial, Gather, Method, Response, TwimlConfig, CONTENT_TYPE,
    SIGNATURE_HEADER,
};
use recado_core::voice::call::{
    self, AnsweredBy, Call, Command, Failure, Input, NotSentReason, ProviderEvent, Settings, Unreached, VoiceEvent,
};
use recado_core::voice::ivr::{KeyAction, Menu, MenuStatus, Reaction, Then};
use recado_core::voice::Key;
use wiremock::matchers::{any, method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const CONTACT: &str = "+5511900000001";
const CALLER_ID: &str = "+15550001111";
const AGENT: &str = "+34911222333";
const WAIT: Duration = Duration::from_secs(20);

fn key(c: char) -> Key {
    Key::new(c).unwrap()
}

/// 1 transfers, 2 plays and hangs up, 3 plays and goes back to the menu.
fn menu() -> Menu {
    Menu::new([
        (key('1'), KeyAction::Transfer),
        (key('2'), KeyAction::Play { then: Then::Hangup }),
        (key('3'), KeyAction::Play { then: Then::Menu }),
    ])
}

/// The hub's side of one call (`vc_01`, attempt 1).
struct Hub {
    base: String,
    token: String,
    settings: Settings,
    state: Mutex<HubState>,
}

#[derive(Default)]
struct HubState {
    call: Call,
    timeline: Vec<VoiceEvent>,
    clock: i64,
    forged: u32,
}

impl Hub {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn input(&self, input: Input) -> Vec<Command> {
        let mut state = self.state.lock().unwrap();
        self.apply(&mut state, input)
    }

    fn apply(&self, state: &mut HubState, input: Input) -> Vec<Command> {
        state.clock += 1_000;
        let (next, out) = call::apply(&self.settings, &state.call, input, state.clock);
        state.call = next;
        state.timeline.extend(out.events);
        out.commands
    }

    fn provider(&self, state: &mut HubState, event: ProviderEvent) -> Vec<Command> {
        self.apply(state, Input::Provider { attempt: 1, event })
    }

    fn timeline(&self) -> Vec<VoiceEvent> {
        self.state.lock().unwrap().timeline.clone()
    }

    fn kinds(&self) -> Vec<&'static str> {
        self.timeline().iter().map(VoiceEvent::kind).collect()
    }

    fn is_ended(&self) -> bool {
        self.state.lock().unwrap().call.is_ended()
    }

    fn forged(&self) -> u32 {
        self.state.lock().unwrap().forged
    }

    /// The menu as it stands: listening → the `<Gather>` of the current play; else goodbye.
    fn menu_document(&self, state: &HubState) -> Response {
        match state.call.menu {
            Some(menu) if menu.status == MenuStatus::Listening => Response::new().gather(
                Gather::one_key(self.url(&format!("/voice/key/vc_01?play={}", menu.plays)), 5)
                    .play(self.url("/media/menu.wav")),
            ),
            _ => Response::new().hangup(),
        }
    }

    /// The document that carries out `reaction`.
    fn react(&self, state: &mut HubState, commands: Vec<Command>) -> Response {
        let reaction = commands.into_iter().find_map(|c| match c {
            Command::Ivr(reaction) => Some(reaction),
            _ => None,
        });
        let again = |narration: &str, again: bool| {
            let document = Response::new().play(self.url(narration));
            if again {
                document.redirect(self.url("/voice/twiml/vc_01"))
            } else {
                document.hangup()
            }
        };
        match reaction {
            Some(Reaction::Run {
                key,
                action: KeyAction::Transfer,
            }) => Response::new().play(self.url(&format!("/media/key{key}.wav"))).dial(
                Dial::new(AGENT)
                    .caller_id(CALLER_ID)
                    .action(self.url("/voice/dial/vc_01"))
                    .timeout(20),
            ),
            Some(Reaction::Run { key, .. }) => {
                // The key's narration plays in this document: the action is done once it has.
                let mut document = Response::new().play(self.url(&format!("/media/key{key}.wav")));
                let after = self.apply(state, Input::ActionDone);
                document.verbs.extend(self.react(state, after).verbs);
                document
            }
            Some(Reaction::WrongKey { again: more }) => again("/media/wrong.wav", more),
            Some(Reaction::NoInput { again: more }) => again("/media/noinput.wav", more),
            Some(Reaction::Goodbye) => Response::new().hangup(),
            Some(Reaction::PlayMenu { .. } | Reaction::Ignored) | None => self.menu_document(state),
        }
    }
}

struct HubResponder(Arc<Hub>);

fn twiml(document: Response) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(document.to_xml(), CONTENT_TYPE)
}

impl Respond for HubResponder {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let hub = &self.0;
        let path = request.url.path();
        if path.starts_with("/media/") {
            return ResponseTemplate::new(200).set_body_raw(b"RIFF....WAVE".to_vec(), "audio/wav");
        }
        // The URL the provider signed is the public one, rebuilt from the hub's base.
        let public = match request.url.query() {
            Some(query) => hub.url(&format!("{path}?{query}")),
            None => hub.url(path),
        };
        let form: Vec<(String, String)> = form_urlencoded::parse(&request.body).into_owned().collect();
        let header = request.headers.get(SIGNATURE_HEADER).and_then(|v| v.to_str().ok());
        let mut state = hub.state.lock().unwrap();
        if !verify_signature(&hub.token, &public, &form, header) {
            state.forged += 1;
            return ResponseTemplate::new(401);
        }
        let play: u32 = request
            .url
            .query_pairs()
            .find(|(k, _)| k == "play")
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(0);
        match path {
            "/voice/status/vc_01" => {
                let Ok(report) = parse_status_callback(&form) else {
                    return ResponseTemplate::new(400);
                };
                for event in report.events() {
                    hub.provider(&mut state, event);
                }
                ResponseTemplate::new(204)
            }
            "/voice/twiml/vc_01" => {
                let request = parse_voice_request(&form).expect("a document request");
                hub.provider(&mut state, request.event());
                twiml(hub.menu_document(&state))
            }
            "/voice/key/vc_01" => {
                let gathered = parse_gather(&form).expect("a gather action");
                let commands = match gathered.event(play) {
                    Some(event) => hub.provider(&mut state, event),
                    None => hub.apply(&mut state, Input::NoInput { play }),
                };
                twiml(hub.react(&mut state, commands))
            }
            "/voice/dial/vc_01" => {
                parse_dial_action(&form).expect("a dial action");
                let commands = hub.apply(&mut state, Input::ActionDone);
                twiml(hub.react(&mut state, commands))
            }
            _ => ResponseTemplate::new(404),
        }
    }
}

/// A runner, a hub on a local server, and the outcome of one call placed through them.
struct Rig {
    runner: TwimlRunner,
    server: MockServer,
    hub: Arc<Hub>,
    created: Result<String, CallError>,
}

impl Rig {
    async fn start(script: Script) -> Rig {
        Rig::start_with(script, false).await
    }

    async fn start_with(script: Script, machine_detection: bool) -> Rig {
        let runner = TwimlRunner::start().await;
        runner.script(CONTACT, script);
        let server = MockServer::start().await;
        let hub = Arc::new(Hub {
            base: server.uri(),
            token: runner.auth_token().to_string(),
            settings: Settings {
                menu: Some(menu()),
                ..Settings::default()
            },
            state: Mutex::default(),
        });
        Mock::given(any())
            .respond_with(HubResponder(hub.clone()))
            .mount(&server)
            .await;
        let commands = hub.input(Input::Dial);
        assert_eq!(commands.first(), Some(&Command::Dial { attempt: 1 }));
        let client = CallsClient::new(runner.config(), reqwest::Client::new());
        let created = match client.create_call(&request(&hub, machine_detection)).await {
            Ok(sid) => {
                hub.input(Input::Provider {
                    attempt: 1,
                    event: ProviderEvent::Accepted,
                });
                Ok(sid.0)
            }
            Err(e) => {
                if let Some(event) = e.provider_event() {
                    hub.input(Input::Provider { attempt: 1, event });
                }
                Err(e)
            }
        };
        Rig {
            runner,
            server,
            hub,
            created,
        }
    }

    async fn finished(&self) -> RunnerCall {
        let sid = self.created.as_ref().expect("the call was placed");
        self.runner.finished(sid, WAIT).await
    }
}

fn request(hub: &Hub, machine_detection: bool) -> CallRequest {
    CallRequest {
        to: CONTACT.into(),
        from: CALLER_ID.into(),
        url: hub.url("/voice/twiml/vc_01"),
        status_callback: hub.url("/voice/status/vc_01"),
        timeout_s: 30,
        machine_detection,
        time_limit_s: Some(600),
    }
}

fn all_answered(call: &RunnerCall, status: u16) -> bool {
    call.callbacks().iter().all(|(_, s)| *s == Some(status))
}

#[tokio::test]
async fn the_runner_drives_a_hub_through_the_menu_a_key_and_the_hang_up() {
    let rig = Rig::start(Script::answer_and_press(["2"])).await;
    let call = rig.finished().await;
    let hub = |p: &str| rig.hub.url(p);
    assert_eq!(call.errors(), Vec::<String>::new());
    assert_eq!(call.plays(), [hub("/media/menu.wav"), hub("/media/key2.wav")]);
    assert_eq!(call.digits_sent(), ["2"]);
    assert_eq!(call.hung_up_by(), Some(HungUpBy::Document));
    assert_eq!(
        call.callback_statuses(),
        ["initiated", "ringing", "in-progress", "completed"]
    );
    assert!(all_answered(&call, 204), "{:?}", call.callbacks());
    let documents: Vec<Response> = call.documents().iter().map(|d| Response::parse(d).unwrap()).collect();
    assert_eq!(documents[1], Response::new().play(hub("/media/key2.wav")).hangup());
    assert_eq!(rig.hub.kinds(), ["VOICE_SENT", "VOICE_DELIVERED", "VOICE_KEY_PRESSED"]);
    assert!(rig.hub.timeline().contains(&VoiceEvent::KeyPressed { key: key('2') }));
    assert!(rig.hub.is_ended());
    assert_eq!(rig.hub.forged(), 0);
}

#[tokio::test]
async fn every_request_the_runner_makes_carries_a_valid_signature() {
    let rig = Rig::start(Script::answer_and_press(["3", "2"])).await;
    rig.finished().await;
    let received = rig.server.received_requests().await.unwrap();
    assert!(received.len() >= 7, "{}", received.len());
    for request in received {
        let public = match request.url.query() {
            Some(q) => rig.hub.url(&format!("{}?{q}", request.url.path())),
            None => rig.hub.url(request.url.path()),
        };
        let form: Vec<(String, String)> = form_urlencoded::parse(&request.body).into_owned().collect();
        let header = request.headers.get(SIGNATURE_HEADER).and_then(|v| v.to_str().ok());
        assert!(
            verify_signature(rig.runner.auth_token(), &public, &form, header),
            "{public} {form:?}"
        );
    }
}

#[tokio::test]
async fn the_runner_receives_the_create_form_the_client_builds() {
    let rig = Rig::start_with(Script::answer_and_hang_up(), true).await;
    let call = rig.finished().await;
    assert_eq!(call.form, create_call_form(&request(&rig.hub, true)));
    assert_valid_create_call(&call.form);
    assert!(call.sid.starts_with("CA") && call.sid.len() == 34, "{}", call.sid);
    assert!(call.sid[2..].bytes().all(|b| b.is_ascii_hexdigit()));
}

#[tokio::test]
async fn a_busy_number_ends_not_delivered_as_busy() {
    let rig = Rig::start(Script::busy()).await;
    let call = rig.finished().await;
    assert_eq!(call.callback_statuses(), ["initiated", "ringing", "busy"]);
    assert!(call.documents().is_empty());
    assert_eq!(rig.hub.kinds(), ["VOICE_SENT", "VOICE_NOT_DELIVERED"]);
    assert!(matches!(
        rig.hub.timeline()[1],
        VoiceEvent::NotDelivered {
            why: Unreached::Busy,
            attempts: 1
        }
    ));
}

#[tokio::test]
async fn a_number_that_rings_out_ends_not_delivered_as_no_answer() {
    let rig = Rig::start(Script::no_answer()).await;
    let call = rig.finished().await;
    assert_eq!(call.callback_statuses(), ["initiated", "ringing", "no-answer"]);
    assert!(matches!(
        rig.hub.timeline()[1],
        VoiceEvent::NotDelivered {
            why: Unreached::NoAnswer,
            ..
        }
    ));
}

#[tokio::test]
async fn a_failed_call_carries_its_sip_code_to_the_reason() {
    let rig = Rig::start(Script::failed()).await;
    let call = rig.finished().await;
    assert_eq!(call.callback_statuses(), ["initiated", "failed"]);
    let Some(Step::Callback { params, .. }) = call.steps.iter().rfind(|s| matches!(s, Step::Callback { .. })) else {
        panic!("no callback");
    };
    assert!(params.contains(&("SipResponseCode".into(), "404".into())));
    assert!(matches!(
        rig.hub.timeline()[1],
        VoiceEvent::NotDelivered {
            why: Unreached::Failed(Failure::InvalidNumber),
            ..
        }
    ));
}

#[tokio::test]
async fn a_silent_callee_hears_the_menu_until_its_last_play() {
    let rig = Rig::start(Script::answer_silent()).await;
    let call = rig.finished().await;
    let hub = |p: &str| rig.hub.url(p);
    assert_eq!(call.digits_sent(), ["", "", ""]);
    assert_eq!(
        call.plays(),
        [
            hub("/media/menu.wav"),
            hub("/media/noinput.wav"),
            hub("/media/menu.wav"),
            hub("/media/noinput.wav"),
            hub("/media/menu.wav"),
            hub("/media/noinput.wav"),
        ]
    );
    assert_eq!(call.hung_up_by(), Some(HungUpBy::Document));
    assert_eq!(rig.hub.kinds(), ["VOICE_SENT", "VOICE_DELIVERED"]);
    assert!(rig.hub.is_ended());
}

#[tokio::test]
async fn a_wrong_key_plays_the_menu_again() {
    let rig = Rig::start(Script::answer_and_press(["#", "2"])).await;
    let call = rig.finished().await;
    let hub = |p: &str| rig.hub.url(p);
    assert_eq!(call.digits_sent(), ["#", "2"]);
    assert_eq!(
        call.plays(),
        [
            hub("/media/menu.wav"),
            hub("/media/wrong.wav"),
            hub("/media/menu.wav"),
            hub("/media/key2.wav"),
        ]
    );
    assert_eq!(rig.hub.kinds(), ["VOICE_SENT", "VOICE_DELIVERED", "VOICE_KEY_PRESSED"]);
}

#[tokio::test]
async fn a_transfer_dials_the_agent_and_posts_the_dial_action() {
    let rig = Rig::start(Script::answer_and_press(["1"])).await;
    let call = rig.finished().await;
    let dials = call.dials();
    assert_eq!(dials.len(), 1);
    let (dial, status) = &dials[0];
    assert_eq!(dial.number, AGENT);
    assert_eq!(dial.caller_id.as_deref(), Some(CALLER_ID));
    assert_eq!(dial.timeout_s, Some(20));
    assert_eq!(dial.method, Some(Method::Post));
    assert_eq!(status, "completed");
    let (url, params) = call.requests().pop().unwrap();
    assert_eq!(url, rig.hub.url("/voice/dial/vc_01"));
    assert!(params.contains(&("DialCallStatus".into(), "completed".into())));
    assert_eq!(call.hung_up_by(), Some(HungUpBy::Document));
    assert!(rig.hub.is_ended());
}

#[tokio::test]
async fn a_callee_who_hangs_up_during_the_menu_ends_the_call() {
    let rig = Rig::start(Script::answer_and_hang_up()).await;
    let call = rig.finished().await;
    assert_eq!(call.plays(), [rig.hub.url("/media/menu.wav")]);
    assert!(call.digits_sent().is_empty());
    assert_eq!(call.hung_up_by(), Some(HungUpBy::Callee));
    assert_eq!(call.callback_statuses().last().map(String::as_str), Some("completed"));
    assert_eq!(rig.hub.kinds(), ["VOICE_SENT", "VOICE_DELIVERED"]);
    assert!(rig.hub.is_ended());
}

#[tokio::test]
async fn machine_detection_tells_the_hub_who_answered() {
    let rig = Rig::start_with(Script::answer_and_hang_up().answered_by("machine_end_beep"), true).await;
    let call = rig.finished().await;
    assert_eq!(call.answered_by.as_deref(), Some("machine_end_beep"));
    let (_, params) = &call.requests()[0];
    assert!(params.contains(&("AnsweredBy".into(), "machine_end_beep".into())));
    assert!(rig.hub.timeline().contains(&VoiceEvent::Delivered {
        answered_by: AnsweredBy::Machine
    }));
}

#[tokio::test]
async fn a_forged_callback_is_refused_by_the_hub() {
    let rig = Rig::start(Script::busy()).await;
    let call = rig.finished().await;
    let url = rig.hub.url("/voice/status/vc_01");
    let form = status_callback_form(&call.sid, "completed", &[("CallDuration", "5")]);
    assert_eq!(rig.runner.post_with_bad_signature(&url, &form).await, Ok(401));
    assert_eq!(rig.hub.forged(), 1);
    assert_eq!(rig.runner.post_signed(&url, &form).await, Ok(204));
}

#[tokio::test]
async fn the_runner_refuses_wrong_credentials() {
    let runner = TwimlRunner::start().await;
    let client = CallsClient::new(
        TwimlConfig {
            auth_token: "wrong".into(),
            ..runner.config()
        },
        reqwest::Client::new(),
    );
    let hub = Hub {
        base: "https://hub.example.com".into(),
        token: String::new(),
        settings: Settings::default(),
        state: Mutex::default(),
    };
    let e = client.create_call(&request(&hub, false)).await.unwrap_err();
    assert_eq!(e.refusal(), Some("auth_failed"));
    assert!(runner.calls().is_empty());
}

#[tokio::test]
async fn a_refused_call_is_voice_not_sent() {
    let rig = Rig::start(Script::refuse(400, 21211, "Invalid 'To' Phone Number")).await;
    let Err(e) = &rig.created else {
        panic!("the call was placed");
    };
    assert_eq!(e.refusal(), Some("invalid_recipient"));
    assert_eq!(
        rig.hub.timeline(),
        [VoiceEvent::NotSent {
            reason: NotSentReason::ProviderRefused
        }]
    );
    assert!(rig.runner.calls().is_empty());
}

#[tokio::test]
async fn a_finished_call_reads_back_with_its_status_and_duration() {
    let rig = Rig::start(Script::answer_and_press(["2"])).await;
    let call = rig.finished().await;
    let client = CallsClient::new(rig.runner.config(), reqwest::Client::new());
    let info = client
        .fetch_call(&recado_channels::voice::twiml::CallSid(call.sid.clone()))
        .await
        .unwrap();
    assert_eq!(info.status, CallStatus::Completed);
    assert!(info.duration_s.is_some_and(|d| d >= 1));
    assert_eq!(
        info.events(),
        [
            ProviderEvent::Answered {
                answered_by: AnsweredBy::Unknown
            },
            ProviderEvent::HungUp
        ]
    );
}

#[tokio::test]
async fn the_runner_fetches_the_audio_it_plays_when_asked() {
    let runner = TwimlRunner::start().await;
    runner.fetch_media(true);
    runner.default_script(Script::answer_and_hang_up());
    let hub = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/twiml"))
        .respond_with(twiml(Response::new().play(format!("{}/a.wav", hub.uri()))))
        .mount(&hub)
        .await;
    Mock::given(method("GET"))
        .and(path("/a.wav"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(b"RIFF".to_vec(), "audio/wav"))
        .mount(&hub)
        .await;
    let sid = place(&runner, &hub.uri()).await;
    let call = runner.finished(&sid, WAIT).await;
    assert!(call.steps.iter().any(|s| matches!(
        s,
        Step::Play {
            media_status: Some(200),
            ..
        }
    )));
}

#[tokio::test]
async fn relative_urls_are_resolved_against_the_document() {
    let runner = TwimlRunner::start().await;
    let hub = MockServer::start().await;
    Mock::given(path("/twiml"))
        .respond_with(twiml(Response::new().redirect("next?step=2")))
        .mount(&hub)
        .await;
    Mock::given(path("/next"))
        .respond_with(twiml(Response::new().play("/media/a.wav")))
        .mount(&hub)
        .await;
    let sid = place(&runner, &hub.uri()).await;
    let call = runner.finished(&sid, WAIT).await;
    assert_eq!(call.plays(), [format!("{}/media/a.wav", hub.uri())]);
    assert!(call.steps.contains(&Step::Redirect {
        url: format!("{}/next?step=2", hub.uri())
    }));
    assert_eq!(call.hung_up_by(), Some(HungUpBy::EndOfDocument));
}

#[tokio::test]
async fn a_hub_that_redirects_for_ever_is_cut_off() {
    let runner = TwimlRunner::start().await;
    let hub = MockServer::start().await;
    Mock::given(any())
        .respond_with(twiml(Response::new().redirect("/twiml")))
        .mount(&hub)
        .await;
    let sid = place(&runner, &hub.uri()).await;
    let call = runner.finished(&sid, WAIT).await;
    assert_eq!(call.requests().len(), MAX_DOCUMENTS);
    assert_eq!(call.errors().len(), 1, "{:?}", call.errors());
    assert_eq!(call.callback_statuses().last().map(String::as_str), Some("completed"));
}

#[tokio::test]
async fn a_document_the_hub_cannot_serve_ends_the_call_with_an_error() {
    let runner = TwimlRunner::start().await;
    let hub = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(500))
        .mount(&hub)
        .await;
    let sid = place(&runner, &hub.uri()).await;
    let call = runner.finished(&sid, WAIT).await;
    assert_eq!(call.errors().len(), 1, "{:?}", call.errors());
    assert!(call.plays().is_empty());
    assert_eq!(call.callback_statuses().last().map(String::as_str), Some("completed"));
}

#[tokio::test]
async fn the_calls_api_refuses_a_call_without_to() {
    let runner = TwimlRunner::start().await;
    let response = reqwest::Client::new()
        .post(format!(
            "{}/2010-04-01/Accounts/{}/Calls.json",
            runner.base_url(),
            runner.account_sid()
        ))
        .basic_auth(runner.account_sid(), Some(runner.auth_token()))
        .form(&[("From", CALLER_ID), ("Url", "https://hub.example.com/t")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["code"], 21201);
}

/// Places a call whose document is `{hub}/twiml` and status callback `{hub}/status`.
async fn place(runner: &TwimlRunner, hub: &str) -> String {
    let client = CallsClient::new(runner.config(), reqwest::Client::new());
    client
        .create_call(&CallRequest {
            to: CONTACT.into(),
            from: CALLER_ID.into(),
            url: format!("{hub}/twiml"),
            status_callback: format!("{hub}/status"),
            timeout_s: 30,
            machine_detection: false,
            time_limit_s: None,
        })
        .await
        .expect("placed")
        .0
}
