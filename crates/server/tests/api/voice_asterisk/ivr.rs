//! IVR calls sent by workflows: keys, transfer, wrong key, silence, opt-out,
//! a key's SMS.

use super::*;

// IVR calls are sent by workflows (`send_ivr`). Their channel routes by the
// number called, as a trunk does: `PJSIP/{number}` reaches the rig's phone
// of that number, so a transfer's number reaches another phone than the
// contact's.

/// The dial string of a channel routing by number.
const BY_NUMBER: &str = "PJSIP/{number}";
/// The rig's phones by number.
const PRESSES_1: &str = "+34600900001";
const PRESSES_9_BY_INFO: &str = "+34600900002";
const LISTENS: &str = "+34600900005";

/// An active workflow calling each contact enrolled with `ivr`.
async fn ivr_workflow(app: &TestApp, ivr: Value) -> String {
    crate::workflows::active_workflow(
        app,
        json!({"triggers": [{"type": "manual"}], "start": "call",
               "nodes": {"call": {"type": "send_ivr", "ivr": ivr, "next": "end"}, "end": {"type": "end"}}}),
    )
    .await
}

/// The contact's latest voice timeline entry of type `kind`, once there.
async fn latest(app: &TestApp, contact: &str, kind: &str) -> Value {
    until(&format!("a {kind} entry"), Duration::from_secs(15), || async move {
        voice_timeline(app, contact)
            .await
            .into_iter()
            .rev()
            .find(|e| e["type"] == kind)
    })
    .await
}

/// Enrols `contact` in `workflow`; the id of the call it places.
async fn ivr_call(app: &TestApp, workflow: &str, contact: &str) -> String {
    crate::workflows::enrol(app, workflow, &[contact]).await;
    let queued = latest(app, contact, "VOICE_QUEUED").await;
    queued["message_id"].as_str().unwrap().to_string()
}

/// A menu of about eight seconds: a key two seconds in cuts it short.
fn long_menu() -> Value {
    narration(&unique_words(
        "Hello Ana. To hear our opening hours, press one. To talk to someone, press one as well. \
         To stop these calls, press nine. This menu is long on purpose",
    ))
}

/// The menu's state after the call.
fn menu_of(row: &CallRecord) -> Value {
    serde_json::from_str::<Value>(&row.state).unwrap()["menu"].clone()
}

#[tokio::test]
async fn a_key_stops_the_menu_and_runs_its_action() {
    let rig = rig_or_skip!("ivr-key");
    let app = hub(2).await;
    let (_, ws) = channel(&app, &rig, &rig.ari_url, BY_NUMBER).await;
    let ana = contact(&app, PRESSES_1).await;
    let ivr = json!({"narration": long_menu(), "max_menu_plays": 1,
                     "keys": {"1": {"action": "play", "narration": narration("Open from nine to six."), "then": "hangup"}}});
    let workflow = ivr_workflow(&app, ivr).await;
    let id = ivr_call(&app, &workflow, &ana).await;
    let row = ended(&app, &ws, &id).await;
    let timeline = voice_timeline(&app, &ana).await;
    assert_eq!(
        kinds(&timeline),
        ["VOICE_QUEUED", "VOICE_SENT", "VOICE_DELIVERED", "VOICE_KEY_PRESSED"]
    );
    assert_eq!(timeline[3]["details"]["key"], "1");
    // The key came two seconds into an eight-second menu; its narration
    // followed at once and the call hung up after it.
    let talked = row.ended_at.unwrap() - row.answered_at.unwrap();
    assert!(talked < 6_000, "the menu was cut short by the key: {talked} ms");
}

