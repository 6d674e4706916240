package pgtest

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// Pgbench runs pgbench -N (its simple update, without the contended
// branch and teller rows) at concurrency c for d on the database at url,
// after pgbench -i, and returns its TPS.
func Pgbench(url string, c int, d time.Duration) (float64, error) {
	bin, err := exec.LookPath("pgbench")
	if err != nil {
		found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pgbench")
		if len(found) == 0 {
			return 0, err
		}
		bin = found[len(found)-1]
	}
	if out, err := exec.Command(bin, "-i", "-q", url).CombinedOutput(); err != nil {
		return 0, fmt.Errorf("pgbench -i: %v: %s", err, out)
	}
	out, err := exec.Command(bin, "-N", "-n", "-c", fmt.Sprint(c), "-j", fmt.Sprint(min(c, 2)),
		"-T", fmt.Sprint(max(1, int(d.Seconds()))), url).CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("%v: %s", err, out)
	}
	for _, line := range strings.Split(string(out), "\n") {
		var tps float64
		if _, err := fmt.Sscanf(line, "tps = %f", &tps); err == nil {
			return tps, nil
		}
	}
	return 0, fmt.Errorf("no tps in: %s", out)
}
