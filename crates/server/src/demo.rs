//! `recado serve --demo`: a few contacts with consent in an empty workspace so
//! a newcomer can try the hub offline at once.

use crate::app::AppState;
use crate::bootstrap::DEFAULT_WORKSPACE;
use crate::consent::service::change;
use crate::contacts::service::{check_properties, Contacts};
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
    use crate::channels::routes::LoadedChannel;
    use crate::channels::{ChannelKind, SmsChannel, SmsKind, WhatsAppChannel};
    use recado_core::ids::{new_id, IdKind};
    use recado_store::channels::{ChannelNumber, ChannelRecord};
    let now = state.clock.now_ms();
    let whatsapp = WhatsAppChannel::from_input(ChannelKind::WhatsappSandbox, &serde_json::Map::new(), None)
        .map_err(|e| anyhow::anyhow!(e.message))?;
    let record = ChannelRecord {
        id: new_id(IdKind::Channel),
        workspace_id: workspace_id.to_string(),
        kind: ChannelKind::WhatsappSandbox.as_str().into(),
        name: "WhatsApp (sandbox)".into(),
        config: whatsapp.public_config().to_string(),
        secrets: state.secrets.seal(&whatsapp.secrets()),
        created_at: now,
        updated_at: now,
    };
    let numbers: Vec<ChannelNumber> = whatsapp
        .phone_numbers
        .iter()
        .map(|n| ChannelNumber {
            channel_id: record.id.clone(),
            phone_number_id: n.phone_number_id.clone(),
            display_phone_number: n.display_phone_number.clone(),
        })
        .collect();
    state.store.insert_channel(&record, &numbers).await?;
    let channel = LoadedChannel { record, whatsapp };
    crate::whatsapp::sandbox::seed_templates(state, &channel)
        .await
        .map_err(|e| anyhow::anyhow!(e.message))?;

    let sms_config =
        serde_json::json!({"senders": ["Recado", "+15550002222"], "latency_ms": 1500, "delivery_ratio": 0.9});
    let sms = SmsChannel::from_input(SmsKind::Sandbox, sms_config.as_object().expect("object"), None)
        .map_err(|e| anyhow::anyhow!(e.message))?;
    let sms_record = ChannelRecord {
        id: new_id(IdKind::Channel),
        workspace_id: workspace_id.to_string(),
        kind: SmsKind::Sandbox.as_str().into(),
        name: "SMS (sandbox)".into(),
        config: sms.public_config().to_string(),
        secrets: state.secrets.seal(&sms.secrets()),
        created_at: now,
        updated_at: now,
    };
    state.store.insert_channel(&sms_record, &[]).await?;
    // And one by SMS, to the channel's long number.
    let _accepted = crate::sms::sandbox::simulate(
        state,
        sms_record,
        "+48512345678",
        Some("+15550002222"),
        "Dzień dobry, czy mogę zmienić adres dostawy?",
    )
    .await
    .map_err(|e| anyhow::anyhow!(e.message))?;

    // Two customers write in on WhatsApp, as a signed webhook would bring them.
    for (from, name, text) in [
        ("+5511912345678", "Ana", "Olá! O meu pedido 4521 já foi enviado?"),
        ("+34612345678", "Lucía", "Hola, ¿tienen la talla M?"),
    ] {
        let body = recado_channels::whatsapp::testkit::inbound_text(
            &channel.whatsapp.phone_numbers[0].phone_number_id,
            from.trim_start_matches('+'),
            name,
            &format!("wamid.demo.{}", new_id(IdKind::Message)),
            now / 1000,
            text,
        );
        crate::whatsapp::webhook::ingest(state, &channel, &body)
            .await
            .map_err(|e| anyhow::anyhow!(e.message))?;
    }
    Ok(())
}
