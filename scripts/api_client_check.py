"""Uses the Python client generated from the hub's OpenAPI document (see
scripts/api-client) as a user would: connects an SMS sandbox channel, creates
a contact, subscribes them to SMS and sends them an SMS, then reads the
message back. Every call goes through the generated functions and models."""

import sys
import time

from recado_client import AuthenticatedClient
from recado_client.api.channels import create_channel
from recado_client.api.consent import put_subscription
from recado_client.api.contacts import create_contact
from recado_client.api.messages import create_message, get_message
from recado_client.models import (
    ChannelInput,
    ChannelInputConfig,
    ChannelView,
    ContactInput,
    ContactInputProperties,
    ContactView,
    MessageInput,
    MessageView,
    SubscriptionInput,
    SubscriptionView,
)


def expect(response, status, kind):
    if response.status_code != status or not isinstance(response.parsed, kind):
        sys.exit(
            f"expected {status} {kind.__name__}, got {response.status_code}: {response.content!r}"
        )
    return response.parsed


def main(base_url: str, token: str) -> None:
    client = AuthenticatedClient(base_url=base_url, token=token, raise_on_unexpected_status=True)

    config = ChannelInputConfig()
    config["delivery_ratio"] = 1.0
    config["senders"] = ["Recado"]
    channel = expect(
        create_channel.sync_detailed(
            client=client,
            body=ChannelInput(kind="sms_sandbox", name="Client check", config=config),
        ),
        201,
        ChannelView,
    )

    properties = ContactInputProperties()
    properties["firstname"] = "Ana"
    properties["phone"] = "+55 11 91234-5678"
    contact = expect(
        create_contact.sync_detailed(client=client, body=ContactInput(properties=properties)),
        201,
        ContactView,
    )
    assert contact.phones.phone == "+5511912345678", contact.phones

    subscription = expect(
        put_subscription.sync_detailed(
            contact.id,
            "sms",
            client=client,
            body=SubscriptionInput(
                status="subscribed",
                legal_basis="consent",
                explanation="Opted in at the counter",
            ),
        ),
        200,
        SubscriptionView,
    )
    assert subscription.status == "subscribed", subscription

    message = expect(
        create_message.sync_detailed(
            client=client,
            body=MessageInput(
                channel="sms",
                contact_id=contact.id,
                channel_id=channel.id,
                from_="Recado",
                text="Olá Ana, your order is ready",
            ),
        ),
        202,
        MessageView,
    )
    assert message.contact_id == contact.id and message.channel == "sms", message

    # The sandbox delivers at once; the worker gets to it within moments.
    deadline = time.monotonic() + 20
    while True:
        read = expect(get_message.sync_detailed(message.id, client=client), 200, MessageView)
        if read.status == "delivered" or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    if read.status != "delivered":
        sys.exit(f"the SMS was not delivered: {read.status} {read.error!r}")
    print(f"client check: contact {contact.id}, SMS {read.id} {read.status}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
