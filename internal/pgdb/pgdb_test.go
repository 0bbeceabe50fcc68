package pgdb

import (
	"errors"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

// A disk_full error cannot be provoked on a test server without filling
// one of its disks; the error value is what pgx hands over when the server
// raises it ("could not extend file ...: No space left on device").
func TestDiskFullIsSQLState53100Only(t *testing.T) {
	for code, want := range map[string]bool{
		"53100": true,  // disk_full
		"53000": false, // insufficient_resources
		"53200": false, // out_of_memory
		"53300": false, // too_many_connections
		"53400": false, // configuration_limit_exceeded
		"23505": false, // unique_violation
	} {
		err := fmt.Errorf("insert: %w", &pgconn.PgError{Severity: "ERROR", Code: code, Message: "could not extend file"})
		if got := DiskFull(err); got != want {
			t.Errorf("DiskFull(SQLSTATE %s) = %v; want %v", code, got, want)
		}
	}
	if DiskFull(nil) || DiskFull(errors.New("53100")) {
		t.Error("DiskFull of an error that is no PgError")
	}
}
