//! Playing a call against the hub: its status callbacks, then — once answered — each
//! document it is given, carried out verb by verb (prompts, `<Gather>` with the script's keys,
//! `<Dial>`, `<Redirect>`, `<Hangup/>`), every request signed as the provider signs.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Instant;

use super::call::{HungUpBy, RunnerCall, Step};
use super::forms::{call_params, new_sid};
use super::runner::Inner;
use super::script::{Outcome, Script};
use super::{HUB_TIMEOUT, MAX_DOCUMENTS};
use crate::sms::http::signature::{signature, SIGNATURE_HEADER};
use crate::voice::twiml::document::{Method, Response, Verb};

struct Player {
    inner: Arc<Inner>,
    call: RunnerCall,
    script: Script,
    keys: VecDeque<String>,
    then_hang_up: bool,
    sequence: u32,
    started: Instant,
}

enum Input {
    Digits(String),
    HangUp,
}

/// Plays the call `sid` to its end as its script says, then marks it finished.
pub(super) async fn play(inner: Arc<Inner>, sid: String) {
    let Some((call, script)) = inner.with_call(&sid, |e| (e.call.clone(), e.script.clone())) else {
        return;
    };
    let (keys, then_hang_up) = match &script.outcome {
        Outcome::Answer { keys, then_hang_up } => (keys.clone(), *then_hang_up),
        _ => (VecDeque::new(), false),
    };
    let mut player = Player {
        inner,
        call,
        script,
        keys,
        then_hang_up,
        sequence: 0,
        started: Instant::now(),
    };
    player.run().await;
    player.inner.with_call(&sid, |e| e.call.finished = true);
}

impl Player {
    async fn run(&mut self) {
        self.status("initiated", "initiated", Vec::new()).await;
        match self.script.outcome.clone() {
            Outcome::Refuse { .. } => {}
            Outcome::Busy => {
                self.status("ringing", "ringing", Vec::new()).await;
                self.end("busy", 486, 0).await;
            }
            Outcome::NoAnswer => {
                self.status("ringing", "ringing", Vec::new()).await;
                self.end("no-answer", 487, 0).await;
            }
            Outcome::Failed { sip } => self.end("failed", sip, 0).await,
            Outcome::Answer { .. } => {
                self.status("ringing", "ringing", Vec::new()).await;
                let answered_by = self.answered_by();
                self.inner
                    .with_call(&self.call.sid, |e| e.call.answered_by = answered_by);
                let extra = self.answered_by_param();
                self.status("in-progress", "answered", extra).await;
                self.documents().await;
                let duration = self.started.elapsed().as_secs_f64().ceil().max(1.0) as u32;
                self.end("completed", 200, duration).await;
            }
        }
    }

    fn answered_by(&self) -> Option<String> {
        self.call
            .machine_detection
            .then(|| self.script.answered_by.clone().unwrap_or_else(|| "human".into()))
    }

    fn answered_by_param(&self) -> Vec<(String, String)> {
        self.answered_by()
            .map(|a| vec![("AnsweredBy".to_string(), a)])
            .unwrap_or_default()
    }

    fn step(&self, step: Step) {
        self.inner.step(&self.call.sid, step);
    }

    fn hang_up_requested(&self) -> bool {
        self.inner.with_call(&self.call.sid, |e| e.hang_up).unwrap_or(true)
    }

    fn params(&self, status: &str) -> Vec<(String, String)> {
        call_params(
            &self.inner.account_sid,
            &self.call.sid,
            &self.call.from,
            &self.call.to,
            status,
        )
    }

