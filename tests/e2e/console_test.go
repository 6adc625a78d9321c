package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/govern/tests/platform"
)

// browser starts a real headless Chromium (Debian's chromium) with a fresh
// profile and returns a tab's context.
func browser(t *testing.T) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath("/usr/bin/chromium"), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.WindowSize(1280, 1000),
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancelTab(); cancelAlloc() })
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// screenshot saves the page as a PNG (quality 100: anything less is JPEG) under .local/<profile>/console/screenshots.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := filepath.Join(os.Getenv("GOVERN_STATE"), "console", "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("read %s: %v", sel, err)
	}
	return s
}

// waitURL waits until the tab has navigated to a URL holding want: a click
// that submits a form returns before the new page is there.
func waitURL(t *testing.T, ctx context.Context, want string) {
	t.Helper()
	for i := 0; ; i++ {
		url, err := chromedp.Run(ctx, chromedp.Location())
		if err == nil && strings.Contains(url, want) {
			return
		}
		if i > 100 {
			t.Fatalf("the page is %s (err %v), want one with %q", url, err, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func countOf(t *testing.T, ctx context.Context, sel string) int {
	t.Helper()
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](fmt.Sprintf(`document.querySelectorAll(%q).length`, sel)))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func signIn(t *testing.T, ctx context.Context, token string) {
	t.Helper()
	err := chromedp.Do(ctx, chromedp.Navigate(plat.ConsoleURL()+"/login"),
		chromedp.SetValue(chromedp.CSS(`textarea[name=token]`), token),
		chromedp.Click(chromedp.CSS(`#login button`)), chromedp.WaitReady(chromedp.CSS(`main`)))
	if err != nil {
		t.Fatalf("sign in: %v", err)
	}
}

// TestConsoleInChromium: an operator signs in, changes a policy (a bad value
// is refused with the app's message), finds a case of a real round, opens it
// and reads its timeline; every page is saved as a screenshot. A non-ops
// token is refused.
func TestConsoleInChromium(t *testing.T) {
	ctx := ctxT(t)
	// A real round first, through the APIs: a 3-juror chat jury decides uphold.
	setPolicy(t, ctx, "chat", 3, 2, "1h", "24h", 2, "undecided")
	rc, _ := fileReport(t, ctx, "chat")
	jurors := jurorsOf(t, ctx, rc.CaseID, 3)
	for _, j := range jurors[:2] {
		resp, err := vote(ctx, rc.CaseID, j, "uphold")
		must(t, resp, err, 202)
	}
	waitClosed(t, ctx, rc.CaseID, 60*time.Second)

	b := browser(t)
	t.Run("a token without the ops role is refused", func(t *testing.T) {
		signIn(t, b, platform.Token("mallory"))
		if got := text(t, b, "#error"); !strings.Contains(got, "ops role") {
			t.Fatalf("login page says %q", got)
		}
		if err := chromedp.Do(b, chromedp.Navigate(plat.ConsoleURL()+"/cases")); err != nil {
			t.Fatal(err)
		}
		url, err := chromedp.Run(b, chromedp.Location())
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(url, "/login") {
			t.Fatalf("without a session /cases ended at %s", url)
		}
		screenshot(t, b, "login-refused")
	})

	signIn(t, b, platform.Token("ops-console", "ops"))
	if got := text(t, b, "#who"); got != "ops-console" {
		t.Fatalf("signed in as %q", got)
	}
	t.Run("overview shows every app and sidecar with its metadata", func(t *testing.T) {
		for _, app := range platform.Apps {
			card := text(t, b, "#app-"+app)
			for _, want := range []string{"healthy", "pubsub", "Dapr"} {
				if !strings.Contains(card, want) {
					t.Errorf("%s card lacks %q:\n%s", app, want, card)
				}
			}
		}
		if !strings.Contains(text(t, b, "#app-report"), "workflow") {
			t.Errorf("report card shows no workflow runtime")
		}
		screenshot(t, b, "overview")
	})

	t.Run("a policy change is saved and a bad value refused with the app's message", func(t *testing.T) {
		err := chromedp.Do(b, chromedp.Navigate(plat.ConsoleURL()+"/settings"),
			chromedp.SetValue(chromedp.CSS(`#policy-chat input[name=max_substitutes]`), "4"),
			chromedp.Click(chromedp.CSS(`#policy-chat button`)), chromedp.WaitVisible(chromedp.CSS(`#policy-chat .saved`)))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := plat.As("report", "ops-check", "ops").Do(ctx, "GET", "/v1/policies", nil)
		if err != nil || !strings.Contains(string(resp.Body), `"kind":"chat"`) {
			t.Fatalf("policies: %v %v", resp, err)
		}
		var policies struct{ Items []map[string]any }
		_ = resp.JSON(&policies)
		for _, p := range policies.Items {
			if p["kind"] == "chat" && p["max_substitutes"] != float64(4) {
				t.Fatalf("the report service did not take the change: %v", p)
			}
		}
		screenshot(t, b, "settings-saved")
		// The quorum must be a strict majority of the jury: the report
		// service refuses 1 of 3, and the page shows its message.
		err = chromedp.Do(b, chromedp.SetValue(chromedp.CSS(`#policy-chat input[name=quorum]`), "1"),
			chromedp.Click(chromedp.CSS(`#policy-chat button`)), chromedp.WaitVisible(chromedp.CSS(`#policy-chat .err`)))
		if err != nil {
			t.Fatal(err)
		}
		if msg := text(t, b, "#policy-chat .err"); !strings.Contains(msg, "report refused it (400") {
			t.Fatalf("refusal shown as %q", msg)
		}
		screenshot(t, b, "settings-refused")
		// A fresh page first: the refused page above still shows its .err,
		// which a wait right after the click would find before the answer.
		err = chromedp.Do(b, chromedp.Navigate(plat.ConsoleURL()+"/settings"),
			chromedp.SetValue(chromedp.CSS(`#policy-chat input[name=quorum]`), "two"),
			chromedp.Click(chromedp.CSS(`#policy-chat button`)), chromedp.WaitVisible(chromedp.CSS(`#policy-chat .err`)))
		if err != nil {
			t.Fatal(err)
		}
		if msg := text(t, b, "#policy-chat .err"); !strings.Contains(msg, "quorum must be a whole number") {
			t.Fatalf("type error shown as %q", msg)
		}
	})

	t.Run("find the case, open it and read its timeline", func(t *testing.T) {
		err := chromedp.Do(b, chromedp.Navigate(plat.ConsoleURL()+"/cases"),
			chromedp.SetValue(chromedp.CSS(`#filter select[name=kind]`), "chat"),
			chromedp.SetValue(chromedp.CSS(`#filter select[name=status]`), "upheld"),
			chromedp.Click(chromedp.CSS(`#filter button`)))
		if err != nil {
			t.Fatal(err)
		}
		waitURL(t, b, "status=upheld")
		if err := chromedp.Do(b, chromedp.WaitReady(chromedp.CSS(`#cases`))); err != nil {
			t.Fatal(err)
		}
		screenshot(t, b, "cases")
		link := fmt.Sprintf(`#cases a[href="/cases/%s"]`, rc.CaseID)
		// Newest first; follow the pages until the case shows up.
		for page := 0; countOf(t, b, link) == 0; page++ {
			if page > 20 || countOf(t, b, "#next") == 0 {
				t.Fatalf("case %s not in the upheld chat cases (page %d)", rc.CaseID, page)
			}
			if err := chromedp.Do(b, chromedp.Click(chromedp.CSS(`#next`))); err != nil {
				t.Fatal(err)
			}
			waitURL(t, b, "cursor=")
		}
		if err := chromedp.Do(b, chromedp.Click(chromedp.CSS(link))); err != nil {
			t.Fatal(err)
		}
		waitURL(t, b, "/cases/"+rc.CaseID)
		if err := chromedp.Do(b, chromedp.WaitReady(chromedp.CSS(`#timeline`))); err != nil {
			t.Fatal(err)
		}
		if got := text(t, b, "#status"); got != "upheld" {
			t.Errorf("status %q", got)
		}
		if got := text(t, b, "#tally"); !strings.Contains(got, "uphold 2") {
			t.Errorf("tally %q", got)
		}
		timeline := text(t, b, "#timeline")
		for _, ev := range []string{"drawn", "voted", "decided"} {
			if !strings.Contains(timeline, ev) {
				t.Errorf("timeline lacks %q:\n%s", ev, timeline)
			}
		}
		for _, j := range jurors[:2] {
			if !strings.Contains(timeline, j) {
				t.Errorf("timeline of the closed case does not name juror %s", j)
			}
		}
		if tr := text(t, b, "#trace"); !strings.Contains(tr, "Trace") && !strings.Contains(tr, "no trace") {
			t.Errorf("trace section says %q", tr)
		}
		screenshot(t, b, "case")
	})

	t.Run("every other page renders", func(t *testing.T) {
		for name, path := range map[string]string{"escalated": "/escalated", "jurors": "/jurors", "juror": "/jurors/" + jurors[0],
			"catalog": "/catalog", "dead-letters": "/dead-letters"} {
			if err := chromedp.Do(b, chromedp.Navigate(plat.ConsoleURL()+path), chromedp.WaitReady(chromedp.CSS(`main h1`))); err != nil {
				t.Fatal(err)
			}
			if h := text(t, b, "main h1"); h == "Bad Gateway" || h == "Not Found" {
				t.Errorf("%s: %s: %s", path, h, text(t, b, "main"))
			}
			screenshot(t, b, name)
		}
		if pool := text(t, b, "body"); pool == "" {
			t.Error("empty page")
		}
	})
}
