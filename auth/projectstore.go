package auth

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/samspill/samspill/domain/kommune"
)

// What follows is shared by the ProjectStore adapters: how a project is
// checked, who may be granted one and how its key is sealed at rest, so
// that auth/sqlite and auth/postgres agree byte for byte.

// More errors of the project store.
var (
	// ErrInvalidProject means a project cannot be made as asked.
	ErrInvalidProject = errors.New("invalid research project")
	// ErrInvalidMember means the subject cannot be granted a project: it
	// names no user or token, or one that is neither researcher nor admin.
	ErrInvalidMember = errors.New("cannot be granted a research project")
	// ErrNotMember means the subject is not granted the project.
	ErrNotMember = errors.New("not a member of the research project")
	// ErrNoProjectSealer means a store was opened without the key that
	// seals the projects' keys, and cannot keep projects.
	ErrNoProjectSealer = errors.New("the store has no sealer for research project keys")
)

// Audit actions of research projects. The target of project.granted and
// project.revoked is ProjectMemberTarget(project, subject); of the others
// the project's id.
const (
	AuditProjectCreated     = "project.created"
	AuditProjectGranted     = "project.granted"
	AuditProjectRevoked     = "project.revoked"
	AuditProjectKeyRotated  = "project.key_rotated"
	AuditProjectKeyExported = "project.key_exported"
)

// ProjectMemberTarget is the audit log's target of a grant or revocation:
// the project's id, '/', the subject (an id has no '/').
func ProjectMemberTarget(project, subject string) string { return project + "/" + subject }

