//! A crash while IVR calls are in their menu: the real binary, calling the
//! rig's Asterisk, is killed with SIGKILL once calls are answered and their
//! menus play, then restarted on the same database. Every call must end
//! (the channel gone from Asterisk, the call's row ended, its message in a
//! final status) and no attempt may reach the phone twice — counted by a
//! phone of the test's own, which logs every INVITE it gets.

use super::*;
use crate::common::process::{temp_data_dir, wait_healthy, HubBinary};
use recado_store::testing::TestDatabase;

const TOKEN: &str = "rcd_voice_menu_crash_token_0123456789ab";
const CALLS: usize = 24;
/// Final statuses of a call's message.
const FINAL: [&str; 3] = ["delivered", "not_delivered", "failed"];

/// A SIPp phone of this test's own on a free port: it answers at once and
/// listens until hung up, logging every SIP message it gets.
struct OwnPhone {
    port: u16,
    pid: i32,
    log: std::path::PathBuf,
}

impl OwnPhone {
    fn start(dir: &std::path::Path) -> OwnPhone {
        let port = free_port();
        let scenario = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/voice-rig/sipp/listen.xml");
        let log = dir.join("phone-messages.log");
        std::fs::create_dir_all(dir).unwrap();
        let out = std::process::Command::new("sipp")
            .arg("-sf")
            .arg(&scenario)
            .args(["-i", "127.0.0.1", "-p", &port.to_string(), "-mi", "127.0.0.1"])
            .args([
                "-mp",
                &free_port().to_string(),
                "-aa",
                "-bg",
                "-trace_msg",
                "-message_file",
            ])
            .arg(&log)
            .current_dir(dir)
            .output()
            .expect("sipp runs (scripts/install-test-deps installs it)");
        let text = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
        let pid = text
            .split("PID=[")
            .nth(1)
            .and_then(|rest| rest.split(']').next())
            .and_then(|pid| pid.parse().ok())
            .unwrap_or_else(|| panic!("sipp did not start: {text}"));
        OwnPhone { port, pid, log }
    }

    /// The INVITEs the phone got, by the number dialled (`INVITE
    /// sip:{number}@…`).
    fn invites_by_number(&self) -> std::collections::BTreeMap<String, usize> {
        let mut by_number = std::collections::BTreeMap::new();
        for line in std::fs::read_to_string(&self.log).unwrap_or_default().lines() {
            if let Some(rest) = line.strip_prefix("INVITE sip:") {
                let number = rest.split('@').next().unwrap_or_default().to_string();
                *by_number.entry(number).or_insert(0) += 1;
            }
        }
        by_number
    }
}

impl Drop for OwnPhone {
    fn drop(&mut self) {
        let _ = std::process::Command::new("kill")
            .args(["-9", &self.pid.to_string()])
            .status();
    }
}

/// The calls table's phases, counted.
async fn phases(store: &recado_store::Store) -> std::collections::BTreeMap<String, i64> {
    recado_store::on_writer!(store, |pool| {
        sqlx::query_as::<_, (String, i64)>("SELECT phase, COUNT(*) FROM calls GROUP BY phase")
            .fetch_all(pool)
            .await
            .unwrap()
            .into_iter()
            .collect()
    })
}

