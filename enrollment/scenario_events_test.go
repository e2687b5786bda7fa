package enrollment_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/funding"
	"github.com/edufund/edufund/storage"
	"github.com/edufund/edufund/storage/storagetest"
)

var sys = enrollment.AsSystem("test")

// published runs the relay until every committed event has its place and
// returns the events f selects, read by the system.
func published(t *testing.T, r *storagetest.Region, f enrollment.EventFilter) []enrollment.Event {
	t.Helper()
	ctx := context.Background()
	for {
		rep, err := r.Service.Publish(ctx, 100)
		require.NoError(t, err)
		if rep.Events == 0 {
			break
		}
	}
	var out []enrollment.Event
	for {
		f.Limit = enrollment.MaxEvents
		es, err := r.Service.Events(ctx, sys, f)
		require.NoError(t, err)
		out = append(out, es...)
		if len(es) < f.Limit {
			return out
		}
		f.After = es[len(es)-1].Seq
	}
}

// types are the events' types, in feed order.
func types(es []enrollment.Event) []enrollment.EventType {
	out := make([]enrollment.EventType, len(es))
	for i, e := range es {
		out[i] = e.Type
	}
	return out
}

// TestEventPerTransition: every status change of a contract and of a
// certificate is exactly one event, of its kind, in the transaction of the
// change, naming its subjects and tenants; a refused change leaves none.
func TestEventPerTransition(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		r := storagetest.NewRegion(t, db, storagetest.RegionOptions{})
		kid := r.Child(1)
		certEvents := published(t, r, enrollment.EventFilter{CertificateID: kid.ID})
		require.Equal(t, []enrollment.EventType{enrollment.CertificateIssued, enrollment.CertificateFunded, enrollment.CertificateActivated}, types(certEvents))
		for _, e := range certEvents {
			require.Equal(t, storagetest.Municipality, e.Municipality)
			require.Equal(t, certificate.Supplementary, e.Scheme)
			require.NotZero(t, e.Seq)
		}
		require.Equal(t, "operator", strings.TrimPrefix(certEvents[2].Actor, "system:"))

		parent := enrollment.AsHolder("parent-1")
		provider := enrollment.AsProvider(r.Provider.ID)
		contractEvents := func(id uuid.UUID) []enrollment.EventType {
			return types(published(t, r, enrollment.EventFilter{ContractID: id}))
		}
		// An application, confirmed, accepted, terminated, closed.
		c, err := r.Service.Submit(ctx, r.Key(), enrollment.SubmitRequest{CertificateID: kid.ID, GroupID: r.Group.ID, By: parent})
		require.NoError(t, err)
		es := published(t, r, enrollment.EventFilter{ContractID: c.ID})
		require.Len(t, es, 1)
		require.Equal(t, enrollment.ContractRequested, es[0].Type)
		require.Equal(t, r.Provider.ID, es[0].ProviderID)
		require.Equal(t, kid.ID, es[0].CertificateID)
		require.Equal(t, parent.Actor(), es[0].Actor)
		// A refusal by a rule changes nothing and leaves no event: the
		// module is taken already.
		_, err = r.Service.Submit(ctx, r.Key(), enrollment.SubmitRequest{CertificateID: kid.ID, GroupID: r.Group.ID, By: parent})
		require.ErrorIs(t, err, enrollment.ErrDuplicateModule)
		_, err = r.Service.Accept(ctx, r.Key(), enrollment.ContractRequest{ContractID: c.ID, By: parent})
		require.ErrorIs(t, err, enrollment.ErrForbiddenTransition)
		require.Len(t, published(t, r, enrollment.EventFilter{CertificateID: kid.ID, Types: []enrollment.EventType{enrollment.ContractRequested}}), 1)

		_, err = r.Service.Confirm(ctx, r.Key(), enrollment.ContractRequest{ContractID: c.ID, By: provider})
		require.NoError(t, err)
		_, err = r.Service.Accept(ctx, r.Key(), enrollment.ContractRequest{ContractID: c.ID, By: parent})
		require.NoError(t, err)
		_, err = r.Service.Terminate(ctx, r.Key(), enrollment.ContractRequest{ContractID: c.ID, By: parent})
		require.NoError(t, err)
		r.At(2025, time.October, 1)
		_, err = r.Service.CloseMonth(ctx, funding.Month{Year: 2025, Month: time.October}, nil)
		require.NoError(t, err)
		require.Equal(t, []enrollment.EventType{enrollment.ContractRequested, enrollment.ContractOffered, enrollment.ContractActivated,
			enrollment.ContractTerminating, enrollment.ContractClosed}, contractEvents(c.ID))

		// Refused with its reason, withdrawn.
		other := r.Child(2)
		refused, err := r.Service.Submit(ctx, r.Key(), enrollment.SubmitRequest{CertificateID: other.ID, GroupID: r.Group.ID, By: parent})
		require.NoError(t, err)
		_, err = r.Service.Refuse(ctx, r.Key(), enrollment.ContractRequest{ContractID: refused.ID, By: provider, Reason: "Группа набрана"})
		require.NoError(t, err)
		es = published(t, r, enrollment.EventFilter{ContractID: refused.ID})
		require.Equal(t, []enrollment.EventType{enrollment.ContractRequested, enrollment.ContractRefused}, types(es))
		require.Equal(t, "Группа набрана", es[1].Reason)
		withdrawn, err := r.Service.Submit(ctx, r.Key(), enrollment.SubmitRequest{CertificateID: other.ID, GroupID: r.NewGroup(5).ID, By: parent})
		require.NoError(t, err)
		_, err = r.Service.Withdraw(ctx, r.Key(), enrollment.ContractRequest{ContractID: withdrawn.ID, By: parent})
		require.NoError(t, err)
		require.Equal(t, []enrollment.EventType{enrollment.ContractRequested, enrollment.ContractWithdrawn}, contractEvents(withdrawn.ID))

		// An active contract ends with its certificate.
		third := r.Child(3)
		active, err := r.Service.Submit(ctx, r.Key(), enrollment.SubmitRequest{CertificateID: third.ID, GroupID: r.Group.ID, By: parent})
		require.NoError(t, err)
		_, err = r.Service.Confirm(ctx, r.Key(), enrollment.ContractRequest{ContractID: active.ID, By: provider})
		require.NoError(t, err)
		_, err = r.Service.Accept(ctx, r.Key(), enrollment.ContractRequest{ContractID: active.ID, By: parent})
		require.NoError(t, err)
		// Suspended, resumed, cancelled: its live contracts end with it.
		for _, a := range []enrollment.CertificateAction{enrollment.SuspendCertificate, enrollment.ResumeCertificate, enrollment.CancelCertificate} {
			_, err = r.Service.ChangeStatus(ctx, r.Key(), third.ID, a, enrollment.AsMunicipality(storagetest.Municipality))
			require.NoError(t, err)
		}
		es = published(t, r, enrollment.EventFilter{CertificateID: third.ID, Types: []enrollment.EventType{
			enrollment.CertificateSuspended, enrollment.CertificateResumed, enrollment.CertificateCancelled, enrollment.ContractTerminating, enrollment.ContractWithdrawn}})
		require.Equal(t, []enrollment.EventType{enrollment.CertificateSuspended, enrollment.CertificateResumed,
			enrollment.CertificateCancelled, enrollment.ContractTerminating}, types(es))
	})
}

