// A myPOS webhook with two subscriptions, through the native provider's generated Go SDK (../../sdk/go/mypos,
// wired in go.mod with a replace directive).
package main

import (
	"github.com/mypos-pulumi/mypos-pulumi/sdk/go/mypos"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"
)

func main() {
	pulumi.Run(func(ctx *pulumi.Context) error {
		url := config.Get(ctx, "url")
		if url == "" {
			url = "https://shop.example.com/mypos/orders"
		}
		// Secret omitted: one is generated once and kept.
		orders, err := mypos.NewWebhook(ctx, "orders", &mypos.WebhookArgs{PayloadUrl: pulumi.String(url)})
		if err != nil {
			return err
		}
		if _, err := mypos.NewSubscription(ctx, "ordersPaid", &mypos.SubscriptionArgs{
			WebhookId: orders.ID(),
			Event:     pulumi.String("pos.payment.completed"),
		}); err != nil {
			return err
		}
		if _, err := mypos.NewSubscription(ctx, "ordersCancelled", &mypos.SubscriptionArgs{
			WebhookId:   orders.ID(),
			Event:       pulumi.String("pos.payment.cancelled"),
			TerminalIds: pulumi.StringArray{pulumi.String("90004889")},
		}); err != nil {
			return err
		}
		ctx.Export("webhookId", orders.ID())
		ctx.Export("secret", orders.Secret)
		return nil
	})
}
