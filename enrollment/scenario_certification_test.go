package enrollment_test

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/edufund/edufund/catalog"
	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/funding"
	"github.com/edufund/edufund/storage"
	"github.com/edufund/edufund/storage/storagetest"
)

// TestProgramCertification walks a provider's program through the
// regional operator's review: a provider cannot certify its own program,
// a denied one is corrected and resubmitted, only a certified one takes
// applications in the certified registry, and a change of what was
// reviewed sends it back. Each move is an event the provider is told of.
func TestProgramCertification(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		r := storagetest.NewRegion(t, db, storagetest.RegionOptions{})
		provider, region := enrollment.AsProvider(r.Provider.ID), enrollment.AsRegional("op")
		read := func(id uuid.UUID) catalog.Program {
			t.Helper()
			var p catalog.Program
			require.NoError(t, db.InTx(ctx, func(ctx context.Context, tx enrollment.Tx) (err error) {
				p, err = tx.Program(ctx, id)
				return err
			}))
			return p
		}

		// The region's own program, saved certified, is certified.
		require.Equal(t, catalog.ProgramCertified, catalog.CertificationOf(read(r.Program.ID)))
		require.True(t, read(r.Program.ID).Certified)

		// A provider saying Certified is ignored: a draft, not enrollable.
		prog, err := r.Service.SaveProgram(ctx, r.Key(), catalog.Program{Name: "Шахматы", Scheme: certificate.Supplementary,
			Direction: catalog.SocialPedagogical, Registry: catalog.Certified, MaxAge: 17, Certified: true, EnrolmentOpen: true,
			Certification: catalog.ProgramCertified}, provider)
		require.NoError(t, err)
		require.Equal(t, catalog.ProgramDraft, catalog.CertificationOf(read(prog.ID)))
		require.False(t, read(prog.ID).Certified)
		mod, err := r.Service.SaveModule(ctx, r.Key(), catalog.Module{ProgramID: prog.ID, Name: "Год 1", Price: funding.MustMoney("3000.00"),
			NormativePrice: funding.MustMoney("3000.00"), Hours: 36}, provider)
		require.NoError(t, err)
		group := r.AddGroup(mod, 10)
		_, err = r.Service.Submit(ctx, r.Key(), enrollment.SubmitRequest{CertificateID: r.Child(1).ID, GroupID: group.ID, By: enrollment.AsHolder("parent-1")})
		require.ErrorIs(t, err, catalog.ErrNotCertified)

		// Found by its name, and listed by the navigator without one (a
		// draft was once listed when nothing was typed).
		found := func() int {
			t.Helper()
			page, err := r.Service.Search(ctx, enrollment.SearchRequest{Search: catalog.Search{Text: "шахматы"}})
			require.NoError(t, err)
			listed := 0
			for s := (catalog.Search{ProviderID: prog.ProviderID, Limit: 100}); ; {
				all, err := r.Service.Search(ctx, enrollment.SearchRequest{Search: s})
				require.NoError(t, err)
				for _, it := range all.Programs {
					if it.Program.ID == prog.ID {
						listed++
					}
				}
				if all.Next == nil {
					break
				}
				s.After = all.Next
			}
			require.Equal(t, page.Total, listed, "found by name and listed alike")
			return page.Total
		}
		require.Zero(t, found(), "a draft is not in the navigator")

		// Who may move what.
		other := enrollment.AsProvider(uuid.Must(uuid.NewV7()))
		for _, tc := range []struct {
			name string
			move func() error
			want error
		}{
			{"provider certifies", func() error { _, err := r.Service.CertifyProgram(ctx, r.Key(), prog.ID, provider); return err }, enrollment.ErrForbidden},
			{"provider denies", func() error { _, err := r.Service.DenyProgram(ctx, r.Key(), prog.ID, "нет", provider); return err }, enrollment.ErrForbidden},
			{"region submits", func() error { _, err := r.Service.SubmitProgram(ctx, r.Key(), prog.ID, region); return err }, enrollment.ErrForbidden},
			{"another provider submits", func() error { _, err := r.Service.SubmitProgram(ctx, r.Key(), prog.ID, other); return err }, enrollment.ErrForbidden},
			{"auditor certifies", func() error {
				_, err := r.Service.CertifyProgram(ctx, r.Key(), prog.ID, enrollment.AsAuditor("a"))
				return err
			}, enrollment.ErrForbidden},
			{"municipality certifies", func() error {
				_, err := r.Service.CertifyProgram(ctx, r.Key(), prog.ID, enrollment.AsMunicipality(storagetest.Municipality))
				return err
			}, enrollment.ErrForbidden},
			{"certify a draft", func() error { _, err := r.Service.CertifyProgram(ctx, r.Key(), prog.ID, region); return err }, catalog.ErrForbiddenTransition},
			{"withdraw a draft", func() error { _, err := r.Service.WithdrawProgram(ctx, r.Key(), prog.ID, provider); return err }, catalog.ErrForbiddenTransition},
			{"unknown program", func() error {
				_, err := r.Service.SubmitProgram(ctx, r.Key(), uuid.Must(uuid.NewV7()), provider)
				return err
			}, enrollment.ErrNotFound},
		} {
			require.ErrorIs(t, tc.move(), tc.want, tc.name)
		}
		require.Equal(t, catalog.ProgramDraft, catalog.CertificationOf(read(prog.ID)), "a refused move changes nothing")

		// Submitted, denied without and with a reason.
		_, err = r.Service.SubmitProgram(ctx, r.Key(), prog.ID, provider)
		require.NoError(t, err)
		_, err = r.Service.DenyProgram(ctx, r.Key(), prog.ID, "  ", region)
		var ve *funding.ValidationError
		require.ErrorAs(t, err, &ve)
		require.Equal(t, "reason", ve.Field)
		_, err = r.Service.DenyProgram(ctx, r.Key(), prog.ID, "Нет учебного плана", region)
		require.NoError(t, err)
		require.Equal(t, "Нет учебного плана", read(prog.ID).CertificationReason)
		_, err = r.Service.DenyProgram(ctx, r.Key(), prog.ID, "ещё раз", region)
		require.ErrorIs(t, err, catalog.ErrForbiddenTransition, "a denied program is not denied again")

		// Corrected: still denied, its reason kept, until resubmitted.
		fixed := read(prog.ID)
		fixed.Goals = "Учебный план:\nдебют, миттельшпиль, эндшпиль"
		fixed.Certified, fixed.CertificationReason = true, "подделка"
		_, err = r.Service.SaveProgram(ctx, r.Key(), fixed, provider)
		require.NoError(t, err)
		require.Equal(t, catalog.ProgramDenied, catalog.CertificationOf(read(prog.ID)))
		require.Equal(t, "Нет учебного плана", read(prog.ID).CertificationReason)
		_, err = r.Service.SubmitProgram(ctx, r.Key(), prog.ID, provider)
		require.NoError(t, err)
		cert, err := r.Service.CertifyProgram(ctx, r.Key(), prog.ID, region)
		require.NoError(t, err)
		require.True(t, cert.Certified)
		require.Equal(t, catalog.ProgramCertified, catalog.CertificationOf(read(prog.ID)))
		require.Empty(t, read(prog.ID).CertificationReason)
		_, err = r.Service.Submit(ctx, r.Key(), enrollment.SubmitRequest{CertificateID: r.Child(2).ID, GroupID: group.ID, By: enrollment.AsHolder("parent-1")})
		require.NoError(t, err, "a certified program takes applications")
		require.Equal(t, 1, found(), "a certified program is in the navigator")

		// Running the program keeps it certified; changing what was
		// reviewed sends it back; the region's own edit keeps it.
		run := read(prog.ID)
		run.Annotation, run.Tags, run.EnrolmentLimit = "Шахматы для всех", []string{"шахматы"}, 20
		_, err = r.Service.SaveProgram(ctx, r.Key(), run, provider)
		require.NoError(t, err)
		require.Equal(t, catalog.ProgramCertified, catalog.CertificationOf(read(prog.ID)))
		byRegion := read(prog.ID)
		byRegion.Name = "Шахматы и шашки"
		_, err = r.Service.SaveProgram(ctx, r.Key(), byRegion, region)
		require.NoError(t, err)
		require.Equal(t, catalog.ProgramCertified, catalog.CertificationOf(read(prog.ID)))
		changed := read(prog.ID)
		changed.MaxAge = 12
		_, err = r.Service.SaveProgram(ctx, r.Key(), changed, provider)
		require.NoError(t, err)
		require.Equal(t, catalog.ProgramSubmitted, catalog.CertificationOf(read(prog.ID)))
		require.False(t, read(prog.ID).Certified)
		_, err = r.Service.Submit(ctx, r.Key(), enrollment.SubmitRequest{CertificateID: r.Child(3).ID, GroupID: group.ID, By: enrollment.AsHolder("parent-1")})
		require.ErrorIs(t, err, catalog.ErrNotCertified, "no new applications until the region looked again")
		require.Zero(t, found(), "nor is one under review again")

		// Certified again, then withdrawn out of the registry; a
		// withdrawn program can be submitted again.
		_, err = r.Service.CertifyProgram(ctx, r.Key(), prog.ID, region)
		require.NoError(t, err)
		_, err = r.Service.WithdrawProgram(ctx, r.Key(), prog.ID, provider)
		require.NoError(t, err)
		require.False(t, read(prog.ID).Certified)
		_, err = r.Service.SubmitProgram(ctx, r.Key(), prog.ID, provider)
		require.NoError(t, err)

		// The provider was told of every move, in Russian.
		var types []enrollment.EventType
		for _, e := range published(t, r, enrollment.EventFilter{}) {
			if e.ProviderID == r.Provider.ID && e.ContractID == uuid.Nil {
				switch e.Type {
				case enrollment.ProgramSubmitted, enrollment.ProgramCertified, enrollment.ProgramDenied, enrollment.ProgramWithdrawn:
					types = append(types, e.Type)
				}
			}
		}
		require.Equal(t, []enrollment.EventType{enrollment.ProgramSubmitted, enrollment.ProgramDenied, enrollment.ProgramSubmitted,
			enrollment.ProgramCertified, enrollment.ProgramSubmitted, enrollment.ProgramCertified, enrollment.ProgramWithdrawn,
			enrollment.ProgramSubmitted}, types)
		ns, err := r.Service.Notifications(ctx, provider, enrollment.NotificationFilter{Limit: 100})
		require.NoError(t, err)
		var texts []string
		for _, n := range ns {
			switch n.Type {
			case enrollment.ProgramSubmitted, enrollment.ProgramCertified, enrollment.ProgramDenied, enrollment.ProgramWithdrawn:
				texts = append(texts, n.Text)
			}
		}
		for _, want := range []string{
			"Программа «Шахматы» направлена на сертификацию региональному оператору.",
			"В сертификации программы «Шахматы» отказано. Причина: Нет учебного плана. Исправьте программу и направьте её на сертификацию повторно.",
			"Программа «Шахматы и шашки» сертифицирована и включена в реестр сертифицированных программ.",
			"Содержание сертифицированной программы «Шахматы и шашки» изменено: программа направлена на повторную сертификацию и до её окончания не принимает новые заявки по сертификатам.",
			"Программа «Шахматы и шашки» отозвана и исключена из реестра сертифицированных программ.",
		} {
			require.Contains(t, texts, want)
		}
		require.Len(t, texts, 8)
	})
}