// TestCertificateQueueEvents: a category without a free slot queues the
// certificate with its position, and a freed slot promotes it.
func TestCertificateQueueEvents(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		r := storagetest.NewRegion(t, db, storagetest.RegionOptions{})
		_, err := r.Service.SaveCategory(ctx, r.Key(), certificate.Category{Code: "one", Nominal: funding.MustMoney("1000.00"), MaxCount: 1}, sys)
		require.NoError(t, err)
		first := r.ChildIn(1, "one")
		res, err := r.Service.Issue(ctx, r.Key(), enrollment.IssueRequest{Holder: holder(2), GuardianID: "parent-1", Category: "one", Funded: true, By: sys})
		require.NoError(t, err)
		require.True(t, res.Queued)
		es := published(t, r, enrollment.EventFilter{CertificateID: res.Certificate.ID})
		require.Equal(t, []enrollment.EventType{enrollment.CertificateIssued, enrollment.CertificateQueued}, types(es))
		var p struct{ Position int }
		require.NoError(t, json.Unmarshal(es[1].Payload, &p))
		require.Equal(t, 1, p.Position)
		_, err = r.Service.ChangeStatus(ctx, r.Key(), first.ID, enrollment.CancelCertificate, sys)
		require.NoError(t, err)
		es = published(t, r, enrollment.EventFilter{CertificateID: res.Certificate.ID})
		require.Equal(t, enrollment.CertificatePromoted, es[len(es)-1].Type)
	})
}

