//! The HTTP client against a local stand-in of the provider: paths, auth headers, bodies,
//! error envelopes, `Retry-After`, template paging and timeouts.

use std::time::Duration;

use recado_channels::whatsapp::client::NO_PROVIDER_CODE;
use recado_channels::whatsapp::send::{message_body, OutboundContent, SendRequest};
use recado_channels::whatsapp::{classify, ErrorAction, Provider, SendError, WhatsAppClient};
use serde_json::{json, Value};
use wiremock::matchers::{
    bearer_token, body_json, header, header_exists, method, path, query_param, query_param_is_missing,
};
use wiremock::{Mock, MockServer, ResponseTemplate};

const PHONE_ID: &str = "1065000001";

fn cloud(server: &MockServer) -> WhatsAppClient {
    let provider = Provider::Cloud {
        graph_base_url: format!("{}/", server.uri()),
        graph_version: "v23.0".into(),
        access_token: "EAAG-token".into(),
    };
    WhatsAppClient::new(provider, reqwest::Client::new()).with_timeout(Duration::from_secs(5))
}

fn dialog360(server: &MockServer) -> WhatsAppClient {
    let provider = Provider::Dialog360 {
        base_url: server.uri(),
        api_key: "d360-key".into(),
    };
    WhatsAppClient::new(provider, reqwest::Client::new())
}

fn hello() -> SendRequest {
    SendRequest {
        to: "+5511900000001".into(),
        content: OutboundContent::Text {
            body: "Olá".into(),
            preview_url: false,
        },
        biz_opaque_callback_data: Some("msg_01".into()),
        reply_to: None,
    }
}

fn accepted(wamid: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "messaging_product": "whatsapp",
        "contacts": [{ "input": "+5511900000001", "wa_id": "5511900000001" }],
        "messages": [{ "id": wamid }]
    }))
}

fn graph_error(code: i64, message: &str, details: &str) -> Value {
    json!({ "error": { "message": message, "type": "OAuthException", "code": code,
        "error_data": { "messaging_product": "whatsapp", "details": details }, "fbtrace_id": "Axyz" } })
}

async fn send_error(status: u16, body: Value, retry_after: Option<&str>) -> SendError {
    let server = MockServer::start().await;
    let mut response = ResponseTemplate::new(status).set_body_json(body);
    if let Some(value) = retry_after {
        response = response.insert_header("Retry-After", value);
    }
    Mock::given(method("POST")).respond_with(response).mount(&server).await;
    cloud(&server).send(PHONE_ID, &hello()).await.unwrap_err()
}

#[tokio::test]
async fn cloud_send_posts_the_message_body_with_bearer_token_and_returns_the_wamid() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!("/v23.0/{PHONE_ID}/messages")))
        .and(bearer_token("EAAG-token"))
        .and(body_json(message_body(&hello())))
        .respond_with(accepted("wamid.OK1"))
        .expect(1)
        .mount(&server)
        .await;
    let sent = cloud(&server).send(PHONE_ID, &hello()).await.unwrap();
    assert_eq!(sent.id, "wamid.OK1");
    assert_eq!(sent.wa_id.as_deref(), Some("5511900000001"));
}

#[tokio::test]
async fn dialog360_send_posts_to_its_messages_path_with_the_api_key_header() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/messages"))
        .and(header("D360-API-KEY", "d360-key"))
        .and(body_json(message_body(&hello())))
        .respond_with(accepted("wamid.360"))
        .expect(1)
        .mount(&server)
        .await;
    assert_eq!(
        dialog360(&server).send(PHONE_ID, &hello()).await.unwrap().id,
        "wamid.360"
    );
    let requests = server.received_requests().await.unwrap();
    assert!(
        requests[0].headers.get("authorization").is_none(),
        "no bearer token goes to the BSP"
    );
}

