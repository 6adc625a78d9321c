// Package daprpubsub publishes the reviewer service's integration events
// through the Dapr sidecar.
package daprpubsub

import (
	"context"

	"github.com/govern/kit/daprx"
	"github.com/govern/reviewer/app"
)

// TopicTaskAssigned announces each drawn juror.
const TopicTaskAssigned = "task-assigned"

// Publisher implements app.Publisher on a Dapr pub/sub component.
type Publisher struct {
	client *daprx.Client
	pubsub string
}

var _ app.Publisher = (*Publisher)(nil)

// New publishes through client to the component named pubsub.
func New(client *daprx.Client, pubsub string) *Publisher {
	return &Publisher{client: client, pubsub: pubsub}
}

// TaskAssigned implements app.Publisher.
func (p *Publisher) TaskAssigned(ctx context.Context, e app.TaskAssigned) error {
	return p.client.Publish(ctx, p.pubsub, TopicTaskAssigned, e)
}
