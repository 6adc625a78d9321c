package observability

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// promtool is Debian's prometheus package's (scripts/observability.sh installs it).
func promtool(t *testing.T, args ...string) string {
	t.Helper()
	bin, err := exec.LookPath("promtool")
	if err != nil {
		t.Fatal("promtool not found: install Debian's prometheus package (make test does)")
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = obsDir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func testFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(obsDir, "tests", "*.test.yml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no promtool tests in %s/tests: %v", obsDir, err)
	}
	for i, f := range files {
		files[i], _ = filepath.Rel(obsDir, f)
	}
	return files
}

func TestRulesPassPromtoolChecksAndUnitTests(t *testing.T) {
	rules, err := filepath.Glob(filepath.Join(obsDir, "rules", "*.yml"))
	if err != nil || len(rules) == 0 {
		t.Fatalf("no rule files: %v", err)
	}
	for i, r := range rules {
		rules[i], _ = filepath.Rel(obsDir, r)
	}
	t.Log(promtool(t, append([]string{"check", "rules"}, rules...)...))
	t.Log(promtool(t, append([]string{"test", "rules"}, testFiles(t)...)...))
}

// A promtool test file, as far as this check reads it.
type unitTests struct {
	RuleFiles []string `yaml:"rule_files"`
	Tests     []struct {
		Name       string `yaml:"name"`
		AlertTests []struct {
			Alert     string `yaml:"alertname"`
			ExpAlerts []any  `yaml:"exp_alerts"`
		} `yaml:"alert_rule_test"`
	} `yaml:"tests"`
}

// Every alert must be shown firing by a unit test and shown silent by one
// (the look-alike, or before its for: has run out), and every rule file must
// be under test.
func TestEveryAlertHasAFiringAndASilentUnitTest(t *testing.T) {
	firing, silent, tested := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, f := range testFiles(t) {
		raw, err := os.ReadFile(filepath.Join(obsDir, f))
		if err != nil {
			t.Fatal(err)
		}
		var u unitTests
		if err := yaml.Unmarshal(raw, &u); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, r := range u.RuleFiles {
			tested[filepath.Clean(filepath.Join(filepath.Dir(f), r))] = true
		}
		for _, tc := range u.Tests {
			for _, a := range tc.AlertTests {
				if len(a.ExpAlerts) > 0 {
					firing[a.Alert] = true
				} else {
					silent[a.Alert] = true
				}
			}
		}
	}
	for _, rf := range ruleFiles(t) {
		rel, _ := filepath.Rel(obsDir, rf.path)
		if !tested[rel] {
			t.Errorf("%s: no promtool test file lists it in rule_files", rel)
		}
		for _, g := range rf.groups {
			for _, r := range g.Rules {
				if r.Alert == "" {
					continue
				}
				if !firing[r.Alert] {
					t.Errorf("alert %s: no unit test expects it to fire", r.Alert)
				}
				if !silent[r.Alert] {
					t.Errorf("alert %s: no unit test expects it to stay silent", r.Alert)
				}
			}
		}
	}
}

func TestRulesUseOnlyMetricsThatExist(t *testing.T) {
	for _, g := range ruleGroups(t) {
		for _, r := range g.Rules {
			unknown, err := unknownMetrics(t, r.Expr)
			if err != nil {
				t.Errorf("group %s rule %s%s: %v", g.Name, r.Record, r.Alert, err)
				continue
			}
			for _, u := range unknown {
				t.Errorf("group %s rule %s%s: %s is neither an app metric (README catalogue), a Dapr v1.18.1 metric, an exporter's, nor a recording rule",
					g.Name, r.Record, r.Alert, u)
			}
		}
	}
}

var severityLabel = map[string]bool{"page": true, "ticket": true}

func TestEveryAlertSaysHowUrgentAndWhat(t *testing.T) {
	names := map[string]bool{}
	for _, g := range ruleGroups(t) {
		for _, r := range g.Rules {
			if r.Alert == "" {
				continue
			}
			if names[r.Alert] {
				t.Errorf("alert %s is defined twice", r.Alert)
			}
			names[r.Alert] = true
			if !severityLabel[r.Labels["severity"]] {
				t.Errorf("alert %s: severity %q, want page or ticket", r.Alert, r.Labels["severity"])
			}
			if r.Annotations["summary"] == "" || r.Annotations["description"] == "" {
				t.Errorf("alert %s: needs a summary and a description", r.Alert)
			}
		}
	}
}

var readmeAlert = regexp.MustCompile(`(?m)^\| ([A-Z][A-Za-z]+) \| .+ \| (page|ticket) \|$`)

// The README's alert table is what operators read: it lists exactly the
// alerts the rules define, with their severities.
func TestTheReadmeListsEveryAlert(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(obsDir, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]string{}
	for _, m := range readmeAlert.FindAllStringSubmatch(string(raw), -1) {
		documented[m[1]] = m[2]
	}
	var defined []string
	for _, g := range ruleGroups(t) {
		for _, r := range g.Rules {
			if r.Alert == "" {
				continue
			}
			defined = append(defined, r.Alert)
			if sev, ok := documented[r.Alert]; !ok {
				t.Errorf("alert %s is not in the README's table", r.Alert)
			} else if sev != r.Labels["severity"] {
				t.Errorf("alert %s: README says %s, the rule %s", r.Alert, sev, r.Labels["severity"])
			}
		}
	}
	for name := range documented {
		if !slices.Contains(defined, name) {
			t.Errorf("the README lists alert %s, which no rule defines", name)
		}
	}
}
