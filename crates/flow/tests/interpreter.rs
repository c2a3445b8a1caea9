mod common;

use chrono_tz::Tz;
use common::{at, definition, rfc, Contact, HOUR};
use recado_core::consent::{Channel, SubscriptionStatus};
use recado_flow::run::{EndStatus, Parked};
use recado_flow::{advance, Context, Definition, Effect, Input, Limits, Outcome, Run, RunStatus, SendOutcome};
use serde_json::{json, Value};

const T0: i64 = 1_780_000_000_000; // 2026-05-28T20:26:40Z

/// One run driven input by input, as the application's worker would.
struct Driver {
    def: Definition,
    run: Run,
    contact: Contact,
    tz: Tz,
    limits: Limits,
}

impl Driver {
    fn new(nodes: Value) -> Driver {
        let def = definition(json!({"triggers": [{"type": "manual"}], "start": "n1", "nodes": nodes}));
        recado_flow::validate(&def, &recado_flow::AllowAll).expect("test definitions are valid");
        let run = Run::new("r1", &def, T0);
        Driver {
            def,
            run,
            contact: Contact::default(),
            tz: chrono_tz::UTC,
            limits: Limits::default(),
        }
    }

    fn feed(&mut self, input: Input, now: i64) -> Vec<Effect> {
        let ctx = Context {
            facts: &self.contact,
            tz: self.tz,
            limits: self.limits,
        };
        let step = advance(&self.def, self.run.clone(), input, &ctx, now);
        self.run = step.run;
        step.effects
    }

    fn start(&mut self) -> Vec<Effect> {
        self.feed(Input::Start, T0)
    }

    fn accept(&mut self, node: &str, now: i64) -> Vec<Effect> {
        let message_id = format!("msg-{node}");
        self.feed(
            Input::SendResult {
                node: node.into(),
                result: SendOutcome::Accepted { message_id },
            },
            now,
        )
    }

    fn refuse(&mut self, node: &str, limit_reached: bool, now: i64) -> Vec<Effect> {
        self.feed(
            Input::SendResult {
                node: node.into(),
                result: SendOutcome::Refused {
                    reason: if limit_reached {
                        "messaging_limit_reached"
                    } else {
                        "not_subscribed"
                    }
                    .into(),
                    limit_reached,
                },
            },
            now,
        )
    }

    fn event(&mut self, of: &str, event: &str, at_ms: i64, now: i64) -> Vec<Effect> {
        self.feed(
            Input::Event {
                of: of.into(),
                event: event.into(),
                at: at_ms,
            },
            now,
        )
    }
}

fn sms(next: &str) -> Value {
    json!({"type": "send_sms", "from": "RECADO", "text": "Hi", "next": next})
}

fn end() -> Value {
    json!({"type": "end"})
}

/// (node, outcome, reason) of each log line.
fn logs(effects: &[Effect]) -> Vec<(String, Outcome, Option<String>)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Log {
                node, outcome, reason, ..
            } => Some((node.to_string(), *outcome, reason.clone())),
            _ => None,
        })
        .collect()
}

fn log(node: &str, outcome: Outcome, reason: Option<&str>) -> (String, Outcome, Option<String>) {
    (node.to_string(), outcome, reason.map(str::to_string))
}

fn sends(effects: &[Effect]) -> Vec<String> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Send { idempotency_key, .. } => Some(idempotency_key.clone()),
            _ => None,
        })
        .collect()
}

fn ended(effects: &[Effect]) -> Option<(EndStatus, Option<String>)> {
    effects.iter().find_map(|e| match e {
        Effect::Ended { status, reason } => Some((*status, reason.clone())),
        _ => None,
    })
}

/// send n1 → wait on n1 for delivery (1 h) → n3 on delivery, n4 on timeout.
fn send_then_wait() -> Driver {
    Driver::new(json!({
        "n1": sms("n2"),
        "n2": {"type": "wait_event", "of": "n1", "events": ["SMS_DELIVERED", "SMS_NOT_DELIVERED"], "timeout": "PT1H",
               "on": {"SMS_DELIVERED": "n3", "SMS_NOT_DELIVERED": "n4", "timeout": "n4"}},
        "n3": {"type": "set_property", "property": "delivered", "value": "yes", "next": "n4"},
        "n4": end()
    }))
}

