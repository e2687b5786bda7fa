package pgfast

import (
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/edufund/edufund/funding"
	"github.com/edufund/edufund/storage/internal/schema"
)

// Binary row scanners for the statements that run on the pgx connection
// itself (the batch paths): the columns are listed in a fixed order and
// scanned by hand into the row structs, without bun's reflection or a text
// round trip. Each column list below goes with the scanner after it.

// rowScanner is a row of a result: pgx.Rows on a pgx connection, or
// *sql.Rows through database/sql (the batch under locks, in a bun
// transaction), whose driver hands pgx's values to the pgtype scanners.
type rowScanner interface {
	Scan(dest ...any) error
}

// pgDates converts scanned dates; the first infinite one is an error.
type pgDates struct{ err error }

func (d *pgDates) of(src pgtype.Date) schema.Date {
	if !src.Valid {
		return schema.Date{}
	}
	if src.InfinityModifier != pgtype.Finite {
		if d.err == nil {
			d.err = fmt.Errorf("storage: infinite date")
		}
		return schema.Date{}
	}
	return schema.Date(funding.DateOf(src.Time))
}

func pgTimeOf(t pgtype.Timestamptz) schema.Time {
	if !t.Valid {
		return schema.Time{}
	}
	return schema.Time(t.Time.UTC())
}

const pgCertificateCols = `id, number, scheme, person_id, full_name, birth_date, sex, citizenship, education, region,
	holder_municipality, registration, guardian_id, municipality, category, kind, status, issued_on, valid_until,
	protection_mode, passphrase_hash, failed_attempts, locked_until, documents_due_from, documents_uploaded_on, documents_valid_reason, uniq_year`

// scanCertificate scans pgCertificateCols and then extra.
func scanCertificate(rows rowScanner, extra ...any) (schema.Certificate, error) {
	var (
		r                               schema.Certificate
		id                              pgtype.UUID
		birth, issued, valid, due, docs pgtype.Date
		locked                          pgtype.Timestamptz
		failed, uniq                    int32
		d                               pgDates
	)
	dst := []any{&id, &r.Number, &r.Scheme, &r.PersonID, &r.FullName, &birth, &r.Sex, &r.Citizenship, &r.Education, &r.Region,
		&r.HolderMunicipality, &r.Registration, &r.GuardianID, &r.Municipality, &r.Category, &r.Kind, &r.Status, &issued, &valid,
		&r.ProtectionMode, &r.PassphraseHash, &failed, &locked, &due, &docs, &r.DocsValidReason, &uniq}
	if err := rows.Scan(append(dst, extra...)...); err != nil {
		return r, err
	}
	r.ID = id.Bytes
	r.BirthDate, r.IssuedOn, r.ValidUntil, r.DocsDueFrom, r.DocsUploadedOn = d.of(birth), d.of(issued), d.of(valid), d.of(due), d.of(docs)
	r.FailedAttempts, r.UniqYear = int(failed), int(uniq)
	r.LockedUntil = pgTimeOf(locked)
	if d.err != nil {
		return r, fmt.Errorf("storage: certificate %s: %w", uuid.UUID(r.ID), d.err)
	}
	return r, nil
}

// pgAccountCols are the stored columns of an account, as written.
const pgAccountCols = `certificate_id, period_start, period_end, nominal, balance, held, depleted, expired, fixed`

// scanAccount reads the columns of schema.PGAccountSelect.
func scanAccount(rows rowScanner, extra ...any) (schema.Account, error) {
	var (
		r          schema.Account
		id         pgtype.UUID
		start, end pgtype.Date
		d          pgDates
	)
	dst := []any{&id, &start, &end, &r.Nominal, &r.Balance, &r.Held, &r.Depleted, &r.Expired, &r.Fixed, &r.Reserved, &r.HoldsHeld}
	if err := rows.Scan(append(dst, extra...)...); err != nil {
		return r, err
	}
	r.CertificateID = id.Bytes
	r.PeriodStart, r.PeriodEnd = d.of(start), d.of(end)
	if d.err != nil {
		return r, fmt.Errorf("storage: account of %s: %w", uuid.UUID(r.CertificateID), d.err)
	}
	return r, nil
}

const pgContractCols = `id, certificate_id, group_id, module_id, program_id, provider_id, municipality, period_start, period_end, status,
	start_on, end_on, price_start, price_end, price_days, price_months, price_total, price_normative,
	price_cert, price_copay, price_first, price_other, price_cert_first, price_cert_other,
	price_copay_first, price_copay_other, hold_id, created_at, closed_on, prolonged_from,
	registry, direction, offered_on, activated_on, terminated_on, scheme`