func holder(i int) certificate.Holder {
	return certificate.Holder{PersonID: fmt.Sprintf("person-q%d-%s", i, uuid.NewString()[:8]), FullName: "Петров Иван", BirthDate: funding.MustDate(2015, time.March, 10),
		Sex: certificate.Male, Citizenship: "RU", Region: "reg-1", Municipality: storagetest.Municipality, Registration: certificate.Permanent}
}

// TestRelay: the relay numbers the feed without gaps in the order events
// became visible, words notifications for their recipients, and two
// relays at once never give one seq twice; the feed is narrowed to each
// caller's reach.
func TestRelay(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		r := storagetest.NewRegion(t, db, storagetest.RegionOptions{})
		kids := r.Children(6)
		var wg sync.WaitGroup
		errs := make(chan error, 64)
		for i := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 5 {
					if _, err := r.Service.Publish(ctx, 3); err != nil {
						errs <- err
					}
				}
			}()
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := r.Service.Submit(ctx, r.Key(), enrollment.SubmitRequest{CertificateID: kids[i].ID, GroupID: r.Group.ID, By: enrollment.AsHolder("parent-1")})
				if err != nil {
					errs <- err
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		all := published(t, r, enrollment.EventFilter{})
		for i, e := range all {
			require.Equal(t, int64(i+1), e.Seq, "the feed has no gap and no repeat")
		}
		requested := published(t, r, enrollment.EventFilter{Types: []enrollment.EventType{enrollment.ContractRequested}})
		require.Len(t, requested, 4)

		// Reach: the provider sees its contracts' events, another
		// municipality nothing, a holder is sent to the notifications.
		mine, err := r.Service.Events(ctx, enrollment.AsProvider(r.Provider.ID), enrollment.EventFilter{Limit: 100})
		require.NoError(t, err)
		require.Len(t, mine, 4+1) // its four applications and its registration
		none, err := r.Service.Events(ctx, enrollment.AsMunicipality("mun-2"), enrollment.EventFilter{Limit: 100})
		require.NoError(t, err)
		require.Empty(t, none)
		none, err = r.Service.Events(ctx, enrollment.AsMunicipality("mun-2"), enrollment.EventFilter{Limit: 100, Municipality: storagetest.Municipality})
		require.NoError(t, err)
		require.Empty(t, none, "a filter naming another's gives nothing")
		_, err = r.Service.Events(ctx, enrollment.AsHolder("parent-1"), enrollment.EventFilter{Limit: 100})
		require.ErrorIs(t, err, enrollment.ErrForbidden)

		// Notifications: the parent is told of each application, in Russian.
		ns, err := r.Service.Notifications(ctx, enrollment.AsHolder("parent-1"), enrollment.NotificationFilter{Limit: 100, UnreadOnly: true})
		require.NoError(t, err)
		var applied []enrollment.Notification
		for _, n := range ns {
			if n.Type == enrollment.ContractRequested {
				applied = append(applied, n)
			}
		}
		require.Len(t, applied, 4)
		require.Equal(t, "Заявка на программу «Robotics» подана и ждёт подтверждения организации.", applied[0].Text)
		pn, err := r.Service.Notifications(ctx, enrollment.AsProvider(r.Provider.ID), enrollment.NotificationFilter{Limit: 100})
		require.NoError(t, err)
		require.Len(t, pn, 4)
		// Marking another's notification read does nothing.
		n, err := r.Service.MarkRead(ctx, enrollment.AsHolder("parent-2"), []uuid.UUID{applied[0].ID})
		require.NoError(t, err)
		require.Zero(t, n)
		n, err = r.Service.MarkRead(ctx, enrollment.AsHolder("parent-1"), []uuid.UUID{applied[0].ID, applied[1].ID})
		require.NoError(t, err)
		require.Equal(t, 2, n)
		unread, err := r.Service.Notifications(ctx, enrollment.AsHolder("parent-1"), enrollment.NotificationFilter{Limit: 100, UnreadOnly: true})
		require.NoError(t, err)
		require.Len(t, unread, len(ns)-2)
	})
}

