//! Segments in SQL, on the backend `RECADO_TEST_BACKEND` names: the compiled
//! conditions match exactly the contacts `Condition::matches` matches, and the
//! property values they read stay in step with every contact write.

use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::{Config, TestRunner};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use recado_core::consent::{Channel, SubscriptionStatus};
use recado_core::ids::{new_id, IdKind};
use recado_flow::condition::{EventQuery, EventScope, Facts};
use recado_flow::Condition;
use recado_store::contacts::ContactWrite;
use recado_store::segments::SegmentRecord;
use recado_store::testing::TestDatabase;
use recado_store::timeline::NewTimelineEvent;
use recado_store::workspaces::Workspace;
use recado_store::{Store, StoreError};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};

/// The evaluation time of every condition: 2026-11-16T09:00:00Z.
const NOW: i64 = 1_794_819_600_000;
const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;

async fn workspace(store: &Store, name: &str) -> String {
    let id = new_id(IdKind::Workspace);
    store
        .create_workspace(&Workspace {
            id: id.clone(),
            name: name.into(),
            default_country: None,
            timezone: "UTC".into(),
            created_at: 1,
        })
        .await
        .unwrap();
    id
}

fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn condition(json: Value) -> Condition {
    Condition::parse(&json).unwrap_or_else(|e| panic!("{json}: {e}"))
}

async fn insert(store: &Store, ws: &str, properties: &BTreeMap<String, String>) -> String {
    let id = new_id(IdKind::Contact);
    store
        .insert_contact(&ContactWrite {
            workspace_id: ws,
            id: &id,
            properties,
            phones: &BTreeMap::new(),
            now: 10,
        })
        .await
        .unwrap();
    id
}

async fn update(store: &Store, ws: &str, id: &str, properties: &BTreeMap<String, String>) {
    store
        .update_contact(&ContactWrite {
            workspace_id: ws,
            id,
            properties,
            phones: &BTreeMap::new(),
            now: 20,
        })
        .await
        .unwrap();
}

async fn set_subscription(store: &Store, ws: &str, contact: &str, channel: Channel, status: &str) {
    recado_store::on_writer!(store, |pool| {
        sqlx::query(
            "INSERT INTO subscriptions (workspace_id, contact_id, channel, status, source, actor, updated_at) \
             VALUES ($1, $2, $3, $4, 'import', 'system', 1)",
        )
        .bind(ws)
        .bind(contact)
        .bind(channel.as_str())
        .bind(status)
        .execute(pool)
        .await
        .unwrap();
    });
}

