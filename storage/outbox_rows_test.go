package storage_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/storage"
	"github.com/edufund/edufund/storage/storagetest"
)

// TestRelayWrites: what the relay writes reads back as written on every
// store. Notifications keep texts with the characters an array literal
// quotes (quotes, backslashes, braces, commas, the word NULL), absent ids
// as absent, times to the microsecond, and a repeat of one is skipped;
// events are numbered by id, every one of a page at once, and numbering one
// again fails the page.
func TestRelayWrites(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		at := time.Date(2026, 3, 1, 9, 30, 15, 123456789, time.UTC)
		events := make([]enrollment.Event, 3)
		for i := range events {
			events[i] = enrollment.Event{ID: uuid.Must(uuid.NewV7()), Type: enrollment.CertificateIssued, At: at, Actor: "system:test",
				CertificateID: uuid.Must(uuid.NewV7()), Municipality: storagetest.Municipality, Payload: []byte(`{}`)}
		}
		require.NoError(t, db.InTx(ctx, func(ctx context.Context, tx enrollment.Tx) error {
			for _, e := range events {
				if err := tx.AppendEvent(ctx, e); err != nil {
					return err
				}
			}
			return nil
		}))
		who := enrollment.Recipient{Role: enrollment.RoleHolder, ID: "holder-" + uuid.NewString()}
		texts := []string{`Заявка "Робототехника", {группа 1}`, `C:\путь\ и NULL`, `NULL`}
		var ns []enrollment.Notification
		for i, e := range events {
			n := enrollment.Notification{ID: uuid.Must(uuid.NewV7()), EventID: e.ID, Recipient: who, Type: e.Type, Text: texts[i], At: at.Add(time.Duration(i) * time.Second)}
			if i == 0 {
				n.CertificateID, n.ContractID = e.CertificateID, uuid.Must(uuid.NewV7())
			}
			ns = append(ns, n)
		}
		outbox := func(fn func(ob enrollment.OutboxTx) error) error {
			return db.InTx(ctx, func(ctx context.Context, tx enrollment.Tx) error { return fn(tx.(enrollment.OutboxTx)) })
		}
		require.NoError(t, outbox(func(ob enrollment.OutboxTx) error { return ob.AddNotifications(ctx, ns) }))
		again := ns[1]
		again.ID, again.Text = uuid.Must(uuid.NewV7()), "повтор"
		require.NoError(t, outbox(func(ob enrollment.OutboxTx) error { return ob.AddNotifications(ctx, []enrollment.Notification{again}) }),
			"a repeat for an event and recipient is skipped")

		got, err := db.Notifications(ctx, enrollment.NotificationFilter{Recipient: who, Limit: 10})
		require.NoError(t, err)
		require.Len(t, got, len(ns))
		byID := map[uuid.UUID]enrollment.Notification{}
		for _, n := range got {
			byID[n.ID] = n
		}
		for _, n := range ns {
			n.At = n.At.Truncate(time.Microsecond)
			assert.Equal(t, n, byID[n.ID])
		}

		for i := range events {
			events[i].Seq = 1_000_000 + int64(i)
		}
		require.NoError(t, outbox(func(ob enrollment.OutboxTx) error { return ob.PublishEvents(ctx, events) }))
		err = outbox(func(ob enrollment.OutboxTx) error { return ob.PublishEvents(ctx, events[1:2]) })
		assert.ErrorIs(t, err, enrollment.ErrNotFound, "an event is numbered once")
		page, err := db.Events(ctx, enrollment.EventFilter{After: 999_999, Limit: 10})
		require.NoError(t, err)
		var seqs []int64
		for _, e := range page {
			if e.Municipality == storagetest.Municipality && e.At.Equal(at.Truncate(time.Microsecond)) {
				seqs = append(seqs, e.Seq)
			}
		}
		assert.Equal(t, []int64{1_000_000, 1_000_001, 1_000_002}, seqs)
	})
}
