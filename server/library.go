package server

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/flowd/flowd/project"
	"github.com/flowd/flowd/runtime"
	"github.com/fsnotify/fsnotify"
)

// A Library is a directory of flow files as a service serves them: each
// file's last version without errors, and what the latest version of each
// file says. Reload loads the directory again and makes its flows the
// engine's current versions; Watch reloads whenever the files change.
//
// A file with errors keeps its last good version serving, and reports its
// diagnostics (log, metrics, GET /v2/flowd/flows). A file gone starts no new
// runs. Runs paused in any version resume in that version: the engine keeps
// every version's source by hash.
type Library struct {
	Dir string
	// Also are files outside the flows (the workspace file) whose change
	// calls OnChange, after the flows are reloaded.
	Also     []string
	OnChange func()
	// Debounce is how long the files must be quiet before a reload: an
	// editor's save is several events (a write, a rename, a chmod).
	// 0 is DefaultDebounce.
	Debounce time.Duration

	mu    sync.Mutex
	good  map[string]*project.Flow // by path: its last version without errors
	infos []FlowInfo
	last  *Loaded // committed last
}

// DefaultDebounce is how long a Library waits for the files to be quiet.
const DefaultDebounce = 50 * time.Millisecond

// MaxDebounce is how long changes may put a reload off: files written
// again and again reload at least this often.
const MaxDebounce = time.Second

// A Loaded is what one load of a library found.
type Loaded struct {
	Files []*project.Flow // as they are now, failed ones included
	Flows []runtime.Flow  // what serves: the good files, and the last good versions of the failed
	Stale []string        // the files with errors whose last good version serves
	infos []FlowInfo
	good  map[string]*project.Flow
}

// Load reads the directory as it is now; Commit makes that the library's.
func (l *Library) Load() (*Loaded, error) {
	paths, err := project.Files([]string{l.Dir})
	if err != nil {
		return nil, err
	}
	files := project.Load(paths, project.Options{})
	l.mu.Lock()
	defer l.mu.Unlock()
	ld := &Loaded{Files: files, good: map[string]*project.Flow{}}
	infos := FlowInfos(files)
	for i, f := range files {
		good := f
		if f.Failed() {
			if good = l.good[f.Path]; good == nil {
				continue
			}
			ld.Stale = append(ld.Stale, f.Path)
			infos[i].Name, infos[i].Version, infos[i].Serving, infos[i].Stale = good.Program.Flow, good.Program.Hash, true, true
		}
		ld.good[f.Path] = good
		ld.Flows = append(ld.Flows, good.Runtime())
	}
	ld.infos = infos
	return ld, nil
}

// Commit makes a load the library's: once the engine took its flows.
func (l *Library) Commit(ld *Loaded) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.good, l.infos, l.last = ld.good, ld.infos, ld
}

// loaded is what was committed last, or nil.
func (l *Library) loaded() *Loaded {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.last
}

// Infos describe the files as last committed.
func (l *Library) Infos() []FlowInfo {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.infos
}

// Reload loads the directory and makes its flows e's current versions.
// If the engine refuses them (two files name one flow, say), what served
// goes on serving.
func (l *Library) Reload(ctx context.Context, e *runtime.Engine) (*Loaded, error) {
	ld, err := l.Load()
	if err != nil {
		return nil, err
	}
	if err := e.Replace(ctx, ld.Flows); err != nil {
		return ld, err
	}
	l.Commit(ld)
	return ld, nil
}

// Watch reloads into e whenever a flow file or one of Also changes, until
// ctx ends. It watches directories, not files, so that however an editor
// saves (in place, or a new file renamed over the old), the change is
// seen. reloaded, when not nil, is told of each reload.
func (l *Library) Watch(ctx context.Context, e *runtime.Engine, reloaded func(*Loaded, error)) error {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return err
	}
	defer w.Close()
	watched := map[string]bool{}
	watchDirs := func() {
		dirs := []string{}
		for _, f := range l.Also {
			dirs = append(dirs, filepath.Dir(f))
		}
		filepath.WalkDir(l.Dir, func(path string, d fs.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				if path != l.Dir && strings.HasPrefix(d.Name(), ".") {
					return filepath.SkipDir
				}
				dirs = append(dirs, path)
			}
			return nil
		})
		for _, d := range dirs {
			if d = filepath.Clean(d); !watched[d] {
				if err := w.Add(d); err == nil {
					watched[d] = true
				}
			}
		}
	}
	watchDirs()
	debounce := l.Debounce
	if debounce == 0 {
		debounce = DefaultDebounce
	}
	also := map[string]bool{}
	for _, f := range l.Also {
		also[filepath.Clean(f)] = true
	}
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	var flows, others bool // what changed since the last reload
	var since time.Time    // the first change since then

	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-w.Errors:
			slog.Warn("flows: watching", "dir", l.Dir, "err", err)
		case ev := <-w.Events:
			name := filepath.Clean(ev.Name)
			switch {
			case also[name]:
				others = true
			case strings.HasSuffix(name, ".flow"), ev.Has(fsnotify.Create), ev.Has(fsnotify.Remove), ev.Has(fsnotify.Rename):
				flows = true // a flow, or a directory that may hold some
			default:
				continue
			}
			if since.IsZero() {
				since = time.Now()
			}
			if time.Since(since) < MaxDebounce { // files that never go quiet reload anyway
				timer.Reset(debounce)
			}
		case <-timer.C:
			if flows {
				watchDirs()
				ld, err := l.Reload(ctx, e)
				if reloaded != nil {
					reloaded(ld, err)
				}
			}
			if others && l.OnChange != nil {
				l.OnChange()
			}
			flows, others, since = false, false, time.Time{}
		}
	}
}

// logReload reports a reload: what serves, and each file's errors.
func logReload(ld *Loaded, err error) {
	if ld == nil {
		slog.Error("flows: reload", "err", err)
		return
	}
	if err != nil {
		slog.Error("flows: reload refused: the flows that served go on serving", "err", err)
	}
	for _, f := range ld.Files {
		if f.Failed() {
			slog.Error("flows: "+f.Path+" has errors", "stale", slices.Contains(ld.Stale, f.Path), "diagnostics", errors.New(f.Diags.Error()))
		}
	}
	if err == nil {
		slog.Info("flows: reloaded", "serving", len(ld.Flows), "files", len(ld.Files), "stale", len(ld.Stale))
	}
}
