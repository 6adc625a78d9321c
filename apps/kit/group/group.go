// Package group forms groups of work that arrived together, for the
// group commits of the services (a report filing, a redemption): a worker
// takes the first item waiting and whatever else is waiting at that moment,
// and nothing waits for a group to fill.
package group

// Take returns first followed by the items already waiting on ch, up to max
// in all; it never blocks.
func Take[T any](first T, ch <-chan T, max int) []T {
	g := []T{first}
	for len(g) < max {
		select {
		case x := <-ch:
			g = append(g, x)
		default:
			return g
		}
	}
	return g
}
