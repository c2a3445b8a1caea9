//! Properties of the interpreter on random valid definitions and random,
//! repeated, out-of-order inputs.

mod common;

use common::{definition, Contact, HOUR};
use proptest::prelude::*;
use recado_flow::run::Parked;
use recado_flow::{advance, validate, AllowAll, Context, Definition, Effect, Input, Outcome, Run, SendOutcome};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, HashSet};

const T0: i64 = 1_780_000_000_000;

/// One generated node before ids are assigned: its kind and the random
/// choices that pick its targets and options.
#[derive(Clone, Debug)]
struct NodeSpec {
    kind: u8,
    pick: u8,
    other: u8,
    bounded: bool,
    flag: bool,
}

fn node_spec() -> impl Strategy<Value = NodeSpec> {
    (
        0u8..6,
        any::<u8>(),
        any::<u8>(),
        prop::bool::weighted(0.3),
        any::<bool>(),
    )
        .prop_map(|(kind, pick, other, bounded, flag)| NodeSpec {
            kind,
            pick,
            other,
            bounded,
            flag,
        })
}

/// Builds a valid definition from specs: node i always leads to node i+1
/// (so every node is reachable), other edges go forward, or back only to a
/// node with `max_visits` (so every loop is bounded); the last node ends.
fn build(specs: &[NodeSpec]) -> Value {
    let n = specs.len();
    let id = |i: usize| format!("n{i}");
    let mut nodes = Map::new();
    let mut sends: Vec<(usize, &str)> = Vec::new();
    for (i, spec) in specs.iter().enumerate() {
        let next = id(i + 1);
        let bounded_before: Vec<usize> = (0..=i).filter(|j| specs[*j].bounded).collect();
        let other = if spec.other % 3 == 0 && !bounded_before.is_empty() {
            id(bounded_before[spec.other as usize % bounded_before.len()])
        } else {
            id(i + 1 + spec.other as usize % (n - i))
        };
        let earlier_send = (!sends.is_empty()).then(|| sends[spec.pick as usize % sends.len()]);
        let mut node = match (spec.kind, earlier_send) {
            (0, _) => {
                sends.push((i, "sms"));
                let mut node = json!({"type": "send_sms", "from": "RECADO", "text": "Hi", "next": next,
                                      "defer_on_limit": spec.flag});
                if spec.pick % 2 == 0 {
                    node["on_failure"] = json!(other);
                }
                node
            }
            (1, _) => {
                sends.push((i, "whatsapp"));
                json!({"type": "send_whatsapp_text", "text": "Oi", "next": next, "on_failure": other,
                       "defer_on_limit": spec.flag})
            }
            (2, Some((of, channel))) => {
                let events = if channel == "sms" {
                    ["SMS_DELIVERED", "SMS_CLICKED"]
                } else {
                    ["WHATSAPP_DELIVERED", "WHATSAPP_READ"]
                };
                json!({"type": "wait_event", "of": id(of), "events": events, "timeout": "PT2H",
                       "on": {events[0]: next, events[1]: other, "timeout": id(i + 1 + spec.pick as usize % (n - i))}})
            }
            (3, Some((of, channel))) => {
                let event = if channel == "sms" {
                    "SMS_CLICKED"
                } else {
                    "WHATSAPP_READ"
                };
                json!({"type": "branch", "condition": {"event": event, "of": id(of), "op": "is_known"},
                       "then": next, "else": other})
            }
            (4, _) => json!({"type": "set_property", "property": "p", "value": "v", "next": next}),
            _ => json!({"type": "delay", "duration": format!("PT{}H", 1 + spec.pick % 3), "next": next}),
        };
        if spec.bounded {
            node["max_visits"] = json!(2);
        }
        nodes.insert(id(i), node);
    }
    nodes.insert(id(n), json!({"type": "end"}));
    json!({"triggers": [{"type": "manual"}], "start": "n0", "nodes": nodes})
}

