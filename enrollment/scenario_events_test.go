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

	"github.com/edufund/edufund/catalog"
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
	return feed(t, r, f)
}

// feed reads the events f selects, read by the system, without running
// the relay.
func feed(t *testing.T, r *storagetest.Region, f enrollment.EventFilter) []enrollment.Event {
	t.Helper()
	var out []enrollment.Event
	for {
		f.Limit = enrollment.MaxEvents
		es, err := r.Service.Events(context.Background(), sys, f)
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

		// A raised cap funds the queue at once.
		third, err := r.Service.Issue(ctx, r.Key(), enrollment.IssueRequest{Holder: holder(3), GuardianID: "parent-1", Category: "one", Funded: true, By: sys})
		require.NoError(t, err)
		require.True(t, third.Queued)
		_, err = r.Service.SaveCategory(ctx, r.Key(), certificate.Category{Code: "one", Nominal: funding.MustMoney("1000.00"), MaxCount: 2}, sys)
		require.NoError(t, err)
		es = published(t, r, enrollment.EventFilter{CertificateID: third.Certificate.ID})
		require.Equal(t, []enrollment.EventType{enrollment.CertificateIssued, enrollment.CertificateQueued, enrollment.CertificatePromoted}, types(es))
		require.Equal(t, "1000.00", r.Money(third.Certificate.ID).Nominal.String())
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

// TestEveryEventKind walks a region through every change that produces
// an event and holds what the feed shows against EventTypes: a kind added
// without a change that produces it here fails, and so does a change that
// stops producing its event.
func TestEveryEventKind(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		r := storagetest.NewRegion(t, db, storagetest.RegionOptions{}) // a category, a provider
		must := func(_ any, err error) {
			t.Helper()
			require.NoError(t, err)
		}
		parent, provider := enrollment.AsHolder("parent-1"), enrollment.AsProvider(r.Provider.ID)
		mun := enrollment.AsMunicipality(storagetest.Municipality)
		must(r.Service.SetDirectionLimit(ctx, r.Key(), enrollment.DirectionLimitRequest{Municipality: storagetest.Municipality,
			Direction: r.Program.Direction, Period: storagetest.Autumn, Limit: 100, By: mun}))
		must(r.Service.SetParameter(ctx, r.Key(), enrollment.ParameterRequest{Name: "child_hour_cost", From: r.Service.Today(), Value: "120.00", Reason: "test", By: sys}))
		must(r.Service.Subscribe(ctx, r.Key(), enrollment.SubscriptionRequest{URL: "https://accounting.example.ru/hook", Secret: strings.Repeat("s", 32),
			Scope: enrollment.Recipient{Role: enrollment.RoleMunicipality, ID: storagetest.Municipality}, By: enrollment.AsRegional("op")}))
		// An organisation authorised by the municipality, then revoked.
		granted, err := r.Service.Authorise(ctx, r.Key(), enrollment.AuthoriseRequest{OrganisationID: uuid.Must(uuid.NewV7()), Name: "МФЦ",
			Municipality: storagetest.Municipality, From: r.Service.Today(), By: mun})
		require.NoError(t, err)
		must(r.Service.RevokeAuthorisation(ctx, r.Key(), granted.ID, mun))

		// Children: queued and promoted in a category of one place.
		must(r.Service.SaveCategory(ctx, r.Key(), certificate.Category{Code: "one", Nominal: funding.MustMoney("1000.00"), MaxCount: 1}, sys))
		first := r.ChildIn(1, "one")
		must(r.Service.Issue(ctx, r.Key(), enrollment.IssueRequest{Holder: holder(2), GuardianID: "parent-1", Category: "one", Funded: true, By: sys}))
		must(r.Service.ChangeStatus(ctx, r.Key(), first.ID, enrollment.CancelCertificate, sys))

		// Contracts: one of each end, and a short one that is prolonged.
		kids := r.Children(4)
		apply := func(k certificate.Certificate, g uuid.UUID) enrollment.Contract {
			c, err := r.Service.Submit(ctx, r.Key(), enrollment.SubmitRequest{CertificateID: k.ID, GroupID: g, By: parent})
			require.NoError(t, err)
			return c
		}
		enrol := func(c enrollment.Contract) {
			must(r.Service.Confirm(ctx, r.Key(), enrollment.ContractRequest{ContractID: c.ID, By: provider}))
			must(r.Service.Accept(ctx, r.Key(), enrollment.ContractRequest{ContractID: c.ID, By: parent}))
		}
		must(r.Service.Refuse(ctx, r.Key(), enrollment.ContractRequest{ContractID: apply(kids[0], r.Group.ID).ID, By: provider, Reason: "Группа набрана"}))
		must(r.Service.Withdraw(ctx, r.Key(), enrollment.ContractRequest{ContractID: apply(kids[1], r.Group.ID).ID, By: parent}))
		ended := apply(kids[2], r.Group.ID)
		enrol(ended)
		must(r.Service.Terminate(ctx, r.Key(), enrollment.ContractRequest{ContractID: ended.ID, By: parent}))
		// A full group's waitlist: joined twice, offered the seat a
		// withdrawal frees, left by the other.
		wg := r.NewGroup(1)
		seat := apply(r.Child(20), wg.ID)
		waitFor(t, r, r.Child(21), wg.ID)
		must(r.Service.LeaveWaitlist(ctx, r.Key(), enrollment.WaitlistRequest{ID: waitFor(t, r, r.Child(22), wg.ID).ID, By: parent}))
		must(r.Service.Withdraw(ctx, r.Key(), enrollment.ContractRequest{ContractID: seat.ID, By: parent}))
		short, err := r.Service.SaveGroup(ctx, r.Key(), catalog.Group{ModuleID: r.Module.ID, Name: "autumn block",
			Start: funding.MustDate(2025, time.September, 1), End: funding.MustDate(2025, time.October, 31), Capacity: 5}, sys)
		require.NoError(t, err)
		next, err := r.Service.SaveGroup(ctx, r.Key(), catalog.Group{ModuleID: r.Module.ID, Name: "winter block",
			Start: funding.MustDate(2025, time.November, 1), End: funding.MustDate(2025, time.December, 31), Capacity: 5}, sys)
		require.NoError(t, err)
		prolonged := apply(kids[3], short.ID)
		enrol(prolonged)
		for _, m := range []time.Month{time.October, time.November} {
			r.At(2025, m, 1)
			must(r.Service.CloseMonth(ctx, funding.Month{Year: 2025, Month: m}, nil))
		}
		must(r.Service.Prolong(ctx, r.Key(), enrollment.ProlongRequest{ContractRequest: enrollment.ContractRequest{ContractID: prolonged.ID, By: provider}, GroupID: next.ID}))
		r.At(2025, time.November, 8)
		must(r.Service.AcceptBySilence(ctx))
		must(r.Service.ChangeStatus(ctx, r.Key(), kids[3].ID, enrollment.SuspendCertificate, mun))
		must(r.Service.ChangeStatus(ctx, r.Key(), kids[3].ID, enrollment.ResumeCertificate, mun))
		// The holder's protection: switched to a passphrase, then rotated.
		must(r.Service.SetProtection(ctx, r.Key(), enrollment.ProtectionRequest{CertificateID: kids[3].ID, Mode: certificate.ByPassphrase,
			Passphrase: "зелёный слон", By: parent}))
		must(r.Service.SetProtection(ctx, r.Key(), enrollment.ProtectionRequest{CertificateID: kids[3].ID, Mode: certificate.ByPassphrase,
			Passphrase: "синий кит 42", By: parent}))
		// A second guardian, linked by the first.
		must(r.Service.AddSecondGuardian(ctx, r.Key(), enrollment.SecondGuardianRequest{CertificateID: kids[3].ID, GuardianID: "second-guardian", By: parent}))

		// Certification: a draft submitted and denied, corrected and
		// resubmitted, certified, then withdrawn.
		draft, err := r.Service.SaveProgram(ctx, r.Key(), catalog.Program{Name: "Шахматы", Scheme: certificate.Supplementary,
			Direction: r.Program.Direction, Registry: catalog.Certified, MaxAge: 17}, provider)
		require.NoError(t, err)
		must(r.Service.SubmitProgram(ctx, r.Key(), draft.ID, provider))
		must(r.Service.DenyProgram(ctx, r.Key(), draft.ID, "Нет учебного плана", enrollment.AsRegional("op")))
		must(r.Service.SubmitProgram(ctx, r.Key(), draft.ID, provider))
		must(r.Service.CertifyProgram(ctx, r.Key(), draft.ID, enrollment.AsRegional("op")))
		must(r.Service.WithdrawProgram(ctx, r.Key(), draft.ID, provider))

		// An invoice accepted and paid by its municipality.
		invs, err := r.Service.Invoices(ctx, mun, funding.Month{Year: 2025, Month: time.October}, uuid.Nil)
		require.NoError(t, err)
		require.NotEmpty(t, invs)
		inv := enrollment.InvoiceRequest{Invoice: invs[0].Key(), By: mun}
		must(r.Service.AcceptInvoice(ctx, r.Key(), inv))
		must(r.Service.PayInvoice(ctx, r.Key(), inv))

		// The budget: set to what is used, the next application is
		// refused by it.
		b, err := r.Service.Budget(ctx, storagetest.Municipality, storagetest.Autumn)
		require.NoError(t, err)
		must(r.Service.SetBudget(ctx, r.Key(), enrollment.BudgetRequest{Municipality: storagetest.Municipality, Period: storagetest.Autumn,
			Limit: funding.Kopecks(b.Used), By: mun}))
		_, err = r.Service.Submit(ctx, r.Key(), enrollment.SubmitRequest{CertificateID: r.Child(9).ID, GroupID: r.NewGroup(5).ID, By: parent})
		require.ErrorIs(t, err, enrollment.ErrBudgetLimit)

		// Adults: issued with a deadline, one queued; an overdue one
		// cancelled promotes it; the year's end expires them.
		adult := func(i int) enrollment.IssueResult {
			res, err := r.Service.ApplyAdult(ctx, r.Key(), enrollment.AdultApplication{Holder: adultHolder(100 + i), By: sys})
			require.NoError(t, err)
			return res
		}
		r.At(2025, time.November, 10)
		var firstAdult enrollment.IssueResult
		for i := range 6 {
			if res := adult(i); i == 0 {
				firstAdult = res
			}
		}
		r.At(2025, time.December, 31)
		must(r.Service.CancelOverdue(ctx, r.Key(), firstAdult.Certificate.ID, enrollment.AsFederal("op")))
		r.At(2026, time.January, 2)
		must(r.Service.Rollover(ctx, storagetest.Autumn, nil))
		// The federal operator's review, once the region asks for it.
		must(r.Service.SetParameter(ctx, r.Key(), enrollment.ParameterRequest{Name: "adults.federal_review", From: r.Service.Today(),
			Value: "true", Reason: "тест", By: enrollment.AsFederal("op")}))
		reviewed := adult(50)
		must(r.Service.ReviewAdult(ctx, r.Key(), enrollment.ReviewRequest{CertificateID: reviewed.Certificate.ID, Approve: true, By: enrollment.AsFederal("op")}))

		seen := map[enrollment.EventType]int{}
		for _, e := range published(t, r, enrollment.EventFilter{}) {
			seen[e.Type]++
		}
		for _, k := range enrollment.EventTypes {
			require.Positive(t, seen[k], "no %s event", k)
			delete(seen, k)
		}
		require.Empty(t, seen, "events of kinds EventTypes does not list")
	})
}

