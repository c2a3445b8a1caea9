//! CSV import: good lines are kept, every bad line is reported with its line
//! number, a second import updates (matched by e-mail, then phone).

use crate::common::{spawn_app, Reply, TestApp};
use serde_json::{json, Value};

async fn import(app: &TestApp, csv: &str) -> Reply {
    import_with(app, csv, Some("text/csv")).await
}

async fn import_with(app: &TestApp, csv: &str, content_type: Option<&str>) -> Reply {
    let mut req = app
        .client
        .post(app.url("/api/v1/contacts/import"))
        .bearer_auth(&app.token)
        .body(csv.to_string());
    if let Some(ct) = content_type {
        req = req.header("Content-Type", ct);
    }
    app.send(req).await
}

async fn all_contacts(app: &TestApp) -> Vec<Value> {
    let r = app.get("/api/v1/contacts?limit=500").await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body["items"].as_array().unwrap().clone()
}

async fn find(app: &TestApp, q: &str) -> Vec<Value> {
    let r = app
        .send(
            app.client
                .get(app.url("/api/v1/contacts"))
                .query(&[("q", q)])
                .bearer_auth(&app.token),
        )
        .await;
    r.body["items"].as_array().unwrap().clone()
}

/// Lines 3, 4, 5 and 8 are bad (phone, e-mail, too few fields, too many);
/// line 6 holds a quoted value that runs over two lines.
const MIXED: &str = "firstname,lastname,email,phone,country,notes
Ana,Souza,ana@example.com,11 91234-5678,BR,vip
Bruno,Lima,bruno@example.com,12,BR,
\"Carla\",\"Dias\",\"not-an-email\",11 98765-4321,BR,
Diego,Rocha,diego@example.com
Eva,Melo,eva@example.com,+34 612 345 678,,\"first line
second line\"
Fabio,Nunes,fabio@example.com,11 99999-0000,BR,x,extra
Gil,Ramos,GIL@example.com,,,
";

fn error_lines(r: &Reply) -> Vec<u64> {
    r.body["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("errors: {}", r.body))
        .iter()
        .map(|e| e["line"].as_u64().unwrap())
        .collect()
}

fn message_of(r: &Reply, line: u64) -> String {
    r.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["line"] == line)
        .and_then(|e| e["message"].as_str())
        .unwrap_or_else(|| panic!("no message for line {line}: {}", r.body))
        .to_string()
}

#[tokio::test]
async fn good_lines_are_kept_and_each_bad_line_is_reported_with_its_line_number() {
    let app = spawn_app().await;
    let r = import(&app, MIXED).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        (&r.body["created"], &r.body["updated"], &r.body["failed"]),
        (&json!(3), &json!(0), &json!(4)),
        "{}",
        r.body
    );
    assert_eq!(error_lines(&r), vec![3, 4, 5, 8], "{}", r.body);
    for line in [3, 4, 5, 8] {
        assert!(!message_of(&r, line).trim().is_empty());
    }
    assert!(message_of(&r, 3).contains("phone"), "{}", r.body);
    assert!(message_of(&r, 4).contains("email"), "{}", r.body);
    assert_eq!(message_of(&r, 5), "the line has 3 fields but the header has 6");
    assert_eq!(message_of(&r, 8), "the line has 7 fields but the header has 6");
    for e in r.body["errors"].as_array().unwrap() {
        let mut keys: Vec<&String> = e.as_object().unwrap().keys().collect();
        keys.sort();
        assert_eq!(keys, ["line", "message"], "{e}");
    }

    let contacts = all_contacts(&app).await;
    let mut names: Vec<&str> = contacts
        .iter()
        .map(|c| c["properties"]["firstname"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["Ana", "Eva", "Gil"]);

    let ana = &find(&app, "ana@example.com").await[0];
    assert_eq!(ana["phones"]["phone"], "+5511912345678");
    assert_eq!(ana["properties"]["notes"], "vip");
    let eva = &find(&app, "eva").await[0];
    assert_eq!(eva["phones"]["phone"], "+34612345678");
    assert_eq!(eva["properties"]["notes"], "first line\nsecond line");
    assert!(
        eva["properties"].get("country").is_none(),
        "empty cells set nothing: {eva}"
    );
    let gil = &find(&app, "gil").await[0];
    assert_eq!(gil["properties"]["email"], "gil@example.com");
    assert_eq!(gil["phones"]["phone"], Value::Null);
}