// ---- sends ---------------------------------------------------------------------------

#[test]
fn a_send_emits_its_action_with_a_run_step_node_key_and_parks_for_the_result() {
    let mut d = Driver::new(json!({"n1": sms("n2"), "n2": end()}));
    let effects = d.start();
    assert_eq!(sends(&effects), ["r1:1:n1"]);
    assert!(matches!(&effects[0], Effect::Send { action, .. } if action.action_type() == "send_sms"));
    assert_eq!(d.run.status, RunStatus::Waiting);
    assert!(matches!(&d.run.parked, Some(Parked::SendResult { node, .. }) if node.as_str() == "n1"));
    assert_eq!(d.run.wake_at, None);
}

#[test]
fn an_accepted_send_records_the_message_logs_ok_and_goes_on() {
    let mut d = Driver::new(json!({"n1": sms("n2"), "n2": end()}));
    d.start();
    let effects = d.accept("n1", T0);
    assert!(matches!(&effects[0], Effect::Log { outcome: Outcome::Ok, message_id: Some(m), .. } if m == "msg-n1"));
    assert_eq!(d.run.sends["n1"].message_id.as_deref(), Some("msg-n1"));
    assert_eq!(d.run.status, RunStatus::Completed);
}

#[test]
fn a_refused_send_follows_on_failure() {
    let mut d = Driver::new(json!({
        "n1": {"type": "send_sms", "from": "RECADO", "text": "Hi", "next": "n2", "on_failure": "n3"},
        "n2": end(),
        "n3": {"type": "set_property", "property": "unreachable", "value": "1", "next": "n2"}
    }));
    d.start();
    let effects = d.refuse("n1", false, T0);
    assert_eq!(
        logs(&effects)[..2],
        [
            log("n1", Outcome::Failed, Some("not_subscribed")),
            log("n3", Outcome::Ok, None)
        ]
    );
    assert_eq!(d.run.status, RunStatus::Completed);
}

#[test]
fn a_refused_send_without_on_failure_fails_the_run_with_the_reason() {
    let mut d = Driver::new(json!({"n1": sms("n2"), "n2": end()}));
    d.start();
    let effects = d.refuse("n1", false, T0);
    assert_eq!(
        ended(&effects),
        Some((EndStatus::Failed, Some("not_subscribed".into())))
    );
    assert_eq!(d.run.status, RunStatus::Failed);
}

#[test]
fn a_limit_refusal_with_defer_on_limit_retries_later_under_a_new_key() {
    let mut d = Driver::new(json!({
        "n1": {"type": "send_sms", "from": "RECADO", "text": "Hi", "next": "n2", "on_failure": "n2", "defer_on_limit": true},
        "n2": end()
    }));
    let first = sends(&d.start());
    let effects = d.refuse("n1", true, T0);
    assert_eq!(
        logs(&effects),
        [log("n1", Outcome::Waited, Some("messaging_limit_reached"))]
    );
    assert_eq!(d.run.wake_at, Some(T0 + HOUR));
    assert!(d.feed(Input::Wake, T0 + HOUR - 1).is_empty());
    let retry = sends(&d.feed(Input::Wake, T0 + HOUR));
    assert_eq!(retry.len(), 1);
    assert_ne!(retry, first);
    assert_eq!(d.run.visits["n1"], 1, "a retry is the same visit");
}

#[test]
fn a_limit_refusal_without_defer_on_limit_is_a_failure() {
    let mut d = Driver::new(json!({"n1": sms("n2"), "n2": end()}));
    d.start();
    let effects = d.refuse("n1", true, T0);
    assert_eq!(
        ended(&effects),
        Some((EndStatus::Failed, Some("messaging_limit_reached".into())))
    );
}

#[test]
fn a_final_refusal_is_recorded_as_the_channels_not_sent_event() {
    let mut d = Driver::new(json!({
        "n1": {"type": "send_sms", "from": "RECADO", "text": "Hi", "next": "n3", "on_failure": "n2"},
        "n2": {"type": "branch", "condition": {"event": "SMS_NOT_SENT", "of": "n1", "op": "is_known"},
               "then": "n3", "else": "n4"},
        "n3": end(),
        "n4": end()
    }));
    d.start();
    let effects = d.refuse("n1", false, T0);
    assert!(logs(&effects).contains(&log("n2", Outcome::Ok, Some("then"))));
}