func scanContract(rows rowScanner, extra ...any) (schema.Contract, error) {
	var (
		r                                                           schema.Contract
		id, cert, group, module, program, provider, hold, prolonged pgtype.UUID
		periodStart, periodEnd, start, end, priceStart, priceEnd    pgtype.Date
		closedOn, offeredOn, activatedOn, terminatedOn              pgtype.Date
		createdAt                                                   pgtype.Timestamptz
		days, months                                                int32
		d                                                           pgDates
	)
	dst := []any{&id, &cert, &group, &module, &program, &provider, &r.Municipality, &periodStart, &periodEnd, &r.Status,
		&start, &end, &priceStart, &priceEnd, &days, &months, &r.PriceTotal, &r.PriceNormative,
		&r.PriceCert, &r.PriceCoPay, &r.PriceFirst, &r.PriceOther, &r.PriceCertFirst, &r.PriceCertOther,
		&r.PriceCoPayFirst, &r.PriceCoPayOther, &hold, &createdAt, &closedOn, &prolonged,
		&r.Registry, &r.Direction, &offeredOn, &activatedOn, &terminatedOn, &r.Scheme}
	if err := rows.Scan(append(dst, extra...)...); err != nil {
		return r, err
	}
	r.ID, r.CertificateID, r.GroupID, r.ModuleID = id.Bytes, cert.Bytes, group.Bytes, module.Bytes
	r.ProgramID, r.ProviderID = program.Bytes, provider.Bytes
	r.HoldID, r.ProlongedFrom = schema.NullUUID(hold.Bytes), schema.NullUUID(prolonged.Bytes)
	r.PriceDays, r.PriceMonths = int(days), int(months)
	r.CreatedAt = pgTimeOf(createdAt)
	r.PeriodStart, r.PeriodEnd, r.Start, r.End = d.of(periodStart), d.of(periodEnd), d.of(start), d.of(end)
	r.PriceStart, r.PriceEnd, r.ClosedOn = d.of(priceStart), d.of(priceEnd), d.of(closedOn)
	r.OfferedOn, r.ActivatedOn, r.TerminatedOn = d.of(offeredOn), d.of(activatedOn), d.of(terminatedOn)
	if d.err != nil {
		return r, fmt.Errorf("storage: contract %s: %w", uuid.UUID(r.ID), d.err)
	}
	return r, nil
}

// pgOfferCols are the columns of offersFrom, one row per agreement of the
// group's provider (NULL agreement columns when it has none).
const pgOfferCols = `g.id, g.module_id, g.name, g.start_on, g.end_on, g.capacity, g.schedule,
	m.id, m.program_id, m.name, m.price, m.normative_price, m.hours, m.min_children, m.max_children,
	p.id, p.provider_id, p.name, p.scheme, p.direction, p.registry, p.min_age, p.max_age, p.certified, p.enrolment_open,
	p.municipality, p.enrolment_limit, p.competency_area, p.academic_hours,
	v.id, v.name, v.inn, v.municipality, v.enrolment_limit,
	ag.municipality, ag.period_start, ag.period_end`

const pgOffersFrom = ` FROM study_groups g
	JOIN modules m ON m.id = g.module_id
	JOIN programs p ON p.id = m.program_id
	JOIN providers v ON v.id = p.provider_id
	LEFT JOIN agreements ag ON ag.provider_id = v.id`

func scanOffer(rows rowScanner) (schema.Offer, error) {
	var (
		o                                          schema.Offer
		gid, gmod, mid, mprog, pid, pprov, vid     pgtype.UUID
		gstart, gend, agStart, agEnd               pgtype.Date
		gcap, mhours, mmin, mmax, pmin, pmax, plim int32
		phours, vlim                               int32
		agMun                                      pgtype.Text
		d                                          pgDates
	)
	err := rows.Scan(&gid, &gmod, &o.G.Name, &gstart, &gend, &gcap, &o.G.Schedule,
		&mid, &mprog, &o.M.Name, &o.M.Price, &o.M.NormativePrice, &mhours, &mmin, &mmax,
		&pid, &pprov, &o.P.Name, &o.P.Scheme, &o.P.Direction, &o.P.Registry, &pmin, &pmax, &o.P.Certified, &o.P.EnrolmentOpen,
		&o.P.Municipality, &plim, &o.P.CompetencyArea, &phours,
		&vid, &o.V.Name, &o.V.INN, &o.V.Municipality, &vlim,
		&agMun, &agStart, &agEnd)
	if err != nil {
		return o, err
	}
	o.G.ID, o.G.ModuleID, o.G.Start, o.G.End, o.G.Capacity = gid.Bytes, gmod.Bytes, d.of(gstart), d.of(gend), int(gcap)
	o.M.ID, o.M.ProgramID, o.M.Hours, o.M.MinChildren, o.M.MaxChildren = mid.Bytes, mprog.Bytes, int(mhours), int(mmin), int(mmax)
	o.P.ID, o.P.ProviderID, o.P.MinAge, o.P.MaxAge, o.P.EnrolmentLimit, o.P.AcademicHours = pid.Bytes, pprov.Bytes, int(pmin), int(pmax), int(plim), int(phours)
	o.V.ID, o.V.EnrolmentLimit = vid.Bytes, int(vlim)
	if agMun.Valid {
		o.AgMun = &agMun.String
		o.AgStart, o.AgEnd = d.of(agStart), d.of(agEnd)
	}
	if d.err != nil {
		return o, fmt.Errorf("storage: group %s: %w", uuid.UUID(o.G.ID), d.err)
	}
	return o, nil
}

// pgTimestamptz is t as a parameter; the zero time is NULL.
func pgTimestamptz(t time.Time) pgtype.Timestamptz {
	return pgtype.Timestamptz{Time: t, Valid: !t.IsZero()}
}