#[tokio::test]
async fn outside_window_error_131047_is_a_provider_error_that_is_not_sent() {
    let details = "More than 24 hours have passed since the recipient last replied to the sender number.";
    let err = send_error(
        400,
        graph_error(131047, "(#131047) Re-engagement message", details),
        None,
    )
    .await;
    assert_eq!(
        err,
        SendError::Provider {
            http_status: 400,
            code: 131047,
            message: "(#131047) Re-engagement message".into(),
            details: Some(details.into()),
            retry_after_ms: None,
        }
    );
    assert_eq!(
        err.action(),
        Some(ErrorAction::NotSent {
            reason: "outside_session_window"
        })
    );
}

#[tokio::test]
async fn rate_limit_130429_carries_retry_after_in_milliseconds_and_retries_later() {
    let err = send_error(
        429,
        graph_error(
            130429,
            "(#130429) Rate limit hit",
            "Cloud API message throughput has been reached.",
        ),
        Some("7"),
    )
    .await;
    let SendError::Provider {
        code, retry_after_ms, ..
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!((*code, *retry_after_ms), (130429, Some(7000)));
    assert_eq!(err.action(), Some(ErrorAction::RetryLater));
}

#[tokio::test]
async fn retry_after_given_as_an_http_date_in_the_past_means_now() {
    let err = send_error(503, json!({}), Some("Wed, 21 Oct 2015 07:28:00 GMT")).await;
    let SendError::Provider {
        retry_after_ms, code, ..
    } = err
    else {
        panic!()
    };
    assert_eq!((retry_after_ms, code), (Some(0), NO_PROVIDER_CODE));
}

#[tokio::test]
async fn marketing_opt_out_131050_maps_to_opted_out() {
    let err = send_error(
        400,
        graph_error(
            131050,
            "Unable to deliver the message.",
            "User stopped marketing messages",
        ),
        None,
    )
    .await;
    let SendError::Provider { code, http_status, .. } = err else {
        panic!()
    };
    assert_eq!(classify(code, Some(http_status)), ErrorAction::OptedOut);
}

#[tokio::test]
async fn a_non_json_server_error_has_no_provider_code_and_retries_later() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(502).set_body_string("<html>Bad gateway</html>"))
        .mount(&server)
        .await;
    let err = cloud(&server).send(PHONE_ID, &hello()).await.unwrap_err();
    assert!(
        matches!(&err, SendError::Provider { http_status: 502, code: NO_PROVIDER_CODE, message, .. } if message.contains("Bad gateway"))
    );
    assert_eq!(err.action(), Some(ErrorAction::RetryLater));
}

#[tokio::test]
async fn bsp_errors_list_is_read_when_there_is_no_graph_envelope() {
    let body = json!({ "meta": { "success": false }, "errors": [{ "code": 1013, "title": "User is not valid", "details": "invalid recipient" }] });
    let err = send_error(400, body, None).await;
    assert!(
        matches!(err, SendError::Provider { code: 1013, ref message, details: Some(ref d), .. } if message == "User is not valid" && d == "invalid recipient")
    );
}

#[tokio::test]
async fn a_success_without_message_id_is_a_decode_error() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "messages": [] })))
        .mount(&server)
        .await;
    assert!(matches!(
        cloud(&server).send(PHONE_ID, &hello()).await,
        Err(SendError::Decode(_))
    ));
}

#[tokio::test]
async fn a_provider_slower_than_the_timeout_makes_the_send_uncertain() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(accepted("wamid.late").set_delay(Duration::from_secs(3)))
        .mount(&server)
        .await;
    let client = cloud(&server).with_timeout(Duration::from_millis(200));
    assert_eq!(client.send(PHONE_ID, &hello()).await, Err(SendError::Timeout));
}

