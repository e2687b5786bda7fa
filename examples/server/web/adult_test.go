package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/examples/server/demo"
)

// adultNumber is the number of the demo's adult certificate labelled label.
func adultNumber(t *testing.T, e *env, label string) string {
	t.Helper()
	cab, err := e.svc.Cabinet(context.Background(), enrollment.AsFederal("test"), e.demo.CertificateID(label))
	if err != nil {
		t.Fatal(err)
	}
	return string(cab.Certificate.Number)
}

// adultCertificates are the adult certificates person holds, as the service
// lists them.
func adultCertificates(t *testing.T, e *env, person string) []certificate.Certificate {
	t.Helper()
	page, err := e.svc.Certificates(context.Background(), enrollment.AsHolder(person), enrollment.CertificateFilter{Scheme: certificate.DigitalSkills})
	if err != nil {
		t.Fatal(err)
	}
	return page.Certificates
}

// adultApplication is an eligible adult's application form, with changes.
func adultApplication(key, action string, set ...string) url.Values {
	f := url.Values{"key": {key}, "action": {action}, "fullname": {"Петров Сергей Николаевич"}, "birthdate": {"1985-04-12"},
		"sex": {"male"}, "citizenship": {"RU"}, "education": {"higher"}, "region": {demo.Region},
		"municipality": {demo.MunCity}, "registration": {"permanent"}}
	for i := 0; i+1 < len(set); i += 2 {
		f.Set(set[i], set[i+1])
	}
	return f
}

// TestAdultPage: each adult sees their own certificate of this year: the
// issued one with its validity, money and documents deadline, the queued
// one with its place; a parent with none sees the application and no one
// else's certificate; signed out, the page asks to sign in.
func TestAdultPage(t *testing.T) {
	orlova, kuznetsov := adultNumber(t, shared, "adult-issued"), adultNumber(t, shared, "adult-queued")

	c := noFollow(shared.client(t))
	c.get("/adult").sendsToSignIn(t, "/adult")

	signIn(t, c, demo.AdultOrlova)
	p := c.get("/adult")
	if p.status != http.StatusOK {
		t.Fatalf("Orlova: status %d", p.status)
	}
	p.has(t, "Сертификат № "+orlova, "Орлова Наталья Викторовна", `<span class="status">выдан</span>`, "Выдан</dt><dd>10.03.2026",
		"до 31.12.2026", "сертификат обеспечен", "Номинал", "0,00_₽",
		"до <strong>09.04.2026</strong> включительно", "Документы загружены", `name="certificate" value="`+shared.demo.CertificateID("adult-issued").String()+`"`)
	p.lacks(t, kuznetsov, "Кузнецов", "Вы в очереди", "Проверить право", "Срок загрузки документов истёк")

	c = shared.clientAs(t, demo.AdultKuznetsov)
	p = c.get("/adult")
	p.has(t, "Сертификат № "+kuznetsov, "Кузнецов Дмитрий Олегович", "Вы в очереди: 1-й", "до 31.12.2026", "Квота этого года исчерпана",
		"срок отсчитывается с того дня, когда очередь дойдёт до вас")
	p.lacks(t, orlova, "Орлова", "Документы загружены</button>", "Номинал", "Проверить право")

	c = shared.clientAs(t, demo.GuardianIvanova)
	p = c.get("/adult")
	if p.status != http.StatusOK {
		t.Fatalf("Ivanova: status %d", p.status)
	}
	p.has(t, "У вас нет сертификата в этом году", `<label for="fullname">`, `value="Иванова Елена Викторовна"`,
		`<label for="birthdate">`, `type="date"`, `<label for="sex">Пол</label>`, `<option value="female">Женский</option>`,
		`<option value="higher">Высшее</option>`, `<option value="RU" selected>Российская Федерация</option>`,
		`<option value="RU-DEMO" selected>Демонстрационный регион</option>`, `<option value="novograd">Новоград</option>`,
		`<option value="permanent" selected>Постоянная`, "Проверить право", "Подать заявку", `name="key" value="`)
	p.lacks(t, orlova, kuznetsov, "Орлова", "Кузнецов", "person_id", "Сертификат №")
	noEnglish(t, p)
}

