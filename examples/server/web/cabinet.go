package web

import (
	"cmp"
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/google/uuid"

	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/examples/server/api"
	"github.com/edufund/edufund/funding"
)

// The family's cabinet: the certificates a parent acts for (GET /cabinet)
// and one certificate's cabinet (GET /cabinet/{id}): its money, registries,
// queue, protection, notifications, applications and contracts. Which
// certificates are the caller's is the service's answer
// (Service.Certificates, Service.Cabinet), never the page's: another
// family's certificate does not exist for the reader.

func (h *handler) cabinetRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /cabinet", h.cabinetList)
	mux.HandleFunc("GET /cabinet/{id}", h.cabinet)
	mux.HandleFunc("POST /cabinet/{id}/protection", h.setProtection) // protection.go
}

// maxHolderCertificates bounds how many certificates a holder's lists
// read: a family has a few; the bound keeps a page's reads finite.
const maxHolderCertificates = 4 * enrollment.MaxListLimit

// holderCertificates are the certificates u acts for, as the service
// lists them: the children's first, then the adult's own; newest first
// within each.
func (h *handler) holderCertificates(ctx context.Context, u *user) ([]certificate.Certificate, error) {
	var out []certificate.Certificate
	f := enrollment.CertificateFilter{Limit: enrollment.MaxListLimit}
	for len(out) < maxHolderCertificates {
		page, err := h.cfg.Service.Certificates(ctx, u.Caller, f)
		if err != nil {
			return nil, err
		}
		out = append(out, page.Certificates...)
		if page.Next == uuid.Nil {
			break
		}
		f.After = page.Next
	}
	slices.SortStableFunc(out, func(a, b certificate.Certificate) int {
		return cmp.Compare(adultScheme(a), adultScheme(b))
	})
	return out, nil
}

// adultScheme is 1 for an adult's certificate, 0 for a child's: the
// order of a family's lists.
func adultScheme(c certificate.Certificate) int {
	if c.Scheme == certificate.DigitalSkills {
		return 1
	}
	return 0
}

// certLabel names a certificate in a list: "Иванов Михаил Петрович,
// сертификат № 1234567890".
func certLabel(c certificate.Certificate) string {
	return c.Holder.FullName + ", сертификат № " + string(c.Number)
}

// ---- the list ----

type cabinetListPage struct {
	Children, Adults []certCard
	// Elsewhere is the own area of a reader who is not a family, shown
	// instead of any certificate.
	Elsewhere *navLink
}

type certCard struct {
	URL, Name, Number, Status, Kind, Municipality, ValidUntil string
}

// family is the signed-in holder of a cabinet page; it answers r itself
// (the sign-in, or the page for another role) and returns nil otherwise.
func (h *handler) family(w http.ResponseWriter, r *http.Request) *user {
	u := h.signedIn(w, r, r.URL.RequestURI())
	if u == nil {
		return nil
	}
	if u.Caller.Role != enrollment.RoleHolder {
		// An official may read a certificate on their own pages; the
		// family's cabinet is not one of them.
		page := cabinetListPage{Elsewhere: &navLink{Href: "/", Label: "Навигатор"}}
		if m := menus[u.Principal.Role]; len(m) > 0 {
			page.Elsewhere = &m[0]
		}
		h.render(w, r, http.StatusForbidden, "cabinet_list", "Личный кабинет семьи", page)
		return nil
	}
	return u
}

func (h *handler) cabinetList(w http.ResponseWriter, r *http.Request) {
	u := h.family(w, r)
	if u == nil {
		return
	}
	// The switcher's form: a plain GET, turned into the certificate's
	// own address.
	if q := r.URL.Query(); q.Has("cert") {
		id, ok := parseID(q.Get("cert"))
		if !ok {
			h.cabinetNotFound(w, r)
			return
		}
		http.Redirect(w, r, "/cabinet/"+id.String(), http.StatusSeeOther)
		return
	}
	cs, err := h.holderCertificates(r.Context(), u)
	if err != nil {
		h.cabinetFailed(w, r, err)
		return
	}
	var page cabinetListPage
	for _, c := range cs {
		card := certCard{URL: "/cabinet/" + c.ID.String(), Name: c.Holder.FullName, Number: string(c.Number),
			Status: ruCertificateStatus(c.Status), Kind: ruKind(c), Municipality: h.municipalityName(c.Municipality), ValidUntil: ruDate(c.ValidUntil)}
		if c.Scheme == certificate.DigitalSkills {
			// The adult's certificate has its own page, with its documents;
			// its card says neither the kind nor a municipality, which the
			// section's heading and the scheme say.
			card.URL, card.Kind, card.Municipality = "/adult", "", ""
			page.Adults = append(page.Adults, card)
			continue
		}
		page.Children = append(page.Children, card)
	}
	h.render(w, r, http.StatusOK, "cabinet_list", "Мои сертификаты", page)
}

