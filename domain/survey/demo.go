package survey

import (
	"embed"
	"fmt"
	"io/fs"
)

// questionnaireFiles are the demo questionnaires: the leader and the
// volunteer questionnaire of a study like OFFRI.
//
//go:embed questionnaires/*.yaml
var questionnaireFiles embed.FS

// DemoFiles names the demo questionnaires' files in questionnaires/, in
// the order Demo returns them.
var DemoFiles = []string{"offri-leaders.yaml", "offri-volunteers.yaml"}

// Demo returns the demo questionnaires, parsed and valid, unpublished
// (Version 0): municipal leaders about working with volunteers
// (offri-leaders) and volunteers and voluntary organisations' leaders
// about working with the municipality (offri-volunteers). Each call
// returns fresh values that the caller may change. The files are part of
// the binary and their tests; one that does not parse is a build defect,
// so Demo panics on it.
func Demo() []Questionnaire {
	out := make([]Questionnaire, len(DemoFiles))
	for i, name := range DemoFiles {
		q, err := DemoFile(name)
		if err != nil {
			panic(err) // TestDemoQuestionnaires fails first
		}
		out[i] = q
	}
	return out
}

// DemoFile parses one demo questionnaire by its file name.
func DemoFile(name string) (Questionnaire, error) {
	data, err := fs.ReadFile(questionnaireFiles, "questionnaires/"+name)
	if err != nil {
		return Questionnaire{}, fmt.Errorf("demo questionnaire %s: %w", name, err)
	}
	q, err := Parse(data)
	if err != nil {
		return Questionnaire{}, fmt.Errorf("demo questionnaire %s: %w", name, err)
	}
	return q, nil
}

// DemoSource returns a demo questionnaire's YAML as written, for a page
// or a test that shows the format.
func DemoSource(name string) ([]byte, error) {
	data, err := fs.ReadFile(questionnaireFiles, "questionnaires/"+name)
	if err != nil {
		return nil, fmt.Errorf("demo questionnaire %s: %w", name, err)
	}
	return data, nil
}
