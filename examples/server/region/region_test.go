package region_test

import (
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
