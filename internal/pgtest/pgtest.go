// Package pgtest owns the PostgreSQL server that tests of the PostgreSQL
// store run against: a real one, which the test binary starts itself
// (initdb into a temp dir, a Unix socket in it, no TCP), one per test
// package run, with a fresh database per test. PostgreSQL refuses to run as
// root, so as root the server runs as the postgres user (or nobody).
//
// FLOWD_TEST_DATABASE_URL points the tests at an existing server instead.
// Without either, tests skip, unless FLOWD_REQUIRE_POSTGRES=1 (as .ci/run
// sets), which makes a missing PostgreSQL a failure.
package pgtest

import (
	"bytes"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	_ "github.com/lib/pq" // registers the "postgres" driver
)

// A server is the test binary's PostgreSQL.
type server struct {
	dir  string    // data and socket, removed at Stop; "" for an existing server
	url  string    // connection URL of the admin database
	cmd  *exec.Cmd // nil for an existing server
	skip string    // why there is none
}

var (
	once    sync.Once
	shared  *server
	counter atomic.Int64
)

// Main runs a test package's tests and stops the server they started:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
func Main(m *testing.M) { os.Exit(Run(m)) }

// Run runs a test package's tests, as Main does, and returns their exit
// code: for a TestMain that hands m to another runner (testscript.Main).
func Run(m interface{ Run() int }) int {
	code := m.Run()
	if shared != nil {
		shared.stop()
	}
	return code
}

// Database is a new, empty database on the package's server, dropped when
// the test ends; its connection URL. Without a server the test is skipped,
// or fails under FLOWD_REQUIRE_POSTGRES=1.
func Database(t testing.TB) string {
	t.Helper()
	once.Do(func() { shared = start() })
	if shared.skip != "" {
		if os.Getenv("FLOWD_REQUIRE_POSTGRES") == "1" {
			t.Fatalf("no PostgreSQL, and FLOWD_REQUIRE_POSTGRES=1: %s", shared.skip)
		}
		t.Skipf("no PostgreSQL: %s", shared.skip)
	}
	name := fmt.Sprintf("flowd_test_%d_%d", os.Getpid(), counter.Add(1))
	admin, err := sql.Open("postgres", shared.url)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.Exec(`CREATE DATABASE ` + name); err != nil {
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		admin, err := sql.Open("postgres", shared.url)
		if err != nil {
			return
		}
		defer admin.Close()
		admin.Exec(`DROP DATABASE IF EXISTS ` + name + ` WITH (FORCE)`)
	})
	u, _ := url.Parse(shared.url)
	u.Path = "/" + name
	return u.String()
}

// start finds or starts the server.
func start() *server {
	if u := os.Getenv("FLOWD_TEST_DATABASE_URL"); u != "" {
		return &server{url: u}
	}
	bin, err := binDir()
	if err != nil {
		return &server{skip: err.Error()}
	}
	s := &server{}
	if s.dir, err = os.MkdirTemp("", "flowd-pg-"); err != nil {
		return &server{skip: err.Error()}
	}
	cred, owner, err := runAs()
	if err != nil {
		s.stop()
		return &server{skip: err.Error()}
	}
	data := filepath.Join(s.dir, "data")
	if owner != nil {
		if err := os.Chown(s.dir, owner.uid, owner.gid); err != nil {
			s.stop()
			return &server{skip: err.Error()}
		}
	}
	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if out, err := initdb.CombinedOutput(); err != nil {
		s.stop()
		return &server{skip: fmt.Sprintf("initdb: %v: %s", err, lastLines(out))}
	}
	var logs bytes.Buffer
	s.cmd = exec.Command(filepath.Join(bin, "postgres"), "-D", data, "-k", s.dir, "-c", "listen_addresses=",
		"-c", "fsync=on", "-c", "max_connections=200", "-c", "shared_buffers=128MB")
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Setpgid: true}
	s.cmd.Stdout, s.cmd.Stderr = &logs, &logs
	if err := s.cmd.Start(); err != nil {
		s.stop()
		return &server{skip: fmt.Sprintf("postgres: %v", err)}
	}
	s.url = (&url.URL{Scheme: "postgres", User: url.User("postgres"), Path: "/postgres",
		RawQuery: url.Values{"host": {s.dir}, "sslmode": {"disable"}}.Encode()}).String()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		db, err := sql.Open("postgres", s.url)
		if err == nil {
			err = db.Ping()
			db.Close()
		}
		if err == nil {
			return s
		}
		if time.Now().After(deadline) {
			s.stop()
			return &server{skip: fmt.Sprintf("postgres did not start: %v: %s", err, lastLines(logs.Bytes()))}
		}
	}
}

// stop stops the server and removes its files.
func (s *server) stop() {
	if s.cmd != nil && s.cmd.Process != nil {
		s.cmd.Process.Signal(syscall.SIGINT) // fast shutdown
		done := make(chan struct{})
		go func() { s.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			s.cmd.Process.Kill()
		}
	}
	if s.dir != "" {
		os.RemoveAll(s.dir)
	}
}

// binDir is the newest PostgreSQL's bin directory: Debian's layout.
func binDir() (string, error) {
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(matches) == 0 {
		if p, err := exec.LookPath("initdb"); err == nil {
			return filepath.Dir(p), nil
		}
		return "", errors.New("no initdb under /usr/lib/postgresql/*/bin or on PATH (Debian: apt-get install postgresql)")
	}
	sort.Slice(matches, func(i, j int) bool { return version(matches[i]) > version(matches[j]) })
	return filepath.Dir(matches[0]), nil
}

func version(initdb string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(initdb))))
	return n
}

type ids struct{ uid, gid int }

// runAs is who the server runs as: the test's own user, or, as root, the
// postgres user (or nobody), since PostgreSQL refuses root.
func runAs() (*syscall.Credential, *ids, error) {
	if os.Geteuid() != 0 {
		return nil, nil, nil
	}
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, &ids{uid, gid}, nil
	}
	return nil, nil, errors.New("running as root, and no postgres or nobody user to run PostgreSQL as")
}

func lastLines(b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > 5 {
		lines = lines[len(lines)-5:]
	}
	return strings.Join(lines, " | ")
}