fn props(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

// ---- the model: a contact as the evaluator sees it ------------------------

#[derive(Clone, Debug)]
struct Event {
    kind: &'static str,
    campaign: Option<&'static str>,
    sender: Option<&'static str>,
    message_id: Option<&'static str>,
    at: i64,
}

#[derive(Clone, Debug, Default)]
struct Model {
    id: String,
    properties: BTreeMap<String, String>,
    subscriptions: HashMap<Channel, String>,
    events: Vec<Event>,
    erased: bool,
}

impl Facts for Model {
    fn property(&self, key: &str) -> Option<String> {
        self.properties.get(key).cloned()
    }

    fn subscription(&self, channel: Channel) -> Option<SubscriptionStatus> {
        self.subscriptions.get(&channel).and_then(|s| s.parse().ok())
    }

    fn event_times(&self, query: &EventQuery) -> Vec<i64> {
        self.events
            .iter()
            .filter(|e| e.kind == query.event)
            .filter(|e| match &query.scope {
                EventScope::Campaign(c) => e.campaign == Some(c.as_str()),
                EventScope::AnyMessage => true,
                EventScope::Send(_) => false,
            })
            .filter(|e| query.sender.as_deref().is_none_or(|s| e.sender == Some(s)))
            .filter(|e| query.message_id.as_deref().is_none_or(|m| e.message_id == Some(m)))
            .map(|e| e.at)
            .collect()
    }
}

const KEYS: [&str; 6] = ["country", "city", "age", "signup", "vip", "note"];

/// Property values that put the evaluator's rules to the test: case and
/// Unicode case mappings that change length or depend on position, numbers
/// in many spellings (and texts that merely look like numbers), dates in
/// both accepted forms and near misses, truth values, pattern characters.
const VALUES: &[&str] = &[
    "BR",
    "br",
    "Br",
    " BR",
    "ÉCOLE",
    "école",
    "Straße",
    "STRASSE",
    "strasse",
    "İstanbul",
    "istanbul",
    "ΟΔΟΣ",
    "οδος",
    "\u{212A}elvin",
    "kelvin",
    "ǅemal",
    "São Paulo",
    "SÃO PAULO",
    "10",
    "10.0",
    "1e1",
    " 10 ",
    "-0",
    "0",
    "3.5",
    "-3.5",
    "1e400",
    "NaN",
    "inf",
    "0x10",
    "١٠",
    "0.30000000000000004",
    "18446744073709551615",
    "2026-01-01",
    "2026-1-1",
    "2026-01-01T10:00:00Z",
    "2026-01-01T10:00:00+02:00",
    "2026-11-09",
    "2026-11-16T09:00:00Z",
    "2026-11-16T09:00:00.001Z",
    "20260101",
    "12026-01-01",
    "true",
    "TRUE",
    " True ",
    "false",
    "FALSE",
    "yes",
    "a%b",
    "a_b",
    "100%",
    "Lisboa",
    "lisboa centro",
    "",
];

/// Values conditions compare with, beside [`VALUES`].
const TEXTS: &[&str] = &[
    "br",
    "BR",
    "École",
    "straße",
    "strasse",
    "İSTANBUL",
    "i̇stanbul",
    "οδος",
    "οδοσ",
    "kelvin",
    "\u{212A}ELVIN",
    "ǆemal",
    "são paulo",
    "10",
    "true",
    "True",
    "a%b",
    "lisboa",
    "2026-01-01",
    "",
];

const PARTS: &[&str] = &[
    "br", "ÉC", "ss", "ß", "%", "_", "0", "1", "i̇", "ς", "σ", "paulo", "ÃO", "e", "-", " ", "lisboa c",
];

const EVENTS: [&str; 3] = ["SMS_DELIVERED", "SMS_CLICKED", "WHATSAPP_READ"];
const CAMPAIGNS: [Option<&str>; 4] = [None, Some("BF"), Some("bf"), Some("Xmas")];
const SENDERS: [Option<&str>; 3] = [None, Some("RECADO"), Some("recado")];
const MESSAGES: [Option<&str>; 3] = [None, Some("msg_a"), Some("msg_b")];
const EVENT_TIMES: [i64; 7] = [
    NOW - 30 * DAY,
    NOW - 7 * DAY,
    NOW - 7 * DAY + 1,
    NOW - HOUR,
    NOW,
    NOW + 1,
    NOW + DAY,
];

fn random_properties(rng: &mut StdRng) -> BTreeMap<String, String> {
    let mut properties = BTreeMap::new();
    for key in KEYS {
        if rng.gen_bool(0.6) {
            properties.insert(key.to_string(), VALUES.choose(rng).unwrap().to_string());
        }
    }
    properties
}

/// Writes a workspace of random contacts (some updated after insertion,
/// some erased, each with random subscriptions and timeline events), plus
/// a second workspace whose contacts must never match, and returns the
/// models of the first.
async fn random_workspace(store: &Store, seed: u64, contacts: usize) -> (String, Vec<Model>) {
    let mut rng = StdRng::seed_from_u64(seed);
    let ws = workspace(store, &format!("ws{seed}")).await;
    let other = workspace(store, &format!("other{seed}")).await;
    let mut models = Vec::new();
    for n in 0..contacts {
        let in_other = n % 10 == 9;
        let ws_of = if in_other { &other } else { &ws };
        let mut model = Model {
            properties: random_properties(&mut rng),
            ..Default::default()
        };
        model.id = insert(store, ws_of, &model.properties).await;
        if rng.gen_bool(0.3) {
            model.properties = random_properties(&mut rng);
            update(store, ws_of, &model.id, &model.properties).await;
        }
        for channel in Channel::ALL {
            let status = ["subscribed", "unsubscribed", "not_specified", "none"]
                .choose(&mut rng)
                .unwrap();
            if *status != "none" {
                set_subscription(store, ws_of, &model.id, channel, status).await;
                model.subscriptions.insert(channel, status.to_string());
            }
        }
        for _ in 0..rng.gen_range(0..4) {
            let event = Event {
                kind: EVENTS.choose(&mut rng).unwrap(),
                campaign: *CAMPAIGNS.choose(&mut rng).unwrap(),
                sender: *SENDERS.choose(&mut rng).unwrap(),
                message_id: *MESSAGES.choose(&mut rng).unwrap(),
                at: *EVENT_TIMES.choose(&mut rng).unwrap(),
            };
            store
                .add_timeline_event(&NewTimelineEvent {
                    workspace_id: ws_of,
                    contact_id: &model.id,
                    kind: event.kind,
                    at: event.at,
                    message_id: event.message_id,
                    campaign: event.campaign,
                    sender: event.sender,
                    details: json!({}),
                })
                .await
                .unwrap();
            model.events.push(event);
        }
        if rng.gen_bool(0.1) {
            store.erase_contact(ws_of, &model.id, 30).await.unwrap();
            model.erased = true;
            model.properties.clear();
            model.subscriptions.clear();
            for e in &mut model.events {
                e.sender = None;
            }
        }
        if !in_other {
            models.push(model);
        }
    }
    (ws, models)
}

// ---- random conditions -----------------------------------------------------

fn number() -> impl Strategy<Value = Value> {
    select(vec![
        json!(10),
        json!(10.0),
        json!(10.5),
        json!(0),
        json!(-0.0),
        json!(3.5),
        json!(-3.5),
        json!(-5),
        json!(0.30000000000000004),
        json!(1e300),
        json!(18446744073709551615u64),
    ])
}

fn date() -> impl Strategy<Value = Value> {
    let mut dates: Vec<Value> = [
        "2026-01-01T00:00:00Z",
        "2026-01-01T08:00:00Z",
        "2026-01-01T10:00:00Z",
        "2026-11-09T00:00:00Z",
        "-P7D",
        "-P319D",
        "P1D",
        "-PT1H",
        "PT0S",
    ]
    .iter()
    .map(|d| json!(d))
    .collect();
    dates.extend(EVENT_TIMES.iter().map(|t| json!(rfc3339(*t))));
    select(dates)
}

fn property_leaf() -> impl Strategy<Value = Value> {
    let texts: Vec<&str> = VALUES.iter().chain(TEXTS).copied().collect();
    let literal = prop_oneof![
        select(texts).prop_map(|t| json!(t)),
        number(),
        any::<bool>().prop_map(|b| json!(b)),
    ];
    let key = select(KEYS.iter().copied().chain(["missing"]).collect::<Vec<_>>());
    let op = prop_oneof![
        (select(vec!["eq", "neq"]), literal).prop_map(|(op, v)| (op, Some(v))),
        select(vec!["is_known", "is_unknown"]).prop_map(|op| (op, None)),
        select(PARTS.to_vec()).prop_map(|p| ("contains", Some(json!(p)))),
        (select(vec!["gt", "lt"]), number()).prop_map(|(op, v)| (op, Some(v))),
        (select(vec!["before", "after"]), date()).prop_map(|(op, v)| (op, Some(v))),
    ];
    (key, op).prop_map(|(key, (op, value))| {
        let mut leaf = json!({"property": key, "op": op});
        if let Some(value) = value {
            leaf["value"] = value;
        }
        leaf
    })
}

fn subscription_leaf() -> impl Strategy<Value = Value> {
    (
        select(vec!["sms", "whatsapp", "voice"]),
        select(vec!["eq", "neq"]),
        select(vec!["subscribed", "unsubscribed", "not_specified"]),
    )
        .prop_map(|(channel, op, status)| json!({"subscription": channel, "op": op, "value": status}))
}

fn event_leaf() -> impl Strategy<Value = Value> {
    (
        select(EVENTS.to_vec()),
        select(CAMPAIGNS.to_vec()),
        select(SENDERS.to_vec()),
        select(MESSAGES.to_vec()),
        proptest::option::weighted(0.3, date()),
        proptest::option::weighted(0.3, date()),
        any::<bool>(),
    )
        .prop_map(|(event, campaign, sender, message_id, since, until, known)| {
            let mut leaf = json!({"event": event, "op": if known { "is_known" } else { "is_unknown" }});
            for (key, value) in [
                ("campaign", campaign.map(|c| json!(c))),
                ("sender", sender.map(|s| json!(s))),
                ("message_id", message_id.map(|m| json!(m))),
                ("since", since),
                ("until", until),
            ] {
                if let Some(value) = value {
                    leaf[key] = value;
                }
            }
            leaf
        })
}

fn conditions() -> impl Strategy<Value = Condition> {
    let leaf = prop_oneof![4 => property_leaf(), 1 => subscription_leaf(), 2 => event_leaf()];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 1..4).prop_map(|items| json!({"all": items})),
            proptest::collection::vec(inner, 1..4).prop_map(|items| json!({"any": items})),
        ]
    })
    .prop_map(condition)
}

