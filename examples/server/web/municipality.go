package web

import "net/http"

func (h *handler) municipalityRoutes(mux *http.ServeMux) {}
