//! The Calls API on loopback: a minimal HTTP/1.1 server that checks basic auth, creates calls
//! as their scripts say, reads them back and hangs them up — and starts playing each call once
//! its creation is answered.

use std::sync::Arc;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::call::RunnerCall;
use super::forms::new_sid;
use super::player::play;
use super::runner::{Entry, Inner};
use super::script::{Outcome, Script};
use super::API_VERSION;

struct HttpRequest {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl HttpRequest {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

struct HttpAnswer {
    status: u16,
    body: serde_json::Value,
}

/// Answers the Calls API on `listener` until the runner stops it.
pub(super) async fn serve(listener: TcpListener, inner: Arc<Inner>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let inner = inner.clone();
        tokio::spawn(async move {
            let _ = handle(stream, inner).await;
        });
    }
}

async fn handle(mut stream: TcpStream, inner: Arc<Inner>) -> std::io::Result<()> {
    let Some(request) = read_request(&mut stream).await? else {
        return Ok(());
    };
    let (answer, placed) = route(&inner, &request);
    let body = answer.body.to_string();
    let head = format!(
        "HTTP/1.1 {} {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        answer.status,
        reason(answer.status),
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body.as_bytes()).await?;
    stream.shutdown().await?;
    // The provider answers the API first and only then starts calling.
    if let Some(sid) = placed {
        let player = tokio::spawn(play(inner.clone(), sid));
        inner
            .tasks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(player.abort_handle());
    }
    Ok(())
}

async fn read_request(stream: &mut TcpStream) -> std::io::Result<Option<HttpRequest>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        if buf.len() > 64 * 1024 {
            return Ok(None);
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next().unwrap_or_default().split_whitespace();
    let method = request_line.next().unwrap_or_default().to_string();
    let target = request_line.next().unwrap_or_default();
    let path = target.split('?').next().unwrap_or_default().to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < length {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    body.truncate(length);
    Ok(Some(HttpRequest {
        method,
        path,
        headers,
        body,
    }))
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        405 => "Method Not Allowed",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

fn error(status: u16, code: i64, message: &str) -> HttpAnswer {
    HttpAnswer {
        status,
        body: json!({
            "code": code,
            "message": message,
            "more_info": format!("https://www.twilio.com/docs/errors/{code}"),
            "status": status,
        }),
    }
}

/// The answer, and the sid of a call to start playing once it is sent.
fn route(inner: &Arc<Inner>, request: &HttpRequest) -> (HttpAnswer, Option<String>) {
    let expected = format!(
        "Basic {}",
        STANDARD.encode(format!("{}:{}", inner.account_sid, inner.auth_token))
    );
    if request.header("authorization") != Some(expected.as_str()) {
        return (error(401, 20003, "Authenticate"), None);
    }
    let prefix = format!("/{API_VERSION}/Accounts/{}/", inner.account_sid);
    let not_found = || {
        error(
            404,
            20404,
            &format!("The requested resource {} was not found", request.path),
        )
    };
    let Some(rest) = request.path.strip_prefix(&prefix) else {
        return (not_found(), None);
    };
    let form: Vec<(String, String)> = form_urlencoded::parse(&request.body).into_owned().collect();
    match (request.method.as_str(), rest) {
        ("POST", "Calls.json") => create(inner, form),
        (method, rest) => {
            let Some(sid) = rest.strip_prefix("Calls/").and_then(|r| r.strip_suffix(".json")) else {
                return (not_found(), None);
            };
            let answer = match method {
                "GET" => inner.with_call(sid, |e| resource(&inner.account_sid, &e.call)),
                "POST" => inner.with_call(sid, |e| {
                    let status = form.iter().find(|(k, _)| k == "Status").map(|(_, v)| v.as_str());
                    if matches!(status, Some("completed" | "canceled")) && !e.call.finished {
                        e.hang_up = true;
                    }
                    resource(&inner.account_sid, &e.call)
                }),
                _ => return (error(405, 20004, "Method not allowed"), None),
            };
            (
                answer
                    .map(|body| HttpAnswer { status: 200, body })
                    .unwrap_or_else(not_found),
                None,
            )
        }
    }
}

fn create(inner: &Arc<Inner>, form: Vec<(String, String)>) -> (HttpAnswer, Option<String>) {
    let value = |name: &str| {
        form.iter()
            .find(|(k, v)| k == name && !v.trim().is_empty())
            .map(|(_, v)| v.clone())
    };
    let Some(to) = value("To") else {
        return (error(400, 21201, "No 'To' number is specified"), None);
    };
    let Some(from) = value("From") else {
        return (error(400, 21213, "No 'From' number is specified"), None);
    };
    let url = value("Url").unwrap_or_default();
    if !matches!(reqwest::Url::parse(&url), Ok(u) if u.scheme() == "http" || u.scheme() == "https") {
        return (error(400, 21205, "Url is not a valid URL"), None);
    }
    let mut state = inner.state();
    let script = state
        .scripts
        .get(&to)
        .or(state.default_script.as_ref())
        .cloned()
        .unwrap_or_else(Script::answer_silent);
    if let Outcome::Refuse {
        http_status,
        code,
        message,
    } = &script.outcome
    {
        return (error(*http_status, *code, message), None);
    }
    let mut events: Vec<String> = form
        .iter()
        .filter(|(k, _)| k == "StatusCallbackEvent")
        .flat_map(|(_, v)| v.split_whitespace().map(str::to_string).collect::<Vec<_>>())
        .collect();
    if events.is_empty() {
        events.push("completed".into());
    }
    let call = RunnerCall {
        sid: new_sid(),
        to,
        from,
        url,
        status_callback: value("StatusCallback"),
        status_callback_events: events,
        machine_detection: value("MachineDetection").is_some(),
        status: "queued".into(),
        answered_by: None,
        duration_s: None,
        steps: Vec::new(),
        finished: false,
        form,
    };
    let body = resource(&inner.account_sid, &call);
    let sid = call.sid.clone();
    state.calls.push(Entry {
        call,
        script,
        hang_up: false,
    });
    (HttpAnswer { status: 201, body }, Some(sid))
}

/// The call resource as the provider's JSON has it.
fn resource(account_sid: &str, call: &RunnerCall) -> serde_json::Value {
    json!({
        "sid": call.sid,
        "account_sid": account_sid,
        "to": call.to,
        "from": call.from,
        "status": call.status,
        "direction": "outbound-api",
        "api_version": API_VERSION,
        "answered_by": call.answered_by,
        "duration": call.duration_s.map(|d| d.to_string()),
        "date_created": chrono::Utc::now().to_rfc2822(),
        "parent_call_sid": null,
        "price": null,
        "price_unit": "USD",
        "queue_time": "0",
        "uri": format!("/{API_VERSION}/Accounts/{account_sid}/Calls/{}.json", call.sid),
    })
}
