package discovery

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
)

// Dialects a provider can speak; the aggregator has an adapter for each.
const (
	DialectXII      = "xii-v1"   // survey-svc's export API
	DialectTypeform = "typeform" // the Typeform Responses API
	DialectAlchemer = "alchemer" // Alchemer's (SurveyGizmo's) v5 SurveyResponse API
)

// maxURLLen bounds a descriptor's URL, so a typo cannot fill etcd.
const maxURLLen = 2048

// Descriptor is the value of a provider key: where the provider's export
// API is and which dialect it speaks. It deliberately has no credentials.
type Descriptor struct {
	URL     string `json:"url"`
	Dialect string `json:"dialect"`
}

// Validate reports whether d names an absolute http(s) URL without
// credentials and a known dialect.
func (d Descriptor) Validate() error {
	if err := validateURL(d.URL); err != nil {
		return fmt.Errorf("descriptor url: %w", err)
	}
	switch d.Dialect {
	case DialectXII, DialectTypeform, DialectAlchemer:
		return nil
	case "":
		return errors.New("descriptor dialect: empty")
	default:
		return fmt.Errorf("descriptor dialect: %q is unknown, want %q, %q or %q", d.Dialect, DialectXII, DialectTypeform, DialectAlchemer)
	}
}

// Encode validates d and returns it as the JSON value of a provider key.
func (d Descriptor) Encode() (string, error) {
	if err := d.Validate(); err != nil {
		return "", err
	}
	b, err := json.Marshal(d)
	if err != nil {
		return "", fmt.Errorf("encode descriptor: %w", err)
	}
	return string(b), nil
}

// ParseDescriptor decodes and validates the value of a provider key.
// Unknown fields are ignored, so newer writers do not break older readers.
func ParseDescriptor(value []byte) (Descriptor, error) {
	var d Descriptor
	if err := json.Unmarshal(value, &d); err != nil {
		return Descriptor{}, fmt.Errorf("parse descriptor: %w", err)
	}
	if err := d.Validate(); err != nil {
		return Descriptor{}, err
	}
	return d, nil
}

func validateURL(raw string) error {
	if raw == "" {
		return errors.New("empty")
	}
	if len(raw) > maxURLLen {
		return fmt.Errorf("longer than %d bytes", maxURLLen)
	}
	u, err := url.Parse(raw)
	if uerr := (*url.Error)(nil); errors.As(err, &uerr) {
		return fmt.Errorf("not a valid URL: %w", uerr.Err) // without the URL, which may hold a secret
	} else if err != nil {
		return err
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("%q is not an absolute http or https URL", u.Redacted())
	case u.Hostname() == "":
		return fmt.Errorf("%q has no host", u.Redacted())
	case u.User != nil:
		return errors.New("must not carry credentials; configure them in the aggregator")
	}
	return nil
}
