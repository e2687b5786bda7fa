package storage_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/enrollment/batch"
	"github.com/edufund/edufund/funding"
)

// faultOp is one keyed request of the fault workload with what became of it.
type faultOp struct {
	key string
	op  string // the operation name the service stores with the key
	// call sends the request; every call sends the same key and request.
	call func(ctx context.Context) (enrollment.Contract, error)

	first   error // the first call's error; nil when acknowledged
	class   string
	result  enrollment.Contract
	acked   bool // a call returned a result
	refused bool // a call returned a refusal (and no call returned a result)

	batched bool // sent through batch.Submit
	noRetry bool // sent through the store that does not retry
	retries int  // calls after the first
	existed bool // when settling began, the key already had a stored result
}

// Operation names, as the services store them with the key.
const (
	opSubmit    = "contract.submit"
	opConfirm   = "contract.confirm"
	opAccept    = "contract.accept"
	opRefuse    = "contract.refuse"
	opWithdraw  = "contract.withdraw"
	opTerminate = "contract.terminate"
	opDelivery  = "contract.delivery"
)

// resultStatus is the status a successful op leaves its contract in; ""
// when the op does not move it.
var resultStatus = map[string]enrollment.Status{
	opSubmit:    enrollment.Requested,
	opConfirm:   enrollment.Accepted,
	opAccept:    enrollment.Active,
	opRefuse:    enrollment.Refused,
	opWithdraw:  enrollment.Withdrawn,
	opTerminate: enrollment.Terminating,
}

// faultClass names the kind of an error for the counts.
func faultClass(err error) string {
	switch {
	case err == nil:
		return "ok"
	case isRefusal(err):
		return "refused"
	case errors.Is(err, enrollment.ErrUnavailable):
		return "unavailable"
	case errors.Is(err, enrollment.ErrContention):
		if lostConnection(err) {
			return "misclassified" // a lost connection is unavailability, not contention
		}
		return "contention"
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return "timeout"
	default:
		return "other"
	}
}

// lostConnection is an error caused by a connection that broke: a
// terminated backend, a server shutting down, a connection exception.
func lostConnection(err error) bool {
	var s interface{ SQLState() string }
	if errors.As(err, &s) {
		st := s.SQLState()
		if strings.HasPrefix(st, "08") || st == "57P01" || st == "57P02" || st == "57P03" {
			return true
		}
	}
	return errors.Is(err, io.ErrUnexpectedEOF)
}

// refusalCode is the stable code of a refusal.
func refusalCode(err error) string {
	var re *funding.RuleError
	if errors.As(err, &re) {
		return re.Code
	}
	if errors.Is(err, enrollment.ErrForbiddenTransition) {
		return enrollment.CodeForbiddenTransition
	}
	return "invalid"
}

// faultLog collects every keyed request and the counts of the run.
type faultLog struct {
	mu  sync.Mutex
	ops []*faultOp

	// classes counts the first outcome of every keyed request by faultClass.
	classes map[string]int
	// samples keeps one error text for each class other than ok and refused.
	samples map[string]string
	// refusals counts the refusals by operation and code.
	refusals map[string]int
	// reads counts cabinet reads that failed (the pick of a contract).
	readErrs int
	// closes counts monthly closes; closeErrs the contracts they failed to
	// close for a reason other than a rule, and whole closes that failed.
	closes, closeErrs int
	closeClasses      map[string]int
	// slowest is the longest keyed call (a batch counts as one);
	// slowestClose the longest monthly close.
	slowest, slowestClose time.Duration
	// lastOKStart is the start (unix ns) of the latest acknowledged call to
	// start: after a fault, the first one started past it shows recovery.
	lastOKStart atomic.Int64
}

func newFaultLog() *faultLog {
	return &faultLog{classes: map[string]int{}, samples: map[string]string{}, refusals: map[string]int{}, closeClasses: map[string]int{}}
}

func (l *faultLog) okStarted(at time.Time) {
	ns := at.UnixNano()
	for {
		cur := l.lastOKStart.Load()
		if cur >= ns || l.lastOKStart.CompareAndSwap(cur, ns) {
			return
		}
	}
}

func (l *faultLog) took(d time.Duration) {
	l.mu.Lock()
	if d > l.slowest {
		l.slowest = d
	}
	l.mu.Unlock()
}

