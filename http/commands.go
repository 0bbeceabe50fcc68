package http

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/samspill/samspill/app"
	"github.com/samspill/samspill/domain/calendar"
	"github.com/samspill/samspill/domain/partnership"
	"github.com/samspill/samspill/edge"
)

// maxIdempotencyKey is the longest Idempotency-Key accepted (docs/api.md).
const maxIdempotencyKey = 128

// when is the optional occurred_at of a command body.
type when struct {
	OccurredAt *string `json:"occurred_at"`
}

// command wraps an event payload with the parsed occurred_at.
func (w when) command(e partnership.Event) (partnership.Command, error) {
	cmd := partnership.Command{Event: e}
	if w.OccurredAt == nil {
		return cmd, nil
	}
	t, err := calendar.ParseTime(*w.OccurredAt)
	if err != nil {
		return cmd, edge.FieldError("occurred_at", "%v", err)
	}
	cmd.OccurredAt = &t
	return cmd, nil
}

// commandRequest is the body of a command endpoint on an existing
// partnership: it turns itself and the path parameters into a command.
type commandRequest interface {
	command(params gin.Params) (partnership.Command, error)
}

type joinPartnerRequest struct {
	partnership.PartnerJoined
	when
}

func (r joinPartnerRequest) command(gin.Params) (partnership.Command, error) {
	return r.when.command(r.PartnerJoined)
}

type leavePartnerRequest struct {
	Reason string `json:"reason"`
	when
}

func (r leavePartnerRequest) command(p gin.Params) (partnership.Command, error) {
	return r.when.command(partnership.PartnerLeft{PartnerID: p.ByName("partner_id"), Reason: r.Reason})
}

type agreeRolesRequest struct {
	partnership.RolesAgreed
	when
}

func (r agreeRolesRequest) command(gin.Params) (partnership.Command, error) {
	return r.when.command(r.RolesAgreed)
}

type changeGoalsRequest struct {
	partnership.GoalChanged
	when
}

func (r changeGoalsRequest) command(gin.Params) (partnership.Command, error) {
	return r.when.command(r.GoalChanged)
}

type signAgreementRequest struct {
	partnership.AgreementSigned
	when
}

func (r signAgreementRequest) command(gin.Params) (partnership.Command, error) {
	return r.when.command(r.AgreementSigned)
}

type recordFundingRequest struct {
	partnership.FundingRecorded
	when
}

func (r recordFundingRequest) command(gin.Params) (partnership.Command, error) {
	return r.when.command(r.FundingRecorded)
}

type changeAnchoringRequest struct {
	partnership.AnchoringChanged
	when
}

func (r changeAnchoringRequest) command(gin.Params) (partnership.Command, error) {
	return r.when.command(r.AnchoringChanged)
}

type changeCollaborationModelRequest struct {
	partnership.CollaborationModelChanged
	when
}

func (r changeCollaborationModelRequest) command(gin.Params) (partnership.Command, error) {
	return r.when.command(r.CollaborationModelChanged)
}

type logMilestoneRequest struct {
	partnership.MilestoneLogged
	when
}

func (r logMilestoneRequest) command(gin.Params) (partnership.Command, error) {
	return r.when.command(r.MilestoneLogged)
}

// assignContactRequest has no contact_id: the server makes it.
type assignContactRequest struct {
	PartnerID string `json:"partner_id"`
	Name      string `json:"name"`
	Email     string `json:"email"`
	Phone     string `json:"phone"`
	when
}

func (r assignContactRequest) command(gin.Params) (partnership.Command, error) {
	return r.when.command(partnership.ContactPersonAssigned{PartnerID: r.PartnerID, Name: r.Name, Email: r.Email, Phone: r.Phone})
}

type pauseRequest struct {
	partnership.PartnershipPaused
	when
}

func (r pauseRequest) command(gin.Params) (partnership.Command, error) {
	return r.when.command(r.PartnershipPaused)
}

type resumeRequest struct {
	partnership.PartnershipResumed
	when
}

func (r resumeRequest) command(gin.Params) (partnership.Command, error) {
	return r.when.command(r.PartnershipResumed)
}

type endRequest struct {
	partnership.PartnershipEnded
	when
}

func (r endRequest) command(gin.Params) (partnership.Command, error) {
	return r.when.command(r.PartnershipEnded)
}

// correctEntryRequest has no occurred_at: a correction occurs when it is
// recorded.
type correctEntryRequest struct {
	partnership.EntryCorrected
}

func (r correctEntryRequest) command(gin.Params) (partnership.Command, error) {
	return partnership.Command{Event: r.EntryCorrected}, nil
}

// initiateRequest is the body of POST /partnerships; the server makes the
// partnership id.
type initiateRequest struct {
	Municipality       string                `json:"municipality"`
	Title              string                `json:"title"`
	Description        string                `json:"description"`
	ServiceArea        string                `json:"service_area"`
	CollaborationModel string                `json:"collaboration_model"`
	Partners           []partnership.Partner `json:"partners"`
	Goals              []string              `json:"goals"`
	when
}