    /// The call is now `status`; the callback is posted when `event` was asked for.
    async fn status(&mut self, status: &str, event: &str, extra: Vec<(String, String)>) {
        self.inner
            .with_call(&self.call.sid, |e| e.call.status = status.to_string());
        let Some(url) = self.call.status_callback.clone() else {
            return;
        };
        if !self.call.status_callback_events.iter().any(|e| e == event) {
            return;
        }
        let mut params = self.params(status);
        params.push(("CallbackSource".into(), "call-progress-events".into()));
        params.push(("SequenceNumber".into(), self.sequence.to_string()));
        params.push(("Timestamp".into(), chrono::Utc::now().to_rfc2822()));
        params.extend(extra);
        self.sequence += 1;
        let http_status = match self.request(&url, Method::Post, &params).await {
            Ok((status, _)) => Some(status),
            Err(e) => {
                self.step(Step::Error(format!("status callback to {url}: {e}")));
                None
            }
        };
        self.step(Step::Callback {
            status: status.to_string(),
            url,
            params,
            http_status,
        });
    }

    /// The final status, as the `completed` event.
    async fn end(&mut self, status: &str, sip: u16, duration_s: u32) {
        self.inner
            .with_call(&self.call.sid, |e| e.call.duration_s = Some(duration_s));
        let mut extra = vec![
            ("CallDuration".to_string(), duration_s.to_string()),
            ("Duration".to_string(), duration_s.div_ceil(60).to_string()),
            ("SipResponseCode".to_string(), sip.to_string()),
        ];
        if status == "completed" {
            extra.extend(self.answered_by_param());
        }
        self.status(status, "completed", extra).await;
    }

    fn next_input(&mut self) -> Input {
        match self.keys.pop_front() {
            Some(key) => Input::Digits(key),
            None if self.then_hang_up => Input::HangUp,
            None => Input::Digits(String::new()),
        }
    }