func (h *handler) cabinetNotFound(w http.ResponseWriter, r *http.Request) {
	h.fail(w, r, http.StatusNotFound, "Сертификат не найден",
		"Такого сертификата нет среди ваших. Откройте список своих сертификатов и выберите из него.")
}

// cabinetFailed shows a service error no part of the page can show.
func (h *handler) cabinetFailed(w http.ResponseWriter, r *http.Request, err error) {
	if _, bad := errors.AsType[*funding.ValidationError](err); bad || errors.Is(err, enrollment.ErrNotFound) {
		h.cabinetNotFound(w, r)
		return
	}
	if errors.Is(err, enrollment.ErrForbidden) {
		h.fail(w, r, http.StatusForbidden, "Нет доступа", "Этот сертификат вам недоступен.")
		return
	}
	h.serviceFailed(w, r, err)
}

// ---- one certificate ----

type cabinetPage struct {
	ID, Name, Number, Status, Kind, Category, Municipality string
	IssuedOn, ValidUntil, PeriodStart, PeriodEnd           string
	Adult, Funded                                          bool
	// Switch are the caller's certificates, this one selected; SwitchLabel
	// names the select.
	Switch      []option
	SwitchLabel string
	// Money is nil when the budget notice stands in for it, or for a
	// certificate with no money.
	Money        *cabinetMoney
	BudgetNotice string
	Hours        *cabinetHours
	Registries   []registryRow
	Position     int
	// Protection is the mode's name and what it means to a provider
	// applying for the family; Locked: wrong passphrases have locked it.
	Protection, ProtectionText string
	Locked                     bool
	// The holder's form to change it (protection.go): the modes, the
	// current one selected; its Idempotency-Key; the confirmation of a
	// change and the form's errors.
	ProtectionModes []option
	ProtectionKey   string
	ProtectionDone  string
	Errors          fieldErrors
	Notes           []noteView
	Contracts       []cabinetContract
	SearchURL       string
}

type cabinetMoney struct {
	Nominal, Usable, Balance, Reserved, Spent, Depleted, Expired string
}

type cabinetHours struct {
	Base, Extra, UsedBase, UsedExtra, FreeBase, FreeExtra int
}

type registryRow struct {
	Name, Used string
}

type noteView struct {
	Date, Text string
	// URL is the page of the contract the note is about.
	URL string
}

type cabinetContract struct {
	// Cert and CoPay are the amounts with their unit: a month's, or an
	// adult course's whole, paid once it is completed.
	URL, Program, Group, Status, Dates, Cert, CoPay string
}

// protectionNames name the protection modes and say what each lets a
// provider do on the family's behalf.
var protectionNames = map[certificate.ProtectionMode][2]string{
	certificate.Forbidden: {"заявки подаёте только вы",
		"Организация не может подать заявку по этому сертификату за вас: заявку подаёте вы сами, в личном кабинете."},
	certificate.ByName: {"по номеру и ФИО",
		"Организация может подать заявку за вас, если вы при ней назовёте номер сертификата и полностью фамилию, имя и отчество его получателя. Только организация, в которую по этому сертификату уже подавалась заявка."},
	certificate.ByPassphrase: {"по номеру и кодовому слову",
		"Организация может подать заявку за вас, если вы при ней назовёте номер сертификата и кодовое слово, которое вы задали. После нескольких неверных попыток подряд такие заявки на время блокируются."},
}

func (h *handler) cabinet(w http.ResponseWriter, r *http.Request) {
	u := h.family(w, r)
	if u == nil {
		return
	}
	id, ok := parseID(r.PathValue("id"))
	if !ok {
		h.cabinetNotFound(w, r)
		return
	}
	ctx := r.Context()
	cab, err := h.cfg.Service.Cabinet(ctx, u.Caller, id)
	if err != nil {
		h.cabinetFailed(w, r, err)
		return
	}
	page, err := h.cabinetView(ctx, u, cab)
	if err != nil {
		h.serviceFailed(w, r, err)
		return
	}
	if r.URL.Query().Get("done") == "protection" {
		page.ProtectionDone = "Режим защиты сохранён."
	}
	h.render(w, r, http.StatusOK, "cabinet", "Сертификат: "+page.Name, page)
}

