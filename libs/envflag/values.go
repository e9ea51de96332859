package envflag

import (
	"fmt"
	"net"
	"strconv"
	"strings"
)

// List splits a comma-separated setting, trimming space and dropping empty
// items: " a:1, ,b:2" is [a:1 b:2], "" is none.
func List(s string) []string {
	var items []string
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			items = append(items, item)
		}
	}
	return items
}

// ListenPort checks a listen address such as ":1101" or "127.0.0.1:1101"
// and returns its port. Errors name the setting listen-addr.
func ListenPort(addr string) (string, error) {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("listen-addr: %w", err)
	}
	if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		return "", fmt.Errorf("listen-addr: bad port %q", port)
	}
	return port, nil
}

// loopback checks that addr is host:port with a loopback host: profiles
// show the process's internals and are for whoever is on the machine.
func loopback(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		return fmt.Errorf("bad port %q", port)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("host %q: must be a loopback address such as 127.0.0.1", host)
	}
	return nil
}