#[tokio::test]
async fn an_unreachable_provider_is_a_connect_error_safe_to_retry() {
    // Bind then drop a listener so the port is free and nothing answers on it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let provider = Provider::Cloud {
        graph_base_url: format!("http://127.0.0.1:{port}"),
        graph_version: "v23.0".into(),
        access_token: "t".into(),
    };
    let client = WhatsAppClient::new(provider, reqwest::Client::new()).with_timeout(Duration::from_secs(5));
    assert!(matches!(
        client.send(PHONE_ID, &hello()).await,
        Err(SendError::Connect(_))
    ));
}

#[tokio::test]
async fn mark_read_posts_the_read_status_for_the_message() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!("/v23.0/{PHONE_ID}/messages")))
        .and(body_json(
            json!({ "messaging_product": "whatsapp", "status": "read", "message_id": "wamid.IN" }),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "success": true })))
        .expect(1)
        .mount(&server)
        .await;
    cloud(&server).mark_read(PHONE_ID, "wamid.IN").await.unwrap();
}

fn graph_template(id: &str, name: &str) -> Value {
    json!({ "id": id, "name": name, "language": "pt_BR", "status": "APPROVED", "category": "MARKETING",
            "components": [{ "type": "BODY", "text": "Oi {{1}}" }] })
}

#[tokio::test]
async fn cloud_template_listing_follows_the_after_cursor_until_there_is_no_next_page() {
    let server = MockServer::start().await;
    let url = "/v23.0/WABA1/message_templates";
    let first = json!({ "data": [graph_template("1", "a"), graph_template("2", "b")],
        "paging": { "cursors": { "before": "B1", "after": "CURSOR1" }, "next": format!("{}{url}?after=CURSOR1&access_token=secret", server.uri()) } });
    let last =
        json!({ "data": [graph_template("3", "c")], "paging": { "cursors": { "before": "B2", "after": "CURSOR2" } } });
    Mock::given(method("GET"))
        .and(path(url))
        .and(bearer_token("EAAG-token"))
        .and(query_param_is_missing("after"))
        .and(query_param("limit", "100"))
        .respond_with(ResponseTemplate::new(200).set_body_json(first))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(url))
        .and(query_param("after", "CURSOR1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(last))
        .expect(1)
        .mount(&server)
        .await;
    let templates = cloud(&server).list_templates("WABA1").await.unwrap();
    let names: Vec<&str> = templates.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["a", "b", "c"]);
    assert_eq!(templates[0].variables().body, 1);
}

#[tokio::test]
async fn dialog360_template_listing_pages_by_offset_until_the_total_and_normalises_status() {
    let server = MockServer::start().await;
    let item = |name: &str| {
        json!({ "name": name, "language": "es", "status": "approved", "category": "UTILITY",
        "namespace": "ns", "external_id": format!("meta-{name}"), "components": [] })
    };
    let page = |items: Vec<Value>, offset: usize| json!({ "count": items.len(), "limit": 1000, "offset": offset, "total": 3, "waba_templates": items });
    Mock::given(method("GET"))
        .and(path("/v1/configs/templates"))
        .and(header_exists("D360-API-KEY"))
        .and(query_param("offset", "0"))
        .respond_with(ResponseTemplate::new(200).set_body_json(page(vec![item("a"), item("b")], 0)))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/configs/templates"))
        .and(query_param("offset", "2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(page(vec![item("c")], 2)))
        .expect(1)
        .mount(&server)
        .await;
    let templates = dialog360(&server).list_templates("ignored").await.unwrap();
    let summary: Vec<(String, String)> = templates.iter().map(|t| (t.id.clone(), t.status.clone())).collect();
    assert_eq!(
        summary,
        [("meta-a", "APPROVED"), ("meta-b", "APPROVED"), ("meta-c", "APPROVED")].map(|(a, b)| (a.into(), b.into()))
    );
}

#[tokio::test]
async fn provider_debug_output_hides_credentials() {
    let debug = format!("{:?}", Provider::cloud("EAAG-secret-token"));
    assert!(!debug.contains("EAAG-secret-token"), "{debug}");
    assert!(!format!("{:?}", Provider::dialog360("d360-secret")).contains("d360-secret"));
}
