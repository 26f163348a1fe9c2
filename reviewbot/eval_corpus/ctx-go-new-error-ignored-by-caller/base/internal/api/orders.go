package api

import (
	"encoding/json"
	"net/http"

	"example.com/shop/internal/store"
)

type Handler struct {
	Store *store.Store
}

func (h *Handler) UpdateOrder(w http.ResponseWriter, r *http.Request) {
	var o store.Order
	if err := json.NewDecoder(r.Body).Decode(&o); err != nil {
		http.Error(w, "bad order", http.StatusBadRequest)
		return
	}
	h.Store.Save(o)
	w.WriteHeader(http.StatusNoContent)
}
