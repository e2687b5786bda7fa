package storage_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/edufund/edufund/catalog"
	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/funding"
	"github.com/edufund/edufund/storage"
	"github.com/edufund/edufund/storage/storagetest"
)

// searchCatalogue is a small catalogue of realistic Russian program names
// from five providers, each with a short description.
type searchCatalogue struct {
	names  map[uuid.UUID]string
	byName map[string]uuid.UUID
}

func saveSearchCatalogue(t *testing.T, db *storage.DB) searchCatalogue {
	t.Helper()
	ctx := context.Background()
	providers := []string{"Дом детского творчества «Радуга»", "Шахматная школа «Ладья»", "Центр «Кванториум»", "Детская школа искусств № 3", "Спортивная школа «Олимп»"}
	programs := []struct {
		provider   int
		name, text string
		dir        catalog.Direction
		min, max   int
	}{
		{1, "Шахматы для начинающих", "Правила игры, дебюты и первые турниры.", catalog.Sport, 6, 12},
		{1, "Шахматный клуб", "Турниры и разбор партий с тренером.", catalog.Sport, 10, 17},
		{0, "Футбол", "Тренировки на свежем воздухе.", catalog.Sport, 7, 14},
		{0, "Футбольная секция для малышей", "Игры с мячом.", catalog.Sport, 5, 7},
		{0, "Рисование акварелью", "Пейзажи и натюрморты.", catalog.Arts, 6, 14},
		{0, "Ёлочные игрушки своими руками", "Новогодняя мастерская.", catalog.Arts, 5, 10},
		{2, "Робототехника на LEGO", "Конструирование и программирование роботов.", catalog.TechnicalRobotics, 7, 12},
		{2, "Программирование на Python", "Алгоритмы и первые игры; олимпиадная подготовка.", catalog.TechnicalOther, 11, 17},
		{2, "3D-моделирование", "Моделирование в Blender и печать на принтере.", catalog.TechnicalOther, 10, 17},
		{0, "Танцы", "Народный и современный танец.", catalog.Arts, 5, 17},
		{0, "Танцевальная студия «Вдохновение»", "Хореография.", catalog.Arts, 7, 17},
		{0, "Юный краевед", "Экскурсии по родному краю, экспедиции.", catalog.Tourism, 9, 15},
		{3, "Хоровое пение", "Вокал, сольфеджио и концерты.", catalog.Arts, 7, 15},
		{3, "Хор мальчиков «Соловушка»", "Академическое пение.", catalog.Arts, 8, 14},
		{3, "Театральная студия «Маска»", "Актёрское мастерство и сценическая речь.", catalog.Arts, 8, 17},
		{3, "Гончарная мастерская", "Лепка из глины и роспись.", catalog.Arts, 6, 17},
		{3, "Фотостудия «Объектив»", "Съёмка, свет и обработка фотографий.", catalog.Arts, 12, 17},
		{2, "Юный журналист", "Интервью, заметки и школьная газета.", catalog.SocialPedagogical, 11, 17},
		{2, "Экологический отряд «Зелёный патруль»", "Исследования природы родного края.", catalog.NaturalScience, 9, 14},
		{4, "Настольный теннис", "Подачи, удары и соревнования.", catalog.Sport, 8, 17},
		{4, "Лёгкая атлетика", "Бег, прыжки и метания.", catalog.Sport, 9, 17},
		{2, "Английский язык для малышей", "Песни и игры на английском.", catalog.SocialPedagogical, 5, 7},
	}
	ids := make([]uuid.UUID, len(providers))
	out := searchCatalogue{names: map[uuid.UUID]string{}, byName: map[string]uuid.UUID{}}
	require.NoError(t, db.InTx(ctx, func(ctx context.Context, tx enrollment.Tx) error {
		for i, name := range providers {
			ids[i] = uuid.Must(uuid.NewV7())
			if err := tx.SaveProvider(ctx, catalog.Provider{ID: ids[i], Name: name, INN: "7707083893", Municipality: "mo-1"}); err != nil {
				return err
			}
		}
		for _, p := range programs {
			id := uuid.Must(uuid.NewV7())
			out.names[id], out.byName[p.name] = p.name, id
			if err := tx.SaveProgram(ctx, catalog.Program{ID: id, ProviderID: ids[p.provider], Name: p.name, Description: p.text,
				Scheme: certificate.Supplementary, Direction: p.dir, Registry: catalog.Certified, MinAge: p.min, MaxAge: p.max,
				Certified: true, EnrolmentOpen: true, Municipality: "mo-1"}); err != nil {
				return err
			}
		}
		return nil
	}))
	return out
}

