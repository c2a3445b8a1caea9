//! Runs through send, wait, branch, delay and end: which path each contact
//! takes, what reaches the provider, and what the log and performance say.

use super::{active_workflow, enrol, log_of, messages_of, runs_of, setup, subscribed};
use serde_json::json;

fn journey(segment: &str) -> serde_json::Value {
    json!({
        "triggers": [{"type": "segment", "segment_id": segment}],
        "start": "offer",
        "nodes": {
            "offer": {"type": "send_sms", "from": "Recado", "text": "Oferta {{contact.firstname}}: https://loja.example/promo",
                      "shorten_urls": true, "next": "delivery"},
            "delivery": {"type": "wait_event", "of": "offer", "events": ["SMS_DELIVERED", "SMS_NOT_DELIVERED"], "timeout": "PT24H",
                         "on": {"SMS_DELIVERED": "click", "SMS_NOT_DELIVERED": "whatsapp", "timeout": "done"}},
            "click": {"type": "wait_event", "of": "offer", "events": ["SMS_CLICKED"], "timeout": "P1D",
                      "on": {"SMS_CLICKED": "done", "timeout": "reminder"}},
            "reminder": {"type": "send_sms", "from": "Recado", "text": "Ultimo dia da oferta", "next": "done"},
            "whatsapp": {"type": "send_whatsapp_template",
                         "template": {"name": "order_update", "language": "pt_BR", "parameters": {"body": ["{{contact.firstname}}", "4521"]}},
                         "next": "done"},
            "done": {"type": "end"}
        }
    })
}

