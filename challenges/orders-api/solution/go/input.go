package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
)

var skuPattern = regexp.MustCompile(`^[A-Z0-9-]{3,32}$`)

// errInvalid is a request that does not validate (422 validation_failed).
type errInvalid struct{ msg string }

// Error is the message of the validation failure.
func (e errInvalid) Error() string { return e.msg }

func invalid(format string, args ...any) error {
	return errInvalid{fmt.Sprintf(format, args...)}
}

// object reads a JSON object body, keeping numbers exact.
func object(r *http.Request) (map[string]json.RawMessage, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return nil, invalid("body: %v", err)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil || fields == nil {
		return nil, invalid("body: not a JSON object")
	}
	return fields, nil
}

// integer reads a JSON integer (not a float, a string or a boolean) within bounds.
func integer(raw json.RawMessage, name string, min, max int64) (int64, error) {
	text := strings.TrimSpace(string(raw))
	n, err := strconv.ParseInt(text, 10, 64)
	if err != nil {
		return 0, invalid("%s: an integer is required", name)
	}
	if n < min || n > max {
		return 0, invalid("%s: must be between %d and %d", name, min, max)
	}
	return n, nil
}

// text reads a JSON string of min to max characters.
func text(raw json.RawMessage, name string, min, max int) (string, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", invalid("%s: a string is required", name)
	}
	if n := len([]rune(s)); n < min || n > max {
		return "", invalid("%s: %d to %d characters", name, min, max)
	}
	return s, nil
}

func required(fields map[string]json.RawMessage, name string) (json.RawMessage, error) {
	raw, ok := fields[name]
	if !ok {
		return nil, invalid("%s: required", name)
	}
	return raw, nil
}

// newProduct validates the body of POST /products.
func newProduct(r *http.Request) (product, error) {
	var p product
	fields, err := object(r)
	if err != nil {
		return p, err
	}
	raw, err := required(fields, "sku")
	if err == nil {
		p.SKU, err = text(raw, "sku", 3, 32)
	}
	if err == nil && !skuPattern.MatchString(p.SKU) {
		err = invalid("sku: A-Z, 0-9 and - only")
	}
	if err == nil {
		raw, err = required(fields, "name")
	}
	if err == nil {
		p.Name, err = text(raw, "name", 1, 200)
	}
	if err == nil {
		raw, err = required(fields, "price_cents")
	}
	if err == nil {
		p.PriceCents, err = integer(raw, "price_cents", 0, 1<<31-1)
	}
	if raw, ok := fields["stock"]; ok && err == nil {
		p.Stock, err = integer(raw, "stock", 0, 1<<31-1)
	}
	return p, err
}

// newOrder validates the body of POST /orders: the customer and its items.
func newOrder(r *http.Request) (string, []item, error) {
	fields, err := object(r)
	if err != nil {
		return "", nil, err
	}
	raw, err := required(fields, "customer")
	if err != nil {
		return "", nil, err
	}
	customer, err := text(raw, "customer", 1, 100)
	if err != nil {
		return "", nil, err
	}
	var rawItems []map[string]json.RawMessage
	if err := json.Unmarshal(fields["items"], &rawItems); err != nil || len(rawItems) == 0 ||
		len(rawItems) > 50 {
		return "", nil, invalid("items: a list of 1 to 50 items is required")
	}
	items := make([]item, 0, len(rawItems))
	seen := map[int64]bool{}
	for i, f := range rawItems {
		id, err := integer(f["product_id"], fmt.Sprintf("items[%d].product_id", i), 1, 1<<62)
		if err != nil {
			return "", nil, err
		}
		qty, err := integer(f["quantity"], fmt.Sprintf("items[%d].quantity", i), 1, 10000)
		if err != nil {
			return "", nil, err
		}
		if seen[id] {
			return "", nil, invalid("items: product %d appears twice", id)
		}
		seen[id] = true
		items = append(items, item{ProductID: id, Quantity: qty})
	}
	return customer, items, nil
}

// page reads limit (1-100, default 20) and offset (>= 0) from the query.
func page(r *http.Request) (limit, offset int64, err error) {
	q := r.URL.Query()
	limit, offset = 20, 0
	if v := q.Get("limit"); v != "" {
		if limit, err = strconv.ParseInt(v, 10, 64); err != nil || limit < 1 || limit > 100 {
			return 0, 0, invalid("limit: an integer from 1 to 100")
		}
	}
	if v := q.Get("offset"); v != "" {
		if offset, err = strconv.ParseInt(v, 10, 64); err != nil || offset < 0 {
			return 0, 0, invalid("offset: an integer of at least 0")
		}
	}
	return limit, offset, nil
}

// pathID is the {id} of the path; ok is false when it is not a positive integer.
func pathID(r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	return id, err == nil && id > 0
}

func isInvalid(err error) bool {
	var e errInvalid
	return errors.As(err, &e)
}