// TestSearchCatalog: Russian queries find what a parent means on every
// engine — inflections, ё typed as е, a prefix while typing, a provider's
// name, a word only in a description — ranked title above provider above
// text, with filters and keyset paging; every engine returns the same
// programs in the same order.
func TestSearchCatalog(t *testing.T) {
	queries := []struct {
		search catalog.Search
		top    []string // the first results, in order
		only   bool     // and nothing else
	}{
		{catalog.Search{Text: "шахматы"}, []string{"Шахматы для начинающих", "Шахматный клуб"}, true},
		{catalog.Search{Text: "шахматам"}, []string{"Шахматы для начинающих", "Шахматный клуб"}, true},
		{catalog.Search{Text: "шахматный"}, []string{"Шахматный клуб", "Шахматы для начинающих"}, true},
		{catalog.Search{Text: "шахм"}, []string{"Шахматы для начинающих", "Шахматный клуб"}, true},
		{catalog.Search{Text: "елочные игрушки"}, []string{"Ёлочные игрушки своими руками"}, true},
		{catalog.Search{Text: "футбол"}, []string{"Футбол", "Футбольная секция для малышей"}, true},
		{catalog.Search{Text: "футбол для малышей"}, []string{"Футбольная секция для малышей"}, true},
		{catalog.Search{Text: "танцы"}, []string{"Танцы", "Танцевальная студия «Вдохновение»"}, true},
		{catalog.Search{Text: "кванториум"}, []string{"Робототехника на LEGO", "Программирование на Python", "3D-моделирование",
			"Юный журналист", "Экологический отряд «Зелёный патруль»", "Английский язык для малышей"}, true}, // a tie: by id
		// The word of a description first; the school «Олимп» by the root, below.
		{catalog.Search{Text: "олимпиадная"}, []string{"Программирование на Python", "Настольный теннис", "Лёгкая атлетика"}, true},
		{catalog.Search{Text: "программирование"}, []string{"Программирование на Python", "Робототехника на LEGO"}, true},
		{catalog.Search{Text: "lego"}, []string{"Робототехника на LEGO"}, true},
		{catalog.Search{Text: "3d"}, []string{"3D-моделирование"}, true},
		{catalog.Search{Text: "экспедиции"}, []string{"Юный краевед"}, true},
		{catalog.Search{Text: "водное поло"}, nil, true},
		{catalog.Search{Text: "шохматы"}, []string{"Шахматы для начинающих"}, true}, // a typo in a title word
		{catalog.Search{Text: "робототехника лего"}, nil, true},                     // every word must match, and "лего" is not "lego"
		{catalog.Search{Text: "рисавание"}, []string{"Рисование акварелью"}, true},
		{catalog.Search{Text: "игры", Direction: catalog.Sport}, []string{"Шахматы для начинающих", "Футбольная секция для малышей"}, true},
		{catalog.Search{Text: "шахматы", Age: 15}, []string{"Шахматный клуб"}, true},
		{catalog.Search{Text: "хор"}, []string{"Хор мальчиков «Соловушка»", "Хоровое пение", "Танцевальная студия «Вдохновение»"}, true}, // «хореография», as typed so far
		{catalog.Search{Text: "хоровое"}, []string{"Хоровое пение"}, true},
		{catalog.Search{Text: "пение"}, []string{"Хоровое пение", "Хор мальчиков «Соловушка»"}, true},
		{catalog.Search{Text: "петь"}, nil, true}, // a verb the stemmer does not join to «пение»
		{catalog.Search{Text: "театр"}, []string{"Театральная студия «Маска»"}, true},
		{catalog.Search{Text: "театральный кружок"}, nil, true}, // every word must match
		{catalog.Search{Text: "актерское мастерство"}, []string{"Театральная студия «Маска»"}, true},
		{catalog.Search{Text: "глина"}, []string{"Гончарная мастерская"}, true},
		{catalog.Search{Text: "мастерская"}, []string{"Гончарная мастерская", "Ёлочные игрушки своими руками", "Театральная студия «Маска»"}, true}, // «мастерство» by the root, last
		{catalog.Search{Text: "фото"}, []string{"Фотостудия «Объектив»"}, true},
		{catalog.Search{Text: "фотографии"}, []string{"Фотостудия «Объектив»"}, true},
		{catalog.Search{Text: "журналистика"}, []string{"Юный журналист"}, true},
		{catalog.Search{Text: "юный"}, []string{"Юный краевед", "Юный журналист"}, true},
		{catalog.Search{Text: "зеленый патруль"}, []string{"Экологический отряд «Зелёный патруль»"}, true},
		{catalog.Search{Text: "экология"}, []string{"Экологический отряд «Зелёный патруль»"}, true},
		{catalog.Search{Text: "родной край"}, []string{"Юный краевед", "Экологический отряд «Зелёный патруль»"}, true},
		{catalog.Search{Text: "теннис"}, []string{"Настольный теннис"}, true},
		{catalog.Search{Text: "легкая атлетика"}, []string{"Лёгкая атлетика"}, true},
		{catalog.Search{Text: "атлетека"}, []string{"Лёгкая атлетика"}, true}, // a typo
		{catalog.Search{Text: "английский"}, []string{"Английский язык для малышей"}, true},
		{catalog.Search{Text: "малышей"}, []string{"Футбольная секция для малышей", "Английский язык для малышей"}, true}, // a tie: by id
		{catalog.Search{Text: "школа искусств"}, []string{"Хоровое пение", "Хор мальчиков «Соловушка»", "Театральная студия «Маска»", "Гончарная мастерская", "Фотостудия «Объектив»"}, true},
		{catalog.Search{Text: "ладья"}, []string{"Шахматы для начинающих", "Шахматный клуб"}, true},
		{catalog.Search{Text: "спортивная школа"}, []string{"Настольный теннис", "Лёгкая атлетика"}, true},
		{catalog.Search{Text: "соревнования", Direction: catalog.Sport}, []string{"Настольный теннис"}, true},
		{catalog.Search{Text: "", Direction: catalog.NaturalScience}, []string{"Экологический отряд «Зелёный патруль»"}, true},
	}
	got := map[string][][]string{}
	for _, kind := range storagetest.Kinds() {
		t.Run(kind, func(t *testing.T) {
			db := storagetest.Open(t, kind)
			c := saveSearchCatalogue(t, db)
			ctx := context.Background()
			for _, q := range queries {
				res, err := db.SearchCatalog(ctx, q.search)
				require.NoError(t, err, q.search.Text)
				var names []string
				for _, h := range res.Hits {
					names = append(names, c.names[h.ProgramID])
				}
				want := q.top
				if q.only {
					require.Equal(t, want, names, "%q", q.search.Text)
					require.Equal(t, len(want), res.Total, "%q", q.search.Text)
				} else {
					require.Equal(t, want, names[:len(want)], "%q", q.search.Text)
				}
				// Each engine makes its own ids: they are compared by name.
				got[kind] = append(got[kind], names)
			}
			// Whichever word drives, the answers are the same: counted only
			// up to one posting, every word looks as rare as the first.
			var rare []catalog.Results
			for _, q := range queries {
				res, err := db.SearchCatalog(ctx, q.search)
				require.NoError(t, err)
				rare = append(rare, res)
			}
			db.SearchSizeCap(1)
			for i, q := range queries {
				res, err := db.SearchCatalog(ctx, q.search)
				require.NoError(t, err)
				require.Equal(t, rare[i], res, "%q with another word driving", q.search.Text)
			}
			db.SearchSizeCap(1000)

			// Keyset paging: two at a time through everything, in one order.
			all, err := db.SearchCatalog(ctx, catalog.Search{Limit: 100})
			require.NoError(t, err)
			require.Equal(t, 22, all.Total)
			var paged []catalog.Hit
			s := catalog.Search{Limit: 2}
			for {
				page, err := db.SearchCatalog(ctx, s)
				require.NoError(t, err)
				paged = append(paged, page.Hits...)
				if page.Next == nil {
					break
				}
				s.After = page.Next
			}
			require.Equal(t, all.Hits, paged)

			require.Equal(t, map[catalog.Direction]int{catalog.Sport: 6, catalog.Arts: 9, catalog.TechnicalRobotics: 1, catalog.TechnicalOther: 2,
				catalog.Tourism: 1, catalog.SocialPedagogical: 2, catalog.NaturalScience: 1}, all.Directions)
			require.Equal(t, map[catalog.Registry]int{catalog.Certified: 22}, all.Registries)

			// Through their groups: the chess course runs in the autumn for
			// 3000.00 with one seat, football in the spring for 9000.00.
			chessGroup := uuid.Must(uuid.NewV7())
			require.NoError(t, db.InTx(ctx, func(ctx context.Context, tx enrollment.Tx) error {
				for _, g := range []struct {
					program    string
					group      uuid.UUID
					price      string
					start, end funding.Date
					capacity   int
				}{
					{"Шахматы для начинающих", chessGroup, "3000.00", funding.MustDate(2025, time.September, 1), funding.MustDate(2025, time.December, 31), 1},
					{"Футбол", uuid.Must(uuid.NewV7()), "9000.00", funding.MustDate(2026, time.January, 10), funding.MustDate(2026, time.May, 31), 10},
				} {
					m := catalog.Module{ID: uuid.Must(uuid.NewV7()), ProgramID: c.byName[g.program], Name: "Год", Price: funding.MustMoney(g.price),
						NormativePrice: funding.MustMoney(g.price), Hours: 72}
					if err := tx.SaveModule(ctx, m); err != nil {
						return err
					}
					if err := tx.SaveGroup(ctx, catalog.Group{ID: g.group, ModuleID: m.ID, Name: "А", Start: g.start, End: g.end, Capacity: g.capacity}); err != nil {
						return err
					}
				}
				return nil
			}))
			names := func(s catalog.Search) []string {
				t.Helper()
				res, err := db.SearchCatalog(ctx, s)
				require.NoError(t, err)
				var out []string
				for _, h := range res.Hits {
					out = append(out, c.names[h.ProgramID])
				}
				return out
			}
			october := funding.Month{Year: 2025, Month: time.October}
			require.Equal(t, []string{"Шахматы для начинающих"}, names(catalog.Search{Month: october}))
			require.Equal(t, []string{"Шахматы для начинающих"}, names(catalog.Search{MaxPrice: funding.MustMoney("5000.00")}))
			require.Equal(t, []string{"Шахматы для начинающих", "Футбол"}, names(catalog.Search{FreeSeats: true}))
			require.NoError(t, db.InTx(ctx, func(ctx context.Context, tx enrollment.Tx) error {
				if err := tx.EnsureCounter(ctx, "seats:"+chessGroup.String(), 1); err != nil {
					return err
				}
				return tx.Take(ctx, "seats:"+chessGroup.String(), 1)
			}))
			require.Equal(t, []string{"Футбол"}, names(catalog.Search{FreeSeats: true}), "the chess group is full")
			require.Empty(t, names(catalog.Search{Month: october, FreeSeats: true}))

			// A provider renamed is found by its new name at once.
			var prov uuid.UUID
			require.NoError(t, db.InTx(ctx, func(ctx context.Context, tx enrollment.Tx) error {
				p, err := tx.Program(ctx, c.byName["Юный краевед"])
				prov = p.ProviderID
				return err
			}))
			require.NoError(t, db.InTx(ctx, func(ctx context.Context, tx enrollment.Tx) error {
				return tx.SaveProvider(ctx, catalog.Provider{ID: prov, Name: "Станция юных туристов", INN: "7707083893", Municipality: "mo-1"})
			}))
			res, err := db.SearchCatalog(ctx, catalog.Search{Text: "туристов", Limit: 100})
			require.NoError(t, err)
			require.Equal(t, 7, res.Total, "every program of the renamed provider")

			// A program that names no municipality runs in its provider's.
			require.NoError(t, db.InTx(ctx, func(ctx context.Context, tx enrollment.Tx) error {
				p, err := tx.Program(ctx, c.byName["Юный краевед"])
				if err != nil {
					return err
				}
				p.Municipality = ""
				return tx.SaveProgram(ctx, p)
			}))
			for mun, want := range map[string]int{"mo-1": 7, "mo-2": 0} {
				res, err = db.SearchCatalog(ctx, catalog.Search{Text: "туристов", Municipality: mun})
				require.NoError(t, err)
				require.Equal(t, want, res.Total, "in %s", mun)
			}
			require.NoError(t, db.InTx(ctx, func(ctx context.Context, tx enrollment.Tx) error {
				return tx.SaveProvider(ctx, catalog.Provider{ID: prov, Name: "Станция юных туристов", INN: "7707083893", Municipality: "mo-2"})
			}))
			res, err = db.SearchCatalog(ctx, catalog.Search{Text: "туристов", Municipality: "mo-2"})
			require.NoError(t, err)
			require.Equal(t, 1, res.Total, "the provider moved, and the program without a municipality with it")

			_, err = db.SearchCatalog(ctx, catalog.Search{Limit: 1000})
			require.Error(t, err)
		})
	}
	var first string
	for kind, res := range got {
		if first == "" {
			first = kind
			continue
		}
		for i := range res {
			require.Equal(t, got[first][i], res[i], "%s and %s differ on %q", first, kind, queries[i].search.Text)
		}
	}
}
