package storage

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/uptrace/bun"

	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/storage/internal/schema"
)

// The outbox (enrollment/outbox.go) on both engines: events appended with
// the change, published by the relay, the notifications and deliveries it
// derives. Triggers of migration 00025 keep events append-only: the relay
// may only give an unpublished event its seq.

var (
	_ enrollment.OutboxTx = (*tx)(nil)
	_ enrollment.Feed     = (*DB)(nil)
)

func (t *tx) AppendEvent(ctx context.Context, e enrollment.Event) error {
	return t.insertNew(ctx, schema.FromEvent(e), "append event")
}

func (t *tx) Event(ctx context.Context, id uuid.UUID) (enrollment.Event, error) {
	var r schema.Event
	if err := t.tx.NewSelect().Model(&r).Where("id = ?", id).Scan(ctx); err != nil {
		return enrollment.Event{}, t.read(err, "event", id)
	}
	return r.Domain(), nil
}

// UnpublishedEvents reads through events_unpublished_idx, a partial index
// holding only the events the relay has still to number (and, until the
// table is vacuumed, the numbered ones' dead versions: from skips them).
func (t *tx) UnpublishedEvents(ctx context.Context, from uuid.UUID, limit int) ([]enrollment.Event, error) {
	var rows []schema.Event
	q := t.tx.NewSelect().Model(&rows).Where("seq IS NULL")
	if from != uuid.Nil {
		q = q.Where("id >= ?", from)
	}
	// On PostgreSQL a plain index scan, not a bitmap one (the planner's
	// choice for the few rows it expects): it marks the dead versions it
	// passes, so later reads skip them without visiting the table and the
	// index reuses their room instead of growing until the table is
	// vacuumed. The portable profile leaves planner settings out.
	plain := t.pg() && !t.db.portable
	if plain {
		if _, err := t.tx.ExecContext(ctx, relayScan); err != nil {
			return nil, t.read(err, "unpublished events", "")
		}
	}
	if err := q.OrderExpr("id").Limit(int64(limit)).Scan(ctx); err != nil {
		return nil, t.read(err, "unpublished events", "")
	}
	if plain {
		if _, err := t.tx.ExecContext(ctx, "SET LOCAL enable_bitmapscan = DEFAULT"); err != nil {
			return nil, t.read(err, "unpublished events", "")
		}
	}
	return eventsOf(rows), nil
}

// PublishEvents numbers a page of events in one statement per
// publishChunk (one per event made the relay a fifth of the server's CPU).
func (t *tx) PublishEvents(ctx context.Context, es []enrollment.Event) error {
	for part := range slices.Chunk(es, publishChunk) {
		res, err := t.publish(ctx, part)
		if err != nil {
			return t.write(err, "publish events")
		}
		if n, err := res.RowsAffected(); err != nil {
			return t.write(err, "publish events")
		} else if int(n) != len(part) {
			return fmt.Errorf("storage: publish events: %d of %d unpublished: %w", n, len(part), enrollment.ErrNotFound)
		}
	}
	return nil
}

// publish numbers the events es in one statement. On PostgreSQL it finds
// each by its key in an array: a CASE of a WHEN an event compares every
// row with every WHEN, and its text is parsed anew each time (a page of
// 500 in a transaction with its 1,000 notifications: 7.5–8.9 ms against
// 10.3–11.9). SQLite numbers a page by the CASE in 9–12 ms, and by a join
// with a VALUES list in 21–23, so it keeps the CASE; so does the portable
// profile, whose serializable transactions were measured with it.
func (t *tx) publish(ctx context.Context, es []enrollment.Event) (sql.Result, error) {
	if t.pg() && !t.db.portable {
		ids, seqs := make([]pgtype.UUID, len(es)), make([]int64, len(es))
		for i, e := range es {
			ids[i], seqs[i] = pgtype.UUID{Bytes: e.ID, Valid: true}, e.Seq
		}
		return t.tx.Tx.ExecContext(ctx, `UPDATE events e SET seq = v.seq FROM unnest($1::uuid[], $2::bigint[]) AS v(id, seq)
			WHERE e.id = v.id AND e.seq IS NULL`, ids, seqs)
	}
	var b strings.Builder
	args := make([]any, 0, 2*len(es)+1)
	ids := make([]uuid.UUID, len(es))
	b.WriteString("UPDATE events SET seq = CASE id")
	for i, e := range es {
		b.WriteString(" WHEN ? THEN CAST(? AS bigint)")
		args = append(args, e.ID, e.Seq)
		ids[i] = e.ID
	}
	b.WriteString(" END WHERE id IN (?) AND seq IS NULL")
	args = append(args, bun.In(ids))
	return t.tx.NewRaw(b.String(), args...).Exec(ctx)
}

// relayScan is the relay's planner setting on PostgreSQL (UnpublishedEvents).
const relayScan = "SET LOCAL enable_bitmapscan = off"

// publishChunk bounds a numbering statement's arguments.
const publishChunk = 500

