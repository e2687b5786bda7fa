package region_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/edufund/edufund/catalog"
	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/examples/server/region"
	"github.com/edufund/edufund/funding"
)

// TestExample loads region.example.json and checks every parameter lands in
// the enrollment.Config the server runs on.
func TestExample(t *testing.T) {
	r, err := region.Load("../region.example.json")
	if err != nil {
		t.Fatal(err)
	}
	cfg := r.Apply(enrollment.DefaultConfig())
	if p := cfg.PeriodOf(funding.MustDate(2026, time.March, 10)); p != funding.SchoolYear(2025) {
		t.Errorf("period of 2026-03-10: %s, want the school year 2025/26", p)
	}
	if p := cfg.PeriodOf(funding.MustDate(2026, time.September, 1)); p != funding.SchoolYear(2026) {
		t.Errorf("period of 2026-09-01: %s, want the school year 2026/27", p)
	}
	if !cfg.AdvanceShare.Equal(decimal.RequireFromString("0.8")) || cfg.ProlongationSilenceDays != 7 {
		t.Errorf("advance %s, silence %d", cfg.AdvanceShare, cfg.ProlongationSilenceDays)
	}
	if q := cfg.RegistryQuotas; q[catalog.Significant] != 1 || q[catalog.General] != 3 || q[catalog.PreProfessional] != 1 {
		t.Errorf("registry quotas %v", q)
	}
	ch := cfg.Children
	if len(ch.Municipalities) != 3 || !ch.Municipalities["berdsk"] || ch.MinAgeFor("novosibirsk") != 5 || ch.MinAgeFor("iskitim-district") != 7 {
		t.Errorf("children's policy %+v", ch)
	}
	ad := cfg.Adults
	if !ad.Regions["RU-NVS"] || ad.MinAge != 18 || ad.Citizenship != "RU" || ad.DocumentsDeadline != 30 {
		t.Errorf("adult policy %+v", ad)
	}
	if cfg.AdultQuota(2026) != 33000 || cfg.AdultQuota(2027) != 40000 {
		t.Errorf("adult quota 2026 %d, 2027 %d", cfg.AdultQuota(2026), cfg.AdultQuota(2027))
	}
	if cfg.Lockout.MaxAttempts != 5 || cfg.Lockout.Window != 15*time.Minute {
		t.Errorf("lockout %+v", cfg.Lockout)
	}
	// 18:30 UTC on 31 August is already 1 September in Novosibirsk (UTC+7):
	// the new school year's period, for a service on this region's config.
	svc := enrollment.NewService(nil, &funding.FixedClock{T: time.Date(2026, time.August, 31, 18, 30, 0, 0, time.UTC)}, cfg)
	if d := svc.Today(); d != funding.MustDate(2026, time.September, 1) {
		t.Errorf("today at 18:30 UTC on 31 August in %s: %s, want 2026-09-01", r.TimeZone, d)
	}
	// The policy decides with the region's parameters: a 6-year-old of
	// Iskitim district is below its minimum age of 7.
	h := certificate.Holder{PersonID: "p", FullName: "Н", BirthDate: funding.MustDate(2020, time.January, 1), Municipality: "iskitim-district"}
	if d := ch.Decide(h, "", funding.MustDate(2026, time.March, 10), nil); d.Eligible || d.Reasons[0].Rule != certificate.RuleAgeBelowMinimum {
		t.Errorf("6-year-old in iskitim-district: %+v", d)
	}
}

// TestCalendarYearDefaults: a minimal file keeps rules.md's defaults.
func TestCalendarYearDefaults(t *testing.T) {
	r, err := region.Parse([]byte(`{"name":"x","time_zone":"UTC","children":{"municipalities":["a"]}}`))
	if err != nil {
		t.Fatal(err)
	}
	cfg := r.Apply(enrollment.DefaultConfig())
	if p := cfg.PeriodOf(funding.MustDate(2026, time.October, 1)); p != funding.CalendarYear(2026) {
		t.Errorf("period %s", p)
	}
	if cfg.AdultQuota(2026) != 33000 || len(cfg.Adults.Regions) != 0 || cfg.Children.MinAgeFor("a") != 5 || cfg.Lockout.MaxAttempts != 5 {
		t.Errorf("defaults lost: %+v", cfg)
	}
}

