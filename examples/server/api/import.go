package api

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/edufund/edufund/examples/server/importer"
)

// POST /v1/admin/import: a region's JSON file (examples/server/importer's
// sections) imported by the regional operator. Every row is checked
// before anything is written; bad rows answer 400 with each of them
// (rows), and nothing is written. The rows carry their own idempotency
// keys, so a repeated request writes nothing more. A large region is
// imported with the server's import command, which shows progress; the
// body here is bounded by maxImportBody.

// maxImportBody bounds an import's body: a region of some tens of
// thousands of rows.
const maxImportBody = 32 << 20

// RowProblem is one bad row of an import.
type RowProblem struct {
	File    string `json:"file"`
	Line    int    `json:"line"`
	Section string `json:"section,omitempty"`
	Field   string `json:"field,omitempty"`
	Rule    string `json:"rule"`
	Value   string `json:"value,omitempty"`
}

func rowProblem(e importer.RowError) RowProblem {
	return RowProblem{File: e.File, Line: e.Line, Section: e.Section, Field: e.Field, Rule: e.Rule, Value: e.Value}
}

type importSectionOut struct {
	Section   string `json:"section"`
	Created   int    `json:"created"`
	Updated   int    `json:"updated"`
	Unchanged int    `json:"unchanged"`
}

type importOut struct {
	CheckOnly bool               `json:"check_only"`
	Written   int                `json:"written"`
	Sections  []importSectionOut `json:"sections"`
}

func (h *Handler) importRegion(w http.ResponseWriter, r *http.Request, c call) error {
	q := r.URL.Query()
	if err := onlyParams(q, "check"); err != nil {
		return err
	}
	check := false
	if v, ok := q["check"]; ok {
		switch v[0] {
		case "true":
			check = true
		case "false":
		default:
			return invalidField("check", "must be true or false")
		}
	}
	body, err := readBody(w, r, maxImportBody)
	if err == io.EOF {
		return invalidField("body", "must be a JSON object of the region's sections")
	}
	if err != nil {
		return err
	}
	src := importer.NewSource()
	if err := src.ReadJSON("body", bytes.NewReader(body)); err != nil {
		return importProblem(err)
	}
	res, err := importer.Import(r.Context(), h.cfg.Service, src, importer.Options{By: c.p.Caller(), CheckOnly: check})
	if err != nil {
		return importProblem(err)
	}
	out := importOut{CheckOnly: res.CheckOnly, Written: res.Written, Sections: []importSectionOut{}}
	for _, s := range res.Sections {
		out.Sections = append(out.Sections, importSectionOut{Section: s.Section, Created: s.Created, Updated: s.Updated, Unchanged: s.Unchanged})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// importProblem answers bad rows with each of them, and a row the service
// refused while writing with that row.
func importProblem(err error) error {
	var (
		rep *importer.Report
		ae  *importer.ApplyError
	)
	switch {
	case errors.As(err, &rep):
		p := newProblem(http.StatusBadRequest, CodeInvalid, fmt.Sprintf("%d bad rows, nothing imported", len(rep.Errors)))
		if len(rep.Errors) == 1 {
			p.Detail = "1 bad row, nothing imported"
		}
		for _, e := range rep.Errors {
			p.Rows = append(p.Rows, rowProblem(e))
		}
		return p
	case errors.As(err, &ae):
		p := newProblem(http.StatusUnprocessableEntity, CodeRefused, ae.Error())
		p.Rows = []RowProblem{rowProblem(ae.Row)}
		return p
	}
	return err
}
