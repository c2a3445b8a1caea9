//! The help-desk API (API.md "Help desk") on both backends: views and counts,
//! ticket changes, replies through the send rules, search that never finds
//! quarantined content, saved views, paging and workspace isolation.

use crate::common::{spawn_app, Reply, TestApp};
use serde_json::{json, Value};

struct Desk {
    app: TestApp,
    channel: String,
}

async fn desk() -> Desk {
    let app = spawn_app().await;
    let r = app
        .post(
            "/api/v1/channels",
            json!({"kind": "whatsapp_sandbox", "name": "Front desk"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let channel = r.body["id"].as_str().unwrap().to_string();
    Desk { app, channel }
}

impl Desk {
    async fn inbound(&self, from: &str, name: &str, text: &str) {
        self.simulate(json!({"from": from, "name": name, "text": text})).await;
    }

    async fn simulate(&self, body: Value) {
        let r = self
            .app
            .post(&format!("/api/v1/channels/{}/simulate", self.channel), body)
            .await;
        assert_eq!(r.status, 202, "{}", r.body);
        self.app.run_jobs().await;
    }

    async fn threads(&self, query: &str) -> Reply {
        self.app.get(&format!("/api/v1/threads{query}")).await
    }

    async fn ids(&self, query: &str) -> Vec<String> {
        let r = self.threads(query).await;
        assert_eq!(r.status, 200, "{}", r.body);
        r.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["id"].as_str().unwrap().to_string())
            .collect()
    }

    /// The thread of the contact with this name.
    async fn thread_of(&self, name: &str) -> String {
        let r = self.threads("").await;
        let items = r.body["items"].as_array().unwrap();
        let t = items
            .iter()
            .find(|t| t["contact_name"] == name)
            .unwrap_or_else(|| panic!("no thread of {name}: {}", r.body));
        t["id"].as_str().unwrap().to_string()
    }

    async fn patch(&self, thread: &str, body: Value) -> Reply {
        self.app.patch(&format!("/api/v1/threads/{thread}"), body).await
    }

    async fn agent(&self, email: &str) -> (String, String) {
        let r = self
            .app
            .post(
                "/api/v1/users",
                json!({"email": email, "name": "Agent", "password": "a-long-password", "role": "agent"}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        let id = r.body["id"].as_str().unwrap().to_string();
        (id, self.token_of(email).await)
    }

    /// A token for a user, made the way the hub makes them.
    async fn token_of(&self, email: &str) -> String {
        let store = &self.app.app_state.store;
        let user = store.user_by_email(email).await.unwrap().unwrap();
        let token = recado_app::auth::generate_token();
        store
            .create_token(
                &recado_core::ids::new_id(recado_core::ids::IdKind::Token),
                &user.workspace_id,
                &user.id,
                "test",
                &recado_app::auth::hash_token(&token),
                0,
            )
            .await
            .unwrap();
        token
    }
}

#[tokio::test]
async fn inbound_messages_list_open_threads_with_their_ticket_and_the_view_counts() {
    let d = desk().await;
    d.inbound("+351912345678", "João", "Bom dia").await;
    d.inbound("+34612345678", "Lucía", "Hola").await;
    let r = d.threads("?status=open").await;
    assert_eq!(r.status, 200, "{}", r.body);
    let items = r.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert!(r.body["next_cursor"].is_null());
    let t = &items[0];
    for key in [
        "id",
        "contact_id",
        "channel",
        "channel_id",
        "ticket",
        "last_message_at",
        "unread",
    ] {
        assert!(t.get(key).is_some(), "{key} missing in {t}");
    }
    assert_eq!(t["channel"], "whatsapp");
    assert_eq!(t["channel_id"], d.channel);
    assert_eq!(t["unread"], 1);
    assert_eq!(t["ticket"]["status"], "open");
    assert_eq!(t["ticket"]["priority"], "normal");
    assert!(t["ticket"]["owner_id"].is_null());
    assert!(t["ticket"]["id"].as_str().unwrap().starts_with("tkt_"));
    let c = d.app.get("/api/v1/threads/counts").await;
    assert_eq!(
        (
            c.body["open"].as_i64(),
            c.body["closed"].as_i64(),
            c.body["unassigned"].as_i64()
        ),
        (Some(2), Some(0), Some(2)),
        "{}",
        c.body
    );
    assert_eq!(
        (c.body["mine"].as_i64(), c.body["whatsapp"].as_i64()),
        (Some(0), Some(2))
    );
    assert!(d.ids("?status=closed").await.is_empty());
    assert_eq!(d.ids("?channel=whatsapp").await.len(), 2);
    assert!(d.ids("?channel=sms").await.is_empty());
}

#[tokio::test]
async fn closing_reopening_and_assigning_move_a_thread_between_views() {
    let d = desk().await;
    d.inbound("+351912345678", "João", "Bom dia").await;
    d.inbound("+34612345678", "Lucía", "Hola").await;
    let joao = d.thread_of("João").await;
    let r = d.patch(&joao, json!({"status": "closed"})).await;
    assert_eq!(
        (r.status, r.body["ticket"]["status"].as_str()),
        (200, Some("closed")),
        "{}",
        r.body
    );
    assert_eq!(d.ids("?status=closed").await, vec![joao.clone()]);
    assert_eq!(d.ids("?status=open").await.len(), 1);

    let (agent, agent_token) = d.agent("agent@example.com").await;
    let r = d
        .patch(
            &joao,
            json!({"status": "open", "owner_id": agent, "priority": "urgent"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["ticket"]["owner_id"], agent.as_str());
    assert_eq!(r.body["ticket"]["priority"], "urgent");
    assert_eq!(d.ids(&format!("?owner={agent}")).await, vec![joao.clone()]);
    assert_eq!(d.ids("?owner=none").await.len(), 1);
    let mine = d.app.get_as("/api/v1/threads?owner=me", &agent_token).await;
    assert_eq!(mine.body["items"][0]["id"], joao.as_str(), "{}", mine.body);
    let counts = d.app.get_as("/api/v1/threads/counts", &agent_token).await;
    assert_eq!(counts.body["mine"], 1, "{}", counts.body);
    assert!(d.ids("?owner=me").await.is_empty(), "the admin owns nothing");

    let r = d.patch(&joao, json!({"owner_id": null})).await;
    assert!(r.body["ticket"]["owner_id"].is_null(), "{}", r.body);
    assert_eq!(r.body["ticket"]["priority"], "urgent", "untouched fields stay");
    assert_eq!(d.ids("?owner=none").await.len(), 2);
}

#[tokio::test]
async fn an_inbound_message_on_a_closed_ticket_opens_a_new_one() {
    let d = desk().await;
    d.inbound("+351912345678", "João", "Bom dia").await;
    let joao = d.thread_of("João").await;
    let closed = d.patch(&joao, json!({"status": "closed"})).await;
    d.inbound("+351912345678", "João", "Ainda preciso de ajuda").await;
    let t = d.app.get(&format!("/api/v1/threads/{joao}")).await;
    assert_eq!(t.body["ticket"]["status"], "open");
    assert_ne!(t.body["ticket"]["id"], closed.body["ticket"]["id"]);
}

#[tokio::test]
async fn ticket_changes_reject_unknown_values_and_owners_of_other_workspaces() {
    let d = desk().await;
    d.inbound("+351912345678", "João", "Bom dia").await;
    let t = d.thread_of("João").await;
    let cases = [
        (json!({"status": "pending"}), 422, "invalid_status", "status"),
        (json!({"priority": "asap"}), 422, "invalid_priority", "priority"),
        (json!({"owner_id": "usr_nobody"}), 422, "invalid_owner", "owner_id"),
        (json!({}), 422, "nothing_to_change", "status"),
        (json!({"colour": "red"}), 422, "invalid_value", "colour"),
    ];
    for (body, status, code, field) in cases {
        let r = d.patch(&t, body.clone()).await;
        assert_eq!(
            (r.status, r.code(), r.field()),
            (status, code, field),
            "{body}: {}",
            r.body
        );
    }
    let other = d.app.other_workspace("beta").await;
    let users = d.app.get_as("/api/v1/users", &other).await;
    let stranger = users.body["items"][0]["id"].as_str().unwrap().to_string();
    let r = d.patch(&t, json!({"owner_id": stranger})).await;
    assert_eq!((r.status, r.code()), (422, "invalid_owner"));
    assert_eq!(d.threads("?status=done").await.code(), "invalid_status");
    assert_eq!(d.threads("?channel=fax").await.code(), "invalid_channel");
    assert_eq!(d.threads("?owner=usr_nobody").await.code(), "invalid_owner");
    assert_eq!(d.threads("?cursor=garbage").await.code(), "invalid_cursor");
}

#[tokio::test]
async fn a_thread_of_another_workspace_is_not_found() {
    let d = desk().await;
    d.inbound("+351912345678", "João", "Bom dia").await;
    let t = d.thread_of("João").await;
    let other = d.app.other_workspace("beta").await;
    let get = d.app.get_as(&format!("/api/v1/threads/{t}"), &other).await;
    assert_eq!((get.status, get.code()), (404, "not_found"));
    let patch = d
        .app
        .send(
            d.app
                .client
                .patch(d.app.url(&format!("/api/v1/threads/{t}")))
                .bearer_auth(&other)
                .json(&json!({"status": "closed"})),
        )
        .await;
    assert_eq!(patch.status, 404);
    let post = d
        .app
        .post_as(&format!("/api/v1/threads/{t}/messages"), json!({"text": "hi"}), &other)
        .await;
    assert_eq!(post.status, 404);
    assert!(d.app.get_as("/api/v1/threads", &other).await.body["items"]
        .as_array()
        .unwrap()
        .is_empty());
    assert_eq!(d.app.get("/api/v1/threads/thr_missing").await.status, 404);
    assert_eq!(d.threads("").await.body["items"][0]["ticket"]["status"], "open");
}

#[tokio::test]
async fn replies_go_through_the_send_rules_of_the_messages_api() {
    let d = desk().await;
    d.inbound("+351912345678", "João", "Bom dia").await;
    let t = d.thread_of("João").await;
    let path = format!("/api/v1/threads/{t}/messages");
    let r = d
        .app
        .post(&path, json!({"text": "Olá João, em que posso ajudar?"}))
        .await;
    assert_eq!(
        (r.status, r.body["status"].as_str()),
        (202, Some("queued")),
        "{}",
        r.body
    );
    assert_eq!(r.body["thread_id"], t.as_str());
    assert_eq!(
        r.body["campaign"].as_str().map(|c| c.starts_with("INBOX_WHATSAPP_")),
        Some(true)
    );
    d.app.run_jobs().await;
    let thread = d.app.get(&format!("/api/v1/threads/{t}")).await;
    let messages = thread.body["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 2);
    assert_eq!(
        (messages[1]["direction"].as_str(), messages[1]["status"].as_str()),
        (Some("out"), Some("read"))
    );
    assert_eq!(thread.body["session"]["open"], true);

    for (body, status, code) in [
        (json!({}), 422, "content_required"),
        (json!({"text": "  "}), 422, "empty_text"),
        (
            json!({"text": "a", "template": {"name": "hello_world", "language": "en_US"}}),
            422,
            "ambiguous_content",
        ),
    ] {
        let r = d.app.post(&path, body).await;
        assert_eq!((r.status, r.code()), (status, code), "{}", r.body);
    }

    d.app.clock.advance(chrono::Duration::hours(25));
    let late = d.app.post(&path, json!({"text": "Still there?"})).await;
    assert_eq!(
        (late.status, late.code()),
        (409, "outside_session_window"),
        "{}",
        late.body
    );
    let template =
        json!({"template": {"name": "order_update", "language": "pt_BR", "parameters": {"body": ["João", "4521"]}}});
    let refused = d.app.post(&path, template.clone()).await;
    assert_eq!(
        (refused.status, refused.code()),
        (409, "not_subscribed"),
        "{}",
        refused.body
    );
    let contact = d.threads("").await.body["items"][0]["contact_id"]
        .as_str()
        .unwrap()
        .to_string();
    let sub = d
        .app
        .put(
            &format!("/api/v1/contacts/{contact}/subscriptions/whatsapp"),
            json!({"status": "subscribed", "legal_basis": "consent", "explanation": "asked at the counter"}),
        )
        .await;
    assert_eq!(sub.status, 200, "{}", sub.body);
    let bad = d
        .app
        .post(
            &path,
            json!({"template": {"name": "order_update", "language": "pt_BR", "parameters": {"body": ["João"]}}}),
        )
        .await;
    assert_eq!((bad.status, bad.code()), (422, "template_parameters"), "{}", bad.body);
    let ok = d.app.post(&path, template).await;
    assert_eq!(
        (ok.status, ok.body["text"].as_str()),
        (202, Some("Olá João, o seu pedido 4521 foi enviado.")),
        "{}",
        ok.body
    );
    let thread = d.app.get(&format!("/api/v1/threads/{t}")).await;
    assert_eq!(thread.body["session"]["open"], false);
    assert!(thread.body["session"]["expires_at"].is_null());
}

#[tokio::test]
async fn search_finds_message_text_and_contact_names_but_never_quarantined_content() {
    let d = desk().await;
    d.inbound("+351912345678", "João Silva", "O meu pedido está atrasado")
        .await;
    d.simulate(json!({"from": "+34612345678", "name": "Bruno", "text": "contenido prohibido secreto", "policy_violation": true}))
        .await;
    d.inbound("+34699999999", "Carla", "Olá, bom dia").await;
    let joao = d.thread_of("João Silva").await;
    let bruno = d.thread_of("Bruno").await;
    let carla = d.thread_of("Carla").await;
    assert_eq!(d.ids("?q=pedido").await, vec![joao.clone()]);
    assert_eq!(d.ids("?q=PED").await, vec![joao.clone()], "prefixes and any case match");
    assert_eq!(
        d.ids("?q=atrasado%20meu").await,
        vec![joao.clone()],
        "all words must match"
    );
    assert!(d.ids("?q=pedido%20secreto").await.is_empty());
    assert_eq!(
        d.ids("?q=silva").await,
        vec![joao.clone()],
        "contact names are searched"
    );
    assert_eq!(d.ids("?q=joao").await, vec![joao.clone()], "accents are folded");
    assert_eq!(d.ids("?q=ola").await, vec![carla.clone()]);
    assert_eq!(
        d.ids("?q=912345678").await,
        vec![joao.clone()],
        "numbers find phone numbers"
    );
    assert!(
        d.ids("?q=prohibido").await.is_empty(),
        "quarantined text is never found"
    );
    assert!(d.ids("?q=secreto").await.is_empty());
    assert_eq!(
        d.ids("?q=bruno").await,
        vec![bruno.clone()],
        "the contact is still found by name"
    );
    assert_eq!(
        d.ids("?q=%22%29%28*%3A").await.len(),
        3,
        "a search of no words is no filter"
    );
    let thread = d.app.get(&format!("/api/v1/threads/{bruno}")).await;
    assert_eq!(thread.body["messages"][0]["quarantined"], true);
    assert!(thread.body["messages"][0]["text"].is_null());
    assert!(thread.body["messages"][0]["content"].is_null());
    assert!(!thread.body.to_string().contains("prohibido"));
}

#[tokio::test]
async fn saved_views_filter_and_count_for_their_user_only() {
    let d = desk().await;
    d.inbound("+351912345678", "João", "Bom dia").await;
    d.inbound("+34612345678", "Lucía", "Necesito una factura").await;
    let r = d
        .app
        .post(
            "/api/v1/views",
            json!({"name": "Invoices", "filters": {"status": "open", "q": "factura"}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let view = r.body["id"].as_str().unwrap().to_string();
    assert!(view.starts_with("vw_"));
    assert_eq!(r.body["filters"], json!({"status": "open", "q": "factura"}));
    let lucia = d.thread_of("Lucía").await;
    assert_eq!(d.ids(&format!("?view={view}")).await, vec![lucia]);
    assert_eq!(
        d.ids(&format!("?view={view}&q=")).await.len(),
        2,
        "parameters override the view"
    );
    let counts = d.app.get("/api/v1/threads/counts").await;
    assert_eq!(
        counts.body["views"],
        json!([{"id": view, "name": "Invoices", "count": 1}])
    );
    let again = d.app.post("/api/v1/views", json!({"name": "Invoices"})).await;
    assert_eq!(
        (again.status, again.code(), again.field()),
        (409, "view_name_taken", "name")
    );
    let bad = d
        .app
        .post(
            "/api/v1/views",
            json!({"name": "Odd", "filters": {"status": "snoozed"}}),
        )
        .await;
    assert_eq!((bad.status, bad.code()), (422, "invalid_status"));
    let blank = d.app.post("/api/v1/views", json!({"name": " "})).await;
    assert_eq!((blank.status, blank.code()), (422, "invalid_name"));

    let (_, agent) = d.agent("agent@example.com").await;
    let theirs = d.app.get_as("/api/v1/views", &agent).await;
    assert!(theirs.body["items"].as_array().unwrap().is_empty());
    let r = d.app.get_as(&format!("/api/v1/threads?view={view}"), &agent).await;
    assert_eq!((r.status, r.code()), (404, "not_found"));
    let r = d
        .app
        .send(
            d.app
                .client
                .delete(d.app.url(&format!("/api/v1/views/{view}")))
                .bearer_auth(&agent),
        )
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(d.app.delete(&format!("/api/v1/views/{view}")).await.status, 204);
    assert!(d.app.get("/api/v1/views").await.body["items"]
        .as_array()
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn lists_page_by_last_activity_with_a_cursor() {
    let d = desk().await;
    for (i, phone) in ["+351912345671", "+351912345672", "+351912345673"].iter().enumerate() {
        d.inbound(phone, &format!("Customer {i}"), "Olá").await;
        d.app.clock.advance(chrono::Duration::seconds(5));
    }
    let first = d.threads("?limit=2").await;
    let items = first.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["contact_name"], "Customer 2", "newest activity first");
    let cursor = first.body["next_cursor"]
        .as_str()
        .expect("a full page has a cursor")
        .to_string();
    let second = d.threads(&format!("?limit=2&cursor={cursor}")).await;
    let rest = second.body["items"].as_array().unwrap();
    assert_eq!(rest.len(), 1);
    assert_eq!(rest[0]["contact_name"], "Customer 0");
    assert!(second.body["next_cursor"].is_null());
}

#[tokio::test]
async fn sms_threads_are_answered_by_sms_from_the_number_the_contact_wrote_to() {
    let app = spawn_app().await;
    let channel = app
        .channel("sms_sandbox", "SMS", json!({"senders": ["Recado", "+15550001111"]}))
        .await;
    let ana = app
        .contact(json!({"firstname": "Ana", "mobilephone": "+5511912345678"}))
        .await;
    app.simulate(
        &channel,
        json!({"from": "+5511912345678", "to": "+15550001111", "text": "Oi, ainda tem?"}),
    )
    .await;
    let threads = app.get("/api/v1/threads?channel=sms").await;
    assert_eq!(threads.body["items"].as_array().unwrap().len(), 1, "{}", threads.body);
    let thread = threads.body["items"][0]["id"].as_str().unwrap().to_string();
    let path = format!("/api/v1/threads/{thread}/messages");

    // An SMS is a business message: it needs the contact's SMS subscription.
    let refused = app.post(&path, json!({"text": "Temos sim!"})).await;
    assert_eq!(
        (refused.status, refused.code()),
        (409, "not_subscribed"),
        "{}",
        refused.body
    );
    let template = app
        .post(&path, json!({"template": {"name": "hello_world", "language": "en_US"}}))
        .await;
    assert_eq!(
        (template.status, template.code()),
        (422, "template_not_supported"),
        "{}",
        template.body
    );

    app.subscribe(&ana, "sms").await;
    let sent = app
        .post(&path, json!({"text": "Olá {{contact.firstname}}, temos sim!"}))
        .await;
    assert_eq!(sent.status, 202, "{}", sent.body);
    assert_eq!(
        (
            sent.body["channel"].as_str(),
            sent.body["from"].as_str(),
            sent.body["to"].as_str(),
            sent.body["thread_id"].as_str()
        ),
        (
            Some("sms"),
            Some("+15550001111"),
            Some("+5511912345678"),
            Some(thread.as_str())
        ),
        "{}",
        sent.body
    );
    // Filled for the contact and transliterated to GSM-7 (the default policy).
    assert_eq!(sent.body["text"], "Ola Ana, temos sim!");
    assert_eq!(
        sent.body["campaign"].as_str().map(|c| c.starts_with("INBOX_SMS_")),
        Some(true)
    );
    app.run_jobs().await;
    let r = app.get(&format!("/api/v1/threads/{thread}")).await;
    let last = r.body["messages"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (last["direction"].as_str(), last["status"].as_str()),
        (Some("out"), Some("delivered")),
        "{}",
        r.body
    );
}

#[tokio::test]
async fn a_simulated_message_to_a_number_the_channel_does_not_have_is_refused() {
    let app = spawn_app().await;
    let channel = app.channel("sms_sandbox", "SMS", json!({"senders": ["Recado"]})).await;
    let r = app
        .post(
            &format!("/api/v1/channels/{channel}/simulate"),
            json!({"from": "+5511912345678", "to": "+15559999999", "text": "Oi"}),
        )
        .await;
    assert_eq!((r.status, r.code()), (422, "invalid_sender"), "{}", r.body);
    assert_eq!(r.body["error"]["field"], "to");
    let threads = app.get("/api/v1/threads").await;
    assert_eq!(threads.body["items"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn a_message_whose_channel_was_deleted_before_sending_is_not_sent() {
    let app = spawn_app().await;
    let contact = app
        .contact(json!({"firstname": "Ana", "mobilephone": "+5511912345678", "whatsapp_phone": "+5511912345678"}))
        .await;
    let whatsapp = app.channel("whatsapp_sandbox", "WhatsApp", json!({})).await;
    let sms = app.channel("sms_sandbox", "SMS", json!({"senders": ["Recado"]})).await;
    for channel in ["whatsapp", "sms"] {
        app.subscribe(&contact, channel).await;
    }
    let template = json!({"channel": "whatsapp", "contact_id": contact,
        "template": {"name": "order_update", "language": "pt_BR", "parameters": {"body": ["Ana", "4521"]}}});
    let queued_whatsapp = app.post("/api/v1/messages", template).await;
    assert_eq!(queued_whatsapp.status, 202, "{}", queued_whatsapp.body);
    let queued_sms = app
        .post(
            "/api/v1/messages",
            json!({"channel": "sms", "contact_id": contact, "text": "Seu pedido chegou"}),
        )
        .await;
    assert_eq!(queued_sms.status, 202, "{}", queued_sms.body);
    for channel in [&whatsapp, &sms] {
        assert_eq!(app.delete(&format!("/api/v1/channels/{channel}")).await.status, 204);
    }
    app.run_jobs().await;
    for queued in [queued_whatsapp, queued_sms] {
        let id = queued.body["id"].as_str().unwrap();
        let m = app.get(&format!("/api/v1/messages/{id}")).await;
        assert_eq!(
            (m.body["status"].as_str(), m.body["error"]["code"].as_str()),
            (Some("not_sent"), Some("channel_deleted")),
            "{}",
            m.body
        );
    }
}
