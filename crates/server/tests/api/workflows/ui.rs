//! The workflow pages over plain HTTP with a signed-in session: the list and
//! the graph with their counts, the editor (fields, errors next to the step,
//! JSON import and export), the lifecycle forms, performance and log pages,
//! and enrolment from the contact page. The browser tests click through the
//! same pages.

use super::{active_workflow, enrol, subscribed};
use crate::common::{spawn_app_with, TestApp};
use recado::config::Secret;
use serde_json::{json, Value};

pub const ADMIN: &str = "admin@localhost";
pub const PASSWORD: &str = "workflow-admin-password";

/// A browser without a browser: the session cookie and each page's CSRF
/// token, as a form sends them.
pub struct Web {
    base: String,
    http: reqwest::Client,
    cookie: String,
}

pub struct Page {
    pub status: u16,
    pub location: String,
    pub body: String,
}

fn value_after<'a>(html: &'a str, marker: &str) -> Option<&'a str> {
    let start = html.find(marker)? + marker.len();
    html[start..].split('"').next()
}

impl Web {
    pub fn new(base: &str) -> Web {
        Web {
            base: base.to_string(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookie: String::new(),
        }
    }

    pub async fn sign_in(&mut self, email: &str, password: &str) {
        let form = self.http.get(format!("{}/login", self.base)).send().await.unwrap();
        let login_cookie = form
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with("recado_login_csrf="))
            .and_then(|v| v.split(';').next())
            .unwrap()
            .to_string();
        let html = form.text().await.unwrap();
        let csrf = value_after(&html, r#"name="csrf" value=""#).unwrap().to_string();
        let r = self
            .http
            .post(format!("{}/login", self.base))
            .header("cookie", login_cookie)
            .form(&[("email", email), ("password", password), ("csrf", &csrf)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 303);
        self.cookie = r
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with("recado_session="))
            .and_then(|v| v.split(';').next())
            .unwrap()
            .to_string();
    }

    async fn page(&self, r: reqwest::RequestBuilder) -> Page {
        let r = r.header("cookie", &self.cookie).send().await.unwrap();
        let location = r
            .headers()
            .get("location")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        Page {
            status: r.status().as_u16(),
            location,
            body: r.text().await.unwrap(),
        }
    }

    pub async fn get(&self, path: &str) -> Page {
        self.page(self.http.get(format!("{}{path}", self.base))).await
    }

    /// A page that must answer 200.
    pub async fn ok(&self, path: &str) -> String {
        let p = self.get(path).await;
        assert_eq!(p.status, 200, "{path}: {}", p.body);
        p.body
    }

    /// Posts a form with the session's CSRF token.
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        let html = self.ok("/workflows").await;
        let csrf = value_after(&html, r#"name="csrf" value=""#).unwrap().to_string();
        let mut all: Vec<(&str, &str)> = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(fields);
        self.page(self.http.post(format!("{}{path}", self.base)).form(&all))
            .await
    }
}

/// A workspace with sandbox SMS (sender `Recado`) and WhatsApp channels and
/// its admin signed in.
pub async fn signed_in() -> (TestApp, Web) {
    let app = spawn_app_with(|s| s.admin_password = Some(Secret::new(PASSWORD))).await;
    app.channel(
        "sms_sandbox",
        "SMS",
        json!({"senders": ["Recado"], "delivery_ratio": 1.0}),
    )
    .await;
    app.channel("whatsapp_sandbox", "WhatsApp", json!({})).await;
    let mut web = Web::new(&app.base);
    web.sign_in(ADMIN, PASSWORD).await;
    (app, web)
}

/// A send, a wait for its delivery, a branch on the contact's country, a
/// property set and an end.
pub fn journey() -> Value {
    json!({
        "triggers": [{"type": "manual"}],
        "start": "hello",
        "nodes": {
            "hello": {"type": "send_sms", "from": "Recado", "text": "Olá {{contact.firstname}}", "next": "delivered",
                      "on_failure": "done"},
            "delivered": {"type": "wait_event", "of": "hello", "events": ["SMS_DELIVERED"], "timeout": "PT1H",
                          "on": {"SMS_DELIVERED": "country", "timeout": "done"}},
            "country": {"type": "branch", "condition": {"property": "country", "op": "eq", "value": "BR"},
                        "then": "mark", "else": "done"},
            "mark": {"type": "set_property", "property": "stage", "value": "welcomed", "next": "done"},
            "done": {"type": "end"}
        }
    })
}

/// The part of a page from `marker` to the next `</fieldset>` or `</tr>`.
fn block<'a>(html: &'a str, marker: &str, end: &str) -> &'a str {
    let start = html.find(marker).unwrap_or_else(|| panic!("no {marker} in {html}"));
    let rest = &html[start..];
    &rest[..rest.find(end).unwrap_or(rest.len())]
}

