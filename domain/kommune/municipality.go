package kommune

import "slices"

// Municipality describes a municipality under one code. County fields hold
// the county number (the first two digits of Code) and that county's name.
type Municipality struct {
	Code       Code
	Name       string
	CountyCode string
	CountyName string
}

// Lookup returns the municipality that c names and true, or the zero value and
// false if c is not known. For a current code the record is the 2024 one. For
// a former code, Name is Code.Name(), CountyCode is the first two digits of c
// and CountyName is filled in only when a current county has that number
// (15 Møre og Romsdal, 18 Nordland, 50 Trøndelag, ...); it is "" for counties
// that no longer exist, such as 09 Aust-Agder or 30 Viken.
func Lookup(c Code) (Municipality, bool) {
	e := tab.entries[c]
	if e == nil {
		return Municipality{}, false
	}
	if m, ok := tab.currentByCode[c]; ok {
		return m, true
	}
	county := string(c[:2])
	return Municipality{
		Code:       c,
		Name:       e.name,
		CountyCode: county,
		CountyName: tab.counties[county],
	}, true
}

// CurrentList returns the municipalities valid today (357 since 2024-01-01),
// sorted by code. The slice is a fresh copy that the caller may modify.
func CurrentList() []Municipality {
	return slices.Clone(tab.current)
}
