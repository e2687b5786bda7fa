package api_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/edufund/edufund/catalog"
	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/examples/server/demo"
	"github.com/edufund/edufund/funding"
)

// TestWaitlistAPI walks a full group's waitlist through the API: joined
// (202), the position read, the seat a withdrawal frees offered, confirmed.
func TestWaitlistAPI(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		sys := enrollment.AsSystem("test")
		offer, err := e.svc.Offer(ctx, e.demo.WalkthroughGroup)
		require.NoError(t, err)
		g, err := e.svc.SaveGroup(ctx, uuid.NewString(), catalog.Group{ModuleID: offer.Module.ID, Name: "Лист ожидания",
			Start: offer.Group.Start, End: offer.Group.End, Capacity: 1}, sys)
		require.NoError(t, err)
		child := func(i int) string {
			res, err := e.svc.Issue(ctx, uuid.NewString(), enrollment.IssueRequest{Holder: certificate.Holder{
				PersonID: fmt.Sprintf("waitlist-child-%d", i), FullName: fmt.Sprintf("Иванов Пётр %d", i),
				BirthDate: funding.MustDate(2015, time.March, 10), Sex: certificate.Male, Citizenship: "RU",
				Region: "reg-1", Municipality: demo.MunCity, Registration: certificate.Permanent,
			}, GuardianID: demo.GuardianIvanova, Category: demo.CategoryCity, Funded: true, By: sys})
			require.NoError(t, err)
			_, err = e.svc.ChangeStatus(ctx, uuid.NewString(), res.Certificate.ID, enrollment.ActivateCertificate, sys)
			require.NoError(t, err)
			return res.Certificate.ID.String()
		}
		a, b := child(1), child(2)
		ivanova := e.holder(demo.GuardianIvanova)
		var seat struct{ ID string }
		e.must(http.StatusCreated, "POST", "/v1/applications", ivanova, uuid.NewString(), map[string]any{"certificate_id": a, "group_id": g.ID}).json(t, &seat)
		e.must(http.StatusUnprocessableEntity, "POST", "/v1/applications", ivanova, uuid.NewString(), map[string]any{"certificate_id": b, "group_id": g.ID})
		var joined struct {
			ID, Status string
			Position   int
		}
		e.must(http.StatusAccepted, "POST", "/v1/applications", ivanova, uuid.NewString(), map[string]any{"certificate_id": b, "group_id": g.ID, "waitlist": true}).json(t, &joined)
		require.Equal(t, "waiting", joined.Status)
		require.Equal(t, 1, joined.Position)
		e.must(http.StatusBadRequest, "POST", "/v1/applications", e.provider("Робоцентр"), uuid.NewString(), map[string]any{"group_id": g.ID, "number": "0000000000", "waitlist": true})
		e.must(http.StatusNotFound, "GET", "/v1/certificates/"+b+"/waitlist", e.holder(demo.GuardianPetrov), "", nil)

		e.must(http.StatusOK, "POST", "/v1/contracts/"+seat.ID+"/withdraw", ivanova, uuid.NewString(), nil)
		var list struct {
			Items []struct {
				ID, Status, Deadline string
				ContractID           string `json:"contract_id"`
			}
		}
		e.must(http.StatusOK, "GET", "/v1/certificates/"+b+"/waitlist", ivanova, "", nil).json(t, &list)
		require.Len(t, list.Items, 1)
		require.Equal(t, "offered", list.Items[0].Status)
		require.NotEmpty(t, list.Items[0].Deadline)
		e.must(http.StatusOK, "GET", "/v1/contracts/"+list.Items[0].ContractID, ivanova, "", nil)
		e.must(http.StatusOK, "POST", "/v1/waitlist/"+joined.ID+"/confirm", ivanova, uuid.NewString(), nil)
		e.must(http.StatusConflict, "POST", "/v1/waitlist/"+joined.ID+"/leave", ivanova, uuid.NewString(), nil)
		e.must(http.StatusForbidden, "POST", "/v1/waitlist/"+joined.ID+"/leave", e.auditor(), uuid.NewString(), nil)
		var expiry struct{ Expired int }
		e.must(http.StatusOK, "POST", "/v1/admin/expire-waitlist-offers", e.regional(), uuid.NewString(), nil).json(t, &expiry)
		require.Zero(t, expiry.Expired, "the offer was confirmed")
		e.must(http.StatusForbidden, "POST", "/v1/admin/expire-waitlist-offers", e.auditor(), uuid.NewString(), nil)
	})
}
