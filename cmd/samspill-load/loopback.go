package main

import (
	"errors"
	"fmt"
	"net"
	"net/url"
)

// errNotLoopback refuses an address that is not on the loopback interface:
// the harness never sends load anywhere else.
var errNotLoopback = errors.New("not a loopback address")

// checkLoopback accepts host:port where host is a literal loopback IP
// (127.0.0.0/8 or ::1). Names, "localhost" included, are refused: what
// they resolve to is not the harness's to guarantee.
func checkLoopback(hostport string) error {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		return fmt.Errorf("%q: %w", hostport, err)
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("%q: %w", hostport, errNotLoopback)
	}
	return nil
}

// checkLoopbackURL accepts an http URL whose host is a loopback IP.
func checkLoopbackURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("server address %q: %w", raw, err)
	}
	if u.Scheme != "http" {
		return fmt.Errorf("server address %q: want http", raw)
	}
	return checkLoopback(u.Host)
}