fn expected(models: &[Model], condition: &Condition) -> Vec<String> {
    let mut ids: Vec<String> = models
        .iter()
        .filter(|m| !m.erased && condition.matches(*m, NOW))
        .map(|m| m.id.clone())
        .collect();
    ids.sort();
    ids
}

/// Runs `cases` random conditions against a random workspace: the ids
/// `matching_contact_ids` returns, and the count, are those of the contacts
/// for which `Condition::matches` holds on the same data.
fn check_conformance(seed: u64, contacts: usize, cases: u32) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let db = runtime.block_on(TestDatabase::new());
    let store = runtime.block_on(db.store());
    let (ws, models) = runtime.block_on(random_workspace(&store, seed, contacts));
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&conditions(), |condition| {
        let want = expected(&models, &condition);
        let (ids, count) = runtime.block_on(async {
            let ids = store
                .matching_contact_ids(&ws, &condition, NOW, None, 10_000)
                .await
                .unwrap();
            let count = store.count_matching(&ws, &condition, NOW).await.unwrap();
            (ids, count)
        });
        let differing: Vec<&Model> = models
            .iter()
            .filter(|m| want.contains(&m.id) != ids.contains(&m.id))
            .collect();
        prop_assert!(
            differing.is_empty(),
            "condition {} in SQL disagrees with the evaluator on {differing:#?}",
            condition.to_json()
        );
        prop_assert_eq!(count, want.len() as u64);
        Ok(())
    });
    drop(store);
    if let Err(e) = result {
        panic!("{e}");
    }
}