#[tokio::test]
async fn the_seed_journey_sends_a_second_sms_to_non_clickers_and_whatsapp_to_the_undelivered() {
    let s = setup(0.5).await;
    let app = &s.app;
    let mut contacts = Vec::new();
    // Delivery is decided per message (ratio 0.5): 20 contacts leave at least
    // three delivered and one undelivered but for a chance below 1 in 4,000.
    for n in 0..20 {
        contacts.push(subscribed(app, &format!("+55119123456{n:02}"), &format!("P{n}")).await);
    }
    let segment = app
        .post(
            "/api/v1/segments",
            json!({"name": "SMS", "filter": {"subscription": "sms", "op": "eq", "value": "subscribed"}}),
        )
        .await;
    assert_eq!(segment.status, 201, "{}", segment.body);
    let r = app
        .post(
            "/api/v1/workflows",
            json!({"name": "Seed", "definition": journey(segment.body["id"].as_str().unwrap())}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let wf = r.body["id"].as_str().unwrap().to_string();
    app.post(&format!("/api/v1/workflows/{wf}/publish"), json!({})).await;
    let a = app
        .post(
            &format!("/api/v1/workflows/{wf}/activate"),
            json!({"enrol_existing": true}),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    app.run_jobs().await;

    // Who got the offer delivered, and two of them follow its short link.
    let mut delivered = Vec::new();
    let mut undelivered = Vec::new();
    for c in &contacts {
        let sent = messages_of(app, c).await;
        let offer = sent
            .iter()
            .find(|m| m.2.starts_with("Oferta"))
            .expect("the offer was sent");
        match offer.1.as_str() {
            "delivered" => delivered.push((c.clone(), offer.2.clone())),
            "not_delivered" => undelivered.push(c.clone()),
            other => panic!("offer status {other}"),
        }
    }
    assert!(
        delivered.len() >= 3 && !undelivered.is_empty(),
        "{delivered:?} {undelivered:?}"
    );
    let no_redirect = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let clickers: Vec<String> = delivered.iter().take(2).map(|(c, _)| c.clone()).collect();
    for (_, text) in delivered.iter().take(2) {
        let link = text.split_whitespace().find(|w| w.contains("/s/")).unwrap();
        let code = link.rsplit('/').next().unwrap();
        let r = no_redirect.get(app.url(&format!("/s/{code}"))).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 302);
    }
    app.run_jobs().await;
    app.clock.advance(chrono::Duration::hours(25));
    app.run_jobs().await;

    for c in &contacts {
        let sent = messages_of(app, c).await;
        let reminders = sent.iter().filter(|m| m.2 == "Ultimo dia da oferta").count();
        let templates = sent.iter().filter(|m| m.0 == "whatsapp").count();
        let expected = if clickers.contains(c) {
            (0, 0)
        } else if undelivered.contains(c) {
            (0, 1)
        } else {
            (1, 0)
        };
        assert_eq!((reminders, templates), expected, "contact {c}: {sent:?}");
    }
    let runs = runs_of(app, &wf).await;
    assert_eq!(runs.len(), 20);
    assert!(runs.iter().all(|r| r.1 == "completed"), "{runs:?}");

    let log = log_of(app, &wf).await;
    for c in &clickers {
        assert!(
            log.contains(&(c.clone(), "click".into(), "resumed".into(), Some("SMS_CLICKED".into())))
                || log.iter().any(|l| &l.0 == c && l.1 == "click" && l.2 == "resumed"),
            "{log:?}"
        );
    }
    let perf = app.get(&format!("/api/v1/workflows/{wf}/performance")).await.body;
    assert_eq!(
        (perf["enrolled"].as_i64(), perf["completed"].as_i64()),
        (Some(20), Some(20)),
        "{perf}"
    );
    let node = |id: &str| {
        perf["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["node_id"] == id)
            .cloned()
            .unwrap()
    };
    assert_eq!(node("offer")["successes"].as_i64(), Some(20));
    assert_eq!(node("whatsapp")["successes"].as_i64(), Some(undelivered.len() as i64));
    assert_eq!(
        node("reminder")["successes"].as_i64(),
        Some((delivered.len() - clickers.len()) as i64)
    );
}

fn one_send(on_failure: bool) -> serde_json::Value {
    let mut def = json!({
        "triggers": [{"type": "manual"}],
        "start": "send",
        "nodes": {
            "send": {"type": "send_sms", "from": "Recado", "text": "Oi", "next": "done"},
            "done": {"type": "end"}
        }
    });
    if on_failure {
        def["nodes"]["send"]["on_failure"] = json!("flag");
        def["nodes"]["flag"] =
            json!({"type": "set_property", "property": "sms_refused", "value": "yes", "next": "done"});
    }
    def
}

#[tokio::test]
async fn an_unsubscribed_contact_gets_nothing_and_the_run_takes_the_failure_path() {
    let s = setup(1.0).await;
    let app = &s.app;
    let ana = app
        .contact(json!({"firstname": "Ana", "mobilephone": "+5511912345678"}))
        .await;
    let wf = active_workflow(app, one_send(true)).await;
    enrol(app, &wf, &[&ana]).await;
    app.run_jobs().await;
    let log = log_of(app, &wf).await;
    assert!(
        log.contains(&(
            ana.clone(),
            "send".into(),
            "failed".into(),
            Some("not_subscribed".into())
        )),
        "{log:?}"
    );
    let sent = messages_of(app, &ana).await;
    assert!(
        sent.iter().all(|m| m.1 == "not_sent"),
        "nothing reached the provider: {sent:?}"
    );
    let contact = app.get(&format!("/api/v1/contacts/{ana}")).await.body;
    assert_eq!(contact["properties"]["sms_refused"], "yes", "the failure path ran");
    assert_eq!(runs_of(app, &wf).await[0].1, "completed");
}

#[tokio::test]
async fn a_refused_send_without_a_failure_path_fails_the_run_with_the_reason() {
    let s = setup(1.0).await;
    let app = &s.app;
    let ana = app
        .contact(json!({"firstname": "Ana", "mobilephone": "+5511912345678"}))
        .await;
    let wf = active_workflow(app, one_send(false)).await;
    enrol(app, &wf, &[&ana]).await;
    app.run_jobs().await;
    assert_eq!(
        runs_of(app, &wf).await,
        vec![(ana.clone(), "failed".into(), Some("not_subscribed".into()))]
    );
}

#[tokio::test]
async fn an_exhausted_whatsapp_quota_logs_the_template_step_quota_exhausted() {
    let s = setup(1.0).await;
    let app = &s.app;
    let r = app
        .put("/api/v1/whatsapp/usage/settings", json!({"monthly_limit": 0}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let ana = subscribed(app, "+5511912345678", "Ana").await;
    let wf = active_workflow(
        app,
        json!({"triggers": [{"type": "manual"}], "start": "t", "nodes": {
            "t": {"type": "send_whatsapp_template", "template": {"name": "hello_world", "language": "en_US"}, "next": "done"},
            "done": {"type": "end"}}}),
    )
    .await;
    enrol(app, &wf, &[&ana]).await;
    app.run_jobs().await;
    let log = log_of(app, &wf).await;
    assert!(
        log.contains(&(ana.clone(), "t".into(), "failed".into(), Some("quota_exhausted".into()))),
        "{log:?}"
    );
}

#[tokio::test]
async fn an_exit_condition_met_during_a_delay_ends_the_run_at_once() {
    let s = setup(1.0).await;
    let app = &s.app;
    let ana = subscribed(app, "+5511912345678", "Ana").await;
    let wf = active_workflow(
        app,
        json!({"triggers": [{"type": "manual"}],
               "settings": {"exit_when": {"property": "customer", "op": "eq", "value": "yes"}},
               "start": "wait", "nodes": {
                   "wait": {"type": "delay", "duration": "P1D", "next": "send"},
                   "send": {"type": "send_sms", "from": "Recado", "text": "Compre!", "next": "done"},
                   "done": {"type": "end"}}}),
    )
    .await;
    enrol(app, &wf, &[&ana]).await;
    app.run_jobs().await;
    assert_eq!(runs_of(app, &wf).await[0].1, "active");
    let r = app
        .patch(
            &format!("/api/v1/contacts/{ana}"),
            json!({"properties": {"customer": "yes"}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    app.run_jobs().await;
    assert_eq!(
        runs_of(app, &wf).await,
        vec![(ana.clone(), "exited".into(), Some("exit_when".into()))]
    );
    app.clock.advance(chrono::Duration::days(2));
    app.run_jobs().await;
    assert!(
        messages_of(app, &ana).await.is_empty(),
        "the delayed send never happens"
    );
    let timeline = app.get(&format!("/api/v1/contacts/{ana}/timeline")).await.body;
    let kinds: Vec<&str> = timeline["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"WORKFLOW_EXITED") && kinds.contains(&"WORKFLOW_ENROLLED"),
        "{kinds:?}"
    );
}

#[tokio::test]
async fn invalid_definitions_are_refused_with_the_node_and_what_to_fix() {
    let s = setup(1.0).await;
    let app = &s.app;
    let end = json!({"type": "end"});
    let cases = [
        (
            json!({"triggers": [{"type": "manual"}], "start": "a", "nodes": {"a": end, "lost": end}}),
            "lost",
        ),
        (
            json!({"triggers": [{"type": "manual"}], "start": "s", "nodes": {
                "s": {"type": "send_sms", "from": "Recado", "text": "x", "next": "w"},
                "w": {"type": "wait_event", "of": "s", "events": ["SMS_DELIVERED"], "on": {"SMS_DELIVERED": "e"}},
                "e": end}}),
            "w",
        ),
        (
            json!({"triggers": [{"type": "manual"}], "start": "t", "nodes": {
                "t": {"type": "send_whatsapp_template", "template": {"name": "no_such", "language": "en_US"}, "next": "e"},
                "e": end}}),
            "t",
        ),
        (
            json!({"triggers": [{"type": "manual"}], "start": "a", "nodes": {
                "a": {"type": "delay", "duration": "PT1H", "next": "b"},
                "b": {"type": "set_property", "property": "x", "value": "1", "next": "a"}}}),
            "a",
        ),
        (
            json!({"triggers": [{"type": "manual"}], "settings": {"timezone": "Mars/Olympus"}, "start": "e", "nodes": {"e": end}}),
            "settings.timezone",
        ),
    ];
    for (definition, field) in cases {
        let r = app
            .post("/api/v1/workflows", json!({"name": "Bad", "definition": definition}))
            .await;
        assert_eq!((r.status, r.code()), (422, "invalid_workflow"), "{}", r.body);
        let got = r.body["error"]["field"].as_str().unwrap_or_default();
        assert!(
            got == field || got.starts_with(field) || field.starts_with(got),
            "expected {field}, got {}",
            r.body
        );
        assert!(!r.body["error"]["message"].as_str().unwrap().is_empty());
    }
    assert_eq!(app.get("/api/v1/workflows").await.body["items"], json!([]));
}

#[tokio::test]
async fn a_contact_enrolled_twice_is_skipped_while_its_run_is_active() {
    let s = setup(1.0).await;
    let app = &s.app;
    let ana = subscribed(app, "+5511912345678", "Ana").await;
    let wf = active_workflow(
        app,
        json!({"triggers": [{"type": "manual"}], "start": "wait", "nodes": {
            "wait": {"type": "delay", "duration": "P1D", "next": "done"}, "done": {"type": "end"}}}),
    )
    .await;
    let first = enrol(app, &wf, &[&ana, "ct_nobody"]).await;
    assert_eq!(first["enrolled"], 1);
    assert_eq!(
        first["skipped"],
        json!([{"contact_id": "ct_nobody", "reason": "not_found"}])
    );
    let second = enrol(app, &wf, &[&ana]).await;
    assert_eq!(second["enrolled"], 0);
    assert_eq!(second["skipped"][0]["reason"], "already_enrolled");
}

#[tokio::test]
async fn a_draft_workflow_enrols_no_one() {
    let s = setup(1.0).await;
    let app = &s.app;
    let r = app
        .post(
            "/api/v1/workflows",
            json!({"name": "Draft", "definition": one_send(false)}),
        )
        .await;
    assert_eq!(
        (r.status, r.body["status"].as_str(), r.body["version"].clone()),
        (201, Some("draft"), json!(null))
    );
    let id = r.body["id"].as_str().unwrap();
    let e = app
        .post(
            &format!("/api/v1/workflows/{id}/enrolments"),
            json!({"contact_ids": []}),
        )
        .await;
    assert_eq!((e.status, e.code()), (409, "workflow_not_active"));
    let a = app.post(&format!("/api/v1/workflows/{id}/activate"), json!({})).await;
    assert_eq!((a.status, a.code()), (409, "workflow_not_published"));
}

#[tokio::test]
async fn a_simulation_shows_the_path_a_contact_would_take_and_sends_nothing() {
    let s = setup(1.0).await;
    let app = &s.app;
    let ana = subscribed(app, "+5511912345678", "Ana").await;
    let segment = app
        .post(
            "/api/v1/segments",
            json!({"name": "SMS", "filter": {"subscription": "sms", "op": "eq", "value": "subscribed"}}),
        )
        .await;
    let r = app
        .post(
            "/api/v1/workflows",
            json!({"name": "Seed", "definition": journey(segment.body["id"].as_str().unwrap())}),
        )
        .await;
    let wf = r.body["id"].as_str().unwrap();
    let sim = app
        .post(
            &format!("/api/v1/workflows/{wf}/simulate"),
            json!({"contact_id": ana, "events": [
                {"after": "PT1M", "type": "SMS_DELIVERED", "of": "offer"},
                {"after": "PT2H", "type": "SMS_CLICKED", "of": "offer"}]}),
        )
        .await;
    assert_eq!(sim.status, 200, "{}", sim.body);
    let steps = sim.body["steps"].as_array().unwrap();
    let path: Vec<(&str, &str)> = steps
        .iter()
        .map(|s| (s["node_id"].as_str().unwrap(), s["outcome"].as_str().unwrap()))
        .collect();
    assert!(path.contains(&("click", "resumed")), "{path:?}");
    assert!(
        !path.iter().any(|(n, _)| *n == "reminder" || *n == "whatsapp"),
        "{path:?}"
    );
    let offer = steps.iter().find(|s| s["node_id"] == "offer").unwrap();
    assert_eq!(offer["would_send"]["segments"], 1, "{offer}");
    assert!(offer["would_send"]["text"].as_str().unwrap().contains("Oferta Ana"));
    app.run_jobs().await;
    assert!(messages_of(app, &ana).await.is_empty(), "a simulation sends nothing");
    assert!(runs_of(app, wf).await.is_empty(), "and stores no run");
}

#[tokio::test]
async fn runs_and_the_action_log_filter_by_status_and_outcome() {
    let s = setup(1.0).await;
    let app = &s.app;
    let ana = subscribed(app, "+5511912345678", "Ana").await;
    let bia = app
        .contact(json!({"firstname": "Bia", "mobilephone": "+5511987654321"}))
        .await;
    let wf = active_workflow(app, one_send(false)).await;
    enrol(app, &wf, &[&ana, &bia]).await;
    app.run_jobs().await;
    let failed = app
        .get(&format!("/api/v1/workflows/{wf}/runs?status=failed"))
        .await
        .body;
    assert_eq!(failed["items"].as_array().unwrap().len(), 1);
    assert_eq!(failed["items"][0]["contact_id"], bia.as_str());
    let completed = app
        .get(&format!("/api/v1/workflows/{wf}/runs?status=completed"))
        .await
        .body;
    assert_eq!(completed["items"][0]["contact_id"], ana.as_str());
    let log = app
        .get(&format!(
            "/api/v1/workflows/{wf}/log?outcome=failed&action_type=send_sms"
        ))
        .await
        .body;
    let items = log["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{log}");
    assert_eq!(
        (items[0]["contact_id"].as_str(), items[0]["reason"].as_str()),
        (Some(bia.as_str()), Some("not_subscribed"))
    );
    let bad = app.get(&format!("/api/v1/workflows/{wf}/runs?status=sleeping")).await;
    assert_eq!((bad.status, bad.code()), (422, "invalid_status"));
}
