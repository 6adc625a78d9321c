package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// Record is one log line of an app or a sidecar.
type Record struct {
	Time    time.Time
	Service string // "report" for the app, "report-dapr" for its sidecar
	Level   Level
	Msg     string
	Fields  map[string]any // everything else the line carries
	Raw     string         // the line as written
	File    string
	Line    int
	// NoTime says the line carried no time of its own: it has its file's
	// previous line's (or the zero time at the top of a file).
	NoTime bool
}

// Level is a normalised severity: the apps write slog's INFO/WARN/ERROR,
// daprd info/warning/error/fatal.
type Level int

const (
	LevelUnknown Level = iota
	LevelDebug
	LevelInfo
	LevelWarn
	LevelError
	LevelFatal
)

var levelNames = map[Level]string{LevelUnknown: "-", LevelDebug: "DEBUG", LevelInfo: "INFO", LevelWarn: "WARN", LevelError: "ERROR", LevelFatal: "FATAL"}

func (l Level) String() string { return levelNames[l] }

// ParseLevel reads a level as either kind of process writes it, or as a user types it.
func ParseLevel(s string) (Level, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "debug":
		return LevelDebug, nil
	case "info":
		return LevelInfo, nil
	case "warn", "warning":
		return LevelWarn, nil
	case "error":
		return LevelError, nil
	case "fatal", "panic":
		return LevelFatal, nil
	}
	return LevelUnknown, fmt.Errorf("unknown level %q (debug, info, warn, error, fatal)", s)
}

// IDFields are the business and trace ids, printed first and in this order.
var IDFields = []string{"case_id", "report_id", "user_id", "juror_id", "draw_id", "event_id", "trace_id", "span_id"}

// quiet are fields every daprd line has that say nothing about the event.
var quiet = map[string]bool{"instance": true, "type": true, "ver": true}

// A log file of the platform, by name: the harness's (make test) report.log,
// report-dapr.log, report-2.log; the dapr CLI's (make run)
// report_app_20261201101010.log, report_daprd_20261201101010.log.
var (
	harnessFile = regexp.MustCompile(`^(report|reviewer|reward)(-\d+)?(-dapr)?\.log$`)
	cliFile     = regexp.MustCompile(`^(report|reviewer|reward)_(app|daprd)_[0-9]+\.log$`)
)

// FileService names the process a platform log file belongs to, or "" for
// any other file (PostgreSQL's, Jaeger's, ...).
func FileService(path string) string {
	base := filepath.Base(path)
	if m := harnessFile.FindStringSubmatch(base); m != nil {
		if m[3] != "" {
			return m[1] + "-dapr"
		}
		return m[1]
	}
	if m := cliFile.FindStringSubmatch(base); m != nil {
		if m[2] == "daprd" {
			return m[1] + "-dapr"
		}
		return m[1]
	}
	return ""
}

// ReadFile parses every line of a log file. JSON lines count when they name
// their service (apps: service, sidecars: app_id); other lines count only in
// a file that is an app's or sidecar's (FileService), and get its name.
func ReadFile(path string) ([]Record, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Read(f, path)
}

// Read parses lines from r as ReadFile does; name is the file's path.
func Read(r io.Reader, name string) ([]Record, error) {
	fileService := FileService(name)
	var out []Record
	var last time.Time
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" {
			continue
		}
		rec, ok := parseJSON(line)
		if !ok {
			if fileService == "" {
				continue
			}
			rec = Record{Service: fileService, Msg: line, Fields: map[string]any{}}
			if strings.HasPrefix(line, "panic:") || strings.HasPrefix(line, "fatal error:") {
				rec.Level = LevelFatal
			}
		}
		if rec.Service == "" {
			continue
		}
		if rec.Time.IsZero() {
			rec.Time, rec.NoTime = last, true
		} else {
			last = rec.Time
		}
		rec.Raw, rec.File, rec.Line = line, name, n
		out = append(out, rec)
	}
	return out, sc.Err()
}

func parseJSON(line string) (Record, bool) {
	start := strings.IndexByte(line, '{')
	if start < 0 {
		return Record{}, false
	}
	dec := json.NewDecoder(strings.NewReader(line[start:]))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return Record{}, false
	}
	rec := Record{Fields: m}
	if s, ok := m["service"].(string); ok && s != "" {
		rec.Service = s
	} else if s, ok := m["app_id"].(string); ok && s != "" {
		rec.Service = s + "-dapr"
	}
	delete(m, "service")
	if rec.Service != "" && strings.HasSuffix(rec.Service, "-dapr") {
		delete(m, "app_id")
	}
	if s, ok := m["time"].(string); ok {
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			rec.Time = t.UTC()
			delete(m, "time")
		}
	}
	if s, ok := m["level"].(string); ok {
		if l, err := ParseLevel(s); err == nil {
			rec.Level = l
			delete(m, "level")
		}
	}
	if s, ok := m["msg"].(string); ok {
		rec.Msg = s
		delete(m, "msg")
	}
	for k := range quiet {
		delete(m, k)
	}
	return rec, true
}
