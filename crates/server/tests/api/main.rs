//! The hub end to end, over real HTTP against its own fresh database per
//! test (SQLite or PostgreSQL per `RECADO_TEST_BACKEND`). One test binary:
//! each module below is one area of the product.

mod broadcast_load;
mod broadcasts;
mod browser;
mod campaigns;
mod campaigns_browser;
mod common;

mod consent;
mod contacts;
mod contacts_browser;
mod contacts_pages;
mod crash;
mod errors;
mod health;
mod idempotency;
mod import;
mod inbox_api;
mod jobs;
mod logs;
mod metrics;
mod nodes;
mod openapi_conformance;
mod outbound_webhooks;
mod provider_outage;
mod request_ids;
mod segments;
mod send_crash_cycles;
mod send_path;
mod settings_browser;
mod settings_pages;
mod sms;
mod sms_analyze;
mod sms_http;
mod sms_smpp;
mod ui_browser;
mod ui_forms;
mod users;
mod voice;
mod voice_asterisk;
mod voice_calls;
mod voice_crash;
mod voice_http;
mod voice_ivr;
mod voice_ui;
mod whatsapp;
mod whatsapp_uncertain;
mod workflows;
