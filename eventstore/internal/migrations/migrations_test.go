package migrations

import (
	"fmt"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"
)

func TestLoadReadsTheFilesInVersionOrder(t *testing.T) {
	fsys := fstest.MapFS{
		"m/0002_more.sql":  {Data: []byte("two")},
		"m/0001_first.sql": {Data: []byte("one")},
		"m/0010_last.sql":  {Data: []byte("ten")},
	}
	for v := 3; v <= 9; v++ {
		fsys[fmt.Sprintf("m/%04d_x.sql", v)] = &fstest.MapFile{Data: []byte("x")}
	}
	ms, err := Load(fsys, "m")
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 10 || ms[0].Name != "0001_first.sql" || ms[0].Script != "one" || ms[1].Version != 2 || ms[9].Script != "ten" {
		t.Fatalf("Load = %+v", ms)
	}
}

func TestLoadRefusesWhatIsNotAnUnbrokenSequence(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files []string
		want  string
	}{
		{"no files", nil, "no migrations"},
		{"a gap", []string{"0001_a.sql", "0003_c.sql"}, "expected version 2"},
		{"not numbered", []string{"first.sql"}, "NNNN_description.sql"},
		{"not SQL", []string{"0001_a.txt"}, "NNNN_description.sql"},
		{"version zero", []string{"0000_a.sql"}, "bad version number"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fsys := fstest.MapFS{"m": {Mode: fs.ModeDir | 0o755}}
			for _, f := range tc.files {
				fsys["m/"+f] = &fstest.MapFile{Data: []byte("SELECT 1")}
			}
			_, err := Load(fsys, "m")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Load = %v; want an error saying %q", err, tc.want)
			}
		})
	}
}
