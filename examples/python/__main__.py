"""A myPOS webhook with two subscriptions, through the native provider's generated SDK (`pip install ./sdk/python`).

The project's own stack program (../../__main__.py) uses the dynamic resources instead; both follow the same rules.
"""

import pulumi
import pulumi_mypos as mypos

url = pulumi.Config().get("url") or "https://shop.example.com/mypos/orders"

orders = mypos.Webhook("orders", payload_url=url)  # secret omitted: one is generated once and kept
mypos.Subscription("ordersPaid", webhook_id=orders.id, event="pos.payment.completed")
mypos.Subscription("ordersCancelled", webhook_id=orders.id, event="pos.payment.cancelled", terminal_ids=["90004889"])

pulumi.export("webhookId", orders.id)
pulumi.export("secret", orders.secret)