/// What the test feeds next, resolved against the run's state at that time.
#[derive(Clone, Debug)]
enum Op {
    /// A wake at now + the given minutes (negative: a clock running late).
    Wake(i16),
    /// A wake at the run's own wake time.
    WakeWhenDue,
    /// The result of the send the run waits on, if any.
    Result {
        accepted: bool,
        limit: bool,
    },
    /// An event of some send of the definition, of some name.
    Event {
        send: u8,
        event: u8,
        minutes: i16,
    },
    /// The previous input, delivered again.
    Repeat,
    Exit,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (-120i16..600).prop_map(Op::Wake),
        Just(Op::WakeWhenDue),
        (prop::bool::weighted(0.8), any::<bool>()).prop_map(|(accepted, limit)| Op::Result { accepted, limit }),
        (any::<u8>(), any::<u8>(), -60i16..300).prop_map(|(send, event, minutes)| Op::Event { send, event, minutes }),
        Just(Op::Repeat),
        Just(Op::Exit),
    ]
}

const EVENTS: [&str; 5] = [
    "SMS_DELIVERED",
    "SMS_CLICKED",
    "WHATSAPP_DELIVERED",
    "WHATSAPP_READ",
    "SMS_NOT_DELIVERED",
];

fn send_nodes(def: &Definition) -> Vec<String> {
    def.nodes
        .iter()
        .filter(|(_, n)| n.type_name().starts_with("send_"))
        .map(|(id, _)| id.to_string())
        .collect()
}

fn resolve(op: &Op, run: &Run, sends: &[String], clock: i64, previous: &Option<(Input, i64)>) -> Option<(Input, i64)> {
    let minutes = |m: i16| clock + i64::from(m) * 60_000;
    Some(match op {
        Op::Wake(m) => (Input::Wake, minutes(*m)),
        Op::WakeWhenDue => (Input::Wake, run.wake_at.unwrap_or(clock)),
        Op::Result { accepted, limit } => {
            let node = match &run.parked {
                Some(Parked::SendResult { node, .. }) => node.clone(),
                _ => sends.first()?.as_str().into(),
            };
            let result = if *accepted {
                SendOutcome::Accepted {
                    message_id: format!("m-{}", run.step),
                }
            } else {
                SendOutcome::Refused {
                    reason: if *limit {
                        "messaging_limit_reached"
                    } else {
                        "not_subscribed"
                    }
                    .into(),
                    limit_reached: *limit,
                }
            };
            (Input::SendResult { node, result }, clock)
        }
        Op::Event {
            send,
            event,
            minutes: m,
        } => {
            let of = sends.get(*send as usize % sends.len().max(1))?;
            let at = minutes(*m);
            let input = Input::Event {
                of: of.as_str().into(),
                event: EVENTS[*event as usize % EVENTS.len()].into(),
                at,
            };
            (input, at.max(clock))
        }
        Op::Repeat => previous.clone()?,
        Op::Exit => (
            Input::Exit {
                reason: "exit_when".into(),
            },
            clock,
        ),
    })
}

