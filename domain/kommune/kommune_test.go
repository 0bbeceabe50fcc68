package kommune_test

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/samspill/samspill/domain/kommune"
)

var oslo = mustOslo()

func mustOslo() *time.Location {
	loc, err := time.LoadLocation("Europe/Oslo")
	if err != nil {
		panic(err)
	}
	return loc
}

// day returns noon in Oslo on a YYYY-MM-DD date.
func day(t testing.TB, s string) time.Time {
	t.Helper()
	d, err := time.ParseInLocation(time.DateOnly, s, oslo)
	if err != nil {
		t.Fatalf("bad test date %q: %v", s, err)
	}
	return d.Add(12 * time.Hour)
}

func TestValidOn(t *testing.T) {
	t.Parallel()
	tests := []struct {
		code kommune.Code
		on   string
		want bool
	}{
		{"0906", "2019-12-31", true}, // Arendal, Aust-Agder
		{"0906", "2020-01-01", false},
		{"0906", "1990-05-17", true},
		{"4203", "2019-12-31", false}, // Arendal, Agder
		{"4203", "2020-01-01", true},
		{"1702", "2017-12-31", true}, // Steinkjer, Nord-Trøndelag
		{"1702", "2018-01-01", false},
		{"1702", "2020-03-01", false},
		{"5004", "2017-12-31", false}, // Steinkjer 2018–2019
		{"5004", "2018-01-01", true},
		{"5004", "2019-06-30", true},
		{"5004", "2019-12-31", true},
		{"5004", "2020-01-01", false},
		{"5006", "2019-12-31", false}, // Steinkjer since 2020
		{"5006", "2020-01-01", true},
		{"5006", "2031-01-01", true},
		{"1103", "2010-06-01", true}, // Stavanger kept its code in 2020
		{"1103", "2019-12-31", true},
		{"1103", "2020-01-01", true},
		{"1103", "2024-06-01", true},
		{"1141", "2019-12-31", true}, // Finnøy, merged into Stavanger
		{"1141", "2020-01-01", false},
		{"5001", "2017-12-31", false}, // Trondheim since 2018, kept in 2020
		{"5001", "2018-01-01", true},
		{"5001", "2020-01-01", true},
		{"1601", "2017-12-31", true},
		{"1601", "2018-01-01", false},
		{"1507", "2019-12-31", false}, // Ålesund 2020–2023
		{"1507", "2020-01-01", true},
		{"1507", "2023-12-31", true},
		{"1507", "2024-01-01", false},
		{"1508", "2023-12-31", false},
		{"1508", "2024-01-01", true},
		{"1580", "2019-12-31", false}, // Haram since 2024
		{"1580", "2023-12-31", false},
		{"1580", "2024-01-01", true},
		{"1534", "2019-12-31", true}, // Haram until 2020
		{"1534", "2020-01-01", false},
		{"0706", "2016-12-31", true}, // Sandefjord before 2017
		{"0706", "2017-01-01", false},
		{"0710", "2016-12-31", false}, // Sandefjord 2017–2019
		{"0710", "2017-01-01", true},
		{"0704", "2017-01-01", true}, // Tønsberg kept its code in 2017
		{"0301", "1900-01-01", true}, // Oslo, unchanged
		{"0301", "2024-01-01", true},
		{"9999", "2020-01-01", false},
		{"0000", "2020-01-01", false},
		{"abcd", "2020-01-01", false},
		{"", "2020-01-01", false},
	}
	for _, tt := range tests {
		if got := tt.code.ValidOn(day(t, tt.on)); got != tt.want {
			t.Errorf("%q.ValidOn(%s) = %v, want %v", tt.code, tt.on, got, tt.want)
		}
	}
}

