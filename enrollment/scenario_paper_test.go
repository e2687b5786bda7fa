package enrollment_test

import (
	"context"
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

// protect sets certificate id's protection mode directly in the store, as
// the holder would have.
func protect(t *testing.T, db *storage.DB, id uuid.UUID, mode certificate.ProtectionMode, passphrase string) {
	t.Helper()
	ctx := context.Background()
	storagetest.InTx(t, db, func(tx enrollment.Tx) error {
		c, err := tx.LockCertificate(ctx, id)
		if err != nil {
			return err
		}
		c.Protection = certificate.Protection{Mode: mode}
		if passphrase != "" {
			c.Protection.PassphraseHash = certificate.HashPassphrase(passphrase, []byte("0123456789abcdef"))
		}
		return tx.UpdateCertificate(ctx, c)
	})
}

// TestActivateOnPaper: a provider holding the signed paper application
// activates an application or an offer itself, under the certificate's
// protection mode, with Accept's charges and one event for the one status
// change; everything else is refused and leaves no trace.
func TestActivateOnPaper(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		r := storagetest.NewRegion(t, db, storagetest.RegionOptions{})
		r.At(2025, time.October, 6)
		parent := enrollment.AsHolder("parent-1")
		provider := enrollment.AsProvider(r.Provider.ID)
		signed := funding.MustDate(2025, time.October, 3)
		submit := func(kid certificate.Certificate) enrollment.Contract {
			c, err := r.Service.Submit(ctx, r.Key(), enrollment.SubmitRequest{CertificateID: kid.ID, GroupID: r.Group.ID, By: parent})
			require.NoError(t, err)
			return c
		}
		paper := func(c enrollment.Contract, kid certificate.Certificate, by enrollment.Caller) enrollment.PaperRequest {
			return enrollment.PaperRequest{ContractRequest: enrollment.ContractRequest{ContractID: c.ID, By: by},
				ApplicationNumber: "З-17", SignedOn: signed, Number: kid.Number, FullName: kid.Holder.FullName}
		}
		events := func(id uuid.UUID) []enrollment.EventType {
			return types(published(t, r, enrollment.EventFilter{ContractID: id}))
		}

		// The twin accepted online: the charges paper activation must match.
		twinKid := r.Child(0)
		twin := submit(twinKid)
		_, err := r.Service.Confirm(ctx, r.Key(), enrollment.ContractRequest{ContractID: twin.ID, By: provider})
		require.NoError(t, err)
		_, err = r.Service.Accept(ctx, r.Key(), enrollment.ContractRequest{ContractID: twin.ID, By: parent})
		require.NoError(t, err)

		kid := r.Child(1)
		c := submit(kid)
		// Forbidden (the default): the holder alone applies, and signs.
		_, err = r.Service.ActivateOnPaper(ctx, r.Key(), paper(c, kid, provider))
		require.ErrorIs(t, err, certificate.ErrProviderApplicationsForbidden)

		protect(t, db, kid.ID, certificate.ByName, "")
		bad := []struct {
			name string
			edit func(p *enrollment.PaperRequest)
			want error
		}{
			{"wrong name", func(p *enrollment.PaperRequest) { p.FullName = "Петров Иван" }, certificate.ErrProtectionMismatch},
			{"wrong number", func(p *enrollment.PaperRequest) { p.Number = "0000000000" }, certificate.ErrProtectionMismatch},
			{"no application number", func(p *enrollment.PaperRequest) { p.ApplicationNumber = " " }, funding.ErrInvalid},
			{"no signing day", func(p *enrollment.PaperRequest) { p.SignedOn = funding.Date{} }, funding.ErrInvalid},
			{"signed tomorrow", func(p *enrollment.PaperRequest) { p.SignedOn = funding.MustDate(2025, time.October, 7) }, funding.ErrInvalid},
			{"the holder", func(p *enrollment.PaperRequest) { p.By = parent }, enrollment.ErrForbidden},
			{"the auditor", func(p *enrollment.PaperRequest) { p.By = enrollment.AsAuditor("a") }, enrollment.ErrForbidden},
			{"another provider", func(p *enrollment.PaperRequest) { p.By = enrollment.AsProvider(uuid.Must(uuid.NewV7())) }, enrollment.ErrForbidden},
			{"no such contract", func(p *enrollment.PaperRequest) { p.ContractID = uuid.Must(uuid.NewV7()) }, enrollment.ErrNotFound},
		}
		for _, tt := range bad {
			p := paper(c, kid, provider)
			tt.edit(&p)
			_, err := r.Service.ActivateOnPaper(ctx, r.Key(), p)
			require.ErrorIs(t, err, tt.want, tt.name)
		}
		require.Equal(t, []enrollment.EventType{enrollment.ContractRequested}, events(c.ID))

		// Requested → Active in one step: one event, Accept's charges.
		key := r.Key()
		got, err := r.Service.ActivateOnPaper(ctx, key, paper(c, kid, provider))
		require.NoError(t, err)
		require.Equal(t, enrollment.Active, got.Contract.Status)
		require.Equal(t, r.Service.Today(), got.Contract.ActivatedOn)
		require.Equal(t, r.Service.Today(), got.Contract.OfferedOn)
		require.Equal(t, enrollment.PaperApplication{ContractID: c.ID, ProviderID: r.Provider.ID, Number: "З-17", SignedOn: signed,
			RecordedAt: r.Clock.T, Actor: provider.Actor()}, got.Paper)
		again, err := r.Service.ActivateOnPaper(ctx, key, paper(c, kid, provider))
		require.NoError(t, err)
		require.Equal(t, got.Contract.ID, again.Contract.ID)
		require.Equal(t, []enrollment.EventType{enrollment.ContractRequested, enrollment.ContractActivated}, events(c.ID))
		require.Equal(t, r.Money(twinKid.ID).Spent, r.Money(kid.ID).Spent)
		require.True(t, r.Money(kid.ID).Spent.IsPositive())
		stored, err := r.Service.PaperApplication(ctx, parent, c.ID)
		require.NoError(t, err)
		require.Equal(t, got.Paper, stored)
		_, err = r.Service.PaperApplication(ctx, parent, twin.ID)
		require.ErrorIs(t, err, enrollment.ErrNotFound)
		// Active is not a paper path's start: a second paper is refused.
		_, err = r.Service.ActivateOnPaper(ctx, r.Key(), paper(c, kid, provider))
		require.ErrorIs(t, err, enrollment.ErrForbiddenTransition)

		// Accepted → Active, by passphrase; a wrong one counts.
		kid2 := r.Child(2)
		protect(t, db, kid2.ID, certificate.ByPassphrase, "секрет-42")
		c2 := submit(kid2)
		_, err = r.Service.Confirm(ctx, r.Key(), enrollment.ContractRequest{ContractID: c2.ID, By: provider})
		require.NoError(t, err)
		p2 := paper(c2, kid2, provider)
		p2.Passphrase = "не тот"
		_, err = r.Service.ActivateOnPaper(ctx, r.Key(), p2)
		require.ErrorIs(t, err, certificate.ErrWrongPassphrase)
		cab, err := r.Service.Cabinet(ctx, parent, kid2.ID)
		require.NoError(t, err)
		require.Equal(t, 1, cab.Certificate.Protection.FailedAttempts)
		p2.Passphrase = "секрет-42"
		got2, err := r.Service.ActivateOnPaper(ctx, r.Key(), p2)
		require.NoError(t, err)
		require.Equal(t, enrollment.Active, got2.Contract.Status)
		require.Equal(t, []enrollment.EventType{enrollment.ContractRequested, enrollment.ContractOffered, enrollment.ContractActivated}, events(c2.ID))
		require.Equal(t, r.Money(twinKid.ID).Spent, r.Money(kid2.ID).Spent)

		// A suspended certificate cannot sign on paper either.
		kid3 := r.Child(3)
		protect(t, db, kid3.ID, certificate.ByName, "")
		c3 := submit(kid3)
		_, err = r.Service.ChangeStatus(ctx, r.Key(), kid3.ID, enrollment.SuspendCertificate, enrollment.AsMunicipality(storagetest.Municipality))
		require.NoError(t, err)
		_, err = r.Service.ActivateOnPaper(ctx, r.Key(), paper(c3, kid3, provider))
		require.ErrorIs(t, err, enrollment.ErrCertificateNotActive)
		require.Equal(t, []enrollment.EventType{enrollment.ContractRequested}, events(c3.ID))
		storagetest.CheckInvariants(t, db)
	})
}

