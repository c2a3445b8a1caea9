//! The OpenAPI document served at `/api/openapi.json`, generated from the
//! handlers' annotations so it cannot drift from the code.
//!
//! Each handler documents its success, its body and the refusals that are
//! its own (codes in the descriptions); [`CommonErrors`] adds those every
//! operation shares, from what the operation is: 401 when it needs a token,
//! 400/413/415/422 when it reads a JSON body (only 413 for the public
//! webhooks, which read their signed bodies themselves), 404 when its path names
//! something, 422 `invalid_query` when it takes query parameters, and 500.
//! `scripts/schemathesis` checks the hub against the document.

use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::request_body::RequestBody;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Response, ResponseBuilder};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(title = "Recado API", description = "Self-hosted business messaging hub: contacts, consent, WhatsApp, SMS and voice."),
    paths(
        crate::ops::healthz,
        crate::ops::metrics,
        crate::whatsapp::webhook::handshake,
        crate::whatsapp::webhook::receive,
        crate::ops::list_jobs,
        crate::inbox::api::list_threads,
        crate::inbox::api::counts,
        crate::inbox::api::get_thread,
        crate::inbox::api::patch_thread,
        crate::inbox::api::post_message,
        crate::inbox::views::list_views,
        crate::inbox::views::create_view,
        crate::inbox::views::delete_view,
        crate::contacts::routes::create_contact,
        crate::contacts::routes::get_contact,
        crate::contacts::routes::update_contact,
        crate::contacts::routes::delete_contact,
        crate::contacts::routes::list_contacts,
        crate::contacts::routes::timeline,
        crate::contacts::import::import_csv,
        crate::broadcasts::estimate_broadcast,
        crate::broadcasts::create_broadcast,
        crate::broadcasts::list_broadcasts,
        crate::broadcasts::get_broadcast,
        crate::broadcasts::pause_broadcast,
        crate::broadcasts::resume_broadcast,
        crate::broadcasts::cancel_broadcast,
        crate::campaigns::create_campaign,
        crate::campaigns::list_campaigns,
        crate::campaigns::get_campaign,
        crate::campaigns::rename_campaign,
        crate::campaigns::campaign_series,
        crate::campaigns::campaign_recipients,
        crate::campaigns::export_recipients,
        crate::segments::create_segment,
        crate::segments::list_segments,
        crate::segments::get_segment,
        crate::segments::update_segment,
        crate::segments::delete_segment,
        crate::segments::segment_contacts,
        crate::workflows::routes::create_workflow,
        crate::workflows::routes::list_workflows,
        crate::workflows::routes::get_workflow,
        crate::workflows::routes::delete_workflow,
        crate::workflows::routes::put_draft,
        crate::workflows::routes::publish,
        crate::workflows::routes::activate,
        crate::workflows::routes::pause,
        crate::workflows::routes::resume,
        crate::workflows::routes::enrol_contacts,
        crate::workflows::routes::list_runs,
        crate::workflows::routes::action_log,
        crate::workflows::routes::performance,
        crate::workflows::routes::simulate,
        crate::workflows::hook::receive,
        crate::consent::routes::get_subscriptions,
        crate::consent::routes::put_subscription,
        crate::consent::routes::history,
        crate::consent::routes::bulk,
        crate::consent::keywords::list,
        crate::consent::keywords::add,
        crate::consent::keywords::remove,
        crate::users::create_user,
        crate::users::list_users,
        crate::users::delete_user,
        crate::users::create_token,
        crate::users::list_tokens,
        crate::users::revoke_token,
        crate::users::get_workspace,
        crate::users::update_workspace,
        crate::users::create_workspace,
        crate::sms_api::analyze,
        crate::voice::preview,
        crate::voice_webhooks::status,
        crate::voice_webhooks::document,
        crate::voice_webhooks::gather,
        crate::voice_webhooks::done,
        crate::voice_webhooks::dial,
        crate::voice::simulate_call,
        crate::channels::routes::create_channel,
        crate::channels::routes::list_channels,
        crate::channels::routes::get_channel,
        crate::channels::routes::update_channel,
        crate::channels::routes::delete_channel,
        crate::messages::routes::create_message,
        crate::messages::routes::get_message,
        crate::messages::routes::list_messages,
        crate::whatsapp::usage::get_usage,
        crate::whatsapp::usage::put_settings,
        crate::whatsapp::usage::add_packs,
        crate::whatsapp::usage::list_notifications,
        crate::whatsapp::session::get_session,
        crate::whatsapp::templates::list_templates,
        crate::whatsapp::templates::sync_templates,
        crate::whatsapp::sandbox::simulate,
        crate::outbound_webhooks::create,
        crate::outbound_webhooks::list,
        crate::outbound_webhooks::remove,
        crate::outbound_webhooks::enable,
    ),
    components(schemas(crate::error::ErrorBody)),
    modifiers(&BearerAuth, &CommonErrors, &CreationLinks),
    security(("bearer" = []))
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The error responses every operation of a kind can give.
struct CommonErrors;

