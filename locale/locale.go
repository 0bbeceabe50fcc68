// Package locale is samspill's languages: the message catalogues of the
// pages in bokmål (the default), nynorsk and English, the choice of a
// reader's language, and dates, times and amounts written the way
// Norwegian municipal staff write them (7. desember 2026, 07.12.2026,
// kl. 14.00 in Europe/Oslo, 290 000 kr).
//
// The catalogues are TOML files embedded in the binary (messages/), one per
// area and language (area.nb.toml, area.nn.toml, area.en.toml), read with
// github.com/nicksnyder/go-i18n, which knows the CLDR plural rules of each
// language. Every message exists in all three languages; a test fails
// otherwise. Numbers are grouped by golang.org/x/text's CLDR data.
package locale

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
	"sync"

	"github.com/nicksnyder/go-i18n/v2/i18n"
	"github.com/pelletier/go-toml/v2"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// Lang is a language of the pages.
type Lang string

// The languages. Bokmål is the default.
const (
	Bokmal  Lang = "nb"
	Nynorsk Lang = "nn"
	English Lang = "en"
)

// Langs lists every language, the default first.
var Langs = []Lang{Bokmal, Nynorsk, English}

// tags are the languages' BCP 47 tags, in the order of Langs (nynorsk has
// no constant in x/text).
var tags = []language.Tag{language.MustParse("nb"), language.MustParse("nn"), language.English}

// Tag returns the language's BCP 47 tag.
func (l Lang) Tag() language.Tag {
	if i := slices.Index(Langs, l); i >= 0 {
		return tags[i]
	}
	return tags[0]
}

// Parse returns the language named by s ("nb", "nn", "en"), and false for
// anything else.
func Parse(s string) (Lang, bool) {
	l := Lang(s)
	return l, slices.Contains(Langs, l)
}

// matcher matches Accept-Language to the languages; "no" and "nb" are
// bokmål.
var matcher = language.NewMatcher(append([]language.Tag{language.MustParse("no")}, tags...))

// Negotiate returns the language that best fits an Accept-Language header,
// bokmål when none fits (or the header is empty or malformed).
func Negotiate(acceptLanguage string) Lang {
	wanted, _, err := language.ParseAcceptLanguage(acceptLanguage)
	if err != nil || len(wanted) == 0 {
		return Bokmal
	}
	_, i, confidence := matcher.Match(wanted...)
	if confidence == language.No || i == 0 {
		return Bokmal
	}
	return Langs[i-1]
}

//go:embed messages/*.toml
var files embed.FS

// catalogue is the loaded messages, and each language's message ids.
type catalogue struct {
	bundle *i18n.Bundle
	ids    map[Lang][]string
}

var loaded = sync.OnceValues(load)

// load reads every embedded catalogue file.
func load() (catalogue, error) {
	c := catalogue{bundle: i18n.NewBundle(language.MustParse("nb")), ids: map[Lang][]string{}}
	c.bundle.RegisterUnmarshalFunc("toml", toml.Unmarshal)
	names, err := fs.Glob(files, "messages/*.toml")
	if err != nil {
		return c, err
	}
	for _, name := range names {
		parts := strings.Split(path.Base(name), ".")
		lang, ok := Parse(parts[len(parts)-2])
		if len(parts) != 3 || !ok {
			return c, fmt.Errorf("locale: %s: want area.<nb|nn|en>.toml", name)
		}
		data, err := files.ReadFile(name)
		if err != nil {
			return c, fmt.Errorf("locale: %w", err)
		}
		mf, err := c.bundle.ParseMessageFileBytes(data, name)
		if err != nil {
			return c, fmt.Errorf("locale: %s: %w", name, err)
		}
		for _, m := range mf.Messages {
			c.ids[lang] = append(c.ids[lang], m.ID)
		}
	}
	for _, l := range Langs {
		slices.Sort(c.ids[l])
	}
	return c, nil
}

// IDs returns every message id of the language's catalogues, sorted, or
// the error that keeps the catalogues from loading.
func IDs(l Lang) ([]string, error) {
	c, err := loaded()
	return c.ids[l], err
}

// Localizer writes in one language. Safe for concurrent use.
type Localizer struct {
	lang    Lang
	msgs    *i18n.Localizer
	numbers *message.Printer
	// plain keeps messages asked for without template data (id →
	// string): a page asks for the same labels hundreds of times.
	plain sync.Map
	// shortDate is format.date_short cut at its fields, made once.
	shortDate func() Pattern
	// patterns keeps the formats' Patterns (id → Pattern).
	patterns sync.Map
}

var localizers sync.Map // Lang → *Localizer

// For returns the Localizer of the language (bokmål for an unknown one).
func For(l Lang) *Localizer {
	if _, ok := Parse(string(l)); !ok {
		l = Bokmal
	}
	if v, ok := localizers.Load(l); ok {
		return v.(*Localizer)
	}
	c, _ := loaded() // a catalogue that does not load leaves messages as their ids; the tests fail on it
	lz := &Localizer{lang: l, numbers: message.NewPrinter(l.Tag())}
	if c.bundle != nil {
		lz.msgs = i18n.NewLocalizer(c.bundle, string(l))
	}
	lz.shortDate = sync.OnceValue(func() Pattern { return lz.Pattern("format.date_short", "Day", "Month", "Year") })
	v, _ := localizers.LoadOrStore(l, lz)
	return v.(*Localizer)
}

// Lang returns the Localizer's language.
func (l *Localizer) Lang() Lang { return l.lang }

// T returns the message id in the language, its template filled from
// pairs of names and values (T("saved", "What", w)). A message missing from
// the language is taken from bokmål; one missing everywhere is its id.
// Messages asked for without pairs are kept after the first time.
func (l *Localizer) T(id string, pairs ...any) string {
	if len(pairs) == 0 {
		if s, ok := l.plain.Load(id); ok {
			return s.(string)
		}
		s := l.localize(&i18n.LocalizeConfig{MessageID: id})
		l.plain.Store(id, s)
		return s
	}
	return l.localize(&i18n.LocalizeConfig{MessageID: id, TemplateData: data(pairs)})
}

// N is T for a message with plural forms, chosen by count (which the
// template sees as .Count).
func (l *Localizer) N(id string, count int, pairs ...any) string {
	d := data(pairs)
	d["Count"] = count
	return l.localize(&i18n.LocalizeConfig{MessageID: id, TemplateData: d, PluralCount: count})
}

func (l *Localizer) localize(cfg *i18n.LocalizeConfig) string {
	if l.msgs == nil {
		return cfg.MessageID
	}
	s, err := l.msgs.Localize(cfg)
	if err != nil && s == "" {
		return cfg.MessageID
	}
	return s
}

// data turns name/value pairs into a template's data.
func data(pairs []any) map[string]any {
	d := make(map[string]any, len(pairs)/2+1)
	for i := 0; i+1 < len(pairs); i += 2 {
		if k, ok := pairs[i].(string); ok {
			d[k] = pairs[i+1]
		}
	}
	return d
}
