// Package demo loads a small demonstration region into an edufund store: two
// municipalities, categories with nominals and caps, budget and direction
// limits, providers with agreements, programs in every registry and
// direction, modules and groups over the current year (and, for the
// navigator, GeneratedPrograms generated Russian programs), children's
// certificates in every status (funded and accounting, one queued for a
// funded slot) with a live contract, and adult certificates (one issued, one
// queued behind a quota of one).
//
// Every change is made through enrollment.Service with a fixed idempotency
// key and fixed catalog ids, so Load can run again on the same database: it
// replays the first run's results and returns the same ids.
package demo

import (
	"context"
	"fmt"
	"time"
	_ "time/tzdata" // the demo region's zone loads on a host without zone files

	"github.com/google/uuid"

	"github.com/edufund/edufund/catalog"
	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/funding"
)

// The demo region's codes and tenants.
const (
	Region       = "RU-DEMO"
	MunCity      = "novograd" // Новоград, the city
	MunRural     = "zarechye" // Заречье, the rural district
	CategoryCity = "city"     // 30000.00 a year
	// CategoryRural (36000.00 a year) holds one funded certificate: the
	// second one asking for a funded slot waits in its queue.
	CategoryRural = "rural"

	GuardianIvanova = "guardian-ivanova"
	// ChildKolya is Ivanova's son with no certificate yet: the walkthrough's
	// child. The municipal authority linked him to his mother.
	ChildKolya      = "child-ivanov-kolya"
	GuardianPetrov  = "guardian-petrov"
	GuardianSidorov = "guardian-sidorov"
	AdultOrlova     = "person-orlova"
	AdultKuznetsov  = "person-kuznetsov"

	// AdultQuota is the demo's national adult quota: one place, so the
	// second adult applicant is queued.
	AdultQuota = 1
)

// MunicipalityNames are the demo municipalities' names, by code.
var MunicipalityNames = map[string]string{MunCity: "Новоград", MunRural: "Заречье"}

// Nominals of the categories.
var (
	NominalCity  = funding.MustMoney("30000.00")
	NominalRural = funding.MustMoney("36000.00")
)

// Zone is the demo region's time zone: Novosibirsk, UTC+7, so that its
// dates visibly differ from UTC's in the evening.
var Zone = mustZone("Asia/Novosibirsk")

func mustZone(name string) *time.Location {
	z, err := time.LoadLocation(name)
	if err != nil {
		panic(err) // the zone database is embedded: this cannot happen
	}
	return z
}

// Config returns base with the demo region's participants: both
// municipalities for children, the region for adults, the small adult quota
// and the region's time zone.
func Config(base enrollment.Config) enrollment.Config {
	base.Location = Zone
	base.Children.Municipalities = map[string]bool{MunCity: true, MunRural: true}
	base.Adults.Regions = map[string]bool{Region: true}
	base.AdultQuota = func(int) int64 { return AdultQuota }
	return base
}

var ns = uuid.MustParse("6f0a3c52-9d1e-4b8a-8f7e-3c1d2b4a5e60")

func id(year int, name string) uuid.UUID {
	return uuid.NewSHA1(ns, fmt.Appendf(nil, "%d:%s", year, name))
}

// Named is a demo entity's name and id.
type Named struct {
	Name string    `json:"name"`
	ID   uuid.UUID `json:"id"`
}

// Principal is a demo caller the server prints a token for.
type Principal struct {
	Name string `json:"name"`
	// Title is who the caller is, in Russian, as the pages show them
	// signed in; About says, in Russian, what the demo gives them to try
	// (the sign-in page lists both).
	Title   string `json:"title"`
	About   string `json:"about"`
	Role    string `json:"role"`
	Subject string `json:"subject"`
	Tenant  string `json:"tenant,omitempty"`
}

// Result is what Load made: the ids a walkthrough needs.
type Result struct {
	Year      int
	Providers []Named
	Groups    []Named
	// WalkthroughGroup is the certified robotics group of provider
	// "Робоцентр" over the whole year: module price = normative = 18250.00.
	WalkthroughGroup uuid.UUID
	// Certificates by label: child-active-funded, child-issued-accounting,
	// child-suspended, child-cancelled, child-rural-funded, child-rural-queued,
	// adult-issued, adult-queued.
	Certificates []Named
	// Contract is the live (active) contract of child-active-funded.
	Contract uuid.UUID
	// Authorised is the school Novograd authorised to take paper
	// applications for certificates and to activate them.
	Authorised uuid.UUID
	Principals []Principal
}