// TestAdultQueue: the federal operator lists both demo adults, the issued
// one with its deadline and the queued one with its place; anyone else
// gets 403 and none of it.
func TestAdultQueue(t *testing.T) {
	orlova, kuznetsov := adultNumber(t, shared, "adult-issued"), adultNumber(t, shared, "adult-queued")
	c := shared.clientAs(t, "federal-operator")
	p := c.get("/adult/queue")
	if p.status != http.StatusOK {
		t.Fatalf("status %d", p.status)
	}
	p.has(t, "Квота 2026 года: 1_место", `<th scope="col">Номер</th>`, orlova, "Орлова Наталья Викторовна", kuznetsov, "Кузнецов Дмитрий Олегович",
		"обеспечен", "до 09.04.2026", "в очереди: 1-й", "срок начнётся, когда очередь дойдёт")
	p.lacks(t, "Аннулировать</button>", "Иванов")

	for _, who := range []string{demo.GuardianIvanova, demo.AdultOrlova, "robo-admin", "novograd-officer", "region-operator"} {
		c := shared.clientAs(t, who)
		p := c.get("/adult/queue")
		if p.status != http.StatusForbidden {
			t.Errorf("%s: status %d, want 403", who, p.status)
		}
		p.has(t, `<html lang="ru">`, "Нет доступа")
		p.lacks(t, kuznetsov, "Кузнецов")
		if who != demo.AdultOrlova {
			p.lacks(t, orlova, "Орлова")
		}
	}
	if p := shared.client(t).get("/adult/queue?after=nonsense"); p.status != http.StatusOK || !regexp.MustCompile(`<h1>Вход</h1>`).MatchString(p.body) {
		t.Errorf("signed out: %d, want the sign-in page", p.status)
	}
	p = c.get("/adult/queue?after=nonsense")
	if p.status != http.StatusBadRequest {
		t.Errorf("a bad cursor: status %d, want 400", p.status)
	}
	p.has(t, "Ссылка на следующую страницу устарела")
}

// TestAdultApply: a parent with no adult certificate checks the right to
// one (an under-18 birth date and a school education give every reason in
// Russian, and nothing is written), a bad date or option is shown next to
// its input, the application past the quota queues them; the federal
// operator then cancels the overdue certificate, its place goes to the
// queue's head, who records the documents.
func TestAdultApply(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		orlova := adultNumber(t, e, "adult-issued")
		c := noFollow(e.clientAs(t, demo.GuardianPetrov))
		key := formKey(t, c.get("/adult"), "/adult")

		p := c.post("/adult", adultApplication(key, "check", "birthdate", "2010-05-01", "education", "general"), nil)
		if p.status != http.StatusOK {
			t.Fatalf("check: status %d", p.status)
		}
		p.has(t, "Получить сертификат сейчас нельзя", "сертификат выдаётся с 18_лет: вам ещё нет 18_лет",
			"нужно среднее профессиональное или высшее образование", `value="2010-05-01"`, `<option value="general" selected>`)
		p.lacks(t, "Вы можете получить", "age_below_minimum", "below the minimum")
		if cs := adultCertificates(t, e, demo.GuardianPetrov); len(cs) != 0 {
			t.Fatalf("a check wrote %d certificates", len(cs))
		}

		for _, tt := range []struct {
			set        []string
			id, want   string
			wantStatus int
		}{
			{[]string{"birthdate", "31.02.1985"}, "birthdate", "Укажите дату рождения в виде ДД.ММ.ГГГГ", http.StatusBadRequest},
			{[]string{"birthdate", "вчера"}, "birthdate", "Укажите дату рождения в виде ДД.ММ.ГГГГ", http.StatusBadRequest},
			{[]string{"sex", "other"}, "sex", "Выберите значение из списка.", http.StatusBadRequest},
			{[]string{"region", "RU-MOW"}, "region", "Выберите значение из списка.", http.StatusBadRequest},
			{[]string{"fullname", ""}, "fullname", "Укажите фамилию, имя и отчество.", http.StatusBadRequest},
		} {
			for _, action := range []string{"check", "apply"} {
				if tt.id == "fullname" && action == "check" {
					continue // the name is not a condition of the right
				}
				p := c.post("/adult", adultApplication(key, action, tt.set...), nil)
				if p.status != tt.wantStatus {
					t.Errorf("%s %v: status %d, want %d", action, tt.set, p.status, tt.wantStatus)
				}
				p.has(t, tt.want, `aria-describedby="`+tt.id+`-error"`, `<p class="error" id="`+tt.id+`-error">`)
				noEnglish(t, p)
			}
		}
		p = c.post("/adult", adultApplication(key, "apply", "citizenship", "BY", "registration", "none"), nil)
		if p.status != http.StatusUnprocessableEntity {
			t.Errorf("an ineligible application: status %d, want 422", p.status)
		}
		p.has(t, "сертификат выдаётся только гражданам Российской Федерации", "нужна постоянная или временная регистрация")
		if cs := adultCertificates(t, e, demo.GuardianPetrov); len(cs) != 0 {
			t.Fatalf("a refused application wrote %d certificates", len(cs))
		}

		c.post("/adult", adultApplication(key, "check"), nil).has(t, "Вы можете получить сертификат")
		for range 2 { // a double submit: one application
			p = c.post("/adult", adultApplication(key, "apply"), nil)
			if p.status != http.StatusSeeOther || p.header.Get("Location") != "/adult?done=applied" {
				t.Fatalf("apply: %d to %q, want 303 to /adult?done=applied\n%s", p.status, p.header.Get("Location"), p.body)
			}
		}
		if cs := adultCertificates(t, e, demo.GuardianPetrov); len(cs) != 1 {
			t.Fatalf("%d certificates after a double submit, want 1", len(cs))
		}
		p = c.get("/adult?done=applied")
		p.has(t, "Квота исчерпана: вы в очереди, позиция 2.", "Вы в очереди: 2-й", "Петров Сергей Николаевич", "до 31.12.2026")
		p.lacks(t, "Подать заявку", orlova)
		p = c.post("/adult", adultApplication(uuid.NewString(), "apply"), nil)
		if p.status != http.StatusUnprocessableEntity {
			t.Errorf("a second application: status %d, want 422", p.status)
		}
		p.has(t, "в этом году сертификат вам уже выдан")

		// Another's certificate: refused by the service, nothing recorded.
		orlovaID := e.demo.CertificateID("adult-issued").String()
		if p := c.post("/adult/documents", url.Values{"key": {uuid.NewString()}, "certificate": {orlovaID}}, nil); p.status != http.StatusForbidden && p.status != http.StatusNotFound {
			t.Errorf("documents of another's certificate: status %d, want 403 or 404", p.status)
		}
		if p := c.post("/adult/queue/"+orlovaID+"/cancel", url.Values{"key": {uuid.NewString()}}, nil); p.status != http.StatusForbidden {
			t.Errorf("a parent's cancel: status %d, want 403", p.status)
		}

		// Past Orlova's deadline (30 days from 10 March), the operator
		// cancels her certificate: Kuznetsov takes her place, Petrov moves up.
		e.clock.T = time.Date(2026, time.April, 15, 6, 0, 0, 0, time.UTC)
		fed := noFollow(e.clientAs(t, "federal-operator"))
		q := fed.get("/adult/queue")
		q.has(t, "срок истёк 09.04.2026", `action="/adult/queue/`+orlovaID+`/cancel"`, "Аннулировать</button>", "в очереди: 2-й")
		p = fed.post("/adult/queue/"+orlovaID+"/cancel", url.Values{"key": {formKey(t, q, "/adult/queue/"+orlovaID+"/cancel")}}, nil)
		if p.status != http.StatusSeeOther || p.header.Get("Location") != "/adult/queue?done=cancelled" {
			t.Fatalf("cancel: %d to %q\n%s", p.status, p.header.Get("Location"), p.body)
		}
		q = fed.get("/adult/queue?done=cancelled")
		q.has(t, "Сертификат аннулирован: его место по квоте передано первому в очереди.", `<span class="status">аннулирован</span>`,
			"до 15.05.2026", "в очереди: 1-й")
		q.lacks(t, "Аннулировать</button>")
		p = fed.post("/adult/queue/"+orlovaID+"/cancel", url.Values{"key": {uuid.NewString()}}, nil)
		if p.status != http.StatusUnprocessableEntity {
			t.Errorf("a second cancel: status %d, want 422", p.status)
		}
		p.has(t, "Срок загрузки документов не истёк или документы уже загружены")

		c.get("/adult").has(t, "Вы в очереди: 1-й")

		k := noFollow(e.clientAs(t, demo.AdultKuznetsov))
		p = k.get("/adult")
		p.has(t, "сертификат обеспечен", "до <strong>15.05.2026</strong> включительно", "Документы загружены</button>")
		form := url.Values{"key": {formKey(t, p, "/adult/documents")}, "certificate": {e.demo.CertificateID("adult-queued").String()}}
		if p := k.post("/adult/documents", form, nil); p.status != http.StatusSeeOther || p.header.Get("Location") != "/adult?done=documents" {
			t.Fatalf("documents: %d to %q\n%s", p.status, p.header.Get("Location"), p.body)
		}
		p = k.get("/adult?done=documents")
		p.has(t, "Отметка сохранена: документы организации загружены.", "Документы организации загружены 15.04.2026.")
		p.lacks(t, "Документы загружены</button>")

		o := e.clientAs(t, demo.AdultOrlova)
		o.get("/adult").has(t, `<span class="status">аннулирован</span>`, "Сертификат больше не действует")
	})
}

