package api_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestPaperActivationAndWeek walks seed 004's paper path and seed 002's
// week over the API: a family applies, the provider records the signed
// paper application and activates the contract itself (one
// contract.activated event), and the child's week shows the group's
// sessions, which the provider set on the group.
func TestPaperActivationAndWeek(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		d := e.demo
		robo := e.provider("Робоцентр")
		const guardian = "guardian-paper"
		parent := e.holder(guardian)
		kid := e.issueChild(guardian, "paper-child", "Бумагин Пётр Иванович")

		// The group gets its week; bad sessions are refused naming the field.
		var offer struct {
			Group struct {
				ID, Name, Start, End string
				Capacity             int
			}
			Module struct{ ID string }
		}
		e.must(http.StatusOK, "GET", "/v1/groups/"+d.WalkthroughGroup.String(), robo, "", nil).json(t, &offer)
		group := func(sessions []any) map[string]any {
			return map[string]any{"id": offer.Group.ID, "module_id": offer.Module.ID, "name": offer.Group.Name, "start": offer.Group.Start,
				"end": offer.Group.End, "capacity": offer.Group.Capacity, "schedule": "вт, чт 16:00–17:30", "sessions": sessions}
		}
		bad := e.do("POST", "/v1/catalog/groups", robo, "paper-group-bad", group([]any{map[string]any{"weekday": 2, "start": "17:30", "end": "16:00"}}))
		require.Equal(t, http.StatusBadRequest, bad.status, bad.body)
		require.Contains(t, string(bad.body), "sessions[0].end")
		var saved struct {
			Sessions []struct {
				Weekday    int
				Start, End string
				Place      string
			}
		}
		e.must(http.StatusOK, "POST", "/v1/catalog/groups", robo, "paper-group", group([]any{
			map[string]any{"weekday": 4, "start": "16:00", "end": "17:30"},
			map[string]any{"weekday": 2, "start": "16:00", "end": "17:30", "place": "каб. 204"},
		})).json(t, &saved)
		require.Len(t, saved.Sessions, 2)
		require.Equal(t, 2, saved.Sessions[0].Weekday, "sessions are kept by day")

		var app contractJSON
		e.must(http.StatusCreated, "POST", "/v1/applications", parent, "paper-submit",
			map[string]any{"certificate_id": kid.ID, "group_id": d.WalkthroughGroup.String(), "co_pay_accepted": true}).json(t, &app)
		body := map[string]any{"application_number": "З-2026/017", "signed_on": "2026-01-09", "number": kid.Number, "full_name": "Бумагин Пётр Иванович"}
		// The family may not activate on paper; the provider must name the child.
		e.must(http.StatusForbidden, "POST", "/v1/contracts/"+app.ID+"/activate-paper", parent, "paper-by-parent", body)
		wrong := map[string]any{"application_number": "З-2026/017", "signed_on": "2026-01-09", "number": kid.Number, "full_name": "Другой Ребёнок"}
		e.must(http.StatusUnprocessableEntity, "POST", "/v1/contracts/"+app.ID+"/activate-paper", robo, "paper-wrong-name", wrong)
		var out struct {
			contractJSON
			PaperApplication struct {
				Number   string `json:"number"`
				SignedOn string `json:"signed_on"`
			} `json:"paper_application"`
		}
		e.must(http.StatusOK, "POST", "/v1/contracts/"+app.ID+"/activate-paper", robo, "paper-activate", body).json(t, &out)
		require.Equal(t, "active", out.Status)
		require.Equal(t, "З-2026/017", out.PaperApplication.Number)
		require.Equal(t, "2026-01-09", out.PaperApplication.SignedOn)
		e.must(http.StatusConflict, "POST", "/v1/contracts/"+app.ID+"/activate-paper", robo, "paper-again", body)

		var week struct {
			Lessons []struct {
				Weekday    int    `json:"weekday"`
				Start      string `json:"start"`
				Place      string `json:"place"`
				ContractID string `json:"contract_id"`
			} `json:"lessons"`
			Unscheduled []any `json:"unscheduled"`
		}
		e.must(http.StatusOK, "GET", "/v1/certificates/"+kid.ID+"/schedule", parent, "", nil).json(t, &week)
		require.Len(t, week.Lessons, 2)
		require.Equal(t, 2, week.Lessons[0].Weekday)
		require.Equal(t, "каб. 204", week.Lessons[0].Place)
		require.Equal(t, 4, week.Lessons[1].Weekday)
		require.NotEmpty(t, week.Lessons[1].Place, "a session without a place meets at the group's or the provider's address")
		require.Equal(t, app.ID, week.Lessons[0].ContractID)
		require.Empty(t, week.Unscheduled)
		e.must(http.StatusNotFound, "GET", "/v1/certificates/"+kid.ID+"/schedule", robo, "", nil)
	})
}
