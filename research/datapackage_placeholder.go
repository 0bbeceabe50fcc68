package research

import (
	"encoding/json"
	"fmt"
)

// DataPackage returns a minimal Frictionless datapackage.json of the
// manifest's files: a placeholder so that the research surface builds
// before the full Data Package (Table Schema of every column) is merged;
// the lead deletes this file then.
func DataPackage(m ExportManifest, tables []Table) ([]byte, error) {
	type field struct {
		Name string `json:"name"`
		Type string `json:"type"`
	}
	type resource struct {
		Name      string `json:"name"`
		Path      string `json:"path"`
		Format    string `json:"format"`
		MediaType string `json:"mediatype"`
		Hash      string `json:"hash"`
		Bytes     int64  `json:"bytes"`
		Schema    *struct {
			Fields []field `json:"fields"`
		} `json:"schema,omitempty"`
	}
	pkg := struct {
		Name      string     `json:"name"`
		Resources []resource `json:"resources"`
	}{Name: "samspill-" + m.Export}
	for _, f := range m.Files {
		r := resource{Name: m.Export, Path: f.Name, Format: f.Format, MediaType: f.MediaType, Hash: "sha256:" + f.SHA256, Bytes: f.Bytes}
		for _, t := range tables {
			if t.Name == m.Export {
				r.Schema = &struct {
					Fields []field `json:"fields"`
				}{}
				for _, c := range t.Columns {
					r.Schema.Fields = append(r.Schema.Fields, field{Name: c.Name, Type: c.Type})
				}
			}
		}
		pkg.Resources = append(pkg.Resources, r)
	}
	b, err := json.MarshalIndent(pkg, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("datapackage.json: %w", err)
	}
	return append(b, '\n'), nil
}