#[test]
fn segments_in_sql_match_exactly_the_contacts_the_evaluator_matches() {
    check_conformance(1, 90, 400);
}

#[test]
fn segments_in_sql_match_the_evaluator_on_another_random_workspace() {
    check_conformance(2, 60, 250);
}

#[test]
fn one_contacts_match_in_sql_is_the_evaluators_answer() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let db = runtime.block_on(TestDatabase::new());
    let store = runtime.block_on(db.store());
    let (ws, models) = runtime.block_on(random_workspace(&store, 3, 30));
    let mut runner = TestRunner::new(Config {
        cases: 40,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&conditions(), |condition| {
        for model in &models {
            let matches = runtime
                .block_on(store.contact_matches(&ws, &model.id, &condition, NOW))
                .unwrap();
            prop_assert_eq!(
                matches,
                !model.erased && condition.matches(model, NOW),
                "{} for {:?}",
                condition.to_json(),
                model
            );
        }
        Ok(())
    });
    drop(store);
    if let Err(e) = result {
        panic!("{e}");
    }
}

// ---- paging, workspaces, segment records -----------------------------------

#[tokio::test]
async fn matching_ids_page_by_ascending_id_without_gaps() {
    let db = TestDatabase::new().await;
    let store = db.store().await;
    let ws = workspace(&store, "acme").await;
    let mut ids = Vec::new();
    for n in 0..7 {
        ids.push(insert(&store, &ws, &props(&[("age", &n.to_string())])).await);
    }
    insert(&store, &ws, &props(&[("city", "Porto")])).await;
    let adults = condition(json!({"property": "age", "op": "gt", "value": 1}));
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = store
            .matching_contact_ids(&ws, &adults, NOW, after.as_deref(), 2)
            .await
            .unwrap();
        if page.is_empty() {
            break;
        }
        assert!(page.len() <= 2);
        after = page.last().cloned();
        seen.extend(page);
    }
    assert_eq!(seen, ids[2..].to_vec());
    let contacts = store
        .matching_contacts(&ws, &adults, NOW, Some(&ids[5]), 10)
        .await
        .unwrap();
    let found: Vec<&str> = contacts.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(found, vec![ids[6].as_str()]);
    assert_eq!(contacts[0].properties, props(&[("age", "6")]));
}