/// Drives a run through `ops`, checking every invariant after each advance.
fn drive(def: &Definition, ops: &[Op]) -> Result<(), TestCaseError> {
    let contact = Contact::default();
    let ctx = Context::new(&contact, chrono_tz::Europe::Madrid);
    let sends = send_nodes(def);
    let mut run = Run::new("r", def, T0);
    let mut clock = T0;
    let mut keys = HashSet::new();
    let mut log_lines = HashSet::new();
    let mut previous: Option<(Input, i64)> = None;
    let starts = std::iter::once(Some((Input::Start, T0)));
    let mut inputs = starts.chain(ops.iter().map(|_| None));
    let mut ops = ops.iter();
    loop {
        let next = match inputs.next() {
            None => break,
            Some(Some(start)) => Some(start),
            Some(None) => resolve(ops.next().expect("one op per slot"), &run, &sends, clock, &previous),
        };
        let Some((input, now)) = next else { continue };
        clock = clock.max(now);
        let parked_wait = match &run.parked {
            Some(Parked::Event { .. }) => Some(run.node.clone()),
            _ => None,
        };
        let visits_before: BTreeMap<_, _> = run.visits.clone();
        let last_before = run.last_advanced_at;
        let step = advance(def, run, input.clone(), &ctx, now);
        run = step.run;
        previous = Some((input, now));

        // (b) time never goes backwards for a run.
        prop_assert!(run.last_advanced_at >= last_before);
        // (c) after every advance the run is ended or parked on something.
        prop_assert!(run.is_settled(), "not settled: {:?}", run);
        let mut resumptions: BTreeMap<String, usize> = BTreeMap::new();
        for effect in &step.effects {
            match effect {
                // (a) a send is asked for once per key, a log line once.
                Effect::Send { idempotency_key, .. } => {
                    prop_assert!(
                        keys.insert(idempotency_key.clone()),
                        "send repeated: {}",
                        idempotency_key
                    );
                }
                Effect::Log {
                    step, node, outcome, ..
                } => {
                    prop_assert!(log_lines.insert((*step, node.to_string(), *outcome)), "log repeated");
                    if matches!(outcome, Outcome::Resumed | Outcome::TimedOut)
                        && def.nodes[node].type_name() == "wait_event"
                    {
                        *resumptions.entry(node.to_string()).or_default() += 1;
                    }
                }
                _ => {}
            }
        }
        // (d) a wait resumes at most once per time it was entered or parked.
        for (node, count) in resumptions {
            let entered = run.visits.get(node.as_str()).copied().unwrap_or(0)
                - visits_before.get(node.as_str()).copied().unwrap_or(0);
            let was_parked = usize::from(parked_wait.as_ref().is_some_and(|w| w.as_str() == node));
            prop_assert!(count <= entered as usize + was_parked, "{node} resumed {count} times");
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn generated_definitions_are_valid(specs in prop::collection::vec(node_spec(), 1..9)) {
        let def = definition(build(&specs));
        prop_assert_eq!(validate(&def, &AllowAll), Ok(()));
    }

    #[test]
    fn random_inputs_keep_every_run_invariant(
        specs in prop::collection::vec(node_spec(), 1..9),
        ops in prop::collection::vec(op(), 0..60),
    ) {
        let def = definition(build(&specs));
        drive(&def, &ops)?;
    }

    #[test]
    fn a_parked_wait_resumes_exactly_once_however_often_inputs_are_redelivered(
        redeliveries in prop::collection::vec((any::<bool>(), 0u8..3, 0i64..(3 * 60)), 0..30),
    ) {
        let def = definition(json!({"triggers": [{"type": "manual"}], "start": "n1", "nodes": {
            "n1": {"type": "send_sms", "from": "RECADO", "text": "Hi", "next": "n2"},
            "n2": {"type": "wait_event", "of": "n1", "events": ["SMS_DELIVERED", "SMS_CLICKED"], "timeout": "PT1H",
                   "on": {"SMS_DELIVERED": "n3", "SMS_CLICKED": "n3", "timeout": "n3"}},
            "n3": {"type": "delay", "duration": "P1D", "next": "n4"},
            "n4": {"type": "end"}
        }}));
        let contact = Contact::default();
        let ctx = Context::new(&contact, chrono_tz::UTC);
        let mut run = advance(&def, Run::new("r", &def, T0), Input::Start, &ctx, T0).run;
        let accepted = SendOutcome::Accepted { message_id: "m".into() };
        run = advance(&def, run, Input::SendResult { node: "n1".into(), result: accepted }, &ctx, T0).run;
        let mut inputs: Vec<(Input, i64)> = redeliveries
            .into_iter()
            .map(|(is_event, event, minutes)| {
                let at = T0 + minutes * 60_000;
                if is_event {
                    let name = ["SMS_DELIVERED", "SMS_CLICKED", "SMS_NOT_DELIVERED"][event as usize];
                    (Input::Event { of: "n1".into(), event: name.into(), at }, at)
                } else {
                    (Input::Wake, at)
                }
            })
            .collect();
        // However the redeliveries went, the deadline passes in the end.
        inputs.push((Input::Wake, T0 + 2 * HOUR));
        inputs.push((Input::Wake, T0 + 2 * HOUR));
        let mut resumed = 0;
        for (input, now) in inputs {
            let step = advance(&def, run, input, &ctx, now);
            run = step.run;
            resumed += step
                .effects
                .iter()
                .filter(|e| matches!(e, Effect::Log { node, outcome: Outcome::Resumed | Outcome::TimedOut, .. }
                    if node.as_str() == "n2"))
                .count();
        }
        prop_assert_eq!(resumed, 1);
    }
}
