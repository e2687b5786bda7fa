package api

// RequestBodies maps every route that decodes a JSON object to the wire type
// its handler decodes it into, so that the tests can probe every field of
// every body by reflection; TestTextProbe checks it against the OpenAPI
// document, so a new route with a body must be added here.
var RequestBodies = map[string]any{
	"POST /v1/certificates":                  issueIn{},
	"POST /v1/notifications/read":            markReadIn{},
	"POST /v1/admin/subscriptions":           subscriptionIn{},
	"POST /v1/admin/authorisations":          authorisationIn{},
	"POST /v1/applications":                  submitIn{},
	"POST /v1/contracts/{id}/refuse":         refuseIn{},
	"POST /v1/certificates/{id}/protection":  protectionIn{},
	"POST /v1/contracts/{id}/complete":       completeIn{},
	"POST /v1/contracts/{id}/activate-paper": paperIn{},
	"POST /v1/contracts/{id}/delivery":       deliveryIn{},
	"POST /v1/contracts/{id}/rating":         ratingIn{},
	"POST /v1/adult/applications":            adultIn{},
	"POST /v1/certificates/{id}/documents":   documentsIn{},
	"POST /v1/admin/close":                   closeIn{},
	"POST /v1/eligibility":                   eligibilityIn{},
	"POST /v1/admin/budgets":                 budgetIn{},
	"POST /v1/admin/direction-limits":        directionLimitIn{},
	"POST /v1/admin/categories":              categoryIn{},
	"POST /v1/admin/providers":               providerIn{},
	"POST /v1/catalog/programs":              programIn{},
	"POST /v1/catalog/programs/{id}/deny":    denyProgramIn{},
	"POST /v1/catalog/modules":               moduleIn{},
	"POST /v1/catalog/groups":                groupIn{},
	"POST /v1/contracts/{id}/prolong":        prolongIn{},
	"POST /v1/admin/rollover":                rolloverIn{},
	"POST /v1/guardianships":                 guardianshipIO{},
	"POST /v1/certificates/{id}/guardians":   secondGuardianIn{},
	"POST /v1/certificates/{id}/review":      reviewIn{},
	"POST /v1/admin/tokens/revoke":           revokeIn{},
	"POST /v1/admin/parameters":              parameterIn{},
	"POST /v1/admin/what-if":                 whatIfIn{},
	"POST /v1/invoices/accept":               invoiceIn{},
	"POST /v1/invoices/pay":                  invoiceIn{},
	// An import's rows are the importer's columns, not a wire type: the
	// domain's constructors clean their texts (importer's tests probe them).
	"POST /v1/admin/import": map[string][]map[string]any{},
}