// TestSchedule: a child's week is the sessions of their active contracts'
// groups, by day and time, each with its place; the cabinet's readers
// read it, no one else.
func TestSchedule(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		r := storagetest.NewRegion(t, db, storagetest.RegionOptions{})
		parent := enrollment.AsHolder("parent-1")
		provider := enrollment.AsProvider(r.Provider.ID)
		sys := enrollment.AsSystem("test")
		mod2, err := r.Service.SaveModule(ctx, r.Key(), catalog.Module{ProgramID: r.Program.ID, Name: "Year 1b",
			Price: funding.MustMoney("900.00"), NormativePrice: funding.MustMoney("900.00"), Hours: 36}, sys)
		require.NoError(t, err)
		mod3, err := r.Service.SaveModule(ctx, r.Key(), catalog.Module{ProgramID: r.Program.ID, Name: "Year 1c",
			Price: funding.MustMoney("900.00"), NormativePrice: funding.MustMoney("900.00"), Hours: 36}, sys)
		require.NoError(t, err)
		g1 := r.Group
		g1.Sessions = []catalog.Session{{Weekday: 3, Start: "16:00", End: "17:30", Place: "каб. 12"}, {Weekday: 1, Start: "16:00", End: "17:30"}}
		g1, err = r.Service.SaveGroup(ctx, r.Key(), g1, sys)
		require.NoError(t, err)
		g2 := r.AddGroup(mod2, 10)
		g2.Address, g2.Schedule = "ул. Садовая, 5", "Пн 10:00"
		g2.Sessions = []catalog.Session{{Weekday: 1, Start: "10:00", End: "11:00"}}
		g2, err = r.Service.SaveGroup(ctx, r.Key(), g2, sys)
		require.NoError(t, err)
		g3 := r.AddGroup(mod3, 10)
		g3.Schedule = "по договорённости"
		g3, err = r.Service.SaveGroup(ctx, r.Key(), g3, sys)
		require.NoError(t, err)

		kid := r.Child(1)
		activate := func(g catalog.Group) enrollment.Contract {
			c, err := r.Service.Submit(ctx, r.Key(), enrollment.SubmitRequest{CertificateID: kid.ID, GroupID: g.ID, By: parent})
			require.NoError(t, err)
			_, err = r.Service.Confirm(ctx, r.Key(), enrollment.ContractRequest{ContractID: c.ID, By: provider})
			require.NoError(t, err)
			c, err = r.Service.Accept(ctx, r.Key(), enrollment.ContractRequest{ContractID: c.ID, By: parent})
			require.NoError(t, err)
			return c
		}
		w, err := r.Service.Schedule(ctx, parent, kid.ID)
		require.NoError(t, err)
		require.Empty(t, w.Lessons)
		k1 := activate(g1)
		k2 := activate(g2)
		k3 := activate(g3)
		// An application not yet active is not in the week.
		mod4, err := r.Service.SaveModule(ctx, r.Key(), catalog.Module{ProgramID: r.Program.ID, Name: "Year 1d",
			Price: funding.MustMoney("900.00"), NormativePrice: funding.MustMoney("900.00"), Hours: 36}, sys)
		require.NoError(t, err)
		g4 := r.AddGroup(mod4, 10)
		g4.Sessions = []catalog.Session{{Weekday: 2, Start: "12:00", End: "13:00"}}
		g4, err = r.Service.SaveGroup(ctx, r.Key(), g4, sys)
		require.NoError(t, err)
		_, err = r.Service.Submit(ctx, r.Key(), enrollment.SubmitRequest{CertificateID: kid.ID, GroupID: g4.ID, By: parent})
		require.NoError(t, err)
		other := r.Child(2)

		w, err = r.Service.Schedule(ctx, parent, kid.ID)
		require.NoError(t, err)
		type row struct {
			day          int
			start, place string
			contract     uuid.UUID
		}
		var got []row
		for _, l := range w.Lessons {
			got = append(got, row{l.Weekday, l.Start, l.Place, l.ContractID})
			require.Equal(t, r.Program.Name, l.Program)
			require.Equal(t, r.Provider.Name, l.Provider)
		}
		require.Equal(t, []row{
			{1, "10:00", "ул. Садовая, 5", k2.ID},   // the group's address
			{1, "16:00", r.Provider.Address, k1.ID}, // the provider's
			{3, "16:00", "каб. 12", k1.ID},
		}, got)
		require.Equal(t, []enrollment.Unscheduled{{ContractID: k3.ID, Group: g3.Name, Program: r.Program.Name,
			Provider: r.Provider.Name, Schedule: "по договорённости"}}, w.Unscheduled)

		ow, err := r.Service.Schedule(ctx, parent, other.ID)
		require.NoError(t, err)
		require.Empty(t, ow.Lessons)
		_, err = r.Service.Schedule(ctx, enrollment.AsAuditor("a"), kid.ID)
		require.NoError(t, err)
		for _, by := range []enrollment.Caller{enrollment.AsHolder("stranger"), provider} {
			_, err = r.Service.Schedule(ctx, by, kid.ID)
			require.ErrorIs(t, err, enrollment.ErrNotFound, by.Role)
		}
		_, err = r.Service.Schedule(ctx, parent, uuid.Must(uuid.NewV7()))
		require.ErrorIs(t, err, enrollment.ErrNotFound)

		// A group's sessions are checked where the group is saved.
		g1.Sessions = []catalog.Session{{Weekday: 8, Start: "16:00", End: "17:00"}}
		_, err = r.Service.SaveGroup(ctx, r.Key(), g1, sys)
		require.ErrorIs(t, err, funding.ErrInvalid)
	})
}
