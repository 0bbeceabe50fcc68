package authtest

import (
	"bytes"
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/samspill/samspill/auth"
	"github.com/samspill/samspill/domain/kommune"
	"github.com/samspill/samspill/internal/contract"
)

// ProjectUserStore is a user store that keeps research projects too, as
// both adapters do: a project's members are its users and tokens.
type ProjectUserStore interface {
	auth.UserStore
	auth.ProjectStore
}

// ProjectOpener returns a fresh, empty store with a real Sealer and a
// project sealer.
type ProjectOpener = contract.Opener[ProjectUserStore]

// RunProjects runs the ProjectStore rules against stores made by open.
func RunProjects(t *testing.T, open ProjectOpener) {
	t.Helper()
	contract.Run(t, open, projectRules)
}

var projectRules = []contract.Rule[ProjectUserStore]{
	{Name: "CreateValidatesAndLists", Test: testCreateValidatesAndLists},
	{Name: "KeysStableApartAndRotated", Test: testKeysStableApartAndRotated},
	{Name: "GrantRevokeAndProjectsOf", Test: testGrantRevokeAndProjectsOf},
	{Name: "ExportIsAudited", Test: testExportIsAudited},
	{Name: "ConcurrentRotations", Test: testConcurrentRotations},
}

// offri is a valid project; its 5006 is Steinkjer's code today.
var offri = auth.Project{
	ID: "offri", Name: "Offentlig-frivillig samspill", Institution: "Universitetet i Oslo", Purpose: "Hvordan samarbeid varer",
	Starts: "2026-01-01", Ends: "2028-12-31", Municipalities: []kommune.Code{"5006", "0301", "5006"},
}

func createProject(t *testing.T, s ProjectUserStore, p auth.Project) auth.Project {
	t.Helper()
	got, err := s.CreateProject(contract.Context(t), someAdmin, p)
	if err != nil {
		t.Fatalf("CreateProject(%s): %v", p.ID, err)
	}
	return got
}

func projectKey(t *testing.T, s ProjectUserStore, id string) ([]byte, int) {
	t.Helper()
	key, gen, err := s.ProjectKey(contract.Context(t), id)
	if err != nil || len(key) != auth.ProjectKeySize {
		t.Fatalf("ProjectKey(%s) = %x, %d, %v; want %d bytes", id, key, gen, err, auth.ProjectKeySize)
	}
	return key, gen
}

func ids(ps []auth.Project) []string {
	out := []string{}
	for _, p := range ps {
		out = append(out, p.ID)
	}
	return out
}

// testCreateValidatesAndLists: a project is stored as checked (trimmed,
// municipalities sorted without repeats, generation 1) and read back the
// same, listed by id; a taken id is ErrProjectExists; each bad field is
// ErrInvalidProject and stores nothing; the creation is audited.
func testCreateValidatesAndLists(t *testing.T, open ProjectOpener) {
	ctx := contract.Context(t)
	s := open(t)
	p := offri
	p.Name = "  " + p.Name + " "
	got := createProject(t, s, p)
	if got.Name != offri.Name || !slices.Equal(got.Municipalities, []kommune.Code{"0301", "5006"}) || got.KeyGeneration != 1 || got.CreatedAt.IsZero() {
		t.Fatalf("CreateProject = %+v", got)
	}
	read, err := s.Project(ctx, "offri")
	if err != nil || read.Name != got.Name || read.Institution != got.Institution || read.Purpose != got.Purpose || read.Starts != "2026-01-01" ||
		read.Ends != "2028-12-31" || !slices.Equal(read.Municipalities, got.Municipalities) || read.KeyGeneration != 1 ||
		!read.CreatedAt.Equal(got.CreatedAt) || len(read.Members) != 0 {
		t.Fatalf("Project = %+v, %v; want %+v", read, err, got)
	}
	open2 := offri
	open2.ID, open2.Ends, open2.Municipalities = "a-2", "", nil
	createProject(t, s, open2)
	if all, err := s.Projects(ctx); err != nil || !slices.Equal(ids(all), []string{"a-2", "offri"}) || all[0].Ends != "" || all[0].Municipalities != nil {
		t.Fatalf("Projects = %+v, %v", all, err)
	}
	if _, err := s.CreateProject(ctx, someAdmin, offri); !errors.Is(err, auth.ErrProjectExists) {
		t.Fatalf("a taken id: %v, want ErrProjectExists", err)
	}
	for name, change := range map[string]func(*auth.Project){
		"upper-case id":   func(p *auth.Project) { p.ID = "Offri" },
		"one-letter id":   func(p *auth.Project) { p.ID = "o" },
		"leading dash":    func(p *auth.Project) { p.ID = "-offri" },
		"41-letter id":    func(p *auth.Project) { p.ID = "a" + string(bytes.Repeat([]byte("b"), 40)) },
		"no name":         func(p *auth.Project) { p.Name = " " },
		"no institution":  func(p *auth.Project) { p.Institution = "" },
		"no purpose":      func(p *auth.Project) { p.Purpose = "" },
		"no start":        func(p *auth.Project) { p.Starts = "" },
		"bad start":       func(p *auth.Project) { p.Starts = "2026-13-01" },
		"bad end":         func(p *auth.Project) { p.Ends = "31.12.2028" },
		"ends too early":  func(p *auth.Project) { p.Ends = "2025-12-31" },
		"old code":        func(p *auth.Project) { p.Municipalities = []kommune.Code{"1702"} },
		"no municipality": func(p *auth.Project) { p.Municipalities = []kommune.Code{"9999"} },
	} {
		bad := offri
		bad.ID = "bad"
		change(&bad)
		if _, err := s.CreateProject(ctx, someAdmin, bad); !errors.Is(err, auth.ErrInvalidProject) {
			t.Errorf("%s: %v, want ErrInvalidProject", name, err)
		}
	}
	if all, _ := s.Projects(ctx); len(all) != 2 {
		t.Fatalf("invalid projects were stored: %v", ids(all))
	}
	if _, err := s.Project(ctx, "nope"); !errors.Is(err, auth.ErrProjectNotFound) {
		t.Fatalf("Project(nope): %v, want ErrProjectNotFound", err)
	}
	entries, err := s.Audit(ctx, auth.AuditFilter{Target: "offri"})
	if err != nil || len(entries) != 1 || entries[0].Action != auth.AuditProjectCreated || entries[0].Actor != someAdmin.Subject {
		t.Fatalf("audit of offri: %+v, %v", entries, err)
	}
}