// TestValidOnUsesOsloCalendarDate: the calendar date is taken in Europe/Oslo,
// whatever the location of the time.Time.
func TestValidOnUsesOsloCalendarDate(t *testing.T) {
	t.Parallel()
	honolulu := time.FixedZone("HST", -10*3600)
	tests := []struct {
		code kommune.Code
		on   time.Time
		want bool
	}{
		{"0906", time.Date(2019, 12, 31, 23, 30, 0, 0, time.UTC), false}, // 00:30 on 2020-01-01 in Oslo
		{"4203", time.Date(2019, 12, 31, 23, 30, 0, 0, time.UTC), true},
		{"0906", time.Date(2019, 12, 31, 22, 59, 59, 0, time.UTC), true}, // 23:59:59 on 2019-12-31 in Oslo
		{"0906", time.Date(2019, 12, 31, 23, 0, 0, 0, time.UTC), false},  // midnight in Oslo
		{"0906", time.Date(2019, 12, 31, 14, 0, 0, 0, honolulu), false},  // 01:00 on 2020-01-01 in Oslo
		{"1702", time.Date(2017, 12, 31, 23, 0, 0, 0, time.UTC), false},
		{"5004", time.Date(2017, 12, 31, 23, 0, 0, 0, time.UTC), true},
		{"1580", time.Date(2023, 12, 31, 23, 0, 0, 0, time.UTC), true},
		{"1580", time.Date(2023, 12, 31, 22, 59, 0, 0, time.UTC), false},
	}
	for _, tt := range tests {
		if got := tt.code.ValidOn(tt.on); got != tt.want {
			t.Errorf("%s.ValidOn(%s) = %v, want %v", tt.code, tt.on.Format(time.RFC3339), got, tt.want)
		}
	}
}

func TestCurrent(t *testing.T) {
	t.Parallel()
	tests := []struct {
		code, want kommune.Code
	}{
		{"1702", "5006"}, // Steinkjer: 1702 → 5004 (2018) → 5006 (2020)
		{"5004", "5006"},
		{"5006", "5006"},
		{"1724", "5006"}, // Verran: 1724 → 5039 → 5006
		{"0906", "4203"}, // Arendal
		{"4203", "4203"},
		{"1507", "1508"}, // split 2024: same name wins over 1580 Haram
		{"1504", "1508"}, // Ålesund 2019 → 1507 → 1508
		{"1534", "1508"}, // Haram 2019 → 1507 → 1508 (not today's 1580 Haram: codes, not names, are followed)
		{"1580", "1580"},
		{"1103", "1103"}, // Stavanger kept its code
		{"1141", "1103"},
		{"5001", "5001"}, // Trondheim kept its code
		{"1601", "5001"},
		{"5030", "5001"},
		{"0720", "3907"}, // Stokke split 2017: override → 0710 Sandefjord → 3804 → 3907
		{"0706", "3907"},
		{"0704", "3905"}, // Tønsberg
		{"1850", "1806"}, // Tysfjord split 2020: override → Narvik
		{"5012", "5059"}, // Snillfjord split 2020: override → Orkland
		{"1613", "5059"}, // Snillfjord before 2018
		{"1854", "1806"}, // Ballangen
		{"5011", "5055"}, // Hemne → Heim
		{"1571", "5055"}, // Halsa → Heim
		{"0301", "0301"}, // Oslo, unchanged
		{"9999", ""},
		{"0000", ""},
		{"", ""},
	}
	for _, tt := range tests {
		if got := tt.code.Current(); got != tt.want {
			t.Errorf("%q.Current() = %q, want %q", tt.code, got, tt.want)
		}
	}
}

func TestName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		code kommune.Code
		want string
	}{
		{"1702", "Steinkjer"},
		{"5006", "Steinkjer"},
		{"5001", "Trondheim - Tråante"}, // renamed without a code change; the 2024 name wins
		{"1601", "Trondheim"},
		{"1850", "Tysfjord - Divtasvuodna"},
		{"5414", "Gratangen"},
		{"5516", "Gratangen - Rivtták"},
		{"0137", "Våler (Østfold)"},
		{"3018", "Våler (Viken)"},
		{"3114", "Våler (Østfold)"},
		{"9999", ""},
		{"12a4", ""},
	}
	for _, tt := range tests {
		if got := tt.code.Name(); got != tt.want {
			t.Errorf("%q.Name() = %q, want %q", tt.code, got, tt.want)
		}
	}
}

func TestParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		wantErr error
	}{
		{"0906", nil},
		{"4203", nil},
		{"1702", nil},
		{"0301", nil},
		{"1580", nil},
		{"9999", kommune.ErrUnknown}, // Uoppgitt
		{"0000", kommune.ErrUnknown},
		{"1299", kommune.ErrUnknown},
		{"1234", nil},                // Granvin until 2020
		{"2111", kommune.ErrUnknown}, // Svalbard, not in classification 131
		{"123", kommune.ErrMalformed},
		{"12a4", kommune.ErrMalformed},
		{" 0906", kommune.ErrMalformed},
		{"0906 ", kommune.ErrMalformed},
		{"09 06", kommune.ErrMalformed},
		{"09060", kommune.ErrMalformed},
		{"+906", kommune.ErrMalformed},
		{"-906", kommune.ErrMalformed},
		{"٠٩٠٦", kommune.ErrMalformed}, // Arabic-Indic digits
		{"", kommune.ErrMalformed},
	}
	sentinels := []error{kommune.ErrMalformed, kommune.ErrUnknown, kommune.ErrNotValidOnDate}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := kommune.Parse(tt.in)
			if tt.wantErr == nil {
				if err != nil || got != kommune.Code(tt.in) {
					t.Fatalf("Parse(%q) = %q, %v; want %q, nil", tt.in, got, err, tt.in)
				}
				return
			}
			if err == nil {
				t.Fatalf("Parse(%q) = %q, want error %v", tt.in, got, tt.wantErr)
			}
			if got != "" {
				t.Errorf("Parse(%q) returned %q with the error", tt.in, got)
			}
			for _, s := range sentinels {
				if errors.Is(err, s) != (s == tt.wantErr) {
					t.Errorf("Parse(%q) error %q: errors.Is(err, %v) = %v", tt.in, err, s, errors.Is(err, s))
				}
			}
			if quoted := `"` + tt.in + `"`; tt.in != "" && !strings.Contains(err.Error(), quoted) && !strings.Contains(err.Error(), "\\u") {
				t.Errorf("Parse(%q) error %q does not quote the input", tt.in, err)
			}
		})
	}
}

func TestParseErrorText(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"123", `kommunenummer "123" must be exactly 4 digits: malformed kommunenummer`},
		{"9999", `kommunenummer "9999" means Uoppgitt (unspecified) and is not a municipality: unknown kommunenummer`},
	}
	for _, tt := range tests {
		if _, err := kommune.Parse(tt.in); err == nil || err.Error() != tt.want {
			t.Errorf("Parse(%q) error = %v, want %s", tt.in, err, tt.want)
		}
	}
}

func TestParseValidOn(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, on   string
		want     kommune.Code
		wantErr  error
		wantText string                   // for ErrNotValidOnDate
		wantInfo *kommune.NotValidOnError // Date, ValidFrom, ValidUntil as YYYY-MM-DD in Oslo; "" = zero
	}{
		{in: "0906", on: "2019-12-31", want: "0906"},
		{in: "4203", on: "2020-01-01", want: "4203"},
		{in: "5004", on: "2019-01-01", want: "5004"},
		{in: "1103", on: "2021-01-01", want: "1103"},
		{in: "1702", on: "2020-03-01", wantErr: kommune.ErrNotValidOnDate,
			wantText: "kommunenummer 1702 was not valid on 2020-03-01 (valid until 2018-01-01; today 5006)"},
		{in: "5004", on: "2021-03-01", wantErr: kommune.ErrNotValidOnDate,
			wantText: "kommunenummer 5004 was not valid on 2021-03-01 (valid from 2018-01-01 until 2020-01-01; today 5006)"},
		{in: "5004", on: "2017-12-31", wantErr: kommune.ErrNotValidOnDate,
			wantText: "kommunenummer 5004 was not valid on 2017-12-31 (valid from 2018-01-01 until 2020-01-01; today 5006)"},
		{in: "1580", on: "2023-12-31", wantErr: kommune.ErrNotValidOnDate,
			wantText: "kommunenummer 1580 was not valid on 2023-12-31 (valid from 2024-01-01)"},
		{in: "0906", on: "2020-01-01", wantErr: kommune.ErrNotValidOnDate,
			wantText: "kommunenummer 0906 was not valid on 2020-01-01 (valid until 2020-01-01; today 4203)"},
		{in: "9999", on: "2020-01-01", wantErr: kommune.ErrUnknown},
		{in: "12a4", on: "2020-01-01", wantErr: kommune.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.in+"@"+tt.on, func(t *testing.T) {
			t.Parallel()
			got, err := kommune.ParseValidOn(tt.in, day(t, tt.on))
			if tt.wantErr == nil {
				if err != nil || got != tt.want {
					t.Fatalf("ParseValidOn(%q, %s) = %q, %v; want %q, nil", tt.in, tt.on, got, err, tt.want)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) || got != "" {
				t.Fatalf("ParseValidOn(%q, %s) = %q, %v; want \"\", %v", tt.in, tt.on, got, err, tt.wantErr)
			}
			var nv *kommune.NotValidOnError
			if isNV := errors.As(err, &nv); isNV != (tt.wantErr == kommune.ErrNotValidOnDate) {
				t.Fatalf("errors.As(%v, *NotValidOnError) = %v", err, isNV)
			}
			if tt.wantText != "" && err.Error() != tt.wantText {
				t.Errorf("error text\n got %s\nwant %s", err, tt.wantText)
			}
		})
	}
}

