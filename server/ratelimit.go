package server

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Rate limits of the webhook, per process: a sender past them is answered
// 429 with Retry-After and respond.io's X-RateLimit-* headers. A channel's
// integration server may send in bursts; one contact is a person typing.
const (
	ChannelRate = 1000 // requests a second, per channel
	ContactRate = 5    // requests a second, per contact of a channel
	// maxBuckets bounds the contacts' buckets a process keeps; idle ones
	// go first.
	maxBuckets = 100_000
)

// limiters are token buckets by key, bounded in number.
type limiters struct {
	rate  rate.Limit
	burst int

	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	lim  *rate.Limiter
	used time.Time
}

// newLimiters are buckets of r tokens a second, which hold burst.
func newLimiters(r float64, burst int) *limiters {
	return &limiters{rate: rate.Limit(r), burst: max(burst, 1), buckets: map[string]*bucket{}}
}

// allow takes a token from key's bucket; when there is none, wait is how
// long until there will be.
func (l *limiters) allow(key string, now time.Time) (ok bool, remaining int, wait time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[key]
	if b == nil {
		if len(l.buckets) >= maxBuckets {
			l.evict(now)
		}
		b = &bucket{lim: rate.NewLimiter(l.rate, l.burst)}
		l.buckets[key] = b
	}
	b.used = now
	r := b.lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, 0, d
	}
	return true, int(math.Max(0, math.Floor(b.lim.TokensAt(now)))), 0
}

// evict drops the buckets idle long enough to be full again, or, when
// none is, half of them: a flood of new contacts cannot grow the map.
func (l *limiters) evict(now time.Time) {
	full := time.Duration(float64(l.burst) / float64(l.rate) * float64(time.Second))
	for k, b := range l.buckets {
		if now.Sub(b.used) > full {
			delete(l.buckets, k)
		}
	}
	for k := range l.buckets {
		if len(l.buckets) < maxBuckets/2 {
			break
		}
		delete(l.buckets, k)
	}
}

// limited answers 429 when key is past its limit, and sets the
// X-RateLimit-* headers either way; it reports whether it answered.
func (l *limiters) limited(w http.ResponseWriter, key, what string) bool {
	ok, remaining, wait := l.allow(key, time.Now())
	w.Header().Set("X-RateLimit-Limit", strconv.Itoa(int(l.rate)))
	w.Header().Set("X-RateLimit-Remaining", strconv.Itoa(remaining))
	if ok {
		return false
	}
	secs := int(math.Ceil(wait.Seconds()))
	w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
	writeError(w, &apiError{Code: http.StatusTooManyRequests, Message: fmt.Sprintf("too many requests for %s: at most %d a second; retry after %d s", what, int(l.rate), max(secs, 1))})
	return true
}
