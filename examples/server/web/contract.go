package web

import "net/http"

func (h *handler) contractRoutes(mux *http.ServeMux) {}
