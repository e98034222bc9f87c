// A myPOS webhook with two subscriptions, through the native provider's generated SDK. Published, the SDK is
// the package @mypos-pulumi/mypos; here it is imported from the repository's sdk/nodejs.
import * as pulumi from "@pulumi/pulumi";
import * as mypos from "../../sdk/nodejs";

const url = new pulumi.Config().get("url") ?? "https://shop.example.com/mypos/orders";

const orders = new mypos.Webhook("orders", { payloadUrl: url }); // secret omitted: generated once and kept
new mypos.Subscription("ordersPaid", { webhookId: orders.id, event: "pos.payment.completed" });
new mypos.Subscription("ordersCancelled", {
    webhookId: orders.id,
    event: "pos.payment.cancelled",
    terminalIds: ["90004889"],
});

export const webhookId = orders.id;
export const secret = orders.secret;