// cabinetView is the page of cab, read by u.
func (h *handler) cabinetView(ctx context.Context, u *user, cab enrollment.Cabinet) (*cabinetPage, error) {
	c := cab.Certificate
	p := &cabinetPage{ID: c.ID.String(), Name: c.Holder.FullName, Number: string(c.Number), Status: ruCertificateStatus(c.Status),
		Kind: ruKind(c), Category: ruCategory(c.Category), Municipality: h.municipalityName(c.Municipality),
		IssuedOn: ruDate(c.IssuedOn), ValidUntil: ruDate(c.ValidUntil), PeriodStart: ruDate(cab.Period.Start), PeriodEnd: ruDate(cab.Period.End),
		Adult: c.Scheme == certificate.DigitalSkills, Funded: c.Kind == certificate.Funded,
		BudgetNotice: cab.BudgetNotice, Position: cab.Position, SearchURL: "/?" + url.Values{"cert": {c.ID.String()}}.Encode()}

	// The switcher: the caller's certificates, this one among them.
	cs, err := h.holderCertificates(ctx, u)
	if err != nil {
		return nil, err
	}
	p.SwitchLabel = "Ребёнок"
	for _, x := range cs {
		if x.Scheme == certificate.DigitalSkills {
			p.SwitchLabel = "Сертификат"
		}
		p.Switch = append(p.Switch, option{Value: x.ID.String(), Label: certLabel(x), Selected: x.ID == c.ID})
	}

	if m := cab.Money; m != nil {
		p.Money = &cabinetMoney{Nominal: ruMoney(m.Nominal), Usable: ruMoney(m.Usable), Balance: ruMoney(m.Balance),
			Reserved: ruMoney(m.Reserved), Spent: ruMoney(m.Spent)}
		if !m.Depleted.IsZero() {
			p.Money.Depleted = ruMoney(m.Depleted)
		}
		if !m.Expired.IsZero() {
			p.Money.Expired = ruMoney(m.Expired)
		}
	}
	if hs := cab.Hours; hs != nil {
		p.Hours = &cabinetHours{Base: hs.Base, Extra: hs.Extra, UsedBase: hs.UsedBase, UsedExtra: hs.UsedExtra, FreeBase: hs.FreeBase, FreeExtra: hs.FreeExtra}
	}
	for _, reg := range cab.Registries {
		p.Registries = append(p.Registries, registryRow{Name: ruRegistry(reg.Registry), Used: strconv.Itoa(reg.Used) + " из " + strconv.Itoa(reg.Allowed)})
	}
	mode := c.Protection.Mode
	if _, ok := protectionNames[mode]; !ok {
		mode = certificate.Forbidden // no mode is treated as forbidden
	}
	p.Protection, p.ProtectionText = protectionNames[mode][0], protectionNames[mode][1]
	p.Locked = mode == certificate.ByPassphrase && c.Protection.Locked(h.cfg.Service.Now())
	p.protectionForm(mode)

	// The groups of the contracts, each read once for the page.
	offers := map[uuid.UUID]*enrollment.Offer{}
	offer := func(group uuid.UUID) (*enrollment.Offer, error) {
		if o, ok := offers[group]; ok {
			return o, nil
		}
		o, err := h.cfg.Service.Offer(ctx, group)
		if errors.Is(err, enrollment.ErrNotFound) {
			offers[group] = nil // a group since removed: the row says so
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		offers[group] = &o
		return &o, nil
	}

	contracts := slices.Clone(cab.Contracts)
	slices.SortStableFunc(contracts, func(a, b enrollment.Contract) int {
		if n := b.CreatedAt.Compare(a.CreatedAt); n != 0 {
			return n
		}
		return cmp.Compare(b.ID.String(), a.ID.String())
	})
	byID := map[uuid.UUID]enrollment.Contract{}
	for _, k := range contracts {
		byID[k.ID] = k
		o, err := offer(k.GroupID)
		if err != nil {
			return nil, err
		}
		row := cabinetContract{URL: "/contracts/" + k.ID.String(), Program: "программа недоступна", Group: "—",
			Status: ruContractStatus(k.Status), Dates: ruDate(k.Start) + " — " + ruDate(k.End)}
		if o != nil {
			row.Program, row.Group = o.Program.Name, o.Group.Name
		}
		pr := k.Price
		if k.Scheme == certificate.DigitalSkills {
			row.Cert, row.CoPay = ruMoney(pr.Cert)+" за курс", ruMoney(pr.CoPay)+" за курс"
		} else {
			row.Cert = perMonth(pr.CertFirst, pr.CertOther, pr.Months)
			row.CoPay = perMonth(pr.CoPayFirst, pr.CoPayOther, pr.Months)
		}
		p.Contracts = append(p.Contracts, row)
	}

	notes, err := api.Notifications(ctx, h.cfg.Service, h.cfg.Service.Store(), cab)
	if err != nil {
		return nil, err
	}
	for _, n := range notes {
		v := noteView{Text: h.noteText(n, cab, byID, offers)}
		if n.At != nil {
			v.Date = ruDate(h.regionDate(*n.At))
		}
		if n.ContractID != nil {
			if _, ok := byID[*n.ContractID]; ok {
				v.URL = "/contracts/" + n.ContractID.String()
			}
		}
		p.Notes = append(p.Notes, v)
	}
	return p, nil
}

// perMonth is a monthly amount of a schedule: the same every month, or
// every month's with the first month's apart when it differs.
func perMonth(first, other funding.Money, months int) string {
	if months <= 1 {
		return ruMoney(first) + " в месяц"
	}
	if first.Equal(other) {
		return ruMoney(other) + " в месяц"
	}
	return ruMoney(other) + " в месяц (первый месяц — " + ruMoney(first) + ")"
}

// noteText words a notification in Russian by its kind: the API's
// message is English, for developers.
func (h *handler) noteText(n api.Notification, cab enrollment.Cabinet, contracts map[uuid.UUID]enrollment.Contract, offers map[uuid.UUID]*enrollment.Offer) string {
	var (
		k      enrollment.Contract
		o      *enrollment.Offer
		linked bool
	)
	if n.ContractID != nil {
		k, linked = contracts[*n.ContractID]
		o = offers[k.GroupID]
	}
	program, provider := "программу", "организации"
	if o != nil {
		program = "«" + o.Program.Name + "» (группа «" + o.Group.Name + "»)"
		provider = "«" + o.Provider.Name + "»"
	}
	amount := ""
	if n.Amount != nil {
		amount = ruMoney(*n.Amount)
	}
	month := ""
	if m, err := funding.ParseMonth(n.Month); err == nil {
		month = ruMonth(m)
	}
	period := "с " + ruDate(n.Period.Start) + " по " + ruDate(n.Period.End)

	switch n.Kind {
	case api.NoteBudget:
		return cab.BudgetNotice
	case api.NoteQueue:
		if cab.Certificate.Scheme == certificate.DigitalSkills {
			return "Сертификат в очереди на место по квоте " + strconv.Itoa(cab.Certificate.IssuedOn.Year()) + " года: позиция " + strconv.Itoa(cab.Position) + "."
		}
		return "Сертификат в очереди на финансирование: позиция " + strconv.Itoa(cab.Position) + "."
	case api.NoteApplication:
		return "Заявка на " + program + " с " + ruDate(k.Start) + " ждёт подтверждения организации " + provider + "."
	case api.NoteOffer:
		if due, err := funding.ParseDate(n.Due); err == nil {
			return "Организация " + provider + " предлагает продлить обучение: " + program + " с " + ruDate(k.Start) +
				". Если вы не откажетесь, предложение будет принято " + ruDate(due) + "."
		}
		return "Организация " + provider + " подтвердила зачисление на " + program + ": примите оферту, чтобы занятия начались " + ruDate(k.Start) + "."
	case api.NotePosting:
		about := "сертификат"
		if linked {
			about = program
		}
		switch funding.PostingKind(n.Posting) {
		case funding.Grant:
			return "Начислен номинал на период " + period + ": " + amount + "."
		case funding.Adjust:
			return "Номинал категории изменился: " + amount + "."
		case funding.Reserve:
			return "Зарезервировано " + amount + " на оплату: " + about + "."
		case funding.Charge:
			return "Списано " + amount + " за " + month + " из резерва: " + about + "."
		case funding.Release:
			return "Резерв " + amount + " вернулся на остаток: " + about + "."
		case funding.Deplete:
			return "Сгорело " + amount + " неиспользованного номинала: пока не подана первая заявка, доступный номинал уменьшается каждый месяц."
		case funding.Expire:
			return "Сгорел неиспользованный остаток периода " + period + ": " + amount + "."
		case funding.Refund:
			text := "Возвращено на остаток " + amount + " за " + month + ": " + about
			if pct := n.Params["delivered_percent"]; pct != "" {
				text += " — услуга оказана на " + pct + nbsp + "%"
			}
			return text + "."
		}
		return "Движение средств по сертификату: " + amount + "."
	}
	return "Изменение по сертификату."
}