// CertificateID returns the id of the certificate labelled name.
func (r Result) CertificateID(name string) uuid.UUID {
	for _, c := range r.Certificates {
		if c.Name == name {
			return c.ID
		}
	}
	return uuid.Nil
}

// ProviderID returns the id of the provider named name.
func (r Result) ProviderID(name string) uuid.UUID {
	for _, p := range r.Providers {
		if p.Name == name {
			return p.ID
		}
	}
	return uuid.Nil
}

// Present reports whether the demo of year is in the store.
func Present(ctx context.Context, svc *enrollment.Service, year int) bool {
	_, err := svc.Offer(ctx, id(year, "group:robotics"))
	return err == nil
}

type program struct {
	key        string
	provider   string
	name       string
	direction  catalog.Direction
	registry   catalog.Registry
	minAge     int
	maxAge     int
	price      string
	capacity   int
	start, end [2]int // month, day in the year
}

// Load creates (or replays) the demo region for the year of today.
func Load(ctx context.Context, svc *enrollment.Service, today funding.Date) (Result, error) {
	year := today.Year()
	l := loader{ctx: ctx, svc: svc, year: year}
	res := Result{Year: year}
	period := funding.CalendarYear(year)

	// Categories, budget and direction limits.
	l.category(certificate.Category{Code: CategoryCity, Nominal: NominalCity, MaxCount: 1000})
	l.category(certificate.Category{Code: CategoryRural, Nominal: NominalRural, MaxCount: 1})
	l.budget(MunCity, period, "5000000.00")
	l.budget(MunRural, period, "1500000.00")
	for _, d := range []struct {
		mun string
		dir catalog.Direction
		n   int
	}{{MunCity, catalog.Sport, 200}, {MunCity, catalog.TechnicalRobotics, 100}, {MunRural, catalog.Sport, 50}, {MunRural, catalog.Arts, 30}} {
		l.do("direction:"+d.mun+":"+string(d.dir), func(key string) error {
			_, err := svc.SetDirectionLimit(ctx, key, enrollment.DirectionLimitRequest{Municipality: d.mun, Direction: d.dir, Period: period, Limit: d.n, By: enrollment.AsRegional("demo")})
			return err
		})
	}

	// Providers with agreements for the year.
	both := []catalog.Agreement{{Municipality: MunCity, Period: period}, {Municipality: MunRural, Period: period}}
	for _, p := range []catalog.Provider{
		withContacts(catalog.Provider{ID: id(year, "provider:robo"), Name: "Робоцентр", INN: "5401000001", Municipality: MunCity, Agreements: both}, "robo"),
		withContacts(catalog.Provider{ID: id(year, "provider:palitra"), Name: "Художественная школа «Палитра»", INN: "5401000002", Municipality: MunCity, Agreements: both[:1]}, "palitra"),
		withContacts(catalog.Provider{ID: id(year, "provider:sport"), Name: "Спортклуб «Заречье»", INN: "5401000003", Municipality: MunRural, Agreements: both}, "sport"),
		withContacts(catalog.Provider{ID: id(year, "provider:digital"), Name: "Цифровая академия", INN: "770100000004", Municipality: MunCity}, "digital"),
	} {
		l.do("provider:"+p.ID.String(), func(key string) error {
			_, err := svc.SaveProvider(ctx, key, p, enrollment.AsRegional("demo"))
			return err
		})
		res.Providers = append(res.Providers, Named{Name: p.Name, ID: p.ID})
	}

	// Programs in every direction and registry, one module and group each.
	programs := []program{
		{"robotics", "robo", "Робототехника на LEGO", catalog.TechnicalRobotics, catalog.Certified, 7, 14, "18250.00", 15, [2]int{1, 1}, [2]int{12, 31}},
		{"modelling", "robo", "3D-моделирование", catalog.TechnicalOther, catalog.Significant, 10, 17, "12000.00", 12, [2]int{2, 1}, [2]int{11, 30}},
		{"ecology", "robo", "Юный эколог", catalog.NaturalScience, catalog.General, 6, 12, "9000.00", 20, [2]int{1, 15}, [2]int{12, 20}},
		{"football", "sport", "Футбол", catalog.Sport, catalog.Certified, 6, 16, "24000.00", 20, [2]int{1, 10}, [2]int{12, 31}},
		{"painting", "palitra", "Живопись", catalog.Arts, catalog.PreProfessional, 7, 17, "15000.00", 10, [2]int{1, 12}, [2]int{12, 25}},
		{"hikes", "sport", "Краеведческие походы", catalog.Tourism, catalog.Paid, 9, 17, "6000.00", 25, [2]int{3, 1}, [2]int{10, 31}},
		{"leaders", "palitra", "Школа юного лидера", catalog.SocialPedagogical, catalog.Certified, 12, 17, "10000.00", 2, [2]int{1, 20}, [2]int{12, 20}},
	}
	for _, p := range programs {
		prog := catalog.Program{
			ID: id(year, "program:"+p.key), ProviderID: id(year, "provider:"+p.provider), Name: p.name,
			Scheme: certificate.Supplementary, Direction: p.direction, Registry: p.registry, MinAge: p.minAge, MaxAge: p.maxAge,
			Certified: p.registry == catalog.Certified, EnrolmentOpen: true,
		}
		price := funding.MustMoney(p.price)
		mod := catalog.Module{ID: id(year, "module:"+p.key), ProgramID: prog.ID, Name: p.name + ", годовой курс", Price: price, NormativePrice: price, Hours: 144}
		grp := catalog.Group{ID: id(year, "group:"+p.key), ModuleID: mod.ID, Name: p.name + " " + fmt.Sprint(year) + "-A",
			Start: funding.MustDate(year, time.Month(p.start[0]), p.start[1]), End: funding.MustDate(year, time.Month(p.end[0]), p.end[1]),
			Capacity: p.capacity, Schedule: "вт, чт 16:00–17:30"}
		grp.Sessions = sessions[p.key]
		prog, grp = withPage(prog, grp, p.key)
		l.catalog(prog, mod, grp)
		res.Groups = append(res.Groups, Named{Name: grp.Name, ID: grp.ID})
	}
	res.WalkthroughGroup = id(year, "group:robotics")

	// The navigator's catalogue: generated programs of both municipalities.
	l.generated(period)

	// An adult course.
	{
		prog := catalog.Program{ID: id(year, "program:python"), ProviderID: id(year, "provider:digital"), Name: "Python для анализа данных",
			Scheme: certificate.DigitalSkills, MinAge: 18, CompetencyArea: "искусственный интеллект", AcademicHours: 72, EnrolmentOpen: true}
		price := funding.MustMoney("35000.00")
		mod := catalog.Module{ID: id(year, "module:python"), ProgramID: prog.ID, Name: "Python для анализа данных, 72 ч", Price: price, NormativePrice: price, Hours: 72}
		grp := catalog.Group{ID: id(year, "group:python"), ModuleID: mod.ID, Name: "Python " + fmt.Sprint(year) + "-1",
			Start: funding.MustDate(year, time.January, 1), End: funding.MustDate(year, time.December, 31), Capacity: 30, Schedule: "онлайн"}
		prog, grp = withPage(prog, grp, "python")
		l.catalog(prog, mod, grp)
		res.Groups = append(res.Groups, Named{Name: grp.Name, ID: grp.ID})
	}

	// Children's certificates in every status.
	child := func(label, guardian, person, name string, age int, mun, cat string, funded bool, protection certificate.ProtectionMode) uuid.UUID {
		var out enrollment.IssueResult
		l.do("cert:"+label, func(key string) error {
			var err error
			out, err = svc.Issue(ctx, key, enrollment.IssueRequest{
				Holder: certificate.Holder{PersonID: person, FullName: name, BirthDate: funding.MustDate(year-age, time.March, 14),
					Citizenship: "RU", Region: Region, Municipality: mun, Registration: certificate.Permanent},
				GuardianID: guardian, Municipality: mun, Category: cat, Funded: funded, Protection: protection, By: enrollment.AsRegional("demo"),
			})
			return err
		})
		res.Certificates = append(res.Certificates, Named{Name: label, ID: out.Certificate.ID})
		return out.Certificate.ID
	}
	status := func(label string, cert uuid.UUID, actions ...enrollment.CertificateAction) {
		for _, a := range actions {
			l.do("cert:"+label+":"+string(a), func(key string) error {
				_, err := svc.ChangeStatus(ctx, key, cert, a, enrollment.AsRegional("demo"))
				return err
			})
		}
	}
	misha := child("child-active-funded", GuardianIvanova, "child-ivanov-misha", "Иванов Михаил Петрович", 9, MunCity, CategoryCity, true, certificate.ByName)
	status("child-active-funded", misha, enrollment.ActivateCertificate)
	child("child-issued-accounting", GuardianIvanova, "child-ivanova-olga", "Иванова Ольга Петровна", 6, MunCity, CategoryCity, false, certificate.Forbidden)
	suspended := child("child-suspended", GuardianPetrov, "child-petrov-ivan", "Петров Иван Сергеевич", 12, MunCity, CategoryCity, true, certificate.Forbidden)
	status("child-suspended", suspended, enrollment.ActivateCertificate, enrollment.SuspendCertificate)
	cancelled := child("child-cancelled", GuardianPetrov, "child-petrova-anna", "Петрова Анна Сергеевна", 15, MunCity, CategoryCity, true, certificate.Forbidden)
	status("child-cancelled", cancelled, enrollment.ActivateCertificate, enrollment.CancelCertificate)
	rural := child("child-rural-funded", GuardianSidorov, "child-sidorov-gleb", "Сидоров Глеб Андреевич", 10, MunRural, CategoryRural, true, certificate.Forbidden)
	status("child-rural-funded", rural, enrollment.ActivateCertificate)
	child("child-rural-queued", GuardianSidorov, "child-sidorova-vera", "Сидорова Вера Андреевна", 8, MunRural, CategoryRural, true, certificate.Forbidden)

	// Kolya, with no certificate yet, is linked to his mother, as the
	// municipal authority recorded it from his birth certificate.
	l.do("guardian:"+ChildKolya, func(key string) error {
		_, err := svc.LinkGuardian(ctx, key, enrollment.LinkRequest{GuardianID: GuardianIvanova, ChildID: ChildKolya, By: enrollment.AsMunicipality(MunCity)})
		return err
	})

	// A live contract: Misha plays football.
	var contract enrollment.Contract
	l.do("contract:misha:submit", func(key string) error {
		var err error
		contract, err = svc.Submit(ctx, key, enrollment.SubmitRequest{CertificateID: misha, GroupID: id(year, "group:football"), By: enrollment.AsHolder(GuardianIvanova)})
		return err
	})
	if l.err == nil {
		req := enrollment.ContractRequest{ContractID: contract.ID, By: enrollment.AsProvider(id(year, "provider:sport"))}
		l.do("contract:misha:confirm", func(key string) error { _, err := svc.Confirm(ctx, key, req); return err })
		req = enrollment.ContractRequest{ContractID: contract.ID, By: enrollment.AsHolder(GuardianIvanova)}
		l.do("contract:misha:accept", func(key string) error { _, err := svc.Accept(ctx, key, req); return err })
		res.Contract = contract.ID
	}

	// Adults: the quota has one place.
	adult := func(label, person, name string, sex certificate.Sex, age int) {
		var out enrollment.IssueResult
		l.do("adult:"+label, func(key string) error {
			var err error
			out, err = svc.ApplyAdult(ctx, key, enrollment.AdultApplication{
				Holder: certificate.Holder{PersonID: person, FullName: name, BirthDate: funding.MustDate(year-age, time.June, 2), Sex: sex,
					Citizenship: "RU", Education: certificate.EducationHigher, Region: Region, Municipality: MunCity, Registration: certificate.Permanent},
				By: enrollment.AsFederal("demo"),
			})
			return err
		})
		res.Certificates = append(res.Certificates, Named{Name: label, ID: out.Certificate.ID})
	}
	adult("adult-issued", AdultOrlova, "Орлова Наталья Викторовна", certificate.Female, 34)
	adult("adult-queued", AdultKuznetsov, "Кузнецов Дмитрий Олегович", certificate.Male, 41)

	// A school Novograd authorised, for the year, to take paper
	// applications for certificates and to activate them (seed 004).
	res.Authorised = id(year, "authorised:school")
	l.do("authorisation:school", func(key string) error {
		_, err := svc.Authorise(ctx, key, enrollment.AuthoriseRequest{OrganisationID: res.Authorised, Name: "Школа № 7 Новограда",
			Municipality: MunCity, MayActivate: true, From: funding.MustDate(year, time.January, 1), By: enrollment.AsMunicipality(MunCity)})
		return err
	})

	res.Principals = []Principal{
		{Name: "parent Ivanova (children active-funded, issued-accounting)", Title: "Иванова Елена Викторовна",
			About: "мама: у Михаила сертификат активен, у Ольги учётный, Коля пока без сертификата", Role: "holder", Subject: GuardianIvanova, Tenant: GuardianIvanova},
		{Name: "parent Petrov (children suspended, cancelled)", Title: "Петров Сергей Николаевич",
			About: "папа: у Ивана сертификат приостановлен, у Анны аннулирован", Role: "holder", Subject: GuardianPetrov, Tenant: GuardianPetrov},
		{Name: "adult Orlova (adult certificate issued)", Title: "Орлова Наталья Викторовна",
			About: "взрослая: сертификат на обучение выдан", Role: "holder", Subject: AdultOrlova, Tenant: AdultOrlova},
		{Name: "adult Kuznetsov (adult certificate queued)", Title: "Кузнецов Дмитрий Олегович",
			About: "взрослый: в очереди на сертификат", Role: "holder", Subject: AdultKuznetsov, Tenant: AdultKuznetsov},
		{Name: "provider Робоцентр", Title: "Робоцентр", About: "организация: робототехника и моделирование, Новоград", Role: "provider", Subject: "robo-admin", Tenant: id(year, "provider:robo").String()},
		{Name: "provider Спортклуб «Заречье»", Title: "Спортклуб «Заречье»", About: "организация: спортивный клуб, Заречье", Role: "provider", Subject: "sport-admin", Tenant: id(year, "provider:sport").String()},
		{Name: "municipal authority of Novograd", Title: "Управление образования Новограда", About: "муниципалитет Новоград", Role: "municipality", Subject: "novograd-officer", Tenant: MunCity},
		{Name: "municipal authority of Zarechye", Title: "Управление образования Заречья", About: "муниципалитет Заречье", Role: "municipality", Subject: "zarechye-officer", Tenant: MunRural},
		{Name: "regional operator", Title: "Региональный оператор", About: "детские сертификаты всего региона", Role: "regional", Subject: "region-operator"},
		{Name: "federal operator", Title: "Федеральный оператор", About: "сертификаты взрослых", Role: "federal", Subject: "federal-operator"},
		{Name: "auditor", Title: "Аудитор", About: "только чтение: сертификаты, договоры, счета и журнал операций всего региона", Role: "auditor", Subject: "region-auditor"},
		{Name: "authorised school of Novograd", Title: "Школа № 7 Новограда", About: "уполномоченная организация: принимает заявления на сертификат на бумаге, выдаёт и активирует сертификаты детей Новограда",
			Role: "authorised", Subject: "school7-clerk", Tenant: res.Authorised.String()},
	}
	return res, l.err
}