func TestNotValidOnErrorFields(t *testing.T) {
	t.Parallel()
	// 2020-06-30T22:30Z is 00:30 on 2020-07-01 in Oslo (summer time).
	_, err := kommune.ParseValidOn("1702", time.Date(2020, 6, 30, 22, 30, 0, 0, time.UTC))
	var nv *kommune.NotValidOnError
	if !errors.As(err, &nv) {
		t.Fatalf("ParseValidOn(1702, 2020-07-01) error = %v, want *NotValidOnError", err)
	}
	if nv.Code != "1702" || nv.Successor != "5006" {
		t.Errorf("Code, Successor = %s, %s; want 1702, 5006", nv.Code, nv.Successor)
	}
	if want := time.Date(2020, 7, 1, 0, 0, 0, 0, oslo); !nv.Date.Equal(want) {
		t.Errorf("Date = %v, want %v", nv.Date, want)
	}
	if !nv.ValidFrom.IsZero() {
		t.Errorf("ValidFrom = %v, want zero (valid since before 2017)", nv.ValidFrom)
	}
	if want := time.Date(2018, 1, 1, 0, 0, 0, 0, oslo); !nv.ValidUntil.Equal(want) {
		t.Errorf("ValidUntil = %v, want %v", nv.ValidUntil, want)
	}

	_, err = kommune.ParseValidOn("1580", day(t, "2020-01-01"))
	if !errors.As(err, &nv) {
		t.Fatalf("ParseValidOn(1580, 2020-01-01) error = %v, want *NotValidOnError", err)
	}
	if want := time.Date(2024, 1, 1, 0, 0, 0, 0, oslo); !nv.ValidFrom.Equal(want) || !nv.ValidUntil.IsZero() || nv.Successor != "1580" {
		t.Errorf("1580: ValidFrom, ValidUntil, Successor = %v, %v, %s; want %v, zero, 1580", nv.ValidFrom, nv.ValidUntil, nv.Successor, want)
	}
}