func (l *faultLog) sample(class string, err error) {
	if strings.HasSuffix(class, "ok") || strings.HasSuffix(class, "refused") {
		return
	}
	if _, ok := l.samples[class]; !ok {
		l.samples[class] = err.Error()
	}
}

func (l *faultLog) add(o *faultOp) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ops = append(l.ops, o)
	class := o.class
	if o.noRetry {
		class = "noretry:" + class
	}
	l.classes[class]++
	l.sample(class, o.first)
	if o.refused {
		l.refusals[o.op+":"+refusalCode(o.first)]++
	}
}

// counts formats a map of counts in key order.
func counts(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, " %s=%d", k, m[k])
	}
	return strings.TrimSpace(b.String())
}

// callBound is how long one call may take; it is the call's context
// deadline, and a call that comes near it counts as hung.
const callBound = 20 * time.Second

// faultWorker is one worker of the fault workload: like bankStep, with every
// keyed request recorded.
type faultWorker struct {
	r       *region
	svc     *enrollment.Service
	noRetry bool // svc runs on a store that does not retry transactions
	log     *faultLog
	rng     *rand.Rand
	id      int
	seq     int
	certs   []uuid.UUID
	groups  []uuid.UUID
}

// step sends one request (or one batch of submissions, or one monthly
// close); it returns false when a request or the read that forms it failed,
// so that the worker backs off a little.
func (w *faultWorker) step() bool {
	cert := w.certs[w.rng.IntN(len(w.certs))]
	svc := w.svc
	var o *faultOp
	switch op := w.rng.IntN(100); {
	case op < 20:
		key := w.key()
		req := enrollment.SubmitRequest{CertificateID: cert, GroupID: w.groups[w.rng.IntN(len(w.groups))], By: enrollment.AsSystem("fault")}
		o = &faultOp{key: key, op: opSubmit, call: func(ctx context.Context) (enrollment.Contract, error) {
			return svc.Submit(ctx, key, req)
		}}
	case op < 28:
		return w.batch()
	case op < 98:
		ctx, cancel := context.WithTimeout(context.Background(), callBound)
		cab, err := svc.Cabinet(ctx, enrollment.AsSystem("test"), cert)
		cancel()
		if err != nil {
			w.log.mu.Lock()
			w.log.readErrs++
			w.log.sample("cabinet:"+faultClass(err), err)
			w.log.mu.Unlock()
			return false
		}
		if len(cab.Contracts) == 0 {
			return true
		}
		c := cab.Contracts[0] // the newest, mostly
		if w.rng.IntN(4) == 0 {
			c = cab.Contracts[w.rng.IntN(len(cab.Contracts))]
		}
		o = w.change(c)
	default:
		w.close()
		return true
	}
	return w.send(o)
}

func (w *faultWorker) key() string {
	w.seq++
	return fmt.Sprintf("fault-w%d-%d", w.id, w.seq)
}

// change picks a move of c, mostly one its status allows.
func (w *faultWorker) change(c enrollment.Contract) *faultOp {
	svc := w.svc
	key := w.key()
	req := enrollment.ContractRequest{ContractID: c.ID, By: enrollment.AsSystem("fault")}
	type move = func(context.Context, string, enrollment.ContractRequest) (enrollment.Contract, error)
	moves := map[string]move{
		opConfirm: svc.Confirm, opAccept: svc.Accept, opRefuse: svc.Refuse,
		opWithdraw: svc.Withdraw, opTerminate: svc.Terminate,
	}
	var name string
	p := w.rng.IntN(100)
	switch {
	case c.Status == enrollment.Requested && p < 60, p >= 95:
		name = opConfirm
	case c.Status == enrollment.Requested && p < 78, c.Status == enrollment.Accepted && p < 15:
		name = opRefuse
	case c.Status == enrollment.Requested, c.Status == enrollment.Accepted && p < 30:
		name = opWithdraw
	case c.Status == enrollment.Accepted:
		name = opAccept
	case c.Status == enrollment.Active && p < 35, p < 10:
		name = opTerminate
	case c.Status == enrollment.Refused, c.Status == enrollment.Withdrawn:
		name = opWithdraw // nothing left to do: a forbidden move
	default:
		month := funding.Month{Year: 2025, Month: time.September + time.Month(w.rng.IntN(2))}
		rep := enrollment.DeliveryReport{ContractRequest: req, Month: month, Percent: 10 * w.rng.IntN(11)}
		return &faultOp{key: key, op: opDelivery, call: func(ctx context.Context) (enrollment.Contract, error) {
			return svc.ReportDelivery(ctx, key, rep)
		}}
	}
	fn := moves[name]
	return &faultOp{key: key, op: name, call: func(ctx context.Context) (enrollment.Contract, error) {
		return fn(ctx, key, req)
	}}
}

