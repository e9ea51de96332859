package chaos

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// bucketSize is how many consecutive writes share a device value. A read
// asks for one bucket, so every answer is small enough to check whole.
const bucketSize = 100

func bucketOf(seq int64) string { return fmt.Sprintf("b%05d", seq/bucketSize) }

// Outcomes of a write, as its client saw it.
type outcome int

const (
	acked         outcome = iota // 201: the provider has it
	failed                       // refused before it was sent, or rejected: the provider does not have it
	indeterminate                // sent, but no answer: it may or may not be stored
)

// write is one POST to a provider.
type write struct {
	provider, text, bucket string
	start, end             time.Time
	outcome                outcome
	id                     string    // the provider's id, when acked
	createdAt              time.Time // when acked
}

// row is a response in a dashboard answer.
type row struct {
	Provider   string    `json:"provider"`
	ProviderID string    `json:"provider_id"`
	Text       string    `json:"text"`
	Device     string    `json:"device"`
	CreatedAt  time.Time `json:"created_at"`
}

// read is one dashboard GET of a bucket.
type read struct {
	bucket     string
	limit      int
	timeout    time.Duration
	sent, done time.Time
	status     int    // 0: no answer
	err        error  // transport error
	body       string // the start of a body other than 200's
	complete   bool
	providers  map[string]providerStatus
	rows       []row
}

type providerStatus struct {
	Status string `json:"status"`
	Error  string `json:"error"`
}

// history is everything the clients did, in the order they finished.
type history struct {
	mu     sync.Mutex
	writes []write
	reads  []read
	seq    atomic.Int64 // the next write's number
}

func (h *history) addWrite(w write) { h.mu.Lock(); h.writes = append(h.writes, w); h.mu.Unlock() }
func (h *history) addRead(r read)   { h.mu.Lock(); h.reads = append(h.reads, r); h.mu.Unlock() }

// currentBucket is the bucket writes are going to now.
func (h *history) currentBucket() int64 { return h.seq.Load() / bucketSize }

var client = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}

// writer posts to provider every interval until ctx ends.
func writer(ctx context.Context, h *history, provider, base string, interval time.Duration) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		post(ctx, h, provider, base)
	}
}

// post writes one response to provider and records the outcome.
func post(ctx context.Context, h *history, provider, base string) write {
	seq := h.seq.Add(1) - 1
	w := write{provider: provider, text: fmt.Sprintf("%s-%d", provider, seq), bucket: bucketOf(seq)}
	body, _ := json.Marshal(map[string]string{"survey": "chaos", "text": w.text, "device": w.bucket, "location": provider})
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(rctx, http.MethodPost, base+"/api/v1/responses", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	w.start = time.Now()
	resp, err := client.Do(req)
	w.outcome = classifyWrite(resp, err)
	if w.outcome == acked {
		var got struct {
			ID        int64     `json:"id"`
			CreatedAt time.Time `json:"created_at"`
		}
		if json.NewDecoder(resp.Body).Decode(&got) != nil {
			w.outcome = indeterminate
		}
		w.id, w.createdAt = strconv.FormatInt(got.ID, 10), got.CreatedAt
	}
	if resp != nil {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	w.end = time.Now()
	h.addWrite(w)
	return w
}

func classifyWrite(resp *http.Response, err error) outcome {
	var op *net.OpError
	switch {
	case err != nil && errors.As(err, &op) && op.Op == "dial":
		return failed // never sent
	case err != nil:
		return indeterminate
	case resp.StatusCode == http.StatusCreated:
		return acked
	case resp.StatusCode >= 400 && resp.StatusCode < 500:
		return failed
	}
	return indeterminate
}

// timeouts are the deadlines readers ask for: mostly the default, some
// as short as allowed.
var timeouts = []time.Duration{50 * time.Millisecond, 300 * time.Millisecond, time.Second, 2 * time.Second, 2 * time.Second}

// reader reads random buckets from the dashboard until ctx ends: mostly
// the one being written, sometimes an older one.
func reader(ctx context.Context, h *history, dash string, rng *rand.Rand) {
	for ctx.Err() == nil {
		b := h.currentBucket()
		if rng.IntN(4) == 0 && b > 0 {
			b = rng.Int64N(b + 1)
		}
		limit := 1000
		if rng.IntN(5) == 0 {
			limit = 20
		}
		r := get(ctx, dash, fmt.Sprintf("b%05d", b), limit, timeouts[rng.IntN(len(timeouts))])
		h.addRead(r)
		if r.status == 0 {
			wait(10*time.Millisecond, ctx.Done()) // the dashboard is down: do not spin
		}
	}
}

// get asks the dashboard for one bucket.
func get(ctx context.Context, dash, bucket string, limit int, timeout time.Duration) read {
	r := read{bucket: bucket, limit: limit, timeout: timeout}
	q := url.Values{"survey": {"chaos"}, "device": {bucket}, "limit": {strconv.Itoa(limit)}, "timeout": {timeout.String()}}
	// The client waits longer than the deadline, to see overruns.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout+5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(rctx, http.MethodGet, dash+"/api/v1/responses?"+q.Encode(), nil)
	r.sent = time.Now()
	resp, err := client.Do(req)
	if err != nil {
		r.done, r.err = time.Now(), err
		return r
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	r.done, r.status = time.Now(), resp.StatusCode
	if err != nil {
		r.err = err
		return r
	}
	if resp.StatusCode != http.StatusOK {
		r.body = string(b[:min(len(b), 200)])
		return r
	}
	var env struct {
		Data []row `json:"data"`
		Sync struct {
			Complete  bool                      `json:"complete"`
			Providers map[string]providerStatus `json:"providers"`
		} `json:"sync"`
	}
	if err := json.Unmarshal(b, &env); err != nil {
		r.err = fmt.Errorf("decode: %w", err)
		return r
	}
	if resp.Header.Get("X-Sync-Complete") != strconv.FormatBool(env.Sync.Complete) {
		r.err = fmt.Errorf("X-Sync-Complete %q disagrees with the body", resp.Header.Get("X-Sync-Complete"))
		return r
	}
	r.complete, r.providers, r.rows = env.Sync.Complete, env.Sync.Providers, env.Data
	return r
}