// TestRelayLateEvent: the relay reads from a mark shortly before the last
// event it numbered, so that the numbered events' dead versions are not
// read again, and an event of a transaction that committed long after it
// was appended, behind the mark, is still numbered: at once when nothing
// is past the mark, and by a sweep within 64 runs while events keep
// coming; after the others, with the next seq.
func TestRelayLateEvent(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		r := storagetest.NewRegion(t, db, storagetest.RegionOptions{})
		r.Child(1)
		before := published(t, r, enrollment.EventFilter{})
		require.NotEmpty(t, before)
		// An event appended an hour ago by a transaction that commits now.
		appendAt := func(at time.Time) enrollment.Event {
			id := uuid.Must(uuid.NewV7())
			ms := uint64(at.UnixMilli())
			for i := range 6 {
				id[i] = byte(ms >> (40 - 8*i))
			}
			e := enrollment.Event{ID: id, Type: enrollment.BudgetSet, At: at, Actor: "test", Municipality: storagetest.Municipality, Payload: json.RawMessage(`{}`)}
			require.NoError(t, db.InTx(ctx, func(ctx context.Context, tx enrollment.Tx) error {
				return tx.(enrollment.EventTx).AppendEvent(ctx, e)
			}))
			return e
		}
		seqOf := func(id uuid.UUID) int64 {
			for _, e := range feed(t, r, enrollment.EventFilter{}) {
				if e.ID == id {
					return e.Seq
				}
			}
			return 0
		}

		// Nothing else to number: the run that finds nothing past the mark
		// reads from the start.
		late := appendAt(time.Now().Add(-time.Hour))
		rep, err := r.Service.Publish(ctx, 100)
		require.NoError(t, err)
		require.Equal(t, 1, rep.Events)
		require.Equal(t, before[len(before)-1].Seq+1, seqOf(late.ID))

		// Events keep coming: the runs number them past the mark, and a
		// sweep the late one.
		late = appendAt(time.Now().Add(-time.Hour))
		runs, lateSeq := 0, int64(0)
		for ; runs < 64 && lateSeq == 0; runs++ {
			e := appendAt(time.Now())
			rep, err := r.Service.Publish(ctx, 100)
			require.NoError(t, err)
			require.NotZero(t, rep.Events)
			lateSeq = seqOf(late.ID)
			require.NotZero(t, seqOf(e.ID), "the current event is numbered by the run after it")
		}
		require.NotZero(t, lateSeq, "the late event is numbered within a sweep's runs")
		require.Greater(t, runs, 1, "the runs read from the mark: the late event waits for a sweep")
		all := published(t, r, enrollment.EventFilter{})
		for i, e := range all {
			require.Equal(t, int64(i+1), e.Seq, "the feed has no gap and no repeat")
		}
	})
}