    /// Requests and carries out documents until the call ends.
    async fn documents(&mut self) {
        let mut next = Some((self.call.url.clone(), request_method(&self.call.form), Vec::new()));
        let mut count = 0;
        'documents: while let Some((url, method, extra)) = next.take() {
            if self.hang_up_requested() {
                self.step(Step::HungUp { by: HungUpBy::Api });
                return;
            }
            count += 1;
            if count > MAX_DOCUMENTS {
                self.step(Step::Error(format!("more than {MAX_DOCUMENTS} documents in one call")));
                return;
            }
            let Some(document) = self.fetch_document(&url, method, extra).await else {
                return;
            };
            for verb in document.verbs {
                if self.hang_up_requested() {
                    self.step(Step::HungUp { by: HungUpBy::Api });
                    return;
                }
                match verb {
                    Verb::Play { .. } | Verb::Say(_) | Verb::Pause { .. } => {
                        self.prompt(&url, verb).await;
                    }
                    Verb::Gather(gather) => {
                        for prompt in gather.prompts {
                            self.prompt(&url, prompt.into()).await;
                        }
                        let digits = match self.next_input() {
                            Input::HangUp => {
                                self.step(Step::HungUp { by: HungUpBy::Callee });
                                return;
                            }
                            Input::Digits(digits) => digits,
                        };
                        self.step(Step::Digits { digits: digits.clone() });
                        if digits.is_empty() && gather.action_on_empty_result != Some(true) {
                            // Silence without an action result: on with the next verb.
                            continue;
                        }
                        let action = gather.action.as_deref().unwrap_or(&url);
                        let Some(action) = self.resolve(&url, action) else {
                            return;
                        };
                        let method = gather.method.unwrap_or(Method::Post);
                        next = Some((action, method, vec![("Digits".to_string(), digits)]));
                        continue 'documents;
                    }
                    Verb::Dial(dial) => {
                        let status = self.script.dial_status.clone();
                        self.step(Step::Dial {
                            dial: dial.clone(),
                            status: status.clone(),
                        });
                        if let Some(action) = &dial.action {
                            let Some(action) = self.resolve(&url, action) else {
                                return;
                            };
                            let connected = matches!(status.as_str(), "completed" | "answered");
                            let extra = vec![
                                ("DialCallStatus".to_string(), status),
                                ("DialCallSid".to_string(), new_sid()),
                                ("DialCallDuration".to_string(), if connected { "1" } else { "0" }.into()),
                            ];
                            next = Some((action, dial.method.unwrap_or(Method::Post), extra));
                            continue 'documents;
                        }
                    }
                    Verb::Redirect(redirect) => {
                        let Some(target) = self.resolve(&url, &redirect.url) else {
                            return;
                        };
                        self.step(Step::Redirect { url: target.clone() });
                        next = Some((target, redirect.method.unwrap_or(Method::Post), Vec::new()));
                        continue 'documents;
                    }
                    Verb::Hangup => {
                        self.step(Step::HungUp { by: HungUpBy::Document });
                        return;
                    }
                }
            }
            self.step(Step::HungUp {
                by: HungUpBy::EndOfDocument,
            });
        }
    }

    async fn fetch_document(&mut self, url: &str, method: Method, extra: Vec<(String, String)>) -> Option<Response> {
        let mut params = self.params("in-progress");
        params.extend(self.answered_by_param());
        params.extend(extra);
        let answer = self.request(url, method, &params).await;
        let (http_status, body) = match &answer {
            Ok((status, body)) => (Some(*status), body.clone()),
            Err(_) => (None, String::new()),
        };
        self.step(Step::Request {
            url: url.to_string(),
            method,
            params,
            http_status,
            body: body.clone(),
        });
        match answer {
            Err(e) => {
                self.step(Step::Error(format!("document request to {url}: {e}")));
                None
            }
            Ok((status, _)) if !(200..300).contains(&status) => {
                self.step(Step::Error(format!("{url} answered HTTP {status}")));
                None
            }
            Ok(_) => match Response::parse(&body) {
                Ok(document) => Some(document),
                Err(e) => {
                    self.step(Step::Error(format!("unreadable document from {url}: {e}")));
                    None
                }
            },
        }
    }

    async fn prompt(&mut self, base: &str, verb: Verb) {
        match verb {
            Verb::Play { url } => {
                let url = self.resolve(base, &url).unwrap_or(url);
                let fetch = self.inner.state().fetch_media;
                let media_status = if fetch {
                    match self.inner.http.get(&url).timeout(HUB_TIMEOUT).send().await {
                        Ok(response) => Some(response.status().as_u16()),
                        Err(e) => {
                            self.step(Step::Error(format!("audio {url}: {e}")));
                            None
                        }
                    }
                } else {
                    None
                };
                self.step(Step::Play { url, media_status });
            }
            Verb::Say(say) => self.step(Step::Say(say)),
            Verb::Pause { length_s } => self.step(Step::Pause { length_s }),
            other => self.step(Step::Error(format!("not a prompt: {other:?}"))),
        }
    }

    /// `target` as an absolute URL, relative ones against `base`.
    fn resolve(&self, base: &str, target: &str) -> Option<String> {
        match reqwest::Url::parse(base).and_then(|b| b.join(target)) {
            Ok(url) => Some(url.to_string()),
            Err(e) => {
                self.step(Step::Error(format!("bad URL `{target}`: {e}")));
                None
            }
        }
    }

    /// A signed request to the hub: POST with the form, or GET with the parameters added to
    /// the query. The status and the body.
    async fn request(&self, url: &str, method: Method, params: &[(String, String)]) -> Result<(u16, String), String> {
        let token = &self.inner.auth_token;
        let request = match method {
            Method::Post => self
                .inner
                .http
                .post(url)
                .header(SIGNATURE_HEADER, signature(token, url, params))
                .form(params),
            Method::Get => {
                let mut full = reqwest::Url::parse(url).map_err(|e| e.to_string())?;
                full.query_pairs_mut().extend_pairs(params);
                let sig = signature(token, full.as_str(), &[]);
                self.inner.http.get(full).header(SIGNATURE_HEADER, sig)
            }
        };
        let response = request
            .header("User-Agent", "TwilioProxy/1.1")
            .timeout(HUB_TIMEOUT)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        let body = response.text().await.map_err(|e| e.to_string())?;
        Ok((status, body))
    }
}

/// The create form's `Method` for the call's `Url` (POST unless GET).
fn request_method(form: &[(String, String)]) -> Method {
    match form.iter().find(|(k, _)| k == "Method").map(|(_, v)| v.as_str()) {
        Some(m) if m.eq_ignore_ascii_case("GET") => Method::Get,
        _ => Method::Post,
    }
}