// Subjects is enrollment.OutboxTx.Subjects.
func (t *tx) Subjects(ctx context.Context, certIDs, contractIDs []uuid.UUID) (map[uuid.UUID]certificate.Certificate, map[uuid.UUID]string, error) {
	certs := make(map[uuid.UUID]certificate.Certificate, len(certIDs))
	programs := make(map[uuid.UUID]string, len(contractIDs))
	for part := range slices.Chunk(certIDs, publishChunk) {
		var rows []struct {
			ID         uuid.UUID `bun:"id"`
			Number     string    `bun:"number"`
			Scheme     string    `bun:"scheme"`
			GuardianID string    `bun:"guardian_id"`
			PersonID   string    `bun:"person_id"`
		}
		if err := t.tx.NewRaw("SELECT id, number, scheme, guardian_id, person_id FROM certificates WHERE id IN (?)", bun.In(part)).Scan(ctx, &rows); err != nil {
			return nil, nil, t.read(err, "certificates named by events", len(part))
		}
		for _, r := range rows {
			c := certificate.Certificate{ID: r.ID, Number: certificate.Number(r.Number), Scheme: certificate.Scheme(r.Scheme), GuardianID: r.GuardianID}
			c.Holder.PersonID = r.PersonID
			certs[r.ID] = c
		}
	}
	for part := range slices.Chunk(contractIDs, publishChunk) {
		var rows []struct {
			ID   uuid.UUID `bun:"id"`
			Name string    `bun:"name"`
		}
		if err := t.tx.NewRaw("SELECT c.id, p.name FROM contracts c JOIN programs p ON p.id = c.program_id WHERE c.id IN (?)", bun.In(part)).Scan(ctx, &rows); err != nil {
			return nil, nil, t.read(err, "contracts named by events", len(part))
		}
		for _, r := range rows {
			programs[r.ID] = r.Name
		}
	}
	return certs, programs, nil
}

func (t *tx) AddNotifications(ctx context.Context, ns []enrollment.Notification) error {
	if len(ns) == 0 {
		return nil
	}
	rows := make([]*schema.Notification, len(ns))
	for i, n := range ns {
		rows[i] = schema.FromNotification(n)
	}
	for _, part := range chunkOf(rows, 200) {
		if _, err := t.tx.NewInsert().Model(&part).On("CONFLICT DO NOTHING").Exec(ctx); err != nil {
			return t.write(err, "add notifications")
		}
	}
	return nil
}

func (t *tx) MarkRead(ctx context.Context, r enrollment.Recipient, ids []uuid.UUID, at time.Time) (int, error) {
	res, err := t.tx.NewUpdate().Model((*schema.Notification)(nil)).Set("read_at = ?", schema.Time(at)).
		Where("recipient_role = ? AND recipient_id = ?", string(r.Role), r.ID).
		Where("id IN (?)", bun.In(ids)).Where("read_at IS NULL").Exec(ctx)
	if err != nil {
		return 0, t.write(err, "mark read")
	}
	n, err := res.RowsAffected()
	return int(n), t.write(err, "mark read")
}

func (t *tx) SaveSubscription(ctx context.Context, s enrollment.Subscription) error {
	_, err := t.tx.NewInsert().Model(schema.FromSubscription(s)).On("CONFLICT (id) DO UPDATE").
		Set("url = EXCLUDED.url, secret = EXCLUDED.secret, types = EXCLUDED.types, active = EXCLUDED.active").Exec(ctx)
	if err != nil {
		return t.write(err, "save subscription")
	}
	if s.Active {
		return nil
	}
	// A removed subscription's deliveries still pending are given up.
	_, err = t.tx.NewUpdate().Model((*schema.Delivery)(nil)).Set("next_at = NULL").Set("last_error = ?", "subscription removed").
		Where("subscription_id = ? AND next_at IS NOT NULL", s.ID).Exec(ctx)
	return t.write(err, "save subscription")
}

func (t *tx) Subscription(ctx context.Context, id uuid.UUID) (enrollment.Subscription, error) {
	var r schema.Subscription
	if err := t.tx.NewSelect().Model(&r).Where("id = ?", id).Scan(ctx); err != nil {
		return enrollment.Subscription{}, t.read(err, "subscription", id)
	}
	return r.Domain(), nil
}

func (t *tx) ActiveSubscriptions(ctx context.Context) ([]enrollment.Subscription, error) {
	var rows []schema.Subscription
	if err := t.tx.NewSelect().Model(&rows).Where("active").OrderExpr("id").Scan(ctx); err != nil {
		return nil, t.read(err, "subscriptions", "")
	}
	out := make([]enrollment.Subscription, len(rows))
	for i := range rows {
		out[i] = rows[i].Domain()
	}
	return out, nil
}

func (t *tx) AddDeliveries(ctx context.Context, ds []enrollment.Delivery) error {
	if len(ds) == 0 {
		return nil
	}
	rows := make([]*schema.Delivery, len(ds))
	for i, d := range ds {
		rows[i] = schema.FromDelivery(d)
	}
	for _, part := range chunkOf(rows, 200) {
		if _, err := t.tx.NewInsert().Model(&part).On("CONFLICT DO NOTHING").Exec(ctx); err != nil {
			return t.write(err, "add deliveries")
		}
	}
	return nil
}