#[tokio::test]
async fn a_second_import_of_the_same_file_updates_instead_of_creating() {
    let app = spawn_app().await;
    let first = import(&app, MIXED).await;
    assert_eq!(first.body["created"], 3, "{}", first.body);
    let ids: Vec<Value> = all_contacts(&app).await.iter().map(|c| c["id"].clone()).collect();

    let second = import(&app, MIXED).await;
    assert_eq!(second.status, 200, "{}", second.body);
    assert_eq!(
        (&second.body["created"], &second.body["updated"], &second.body["failed"]),
        (&json!(0), &json!(3), &json!(4)),
        "{}",
        second.body
    );
    assert_eq!(error_lines(&second), vec![3, 4, 5, 8]);
    let after: Vec<Value> = all_contacts(&app).await.iter().map(|c| c["id"].clone()).collect();
    assert_eq!(after, ids, "no contact was added or lost");

    // A changed file updates the same contacts.
    let changed = "email,lastname\nana@example.com,Souza Lima\n";
    let r = import(&app, changed).await;
    assert_eq!(
        (&r.body["created"], &r.body["updated"], &r.body["failed"]),
        (&json!(0), &json!(1), &json!(0))
    );
    let ana = &find(&app, "ana@example.com").await[0];
    assert_eq!(ana["properties"]["lastname"], "Souza Lima");
    assert_eq!(ana["properties"]["firstname"], "Ana", "other properties are kept");
    assert_eq!(ana["phones"]["phone"], "+5511912345678");
}

#[tokio::test]
async fn rows_match_existing_contacts_by_email_then_by_phone() {
    let app = spawn_app().await;
    let by_email = app
        .contact(json!({"firstname": "Ana", "email": "ana@example.com", "phone": "+55 11 91234-5678"}))
        .await;
    let by_phone = app
        .contact(json!({"firstname": "Bruno", "mobilephone": "+55 21 98765-4321"}))
        .await;

    let csv = "email,phone,country,firstname
ANA@example.com,(21) 98765-4321,BR,Ana Maria
,21 98765-4321,BR,Bruno Lima
carla@example.com,+351 912 345 678,,Carla
";
    let r = import(&app, csv).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        (
            &r.body["created"],
            &r.body["updated"],
            &r.body["failed"],
            &r.body["errors"]
        ),
        (&json!(1), &json!(2), &json!(0), &json!([])),
        "{}",
        r.body
    );

    // The e-mail decides even when the phone belongs to another contact.
    let ana = app.get(&format!("/api/v1/contacts/{by_email}")).await.body;
    assert_eq!(ana["properties"]["firstname"], "Ana Maria");
    assert_eq!(ana["phones"]["phone"], "+5521987654321");
    // Without an e-mail, the phone (in any written form) finds the contact.
    let bruno = app.get(&format!("/api/v1/contacts/{by_phone}")).await.body;
    assert_eq!(bruno["properties"]["firstname"], "Bruno Lima");
    assert_eq!(bruno["phones"]["mobilephone"], "+5521987654321");
    assert_eq!(bruno["phones"]["phone"], "+5521987654321");
    assert_eq!(all_contacts(&app).await.len(), 3);
}