#[test]
fn a_send_result_for_another_node_changes_nothing() {
    let mut d = Driver::new(json!({"n1": sms("n2"), "n2": sms("n3"), "n3": end()}));
    d.start();
    let before = d.run.clone();
    assert!(d.accept("n2", T0).is_empty());
    assert_eq!(d.run, before);
}

#[test]
fn a_repeated_send_result_changes_nothing() {
    let mut d = Driver::new(json!({"n1": sms("n2"), "n2": sms("n3"), "n3": end()}));
    d.start();
    d.accept("n1", T0);
    let before = d.run.clone();
    assert!(d.accept("n1", T0 + 5).is_empty());
    assert_eq!(d.run, before);
}

// ---- instant nodes -------------------------------------------------------------------

#[test]
fn set_property_emits_the_change_and_goes_on() {
    let mut d = Driver::new(json!({
        "n1": {"type": "set_property", "property": "stage", "value": null, "next": "n2"}, "n2": end()
    }));
    let effects = d.start();
    assert!(matches!(&effects[0], Effect::SetProperty { property, value: None, .. } if property == "stage"));
    assert_eq!(logs(&effects)[0], log("n1", Outcome::Ok, None));
}

#[test]
fn set_subscription_emits_the_change_and_goes_on() {
    let mut d = Driver::new(json!({
        "n1": {"type": "set_subscription", "channel": "whatsapp", "status": "unsubscribed", "next": "n2"},
        "n2": end()
    }));
    let effects = d.start();
    assert!(matches!(
        &effects[0],
        Effect::SetSubscription {
            channel: Channel::Whatsapp,
            status: SubscriptionStatus::Unsubscribed,
            ..
        }
    ));
    assert_eq!(d.run.status, RunStatus::Completed);
}

#[test]
fn end_completes_the_run() {
    let mut d = Driver::new(json!({"n1": end()}));
    let effects = d.start();
    assert_eq!(logs(&effects), [log("n1", Outcome::Ok, None)]);
    assert_eq!(ended(&effects), Some((EndStatus::Completed, None)));
    assert_eq!(
        (d.run.status, d.run.wake_at, d.run.parked.clone()),
        (RunStatus::Completed, None, None)
    );
}

#[test]
fn a_branch_takes_then_when_the_contact_matches_and_else_otherwise() {
    let nodes = json!({
        "n1": {"type": "branch", "condition": {"property": "country", "op": "eq", "value": "BR"}, "then": "n2", "else": "n3"},
        "n2": end(), "n3": end()
    });
    let mut d = Driver::new(nodes.clone());
    d.contact = Contact::default().with("country", "br");
    assert_eq!(logs(&d.start())[1], log("n2", Outcome::Ok, None));
    let mut d = Driver::new(nodes);
    assert_eq!(logs(&d.start())[0], log("n1", Outcome::Ok, Some("else")));
}

#[test]
fn a_branch_sees_the_events_of_the_runs_own_sends() {
    let mut d = Driver::new(json!({
        "n1": sms("n2"),
        "n2": {"type": "delay", "duration": "PT1H", "next": "n3"},
        "n3": {"type": "branch", "condition": {"event": "SMS_CLICKED", "of": "n1", "op": "is_known"}, "then": "n4", "else": "n5"},
        "n4": end(), "n5": end()
    }));
    d.start();
    d.accept("n1", T0);
    d.event("n1", "SMS_CLICKED", T0 + 10, T0 + 10);
    let effects = d.feed(Input::Wake, T0 + HOUR);
    assert!(logs(&effects).contains(&log("n3", Outcome::Ok, Some("then"))));
}

// ---- delays --------------------------------------------------------------------------

#[test]
fn a_duration_delay_wakes_after_the_duration() {
    let mut d = Driver::new(json!({"n1": {"type": "delay", "duration": "PT2H", "next": "n2"}, "n2": end()}));
    let effects = d.start();
    assert_eq!(logs(&effects), [log("n1", Outcome::Waited, None)]);
    assert!(effects.contains(&Effect::ScheduleWake { at: T0 + 2 * HOUR }));
    assert_eq!(d.run.wake_at, Some(T0 + 2 * HOUR));
    let effects = d.feed(Input::Wake, T0 + 2 * HOUR);
    assert_eq!(logs(&effects)[0], log("n1", Outcome::Resumed, None));
    assert_eq!(d.run.status, RunStatus::Completed);
}

