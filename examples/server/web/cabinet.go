package web

import "net/http"

func (h *handler) cabinetRoutes(mux *http.ServeMux) {}
