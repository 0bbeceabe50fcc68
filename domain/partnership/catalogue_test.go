package partnership

import (
	"os"
	"reflect"
	"slices"
	"sort"
	"testing"

	"github.com/samspill/samspill/internal/doccheck"
)

// The event catalogue (docs/events.md) is the project's reference for
// every stored event. These tests fail when the code has an event type, a
// payload field, a vocabulary value or a field of the derived state that
// the catalogue does not describe, so the catalogue cannot fall behind.

const cataloguePath = "../../docs/events.md"

func readCatalogue(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(cataloguePath)
	if err != nil {
		t.Fatalf("read the event catalogue: %v", err)
	}
	return string(b)
}

// catalogueSection returns a section of the catalogue, failing the test
// when it is missing.
func catalogueSection(t *testing.T, doc, title string) string {
	t.Helper()
	s, ok := doccheck.Section(doc, title)
	if !ok {
		t.Fatalf("%s has no section %q", cataloguePath, title)
	}
	return s
}

// TestCatalogueListsEveryDecodedType checks that EventTypes names exactly
// the types the codec decodes: the catalogue tests below walk EventTypes.
func TestCatalogueListsEveryDecodedType(t *testing.T) {
	t.Parallel()
	var decoded []string
	for name := range decoders {
		decoded = append(decoded, name)
	}
	listed := slices.Clone(EventTypes())
	sort.Strings(decoded)
	sort.Strings(listed)
	if !slices.Equal(decoded, listed) {
		t.Errorf("EventTypes() = %q, the codec decodes %q", listed, decoded)
	}
}

// TestCatalogueDescribesEveryEventType checks that docs/events.md has a
// section named after every event type under "Event types", no section for
// a type that does not exist, and that each type's section names every
// JSON field of its payload, nested ones (Partner, Role) as
// partners[].name or partner.kind.
func TestCatalogueDescribesEveryEventType(t *testing.T) {
	t.Parallel()
	types := catalogueSection(t, readCatalogue(t), "Event types")
	var sections []string
	for _, h := range doccheck.Headings(types) {
		if h.Level == 3 {
			sections = append(sections, h.Text)
		}
	}
	for _, name := range sections {
		if _, ok := decoders[name]; !ok {
			t.Errorf("%s: section %q under Event types is no event type of the codec", cataloguePath, name)
		}
	}
	for _, name := range EventTypes() {
		section, ok := doccheck.Section(types, name)
		if !ok {
			t.Errorf("%s: event type %s has no section under Event types", cataloguePath, name)
			continue
		}
		ev, err := decoders[name].stored([]byte(`{}`))
		if err != nil {
			t.Fatalf("decode an empty %s: %v", name, err)
		}
		paths := doccheck.JSONPaths(reflect.TypeOf(ev))
		if len(paths) == 0 {
			t.Errorf("%s has no JSON fields", name)
		}
		for _, p := range paths {
			if !doccheck.Names(section, p) {
				t.Errorf("%s: the section of %s does not describe its field `%s`", cataloguePath, name, p)
			}
		}
	}
}

// TestCatalogueDescribesEveryVocabulary checks that each closed vocabulary
// has its section under "Vocabularies" naming every value.
func TestCatalogueDescribesEveryVocabulary(t *testing.T) {
	t.Parallel()
	vocabularies := catalogueSection(t, readCatalogue(t), "Vocabularies")
	for title, values := range map[string][]string{
		"Partner kinds (`kind`)":                       PartnerKinds,
		"Service areas (`service_area`)":               ServiceAreas,
		"Collaboration models (`collaboration_model`)": CollaborationModels,
		"Roles (`role`)":                               RoleNames,
		"Agreement types (`agreement_type`)":           AgreementTypes,
		"Anchoring levels (`level`)":                   AnchoringLevels,
		"Milestone kinds (`kind`)":                     MilestoneKinds,
		"End reasons (`reason`)":                       EndReasons,
		"Statuses (`status`)":                          Statuses,
	} {
		section, ok := doccheck.Section(vocabularies, title)
		if !ok {
			t.Errorf("%s: no section %q under Vocabularies", cataloguePath, title)
			continue
		}
		for _, v := range values {
			if !doccheck.Names(section, v) {
				t.Errorf("%s: section %q does not name the value `%s`", cataloguePath, title, v)
			}
		}
	}
}

// TestCatalogueDescribesDerivedState checks that "Derived state" names
// every JSON field of State, nested ones included.
func TestCatalogueDescribesDerivedState(t *testing.T) {
	t.Parallel()
	section := catalogueSection(t, readCatalogue(t), "Derived state")
	for _, p := range doccheck.JSONPaths(reflect.TypeFor[State]()) {
		if !doccheck.Names(section, p) {
			t.Errorf("%s: Derived state does not describe the field `%s`", cataloguePath, p)
		}
	}
}
