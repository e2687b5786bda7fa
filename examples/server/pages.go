package main

import "net/http"

// apiPaths are the paths the API answers: everything under /v1/ (the
// OpenAPI document, /v1/openapi.json, too), the probes and the metrics.
var apiPaths = []string{"/v1/", "/healthz", "/readyz", "/metrics"}

// routes sends the API's paths to the API and every other path to the
// pages (package web), so that each answers its own 404s: a problem
// document for an API client, a Russian page for a person.
func routes(api, pages http.Handler) http.Handler {
	mux := http.NewServeMux()
	for _, p := range apiPaths {
		mux.Handle(p, api)
	}
	mux.Handle("/", pages)
	return mux
}
