//! The web UI agents work in: server-rendered pages (askama templates,
//! checked at compile time) with a little JavaScript for live updates
//! (server-sent events) and the composer. Pages stay readable with
//! JavaScript off; every form post carries a CSRF token. Assets are
//! embedded in the binary.

pub mod admin;
pub mod campaigns;
pub mod chart;
pub mod compose;
pub mod contact_crm;
pub mod contact_page;
pub mod contact_panel;
pub mod contact_voice;
pub mod contacts_import;
pub mod contacts_list;
pub mod conversation;
pub mod inbox_page;
pub mod live;
pub mod login;
pub mod media;
pub mod narration;
pub mod page;
pub mod render;
pub mod session;
pub mod settings;
pub mod simulator;
pub mod sms_meter;
pub mod tokens;
pub mod workflows;

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use recado_app::AppState;

const APP_CSS: &str = include_str!("../../assets/app.css");
const APP_JS: &str = include_str!("../../assets/app.js");
const ICON: &[u8] = include_bytes!("../../assets/icon.svg");

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(login::home))
        .route("/login", get(login::login_page).post(login::login))
        .route("/logout", post(login::logout))
        .route("/inbox", get(inbox_page::page))
        .route("/inbox/list", get(inbox_page::list_fragment))
        .route("/inbox/nav", get(inbox_page::nav_fragment))
        .route("/inbox/events", get(live::events))
        .route("/inbox/views", post(inbox_page::save_view))
        .route("/inbox/views/{id}/delete", post(inbox_page::delete_view))
        .route("/inbox/threads/{id}", get(conversation::page))
        .route("/inbox/threads/{id}/messages", get(conversation::messages_fragment))
        .route("/inbox/threads/{id}/reply", post(compose::reply))
        .route("/inbox/threads/{id}/template", post(compose::send_template))
        .route("/inbox/threads/{id}/ticket", post(compose::ticket))
        .route("/inbox/threads/{id}/sms-meter", post(sms_meter::meter))
        .route("/inbox/contacts/{id}/subscriptions", post(contact_panel::subscribe))
        .route("/contacts", get(contacts_list::list))
        .route("/contacts/bulk", post(contacts_list::bulk))
        .route("/contacts/count", get(contacts_list::count))
        .route(
            "/contacts/import",
            get(contacts_import::page).post(contacts_import::post),
        )
        .route("/contacts/{id}", get(contact_page::page))
        .route("/contacts/{id}/whatsapp", post(contact_page::start_whatsapp))
        .route("/contacts/{id}/sms", post(contact_crm::send_sms))
        .route("/contacts/{id}/sms-meter", post(contact_crm::meter))
        .route("/contacts/{id}/voice", post(contact_voice::send_voice))
        .route("/voice/listen", post(narration::listen))
        .route("/voice/simulator", get(simulator::page).post(simulator::press))
        .route("/voice/simulator/try", post(simulator::try_step))
        .route("/workflows/{id}/nodes/{node}/simulate", get(simulator::node_page))
        .route("/contacts/{id}/properties", post(contact_crm::edit))
        .route("/contacts/{id}/workflows", post(workflows::reports::enrol_contact))
        .route("/campaigns", get(campaigns::list))
        .route("/campaigns/{id}", get(campaigns::page))
        .route("/campaigns/{id}/export.csv", get(campaigns::export))
        .route("/campaigns/broadcasts/{id}/{action}", post(campaigns::command))
        .route("/broadcasts/new", get(campaigns::new_page).post(campaigns::new_post))
        .route("/broadcasts/sms-meter", post(sms_meter::broadcast_meter))
        .route("/workflows", get(workflows::list))
        .route("/workflows/new", get(workflows::new_page).post(workflows::new_post))
        .route("/workflows/import", post(workflows::import_new))
        .route("/workflows/{id}", get(workflows::page))
        .route(
            "/workflows/{id}/edit",
            get(workflows::edit_page).post(workflows::edit_post),
        )
        .route("/workflows/{id}/import", post(workflows::import_draft))
        .route("/workflows/{id}/definition.json", get(workflows::export))
        .route("/workflows/{id}/performance", get(workflows::reports::performance))
        .route("/workflows/{id}/log", get(workflows::reports::log))
        .route("/workflows/{id}/{action}", post(workflows::lifecycle))
        .route("/inbox/media/{id}", get(media::media))
        .route("/admin/users", get(admin::users_page).post(admin::add_user))
        .route("/account/tokens", get(tokens::page).post(tokens::create))
        .route("/account/tokens/{id}/revoke", post(tokens::revoke))
        .route("/admin/users/{id}/password", post(admin::reset_password))
        .merge(settings::routes())
        .layer(axum::middleware::map_response(page_headers))
        .route(
            "/assets/app.css",
            get(|| async { asset("text/css; charset=utf-8", APP_CSS.as_bytes()) }),
        )
        .route(
            "/assets/app.js",
            get(|| async { asset("text/javascript; charset=utf-8", APP_JS.as_bytes()) }),
        )
        .route("/assets/icon.svg", get(|| async { asset("image/svg+xml", ICON) }))
}

fn asset(content_type: &'static str, body: &'static [u8]) -> Response {
    let mut r = body.into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600"));
    r
}

/// Pages run only the hub's own script and styles, cannot be framed, and
/// are never cached (they show personal data). Audio plays from the hub or,
/// for a recorded narration, from its https URL.
async fn page_headers(mut response: Response) -> Response {
    let h = response.headers_mut();
    if !h.contains_key("content-security-policy") {
        h.insert(
            "content-security-policy",
            HeaderValue::from_static(
                "default-src 'self'; img-src 'self' data:; media-src 'self' https:; style-src 'self'; script-src 'self'; \
                 connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
            ),
        );
    }
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.insert("referrer-policy", HeaderValue::from_static("same-origin"));
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}
