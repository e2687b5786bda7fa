package web

import "net/http"

func (h *handler) adultRoutes(mux *http.ServeMux) {}
