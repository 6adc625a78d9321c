package config_test

import (
	"strings"
	"testing"

	"github.com/govern/kit/config"
)

const token = "0123456789abcdef0123456789abcdef"

func TestCheckServe(t *testing.T) {
	t.Parallel()
	ok := config.Common{Env: "local", JWTSecret: config.DefaultJWTSecret, AppAPIToken: token}
	prod := config.Common{Env: "prod", JWTSecret: strings.Repeat("s", 32), AppAPIToken: token, DaprAPIToken: token}
	cases := []struct {
		name    string
		cfg     config.Common
		refusal string // empty: accepted
	}{
		{"local with the default JWT secret", ok, ""},
		{"prod with its own secrets", prod, ""},
		{"no app token", with(ok, func(c *config.Common) { c.AppAPIToken = "" }), "APP_API_TOKEN"},
		{"short app token", with(ok, func(c *config.Common) { c.AppAPIToken = "short" }), "APP_API_TOKEN"},
		{"short dapr token", with(ok, func(c *config.Common) { c.DaprAPIToken = "short" }), "DAPR_API_TOKEN"},
		{"unknown environment", with(ok, func(c *config.Common) { c.Env = "production" }), "GOVERN_ENV"},
		{"prod with the default JWT secret", with(prod, func(c *config.Common) { c.JWTSecret = config.DefaultJWTSecret }), "public local default"},
		{"staging with a short JWT secret", with(prod, func(c *config.Common) { c.Env, c.JWTSecret = "staging", "abc" }), "at least 32"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.cfg.CheckServe()
			switch {
			case tc.refusal == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.refusal != "" && (err == nil || !strings.Contains(err.Error(), tc.refusal)):
				t.Fatalf("got %v, want a refusal naming %q", err, tc.refusal)
			}
		})
	}
}

func with(c config.Common, change func(*config.Common)) config.Common {
	change(&c)
	return c
}