// TestEventsAppendOnly: the database refuses to change or remove an
// event, and to number one twice.
func TestEventsAppendOnly(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		r := storagetest.NewRegion(t, db, storagetest.RegionOptions{})
		r.Child(1)
		es := published(t, r, enrollment.EventFilter{})
		require.NotEmpty(t, es)
		for _, q := range []string{
			"UPDATE events SET actor = 'someone else'",
			"UPDATE events SET seq = seq + 1000",
			"DELETE FROM events",
		} {
			_, err := db.Bun().ExecContext(ctx, q)
			require.Error(t, err, q)
		}
		require.Equal(t, es, published(t, r, enrollment.EventFilter{}))
	})
}

// TestInvoiceEvents: a month's close announces the invoices it issued, once
// (a second run of the same close announces nothing), and the provider is
// told in Russian.
func TestInvoiceEvents(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		r := storagetest.NewRegion(t, db, storagetest.RegionOptions{})
		kid := r.Child(1)
		parent, provider := enrollment.AsHolder("parent-1"), enrollment.AsProvider(r.Provider.ID)
		c, err := r.Service.Submit(ctx, r.Key(), enrollment.SubmitRequest{CertificateID: kid.ID, GroupID: r.Group.ID, By: parent})
		require.NoError(t, err)
		_, err = r.Service.Confirm(ctx, r.Key(), enrollment.ContractRequest{ContractID: c.ID, By: provider})
		require.NoError(t, err)
		_, err = r.Service.Accept(ctx, r.Key(), enrollment.ContractRequest{ContractID: c.ID, By: parent})
		require.NoError(t, err)
		for _, m := range []time.Month{time.October, time.November} {
			r.At(2025, m, 1)
			for range 2 {
				_, err = r.Service.CloseMonth(ctx, funding.Month{Year: 2025, Month: m}, nil)
				require.NoError(t, err)
			}
		}
		es := published(t, r, enrollment.EventFilter{Types: []enrollment.EventType{enrollment.InvoiceIssued}})
		var got []string
		for _, e := range es {
			require.Equal(t, r.Provider.ID, e.ProviderID)
			var p struct{ Month, Kind string }
			require.NoError(t, json.Unmarshal(e.Payload, &p))
			got = append(got, p.Month+" "+p.Kind)
		}
		require.Equal(t, []string{"2025-10 advance", "2025-09 final", "2025-11 advance", "2025-10 final"}, got)
		ns, err := r.Service.Notifications(ctx, provider, enrollment.NotificationFilter{Limit: 50})
		require.NoError(t, err)
		var texts []string
		for _, n := range ns {
			if n.Type == enrollment.InvoiceIssued {
				texts = append(texts, n.Text)
			}
		}
		require.Len(t, texts, 4)
		require.Contains(t, texts, "Выставлен авансовый счёт за ноябрь 2025 на сумму 808,78\u00a0₽.")
	})
}