// projectIDForm is the form of a project's id.
var projectIDForm = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,39}$`)

// ValidProjectID reports whether id has the form of a project's id.
func ValidProjectID(id string) bool { return projectIDForm.MatchString(id) }

// ProjectProblem is one reason a project cannot be made as asked: the
// field, what is wrong with it (one of the ProblemProject* codes) and the
// value given; Today is today's code of a former municipality code. Pages
// say it in the reader's language from Code.
type ProjectProblem struct {
	Field, Code, Value, Today string
}

// What a ProjectProblem's Code says.
const (
	ProblemProjectID              = "id"               // not a slug
	ProblemProjectRequired        = "required"         // empty
	ProblemProjectDay             = "day"              // not YYYY-MM-DD
	ProblemProjectEndsBeforeStart = "ends_before"      // ends before starts
	ProblemProjectMunicipality    = "municipality"     // no kommunenummer
	ProblemProjectFormerCode      = "municipality_old" // a code no longer in use (Today names today's)
)

// InvalidProjectError is every problem of a project as asked. It wraps
// ErrInvalidProject.
type InvalidProjectError struct{ Problems []ProjectProblem }

func (e *InvalidProjectError) Error() string {
	var parts []string
	for _, p := range e.Problems {
		switch p.Code {
		case ProblemProjectID:
			parts = append(parts, fmt.Sprintf("id %q must be 2 to 40 lower-case letters, digits or '-', starting with a letter or digit", p.Value))
		case ProblemProjectRequired:
			parts = append(parts, p.Field+" is required")
		case ProblemProjectDay:
			parts = append(parts, fmt.Sprintf("%s %q is no day (YYYY-MM-DD)", p.Field, p.Value))
		case ProblemProjectEndsBeforeStart:
			parts = append(parts, fmt.Sprintf("ends %s is before starts", p.Value))
		case ProblemProjectMunicipality:
			parts = append(parts, fmt.Sprintf("municipality %q is no kommunenummer of SSB classification 131 from 2017 to today", p.Value))
		case ProblemProjectFormerCode:
			parts = append(parts, fmt.Sprintf("municipality %s is no longer in use: today's code is %s", p.Value, p.Today))
		}
	}
	return ErrInvalidProject.Error() + ": " + strings.Join(parts, "; ")
}

func (e *InvalidProjectError) Unwrap() error { return ErrInvalidProject }

// Validate checks a project as an admin asks for it and returns it
// trimmed, its municipalities sorted without repeats. Its key generation,
// creation time and members are the store's and are ignored. Every
// problem is named in an *InvalidProjectError.
func (p Project) Validate() (Project, error) {
	p.ID, p.Name, p.Institution, p.Purpose = strings.TrimSpace(p.ID), strings.TrimSpace(p.Name), strings.TrimSpace(p.Institution), strings.TrimSpace(p.Purpose)
	p.Starts, p.Ends = strings.TrimSpace(p.Starts), strings.TrimSpace(p.Ends)
	var problems []ProjectProblem
	if !ValidProjectID(p.ID) {
		problems = append(problems, ProjectProblem{Field: "id", Code: ProblemProjectID, Value: p.ID})
	}
	for _, f := range []struct{ name, value string }{{"name", p.Name}, {"institution", p.Institution}, {"purpose", p.Purpose}} {
		if f.value == "" {
			problems = append(problems, ProjectProblem{Field: f.name, Code: ProblemProjectRequired})
		}
	}
	starts, err := time.Parse(time.DateOnly, p.Starts)
	switch {
	case p.Starts == "":
		problems = append(problems, ProjectProblem{Field: "starts", Code: ProblemProjectRequired})
	case err != nil:
		problems = append(problems, ProjectProblem{Field: "starts", Code: ProblemProjectDay, Value: p.Starts})
	}
	if p.Ends != "" {
		ends, err := time.Parse(time.DateOnly, p.Ends)
		switch {
		case err != nil:
			problems = append(problems, ProjectProblem{Field: "ends", Code: ProblemProjectDay, Value: p.Ends})
		case !starts.IsZero() && ends.Before(starts):
			problems = append(problems, ProjectProblem{Field: "ends", Code: ProblemProjectEndsBeforeStart, Value: p.Ends})
		}
	}
	codes := make([]kommune.Code, 0, len(p.Municipalities))
	for _, m := range p.Municipalities {
		c, err := kommune.Parse(strings.TrimSpace(string(m)))
		switch {
		case err != nil:
			problems = append(problems, ProjectProblem{Field: "municipalities", Code: ProblemProjectMunicipality, Value: string(m)})
		case c.Current() != c:
			problems = append(problems, ProjectProblem{Field: "municipalities", Code: ProblemProjectFormerCode, Value: string(c), Today: string(c.Current())})
		default:
			codes = append(codes, c)
		}
	}
	if len(problems) > 0 {
		return Project{}, &InvalidProjectError{Problems: problems}
	}
	slices.Sort(codes)
	p.Municipalities = slices.Compact(codes)
	if len(p.Municipalities) == 0 {
		p.Municipalities = nil
	}
	return p, nil
}

// MayBeGranted checks that a principal's role may be granted a project
// (researcher or admin); subject names it in the error.
func MayBeGranted(subject, role string) error {
	if role != RoleResearcher && role != RoleAdmin {
		if role == "" {
			role = "no role"
		}
		return fmt.Errorf("%w: %s has %s; only researchers and admins can be granted a project", ErrInvalidMember, subject, role)
	}
	return nil
}

// MayExportProject reports whether the principal may take the project's
// exports: an admin always, a researcher when it is a member.
func MayExportProject(pr Principal, p Project) bool {
	return pr.Role == RoleAdmin || (pr.Role == RoleResearcher && slices.Contains(p.Members, pr.Subject))
}

// ProjectKeySize is the length of a project's pseudonymisation key.
const ProjectKeySize = 32

// NewProjectKey returns a fresh random pseudonymisation key.
func NewProjectKey() []byte {
	k := make([]byte, ProjectKeySize)
	_, _ = rand.Read(k) // never fails (crypto/rand)
	return k
}

// ProjectSealer seals the projects' keys at rest (AES-256-GCM) under a key
// derived from the installation's secret. The project's id and the key's
// generation are the additional data: a sealed key copied to another
// project's row, or an old generation put back, does not open. Safe for
// concurrent use.
type ProjectSealer struct{ aead cipher.AEAD }

// NewProjectSealer returns the sealer under key (32 bytes, derived from
// the installation's secret for this purpose alone).
func NewProjectSealer(key []byte) (*ProjectSealer, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("project sealer: want a 32-byte key, have %d bytes", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("project sealer: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("project sealer: %w", err)
	}
	return &ProjectSealer{aead: aead}, nil
}

func projectAD(id string, generation int) []byte {
	return []byte("samspill project key v1\x00" + id + "\x00" + strconv.Itoa(generation))
}

// Seal seals the key of the project's generation: a random nonce, then
// the ciphertext.
func (s *ProjectSealer) Seal(id string, generation int, key []byte) ([]byte, error) {
	if s == nil {
		return nil, ErrNoProjectSealer
	}
	nonce := make([]byte, s.aead.NonceSize())
	_, _ = rand.Read(nonce)
	return s.aead.Seal(nonce, nonce, key, projectAD(id, generation)), nil
}

// Open opens what Seal sealed for the same project and generation.
func (s *ProjectSealer) Open(id string, generation int, sealed []byte) ([]byte, error) {
	if s == nil {
		return nil, ErrNoProjectSealer
	}
	n := s.aead.NonceSize()
	if len(sealed) < n {
		return nil, fmt.Errorf("open the key of project %s: too short", id)
	}
	key, err := s.aead.Open(nil, sealed[:n], sealed[n:], projectAD(id, generation))
	if err != nil {
		return nil, fmt.Errorf("open the key of project %s (generation %d): %w", id, generation, err)
	}
	return key, nil
}
