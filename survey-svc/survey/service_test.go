package survey

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestNewResponseValidate(t *testing.T) {
	valid := NewResponse{Text: "hi", Device: "iOS", Location: "Germany"}
	tests := []struct {
		name    string
		edit    func(*NewResponse)
		wantErr string // substring; empty means valid
	}{
		{"valid", func(*NewResponse) {}, ""},
		{"default survey", func(n *NewResponse) { n.Survey = "  " }, ""},
		{"answers object", func(n *NewResponse) { n.Answers = json.RawMessage(`{"q1":5}`) }, ""},
		{"answers null", func(n *NewResponse) { n.Answers = json.RawMessage(`null`) }, ""},
		{"missing text", func(n *NewResponse) { n.Text = " " }, "text: required"},
		{"missing device", func(n *NewResponse) { n.Device = "" }, "device: required"},
		{"missing location", func(n *NewResponse) { n.Location = "" }, "location: required"},
		{"long text", func(n *NewResponse) { n.Text = strings.Repeat("é", MaxTextLen+1) }, "text: longer than 4096"},
		{"max text", func(n *NewResponse) { n.Text = strings.Repeat("é", MaxTextLen) }, ""},
		{"long device", func(n *NewResponse) { n.Device = strings.Repeat("d", MaxDeviceLen+1) }, "device: longer"},
		{"long survey", func(n *NewResponse) { n.Survey = strings.Repeat("s", MaxSurveyLen+1) }, "survey: longer"},
		{"bad utf8", func(n *NewResponse) { n.Location = "a\xffb" }, "location: not valid UTF-8"},
		{"nul", func(n *NewResponse) { n.Text = "a\x00b" }, "text: contains a NUL"},
		{"answers array", func(n *NewResponse) { n.Answers = json.RawMessage(`[1]`) }, "answers: must be a JSON object"},
		{"answers too big", func(n *NewResponse) {
			n.Answers = json.RawMessage(`{"a":"` + strings.Repeat("x", MaxAnswersSize) + `"}`)
		}, "answers: larger than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := valid
			tt.edit(&n)
			n.Normalize()
			err := n.Validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Validate() = %v, want ErrInvalid containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestSubmitStoresNothingOnInvalidInput(t *testing.T) {
	repo := newMemRepo()
	s := NewService(repo)
	if _, err := s.Submit(context.Background(), NewResponse{Text: "x"}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("Submit() = %v, want ErrInvalid", err)
	}
	if n := len(repo.rows); n != 0 {
		t.Fatalf("%d rows stored after an invalid submit, want 0", n)
	}
	got, err := s.Submit(context.Background(), NewResponse{Text: " x ", Device: "iOS", Location: "DE"})
	if err != nil {
		t.Fatal(err)
	}
	if got.Text != "x" || got.Survey != DefaultSurvey || got.ID == 0 {
		t.Fatalf("Submit() = %+v, want trimmed text, default survey and an id", got)
	}
}

func TestExportLimits(t *testing.T) {
	s := NewService(newMemRepo())
	for _, limit := range []int{-1, MaxExportLimit + 1} {
		if _, err := s.Export(context.Background(), ExportQuery{Limit: limit}); !errors.Is(err, ErrInvalid) {
			t.Errorf("Export(limit=%d) = %v, want ErrInvalid", limit, err)
		}
	}
	if _, err := s.Export(context.Background(), ExportQuery{}); err != nil {
		t.Errorf("Export(default limit) = %v", err)
	}
}

// spyRepo records the query the service passes on.
type spyRepo struct {
	memRepo
	got ExportQuery
}

func (s *spyRepo) Export(ctx context.Context, q ExportQuery) (Page, error) {
	s.got = q
	return s.memRepo.Export(ctx, q)
}

func TestExportRescanStartsFromStable(t *testing.T) {
	repo := &spyRepo{}
	frozen := Cursor{Scan: Position{XID: 9, ID: 9}, Stable: Position{XID: 5, ID: 5}}
	for _, rescan := range []bool{false, true} {
		if _, err := NewService(repo).Export(context.Background(), ExportQuery{After: frozen, Rescan: rescan}); err != nil {
			t.Fatal(err)
		}
		want := frozen
		if rescan {
			want = frozen.Rewind()
		}
		if repo.got.After != want {
			t.Errorf("rescan=%v: store asked after %#v, want %#v", rescan, repo.got.After, want)
		}
	}
}