#[tokio::test]
async fn line_numbers_count_crlf_line_ends_blank_lines_and_quoted_line_breaks() {
    let app = spawn_app().await;
    // A spreadsheet export: byte order mark and CRLF line ends.
    let csv = "\u{feff}firstname,email\r\nAna,ana@example.com\r\nBad,nope\r\n\"Two\r\nlines\",x@\r\nOk,ok@example.com\r\nShort\r\n";
    let r = import(&app, csv).await;
    assert_eq!(
        (&r.body["created"], &r.body["failed"]),
        (&json!(2), &json!(3)),
        "{}",
        r.body
    );
    assert_eq!(error_lines(&r), vec![3, 4, 7], "{}", r.body);

    // Blank lines are skipped but still counted.
    let csv = "firstname,email\n\nBia,bia@example.com\n\n\nBad,nope\n,\n\"x\ny\",still-bad\nlast,z@\n";
    let r = import(&app, csv).await;
    assert_eq!(
        (&r.body["created"], &r.body["failed"]),
        (&json!(1), &json!(4)),
        "{}",
        r.body
    );
    assert_eq!(error_lines(&r), vec![6, 7, 8, 10], "{}", r.body);
    assert_eq!(message_of(&r, 7), "the line is empty");

    // Old Mac line ends (a lone CR) end lines too.
    let r = import(&app, "firstname,email\rCid,cid@example.com\rBad,nope\r").await;
    assert_eq!(
        (&r.body["created"], &r.body["failed"]),
        (&json!(1), &json!(1)),
        "{}",
        r.body
    );
    assert_eq!(error_lines(&r), vec![3], "{}", r.body);
}

#[tokio::test]
async fn a_bad_header_column_is_422_and_imports_nothing() {
    let app = spawn_app().await;
    let r = import(&app, "firstname,E-mail\nAna,ana@example.com\n").await;
    assert_eq!(
        (r.status, r.code(), r.field()),
        (422, "invalid_property", "E-mail"),
        "{}",
        r.body
    );
    // A column named twice would leave one of its values unused.
    let r = import(&app, "email,firstname,email\na@example.com,Ana,b@example.com\n").await;
    assert_eq!((r.status, r.field()), (422, "email"), "{}", r.body);
    let r = import(&app, "\n").await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(all_contacts(&app).await.is_empty());
}

#[tokio::test]
async fn wrong_content_type_is_415_unsupported_media_type() {
    let app = spawn_app().await;
    let csv = "firstname\nAna\n";
    for ct in [Some("application/json"), Some("text/plain"), None] {
        let r = import_with(&app, csv, ct).await;
        assert_eq!(
            (r.status, r.code()),
            (415, "unsupported_media_type"),
            "{ct:?}: {}",
            r.body
        );
    }
    // Parameters of the media type are fine.
    let r = import_with(&app, csv, Some("text/csv; charset=utf-8")).await;
    assert_eq!((r.status, &r.body["created"]), (200, &json!(1)), "{}", r.body);
}

#[tokio::test]
async fn counts_add_up_to_the_lines_of_the_file() {
    let app = spawn_app().await;
    app.contact(json!({"email": "old@example.com", "firstname": "Old"}))
        .await;
    let mut csv = String::from("email,firstname,phone,country\n");
    let mut bad = Vec::new();
    for i in 0..20 {
        let line = i + 2;
        if i % 5 == 4 {
            csv.push_str(&format!("person{i}@example.com,P{i},1,BR\n"));
            bad.push(line);
        } else {
            csv.push_str(&format!(
                "person{i}@example.com,P{i},11 9{:04}-{:04},BR\n",
                1000 + i,
                2000 + i
            ));
        }
    }
    csv.push_str("old@example.com,Updated,,\n");
    let r = import(&app, &csv).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        (&r.body["created"], &r.body["updated"], &r.body["failed"]),
        (&json!(16), &json!(1), &json!(4)),
        "{}",
        r.body
    );
    assert_eq!(error_lines(&r), bad);
    assert_eq!(all_contacts(&app).await.len(), 17);
}