func TestNotValidOnErrorText(t *testing.T) {
	t.Parallel()
	d := func(s string) time.Time {
		tm, _ := time.ParseInLocation(time.DateOnly, s, oslo)
		return tm
	}
	tests := []struct {
		err  kommune.NotValidOnError
		want string
	}{
		{kommune.NotValidOnError{Code: "1702", Date: d("2020-03-01"), ValidUntil: d("2018-01-01"), Successor: "5006"},
			"kommunenummer 1702 was not valid on 2020-03-01 (valid until 2018-01-01; today 5006)"},
		{kommune.NotValidOnError{Code: "1580", Date: d("2020-03-01"), ValidFrom: d("2024-01-01"), Successor: "1580"},
			"kommunenummer 1580 was not valid on 2020-03-01 (valid from 2024-01-01)"},
		{kommune.NotValidOnError{Code: "5004", Date: d("2021-03-01"), ValidFrom: d("2018-01-01"), ValidUntil: d("2020-01-01"), Successor: "5006"},
			"kommunenummer 5004 was not valid on 2021-03-01 (valid from 2018-01-01 until 2020-01-01; today 5006)"},
		{kommune.NotValidOnError{Code: "0301", Date: d("2021-03-01")},
			"kommunenummer 0301 was not valid on 2021-03-01"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error()\n got %s\nwant %s", got, tt.want)
		}
		if !errors.Is(&tt.err, kommune.ErrNotValidOnDate) {
			t.Errorf("errors.Is(%s, ErrNotValidOnDate) = false", tt.want)
		}
		if errors.Is(&tt.err, kommune.ErrUnknown) {
			t.Errorf("errors.Is(%s, ErrUnknown) = true", tt.want)
		}
	}
}

func TestCurrentList(t *testing.T) {
	t.Parallel()
	list := kommune.CurrentList()
	if len(list) != 357 {
		t.Fatalf("CurrentList() has %d entries, want 357", len(list))
	}
	now := time.Now()
	for i, m := range list {
		if i > 0 && list[i-1].Code >= m.Code {
			t.Errorf("not sorted by code: %s before %s", list[i-1].Code, m.Code)
		}
		if !m.Code.ValidOn(now) {
			t.Errorf("%s %s is not valid today", m.Code, m.Name)
		}
		if m.Code.Current() != m.Code {
			t.Errorf("%s.Current() = %s, want itself", m.Code, m.Code.Current())
		}
		if m.Name == "" || m.Name != m.Code.Name() {
			t.Errorf("%s: Name %q, Code.Name() %q", m.Code, m.Name, m.Code.Name())
		}
		if m.CountyCode != string(m.Code[:2]) || m.CountyName == "" {
			t.Errorf("%s: county %q %q", m.Code, m.CountyCode, m.CountyName)
		}
		if got, ok := kommune.Lookup(m.Code); !ok || got != m {
			t.Errorf("Lookup(%s) = %+v, %v; want %+v", m.Code, got, ok, m)
		}
	}
	for _, c := range []kommune.Code{"0301", "1508", "1580", "4203", "5006", "5001", "1103"} {
		if !slices.ContainsFunc(list, func(m kommune.Municipality) bool { return m.Code == c }) {
			t.Errorf("CurrentList() lacks %s", c)
		}
	}
	for _, c := range []kommune.Code{"1507", "0906", "5004", "3030"} {
		if slices.ContainsFunc(list, func(m kommune.Municipality) bool { return m.Code == c }) {
			t.Errorf("CurrentList() has former code %s", c)
		}
	}
	list[0].Name = "changed"
	if kommune.CurrentList()[0].Name == "changed" {
		t.Error("CurrentList() returns shared storage")
	}
}

func TestLookup(t *testing.T) {
	t.Parallel()
	tests := []struct {
		code kommune.Code
		want kommune.Municipality
		ok   bool
	}{
		{"4203", kommune.Municipality{Code: "4203", Name: "Arendal", CountyCode: "42", CountyName: "Agder"}, true},
		{"5006", kommune.Municipality{Code: "5006", Name: "Steinkjer", CountyCode: "50", CountyName: "Trøndelag"}, true},
		{"0301", kommune.Municipality{Code: "0301", Name: "Oslo", CountyCode: "03", CountyName: "Oslo"}, true},
		{"0906", kommune.Municipality{Code: "0906", Name: "Arendal", CountyCode: "09"}, true},
		{"1702", kommune.Municipality{Code: "1702", Name: "Steinkjer", CountyCode: "17"}, true},
		{"5004", kommune.Municipality{Code: "5004", Name: "Steinkjer", CountyCode: "50", CountyName: "Trøndelag"}, true},
		{"1504", kommune.Municipality{Code: "1504", Name: "Ålesund", CountyCode: "15", CountyName: "Møre og Romsdal"}, true},
		{"9999", kommune.Municipality{}, false},
		{"12a4", kommune.Municipality{}, false},
	}
	for _, tt := range tests {
		if got, ok := kommune.Lookup(tt.code); got != tt.want || ok != tt.ok {
			t.Errorf("Lookup(%q) = %+v, %v; want %+v, %v", tt.code, got, ok, tt.want, tt.ok)
		}
	}
}

