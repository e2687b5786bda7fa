package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/edufund/edufund/examples/bench/internal/benchutil"
	"github.com/edufund/edufund/funding"
)

// pairs hands out (certificate, group) pairs in a pseudo-random order
// without repeating one during the whole bench: a pair applied for twice
// would be refused (one live contract a module), and refusals must stay
// the rules', not the load's.
type pairs struct {
	certs, groups uint64
	step, offset  uint64
	next          atomic.Uint64
}

func newPairs(certs, groups int) *pairs {
	p := &pairs{certs: uint64(certs), groups: uint64(groups)}
	n := p.certs * p.groups
	// A step coprime with n makes k ↦ k·step + offset (mod n) a
	// permutation of the pairs.
	p.step = n/2 + 7919
	for gcd(p.step, n) != 1 {
		p.step++
	}
	p.offset = rand.Uint64() % n
	return p
}

func gcd(a, b uint64) uint64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// take returns the next pair, or false when every pair was used.
func (p *pairs) take() (cert, group int, ok bool) {
	n := p.certs * p.groups
	k := p.next.Add(1) - 1
	if k >= n {
		return 0, 0, false
	}
	hi, lo := bits.Mul64(k, p.step%n)
	_, i := bits.Div64(hi%n, lo, n)
	i = (i + p.offset) % n
	return int(i % p.certs), int(i / p.certs), true
}

// loadRun is what the clients of one run saw.
type loadRun struct {
	ok, errs int
	refused  map[string]int // by problem code
	p50, p99 time.Duration
	rate     float64
	firstErr string
}

func (l loadRun) refusals() int {
	n := 0
	for _, c := range l.refused {
		n += c
	}
	return n
}

// drive posts applications from workers clients for d through one
// keep-alive client; run names the run in the Idempotency-Keys.
func drive(ctx context.Context, base string, r *region, tokens []string, p *pairs, run string, workers int, d time.Duration) loadRun {
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		MaxIdleConns: workers, MaxIdleConnsPerHost: workers, MaxConnsPerHost: 0, IdleConnTimeout: 90 * time.Second,
	}}
	defer client.CloseIdleConnections()
	url := base + "/v1/applications"
	var mu sync.Mutex
	res := loadRun{refused: map[string]int{}}
	var lat []time.Duration
	deadline := time.Now().Add(d)
	start := time.Now()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			var my []time.Duration
			var ok, errs int
			refused := map[string]int{}
			var first string
			var body bytes.Buffer
			for i := 0; time.Now().Before(deadline); i++ {
				c, g, more := p.take()
				if !more {
					if first == "" {
						first = "every (certificate, group) pair was used: raise -certs or -groups"
					}
					errs++
					break
				}
				body.Reset()
				body.WriteString(`{"certificate_id":"`)
				body.WriteString(r.certs[c].String())
				body.WriteString(`","group_id":"`)
				body.WriteString(r.groups[g].String())
				body.WriteString(`"}`)
				req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body.Bytes()))
				if err != nil {
					panic(err) // the URL is ours
				}
				req.Header.Set("Authorization", "Bearer "+tokens[c])
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Idempotency-Key", run+"-"+strconv.Itoa(w)+"-"+strconv.Itoa(i))
				t0 := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					errs++
					if first == "" {
						first = err.Error()
					}
					continue
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				el := time.Since(t0)
				switch resp.StatusCode {
				case http.StatusCreated:
					ok++
					my = append(my, el)
				case http.StatusUnprocessableEntity:
					var pr struct {
						Code string `json:"code"`
					}
					_ = json.Unmarshal(b, &pr)
					refused[pr.Code]++
				default:
					errs++
					if first == "" {
						first = fmt.Sprintf("%d %s", resp.StatusCode, strings.TrimSpace(string(b)))
					}
				}
			}
			mu.Lock()
			defer mu.Unlock()
			lat = append(lat, my...)
			res.ok += ok
			res.errs += errs
			for k, v := range refused {
				res.refused[k] += v
			}
			if res.firstErr == "" {
				res.firstErr = first
			}
		})
	}
	wg.Wait()
	res.rate = float64(res.ok) / time.Since(start).Seconds()
	res.p50, res.p99, _ = benchutil.Latencies(lat)
	return res
}

// mallocs reads go_memstats_mallocs_total from the server's /metrics.
func mallocs(base string) (float64, error) {
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "go_memstats_mallocs_total "); ok {
			return strconv.ParseFloat(strings.TrimSpace(v), 64)
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("metrics: no go_memstats_mallocs_total")
}

// driveFloor runs a floor's submit from workers goroutines for d, on
// pairs of its own.
func driveFloor(ctx context.Context, submit func(ctx context.Context, key string, c, g int) error, p *pairs, workers int, d time.Duration) loadRun {
	var mu sync.Mutex
	res := loadRun{refused: map[string]int{}}
	var lat []time.Duration
	deadline := time.Now().Add(d)
	start := time.Now()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			var my []time.Duration
			var ok, refused, errs int
			var first string
			for i := 0; time.Now().Before(deadline); i++ {
				c, g, more := p.take()
				if !more {
					first = "every (certificate, group) pair was used: raise -certs or -groups"
					errs++
					break
				}
				t0 := time.Now()
				err := submit(ctx, "floor-"+strconv.Itoa(w)+"-"+strconv.Itoa(i)+"-"+strconv.FormatInt(t0.UnixNano(), 36), c, g)
				var re *funding.RuleError
				switch {
				case err == nil:
					ok++
					my = append(my, time.Since(t0))
				case errors.As(err, &re):
					refused++
				default:
					errs++
					if first == "" {
						first = err.Error()
					}
				}
			}
			mu.Lock()
			defer mu.Unlock()
			lat = append(lat, my...)
			res.ok += ok
			res.errs += errs
			res.refused["refused"] += refused
			if res.firstErr == "" {
				res.firstErr = first
			}
		})
	}
	wg.Wait()
	res.rate = float64(res.ok) / time.Since(start).Seconds()
	res.p50, res.p99, _ = benchutil.Latencies(lat)
	if res.refused["refused"] == 0 {
		delete(res.refused, "refused")
	}
	return res
}
