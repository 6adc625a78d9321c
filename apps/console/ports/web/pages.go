package web

import (
	"context"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/govern/console/adapters/apis"
	"github.com/govern/console/adapters/sidecars"
	"github.com/govern/console/adapters/store"
)

// nav is the menu: page, path, label.
var nav = [][3]string{
	{"overview", "/", "Apps & sidecars"}, {"cases", "/cases", "Cases"}, {"escalated", "/escalated", "Escalated"},
	{"settings", "/settings", "Settings"}, {"jurors", "/jurors", "Juror pool"}, {"catalog", "/catalog", "Catalogue"},
	{"deadletters", "/dead-letters", "Dead letters"},
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }

func (s *Server) parseTemplates() error {
	funcs := template.FuncMap{
		"when": func(v any) string {
			switch t := v.(type) {
			case time.Time:
				if t.IsZero() {
					return ""
				}
				return t.UTC().Format("2006-01-02 15:04:05Z")
			case string:
				if p, err := time.Parse(time.RFC3339Nano, t); err == nil {
					return p.UTC().Format("2006-01-02 15:04:05Z")
				}
				return t
			}
			return fmt.Sprint(v)
		},
		"ms": func(d time.Duration) string {
			return strconv.FormatFloat(float64(d.Microseconds())/1000, 'f', 1, 64) + " ms"
		},
		"join":     strings.Join,
		"value":    func(f Field, cur map[string]any) string { return f.Value(cur) },
		"isChoice": func(f Field) bool { return f.Type == Choice },
		"list":     func() [][3]string { return nav },
		"pct": func(v any) string {
			if x, ok := v.(float64); ok {
				return strconv.FormatFloat(100*x, 'f', 0, 64) + " %"
			}
			return "–"
		},
	}
	s.pages = map[string]*template.Template{}
	files, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return err
	}
	for _, f := range files {
		name := strings.TrimSuffix(path.Base(f), ".html")
		if name == "layout" || strings.HasPrefix(name, "_") {
			continue
		}
		t, err := template.New(name).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/_*.html", f)
		if err != nil {
			return fmt.Errorf("template %s: %w", name, err)
		}
		s.pages[name] = t
	}
	return nil
}

type appStatus struct {
	App     string
	URL     string
	Health  apis.Health
	Sidecar sidecars.Status
}

func (s *Server) overview(c *gin.Context) {
	ctx := c.Request.Context()
	out := make([]appStatus, len(apis.Apps))
	var wg sync.WaitGroup
	for i, app := range apis.Apps {
		wg.Go(func() {
			out[i] = appStatus{App: app, URL: s.APIs.Bases[app], Health: s.APIs.Healthz(ctx, app), Sidecar: s.Sidecars.Read(ctx, app)}
		})
	}
	wg.Wait()
	s.render(c, http.StatusOK, "overview", "Apps and sidecars", out)
}

// caseJSON is the report API's case object as the pages use it.
type caseJSON struct {
	CaseID string `json:"case_id"`
	Target struct {
		Kind    string `json:"kind"`
		ID      string `json:"id"`
		OwnerID string `json:"owner_id"`
	} `json:"target"`
	Status       string         `json:"status"`
	Policy       map[string]any `json:"policy"`
	ReportCount  int            `json:"report_count"`
	JurorsNeeded int            `json:"jurors_needed"`
	VotesCast    int            `json:"votes_cast"`
	Deadline     string         `json:"deadline"`
	CreatedAt    string         `json:"created_at"`
	DecidedAt    string         `json:"decided_at"`
	Decision     string         `json:"decision"`
	Tally        *struct {
		Uphold int `json:"uphold"`
		Reject int `json:"reject"`
	} `json:"tally"`
	Jurors   []string `json:"jurors"`
	Timeline []struct {
		At      string `json:"at"`
		Event   string `json:"event"`
		JurorID string `json:"juror_id"`
		Detail  string `json:"detail"`
	} `json:"timeline"`
}

type caseList struct {
	Items      []caseJSON `json:"items"`
	NextCursor string     `json:"next_cursor"`
}