// testKeysStableApartAndRotated: a project's key is the same at every
// read, another project's differs; a rotation makes a new key of the next
// generation, which every later read gives, and is audited.
func testKeysStableApartAndRotated(t *testing.T, open ProjectOpener) {
	ctx := contract.Context(t)
	s := open(t)
	createProject(t, s, offri)
	other := offri
	other.ID = "other"
	createProject(t, s, other)
	k1, g1 := projectKey(t, s, "offri")
	again, _ := projectKey(t, s, "offri")
	ko, _ := projectKey(t, s, "other")
	if g1 != 1 || !bytes.Equal(k1, again) || bytes.Equal(k1, ko) {
		t.Fatalf("keys: offri %x (gen %d), again %x, other %x", k1, g1, again, ko)
	}
	gen, err := s.RotateProjectKey(ctx, someAdmin, "offri")
	if err != nil || gen != 2 {
		t.Fatalf("RotateProjectKey = %d, %v; want 2", gen, err)
	}
	k2, g2 := projectKey(t, s, "offri")
	if g2 != 2 || bytes.Equal(k2, k1) {
		t.Fatalf("after rotation: %x gen %d; want a new key of generation 2", k2, g2)
	}
	if p, _ := s.Project(ctx, "offri"); p.KeyGeneration != 2 {
		t.Fatalf("Project after rotation: generation %d", p.KeyGeneration)
	}
	if ko2, _ := projectKey(t, s, "other"); !bytes.Equal(ko, ko2) {
		t.Fatal("rotating offri changed other's key")
	}
	if _, err := s.RotateProjectKey(ctx, someAdmin, "nope"); !errors.Is(err, auth.ErrProjectNotFound) {
		t.Fatalf("rotating an unknown project: %v", err)
	}
	if _, _, err := s.ProjectKey(ctx, "nope"); !errors.Is(err, auth.ErrProjectNotFound) {
		t.Fatalf("the key of an unknown project: %v", err)
	}
	entries, err := s.Audit(ctx, auth.AuditFilter{Target: "offri", Action: auth.AuditProjectKeyRotated})
	if err != nil || len(entries) != 1 || entries[0].Actor != someAdmin.Subject {
		t.Fatalf("audit of the rotation: %+v, %v", entries, err)
	}
}

