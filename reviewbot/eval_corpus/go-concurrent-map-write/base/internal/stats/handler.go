package stats

import (
	"encoding/json"
	"net/http"
)

type Summary struct {
	Service string `json:"service"`
	Version string `json:"version"`
}

func SummaryHandler(version string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(Summary{Service: "stats", Version: version})
	}
}