fn id_from(location: &str) -> String {
    location
        .trim_start_matches("/workflows/")
        .split(['?', '/'])
        .next()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn pages_require_sign_in() {
    let (app, _) = signed_in().await;
    let wf = active_workflow(&app, journey()).await;
    let anonymous = Web::new(&app.base);
    for path in [
        "/workflows".to_string(),
        "/workflows/new".to_string(),
        format!("/workflows/{wf}"),
        format!("/workflows/{wf}/edit"),
        format!("/workflows/{wf}/performance"),
        format!("/workflows/{wf}/log"),
        format!("/workflows/{wf}/definition.json"),
    ] {
        let p = anonymous.get(&path).await;
        assert_eq!(p.status, 303, "{path}");
        assert!(p.location.starts_with("/login?next="), "{path}: {}", p.location);
    }
    let p = anonymous
        .page(
            anonymous
                .http
                .post(format!("{}/workflows/{wf}/pause", app.base))
                .form(&[("csrf", "x")]),
        )
        .await;
    assert_eq!(p.status, 401);
    assert_eq!(
        app.get(&format!("/api/v1/workflows/{wf}")).await.body["status"],
        "active"
    );
}

#[tokio::test]
async fn the_list_shows_each_workflow_with_its_run_counts() {
    let (app, web) = signed_in().await;
    let wf = active_workflow(&app, journey()).await;
    let ana = subscribed(&app, "+5511912345678", "Ana").await;
    let bia = app
        .contact(json!({"firstname": "Bia", "mobilephone": "+5511912345679"}))
        .await;
    enrol(&app, &wf, &[&ana, &bia]).await;
    app.run_jobs().await;
    let html = web.ok("/workflows").await;
    let row = block(&html, &format!("data-workflow=\"{wf}\""), "</tr>");
    assert!(
        row.contains("Test") && row.contains("active") && row.contains("v1"),
        "{row}"
    );
    // Ana waits for her delivery report or went on; Bia's send was refused
    // and took the failure path to the end.
    let api = app.get(&format!("/api/v1/workflows/{wf}")).await.body;
    for (key, api_key) in [
        ("enrolled", "enrolled"),
        ("active", "active"),
        ("completed", "completed"),
        ("exited", "exited"),
        ("errors", "failed"),
    ] {
        let shown = format!("data-count=\"{key}\">{}<", api[api_key]);
        assert!(row.contains(&shown), "{shown} in {row}");
    }
    assert!(row.contains("data-count=\"enrolled\">2<"));
    assert!(html.contains("href=\"/workflows/new\""));
}

#[tokio::test]
async fn the_graph_shows_every_node_with_its_counts() {
    let (app, web) = signed_in().await;
    let wf = active_workflow(&app, journey()).await;
    let ana = subscribed(&app, "+5511912345678", "Ana").await;
    let bia = app
        .contact(json!({"firstname": "Bia", "mobilephone": "+5511912345679"}))
        .await;
    enrol(&app, &wf, &[&ana, &bia]).await;
    app.run_jobs().await;
    let html = web.ok(&format!("/workflows/{wf}")).await;
    assert!(html.contains("<svg class=\"wf-graph\""));
    let perf = app.get(&format!("/api/v1/workflows/{wf}/performance")).await.body;
    let nodes = perf["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 5);
    for n in nodes {
        let id = n["node_id"].as_str().unwrap();
        let failures: i64 = n["failures"]
            .as_object()
            .unwrap()
            .values()
            .map(|v| v.as_i64().unwrap())
            .sum();
        let expected = format!(
            "data-node=\"{id}\" data-type=\"{}\" data-attempts=\"{}\" data-successes=\"{}\" data-failures=\"{failures}\" data-waiting=\"{}\"",
            n["type"].as_str().unwrap(),
            n["attempts"],
            n["successes"],
            n["waiting"]
        );
        assert!(html.contains(&expected), "{expected}");
        assert!(html.contains(&format!(">{id}</text>")), "the box names {id}");
    }
    // Both sends were attempted: one succeeded, one was refused.
    assert!(html.contains(
        "data-node=\"hello\" data-type=\"send_sms\" data-attempts=\"2\" data-successes=\"1\" data-failures=\"1\""
    ));
    // Each edge is labelled with what leads along it.
    for (from, to, label) in [
        ("hello", "delivered", "next"),
        ("hello", "done", "on_failure"),
        ("delivered", "country", "SMS_DELIVERED"),
        ("delivered", "done", "timeout PT1H"),
        ("country", "mark", "then"),
        ("country", "done", "else"),
    ] {
        let edge = block(
            &html,
            &format!("class=\"edge-label\" data-from=\"{from}\" data-to=\"{to}\""),
            "</g>",
        );
        assert!(edge.contains(&format!(">{label}</text>")), "{from}→{to}: {edge}");
    }
}

fn editor_fields<'a>(name: &'a str, from: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("op", "save"),
        ("name", name),
        ("start", "n1"),
        ("t0.type", "manual"),
        ("t1.type", "event"),
        ("t1.event", "SMS_RESPONSE"),
        ("t1.keyword", "PROMO"),
        ("t2.type", ""),
        ("reenrolment", "after_end"),
        ("timezone", "workspace"),
        ("exit.join", "all"),
        ("exit.c0.kind", "property"),
        ("exit.c0.subject", "stage"),
        ("exit.c0.op", "eq"),
        ("exit.c0.value", "lost"),
        ("exit.c1.kind", ""),
        ("s0.id", "n1"),
        ("s0.type", "send_sms"),
        ("s0.sms_channel", ""),
        ("s0.wa_channel", ""),
        ("s0.from", from),
        ("s0.sms_text", "Olá {{contact.firstname}}"),
        ("s0.wa_text", "Olá {{contact.firstname}}"),
        ("s0.shorten_urls", "1"),
        ("s0.next", "n2"),
        ("s0.on_failure", ""),
        ("s1.id", "n2"),
        ("s1.type", "branch"),
        ("s1.cond.join", "any"),
        ("s1.cond.c0.kind", "event"),
        ("s1.cond.c0.subject", "SMS_CLICKED"),
        ("s1.cond.c0.of", "n1"),
        ("s1.cond.c0.op", "is_known"),
        ("s1.cond.c1.kind", "subscription"),
        ("s1.cond.c1.subject", "whatsapp"),
        ("s1.cond.c1.op", "eq"),
        ("s1.cond.c1.value", "subscribed"),
        ("s1.cond.c2.kind", ""),
        ("s1.then", "n3"),
        ("s1.else", "n4"),
        ("s1.next", ""),
        ("s2.id", "n3"),
        ("s2.type", "set_subscription"),
        ("s2.sub_channel", "sms"),
        ("s2.sub_status", "unsubscribed"),
        ("s2.legal_basis", "consent"),
        ("s2.explanation", "clicked out"),
        ("s2.next", "n4"),
        ("s3.id", "n4"),
        ("s3.type", "end"),
        ("s3.next", ""),
    ]
}