// TestInvalid: every mistake is refused with the field it is in.
func TestInvalid(t *testing.T) {
	base := `"name":"x","time_zone":"Europe/Moscow","children":{"municipalities":["a","b"]}`
	for body, field := range map[string]string{
		`{"time_zone":"Europe/Moscow","children":{"municipalities":["a"]}}`:                    "name",
		`{"name":"x","children":{"municipalities":["a"]}}`:                                     "time_zone",
		`{"name":"x","time_zone":"Mars/Olympus","children":{"municipalities":["a"]}}`:          "time_zone",
		`{"name":"x","time_zone":"Local","children":{"municipalities":["a"]}}`:                 "time_zone",
		`{"name":"x","time_zone":"UTC"}`:                                                       "children.municipalities",
		`{"name":"x","time_zone":"UTC","children":{"municipalities":["a",""]}}`:                "children.municipalities[1]",
		`{"name":"x","time_zone":"UTC","children":{"municipalities":["a","a"]}}`:               "children.municipalities[1]",
		`{` + base + `,"period":"quarter"}`:                                                    "period",
		`{` + base + `,"advance_share":"1.5"}`:                                                 "advance_share",
		`{` + base + `,"advance_share":0.8}`:                                                   "advance_share",
		`{` + base + `,"prolongation_silence_days":0}`:                                         "prolongation_silence_days",
		`{` + base + `,"registry_quotas":{"certified":1}}`:                                     "registry_quotas.certified",
		`{` + base + `,"registry_quotas":{"general":-1}}`:                                      "registry_quotas.general",
		`{` + base + `,"children":{"municipalities":["a"],"min_age":40}}`:                      "children.min_age",
		`{` + base + `,"children":{"municipalities":["a"],"min_age_by_municipality":{"z":6}}}`: "children.min_age_by_municipality.z",
		`{` + base + `,"adults":{"regions":[]}}`:                                               "adults.regions",
		`{` + base + `,"adults":{"regions":["R"],"quota":-1}}`:                                 "adults.quota",
		`{` + base + `,"adults":{"regions":["R"],"quota_by_year":{"next":1}}}`:                 "adults.quota_by_year.next",
		`{` + base + `,"adults":{"regions":["R"],"citizenship":"RUS"}}`:                        "adults.citizenship",
		`{` + base + `,"adults":{"regions":["R"],"documents_deadline_days":400}}`:              "adults.documents_deadline_days",
		`{` + base + `,"lockout":{"window":"forever"}}`:                                        "lockout.window",
		`{` + base + `,"municipalities":["a"]}`:                                                "municipalities",
	} {
		_, err := region.Parse([]byte(body))
		if err == nil || !strings.HasPrefix(err.Error(), field+": ") {
			t.Errorf("%s: %v, want an error naming %s", body, err, field)
		}
	}
}