// TestAdultIssued: with a place of the quota free, an adult the demo does
// not know applies and gets the certificate at once.
func TestAdultIssued(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		// Three places: Kuznetsov takes the second, the newcomer the third.
		if _, err := e.svc.SetParameter(ctx, uuid.NewString(), enrollment.ParameterRequest{Name: "adult_quota", From: e.svc.Today(),
			Value: "3", Reason: "тест", By: enrollment.AsFederal("test")}); err != nil {
			t.Fatal(err)
		}
		c := noFollow(e.clientAs(t, "person-new"))
		p := c.get("/adult")
		p.has(t, "У вас нет сертификата в этом году", `id="fullname" name="fullname" value=""`)
		p = c.post("/adult", adultApplication(formKey(t, p, "/adult"), "apply", "fullname", "Новикова Анна Сергеевна", "sex", "female", "birthdate", "12.04.1990"), nil)
		if p.status != http.StatusSeeOther {
			t.Fatalf("apply: status %d\n%s", p.status, p.body)
		}
		cs := adultCertificates(t, e, "person-new")
		if len(cs) != 1 {
			t.Fatalf("%d certificates, want 1", len(cs))
		}
		p = c.get("/adult?done=applied")
		p.has(t, "Сертификат выдан: № "+string(cs[0].Number)+", действует до 31.12.2026.", "Новикова Анна Сергеевна",
			"сертификат обеспечен", "до <strong>09.04.2026</strong> включительно")
		p.lacks(t, "Вы в очереди", "Орлова", "Кузнецов")
	})
}
