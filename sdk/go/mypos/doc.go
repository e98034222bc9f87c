// myPOS payment and bank-transfer webhooks and their event subscriptions as Pulumi resources.
package mypos
