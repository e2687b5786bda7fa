package catalog_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/edufund/edufund/catalog"
)

// TestCertificationMoves holds the certification state machine: every
// allowed move, and every other pair of statuses (staying put included)
// refused with a *CertificationError naming both.
func TestCertificationMoves(t *testing.T) {
	allowed := map[[2]catalog.Certification]bool{
		{catalog.ProgramDraft, catalog.ProgramSubmitted}:     true, // the provider submits
		{catalog.ProgramSubmitted, catalog.ProgramCertified}: true, // the region certifies
		{catalog.ProgramSubmitted, catalog.ProgramDenied}:    true, // the region denies
		{catalog.ProgramSubmitted, catalog.ProgramWithdrawn}: true, // the provider takes it back
		{catalog.ProgramCertified, catalog.ProgramSubmitted}: true, // reviewed content changed
		{catalog.ProgramCertified, catalog.ProgramWithdrawn}: true, // out of the registry
		{catalog.ProgramDenied, catalog.ProgramSubmitted}:    true, // corrected and resubmitted
		{catalog.ProgramWithdrawn, catalog.ProgramSubmitted}: true, // submitted again
	}
	n := 0
	for _, from := range catalog.Certifications {
		for _, to := range catalog.Certifications {
			err := catalog.CertificationMove(from, to)
			if allowed[[2]catalog.Certification{from, to}] {
				require.NoError(t, err, "%s → %s", from, to)
				n++
				continue
			}
			var ce *catalog.CertificationError
			require.ErrorAs(t, err, &ce, "%s → %s must be forbidden", from, to)
			require.ErrorIs(t, err, catalog.ErrForbiddenTransition)
			require.Equal(t, catalog.CertificationError{From: from, To: to}, *ce)
		}
	}
	require.Equal(t, len(allowed), n)
	require.Error(t, catalog.CertificationMove("", catalog.ProgramSubmitted), "an unknown status moves nowhere")
	require.Error(t, catalog.CertificationMove(catalog.ProgramDraft, "approved"))
}

func TestCertificationOf(t *testing.T) {
	for _, tc := range []struct {
		p    catalog.Program
		want catalog.Certification
	}{
		{catalog.Program{}, catalog.ProgramDraft},
		{catalog.Program{Certified: true}, catalog.ProgramCertified}, // saved certified before statuses, or by the region
		{catalog.Program{Certification: catalog.ProgramDenied}, catalog.ProgramDenied},
		{catalog.Program{Certified: true, Certification: catalog.ProgramSubmitted}, catalog.ProgramSubmitted},
	} {
		require.Equal(t, tc.want, catalog.CertificationOf(tc.p), "%+v", tc.p)
	}
}

func TestReviewedContentDiffers(t *testing.T) {
	base := catalog.Program{Name: "Шахматы", Registry: catalog.Certified, MinAge: 5, MaxAge: 17, Description: "Текст", EnrolmentOpen: true}
	for _, tc := range []struct {
		name    string
		change  func(*catalog.Program)
		differs bool
	}{
		{"enrolment closed", func(p *catalog.Program) { p.EnrolmentOpen = false }, false},
		{"limit", func(p *catalog.Program) { p.EnrolmentLimit = 10 }, false},
		{"annotation", func(p *catalog.Program) { p.Annotation = "Коротко" }, false},
		{"tags", func(p *catalog.Program) { p.Tags = []string{"шахматы"} }, false},
		{"name", func(p *catalog.Program) { p.Name = "Шашки" }, true},
		{"registry", func(p *catalog.Program) { p.Registry = catalog.General }, true},
		{"ages", func(p *catalog.Program) { p.MaxAge = 18 }, true},
		{"description", func(p *catalog.Program) { p.Description = "Другой текст" }, true},
		{"goals", func(p *catalog.Program) { p.Goals = "Цели" }, true},
	} {
		q := base
		tc.change(&q)
		require.Equal(t, tc.differs, catalog.ReviewedContentDiffers(base, q), tc.name)
	}
}