#[test]
fn a_wake_before_the_timer_is_due_changes_nothing() {
    let mut d = Driver::new(json!({"n1": {"type": "delay", "duration": "PT2H", "next": "n2"}, "n2": end()}));
    d.start();
    let before = d.run.clone();
    assert!(d.feed(Input::Wake, T0 + HOUR).is_empty());
    assert_eq!(d.run, before);
}

#[test]
fn an_until_time_delay_wakes_at_the_next_local_time_in_the_context_zone() {
    let mut d = Driver::new(json!({"n1": {"type": "delay", "until_time": "10:00", "next": "n2"}, "n2": end()}));
    d.tz = chrono_tz::America::Sao_Paulo;
    d.run = Run::new("r1", &d.def, at("2026-06-01T14:00:00Z")); // 11:00 in São Paulo
    d.feed(Input::Start, at("2026-06-01T14:00:00Z"));
    assert_eq!(d.run.wake_at.map(rfc).as_deref(), Some("2026-06-02T13:00:00Z"));
}

#[test]
fn an_until_date_in_the_past_continues_at_once() {
    let mut d = Driver::new(json!({
        "n1": {"type": "delay", "until_date": "2020-01-01T00:00:00Z", "next": "n2"}, "n2": end()
    }));
    let effects = d.start();
    assert_eq!(logs(&effects)[0].1, Outcome::Skipped);
    assert_eq!(d.run.status, RunStatus::Completed);
}

#[test]
fn an_until_date_in_the_future_wakes_at_that_instant() {
    let mut d = Driver::new(json!({
        "n1": {"type": "delay", "until_date": "2026-12-24T09:00:00Z", "next": "n2"}, "n2": end()
    }));
    d.start();
    assert_eq!(d.run.wake_at, Some(at("2026-12-24T09:00:00Z")));
}

// ---- waits ---------------------------------------------------------------------------

#[test]
fn a_wait_parks_for_its_events_with_the_timeout_as_wake() {
    let mut d = send_then_wait();
    d.start();
    let effects = d.accept("n1", T0);
    assert!(effects.contains(&Effect::WaitFor {
        of: "n1".into(),
        message_id: Some("msg-n1".into()),
        events: vec!["SMS_DELIVERED".into(), "SMS_NOT_DELIVERED".into()],
        until: T0 + HOUR,
    }));
    assert_eq!(d.run.wake_at, Some(T0 + HOUR));
    assert_eq!(d.run.status, RunStatus::Waiting);
}

#[test]
fn a_matching_event_resumes_the_wait_on_its_target() {
    let mut d = send_then_wait();
    d.start();
    d.accept("n1", T0);
    let effects = d.event("n1", "SMS_DELIVERED", T0 + 60, T0 + 60);
    assert_eq!(
        logs(&effects)[..2],
        [
            log("n2", Outcome::Resumed, Some("SMS_DELIVERED")),
            log("n3", Outcome::Ok, None)
        ]
    );
}

#[test]
fn a_wait_without_an_event_times_out_at_the_deadline() {
    let mut d = send_then_wait();
    d.start();
    d.accept("n1", T0);
    let effects = d.feed(Input::Wake, T0 + HOUR);
    assert_eq!(logs(&effects)[0], log("n2", Outcome::TimedOut, None));
    assert_eq!(logs(&effects)[1].0, "n4");
}

#[test]
fn an_event_recorded_before_the_wait_is_reached_resumes_it_at_once() {
    let mut d = Driver::new(json!({
        "n1": sms("n2"),
        "n2": {"type": "delay", "duration": "PT1H", "next": "n3"},
        "n3": {"type": "wait_event", "of": "n1", "events": ["SMS_DELIVERED"], "timeout": "PT1H",
               "on": {"SMS_DELIVERED": "n4", "timeout": "n5"}},
        "n4": end(), "n5": end()
    }));
    d.start();
    d.accept("n1", T0);
    assert!(d.event("n1", "SMS_DELIVERED", T0 + 5, T0 + 5).is_empty());
    let effects = d.feed(Input::Wake, T0 + HOUR);
    assert!(logs(&effects).contains(&log("n3", Outcome::Resumed, Some("SMS_DELIVERED"))));
    assert!(logs(&effects).contains(&log("n4", Outcome::Ok, None)));
}