#[tokio::test]
async fn conditions_never_match_another_workspaces_contacts() {
    let db = TestDatabase::new().await;
    let store = db.store().await;
    let ws = workspace(&store, "acme").await;
    let other = workspace(&store, "globex").await;
    let theirs = insert(&store, &other, &props(&[("city", "Lisboa")])).await;
    let everyone = condition(json!({"property": "city", "op": "is_unknown"}));
    let lisbon = condition(json!({"property": "city", "op": "eq", "value": "lisboa"}));
    assert_eq!(store.count_matching(&ws, &everyone, NOW).await.unwrap(), 0);
    assert_eq!(store.count_matching(&ws, &lisbon, NOW).await.unwrap(), 0);
    assert!(!store.contact_matches(&ws, &theirs, &lisbon, NOW).await.unwrap());
    assert!(store.contact_matches(&other, &theirs, &lisbon, NOW).await.unwrap());
}

#[tokio::test]
async fn a_condition_about_a_workflow_send_is_refused_in_sql() {
    let db = TestDatabase::new().await;
    let store = db.store().await;
    let ws = workspace(&store, "acme").await;
    let of_send = condition(json!({"event": "SMS_CLICKED", "of": "n1", "op": "is_known"}));
    let refused = store.count_matching(&ws, &of_send, NOW).await;
    assert!(matches!(refused, Err(StoreError::Unsupported(_))), "{refused:?}");
}

#[tokio::test]
async fn event_times_of_a_contact_follow_the_query() {
    let db = TestDatabase::new().await;
    let store = db.store().await;
    let ws = workspace(&store, "acme").await;
    let id = insert(&store, &ws, &props(&[])).await;
    for (kind, campaign, at) in [
        ("SMS_CLICKED", Some("BF"), NOW - DAY),
        ("SMS_CLICKED", Some("Xmas"), NOW - HOUR),
        ("SMS_CLICKED", None, NOW),
        ("SMS_DELIVERED", Some("BF"), NOW),
    ] {
        store
            .add_timeline_event(&NewTimelineEvent {
                workspace_id: &ws,
                contact_id: &id,
                kind,
                at,
                message_id: None,
                campaign,
                sender: None,
                details: json!({}),
            })
            .await
            .unwrap();
    }
    let query = |scope: EventScope, since: Option<i64>| EventQuery {
        event: "SMS_CLICKED".into(),
        scope,
        sender: None,
        message_id: None,
        since,
        until: None,
    };
    let times = |q: EventQuery| {
        let (store, ws, id) = (&store, &ws, &id);
        async move { store.event_times(ws, id, &q).await.unwrap() }
    };
    assert_eq!(
        times(query(EventScope::AnyMessage, None)).await,
        vec![NOW - DAY, NOW - HOUR, NOW]
    );
    assert_eq!(
        times(query(EventScope::Campaign("BF".into()), None)).await,
        vec![NOW - DAY]
    );
    assert_eq!(
        times(query(EventScope::AnyMessage, Some(NOW - HOUR))).await,
        vec![NOW - HOUR, NOW]
    );
}

