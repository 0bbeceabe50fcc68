package auth

import (
	"context"
	"errors"
	"time"

	"github.com/samspill/samspill/domain/kommune"
)

// Errors of the project store.
var (
	ErrProjectNotFound = errors.New("research project not found")
	ErrProjectExists   = errors.New("research project already exists")
)

// Project is a research project: who runs it, why, for which
// municipalities and how long. Each has its own pseudonymisation key
// (ProjectStore.ProjectKey), so its exports join with each other and with
// no other project's. Researchers take its exports once granted it.
type Project struct {
	// ID is a short slug chosen by the admin ("offri"): lower-case
	// letters, digits and '-', 2 to 40 characters.
	ID          string
	Name        string
	Institution string
	Purpose     string
	// Starts and Ends are days, YYYY-MM-DD (Europe/Oslo); Ends may be "".
	Starts, Ends string
	// Municipalities are today's codes; the project's exports hold only
	// partnerships whose municipality is one of them (empty: all).
	Municipalities []kommune.Code
	// KeyGeneration is 1 for the first key, +1 per rotation.
	KeyGeneration int
	CreatedAt     time.Time
	// Members are the principals' subjects (user ids, token names) granted
	// the project.
	Members []string
}

// ProjectStore keeps the research projects, their keys (sealed at rest
// under the installation's secret) and who is granted which. Every change
// is written to the audit log with the actor.
type ProjectStore interface {
	CreateProject(ctx context.Context, actor Principal, p Project) (Project, error)
	// Projects lists every project, by id.
	Projects(ctx context.Context) ([]Project, error)
	// Project returns one, or ErrProjectNotFound.
	Project(ctx context.Context, id string) (Project, error)
	// ProjectsOf lists the projects a principal may export: all for an
	// admin, those it is a member of for a researcher, none otherwise.
	ProjectsOf(ctx context.Context, p Principal) ([]Project, error)
	// ProjectKey returns the project's current pseudonymisation key (32
	// bytes) and its generation.
	ProjectKey(ctx context.Context, id string) (key []byte, generation int, err error)
	// RotateProjectKey makes a new key; the old one is destroyed, and the
	// project's pseudonyms from then on are new.
	RotateProjectKey(ctx context.Context, actor Principal, id string) (generation int, err error)
	// ExportProjectKey returns what ProjectKey does and writes to the
	// audit log that actor took the key out (to seal it for a trusted
	// third party, SealProjectKey).
	ExportProjectKey(ctx context.Context, actor Principal, id string) (key []byte, generation int, err error)
	// Grant and Revoke add and remove a member (a principal's subject).
	GrantProject(ctx context.Context, actor Principal, id, subject string) error
	RevokeProject(ctx context.Context, actor Principal, id, subject string) error
}