#[test]
fn a_second_matching_event_after_resuming_changes_nothing_visible() {
    let mut d = Driver::new(json!({
        "n1": sms("n2"),
        "n2": {"type": "wait_event", "of": "n1", "events": ["SMS_DELIVERED"], "timeout": "PT1H",
               "on": {"SMS_DELIVERED": "n3", "timeout": "n3"}},
        "n3": {"type": "delay", "duration": "P1D", "next": "n4"},
        "n4": end()
    }));
    d.start();
    d.accept("n1", T0);
    d.event("n1", "SMS_DELIVERED", T0 + 1, T0 + 1);
    let before = d.run.clone();
    assert!(d.event("n1", "SMS_DELIVERED", T0 + 1, T0 + 2).is_empty());
    assert_eq!(d.run, before);
}

#[test]
fn a_late_wake_after_resuming_changes_nothing() {
    let mut d = Driver::new(json!({
        "n1": sms("n2"),
        "n2": {"type": "wait_event", "of": "n1", "events": ["SMS_DELIVERED"], "timeout": "PT1H",
               "on": {"SMS_DELIVERED": "n3", "timeout": "n4"}},
        "n3": sms("n4"),
        "n4": end()
    }));
    d.start();
    d.accept("n1", T0);
    d.event("n1", "SMS_DELIVERED", T0 + 1, T0 + 1);
    // The old timeout fires while the run waits for n3's send result.
    assert!(d.feed(Input::Wake, T0 + HOUR).is_empty());
    assert!(matches!(&d.run.parked, Some(Parked::SendResult { node, .. }) if node.as_str() == "n3"));
}

#[test]
fn an_event_nobody_waits_for_is_recorded_without_effects() {
    let mut d = send_then_wait();
    d.start();
    d.accept("n1", T0);
    let effects = d.event("n1", "SMS_CLICKED", T0 + 1, T0 + 1);
    assert!(effects.is_empty());
    assert_eq!(d.run.sends["n1"].events.len(), 1);
    assert_eq!(d.run.status, RunStatus::Waiting);
}

#[test]
fn an_event_for_a_send_the_run_never_made_changes_nothing() {
    let mut d = send_then_wait();
    d.start();
    let before = d.run.clone();
    assert!(d.event("n1", "SMS_DELIVERED", T0, T0).is_empty());
    assert!(d.event("n9", "SMS_DELIVERED", T0, T0).is_empty());
    assert_eq!(d.run, before);
}

#[test]
fn an_event_that_happened_after_the_deadline_takes_the_timeout() {
    let mut d = send_then_wait();
    d.start();
    d.accept("n1", T0);
    let effects = d.event("n1", "SMS_DELIVERED", T0 + 2 * HOUR, T0 + 2 * HOUR);
    assert_eq!(logs(&effects)[0], log("n2", Outcome::TimedOut, None));
}

#[test]
fn an_event_that_happened_before_the_deadline_wins_even_when_delivered_late() {
    let mut d = send_then_wait();
    d.start();
    d.accept("n1", T0);
    let effects = d.event("n1", "SMS_NOT_DELIVERED", T0 + HOUR - 1, T0 + 2 * HOUR);
    assert_eq!(
        logs(&effects)[0],
        log("n2", Outcome::Resumed, Some("SMS_NOT_DELIVERED"))
    );
}

// ---- exits, ends, bounds, time ------------------------------------------------------------

#[test]
fn exit_ends_the_run_even_during_a_delay() {
    let mut d = Driver::new(json!({"n1": {"type": "delay", "duration": "P7D", "next": "n2"}, "n2": end()}));
    d.start();
    let effects = d.feed(
        Input::Exit {
            reason: "exit_when".into(),
        },
        T0 + HOUR,
    );
    assert_eq!(logs(&effects), [log("n1", Outcome::Exited, Some("exit_when"))]);
    assert_eq!(ended(&effects), Some((EndStatus::Exited, Some("exit_when".into()))));
    assert_eq!((d.run.status, d.run.wake_at), (RunStatus::Exited, None));
}