async fn call_ids(store: &recado_store::Store) -> Vec<String> {
    recado_store::on_writer!(store, |pool| {
        sqlx::query_scalar::<_, String>("SELECT message_id FROM calls")
            .fetch_all(pool)
            .await
            .unwrap()
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_9_while_ivr_menus_play_ends_every_call_and_dials_none_twice() {
    let rig = rig_or_skip!("menu-crash");
    let db = TestDatabase::new().await;
    let data_dir = temp_data_dir("recado-voice-menu-crash");
    let phone = OwnPhone::start(&data_dir.join("phone"));
    let binary = HubBinary::new(&db, data_dir.clone(), TOKEN).with_own_public_url();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let mut server = binary.start();
    wait_healthy(&client, &binary.base).await;
    let store = recado_store::Store::connect(&db.url).await.unwrap();
    let remote = binary.remote(&client);

    remote
        .post(
            "/api/v1/channels",
            json!({"kind": "voice_asterisk", "name": "Asterisk", "config": {
            "ari_url": rig.ari_url, "ari_user": rig.user, "ari_password": rig.password, "app": rig.app,
            "dial_template": format!("PJSIP/listen/sip:{{number}}@127.0.0.1:{}", phone.port),
            "caller_ids": ["+34910000000"], "max_cps": 20, "max_concurrent": 100}}),
        )
        .await;
    // A menu of about eight seconds, played twice, two seconds of silence
    // after each: the phone never presses a key, so each call is in its
    // menu for about twenty seconds, then the hub hangs up.
    let menu = unique_words(
        "Hello. To hear our opening hours, press one. To talk to someone, press two. \
         To stop these calls, press nine. This menu is long on purpose",
    );
    let workflow = remote
        .post(
            "/api/v1/workflows",
            json!({"name": "Menu", "definition": {"triggers": [{"type": "manual"}], "start": "call",
               "nodes": {"call": {"type": "send_ivr", "next": "end", "ivr": {
                    "narration": narration(&menu), "max_menu_plays": 2,
                    "no_input": {"timeout_s": 2, "narration": narration("We did not hear a key.")},
                    "keys": {"1": {"action": "play", "narration": narration("Nine to six."), "then": "hangup"}}}},
                         "end": {"type": "end"}}}}),
        )
        .await;
    let workflow = workflow["id"].as_str().unwrap().to_string();
    remote
        .post(&format!("/api/v1/workflows/{workflow}/publish"), json!({}))
        .await;
    remote
        .post(&format!("/api/v1/workflows/{workflow}/activate"), json!({}))
        .await;
    let mut contacts = Vec::new();
    for i in 0..CALLS {
        let c = remote
            .post(
                "/api/v1/contacts",
                json!({"properties": {"firstname": "Ana", "mobilephone": format!("+5511940{i:06}")}}),
            )
            .await;
        contacts.push(c["id"].as_str().unwrap().to_string());
    }
    remote
        .post(
            "/api/v1/subscriptions/bulk",
            json!({"contact_ids": contacts, "channel": "voice", "status": "subscribed",
               "legal_basis": "consent", "explanation": "asked to be called"}),
        )
        .await;
    remote
        .post(
            &format!("/api/v1/workflows/{workflow}/enrolments"),
            json!({"contact_ids": contacts}),
        )
        .await;

    // Kill the hub once most calls are answered and in their menu.
    let deadline = Instant::now() + Duration::from_secs(40);
    loop {
        let answered = phases(&store).await.get("answered").copied().unwrap_or(0);
        if answered as usize >= CALLS * 2 / 3 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "calls were not answered: {:?}",
            phases(&store).await
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    server.kill().expect("SIGKILL");
    server.wait().ok();
    let in_menu = phases(&store).await;

    let mut server = binary.start();
    wait_healthy(&client, &binary.base).await;
    // Every call ends: its menu's timers were stored with it, the node
    // reconciles the channels it finds up when it connects again, and an
    // attempt the kill caught between its claim and its dial is closed by
    // its timer (ring time + grace: 90 s).
    let deadline = Instant::now() + Duration::from_secs(150);
    let mut last = phases(&store).await;
    while last.keys().any(|p| p != "ended") && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(500)).await;
        last = phases(&store).await;
    }
    let ids = call_ids(&store).await;
    let mut statuses = Vec::new();
    let mut numbers = Vec::new();
    for id in &ids {
        let m = remote.get(&format!("/api/v1/messages/{id}")).await;
        statuses.push(m["status"].as_str().unwrap_or_default().to_string());
        numbers.push(m["to"].as_str().unwrap_or_default().to_string());
    }
    server.kill().ok();
    server.wait().ok();
    let invites = phone.invites_by_number();
    drop(phone);
    let _ = std::fs::remove_dir_all(&data_dir);

    assert_eq!(
        last.get("ended").copied(),
        Some(CALLS as i64),
        "every call ends after the restart (killed with {in_menu:?}): {last:?}"
    );
    assert!(statuses.iter().all(|s| FINAL.contains(&s.as_str())), "{statuses:?}");
    // No call reached the phone twice, and every call that was sent reached
    // it once. A call the kill caught after its claim and before its
    // acceptance was recorded ends failed (unconfirmed): the one waiting
    // for its slot never rang; one whose originate Asterisk had just taken
    // rang, and Asterisk — its application gone — kept no trace of it.
    assert!(
        invites.values().all(|n| *n == 1),
        "each number rang once at most: {invites:?}"
    );
    for (number, status) in numbers.iter().zip(&statuses) {
        if status != "failed" {
            assert_eq!(invites.get(number), Some(&1), "{number} was sent: {statuses:?}");
        }
    }
    let unconfirmed = statuses.iter().filter(|s| s.as_str() == "failed").count();
    assert!(unconfirmed <= 4, "only the dials the kill caught: {statuses:?}");
    // And none is left up in Asterisk.
    let up: Vec<Value> = reqwest::Client::new()
        .get(format!("{}/channels", rig.ari_url))
        .basic_auth(&rig.user, Some(&rig.password))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ours: Vec<&Value> = up
        .iter()
        .filter(|c| {
            ids.iter()
                .any(|id| c["id"].as_str().unwrap_or("").starts_with(id.as_str()))
        })
        .collect();
    assert!(ours.is_empty(), "channels left up: {ours:?}");
}