// change formats a change row compactly for comparisons.
func change(c kommune.Change) string {
	return string(c.From) + "→" + string(c.To) + "@" + c.ValidFrom.In(oslo).Format(time.DateOnly)
}

func TestChangesInto(t *testing.T) {
	t.Parallel()
	tests := []struct {
		code kommune.Code
		want []string
	}{
		{"5006", []string{"1702→5004@2018-01-01", "1724→5039@2018-01-01", "5004→5006@2020-01-01", "5039→5006@2020-01-01"}},
		{"4203", []string{"0906→4203@2020-01-01"}},
		{"1103", []string{"1103→1103@2020-01-01", "1141→1103@2020-01-01", "1142→1103@2020-01-01"}},
		{"1580", []string{"1504→1507@2020-01-01", "1523→1507@2020-01-01", "1529→1507@2020-01-01", "1534→1507@2020-01-01", "1546→1507@2020-01-01", "1507→1580@2024-01-01"}},
		{"1508", []string{"1504→1507@2020-01-01", "1523→1507@2020-01-01", "1529→1507@2020-01-01", "1534→1507@2020-01-01", "1546→1507@2020-01-01", "1507→1508@2024-01-01"}},
		{"3905", []string{"0704→0704@2017-01-01", "0720→0704@2017-01-01", "0704→3803@2020-01-01", "0716→3803@2020-01-01", "3803→3905@2024-01-01"}},
		{"0301", nil},
		{"1702", nil}, // not valid today
		{"9999", nil},
	}
	for _, tt := range tests {
		var got []string
		for _, c := range kommune.ChangesInto(tt.code) {
			got = append(got, change(c))
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("ChangesInto(%s)\n got %v\nwant %v", tt.code, got, tt.want)
		}
	}
}

func TestChangesIntoRows(t *testing.T) {
	t.Parallel()
	for _, c := range kommune.ChangesInto("5006") {
		if c.From == "1702" && (c.FromName != "Steinkjer" || c.ToName != "Steinkjer" || c.To != "5004") {
			t.Errorf("1702 row = %+v", c)
		}
		if c.ValidFrom.Location().String() != "Europe/Oslo" || c.ValidFrom.Hour() != 0 {
			t.Errorf("ValidFrom %v is not midnight in Europe/Oslo", c.ValidFrom)
		}
	}
	// Every current code's rows are ordered by date, then From, then To, and
	// each chain ends in that code.
	for _, m := range kommune.CurrentList() {
		rows := kommune.ChangesInto(m.Code)
		for i, c := range rows {
			if i > 0 {
				p := rows[i-1]
				if k := p.ValidFrom.Compare(c.ValidFrom); k > 0 || k == 0 && (p.From > c.From || p.From == c.From && p.To >= c.To) {
					t.Errorf("ChangesInto(%s): %s before %s", m.Code, change(p), change(c))
				}
			}
			if !c.To.ValidOn(c.ValidFrom) {
				t.Errorf("ChangesInto(%s): %s: To not valid on ValidFrom", m.Code, change(c))
			}
		}
		if len(rows) > 0 {
			rows[0].From = "xxxx"
			if kommune.ChangesInto(m.Code)[0].From == "xxxx" {
				t.Fatalf("ChangesInto(%s) returns shared storage", m.Code)
			}
		}
	}
}

// TestConcurrentUse exercises the read-only tables from many goroutines; run
// with -race.
func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for _, m := range kommune.CurrentList() {
				_ = m.Code.Current()
				_ = m.Code.ValidOn(time.Now())
				_, _ = kommune.Lookup(m.Code)
				_ = kommune.ChangesInto(m.Code)
				_, _ = kommune.ParseValidOn(string(m.Code), time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC))
			}
		})
	}
	wg.Wait()
}
