package main

import (
	"encoding/json"
	"errors"
	"log"
	"net/http"
)

// api holds what the handlers share.
type api struct {
	store *store
}

// apiError is the body of every error answer.
type apiError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(body); err != nil {
		log.Printf("write response: %v", err)
	}
}

func writeError(w http.ResponseWriter, status int, code, message string) {
	writeJSON(w, status, map[string]apiError{"error": {Code: code, Message: message}})
}

// fail answers err: a validation error, one of the store's refusals, or a 500.
func fail(w http.ResponseWriter, err error) {
	switch {
	case isInvalid(err):
		writeError(w, http.StatusUnprocessableEntity, "validation_failed", err.Error())
	case errors.Is(err, errNotFound):
		writeError(w, http.StatusNotFound, "not_found", err.Error())
	case errors.Is(err, errUnknownProduct):
		writeError(w, http.StatusUnprocessableEntity, "unknown_product", err.Error())
	case errors.Is(err, errSKUTaken), errors.Is(err, errInsufficientStock),
		errors.Is(err, errKeyReused), errors.Is(err, errAlreadyCancelled):
		writeError(w, http.StatusConflict, err.Error(), err.Error())
	default:
		log.Printf("internal error: %v", err)
		writeError(w, http.StatusInternalServerError, "internal", "internal error")
	}
}

func (a *api) createProduct(w http.ResponseWriter, r *http.Request) {
	p, err := newProduct(r)
	if err == nil {
		p, err = a.store.insertProduct(r.Context(), p)
	}
	if err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, p)
}

func (a *api) getProduct(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r)
	if !ok {
		fail(w, errNotFound)
		return
	}
	p, err := a.store.product(r.Context(), id)
	if err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, p)
}

func (a *api) listProducts(w http.ResponseWriter, r *http.Request) {
	limit, offset, err := page(r)
	if err != nil {
		fail(w, err)
		return
	}
	inStock := r.URL.Query().Get("in_stock") == "true"
	items, total, err := a.store.products(r.Context(), limit, offset, inStock)
	if err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"items": items, "total": total, "limit": limit, "offset": offset,
	})
}

func (a *api) changeStock(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r)
	if !ok {
		fail(w, errNotFound)
		return
	}
	fields, err := object(r)
	var delta int64
	if err == nil {
		raw, errRequired := required(fields, "delta")
		err = errRequired
		if err == nil {
			delta, err = integer(raw, "delta", -1<<31, 1<<31-1)
		}
	}
	var p product
	if err == nil {
		p, err = a.store.changeStock(r.Context(), id, delta)
	}
	if err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, p)
}

func (a *api) placeOrder(w http.ResponseWriter, r *http.Request) {
	customer, items, err := newOrder(r)
	if err != nil {
		fail(w, err)
		return
	}
	o, replayed, err := a.store.placeOrder(r.Context(), customer, items,
		r.Header.Get("Idempotency-Key"))
	if err != nil {
		fail(w, err)
		return
	}
	status := http.StatusCreated
	if replayed {
		status = http.StatusOK
	}
	writeJSON(w, status, o)
}

func (a *api) getOrder(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r)
	if !ok {
		fail(w, errNotFound)
		return
	}
	o, err := a.store.order(r.Context(), a.store.db, id)
	if err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, o)
}

func (a *api) listOrders(w http.ResponseWriter, r *http.Request) {
	limit, offset, err := page(r)
	if err != nil {
		fail(w, err)
		return
	}
	q := r.URL.Query()
	status := q.Get("status")
	if status != "" && status != "placed" && status != "cancelled" {
		fail(w, invalid("status: placed or cancelled"))
		return
	}
	items, total, err := a.store.orders(r.Context(), limit, offset, q.Get("customer"), status)
	if err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"items": items, "total": total, "limit": limit, "offset": offset,
	})
}

func (a *api) cancelOrder(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r)
	if !ok {
		fail(w, errNotFound)
		return
	}
	o, err := a.store.cancel(r.Context(), id)
	if err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, o)
}