func (s *Server) listCases(c *gin.Context, cq CaseQuery) (caseList, error) {
	var list caseList
	err := s.APIs.Get(c.Request.Context(), sessionOf(c).token, "report", "/v1/cases?"+cq.APIQuery(), &list)
	return list, err
}

func (s *Server) cases(c *gin.Context) {
	cq, err := ParseCaseQuery(c.Request.URL.Query())
	if err != nil {
		s.failErr(c, err)
		return
	}
	list, err := s.listCases(c, cq)
	if err != nil {
		s.failErr(c, err)
		return
	}
	next := ""
	if list.NextCursor != "" {
		next = cq.PageQuery(list.NextCursor)
	}
	s.render(c, http.StatusOK, "cases", "Cases", gin.H{"Q": cq, "Items": list.Items, "Next": next,
		"First": cq.Cursor != "", "FirstQuery": cq.PageQuery(""), "Statuses": Statuses, "Kinds": Kinds})
}

func (s *Server) escalated(c *gin.Context) {
	q := c.Request.URL.Query()
	q.Set("status", "escalated")
	cq, err := ParseCaseQuery(q)
	if err != nil {
		s.failErr(c, err)
		return
	}
	list, err := s.listCases(c, cq)
	if err != nil {
		s.failErr(c, err)
		return
	}
	next := ""
	if list.NextCursor != "" {
		next = url.Values{"cursor": {list.NextCursor}}.Encode()
	}
	s.render(c, http.StatusOK, "escalated", "Escalated cases", gin.H{"Items": list.Items, "Next": next})
}

func (s *Server) casePage(c *gin.Context) {
	id := c.Param("id")
	if err := checkID("case id", id); err != nil {
		s.failErr(c, err)
		return
	}
	var cs caseJSON
	if err := s.APIs.Get(c.Request.Context(), sessionOf(c).token, "report", "/v1/cases/"+url.PathEscape(id), &cs); err != nil {
		s.failErr(c, err)
		return
	}
	created, _ := time.Parse(time.RFC3339Nano, cs.CreatedAt)
	traces, traceErr := s.Traces.CaseTraces(c.Request.Context(), id, apis.Apps, created.Add(-time.Hour))
	var traceMsg string
	if traceErr != nil {
		traceMsg = traceErr.Error()
	}
	s.render(c, http.StatusOK, "case", "Case "+id, gin.H{"Case": cs, "Traces": traces, "TraceErr": traceMsg,
		"Progress": progress(cs)})
}

// progress is how far the jury has got: votes cast of the quorum and of the jury.
func progress(cs caseJSON) string {
	q, _ := cs.Policy["quorum"].(float64)
	return fmt.Sprintf("%d of %d jurors voted (quorum %d)", cs.VotesCast, cs.JurorsNeeded, int(q))
}

type settingView struct {
	Setting
	Current map[string]any
	Err     string
	Saved   bool
}

// loadSettings reads every setting's current value from its app.
func (s *Server) loadSettings(ctx context.Context, token string) []settingView {
	all := Settings()
	out := make([]settingView, len(all))
	var policies struct {
		Items []map[string]any `json:"items"`
	}
	policyErr := s.APIs.Get(ctx, token, "report", "/v1/policies", &policies)
	for i, st := range all {
		out[i].Setting = st
		if kind, ok := strings.CutPrefix(st.Key, "policy-"); ok {
			if policyErr != nil {
				out[i].Err = policyErr.Error()
			}
			for _, p := range policies.Items {
				if p["kind"] == kind {
					out[i].Current = p
				}
			}
			continue
		}
		var cur map[string]any
		if err := s.APIs.Get(ctx, token, st.App, st.Path, &cur); err != nil {
			out[i].Err = err.Error()
		}
		out[i].Current = cur
	}
	return out
}

func (s *Server) settings(c *gin.Context) {
	views := s.loadSettings(c.Request.Context(), sessionOf(c).token)
	if saved := c.Query("saved"); saved != "" {
		for i := range views {
			views[i].Saved = views[i].Key == saved
		}
	}
	s.render(c, http.StatusOK, "settings", "Settings", views)
}