// send makes the first call of o and records its outcome.
func (w *faultWorker) send(o *faultOp) bool {
	begin := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), callBound)
	res, err := o.call(ctx)
	cancel()
	w.log.took(time.Since(begin))
	w.outcome(o, begin, res, err)
	return o.class == "ok" || o.class == "refused"
}

func (w *faultWorker) outcome(o *faultOp, begin time.Time, res enrollment.Contract, err error) {
	o.first, o.class, o.noRetry = err, faultClass(err), w.noRetry
	switch o.class {
	case "ok":
		o.acked, o.result = true, res
		w.log.okStarted(begin)
	case "refused":
		o.refused = true
	}
	w.log.add(o)
}

// batch sends two to four submissions through batch.Submit; each is retried
// alone, through batch.Submit too, with its own key.
func (w *faultWorker) batch() bool {
	svc := w.svc
	items := make([]batch.Item, 2+w.rng.IntN(3))
	ops := make([]*faultOp, len(items))
	for i := range items {
		item := batch.Item{Key: w.key(), Request: enrollment.SubmitRequest{
			CertificateID: w.certs[w.rng.IntN(len(w.certs))], GroupID: w.groups[w.rng.IntN(len(w.groups))], By: enrollment.AsSystem("fault"),
		}}
		items[i] = item
		ops[i] = &faultOp{key: item.Key, op: opSubmit, batched: true, call: func(ctx context.Context) (enrollment.Contract, error) {
			res := batch.Submit(ctx, svc, []batch.Item{item})[0]
			return res.Contract, res.Err
		}}
	}
	begin := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), callBound)
	res := batch.Submit(ctx, svc, items)
	cancel()
	w.log.took(time.Since(begin))
	fine := true
	for i, o := range ops {
		w.outcome(o, begin, res[i].Contract, res[i].Err)
		fine = fine && (o.class == "ok" || o.class == "refused")
	}
	return fine
}

// close runs October's monthly close, contract by contract or a page at a
// time; it is not keyed: a rerun charges nothing twice.
func (w *faultWorker) close() {
	begin := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), callBound)
	oct := funding.Month{Year: 2025, Month: time.October}
	var rep enrollment.CloseReport
	var err error
	if w.rng.IntN(2) == 0 {
		rep, err = w.svc.CloseMonth(ctx, oct, nil)
	} else {
		rep, err = batch.CloseMonth(ctx, w.svc, oct, batch.CloseOptions{PageSize: 7})
	}
	cancel()
	took := time.Since(begin)
	w.log.mu.Lock()
	defer w.log.mu.Unlock()
	w.log.slowestClose = max(w.log.slowestClose, took)
	w.log.closes++
	prefix := "close:"
	if w.noRetry {
		prefix = "noretry:close:"
	}
	if err != nil && !isRefusal(err) {
		w.log.closeErrs++
		w.log.closeClasses[prefix+faultClass(err)]++
		w.log.sample(prefix+faultClass(err), err)
	}
	for _, e := range rep.Failed {
		if !isRefusal(e) {
			w.log.closeErrs++
			w.log.closeClasses[prefix+faultClass(e)]++
			w.log.sample(prefix+faultClass(e), e)
		}
	}
}

// retryCounter is a slog handler counting the store's retried transactions.
type retryCounter struct{ n *atomic.Int64 }

func (h retryCounter) Enabled(context.Context, slog.Level) bool { return true }
func (h retryCounter) Handle(_ context.Context, r slog.Record) error {
	if r.Message == "storage: retrying transaction" {
		h.n.Add(1)
	}
	return nil
}
func (h retryCounter) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h retryCounter) WithGroup(string) slog.Handler      { return h }

// laterStatuses is from with every status the state machine can reach from it.
func laterStatuses(from enrollment.Status) map[enrollment.Status]bool {
	seen := map[enrollment.Status]bool{from: true}
	queue := []enrollment.Status{from}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		for _, to := range enrollment.Statuses {
			if !seen[to] && enrollment.Transition(s, to) == nil {
				seen[to] = true
				queue = append(queue, to)
			}
		}
	}
	return seen
}