type loader struct {
	ctx  context.Context
	svc  *enrollment.Service
	year int
	err  error
}

// do runs one idempotent step with a key fixed for the year; after the
// first failure it does nothing.
func (l *loader) do(name string, fn func(key string) error) {
	if l.err != nil {
		return
	}
	if err := fn(fmt.Sprintf("demo:%d:%s", l.year, name)); err != nil {
		l.err = fmt.Errorf("demo %s: %w", name, err)
	}
}

func (l *loader) category(c certificate.Category) {
	l.do("category:"+c.Code, func(key string) error {
		_, err := l.svc.SaveCategory(l.ctx, key, c, enrollment.AsRegional("demo"))
		return err
	})
}

func (l *loader) budget(mun string, p funding.Period, limit string) {
	l.do("budget:"+mun, func(key string) error {
		_, err := l.svc.SetBudget(l.ctx, key, enrollment.BudgetRequest{Municipality: mun, Period: p, Limit: funding.MustMoney(limit), By: enrollment.AsRegional("demo")})
		return err
	})
}

func (l *loader) catalog(p catalog.Program, m catalog.Module, g catalog.Group) {
	l.do("program:"+p.ID.String(), func(key string) error {
		_, err := l.svc.SaveProgram(l.ctx, key, p, enrollment.AsRegional("demo"))
		return err
	})
	l.do("module:"+m.ID.String(), func(key string) error {
		_, err := l.svc.SaveModule(l.ctx, key, m, enrollment.AsRegional("demo"))
		return err
	})
	l.do("group:"+g.ID.String(), func(key string) error {
		_, err := l.svc.SaveGroup(l.ctx, key, g, enrollment.AsRegional("demo"))
		return err
	})
}