func (r initiateRequest) command(gin.Params) (partnership.Command, error) {
	return r.when.command(partnership.PartnershipInitiated{
		Municipality:       r.Municipality,
		Title:              r.Title,
		Description:        r.Description,
		ServiceArea:        r.ServiceArea,
		CollaborationModel: r.CollaborationModel,
		Partners:           r.Partners,
		Goals:              r.Goals,
	})
}

// sender runs a decoded command through the service.
type sender func(c *gin.Context, cmd partnership.Command, meta app.Meta) (app.Result, error)

// toPartnership sends a command to the partnership named in the path.
func (s *Server) toPartnership(c *gin.Context, cmd partnership.Command, meta app.Meta) (app.Result, error) {
	return s.svc.Execute(c.Request.Context(), c.Param("id"), cmd, meta)
}

// toNewPartnership sends an initiation, for which the server makes the id.
func (s *Server) toNewPartnership(c *gin.Context, cmd partnership.Command, meta app.Meta) (app.Result, error) {
	return s.svc.Initiate(c.Request.Context(), cmd, meta)
}

// command returns the handler of a command endpoint whose body is R.
func command[R commandRequest](s *Server, send sender) gin.HandlerFunc {
	return func(c *gin.Context) {
		var req R
		body, err := s.decodeCommand(c, &req)
		if err != nil {
			s.fail(c, err)
			return
		}
		cmd, err := req.command(c.Params)
		if err != nil {
			s.fail(c, err)
			return
		}
		meta, err := commandMeta(c, body)
		if err != nil {
			s.fail(c, err)
			return
		}
		res, err := send(c, cmd, meta)
		if err != nil {
			s.fail(c, err)
			return
		}
		writeResult(c, res)
	}
}

// decodeRequest reads the request's body and decodes it strictly into
// dst; when it cannot, it answers the problem and returns false.
func (s *Server) decodeRequest(c *gin.Context, dst any) bool {
	body, err := readBody(c)
	if err == nil {
		err = decodeStrict(body, dst)
	}
	if err != nil {
		s.fail(c, err)
		return false
	}
	return true
}

func (s *Server) decodeCommand(c *gin.Context, dst any) ([]byte, error) {
	body, err := readBody(c)
	if err != nil {
		return nil, err
	}
	return body, decodeStrict(body, dst)
}

// commandMeta reads the headers of a command: If-Match, Idempotency-Key
// and the request id that becomes the events' correlation and causation.
func commandMeta(c *gin.Context, body []byte) (app.Meta, error) {
	p := principal(c)
	meta := edge.CommandMeta(c, p)
	if v := c.GetHeader("If-Match"); v != "" && v != "*" {
		version, err := parseETag(v)
		if err != nil {
			return meta, err
		}
		meta.IfMatch = &version
	}
	if key, ok := c.Request.Header["Idempotency-Key"]; ok {
		if len(key) != 1 || !edge.VisibleASCII(key[0], maxIdempotencyKey) {
			return meta, edge.BadRequest("Idempotency-Key must be 1 to 128 visible ASCII characters")
		}
		meta.IdempotencyKey = key[0]
		// The key is the token's: another token reusing it with the same
		// body is a different request.
		sum := sha256.Sum256([]byte(p.Subject + "\n" + c.Request.Method + " " + c.Request.URL.Path + "\n" + string(body)))
		meta.RequestHash = hex.EncodeToString(sum[:])
	}
	return meta, nil
}

// parseETag reads an entity tag of the form "N" (a stream version). A weak
// tag never matches If-Match (RFC 9110, strong comparison).
func parseETag(v string) (uint64, error) {
	v = strings.TrimSpace(v)
	if strings.HasPrefix(v, "W/") {
		return 0, fmt.Errorf("%w: a weak entity tag never matches If-Match", app.ErrPreconditionFailed)
	}
	unquoted, ok := strings.CutPrefix(v, `"`)
	if ok {
		unquoted, ok = strings.CutSuffix(unquoted, `"`)
	}
	n, err := strconv.ParseUint(unquoted, 10, 64)
	if !ok || err != nil {
		return 0, edge.BadRequest(`If-Match must be an entity tag such as "3" (the partnership's version)`)
	}
	return n, nil
}

func etag(version uint64) string { return `"` + strconv.FormatUint(version, 10) + `"` }

// writeResult answers a successful (or replayed) command.
func writeResult(c *gin.Context, res app.Result) {
	c.Header("ETag", etag(res.State.Version))
	c.Header("X-Samspill-Position", strconv.FormatUint(res.Position, 10))
	if res.Replayed {
		c.Header("Idempotent-Replayed", "true")
	}
	status := http.StatusOK
	if res.Created {
		status = http.StatusCreated
		c.Header("Location", "/api/v1/partnerships/"+res.State.ID)
	}
	c.JSON(status, res.State)
}
