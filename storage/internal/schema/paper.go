package schema

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/edufund/edufund/catalog"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/funding"
)

// PaperApplication is a paper_applications row: the signed paper
// application a provider activated a contract on.
type PaperApplication struct {
	bun.BaseModel `bun:"table:paper_applications"`

	ContractID uuid.UUID `bun:"contract_id,pk"`
	ProviderID uuid.UUID `bun:"provider_id"`
	Number     string    `bun:"number"`
	SignedOn   Date      `bun:"signed_on,notnull"`
	RecordedAt Time      `bun:"recorded_at,notnull"`
	Actor      string    `bun:"actor"`
}

// FromPaperApplication is p as a row.
func FromPaperApplication(p enrollment.PaperApplication) *PaperApplication {
	return &PaperApplication{ContractID: p.ContractID, ProviderID: p.ProviderID, Number: p.Number,
		SignedOn: Date(p.SignedOn), RecordedAt: Time(p.RecordedAt), Actor: p.Actor}
}

// Domain is the paper application the row holds.
func (r *PaperApplication) Domain() enrollment.PaperApplication {
	return enrollment.PaperApplication{ContractID: r.ContractID, ProviderID: r.ProviderID, Number: r.Number,
		SignedOn: funding.Date(r.SignedOn), RecordedAt: time.Time(r.RecordedAt).UTC(), Actor: r.Actor}
}

// session is a catalog.Session in the sessions column's JSON.
type session struct {
	Weekday int    `json:"weekday"`
	Start   string `json:"start"`
	End     string `json:"end"`
	Place   string `json:"place,omitempty"`
}

// sessionsText is a group's sessions as the sessions column holds them,
// '[]' for none. The sessions were validated by catalog.NewSessions, so
// they always encode.
func sessionsText(ss []catalog.Session) string {
	if len(ss) == 0 {
		return "[]"
	}
	rows := make([]session, len(ss))
	for i, s := range ss {
		rows[i] = session(s)
	}
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(rows)
	return strings.TrimSuffix(b.String(), "\n")
}

// sessionsOf reads the sessions column. Only sessionsText writes it (the
// column's default is '[]'), so text it cannot read is a corrupted row:
// it reads as no sessions rather than failing every read of the group's
// offers, and SessionsOK reports it to whoever checks.
func sessionsOf(text string) []catalog.Session {
	ss, _ := SessionsOK(text)
	return ss
}

// SessionsOK reads the sessions column, reporting text that is not a JSON
// array of sessions.
func SessionsOK(text string) ([]catalog.Session, error) {
	if text == "" || text == "[]" {
		return nil, nil
	}
	var rows []session
	if err := json.Unmarshal([]byte(text), &rows); err != nil {
		return nil, err
	}
	out := make([]catalog.Session, len(rows))
	for i, r := range rows {
		out[i] = catalog.Session(r)
	}
	return out, nil
}