// TestPensionAges: adults.pension_ages replaces the national table; absent,
// the national one decides; a wrong table is refused naming the row's field.
func TestPensionAges(t *testing.T) {
	head := `{"name":"x","time_zone":"UTC","children":{"municipalities":["a"]},"adults":{"regions":["R"]`
	women1964 := certificate.Holder{PersonID: "p", FullName: "Н", BirthDate: funding.MustDate(1964, time.June, 15), Sex: certificate.Female,
		Citizenship: "RU", Education: certificate.EducationHigher, Region: "R", Registration: certificate.Permanent}
	on := funding.MustDate(2019, time.September, 1)

	r, err := region.Parse([]byte(head + `}}`))
	if err != nil {
		t.Fatal(err)
	}
	if d := r.Apply(enrollment.DefaultConfig()).Adults.Decide(women1964, on, nil); !d.Eligible {
		t.Errorf("national table: a woman born 1964 reaches 55 years 6 months on 2019-12-15, eligible on %s: %+v", on, d)
	}

	// The region keeps 55 years for women born up to 1964.
	r, err = region.Parse([]byte(head + `,"pension_ages":[
		{"sex":"male","years":65},
		{"sex":"female","born_to":1964,"years":55},
		{"sex":"female","born_from":1965,"years":60}]}}`))
	if err != nil {
		t.Fatal(err)
	}
	ad := r.Apply(enrollment.DefaultConfig()).Adults
	if m, _ := ad.PensionAges.Months(1964, certificate.Female); m != 55*12 {
		t.Errorf("women born 1964: %d months, want %d", m, 55*12)
	}
	d := ad.Decide(women1964, on, nil)
	want := "the general pension age 55 years (female, born 1964) is reached on 2019-06-15, on or before 2019-09-01"
	if d.Eligible || len(d.Reasons) != 1 || d.Reasons[0].Rule != certificate.RulePensionAgeReached || d.Reasons[0].Message != want {
		t.Errorf("the region's table: %+v, want %q", d, want)
	}

	// The national table written out is accepted and decides the same.
	var rows []string
	for _, row := range certificate.DefaultPensionAges() {
		rows = append(rows, fmt.Sprintf(`{"sex":%q,"born_from":%d,"born_to":%d,"years":%d,"months":%d}`,
			row.Sex, row.BornFrom, row.BornTo, row.Months/12, row.Months%12))
	}
	r, err = region.Parse([]byte(head + `,"pension_ages":[` + strings.Join(rows, ",") + `]}}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Apply(enrollment.DefaultConfig()).Adults.PensionAges; !reflect.DeepEqual(got, certificate.DefaultPensionAges()) {
		t.Errorf("the national table written out: %+v", got)
	}

	male := `{"sex":"male","years":65}`
	for body, want := range map[string]string{
		`[]`: "adults.pension_ages: must list the rows",
		`[` + male + `,{"sex":"woman","years":60}]`:              "adults.pension_ages[1].sex: must be male or female, got \"woman\"",
		`[` + male + `,{"sex":"female","years":60,"months":12}]`: "adults.pension_ages[1].months: must be from 0 to 11",
		`[` + male + `,{"sex":"female","years":35}]`:             "adults.pension_ages[1].years: must make an age from 40 to 80 years, got 35 years 0 months",
		`[` + male + `,{"sex":"female","years":80,"months":6}]`:  "adults.pension_ages[1].years: must make an age from 40 to 80 years",
		`[` + male + `,{"sex":"female","months":666}]`:           "adults.pension_ages[1].months: must be from 0 to 11",
		`[` + male + `]`: "adults.pension_ages: has no row for female",
		`[` + male + `,{"sex":"female","born_to":1963,"years":55},{"sex":"female","born_from":1965,"years":60}]`: "adults.pension_ages[2].born_from: leaves female born 1964 without a pension age",
		`[` + male + `,{"sex":"female","born_to":1964,"years":55},{"sex":"female","born_from":1964,"years":60}]`: "adults.pension_ages[2].born_from: overlaps pension_ages[1]",
		`[` + male + `,{"sex":"female","born_from":1950,"years":60}]`:                                            "adults.pension_ages[1].born_from: leaves female born before 1950",
		`[` + male + `,{"sex":"female","born_from":1966,"born_to":1965,"years":60}]`:                             "adults.pension_ages[1].born_to: must not be before born_from 1966, got 1965",
		`[` + male + `,{"sex":"female","years":60,"age":60}]`:                                                    "age: is not a known field",
		`[` + male + `,{"sex":"female","years":"60"}]`:                                                           "adults.pension_ages.years: must be of JSON type int",
	} {
		_, err := region.Parse([]byte(head + `,"pension_ages":` + body + `}}`))
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%s: %v, want an error starting %q", body, err, want)
		}
	}
}
