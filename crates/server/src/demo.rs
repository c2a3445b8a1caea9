//! `recado serve --demo`: a few contacts with consent in an empty workspace so
//! a newcomer can try the hub offline at once.

use recado_app::bootstrap::DEFAULT_WORKSPACE;
use recado_app::channels::admin::{self, Connected};
use recado_app::consent::service::change;
use recado_app::contacts::service::{check_properties, Contacts};
use recado_app::sandbox::{simulate_inbound, SimulatedInbound};
use recado_app::AppState;
use recado_core::consent::{ChangeRequest, Channel, ConsentSource, LegalBasis, SubscriptionStatus};
use recado_store::contacts::ContactQuery;

const DEMO_CONTACTS: &[(&str, &str, &str, &str)] = &[
    ("Ana", "Souza", "BR", "+55 11 91234-5678"),
    ("Lucía", "García", "ES", "+34 612 345 678"),
    ("João", "Silva", "PT", "+351 912 345 678"),
    ("Zofia", "Nowak", "PL", "+48 512 345 678"),
    ("Carlos", "Pereira", "BR", "+55 21 98765-4321"),
];

/// Adds the demo contacts when the default workspace has none.
pub async fn fill_if_empty(state: &AppState) -> anyhow::Result<()> {
    let Some(ws) = state.store.workspace_by_name(DEFAULT_WORKSPACE).await? else {
        return Ok(());
    };
    if !state
        .store
        .list_contacts(
            &ws.id,
            &ContactQuery {
                limit: 1,
                ..Default::default()
            },
        )
        .await?
        .is_empty()
    {
        return Ok(());
    }
    let contacts = Contacts {
        store: &state.store,
        clock: state.clock.as_ref(),
        workspace_id: &ws.id,
        default_country: ws.default_country.as_deref(),
    };
    for (i, (first, last, country, phone)) in DEMO_CONTACTS.iter().enumerate() {
        let props = serde_json::json!({
            "firstname": first, "lastname": last, "country": country,
            "mobilephone": phone, "whatsapp_phone": phone,
            "email": format!("{}.{}@example.com", first.to_lowercase(), last.to_lowercase()),
        });
        let changes = check_properties(props.as_object().expect("object")).map_err(|e| anyhow::anyhow!(e.message))?;
        let contact = contacts.create(changes).await.map_err(|e| anyhow::anyhow!(e.message))?;
        // The last contact has opted out, so refusals can be tried too.
        let status = if i == DEMO_CONTACTS.len() - 1 {
            SubscriptionStatus::Unsubscribed
        } else {
            SubscriptionStatus::Subscribed
        };
        for channel in Channel::ALL {
            let request = ChangeRequest {
                channel,
                status,
                legal_basis: Some(LegalBasis::Consent),
                explanation: Some("demo data".into()),
                source: ConsentSource::Manual,
            };
            change(&state.store, &contact, &request, "system", state.clock.now_ms())
                .await
                .map_err(|e| anyhow::anyhow!(e.message))?;
        }
    }
    add_sandbox_channels(state, &ws.id).await?;
    println!(
        "demo data added: {} contacts with consent, sandbox WhatsApp and SMS channels, three conversations",
        DEMO_CONTACTS.len()
    );
    Ok(())
}

/// Sandbox WhatsApp and SMS channels and a couple of conversations, through
/// the same paths the API uses.
async fn add_sandbox_channels(state: &AppState, workspace_id: &str) -> anyhow::Result<()> {
    let created = admin::create(
        state,
        workspace_id,
        "whatsapp_sandbox",
        "WhatsApp (sandbox)",
        &Default::default(),
    )
    .await
    .map_err(|e| anyhow::anyhow!(e.message))?;
    let Connected::WhatsApp(whatsapp) = created else {
        anyhow::bail!("a WhatsApp sandbox was asked for");
    };
    let sms_config =
        serde_json::json!({"senders": ["Recado", "+15550002222"], "latency_ms": 1500, "delivery_ratio": 0.9});
    let created = admin::create(
        state,
        workspace_id,
        "sms_sandbox",
        "SMS (sandbox)",
        sms_config.as_object().expect("object"),
    )
    .await
    .map_err(|e| anyhow::anyhow!(e.message))?;
    let Connected::Sms(sms) = created else {
        anyhow::bail!("an SMS sandbox was asked for");
    };
    // One customer writes by SMS, to the channel's long number...
    let inbound = SimulatedInbound {
        from: "+48512345678".into(),
        to: Some("+15550002222".into()),
        text: "Dzień dobry, czy mogę zmienić adres dostawy?".into(),
        ..Default::default()
    };
    simulate_inbound(state, workspace_id, &sms.record.id, inbound)
        .await
        .map_err(|e| anyhow::anyhow!(e.message))?;
    // ...and two on WhatsApp, through the same intake as a signed webhook.
    for (from, name, text) in [
        ("+5511912345678", "Ana", "Olá! O meu pedido 4521 já foi enviado?"),
        ("+34612345678", "Lucía", "Hola, ¿tienen la talla M?"),
    ] {
        let inbound = SimulatedInbound {
            from: from.into(),
            name: Some(name.into()),
            text: text.into(),
            ..Default::default()
        };
        simulate_inbound(state, workspace_id, &whatsapp.record.id, inbound)
            .await
            .map_err(|e| anyhow::anyhow!(e.message))?;
    }
    Ok(())
}
