package api_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/edufund/edufund/examples/server/demo"
)

// TestAdultReviewAPI walks the federal operator's review through the API:
// the region turns it on, an adult applies and waits, the worklist shows
// it, a rejection needs reasons, an approval gives the place; a second
// guardian linked by the first sees the child's certificate; the
// competency areas are public reference data a course is checked against.
func TestAdultReviewAPI(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		federal, regional := e.federal(), e.regional()
		e.must(http.StatusCreated, "POST", "/v1/admin/parameters", regional, "review-on",
			map[string]any{"name": "adults.federal_review", "from": "2026-03-10", "value": "true", "reason": "решение региона"})
		apply := func(n int) (id string) {
			var out struct {
				Certificate struct{ ID string }
				Review      bool `json:"awaiting_review"`
				Queued      bool
			}
			e.must(http.StatusCreated, "POST", "/v1/adult/applications", federal, fmt.Sprintf("review-apply-%d", n), map[string]any{"holder": map[string]any{
				"person_id": fmt.Sprintf("review-adult-%d", n), "full_name": "Проверкина Анна", "birth_date": "1990-01-01", "sex": "female",
				"citizenship": "RU", "education": "higher", "region": demo.Region, "municipality": demo.MunCity, "registration": "permanent"}}).json(t, &out)
			require.True(t, out.Review)
			require.False(t, out.Queued)
			return out.Certificate.ID
		}
		a, b := apply(1), apply(2)
		var list struct {
			Items []struct {
				CertificateID string `json:"certificate_id"`
				Status        string
				Reasons       []string
			}
		}
		e.must(http.StatusOK, "GET", "/v1/adult/reviews?status=pending", federal, "", nil).json(t, &list)
		require.Len(t, list.Items, 2)
		require.Equal(t, a, list.Items[0].CertificateID, "oldest first")

		e.must(http.StatusBadRequest, "POST", "/v1/certificates/"+a+"/review", federal, "review-a-0", map[string]any{"approve": false})
		e.must(http.StatusOK, "POST", "/v1/certificates/"+a+"/review", federal, "review-a-1", map[string]any{"approve": false, "reasons": []string{"Нет диплома"}})
		e.must(http.StatusConflict, "POST", "/v1/certificates/"+a+"/review", federal, "review-a-2", map[string]any{"approve": true})
		var approved struct {
			Certificate struct{ Kind string }
			Queued      bool
			Position    int  `json:"queue_position"`
			Review      bool `json:"awaiting_review"`
		}
		e.must(http.StatusOK, "POST", "/v1/certificates/"+b+"/review", federal, "review-b", map[string]any{"approve": true}).json(t, &approved)
		require.False(t, approved.Review)
		require.True(t, approved.Queued, "the demo's quota is full: the approval queues, last")
		require.Equal(t, "accounting", approved.Certificate.Kind)
		var pos struct {
			Position int `json:"position"`
		}
		e.must(http.StatusOK, "GET", "/v1/certificates/"+b+"/queue", federal, "", nil).json(t, &pos)
		require.Equal(t, approved.Position, pos.Position)
		e.must(http.StatusOK, "GET", "/v1/adult/reviews?status=rejected", e.auditor(), "", nil).json(t, &list)
		require.Len(t, list.Items, 1)
		require.Equal(t, []string{"Нет диплома"}, list.Items[0].Reasons)

		// A second guardian.
		kid := e.issueChild("review-mother", "review-kid", "Второй Пётр Иванович")
		var before struct{ Items []any }
		e.must(http.StatusOK, "GET", "/v1/certificates", e.holder("review-father"), "", nil).json(t, &before)
		require.Empty(t, before.Items)
		e.must(http.StatusNotFound, "POST", "/v1/certificates/"+kid.ID+"/guardians", e.holder("review-father"), "second-0", map[string]any{"guardian_id": "review-grandma"})
		e.must(http.StatusOK, "POST", "/v1/certificates/"+kid.ID+"/guardians", e.holder("review-mother"), "second-1", map[string]any{"guardian_id": "review-father"})
		e.must(http.StatusOK, "GET", "/v1/certificates", e.holder("review-father"), "", nil).json(t, &before)
		require.Len(t, before.Items, 1)

		// Competency areas.
		var areas struct{ Areas []struct{ Code, Name string } }
		e.must(http.StatusOK, "GET", "/v1/catalog/competency-areas", "", "", nil).json(t, &areas)
		require.Len(t, areas.Areas, 22)
		course := func(area string) map[string]any {
			return map[string]any{"provider_id": e.demo.ProviderID("Робоцентр").String(), "name": "Курс " + area, "scheme": "digital_skills",
				"competency_area": area, "academic_hours": 72, "municipality": demo.MunCity}
		}
		e.must(http.StatusBadRequest, "POST", "/v1/catalog/programs", regional, "course-bad", course("астрология"))
		var saved struct {
			CompetencyArea string `json:"competency_area"`
		}
		e.must(http.StatusOK, "POST", "/v1/catalog/programs", regional, "course-ok", course(areas.Areas[0].Code)).json(t, &saved)
		require.Equal(t, areas.Areas[0].Name, saved.CompetencyArea)
	})
}
