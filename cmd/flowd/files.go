package main

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/flowd/flowd/config"
)

// workspaceFiles are the workspace files among paths: each directory's
// flowd.toml, and a .toml file named.
func workspaceFiles(paths []string) []string {
	var out []string
	for _, p := range paths {
		info, err := os.Stat(p)
		switch {
		case err != nil:
		case info.IsDir():
			ws := filepath.Join(p, config.FileName)
			if _, err := os.Stat(ws); err == nil {
				out = append(out, ws)
			}
		case strings.HasSuffix(p, ".toml"):
			out = append(out, filepath.Clean(p))
		}
	}
	return out
}