// testGrantRevokeAndProjectsOf: researchers and admins (users and tokens)
// can be granted, others and unknown subjects cannot; ProjectsOf gives an
// admin every project, a researcher its own, others none; revoking takes
// it away; grants and revocations are audited.
func testGrantRevokeAndProjectsOf(t *testing.T, open ProjectOpener) {
	ctx := contract.Context(t)
	s := open(t)
	createProject(t, s, offri)
	other := offri
	other.ID = "other"
	createProject(t, s, other)
	for _, spec := range []auth.Spec{
		{Name: "forsker", Role: auth.RoleResearcher}, {Name: "forsker2", Role: auth.RoleResearcher},
		{Name: "leser", Role: auth.RoleViewer},
	} {
		if _, err := s.CreateToken(ctx, someAdmin, spec); err != nil {
			t.Fatal(err)
		}
	}
	_, researcher := signIn(t, s, alice, auth.Grant{Role: auth.RoleResearcher}, t0)
	bob := alice
	bob.Subject = "sub-bob"
	_, coord := signIn(t, s, bob, coordinator, t0)
	for _, subject := range []string{"forsker", researcher.ID} {
		if err := s.GrantProject(ctx, someAdmin, "offri", subject); err != nil {
			t.Fatalf("GrantProject(offri, %s): %v", subject, err)
		}
	}
	// Granting again changes nothing.
	if err := s.GrantProject(ctx, someAdmin, "offri", "forsker"); err != nil {
		t.Fatalf("granting again: %v", err)
	}
	for _, subject := range []string{"leser", coord.ID, "nobody", "usr-bbbbbbbbbbbbbbbbbbbb"} {
		if err := s.GrantProject(ctx, someAdmin, "offri", subject); !errors.Is(err, auth.ErrInvalidMember) {
			t.Errorf("GrantProject(offri, %s): %v, want ErrInvalidMember", subject, err)
		}
	}
	if err := s.GrantProject(ctx, someAdmin, "nope", "forsker"); !errors.Is(err, auth.ErrProjectNotFound) {
		t.Fatalf("granting an unknown project: %v", err)
	}
	p, err := s.Project(ctx, "offri")
	want := []string{"forsker", researcher.ID}
	slices.Sort(want)
	if err != nil || !slices.Equal(p.Members, want) {
		t.Fatalf("members of offri: %q, %v; want %q", p.Members, err, want)
	}
	for _, c := range []struct {
		who  auth.Principal
		want []string
	}{
		{someAdmin, []string{"offri", "other"}},
		{auth.Principal{Subject: "forsker", Role: auth.RoleResearcher}, []string{"offri"}},
		{researcher.Principal(), []string{"offri"}},
		{auth.Principal{Subject: "forsker2", Role: auth.RoleResearcher}, []string{}},
		// A member whose role is no longer researcher exports nothing.
		{auth.Principal{Subject: "forsker", Role: auth.RoleViewer}, []string{}},
	} {
		got, err := s.ProjectsOf(ctx, c.who)
		if err != nil || !slices.Equal(ids(got), c.want) {
			t.Errorf("ProjectsOf(%s as %s) = %q, %v; want %q", c.who.Subject, c.who.Role, ids(got), err, c.want)
		}
		for _, pr := range got {
			if !auth.MayExportProject(c.who, pr) {
				t.Errorf("ProjectsOf(%s) lists %s, which MayExportProject refuses", c.who.Subject, pr.ID)
			}
		}
	}
	if err := s.RevokeProject(ctx, someAdmin, "offri", "forsker"); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.ProjectsOf(ctx, auth.Principal{Subject: "forsker", Role: auth.RoleResearcher}); len(got) != 0 {
		t.Fatalf("after revoking: %q", ids(got))
	}
	if err := s.RevokeProject(ctx, someAdmin, "offri", "forsker"); !errors.Is(err, auth.ErrNotMember) {
		t.Fatalf("revoking again: %v, want ErrNotMember", err)
	}
	if err := s.RevokeProject(ctx, someAdmin, "nope", "forsker"); !errors.Is(err, auth.ErrProjectNotFound) {
		t.Fatalf("revoking from an unknown project: %v", err)
	}
	target := auth.ProjectMemberTarget("offri", "forsker")
	if got := actions(t, s, target); !slices.Equal(got, []string{auth.AuditProjectGranted, auth.AuditProjectRevoked}) {
		t.Fatalf("audit of %s: %q", target, got)
	}
}

// testExportIsAudited: ExportProjectKey gives the current key and
// generation and names the actor in the audit log.
func testExportIsAudited(t *testing.T, open ProjectOpener) {
	ctx := contract.Context(t)
	s := open(t)
	createProject(t, s, offri)
	key, gen := projectKey(t, s, "offri")
	exported, egen, err := s.ExportProjectKey(ctx, someAdmin, "offri")
	if err != nil || egen != gen || !bytes.Equal(exported, key) {
		t.Fatalf("ExportProjectKey = %x, %d, %v; want %x, %d", exported, egen, err, key, gen)
	}
	if _, _, err := s.ExportProjectKey(ctx, someAdmin, "nope"); !errors.Is(err, auth.ErrProjectNotFound) {
		t.Fatalf("exporting an unknown project's key: %v", err)
	}
	entries, err := s.Audit(ctx, auth.AuditFilter{Target: "offri", Action: auth.AuditProjectKeyExported})
	if err != nil || len(entries) != 1 || entries[0].Actor != someAdmin.Subject {
		t.Fatalf("audit of the export: %+v, %v", entries, err)
	}
}

// testConcurrentRotations: rotations at once each get their own
// generation, and the last is the one stored.
func testConcurrentRotations(t *testing.T, open ProjectOpener) {
	ctx := contract.Context(t)
	s := open(t)
	createProject(t, s, offri)
	const n = 8
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		gens []int
		errs []error
	)
	for range n {
		wg.Go(func() {
			gen, err := s.RotateProjectKey(ctx, someAdmin, "offri")
			mu.Lock()
			defer mu.Unlock()
			gens, errs = append(gens, gen), append(errs, err)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	slices.Sort(gens)
	want := make([]int, n)
	for i := range want {
		want[i] = i + 2
	}
	if !slices.Equal(gens, want) {
		t.Fatalf("generations %v, want %v", gens, want)
	}
	if _, gen := projectKey(t, s, "offri"); gen != n+1 {
		t.Fatalf("stored generation %d, want %d", gen, n+1)
	}
}
