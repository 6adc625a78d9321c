// Command etcd is etcd v3.6 built from go.etcd.io/etcd/server/v3 (the etcd
// root module is not needed for the server), for the manifest test's API server.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
