package main

import (
	"fmt"
	"io"
	"log/slog"
)

// logFormat is how serve writes its log (--log-format): slog's text
// handler, for people, or its JSON handler, one object per line, for log
// collectors.
type logFormat string

const (
	logText logFormat = "text"
	logJSON logFormat = "json"
)

// UnmarshalText accepts "text" and "json".
func (f *logFormat) UnmarshalText(b []byte) error {
	switch v := logFormat(b); v {
	case logText, logJSON:
		*f = v
		return nil
	}
	return fmt.Errorf("%q: want text or json", b)
}

// MarshalText returns the format's name.
func (f logFormat) MarshalText() ([]byte, error) { return []byte(f), nil }

// logger returns a logger writing to w at level in the format.
func (f logFormat) logger(w io.Writer, level slog.Level) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	if f == logJSON {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