#[tokio::test]
async fn segments_are_stored_listed_changed_and_deleted_per_workspace() {
    let db = TestDatabase::new().await;
    let store = db.store().await;
    let ws = workspace(&store, "acme").await;
    let other = workspace(&store, "globex").await;
    let mut records = Vec::new();
    for name in ["first", "second", "third"] {
        let record = SegmentRecord {
            id: new_id(IdKind::Segment),
            workspace_id: ws.clone(),
            name: name.into(),
            filter: condition(json!({"any": [{"property": "city", "op": "eq", "value": name}]})),
            created_at: 5,
            updated_at: 5,
        };
        store.insert_segment(&record).await.unwrap();
        records.push(record);
    }
    assert_eq!(store.segment(&ws, &records[0].id).await.unwrap(), records[0]);
    assert!(matches!(
        store.segment(&other, &records[0].id).await,
        Err(StoreError::NotFound)
    ));

    let first_page = store.segments(&ws, None, 2).await.unwrap();
    let names: Vec<&str> = first_page.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["third", "second"]);
    let rest = store.segments(&ws, Some(&first_page[1].id), 2).await.unwrap();
    assert_eq!(rest, vec![records[0].clone()]);
    assert!(store.segments(&other, None, 10).await.unwrap().is_empty());

    let mut changed = records[1].clone();
    changed.name = "renamed".into();
    changed.filter = condition(json!({"subscription": "sms", "op": "eq", "value": "subscribed"}));
    changed.updated_at = 9;
    store.update_segment(&changed).await.unwrap();
    assert_eq!(store.segment(&ws, &changed.id).await.unwrap(), changed);
    let mut foreign = changed.clone();
    foreign.workspace_id = other.clone();
    assert!(matches!(
        store.update_segment(&foreign).await,
        Err(StoreError::NotFound)
    ));

    assert!(matches!(
        store.delete_segment(&other, &changed.id).await,
        Err(StoreError::NotFound)
    ));
    store.delete_segment(&ws, &changed.id).await.unwrap();
    assert!(matches!(
        store.segment(&ws, &changed.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.delete_segment(&ws, &changed.id).await,
        Err(StoreError::NotFound)
    ));
}

// ---- property values in step with contact writes ---------------------------

/// The stored `contact_property_values` rows of a contact: property →
/// (text_lower, num, at_ms).
async fn value_rows(store: &Store, contact: &str) -> BTreeMap<String, (String, Option<f64>, Option<i64>)> {
    let rows: Vec<(String, String, Option<f64>, Option<i64>)> = recado_store::on_reader!(store, |pool| {
        sqlx::query_as(
            "SELECT property, text_lower, num, at_ms FROM contact_property_values WHERE contact_id = $1 ORDER BY property",
        )
        .bind(contact)
        .fetch_all(pool)
        .await
        .unwrap()
    });
    rows.into_iter().map(|(p, t, n, a)| (p, (t, n, a))).collect()
}

#[tokio::test]
async fn property_values_are_written_with_the_contact() {
    let db = TestDatabase::new().await;
    let store = db.store().await;
    let ws = workspace(&store, "acme").await;
    let id = insert(
        &store,
        &ws,
        &props(&[
            ("city", "São Paulo"),
            ("age", " 42 "),
            ("signup", "2026-01-01"),
            ("note", ""),
        ]),
    )
    .await;
    let rows = value_rows(&store, &id).await;
    assert_eq!(
        rows,
        BTreeMap::from([
            ("age".to_string(), (" 42 ".to_string(), Some(42.0), None)),
            ("city".to_string(), ("são paulo".to_string(), None, None)),
            (
                "signup".to_string(),
                ("2026-01-01".to_string(), None, Some(1_767_225_600_000))
            ),
        ]),
        "an empty value is unknown and has no row"
    );
}