/// A bridge as ARI describes it: the channels in it.
async fn bridge_channels(rig: &Rig, bridge: &str) -> Vec<String> {
    let r = reqwest::Client::new()
        .get(format!("{}/bridges/{bridge}", rig.ari_url))
        .basic_auth(&rig.user, Some(&rig.password))
        .send()
        .await
        .unwrap();
    if !r.status().is_success() {
        return Vec::new();
    }
    let body: Value = r.json().await.unwrap();
    let mut ids: Vec<String> = body["channels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    ids.sort();
    ids
}

#[tokio::test]
async fn a_transfer_key_bridges_the_contact_with_the_number_called_and_hangs_up_when_the_agent_does() {
    let rig = rig_or_skip!("ivr-transfer");
    let app = hub(2).await;
    let (_, ws) = channel(&app, &rig, &rig.ari_url, BY_NUMBER).await;
    let ana = contact(&app, PRESSES_1).await;
    let ivr = json!({"narration": long_menu(),
                     "keys": {"1": {"action": "transfer", "to": LISTENS,
                                    "narration": narration("Transferring you now.")}}});
    let workflow = ivr_workflow(&app, ivr).await;
    let id = ivr_call(&app, &workflow, &ana).await;
    let (contact_leg, agent_leg) = (format!("{id}-1"), format!("{id}-1-t"));
    let bridged = until("both legs in the bridge", Duration::from_secs(15), || {
        let rig = rig.clone();
        let bridge = format!("{id}-1-b");
        async move {
            let channels = bridge_channels(&rig, &bridge).await;
            (channels.len() == 2).then_some(channels)
        }
    })
    .await;
    assert_eq!(bridged, [contact_leg.clone(), agent_leg.clone()]);
    let config = AsteriskConfig::new(&rig.ari_url, &rig.user, &rig.password, &rig.app);
    let ari = AriClient::new(reqwest::Client::new(), config);
    let agent = ari.channel(&agent_leg).await.unwrap().expect("the agent's leg");
    assert!(agent.name.starts_with(&format!("PJSIP/{LISTENS}-")), "{agent:?}");
    assert_eq!(agent.caller.number, "+34910000000", "the call's caller id");
    // The agent hangs up: the call says goodbye to the contact.
    ari.hang_up(&agent_leg).await.unwrap();
    ended(&app, &ws, &id).await;
    until("the contact's leg hung up", Duration::from_secs(10), || {
        let ari = ari.clone();
        let leg = contact_leg.clone();
        async move { ari.channel(&leg).await.unwrap().is_none().then_some(()) }
    })
    .await;
    assert!(
        bridge_channels(&rig, &format!("{id}-1-b")).await.is_empty(),
        "the bridge is removed"
    );
    let timeline = voice_timeline(&app, &ana).await;
    assert_eq!(
        kinds(&timeline),
        ["VOICE_QUEUED", "VOICE_SENT", "VOICE_DELIVERED", "VOICE_KEY_PRESSED"]
    );
}

#[tokio::test]
async fn a_wrong_key_plays_its_narration_then_the_menu_again() {
    let rig = rig_or_skip!("ivr-wrong");
    let app = hub(2).await;
    let (_, ws) = channel(&app, &rig, &rig.ari_url, BY_NUMBER).await;
    let bea = contact(&app, PRESSES_1).await;
    let fetched_before = narrations_fetched(&app).await;
    // The phone presses 1, which does nothing here.
    let ivr = json!({"narration": narration(&unique_words("Press two")), "max_menu_plays": 2,
                     "keys": {"2": {"action": "play", "narration": narration("Two.")}},
                     "wrong_key": {"narration": narration(&unique_words("That key does nothing"))},
                     "no_input": {"timeout_s": 1, "narration": narration(&unique_words("Goodbye"))}});
    let workflow = ivr_workflow(&app, ivr).await;
    let id = ivr_call(&app, &workflow, &bea).await;
    let row = ended(&app, &ws, &id).await;
    assert_eq!(menu_of(&row), json!({"plays": 2, "status": "done"}));
    let timeline = voice_timeline(&app, &bea).await;
    assert_eq!(kinds(&timeline), ["VOICE_QUEUED", "VOICE_SENT", "VOICE_DELIVERED"]);
    // The menu, the wrong-key narration and the closing one.
    assert!(narrations_fetched(&app).await >= fetched_before + 3.0);
}

#[tokio::test]
async fn silence_after_the_menu_plays_the_no_input_narration_and_the_menu_until_its_last_play() {
    let rig = rig_or_skip!("ivr-silence");
    let app = hub(2).await;
    let (_, ws) = channel(&app, &rig, &rig.ari_url, BY_NUMBER).await;
    let cai = contact(&app, LISTENS).await;
    let ivr = json!({"narration": narration(&unique_words("Press one")), "max_menu_plays": 2,
                     "keys": {"1": {"action": "play", "narration": narration("One.")}},
                     "no_input": {"timeout_s": 1, "narration": narration(&unique_words("Are you there"))}});
    let workflow = ivr_workflow(&app, ivr).await;
    let id = ivr_call(&app, &workflow, &cai).await;
    let row = ended(&app, &ws, &id).await;
    assert_eq!(menu_of(&row), json!({"plays": 2, "status": "done"}));
    // Two plays, each followed by a second of silence.
    let talked = row.ended_at.unwrap() - row.answered_at.unwrap();
    assert!(talked >= 2_000, "{talked} ms");
    let timeline = voice_timeline(&app, &cai).await;
    assert_eq!(kinds(&timeline), ["VOICE_QUEUED", "VOICE_SENT", "VOICE_DELIVERED"]);
}

#[tokio::test]
async fn the_opt_out_key_unsubscribes_the_contact_from_voice_so_the_next_call_is_not_sent() {
    let rig = rig_or_skip!("ivr-opt-out");
    let app = hub(2).await;
    let (_, ws) = channel(&app, &rig, &rig.ari_url, BY_NUMBER).await;
    let dan = contact(&app, PRESSES_9_BY_INFO).await;
    let ivr = json!({"narration": long_menu(),
                     "keys": {"9": {"action": "unsubscribe", "narration": narration("You will not be called again.")}}});
    let first = ivr_workflow(&app, ivr.clone()).await;
    let id = ivr_call(&app, &first, &dan).await;
    ended(&app, &ws, &id).await;
    let timeline = voice_timeline(&app, &dan).await;
    assert_eq!(
        kinds(&timeline),
        [
            "VOICE_QUEUED",
            "VOICE_SENT",
            "VOICE_DELIVERED",
            "VOICE_KEY_PRESSED",
            "VOICE_UNSUBSCRIBED"
        ]
    );
    assert_eq!(timeline[3]["details"]["key"], "9");
    let history = until("the opt-out recorded", Duration::from_secs(10), || async {
        let r = app
            .get(&format!("/api/v1/contacts/{dan}/subscriptions/voice/history"))
            .await;
        let newest = r.body["items"][0].clone();
        (newest["status"] == "unsubscribed").then_some(newest)
    })
    .await;
    assert_eq!(history["source"], "ivr_key");

    let second = ivr_workflow(&app, ivr).await;
    crate::workflows::enrol(&app, &second, &[&dan]).await;
    let refused = latest(&app, &dan, "VOICE_NOT_SENT").await;
    assert_eq!(refused["details"]["reason"], "not_subscribed");
}

#[tokio::test]
async fn an_sms_key_sends_its_sms_to_the_contact() {
    let rig = rig_or_skip!("ivr-sms");
    let app = hub(2).await;
    app.channel("sms_sandbox", "SMS", json!({"senders": ["RECADO"]})).await;
    let (_, ws) = channel(&app, &rig, &rig.ari_url, BY_NUMBER).await;
    let eva = contact(&app, PRESSES_1).await;
    let ivr = json!({"narration": long_menu(),
                     "keys": {"1": {"action": "send_sms", "sender": "RECADO", "text": "Your code: 1234",
                                    "narration": narration("We sent you a text.")}}});
    let workflow = ivr_workflow(&app, ivr).await;
    let id = ivr_call(&app, &workflow, &eva).await;
    ended(&app, &ws, &id).await;
    let sms = until("the key's SMS", Duration::from_secs(10), || async {
        app.sandbox_sms().into_iter().find(|m| m["text"] == "Your code: 1234")
    })
    .await;
    assert_eq!(sms["to"], PRESSES_1);
    let timeline = voice_timeline(&app, &eva).await;
    assert!(kinds(&timeline).contains(&"VOICE_KEY_PRESSED"), "{timeline:?}");
}
