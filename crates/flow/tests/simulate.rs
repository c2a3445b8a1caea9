mod common;

use common::{definition, Contact, DAY, HOUR};
use recado_flow::simulate::MAX_SIMULATED_ADVANCES;
use recado_flow::{simulate, Definition, Outcome, SendAction, SendOutcome, SimEvent, SimStep};
use serde_json::{json, Value};

const T0: i64 = 1_780_000_000_000;

fn workflow(nodes: Value) -> Definition {
    definition(json!({"triggers": [{"type": "manual"}], "start": "n1", "nodes": nodes}))
}

fn accepted(_: &SendAction) -> SendOutcome {
    SendOutcome::Accepted {
        message_id: "sim".into(),
    }
}

/// (offset from T0, node, outcome) of each step.
fn path(steps: &[SimStep]) -> Vec<(i64, &str, Outcome)> {
    steps
        .iter()
        .map(|s| (s.at - T0, s.node_id.as_str(), s.outcome))
        .collect()
}

fn click_flow() -> Definition {
    workflow(json!({
        "n1": {"type": "send_sms", "from": "RECADO", "text": "Hi", "next": "n2"},
        "n2": {"type": "wait_event", "of": "n1", "events": ["SMS_CLICKED"], "timeout": "PT24H",
               "on": {"SMS_CLICKED": "n3", "timeout": "n4"}},
        "n3": {"type": "end"},
        "n4": {"type": "send_sms", "from": "RECADO", "text": "Reminder", "next": "n3"}
    }))
}

#[test]
fn a_scripted_event_resumes_the_wait_at_its_virtual_time() {
    let events = [SimEvent {
        after_ms: 2 * HOUR,
        event: "SMS_CLICKED".into(),
        of: "n1".into(),
    }];
    let steps = simulate(
        &click_flow(),
        &Contact::default(),
        chrono_tz::UTC,
        T0,
        &events,
        accepted,
    );
    assert_eq!(
        path(&steps),
        [
            (0, "n1", Outcome::Ok),
            (0, "n2", Outcome::Waited),
            (2 * HOUR, "n2", Outcome::Resumed),
            (2 * HOUR, "n3", Outcome::Ok)
        ]
    );
}

#[test]
fn without_events_timers_jump_virtual_time_to_the_timeout() {
    let steps = simulate(&click_flow(), &Contact::default(), chrono_tz::UTC, T0, &[], accepted);
    assert_eq!(
        path(&steps),
        [
            (0, "n1", Outcome::Ok),
            (0, "n2", Outcome::Waited),
            (DAY, "n2", Outcome::TimedOut),
            (DAY, "n4", Outcome::Ok),
            (DAY, "n3", Outcome::Ok)
        ]
    );
}

#[test]
fn send_steps_show_what_would_be_sent() {
    let steps = simulate(&click_flow(), &Contact::default(), chrono_tz::UTC, T0, &[], accepted);
    let texts: Vec<Option<String>> = steps
        .iter()
        .map(|s| match &s.would_send {
            Some(SendAction::Sms(sms)) => Some(sms.text.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(texts, [Some("Hi".into()), None, None, Some("Reminder".into()), None]);
}

#[test]
fn a_refusal_from_outcomes_takes_the_failure_path() {
    let steps = simulate(&click_flow(), &Contact::default(), chrono_tz::UTC, T0, &[], |_| {
        SendOutcome::Refused {
            reason: "not_subscribed".into(),
            limit_reached: false,
        }
    });
    assert_eq!(path(&steps), [(0, "n1", Outcome::Failed)]);
    assert_eq!(steps[0].reason.as_deref(), Some("not_subscribed"));
    assert!(steps[0].would_send.is_some());
}

#[test]
fn a_property_set_by_the_workflow_is_seen_by_a_later_branch() {
    let def = workflow(json!({
        "n1": {"type": "set_property", "property": "stage", "value": "lead", "next": "n2"},
        "n2": {"type": "branch", "condition": {"property": "stage", "op": "eq", "value": "lead"}, "then": "n3", "else": "n4"},
        "n3": {"type": "end"}, "n4": {"type": "end"}
    }));
    let steps = simulate(&def, &Contact::default(), chrono_tz::UTC, T0, &[], accepted);
    assert_eq!(steps[1].reason.as_deref(), Some("then"));
}

#[test]
fn exit_when_ends_the_simulated_run_when_it_holds() {
    let mut def = workflow(json!({
        "n1": {"type": "set_property", "property": "customer", "value": "yes", "next": "n2"},
        "n2": {"type": "delay", "duration": "P1D", "next": "n3"},
        "n3": {"type": "end"}
    }));
    def.settings.exit_when =
        Some(recado_flow::Condition::parse(&json!({"property": "customer", "op": "is_known"})).unwrap());
    let steps = simulate(&def, &Contact::default(), chrono_tz::UTC, T0, &[], accepted);
    assert_eq!(
        path(&steps),
        [
            (0, "n1", Outcome::Ok),
            (0, "n2", Outcome::Waited),
            (0, "n2", Outcome::Exited)
        ]
    );
}

#[test]
fn a_simulation_is_bounded_even_for_a_long_loop() {
    let def = workflow(json!({
        "n1": {"type": "delay", "duration": "PT1M", "next": "n2", "max_visits": 100000},
        "n2": {"type": "branch", "condition": {"property": "x", "op": "is_unknown"}, "then": "n1", "else": "n3"},
        "n3": {"type": "end"}
    }));
    let steps = simulate(&def, &Contact::default(), chrono_tz::UTC, T0, &[], accepted);
    assert!(steps.len() <= 3 * MAX_SIMULATED_ADVANCES, "{}", steps.len());
    assert!(steps.len() >= MAX_SIMULATED_ADVANCES);
}
