package dashboard

import (
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// TestOpenAPIValid checks the description against the OpenAPI 3 rules,
// examples against their schemas included.
func TestOpenAPIValid(t *testing.T) {
	loader := openapi3.NewLoader()
	d, err := loader.LoadFromFile(openAPIPath)
	if err != nil {
		t.Fatalf("load %s: %v", openAPIPath, err)
	}
	if err := d.Validate(t.Context(), openapi3.EnableExamplesValidation()); err != nil {
		t.Fatalf("%s is not a valid OpenAPI 3 description: %v", openAPIPath, err)
	}
}