func (s *Server) saveSetting(c *gin.Context) {
	st, ok := FindSetting(c.Param("key"))
	if !ok {
		s.fail(c, http.StatusNotFound, "no such setting "+c.Param("key"))
		return
	}
	_ = c.Request.ParseForm()
	status, msg := http.StatusOK, ""
	body, err := st.Body(c.Request.PostForm)
	if err == nil {
		err = s.APIs.Do(c.Request.Context(), sessionOf(c).token, http.MethodPut, st.App, st.Path, body, nil)
	}
	if err == nil {
		s.Log.InfoContext(c.Request.Context(), "setting changed", "setting", st.Key, "user_id", sessionOf(c).who.UserID)
		c.Redirect(http.StatusSeeOther, "/settings?saved="+url.QueryEscape(st.Key)+"#"+st.Key)
		return
	}
	status, msg = errorStatus(err)
	views := s.loadSettings(c.Request.Context(), sessionOf(c).token)
	for i := range views {
		if views[i].Key == st.Key {
			views[i].Err = msg
			// Show what was typed, so the operator can correct it.
			typed := map[string]any{}
			for _, f := range st.Fields {
				typed[f.Name] = c.PostForm(f.Name)
			}
			views[i].Current = typed
		}
	}
	s.render(c, status, "settings", "Settings", views)
}

// errorStatus is the status and message a refused change is shown with.
func errorStatus(err error) (int, string) {
	if in, ok := err.(*InputError); ok {
		return http.StatusBadRequest, in.Message
	}
	if e, ok := apis.AsError(err); ok && e.Status/100 == 4 {
		return e.Status, fmt.Sprintf("%s refused it (%d %s): %s", e.App, e.Status, e.Code, e.Message)
	}
	return http.StatusBadGateway, err.Error()
}

var jurorStates = []string{"active", "paused", "suspended", "retired"}

