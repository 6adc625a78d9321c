// Command daprd is the Dapr v1.18.1 sidecar with the stable component set plus
// the SQLite name resolver, so local runs resolve apps without mDNS multicast
// and every byte stays on loopback.
package main

import (
	"github.com/dapr/components-contrib/nameresolution/sqlite"
	"github.com/dapr/dapr/cmd/daprd/app"
	"github.com/dapr/dapr/pkg/components/nameresolution"
)

func main() {
	nameresolution.DefaultRegistry.RegisterComponent(sqlite.NewResolver, "sqlite")
	app.Run()
}
