package main

import (
	"errors"
	"testing"
)

func TestCheckLoopback(t *testing.T) {
	for addr, ok := range map[string]bool{
		"127.0.0.1:0":     true,
		"127.0.0.2:8080":  true,
		"[::1]:8080":      true,
		"localhost:8080":  false, // names are refused
		"0.0.0.0:8080":    false,
		"10.0.0.5:8080":   false,
		"[::]:8080":       false,
		"127.0.0.1":       false, // no port
		"example.org:443": false,
	} {
		err := checkLoopback(addr)
		if (err == nil) != ok {
			t.Errorf("checkLoopback(%q) = %v, want ok=%v", addr, err, ok)
		}
	}
	if err := checkLoopback("192.168.1.1:80"); !errors.Is(err, errNotLoopback) {
		t.Errorf("checkLoopback of a LAN address = %v, want errNotLoopback", err)
	}
	for raw, ok := range map[string]bool{
		"http://127.0.0.1:41234":  true,
		"https://127.0.0.1:41234": false,
		"http://10.1.2.3:80":      false,
	} {
		if err := checkLoopbackURL(raw); (err == nil) != ok {
			t.Errorf("checkLoopbackURL(%q) = %v, want ok=%v", raw, err, ok)
		}
	}
}