#[tokio::test]
async fn the_editor_creates_a_valid_workflow_from_form_fields() {
    let (app, web) = signed_in().await;
    let p = web.post("/workflows/new", &editor_fields("Welcome", "Recado")).await;
    assert_eq!(p.status, 303, "{}", p.body);
    assert!(p.location.ends_with("?done=saved"), "{}", p.location);
    let id = id_from(&p.location);
    let w = app.get(&format!("/api/v1/workflows/{id}")).await.body;
    assert_eq!(w["name"], "Welcome");
    assert_eq!(w["status"], "draft");
    assert_eq!(
        w["draft"],
        json!({
            "triggers": [{"type": "manual"}, {"type": "event", "event": "SMS_RESPONSE", "keyword": "PROMO"}],
            "settings": {"reenrolment": "after_end", "timezone": "workspace",
                         "exit_when": {"property": "stage", "op": "eq", "value": "lost"}},
            "start": "n1",
            "nodes": {
                "n1": {"type": "send_sms", "from": "Recado", "text": "Olá {{contact.firstname}}", "shorten_urls": true, "next": "n2"},
                "n2": {"type": "branch", "condition": {"any": [
                          {"event": "SMS_CLICKED", "of": "n1", "op": "is_known"},
                          {"subscription": "whatsapp", "op": "eq", "value": "subscribed"}]},
                       "then": "n3", "else": "n4"},
                "n3": {"type": "set_subscription", "channel": "sms", "status": "unsubscribed", "legal_basis": "consent",
                       "explanation": "clicked out", "next": "n4"},
                "n4": {"type": "end"}
            }
        })
    );
    // The edit page shows it back as fields, and saving unchanged keeps it.
    let html = web.ok(&format!("/workflows/{id}/edit")).await;
    assert!(html.contains(r#"name="s0.from" value="Recado""#), "{html}");
    assert!(html.contains(r#"name="s1.cond.c0.subject" value="SMS_CLICKED""#));
    let p = web
        .post(
            &format!("/workflows/{id}/edit"),
            &editor_fields("Welcome again", "Recado"),
        )
        .await;
    assert_eq!(p.status, 303, "{}", p.body);
    let again = app.get(&format!("/api/v1/workflows/{id}")).await.body;
    assert_eq!(
        (again["name"].as_str(), &again["draft"]),
        (Some("Welcome again"), &w["draft"])
    );
}

#[tokio::test]
async fn adding_a_step_shows_the_form_again_with_one_more_empty_step() {
    let (app, web) = signed_in().await;
    let mut fields = editor_fields("Welcome", "Recado");
    fields[0] = ("op", "add_step");
    let p = web.post("/workflows/new", &fields).await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(p.body.contains(r#"name="s4.id" value="n5""#), "a fifth step, n5");
    assert!(
        p.body.contains(r#"name="s3.id" value="n4""#),
        "the steps typed so far stay"
    );
    assert!(
        p.body.contains(r#"<option value="n5">n5</option>"#),
        "n5 is offered as a next step"
    );
    let list = app.get("/api/v1/workflows").await.body;
    assert_eq!(list["items"].as_array().unwrap().len(), 0, "nothing saved");
}

#[tokio::test]
async fn the_editor_shows_an_invalid_workflow_error_next_to_the_node() {
    let (app, web) = signed_in().await;
    let p = web.post("/workflows/new", &editor_fields("Welcome", "Unknown")).await;
    assert_eq!(p.status, 422, "{}", p.body);
    // The same refusal the API gives, shown inside the n1 step's fieldset.
    let api = app
        .post(
            "/api/v1/workflows",
            json!({"name": "x", "definition": {"triggers": [{"type": "manual"}], "start": "n1",
                   "nodes": {"n1": {"type": "send_sms", "from": "Unknown", "text": "x", "next": "n2"}, "n2": {"type": "end"}}}}),
        )
        .await;
    assert_eq!((api.status, api.code(), api.field()), (422, "invalid_workflow", "n1"));
    let step = block(&p.body, r#"data-step="n1""#, "</fieldset>");
    assert!(step.contains(r#"data-error-for="n1""#), "{step}");
    let message = api.body["error"]["message"].as_str().unwrap();
    assert!(step.contains(&askama_escape(message)), "{message} in {step}");
    assert!(!block(&p.body, r#"data-step="n2""#, "</fieldset>").contains("field-error"));
    // What was typed is still there.
    assert!(step.contains(r#"name="s0.from" value="Unknown""#));
    assert_eq!(
        app.get("/api/v1/workflows").await.body["items"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
}

/// HTML escaping as the templates do it.
fn askama_escape(text: &str) -> String {
    text.replace('&', "&#38;")
        .replace('<', "&#60;")
        .replace('>', "&#62;")
        .replace('"', "&#34;")
        .replace('\'', "&#39;")
}

#[tokio::test]
async fn json_import_and_export_round_trip() {
    let (app, web) = signed_in().await;
    let text = serde_json::to_string_pretty(&journey()).unwrap();
    let p = web
        .post("/workflows/import", &[("name", "Imported"), ("definition", &text)])
        .await;
    assert_eq!(p.status, 303, "{}", p.body);
    let id = id_from(&p.location);
    let r = reqwest::Client::new()
        .get(format!("{}/workflows/{id}/definition.json", app.base))
        .header("cookie", &web.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment"));
    assert_eq!(r.headers()["content-type"], "application/json");
    let exported: Value = r.json().await.unwrap();
    let draft = app.get(&format!("/api/v1/workflows/{id}")).await.body["draft"].clone();
    assert_eq!(exported, draft);
    // The export imports as a new workflow with the same draft.
    let p = web
        .post(
            "/workflows/import",
            &[("name", "Copy"), ("definition", &exported.to_string())],
        )
        .await;
    assert_eq!(p.status, 303, "{}", p.body);
    let copy = app
        .get(&format!("/api/v1/workflows/{}", id_from(&p.location)))
        .await
        .body;
    assert_eq!((copy["name"].as_str(), &copy["draft"]), (Some("Copy"), &draft));
    // Invalid JSON and an invalid definition are shown on the import form.
    let p = web
        .post("/workflows/import", &[("name", "Bad"), ("definition", "{")])
        .await;
    assert_eq!(p.status, 422);
    assert!(p.body.contains("id=\"import-error\""), "{}", p.body);
    let mut bad = journey();
    bad["nodes"]["hello"]["next"] = json!("nowhere");
    let p = web
        .post(
            &format!("/workflows/{id}/import"),
            &[("name", ""), ("definition", &bad.to_string())],
        )
        .await;
    assert_eq!(p.status, 422);
    assert!(block(&p.body, "id=\"import-error\"", "</p>").contains("hello"));
    assert_eq!(app.get(&format!("/api/v1/workflows/{id}")).await.body["draft"], draft);
}

#[tokio::test]
async fn lifecycle_forms_publish_activate_pause_and_resume() {
    let (app, web) = signed_in().await;
    let r = app
        .post("/api/v1/workflows", json!({"name": "Life", "definition": journey()}))
        .await;
    let id = r.body["id"].as_str().unwrap().to_string();
    let status = || async { app.get(&format!("/api/v1/workflows/{id}")).await.body };

    // Activation before a publish is refused with the service's words.
    let p = web.post(&format!("/workflows/{id}/activate"), &[]).await;
    assert_eq!(p.status, 409);
    assert!(p.body.contains("publish a version before activating"), "{}", p.body);

    let p = web.post(&format!("/workflows/{id}/publish"), &[]).await;
    assert_eq!(
        (p.status, p.location.as_str()),
        (303, format!("/workflows/{id}?done=published").as_str())
    );
    assert_eq!(status().await["version"], 1);
    let html = web.ok(&p.location).await;
    assert!(html.contains("Version 1, as runs go through it"));
    assert!(html.contains("id=\"activate-form\"") && !html.contains("id=\"pause-form\""));

    let p = web
        .post(&format!("/workflows/{id}/activate"), &[("enrol_existing", "1")])
        .await;
    assert_eq!(p.status, 303, "{}", p.body);
    assert_eq!(status().await["status"], "active");
    let html = web.ok(&format!("/workflows/{id}")).await;
    assert!(html.contains("id=\"pause-form\"") && !html.contains("id=\"activate-form\""));

    let p = web.post(&format!("/workflows/{id}/pause"), &[]).await;
    assert_eq!(p.status, 303);
    assert_eq!(status().await["status"], "paused");
    let p = web.post(&format!("/workflows/{id}/resume"), &[]).await;
    assert_eq!(p.status, 303);
    assert_eq!(status().await["status"], "active");
    // A second resume is refused: it is not paused.
    let p = web.post(&format!("/workflows/{id}/resume"), &[]).await;
    assert_eq!(p.status, 409);
    assert!(p.body.contains("only a paused workflow can be resumed"));
}

#[tokio::test]
async fn lifecycle_forms_refuse_a_post_without_the_csrf_token() {
    let (app, web) = signed_in().await;
    let id = active_workflow(&app, journey()).await;
    let p = web
        .page(
            web.http
                .post(format!("{}/workflows/{id}/pause", app.base))
                .form(&[("csrf", "forged")]),
        )
        .await;
    assert_eq!(p.status, 403);
    assert_eq!(
        app.get(&format!("/api/v1/workflows/{id}")).await.body["status"],
        "active"
    );
}

#[tokio::test]
async fn the_performance_page_shows_versions_steps_and_failures_by_reason() {
    let (app, web) = signed_in().await;
    let wf = active_workflow(&app, journey()).await;
    let ana = subscribed(&app, "+5511912345678", "Ana").await;
    let bia = app
        .contact(json!({"firstname": "Bia", "mobilephone": "+5511912345679"}))
        .await;
    enrol(&app, &wf, &[&ana, &bia]).await;
    app.run_jobs().await;
    let html = web.ok(&format!("/workflows/{wf}/performance")).await;
    assert!(html.contains(r#"<tr data-version="1"><td>v1</td>"#), "{html}");
    let hello = block(&html, r#"data-version="1" data-node="hello""#, "</tr>");
    assert!(hello.contains(r#"data-count="attempts">2<"#), "{hello}");
    assert!(hello.contains(r#"data-count="successes">1<"#));
    assert!(hello.contains(r#"data-count="failures">1<"#));
    assert!(
        hello.contains(r#"<li data-reason="not_subscribed"><code>not_subscribed</code>: 1</li>"#),
        "{hello}"
    );
    for node in ["delivered", "country", "mark", "done"] {
        assert!(
            html.contains(&format!(r#"data-version="1" data-node="{node}""#)),
            "{node}"
        );
    }
}

#[tokio::test]
async fn the_log_page_filters_by_action_outcome_and_time() {
    let (app, web) = signed_in().await;
    let wf = active_workflow(&app, journey()).await;
    let bia = app
        .contact(json!({"firstname": "Bia", "mobilephone": "+5511912345679"}))
        .await;
    enrol(&app, &wf, &[&bia]).await;
    app.run_jobs().await;
    let all = web.ok(&format!("/workflows/{wf}/log")).await;
    assert!(
        all.contains(r#"data-node="hello" data-outcome="failed" data-action="send_sms""#),
        "{all}"
    );
    assert!(all.contains(r#"data-node="done""#));
    assert!(all.contains(&format!(r#"href="/contacts/{bia}""#)));
    // Newest first: the end comes before the refused send.
    assert!(all.find(r#"data-node="done""#).unwrap() < all.find(r#"data-node="hello""#).unwrap());

    let failed = web.ok(&format!("/workflows/{wf}/log?outcome=failed")).await;
    assert!(failed.contains(r#"data-node="hello""#) && !failed.contains(r#"data-node="done""#));
    assert!(
        failed.contains(r#"<option value="failed" selected>"#),
        "the form keeps the filter"
    );
    let ends = web.ok(&format!("/workflows/{wf}/log?action_type=end&outcome=")).await;
    assert!(ends.contains(r#"data-node="done""#) && !ends.contains(r#"data-node="hello""#));
    // The test clock stands at 2026-11-16T09:00Z.
    let later = web.ok(&format!("/workflows/{wf}/log?since=2026-11-17T00:00")).await;
    assert!(later.contains("No action matches."));
    let earlier = web
        .ok(&format!(
            "/workflows/{wf}/log?since=2026-11-16T00:00&until=2026-11-16T23:59"
        ))
        .await;
    assert!(earlier.contains(r#"data-node="hello""#));
    let bad = web.ok(&format!("/workflows/{wf}/log?since=yesterday")).await;
    assert!(bad.contains("id=\"filter-error\""));
}

#[tokio::test]
async fn the_contact_page_enrols_in_an_active_workflow_and_lists_the_runs() {
    let (app, web) = signed_in().await;
    let wf = active_workflow(&app, journey()).await;
    let draft = app
        .post("/api/v1/workflows", json!({"name": "Not yet", "definition": journey()}))
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let ana = subscribed(&app, "+5511912345678", "Ana").await;
    let html = web.ok(&format!("/contacts/{ana}")).await;
    let form = block(&html, "id=\"enrol-form\"", "</form>");
    assert!(
        form.contains(&format!(r#"<option value="{wf}">Test</option>"#)),
        "{form}"
    );
    assert!(!form.contains(&draft), "only active workflows are offered");
    assert!(html.contains("has not run through any workflow"));

    let p = web
        .post(&format!("/contacts/{ana}/workflows"), &[("workflow_id", &wf)])
        .await;
    assert_eq!(p.status, 303);
    assert_eq!(p.location, format!("/contacts/{ana}?enrolled=1#workflows"));
    let html = web.ok(&format!("/contacts/{ana}?enrolled=1")).await;
    assert!(html.contains("Enrolled in the workflow."));
    let row = block(&html, &format!(r#"<tr data-workflow="{wf}">"#), "</tr>");
    assert!(
        row.contains(">Test</a>") && row.contains("active") && row.contains("<code>hello</code>"),
        "{row}"
    );
    let runs = app
        .get(&format!("/api/v1/workflows/{wf}/runs?contact_id={ana}"))
        .await
        .body;
    assert_eq!(
        runs["items"].as_array().unwrap().len(),
        1,
        "the same enrolment as the API's"
    );

    // A second enrolment is refused by the service, and the page says why.
    let p = web
        .post(&format!("/contacts/{ana}/workflows"), &[("workflow_id", &wf)])
        .await;
    assert_eq!(
        p.location,
        format!("/contacts/{ana}?enrol_skipped=already_enrolled#workflows")
    );
    let html = web.ok(&format!("/contacts/{ana}?enrol_skipped=already_enrolled")).await;
    assert!(html.contains("Not enrolled (already_enrolled)"));
    // A workflow that is not active is refused too.
    let p = web
        .post(&format!("/contacts/{ana}/workflows"), &[("workflow_id", &draft)])
        .await;
    assert_eq!(
        p.location,
        format!("/contacts/{ana}?enrol_error=workflow_not_active#workflows")
    );

    // Once the run ends, the list shows when and why.
    app.run_jobs().await;
    app.clock.advance(chrono::Duration::hours(2));
    app.run_jobs().await;
    let html = web.ok(&format!("/contacts/{ana}")).await;
    let row = block(&html, &format!(r#"<tr data-workflow="{wf}">"#), "</tr>");
    assert!(row.contains("completed"), "{row}");
}

#[tokio::test]
async fn agents_read_the_workflow_pages_but_only_admins_change_workflows() {
    let (app, _) = signed_in().await;
    let wf = active_workflow(&app, journey()).await;
    let r = app
        .post(
            "/api/v1/users",
            json!({"email": "agent@example.com", "name": "Agent", "password": PASSWORD, "role": "agent"}),
        )
        .await;
    assert_eq!(r.status, 201);
    let mut agent = Web::new(&app.base);
    agent.sign_in("agent@example.com", PASSWORD).await;
    agent.ok("/workflows").await;
    let html = agent.ok(&format!("/workflows/{wf}")).await;
    assert!(!html.contains("id=\"pause-form\""));
    assert_eq!(agent.get("/workflows/new").await.status, 403);
    assert_eq!(agent.get(&format!("/workflows/{wf}/edit")).await.status, 403);
    assert_eq!(agent.post(&format!("/workflows/{wf}/pause"), &[]).await.status, 403);
    assert_eq!(
        app.get(&format!("/api/v1/workflows/{wf}")).await.body["status"],
        "active"
    );
}
