package envflag

import (
	"slices"
	"testing"
)

func TestList(t *testing.T) {
	for in, want := range map[string][]string{
		"":              nil,
		" , ":           nil,
		"a:1":           {"a:1"},
		" a:1, ,b:2 , ": {"a:1", "b:2"},
	} {
		if got := List(in); !slices.Equal(got, want) {
			t.Errorf("List(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestListenPort(t *testing.T) {
	for addr, want := range map[string]string{":1101": "1101", "127.0.0.1:0": "0", "[::1]:80": "80"} {
		if got, err := ListenPort(addr); err != nil || got != want {
			t.Errorf("ListenPort(%q) = %q, %v; want %q", addr, got, err, want)
		}
	}
	for _, addr := range []string{"1101", ":http", ":70000", "a:b:c"} {
		if _, err := ListenPort(addr); err == nil {
			t.Errorf("ListenPort(%q) accepted", addr)
		}
	}
}