/// A response with the error body of the contract.
pub fn error_response(description: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorBody")))
                .build(),
        )
        .build()
}

/// Adds `status` with `description`, or, when the handler documented that
/// status already, adds the common codes to its description.
fn add_error(op: &mut Operation, status: &str, description: &str) {
    match op.responses.responses.get_mut(status) {
        Some(RefOr::T(existing)) => {
            if !existing.description.contains(description) {
                existing.description = format!("{}; {description}", existing.description.trim_end_matches('.'));
            }
            if existing.content.is_empty() {
                *existing = error_response(&existing.description);
            }
        }
        Some(RefOr::Ref(_)) => {}
        None => {
            op.responses
                .responses
                .insert(status.to_string(), RefOr::T(error_response(description)));
        }
    }
}

fn body_media_types(body: &RequestBody) -> impl Iterator<Item = &str> {
    body.content.keys().map(String::as_str)
}

impl CommonErrors {
    fn operation(op: &mut Operation) {
        // Tags name the area (`contacts`), not the Rust module the handler is in.
        if let Some(tags) = &mut op.tags {
            for tag in tags.iter_mut() {
                if let Some(area) = tag.strip_prefix("crate::").and_then(|t| t.split("::").next()) {
                    *tag = area.to_string();
                }
            }
        }
        let public = op
            .security
            .as_ref()
            .is_some_and(|s| s.iter().any(|r| *r == SecurityRequirement::default()));
        if !public {
            add_error(
                op,
                "401",
                "`unauthorized`: no valid API token (`Authorization: Bearer <token>`)",
            );
        }
        let params = op.parameters.clone().unwrap_or_default();
        if params.iter().any(|p| p.parameter_in == ParameterIn::Path) {
            add_error(op, "404", "`not_found`: nothing of that id in the workspace");
        }
        if params.iter().any(|p| p.parameter_in == ParameterIn::Query) {
            add_error(
                op,
                "422",
                "`invalid_query`: a query parameter does not read (wrong type, U+0000), `field` names it",
            );
        }
        let media: Vec<String> = op
            .request_body
            .as_ref()
            .map(|b| body_media_types(b).map(str::to_string).collect())
            .unwrap_or_default();
        // Public operations are provider and workflow webhooks: they read
        // their raw signed bodies themselves and document their own refusals.
        if !public && media.iter().any(|m| m == "application/json") {
            add_error(op, "400", "`bad_request`: the body is not JSON");
            add_error(
                op,
                "422",
                "`invalid_value`: the body is not an object, or a member is missing, unknown, of the wrong type or holds U+0000; `field` names it",
            );
        }
        if !media.is_empty() {
            add_error(
                op,
                "413",
                "`payload_too_large`: the body is larger than the hub accepts",
            );
            if !public {
                add_error(
                    op,
                    "415",
                    &format!(
                        "`unsupported_media_type`: the body must be sent as {}",
                        media.join(" or ")
                    ),
                );
            }
        }
        add_error(
            op,
            "500",
            "`internal`: the hub failed; nothing about the cause is shown",
        );
    }
}

impl Modify for CommonErrors {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            for op in [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ]
            .into_iter()
            .flatten()
            {
                Self::operation(op);
            }
        }
    }
}

/// Links from each creation (`POST /x` answering 201) to the operations on
/// what it created (`/x/{id}…`, the `id` of its answer), so clients and
/// testing tools can follow them.
struct CreationLinks;

impl Modify for CreationLinks {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::link::LinkBuilder;
        let targets: Vec<(String, Vec<String>)> = openapi
            .paths
            .paths
            .iter()
            .map(|(path, item)| {
                let ids = [&item.get, &item.put, &item.post, &item.delete, &item.patch]
                    .into_iter()
                    .flatten()
                    .filter_map(|op| op.operation_id.clone())
                    .collect();
                (path.clone(), ids)
            })
            .collect();
        for (path, item) in openapi.paths.paths.iter_mut() {
            let Some(created) = item.post.as_mut().and_then(|op| op.responses.responses.get_mut("201")) else {
                continue;
            };
            let RefOr::T(created) = created else { continue };
            let prefix = format!("{path}/{{id}}");
            for (target, ids) in &targets {
                let rest = target.strip_prefix(&prefix);
                if !rest.is_some_and(|r| r.is_empty() || (r.starts_with('/') && !r[1..].contains('{'))) {
                    continue;
                }
                for id in ids {
                    let link = LinkBuilder::new()
                        .operation_id(id.clone())
                        .parameter("id", "$response.body#/id")
                        .build();
                    created.links.insert(id.clone(), RefOr::T(link));
                }
            }
        }
    }
}

