package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromium is Debian's Chromium (apt-get install chromium), which works
// offline: no driver downloads a browser.
const chromium = "/usr/bin/chromium"

// envBrowser set to 1 (as .ci/run sets it) makes a missing Chromium fail
// the browser tests instead of skipping them.
const envBrowser = "EDUFUND_TEST_BROWSER"

// envScreenshots names a folder the browser test saves its screenshots in
// (not committed); unset, it takes none.
const envScreenshots = "EDUFUND_TEST_SCREENSHOTS"

// browser starts a headless Chromium with a fresh profile. Its flags keep
// it off the network, which is closed on the test machines: without them
// it waits on connections of its own (updates, sync, QUIC probes).
func browser(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromium); err != nil {
		if os.Getenv(envBrowser) == "1" {
			t.Fatalf("%s is required (%s=1): %v; install it with apt-get install chromium", chromium, envBrowser, err)
		}
		t.Skipf("no %s (apt-get install chromium); %s=1 makes this a failure", chromium, envBrowser)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.WindowSize(1280, 900),
	)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	ctx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancelTab := chromedp.NewContext(ctx)
	t.Cleanup(cancelTab)
	return ctx
}

// TestBrowser walks the parent's navigator in a real browser: search in
// Russian, the count, the next page, a program's page with its groups
// and prices, the demo sign-in, a bad age answered next to its field,
// and a form posted from another origin refused.
func TestBrowser(t *testing.T) {
	ctx := browser(t)
	b := &tab{t: t, ctx: ctx}

	// Search.
	b.do(chromedp.Navigate(shared.srv.URL + "/"))
	if lang := b.attr("html", "lang"); lang != "ru" {
		t.Errorf(`<html lang=%q>, want "ru"`, lang)
	}
	b.do(chromedp.SendKeys(chromedp.CSS("#q"), "шахматы"))
	b.submit(chromedp.CSS("form.search button[type=submit]"))
	if found := b.text("#found"); found != "Найдено 8\u00a0программ" {
		t.Errorf("found: %q, want «Найдено 8 программ»", found)
	}
	b.has(".programs", "Шахматы")
	b.shot("navigator")

	// Paging: a direction with more programs than a page.
	b.do(chromedp.Clear(chromedp.CSS("#q")), chromedp.SetValue(chromedp.CSS("#direction"), "arts"))
	b.submit(chromedp.CSS("form.search button[type=submit]"))
	first := b.text(".programs h3")
	b.submit(chromedp.CSS(`a[rel="next"]`))
	b.has(".pager", "В начало")
	if second := b.text(".programs h3"); second == first {
		t.Errorf("the next page starts with the first page's program %q", first)
	}

	// A program's page.
	b.submit(chromedp.CSS(".programs h3 a"))
	b.has("#groups", "Модули и группы")
	price := b.text(".module .price")
	if !regexp.MustCompile(`^\d{1,3}(\x{00a0}\d{3})*,\d\d\x{00a0}₽$`).MatchString(price) {
		t.Errorf("price %q, want the form 1 010,98 ₽", price)
	}
	b.has(".modules tbody", "мест")
	b.shot("program")

	// Sign in as a demo parent.
	b.do(chromedp.Navigate(shared.srv.URL + "/signin"))
	b.do(chromedp.Click(chromedp.CSS("#who-guardian-ivanova")))
	b.submit(chromedp.CSS("form.signin button[type=submit]"))
	if name := b.text(".user-name"); name != "Иванова Елена Викторовна" {
		t.Errorf("signed in as %q, want Иванова Елена Викторовна", name)
	}
	b.has("#cert", "Иванов Михаил Петрович")

	// A bad age: the Russian message next to the field.
	b.do(chromedp.SendKeys(chromedp.CSS("#age"), "abc"))
	b.submit(chromedp.CSS("form.search button[type=submit]"))
	b.has("#age-error", "Укажите возраст целым числом лет")
	if v := b.attr("#age", "aria-invalid"); v != "true" {
		t.Errorf("#age aria-invalid=%q", v)
	}
	if v := b.attr("#age", "aria-describedby"); v != "age-error" {
		t.Errorf("#age aria-describedby=%q", v)
	}
	b.shot("error")

	// A form on another origin that posts to the sign-in is refused:
	// the browser says where it came from, and the pages believe it.
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `<!doctype html><form method="post" action="%s/signout"><button id="go">go</button></form>`, shared.srv.URL)
	}))
	defer evil.Close()
	b.do(chromedp.Navigate(evil.URL))
	if resp := b.submit(chromedp.CSS("#go")); resp != http.StatusForbidden {
		t.Errorf("the cross-origin sign-out: status %d, want 403", resp)
	}
	b.has("main", "Форма отправлена с чужого сайта")
	b.do(chromedp.Navigate(shared.srv.URL + "/"))
	b.has(".user-name", "Иванова Елена Викторовна")
}

// tab is the browser's tab in a test: each step fails the test and stops
// it on an error, naming the step.
type tab struct {
	t   *testing.T
	ctx context.Context
}

func (b *tab) do(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.t.Fatalf("browser: %v", err)
	}
}

// submit clicks what sel finds and waits for the page it leads to; it
// returns that page's status.
func (b *tab) submit(sel chromedp.CSS) int64 {
	b.t.Helper()
	resp, err := chromedp.RunResponse(b.ctx, chromedp.Click(sel))
	if err != nil {
		b.t.Fatalf("browser: click %s: %v", sel, err)
	}
	return resp.Status
}

func (b *tab) text(sel string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("browser: text of %s: %v", sel, err)
	}
	return strings.TrimSpace(s)
}

func (b *tab) has(sel, want string) {
	b.t.Helper()
	if got := b.text(sel); !strings.Contains(got, want) {
		b.t.Errorf("%s: no %q in %q", sel, want, got)
	}
}

func (b *tab) attr(sel, name string) string {
	b.t.Helper()
	attrs, err := chromedp.Run(b.ctx, chromedp.Attributes(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("browser: attributes of %s: %v", sel, err)
	}
	return attrs[name]
}

// shot saves a screenshot of the whole page as name.png in the folder
// envScreenshots names.
func (b *tab) shot(name string) {
	b.t.Helper()
	dir := os.Getenv(envScreenshots)
	if dir == "" {
		return
	}
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100)) // quality 100 makes a PNG
	if err != nil {
		b.t.Fatalf("browser: screenshot: %v", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// location is the address of the page the tab shows.
func (b *tab) location() string {
	b.t.Helper()
	loc, err := chromedp.Run(b.ctx, chromedp.Location())
	if err != nil {
		b.t.Fatalf("browser: location: %v", err)
	}
	return loc
}