func (s *Server) jurors(c *gin.Context) {
	f := store.PoolFilter{State: c.Query("state"), After: c.Query("after"), Limit: 50}
	if f.State != "" && !slices.Contains(jurorStates, f.State) {
		s.fail(c, http.StatusBadRequest, "unknown state "+strconv.Quote(f.State)+": one of "+strings.Join(jurorStates, ", "))
		return
	}
	if f.After != "" {
		if err := checkID("after", f.After); err != nil {
			s.failErr(c, err)
			return
		}
	}
	if id := c.Query("id"); id != "" {
		if err := checkID("user id", id); err != nil {
			s.failErr(c, err)
			return
		}
		c.Redirect(http.StatusSeeOther, "/jurors/"+url.PathEscape(id))
		return
	}
	ctx := c.Request.Context()
	items, next, err := s.Store.Pool(ctx, f)
	if err != nil {
		s.failErr(c, err)
		return
	}
	counts, err := s.Store.PoolCounts(ctx)
	if err != nil {
		s.failErr(c, err)
		return
	}
	var rule map[string]any
	ruleErr := s.APIs.Get(ctx, sessionOf(c).token, "reviewer", "/v1/pool-rule", &rule)
	nextQ := ""
	if next != "" {
		nextQ = url.Values{"state": {f.State}, "after": {next}}.Encode()
	}
	s.render(c, http.StatusOK, "jurors", "Juror pool", gin.H{"Items": items, "Next": nextQ, "State": f.State,
		"States": jurorStates, "Counts": counts, "Rule": rule, "RuleErr": errString(ruleErr)})
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func (s *Server) juror(c *gin.Context) {
	id := c.Param("id")
	if err := checkID("user id", id); err != nil {
		s.failErr(c, err)
		return
	}
	ctx, token := c.Request.Context(), sessionOf(c).token
	var rv map[string]any
	if err := s.APIs.Get(ctx, token, "reviewer", "/v1/reviewers/"+url.PathEscape(id), &rv); err != nil {
		s.failErr(c, err)
		return
	}
	var tasks, account map[string]any
	tasksErr := s.APIs.Get(ctx, token, "reviewer", "/v1/reviewers/"+url.PathEscape(id)+"/tasks", &tasks)
	accountErr := s.APIs.Get(ctx, token, "reward", "/v1/accounts/"+url.PathEscape(id), &account)
	s.render(c, http.StatusOK, "juror", "Juror "+id, gin.H{"ID": id, "R": rv, "Tasks": tasks, "TasksErr": errString(tasksErr),
		"Account": account, "AccountErr": errString(accountErr)})
}

type catalogItem struct {
	SKU   string `json:"sku"`
	Name  string `json:"name"`
	Price int64  `json:"price"`
	Stock int64  `json:"stock"`
}

func (s *Server) catalogPage(c *gin.Context, status int, msg string) {
	var list struct {
		Items      []catalogItem `json:"items"`
		NextCursor string        `json:"next_cursor"`
	}
	q := url.Values{"limit": {"200"}}
	if cur := c.Query("cursor"); cur != "" {
		if len(cur) > 1024 {
			s.fail(c, http.StatusBadRequest, "cursor is not one the reward service issued")
			return
		}
		q.Set("cursor", cur)
	}
	if err := s.APIs.Get(c.Request.Context(), sessionOf(c).token, "reward", "/v1/catalog?"+q.Encode(), &list); err != nil {
		s.failErr(c, err)
		return
	}
	next := ""
	if list.NextCursor != "" {
		next = url.Values{"cursor": {list.NextCursor}}.Encode()
	}
	s.render(c, status, "catalog", "Catalogue and stock", gin.H{"Items": list.Items, "Next": next, "Err": msg, "Saved": c.Query("saved")})
}

func (s *Server) catalog(c *gin.Context) { s.catalogPage(c, http.StatusOK, "") }

func (s *Server) setStock(c *gin.Context) {
	sku := c.Param("sku")
	err := checkID("sku", sku)
	var stock int64
	if err == nil {
		stock, err = strconv.ParseInt(strings.TrimSpace(c.PostForm("stock")), 10, 64)
		if err != nil {
			err = badInput("stock must be a whole number, not %q", c.PostForm("stock"))
		}
	}
	if err == nil {
		err = s.APIs.Do(c.Request.Context(), sessionOf(c).token, http.MethodPut, "reward",
			"/v1/catalog/"+url.PathEscape(sku)+"/stock", map[string]any{"stock": stock}, nil)
	}
	if err != nil {
		status, msg := errorStatus(err)
		s.catalogPage(c, status, "stock of "+sku+": "+msg)
		return
	}
	c.Redirect(http.StatusSeeOther, "/catalog?saved="+url.QueryEscape(sku))
}

func (s *Server) addItem(c *gin.Context) {
	item := map[string]any{"sku": strings.TrimSpace(c.PostForm("sku")), "name": strings.TrimSpace(c.PostForm("name"))}
	var err error
	for _, f := range []string{"price", "stock"} {
		n, perr := strconv.ParseInt(strings.TrimSpace(c.PostForm(f)), 10, 64)
		if perr != nil && err == nil {
			err = badInput("%s must be a whole number, not %q", f, c.PostForm(f))
		}
		item[f] = n
	}
	if err == nil {
		err = s.APIs.Do(c.Request.Context(), sessionOf(c).token, http.MethodPost, "reward", "/v1/catalog", item, nil)
	}
	if err != nil {
		status, msg := errorStatus(err)
		s.catalogPage(c, status, "new item: "+msg)
		return
	}
	c.Redirect(http.StatusSeeOther, "/catalog?saved="+url.QueryEscape(item["sku"].(string)))
}

type topicView struct {
	Topic string
	Total int64
	Items []store.DeadLetter
	Err   string
}

type outboxView struct {
	App   string
	Items []store.DeadEffect
	Err   string
}

func (s *Server) deadLetters(c *gin.Context) {
	ctx := c.Request.Context()
	var topics []topicView
	for _, t := range store.DeadLetterTopics {
		items, total, err := s.Store.DeadLetters(ctx, t, 100)
		topics = append(topics, topicView{Topic: t, Total: total, Items: items, Err: errString(err)})
	}
	var outboxes []outboxView
	for _, app := range apis.Apps {
		items, err := s.Store.DeadEffects(ctx, app, 100)
		outboxes = append(outboxes, outboxView{App: app, Items: items, Err: errString(err)})
	}
	s.render(c, http.StatusOK, "deadletters", "Dead letters", gin.H{"Topics": topics, "Outboxes": outboxes})
}
