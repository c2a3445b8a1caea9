//! Users, API tokens and workspaces: who may create them, what is shown, and
//! that a deleted user's tokens stop working.

use crate::common::{spawn_app, Reply, TestApp};
use serde_json::{json, Value};
use std::collections::BTreeSet;

async fn create_user(app: &TestApp, email: &str, role: &str) -> Reply {
    app.post(
        "/api/v1/users",
        json!({"email": email, "name": "Test User", "password": "correct horse battery", "role": role}),
    )
    .await
}

/// A token for `user_id`, stored the way the hub stores tokens (the API only
/// mints tokens for the caller).
async fn token_for(app: &TestApp, user_id: &str) -> String {
    let workspace_id = app
        .app_state
        .store
        .workspace_by_name("default")
        .await
        .unwrap()
        .expect("the default workspace")
        .id;
    let token = recado_app::auth::generate_token();
    app.app_state
        .store
        .create_token(
            &recado_core::ids::new_id(recado_core::ids::IdKind::Token),
            &workspace_id,
            user_id,
            "tests",
            &recado_app::auth::hash_token(&token),
            app.app_state.clock.now_ms(),
        )
        .await
        .expect("token stored");
    token
}

async fn user_with_token(app: &TestApp, email: &str, role: &str) -> (String, String) {
    let r = create_user(app, email, role).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.body["id"].as_str().unwrap().to_string();
    let token = token_for(app, &id).await;
    (id, token)
}

fn keys(v: &Value) -> BTreeSet<&str> {
    v.as_object().unwrap().keys().map(String::as_str).collect()
}

