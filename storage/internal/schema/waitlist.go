package schema

import (
	"encoding/json"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/funding"
)

// Waitlist is a waitlist row; request is the SubmitRequest as JSON.
type Waitlist struct {
	bun.BaseModel `bun:"table:waitlist"`

	ID            uuid.UUID `bun:"id,pk"`
	GroupID       uuid.UUID `bun:"group_id"`
	CertificateID uuid.UUID `bun:"certificate_id"`
	Seq           int64     `bun:"seq"`
	Status        string    `bun:"status"`
	Request       string    `bun:"request"`
	ContractID    uuid.UUID `bun:"contract_id"`
	Deadline      Date      `bun:"deadline"`
	Reason        string    `bun:"reason"`
	CreatedAt     Time      `bun:"created_at,notnull"`
}

// FromWaitlist is e as a row.
func FromWaitlist(e enrollment.WaitlistEntry) (*Waitlist, error) {
	req, err := json.Marshal(e.Request)
	if err != nil {
		return nil, err
	}
	return &Waitlist{ID: e.ID, GroupID: e.GroupID, CertificateID: e.CertificateID, Seq: e.Seq, Status: string(e.Status),
		Request: string(req), ContractID: e.ContractID, Deadline: Date(e.Deadline), Reason: e.Reason, CreatedAt: Time(e.CreatedAt)}, nil
}

// Domain is the entry the row holds.
func (r *Waitlist) Domain() (enrollment.WaitlistEntry, error) {
	e := enrollment.WaitlistEntry{ID: r.ID, GroupID: r.GroupID, CertificateID: r.CertificateID, Seq: r.Seq,
		Status: enrollment.WaitStatus(r.Status), ContractID: r.ContractID, Deadline: funding.Date(r.Deadline),
		Reason: r.Reason, CreatedAt: time.Time(r.CreatedAt).UTC()}
	return e, json.Unmarshal([]byte(r.Request), &e.Request)
}
