package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/lib/pq"
	"github.com/lib/pq/pqerror"

	"xii/survey-svc/survey"
)

// insertResponse stores one response; xid and created_at take their defaults.
const insertResponse = `INSERT INTO responses (survey, text, device, location, answers)
VALUES ($1, $2, $3, $4, $5)
RETURNING id, created_at`

// Create stores r and returns it with ID and CreatedAt set. Values the
// schema refuses (see the CHECK constraints) yield an error wrapping
// survey.ErrInvalid.
func (s *Store) Create(ctx context.Context, r survey.NewResponse) (survey.Response, error) {
	resp := survey.Response{
		Survey:   r.Survey,
		Text:     r.Text,
		Device:   r.Device,
		Location: r.Location,
		Answers:  r.Answers,
	}
	err := s.db.QueryRowContext(ctx, insertResponse, insertArgs(r)...).Scan(&resp.ID, &resp.CreatedAt)
	if err != nil {
		return survey.Response{}, fmt.Errorf("create response: %w", translate(err))
	}
	resp.CreatedAt = resp.CreatedAt.UTC()
	return resp, nil
}

// insertArgs returns insertResponse's parameters for r.
func insertArgs(r survey.NewResponse) []any {
	// lib/pq sends []byte as bytea; jsonb wants the text.
	var answers any
	if len(r.Answers) > 0 {
		answers = string(r.Answers)
	}
	return []any{r.Survey, r.Text, r.Device, r.Location, answers}
}

// translate maps the driver errors that mean "bad value" to survey.ErrInvalid
// and leaves the rest alone.
func translate(err error) error {
	pqErr := pq.As(err)
	switch {
	case pqErr == nil:
		return err
	case pqErr.Code == pqerror.CheckViolation:
		// Constraints are named responses_<field>_<rule>.
		field, _, _ := strings.Cut(strings.TrimPrefix(pqErr.Constraint, "responses_"), "_")
		return fmt.Errorf("%w: %s: refused by constraint %s", survey.ErrInvalid, field, pqErr.Constraint)
	case pqErr.Code == pqerror.NotNullViolation:
		return fmt.Errorf("%w: %s: required", survey.ErrInvalid, pqErr.Column)
	case pqErr.Code.Class() == "22": // data exception: bad encoding, bad JSON, ...
		return fmt.Errorf("%w: %s", survey.ErrInvalid, pqErr.Message)
	}
	return err
}
