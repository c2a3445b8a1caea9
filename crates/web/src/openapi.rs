//! The OpenAPI document served at `/api/openapi.json`, generated from the
//! handlers' annotations so it cannot drift from the code.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(title = "Recado API", description = "Self-hosted business messaging hub: contacts, consent, WhatsApp, SMS and voice."),
    paths(
        crate::ops::healthz,
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
    modifiers(&BearerAuth),
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

pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}