#[tokio::test]
async fn property_values_follow_an_update() {
    let db = TestDatabase::new().await;
    let store = db.store().await;
    let ws = workspace(&store, "acme").await;
    let id = insert(&store, &ws, &props(&[("city", "Lisboa"), ("age", "17")])).await;
    update(&store, &ws, &id, &props(&[("city", "PORTO"), ("vip", "true")])).await;
    let rows = value_rows(&store, &id).await;
    let keys: Vec<&str> = rows.keys().map(String::as_str).collect();
    assert_eq!(keys, ["city", "vip"], "a property the update dropped has no row left");
    assert_eq!(rows["city"].0, "porto");
    let porto = condition(json!({"property": "city", "op": "eq", "value": "porto"}));
    let lisbon = condition(json!({"property": "city", "op": "eq", "value": "lisboa"}));
    let minors = condition(json!({"property": "age", "op": "lt", "value": 18}));
    let vip = condition(json!({"property": "vip", "op": "eq", "value": true}));
    for (c, want) in [(&porto, 1), (&lisbon, 0), (&minors, 0), (&vip, 1)] {
        assert_eq!(
            store.count_matching(&ws, c, NOW).await.unwrap(),
            want,
            "{}",
            c.to_json()
        );
    }
}

#[tokio::test]
async fn a_cleared_property_loses_its_value_row() {
    let db = TestDatabase::new().await;
    let store = db.store().await;
    let ws = workspace(&store, "acme").await;
    let id = insert(&store, &ws, &props(&[("city", "Lisboa"), ("age", "30")])).await;
    // What PATCH with `"city": null` writes: the properties without it.
    update(&store, &ws, &id, &props(&[("age", "30")])).await;
    assert_eq!(value_rows(&store, &id).await.keys().collect::<Vec<_>>(), ["age"]);
    let unknown_city = condition(json!({"property": "city", "op": "is_unknown"}));
    assert!(store.contact_matches(&ws, &id, &unknown_city, NOW).await.unwrap());
}

#[tokio::test]
async fn erasing_a_contact_removes_its_property_values_and_its_matches() {
    let db = TestDatabase::new().await;
    let store = db.store().await;
    let ws = workspace(&store, "acme").await;
    let id = insert(&store, &ws, &props(&[("city", "Lisboa")])).await;
    store.erase_contact(&ws, &id, 30).await.unwrap();
    assert!(value_rows(&store, &id).await.is_empty());
    let anyone = condition(json!({"property": "city", "op": "is_unknown"}));
    assert_eq!(store.count_matching(&ws, &anyone, NOW).await.unwrap(), 0);
    assert!(!store.contact_matches(&ws, &id, &anyone, NOW).await.unwrap());
}

#[tokio::test]
async fn a_contact_found_by_phone_or_inserted_gets_its_property_values() {
    let db = TestDatabase::new().await;
    let store = db.store().await;
    let ws = workspace(&store, "acme").await;
    let id = new_id(IdKind::Contact);
    let properties = props(&[("phone", "+5511912345678"), ("firstname", "Ana")]);
    let phones = props(&[("phone", "+5511912345678")]);
    let write = ContactWrite {
        workspace_id: &ws,
        id: &id,
        properties: &properties,
        phones: &phones,
        now: 10,
    };
    let (found, created) = store
        .find_or_insert_contact_by_phone(&write, "+5511912345678")
        .await
        .unwrap();
    assert!(created);
    assert_eq!(value_rows(&store, &found).await["firstname"].0, "ana");
}

#[tokio::test]
async fn a_database_from_before_property_values_is_indexed_once_at_migration() {
    let db = TestDatabase::new().await;
    let store = db.store().await;
    let ws = workspace(&store, "acme").await;
    let id = insert(&store, &ws, &props(&[("city", "Lisboa")])).await;
    // As an older hub left it: contacts, no value rows, no record of a fill.
    recado_store::on_writer!(&store, |pool| {
        for sql in ["DELETE FROM contact_property_values", "DELETE FROM store_backfills"] {
            sqlx::query(sql).execute(pool).await.unwrap();
        }
    });
    let lisbon = condition(json!({"property": "city", "op": "eq", "value": "LISBOA"}));
    assert_eq!(store.count_matching(&ws, &lisbon, NOW).await.unwrap(), 0);
    store.migrate().await.unwrap();
    assert_eq!(store.count_matching(&ws, &lisbon, NOW).await.unwrap(), 1);
    assert_eq!(value_rows(&store, &id).await.len(), 1);
    // Recorded: the next start does not rewrite anything.
    assert_eq!(store.reindex_property_values_if_needed().await.unwrap(), 0);
}