#[test]
fn inputs_after_the_end_change_nothing() {
    let mut d = Driver::new(json!({"n1": end()}));
    d.start();
    let before = d.run.clone();
    for input in [Input::Start, Input::Wake, Input::Exit { reason: "x".into() }] {
        assert!(d.feed(input, T0 + HOUR).is_empty());
    }
    assert_eq!(d.run, before);
}

#[test]
fn start_on_a_started_run_changes_nothing() {
    let mut d = Driver::new(json!({"n1": sms("n2"), "n2": end()}));
    d.start();
    let before = d.run.clone();
    assert!(d.start().is_empty());
    assert_eq!(d.run, before);
}

/// n1 (bounded) → n2 branch back to n1 while `stop` is unknown: a loop without waits.
fn tight_loop(max_visits: u32) -> Driver {
    Driver::new(json!({
        "n1": {"type": "set_property", "property": "n", "value": "1", "next": "n2", "max_visits": max_visits},
        "n2": {"type": "branch", "condition": {"property": "stop", "op": "is_unknown"}, "then": "n1", "else": "n3"},
        "n3": end()
    }))
}

#[test]
fn a_branch_sees_a_property_set_earlier_in_the_same_advance() {
    let mut d = Driver::new(json!({
        "n1": {"type": "set_property", "property": "stage", "value": "lead", "next": "n2"},
        "n2": {"type": "branch", "condition": {"property": "stage", "op": "eq", "value": "lead"}, "then": "n3", "else": "n3"},
        "n3": end()
    }));
    assert_eq!(logs(&d.start())[1], log("n2", Outcome::Ok, Some("then")));
}

#[test]
fn entering_a_node_more_often_than_max_visits_fails_the_run() {
    let mut d = tight_loop(3);
    let effects = d.start();
    assert_eq!(d.run.visits["n1"], 4);
    assert_eq!(
        logs(&effects).last(),
        Some(&log("n1", Outcome::Failed, Some("max_visits")))
    );
    assert_eq!(ended(&effects), Some((EndStatus::Failed, Some("max_visits".into()))));
}

#[test]
fn the_step_limit_parks_the_run_with_a_wake_now_and_the_next_wake_continues() {
    let mut d = tight_loop(1_000);
    d.limits.max_steps_per_advance = 5;
    let effects = d.start();
    assert_eq!(logs(&effects).len(), 5);
    assert!(effects.contains(&Effect::ScheduleWake { at: T0 }));
    assert_eq!((d.run.status, d.run.wake_at), (RunStatus::Waiting, Some(T0)));
    let node_before = d.run.node.clone();
    let effects = d.feed(Input::Wake, T0);
    assert_eq!(logs(&effects)[0].0, node_before.as_str());
    assert_eq!(logs(&effects).len(), 5);
}

#[test]
fn an_earlier_now_is_taken_as_the_runs_last_advance() {
    let mut d =
        Driver::new(json!({"n1": sms("n2"), "n2": {"type": "delay", "duration": "PT1H", "next": "n3"}, "n3": end()}));
    d.start();
    d.accept("n1", T0 - 10 * HOUR);
    assert_eq!(d.run.last_advanced_at, T0);
    assert_eq!(d.run.wake_at, Some(T0 + HOUR));
}

#[test]
fn every_log_line_of_a_run_has_a_new_step() {
    let mut d = send_then_wait();
    let mut steps = Vec::new();
    let mut collect = |effects: Vec<Effect>| {
        for effect in effects {
            if let Effect::Log { step, .. } = effect {
                steps.push(step);
            }
        }
    };
    collect(d.start());
    collect(d.accept("n1", T0));
    collect(d.event("n1", "SMS_DELIVERED", T0 + 1, T0 + 1));
    assert_eq!(steps.len(), 5);
    assert!(steps.windows(2).all(|w| w[0] < w[1]), "{steps:?}");
}

#[test]
fn a_run_survives_a_json_round_trip_while_parked() {
    let mut d = send_then_wait();
    d.start();
    d.accept("n1", T0);
    let stored = serde_json::to_string(&d.run).unwrap();
    let loaded: Run = serde_json::from_str(&stored).unwrap();
    assert_eq!(loaded, d.run);
}