// ClaimDeliveries leases the due deliveries, oldest event first. On
// PostgreSQL the rows another sender has locked are skipped, so senders in
// several processes share the work; SQLite has one writer anyway.
func (t *tx) ClaimDeliveries(ctx context.Context, now, lease time.Time, limit int, busy []uuid.UUID) ([]enrollment.Delivery, error) {
	var rows []schema.Delivery
	q := t.tx.NewSelect().Model(&rows).Where("next_at IS NOT NULL AND next_at <= ?", schema.Time(now)).OrderExpr("seq").Limit(int64(limit))
	if len(busy) > 0 {
		q = q.Where("subscription_id NOT IN (?)", bun.In(busy))
	}
	if t.db.dialect == Postgres {
		q = q.For("UPDATE SKIP LOCKED")
	}
	if err := q.Scan(ctx); err != nil {
		return nil, t.read(err, "due deliveries", "")
	}
	out := make([]enrollment.Delivery, 0, len(rows))
	subs := map[uuid.UUID]enrollment.Subscription{}
	for _, r := range rows {
		d := r.Domain()
		sub, ok := subs[d.SubscriptionID]
		if !ok {
			var err error
			if sub, err = t.Subscription(ctx, d.SubscriptionID); err != nil {
				return nil, err
			}
			subs[d.SubscriptionID] = sub
		}
		ev, err := t.Event(ctx, d.EventID)
		if err != nil {
			return nil, err
		}
		d.Event, d.Subscription, d.NextAt = ev, sub, lease
		if err := t.SaveDelivery(ctx, d); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

func (t *tx) SaveDelivery(ctx context.Context, d enrollment.Delivery) error {
	r := schema.FromDelivery(d)
	res, err := t.tx.NewUpdate().Model(r).Column("attempts", "next_at", "delivered_at", "last_error").WherePK().Exec(ctx)
	return t.affected(res, err, "save delivery", fmt.Sprint(d.SubscriptionID, "/", d.EventID))
}

// Events reads the feed by seq: the published events f selects after its
// cursor, through the index of the one subject f names.
func (db *DB) Events(ctx context.Context, f enrollment.EventFilter) ([]enrollment.Event, error) {
	var rows []schema.Event
	err := db.withRetry(ctx, func() error {
		rows = nil
		q := db.bun.NewSelect().Model(&rows).Where("seq > ?", f.After)
		if len(f.Types) > 0 {
			ts := make([]string, len(f.Types))
			for i, t := range f.Types {
				ts[i] = string(t)
			}
			q = q.Where("type IN (?)", bun.In(ts))
		}
		if f.CertificateID != uuid.Nil {
			q = q.Where("certificate_id = ?", f.CertificateID)
		}
		if f.ContractID != uuid.Nil {
			q = q.Where("contract_id = ?", f.ContractID)
		}
		if f.ProviderID != uuid.Nil {
			q = q.Where("provider_id = ?", f.ProviderID)
		}
		if f.Municipality != "" {
			q = q.Where("municipality = ?", f.Municipality)
		}
		if f.Scheme != "" {
			q = q.Where("scheme = ?", string(f.Scheme))
		}
		if !f.From.IsZero() {
			q = q.Where("at >= ?", schema.Time(f.From))
		}
		if !f.To.IsZero() {
			q = q.Where("at < ?", schema.Time(f.To))
		}
		return q.OrderExpr("seq").Limit(int64(f.Limit)).Scan(ctx)
	})
	if err != nil {
		return nil, db.pagerErr(err, "events")
	}
	return eventsOf(rows), nil
}

// Notifications reads a recipient's notifications newest first through
// notifications_recipient_idx.
func (db *DB) Notifications(ctx context.Context, f enrollment.NotificationFilter) ([]enrollment.Notification, error) {
	var rows []schema.Notification
	err := db.withRetry(ctx, func() error {
		rows = nil
		q := db.bun.NewSelect().Model(&rows).Where("recipient_role = ? AND recipient_id = ?", string(f.Recipient.Role), f.Recipient.ID)
		if f.UnreadOnly {
			q = q.Where("read_at IS NULL")
		}
		if f.Before != uuid.Nil {
			q = q.Where("id < ?", f.Before)
		}
		return q.OrderExpr("id DESC").Limit(int64(f.Limit)).Scan(ctx)
	})
	if err != nil {
		return nil, db.pagerErr(err, "notifications")
	}
	out := make([]enrollment.Notification, len(rows))
	for i := range rows {
		out[i] = rows[i].Domain()
	}
	return out, nil
}

func eventsOf(rows []schema.Event) []enrollment.Event {
	out := make([]enrollment.Event, len(rows))
	for i := range rows {
		out[i] = rows[i].Domain()
	}
	return out
}
