package daprx

import (
	"context"
	"errors"
	"fmt"
	"io"

	pb "github.com/dapr/dapr/pkg/proto/runtime/v1"
)

// ConfigItem is one key of a configuration store.
type ConfigItem struct {
	Value    string            `json:"value"`
	Version  string            `json:"version"`
	Metadata map[string]string `json:"metadata,omitempty"`
}

// ErrSubscriptionEnded is what WatchConfiguration returns when the sidecar
// ended the stream (it stopped or restarted): the caller subscribes again.
var ErrSubscriptionEnded = errors.New("configuration subscription ended")

// WatchConfiguration subscribes to keys of store on the sidecar's gRPC
// stream and holds the subscription until the stream or ctx ends. Once the
// sidecar has confirmed the subscription it calls ready (an error from it
// ends the watch, so the caller starts over), then apply for every change
// the sidecar sends. It returns ctx's error, ErrSubscriptionEnded, or why
// the stream failed.
//
// It reads the stream itself (through the SDK's generated client) rather
// than with the SDK's SubscribeConfigurationItems, which cannot tell its
// caller that the stream has ended and waits forever when it ends before
// its first message.
func (c *Client) WatchConfiguration(ctx context.Context, store string, keys []string,
	ready func(context.Context) error, apply func(map[string]ConfigItem)) error {
	if c.err != nil {
		return c.err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // ends the stream, which drops the subscription
	stream, err := c.sdk.GrpcClient().SubscribeConfiguration(ctx, &pb.SubscribeConfigurationRequest{StoreName: store, Keys: keys})
	if err != nil {
		return fmt.Errorf("subscribe to configuration %s: %w", store, remote(err))
	}
	for first := true; ; first = false {
		rsp, err := stream.Recv()
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.Is(err, io.EOF):
			return ErrSubscriptionEnded
		case err != nil:
			return fmt.Errorf("configuration %s: %w", store, remote(err))
		}
		if first {
			if err := ready(ctx); err != nil {
				return err
			}
		}
		if len(rsp.GetItems()) == 0 {
			continue
		}
		items := make(map[string]ConfigItem, len(rsp.GetItems()))
		for k, v := range rsp.GetItems() {
			items[k] = ConfigItem{Value: v.GetValue(), Version: v.GetVersion(), Metadata: v.GetMetadata()}
		}
		apply(items)
	}
}