/// A schema written as JSON Schema, for shapes the derive cannot say
/// (`schema_with = ...` on a field).
pub fn schema(value: serde_json::Value) -> RefOr<utoipa::openapi::Schema> {
    RefOr::T(serde_json::from_value(value).expect("a schema of the document"))
}

/// The ISO 3166-1 alpha-2 codes the hub's phone rules know: the countries it
/// accepts (in either case, with spaces around).
pub fn countries() -> Vec<String> {
    let letters = || b'A'..=b'Z';
    letters()
        .flat_map(|a| letters().map(move |b| String::from_utf8(vec![a, b]).expect("ASCII")))
        .filter(|code| recado_core::phone::calling_code_of(code).is_some())
        .collect()
}

/// A country member (`null` when `nullable`).
pub fn country_schema(nullable: bool) -> RefOr<utoipa::openapi::Schema> {
    let mut codes: Vec<serde_json::Value> = countries().into_iter().map(serde_json::Value::from).collect();
    let kind = if nullable {
        codes.push(serde_json::Value::Null);
        serde_json::json!(["string", "null"])
    } else {
        serde_json::json!("string")
    };
    schema(
        serde_json::json!({"type": kind, "enum": codes, "description": "An ISO 3166-1 alpha-2 code (upper or lower case)."}),
    )
}

pub fn nullable_country() -> RefOr<utoipa::openapi::Schema> {
    country_schema(true)
}

pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// The document as served. utoipa 5 writes a link's target as
/// `operation_id`; OpenAPI spells it `operationId`.
pub fn document_json() -> serde_json::Value {
    let mut doc = serde_json::to_value(document()).expect("the document is JSON");
    let operations = doc["paths"]
        .as_object_mut()
        .into_iter()
        .flat_map(|paths| paths.values_mut());
    for operation in operations
        .filter_map(serde_json::Value::as_object_mut)
        .flat_map(|item| item.values_mut())
    {
        let Some(responses) = operation["responses"].as_object_mut() else {
            continue;
        };
        for link in responses
            .values_mut()
            .filter_map(|r| r.get_mut("links").and_then(serde_json::Value::as_object_mut))
            .flat_map(|links| links.values_mut())
            .filter_map(serde_json::Value::as_object_mut)
        {
            for (from, to) in [("operation_id", "operationId"), ("operation_ref", "operationRef")] {
                if let Some(value) = link.remove(from) {
                    link.insert(to.to_string(), value);
                }
            }
        }
    }
    doc
}

#[cfg(test)]
mod tests {
    #[test]
    fn links_name_their_target_operation_as_openapi_spells_it() {
        let doc = super::document_json();
        let link = &doc["paths"]["/api/v1/contacts"]["post"]["responses"]["201"]["links"]["get_contact"];
        assert_eq!(link["operationId"], "get_contact", "{link}");
        assert_eq!(link["parameters"]["id"], "$response.body#/id");
        assert!(link.get("operation_id").is_none());
    }

    #[test]
    fn every_operation_answers_with_the_error_contract_when_it_refuses() {
        let doc = super::document_json();
        let contact = &doc["paths"]["/api/v1/contacts/{id}"]["get"]["responses"];
        for status in ["401", "404", "500"] {
            assert_eq!(
                contact[status]["content"]["application/json"]["schema"]["$ref"], "#/components/schemas/ErrorBody",
                "{status}"
            );
        }
        let create = &doc["paths"]["/api/v1/contacts"]["post"]["responses"];
        for status in ["400", "413", "415", "422"] {
            assert!(create[status].is_object(), "{status}");
        }
        let hook = &doc["paths"]["/webhooks/whatsapp/{channel_id}"]["post"]["responses"];
        assert!(hook["401"].is_object() && hook["413"].is_object());
        assert!(hook.get("415").is_none() && hook.get("400").is_none());
        let health = &doc["paths"]["/healthz"]["get"];
        assert_eq!(health["security"], serde_json::json!([{}]));
        assert!(health["responses"].get("401").is_none());
    }
}
