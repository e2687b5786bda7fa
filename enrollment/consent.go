package enrollment

import (
	"time"

	"github.com/edufund/edufund/funding"
)

// Consent is the consent to the processing of personal data an applicant
// gave with an application (seed 002/004): the version of the text they
// agreed to and when, the application's time.
//
// It is not required of an application: the region publishes the text
// and its versions outside edufund, and an application a provider creates
// on a signed paper or one submitted by a batch may carry its consent on
// paper. A client that shows the text sends its version, and the contract
// keeps it with the time.
type Consent struct {
	Version string
	At      time.Time
}

// Given reports whether a consent was recorded.
func (c Consent) Given() bool { return c.Version != "" }

// consent is the consent r gives at now: zero without a version; a
// version is a one-line text of at most funding.MaxCodeLen characters.
func (r SubmitRequest) consent(now time.Time) (Consent, error) {
	if r.ConsentVersion == "" {
		return Consent{}, nil
	}
	v, err := funding.Text("consent_version", r.ConsentVersion, funding.MaxCodeLen)
	if err != nil {
		return Consent{}, err
	}
	if v == "" {
		return Consent{}, &funding.ValidationError{Field: "consent_version", Rule: "must not be blank"}
	}
	return Consent{Version: v, At: now}, nil
}