#[tokio::test]
async fn creating_a_user_returns_its_public_fields_and_no_password() {
    let app = spawn_app().await;
    let r = app
        .post(
            "/api/v1/users",
            json!({"email": "Bia@Example.com", "name": "Bia", "password": "correct horse battery", "role": "agent"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(keys(&r.body), BTreeSet::from(["id", "email", "name", "role"]));
    assert_eq!(
        (&r.body["email"], &r.body["name"], &r.body["role"]),
        (&json!("bia@example.com"), &json!("Bia"), &json!("agent"))
    );
    assert!(r.body["id"].as_str().is_some_and(|id| !id.is_empty()));
    let text = r.body.to_string();
    assert!(!text.contains("correct horse") && !text.contains("argon2"), "{text}");

    let r = create_user(&app, "admin2@example.com", "admin").await;
    assert_eq!((r.status, &r.body["role"]), (201, &json!("admin")), "{}", r.body);
}

#[tokio::test]
async fn only_admins_create_users() {
    let app = spawn_app().await;
    let (_, agent) = user_with_token(&app, "agent@example.com", "agent").await;
    let r = app
        .post_as(
            "/api/v1/users",
            json!({"email": "x@example.com", "name": "X", "password": "correct horse battery", "role": "admin"}),
            &agent,
        )
        .await;
    assert_eq!((r.status, r.code()), (403, "forbidden"), "{}", r.body);
    let emails: Vec<Value> = app.get("/api/v1/users").await.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["email"].clone())
        .collect();
    assert!(!emails.contains(&json!("x@example.com")));
    // Nor delete them.
    let admin = app.get("/api/v1/users").await.body["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = app
        .send(
            app.client
                .delete(app.url(&format!("/api/v1/users/{admin}")))
                .bearer_auth(&agent),
        )
        .await;
    assert_eq!((r.status, r.code()), (403, "forbidden"), "{}", r.body);
}

#[tokio::test]
async fn duplicate_email_is_409() {
    let app = spawn_app().await;
    assert_eq!(create_user(&app, "bia@example.com", "agent").await.status, 201);
    for email in ["bia@example.com", "BIA@example.com", "admin@localhost"] {
        let r = create_user(&app, email, "agent").await;
        assert_eq!(r.status, 409, "{email}: {}", r.body);
        assert!(!r.code().is_empty());
    }
    // An e-mail used in another workspace is taken too (sign-in is by e-mail).
    let other = app.other_workspace("acme").await;
    let r = app
        .post_as(
            "/api/v1/users",
            json!({"email": "bia@example.com", "name": "Bia", "password": "correct horse battery", "role": "agent"}),
            &other,
        )
        .await;
    assert_eq!(r.status, 409, "{}", r.body);
}

#[tokio::test]
async fn short_password_is_422_weak_password() {
    let app = spawn_app().await;
    for password in ["", "short", "123456789"] {
        let r = app
            .post(
                "/api/v1/users",
                json!({"email": "bia@example.com", "name": "Bia", "password": password, "role": "agent"}),
            )
            .await;
        assert_eq!(
            (r.status, r.code(), r.field()),
            (422, "weak_password", "password"),
            "{}",
            r.body
        );
    }
    let r = app
        .post(
            "/api/v1/users",
            json!({"email": "bia@example.com", "name": "Bia", "password": "1234567890", "role": "agent"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
}

#[tokio::test]
async fn invalid_user_fields_are_422() {
    let app = spawn_app().await;
    let base = json!({"email": "bia@example.com", "name": "Bia", "password": "correct horse battery", "role": "agent"});
    for (field, value) in [
        ("email", json!("not an email")),
        ("name", json!("  ")),
        ("role", json!("owner")),
    ] {
        let mut body = base.clone();
        body[field] = value;
        let r = app.post("/api/v1/users", body).await;
        assert_eq!((r.status, r.field()), (422, field), "{}", r.body);
    }
}

#[tokio::test]
async fn users_are_listed_without_secrets() {
    let app = spawn_app().await;
    let a = create_user(&app, "a@example.com", "agent").await.body;
    let b = create_user(&app, "b@example.com", "admin").await.body;
    let r = app.get("/api/v1/users").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(keys(&r.body), BTreeSet::from(["items", "next_cursor"]));
    let items = r.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    assert_eq!(items[0]["email"], "admin@localhost");
    assert_eq!(items[0]["role"], "admin");
    assert_eq!(items[1..], [a, b]);
    for u in items {
        assert_eq!(keys(u), BTreeSet::from(["id", "email", "name", "role"]), "{u}");
    }
    let r = app.get("/api/v1/users?limit=2").await;
    assert_eq!(r.body["items"].as_array().unwrap().len(), 2);
    let cursor = r.body["next_cursor"].as_str().expect("a cursor").to_string();
    let r = app.get(&format!("/api/v1/users?limit=2&cursor={cursor}")).await;
    assert_eq!(r.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(r.body["items"][0]["email"], "b@example.com");

    // Another workspace lists only its own users.
    let other = app.other_workspace("acme").await;
    let r = app.get_as("/api/v1/users", &other).await;
    let emails: Vec<&Value> = r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| &u["email"])
        .collect();
    assert_eq!(emails, [&json!("admin@acme.example")]);
}

#[tokio::test]
async fn deleting_a_user_is_204_and_their_tokens_stop_working() {
    let app = spawn_app().await;
    let (id, token) = user_with_token(&app, "agent@example.com", "agent").await;
    // A second token the user made for themselves.
    let r = app.post_as("/api/v1/tokens", json!({"name": "laptop"}), &token).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let second = r.body["token"].as_str().unwrap().to_string();
    for t in [&token, &second] {
        assert_eq!(app.get_as("/api/v1/contacts", t).await.status, 200);
    }

    let r = app.delete(&format!("/api/v1/users/{id}")).await;
    assert_eq!(r.status, 204, "{}", r.body);
    for t in [&token, &second] {
        let r = app.get_as("/api/v1/contacts", t).await;
        assert_eq!((r.status, r.code()), (401, "unauthorized"), "{}", r.body);
    }
    let listed = app.get("/api/v1/users").await.body;
    assert!(
        listed["items"].as_array().unwrap().iter().all(|u| u["id"] != json!(id)),
        "{listed}"
    );
    let r = app.delete(&format!("/api/v1/users/{id}")).await;
    assert_eq!((r.status, r.code()), (404, "not_found"), "{}", r.body);

    // Users of another workspace cannot be deleted from here.
    let other = app.other_workspace("acme").await;
    let theirs = app.get_as("/api/v1/users", &other).await.body["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = app.delete(&format!("/api/v1/users/{theirs}")).await;
    assert_eq!((r.status, r.code()), (404, "not_found"), "{}", r.body);
    assert_eq!(app.get_as("/api/v1/contacts", &other).await.status, 200);
}

#[tokio::test]
async fn the_last_admin_cannot_be_deleted() {
    let app = spawn_app().await;
    let first = app.get("/api/v1/users").await.body["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = app.delete(&format!("/api/v1/users/{first}")).await;
    assert_eq!((r.status, r.code()), (409, "last_admin"), "{}", r.body);
    assert_eq!(app.get("/api/v1/contacts").await.status, 200);

    // An agent does not count as an admin.
    create_user(&app, "agent@example.com", "agent").await;
    let r = app.delete(&format!("/api/v1/users/{first}")).await;
    assert_eq!((r.status, r.code()), (409, "last_admin"), "{}", r.body);

    // With a second admin, the first may go; then the second is the last.
    let (second, second_token) = user_with_token(&app, "admin2@example.com", "admin").await;
    let r = app.delete(&format!("/api/v1/users/{first}")).await;
    assert_eq!(r.status, 204, "{}", r.body);
    assert_eq!(app.get("/api/v1/contacts").await.status, 401);
    let r = app
        .send(
            app.client
                .delete(app.url(&format!("/api/v1/users/{second}")))
                .bearer_auth(&second_token),
        )
        .await;
    assert_eq!((r.status, r.code()), (409, "last_admin"), "{}", r.body);
    assert_eq!(app.get_as("/api/v1/users", &second_token).await.status, 200);
}

#[tokio::test]
async fn a_new_token_is_shown_once_and_works() {
    let app = spawn_app().await;
    let r = app.post("/api/v1/tokens", json!({"name": "ci"})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(keys(&r.body), BTreeSet::from(["id", "token"]));
    let token = r.body["token"].as_str().unwrap().to_string();
    assert_ne!(token, app.token);
    let r2 = app.post("/api/v1/tokens", json!({"name": "ci"})).await;
    assert_ne!(r2.body["token"], json!(token));
    assert_ne!(r2.body["id"], r.body["id"]);

    // The token acts as its user, in its user's workspace and role.
    let id = app.contact(json!({"firstname": "Ana"})).await;
    let r = app.get_as(&format!("/api/v1/contacts/{id}"), &token).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = app
        .post_as(
            "/api/v1/users",
            json!({"email": "b@example.com", "name": "B", "password": "correct horse battery", "role": "agent"}),
            &token,
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);

    // An agent's token carries the agent role.
    let (_, agent) = user_with_token(&app, "agent@example.com", "agent").await;
    let r = app.post_as("/api/v1/tokens", json!({"name": "mine"}), &agent).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let agent_minted = r.body["token"].as_str().unwrap().to_string();
    let r = app
        .post_as(
            "/api/v1/users",
            json!({"email": "c@example.com", "name": "C", "password": "correct horse battery", "role": "admin"}),
            &agent_minted,
        )
        .await;
    assert_eq!((r.status, r.code()), (403, "forbidden"), "{}", r.body);

    let r = app.post("/api/v1/tokens", json!({"name": "  "})).await;
    assert_eq!((r.status, r.field()), (422, "name"), "{}", r.body);
}

#[tokio::test]
async fn only_admins_of_the_default_workspace_create_workspaces() {
    let app = spawn_app().await;
    let r = app
        .post(
            "/api/v1/workspaces",
            json!({"name": "acme", "admin_email": "boss@acme.example", "default_country": "br"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["name"], "acme");
    let acme = r.body["admin_token"].as_str().unwrap().to_string();
    let r = app.get_as("/api/v1/workspace", &acme).await;
    assert_eq!(
        (&r.body["name"], &r.body["default_country"]),
        (&json!("acme"), &json!("BR")),
        "{}",
        r.body
    );

    // The new workspace's admin may manage it, but not create workspaces.
    let r = app
        .post_as(
            "/api/v1/workspaces",
            json!({"name": "beta", "admin_email": "boss@beta.example"}),
            &acme,
        )
        .await;
    assert_eq!((r.status, r.code()), (403, "forbidden"), "{}", r.body);
    let r = app
        .post_as(
            "/api/v1/users",
            json!({"email": "agent@acme.example", "name": "A", "password": "correct horse battery", "role": "agent"}),
            &acme,
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);

    // Neither may an agent of the default workspace.
    let (_, agent) = user_with_token(&app, "agent@example.com", "agent").await;
    let r = app
        .post_as(
            "/api/v1/workspaces",
            json!({"name": "gamma", "admin_email": "boss@gamma.example"}),
            &agent,
        )
        .await;
    assert_eq!((r.status, r.code()), (403, "forbidden"), "{}", r.body);

    // Names are unique.
    let r = app
        .post(
            "/api/v1/workspaces",
            json!({"name": "acme", "admin_email": "other@acme.example"}),
        )
        .await;
    assert_eq!(r.status, 409, "{}", r.body);
}

#[tokio::test]
async fn a_refused_workspace_leaves_nothing_behind() {
    let app = spawn_app().await;
    // The admin e-mail is taken: no workspace without an admin is left behind.
    for email in ["admin@localhost", "ADMIN@localhost"] {
        let r = app
            .post("/api/v1/workspaces", json!({"name": "beta", "admin_email": email}))
            .await;
        assert_eq!(r.status, 409, "{}", r.body);
    }
    let r = app
        .post(
            "/api/v1/workspaces",
            json!({"name": "beta", "admin_email": "boss@beta.example"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let beta = r.body["admin_token"].as_str().unwrap().to_string();
    let r = app.get_as("/api/v1/users", &beta).await;
    assert_eq!(r.body["items"].as_array().unwrap().len(), 1, "{}", r.body);

    // A taken name leaves no user behind: the e-mail stays free.
    let r = app
        .post(
            "/api/v1/workspaces",
            json!({"name": "beta", "admin_email": "second@beta.example"}),
        )
        .await;
    assert_eq!(r.status, 409, "{}", r.body);
    let r = create_user(&app, "second@beta.example", "agent").await;
    assert_eq!(r.status, 201, "{}", r.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_admins_deleting_each_other_at_once_leave_one_admin() {
    let app = spawn_app().await;
    let mut survivor = (
        app.get("/api/v1/users").await.body["items"][0]["id"]
            .as_str()
            .unwrap()
            .to_string(),
        app.token.clone(),
    );
    for i in 0..10 {
        let r = app
            .post_as(
                "/api/v1/users",
                json!({"email": format!("admin{i}@example.com"), "name": "Admin", "password": "correct horse battery", "role": "admin"}),
                &survivor.1,
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        let other = r.body["id"].as_str().unwrap().to_string();
        let other_token = token_for(&app, &other).await;
        let (a, b) = tokio::join!(
            app.send(
                app.client
                    .delete(app.url(&format!("/api/v1/users/{other}")))
                    .bearer_auth(&survivor.1)
            ),
            app.send(
                app.client
                    .delete(app.url(&format!("/api/v1/users/{}", survivor.0)))
                    .bearer_auth(&other_token)
            ),
        );
        // Exactly one of them goes; the other is refused as the last admin
        // (or finds its token gone with its user).
        let statuses = [a.status, b.status];
        assert_eq!(
            statuses.iter().filter(|s| **s == 204).count(),
            1,
            "round {i}: {statuses:?} {} {}",
            a.body,
            b.body
        );
        for r in [&a, &b] {
            assert!(
                r.status == 204
                    || (r.status, r.code()) == (409, "last_admin")
                    || (r.status, r.code()) == (401, "unauthorized"),
                "round {i}: {} {}",
                r.status,
                r.body
            );
        }
        if b.status == 204 {
            survivor = (other, other_token);
        }
        let r = app.get_as("/api/v1/users", &survivor.1).await;
        let admins = r.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|u| u["role"] == "admin")
            .count();
        assert_eq!(admins, 1, "round {i}: {}", r.body);
    }
}

#[tokio::test]
async fn an_agent_lists_and_revokes_only_their_own_tokens() {
    let app = spawn_app().await;
    let (_, agent) = user_with_token(&app, "agent@example.com", "agent").await;
    let (_, other) = user_with_token(&app, "other@example.com", "agent").await;
    let made = app.post_as("/api/v1/tokens", json!({"name": "orders"}), &agent).await;
    assert_eq!(made.status, 201, "{}", made.body);
    let mine = app.get_as("/api/v1/tokens", &agent).await;
    assert_eq!(mine.status, 200);
    let names: Vec<&str> = mine.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names.len(),
        2,
        "the agent's two tokens and nobody else's: {}",
        mine.body
    );
    assert!(!mine.body.to_string().contains("rcd_"), "tokens are never listed");
    let id = made.body["id"].as_str().unwrap();
    let r = app
        .send(
            app.client
                .delete(app.url(&format!("/api/v1/tokens/{id}")))
                .bearer_auth(&other),
        )
        .await;
    assert_eq!(r.status, 404, "another agent's token is not theirs to revoke");
    let r = app
        .send(
            app.client
                .delete(app.url(&format!("/api/v1/tokens/{id}")))
                .bearer_auth(&agent),
        )
        .await;
    assert_eq!(r.status, 204);
    let revoked = made.body["token"].as_str().unwrap();
    assert_eq!(
        app.get_as("/api/v1/contacts", revoked).await.status,
        401,
        "a revoked token opens nothing"
    );
}

#[tokio::test]
async fn agents_see_their_colleagues_names_but_not_their_email_addresses() {
    let app = spawn_app().await;
    let (agent_id, agent) = user_with_token(&app, "agent@example.com", "agent").await;
    let r = app.get_as("/api/v1/users", &agent).await;
    assert_eq!(r.status, 200);
    for u in r.body["items"].as_array().unwrap() {
        assert!(u["name"].is_string());
        if u["id"] == agent_id.as_str() {
            assert_eq!(u["email"], "agent@example.com", "their own address");
        } else {
            assert!(u.get("email").is_none(), "{u}");
        }
    }
    let admin_view = app.get("/api/v1/users").await;
    assert!(admin_view.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|u| u["email"].is_string()));
}

/// `recado workspace create` with `args`, on `db`: (exit success, stdout + stderr).
fn workspace_create(db: &recado_store::testing::TestDatabase, args: &[&str]) -> (bool, String) {
    let data_dir = crate::common::process::temp_data_dir("recado-cli");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_recado"))
        .args(["workspace", "create"])
        .args(args)
        .arg("--database-url")
        .arg(&db.url)
        .arg("--data-dir")
        .arg(&data_dir)
        .output()
        .expect("run recado");
    let _ = std::fs::remove_dir_all(&data_dir);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[tokio::test]
async fn the_command_line_refuses_a_workspace_the_api_refuses() {
    let db = recado_store::testing::TestDatabase::new().await;
    for (args, code) in [
        (
            vec!["Loja", "--admin-email", "admin@loja.example", "--default-country", "ZZ"],
            "invalid_country",
        ),
        (vec!["Loja", "--admin-email", "not-an-address"], "invalid_email"),
        (vec!["   ", "--admin-email", "admin@loja.example"], "invalid_name"),
    ] {
        let (ok, text) = workspace_create(&db, &args);
        assert!(!ok && text.contains(code), "{args:?} gave: {text}");
    }
    let (ok, text) = workspace_create(
        &db,
        &["Loja", "--admin-email", "Admin@Loja.example", "--default-country", "br"],
    );
    assert!(
        ok && text.contains("rcd_") && text.contains("admin@loja.example"),
        "{text}"
    );
    let store = db.store().await;
    let ws = store.workspace_by_name("Loja").await.unwrap().expect("created");
    assert_eq!(ws.default_country.as_deref(), Some("BR"));
}
