// Command token prints a bearer token for local use: token -sub alice -roles ops.
// It signs with GOVERN_JWT_SECRET (default local-dev-secret), like the services.
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/govern/kit/auth"
	"github.com/govern/kit/config"
)

func main() {
	sub := flag.String("sub", "", "user id (the token's subject)")
	roles := flag.String("roles", "", "comma-separated roles, e.g. ops")
	ttl := flag.Duration("ttl", 12*time.Hour, "validity")
	flag.Parse()
	if *sub == "" {
		fmt.Fprintln(os.Stderr, "usage: token -sub USER [-roles ops] [-ttl 12h]")
		os.Exit(2)
	}
	var rs []string
	if *roles != "" {
		rs = strings.Split(*roles, ",")
	}
	tok, err := auth.Mint(config.String("GOVERN_JWT_SECRET", "local-dev-secret"), *sub, rs, *ttl)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(tok)
}
