package web

import "net/http"

func (h *handler) providerRoutes(mux *http.ServeMux) {}
