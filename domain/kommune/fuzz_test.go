package kommune_test

import (
	"errors"
	"testing"
	"time"

	"github.com/samspill/samspill/domain/kommune"
)

func FuzzParseValidOn(f *testing.F) {
	unix := func(s string) int64 {
		d, err := time.ParseInLocation(time.DateOnly, s, oslo)
		if err != nil {
			panic(err)
		}
		return d.Unix()
	}
	seeds := []struct {
		code, on string
	}{
		{"0906", "2019-12-31"}, {"0906", "2020-01-01"}, {"4203", "2020-01-01"},
		{"1702", "2017-12-31"}, {"1702", "2018-01-01"}, {"5004", "2019-06-01"},
		{"5006", "2020-01-01"}, {"1103", "2015-01-01"}, {"5001", "2024-01-01"},
		{"1507", "2023-12-31"}, {"1580", "2023-12-31"}, {"1580", "2024-01-01"},
		{"0720", "2016-12-31"}, {"9999", "2020-01-01"}, {"0000", "2020-01-01"},
		{"123", "2020-01-01"}, {"12a4", "2020-01-01"}, {" 0906", "2019-01-01"},
		{"", "1970-01-01"}, {"٠٩٠٦", "2019-01-01"},
	}
	for _, s := range seeds {
		f.Add(s.code, unix(s.on))
	}
	f.Add("0906", int64(1577835000)) // 2019-12-31T23:30:00Z, 2020-01-01 in Oslo
	f.Add("0301", int64(-1<<62))
	f.Add("0301", int64(1<<62))

	current := make(map[kommune.Code]bool)
	for _, m := range kommune.CurrentList() {
		current[m.Code] = true
	}
	f.Fuzz(func(t *testing.T, s string, sec int64) {
		on := time.Unix(sec, 0)
		c, err := kommune.ParseValidOn(s, on)
		if err != nil {
			if c != "" {
				t.Fatalf("ParseValidOn(%q, %v) returned %q with error %v", s, on, c, err)
			}
			var nv *kommune.NotValidOnError
			switch {
			case errors.As(err, &nv):
				if string(nv.Code) != s || nv.Code.ValidOn(on) || !errors.Is(err, kommune.ErrNotValidOnDate) || !current[nv.Successor] {
					t.Fatalf("ParseValidOn(%q, %v): inconsistent %+v", s, on, nv)
				}
			case errors.Is(err, kommune.ErrMalformed), errors.Is(err, kommune.ErrUnknown):
				if _, perr := kommune.Parse(s); perr == nil {
					t.Fatalf("ParseValidOn(%q) failed with %v but Parse succeeded", s, err)
				}
			default:
				t.Fatalf("ParseValidOn(%q, %v) error %v wraps no sentinel", s, on, err)
			}
			return
		}
		if len(c) != 4 {
			t.Fatalf("ParseValidOn(%q) = %q, not 4 characters", s, c)
		}
		for i := range len(c) {
			if c[i] < '0' || c[i] > '9' {
				t.Fatalf("ParseValidOn(%q) = %q, not all digits", s, c)
			}
		}
		if !c.ValidOn(on) {
			t.Fatalf("ParseValidOn(%q, %v) = %q, but ValidOn is false", s, on, c)
		}
		if !current[c.Current()] {
			t.Fatalf("%q.Current() = %q, not in CurrentList", c, c.Current())
		}
	})
}
