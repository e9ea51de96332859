package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sync"
)

// weighted is a distribution over a few values.
type weighted []struct {
	value  string
	weight int
}

func (w weighted) pick(rng *rand.Rand) string {
	total := 0
	for _, e := range w {
		total += e.weight
	}
	n := rng.IntN(total)
	for _, e := range w {
		if n -= e.weight; n < 0 {
			return e.value
		}
	}
	return w[len(w)-1].value
}

// The spread of generated responses: a few surveys, three devices and ten
// countries, skewed the way real traffic is. iOS in Germany, the
// dashboard's example filter, is about 9% of all responses.
var (
	surveys = weighted{{"default", 40}, {"onboarding", 25}, {"nps", 20}, {"checkout", 15}}
	devices = weighted{{"iOS", 40}, {"Android", 45}, {"web", 15}}
	places  = weighted{{"Germany", 22}, {"USA", 18}, {"France", 12}, {"UK", 10}, {"Spain", 8},
		{"Italy", 8}, {"Netherlands", 6}, {"Poland", 6}, {"Brazil", 5}, {"Japan", 5}}
	texts = []string{"loved it", "too slow", "could be better", "works as expected",
		"the checkout failed twice", "great support", "confusing settings page", "would recommend"}
)

// spread generates survey-svc request bodies, safe for concurrent use.
// The same seed gives the same sequence.
type spread struct {
	mu  sync.Mutex
	rng *rand.Rand
	n   int
}

func newSpread(seed uint64) *spread {
	return &spread{rng: rand.New(rand.NewPCG(seed, 0x786969))}
}

// response is one generated survey response.
type response struct {
	Survey   string         `json:"survey"`
	Text     string         `json:"text"`
	Device   string         `json:"device"`
	Location string         `json:"location"`
	Answers  map[string]any `json:"answers,omitempty"`
}

func (s *spread) next() response {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n++
	r := response{
		Survey:   surveys.pick(s.rng),
		Text:     fmt.Sprintf("%s (#%d)", texts[s.rng.IntN(len(texts))], s.n),
		Device:   devices.pick(s.rng),
		Location: places.pick(s.rng),
	}
	if s.rng.IntN(4) > 0 { // most responses carry answers
		r.Answers = map[string]any{"score": s.rng.IntN(11), "recommend": s.rng.IntN(2) == 1}
	}
	return r
}

// body returns the next response as a JSON request body.
func (s *spread) body() []byte {
	b, err := json.Marshal(s.next())
	if err != nil {
		panic(err) // strings, ints and bools always marshal
	}
	return b
}
