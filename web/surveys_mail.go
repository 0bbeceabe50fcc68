package web

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/samspill/samspill/auth"
	"github.com/samspill/samspill/describe"
	"github.com/samspill/samspill/domain/survey"
	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/surveys"
)

// The mailing page (/surveys/waves/{wave}/mail): the wave's project
// members and admins paste addresses or upload a CSV file, choose the
// municipality (and a partnership, when the wave names some) and the
// mails' language, and samspill queues one link per address for the
// Mailer's rounds; the page counts the mailing (never showing the
// addresses) and sends reminders. Without an SMTP server it says so and
// points to the wave's CSV download instead.

// maxAddressFile bounds an uploaded address file (the form's whole body
// is bounded by checkCSRF).
const maxAddressFile = 1 << 20

// registerSurveyMail adds the mailing page to g (signed-in routes).
func (p *Pages) registerSurveyMail(g *gin.RouterGroup) {
	g.GET("/surveys/waves/:wave/mail", p.surveyMailPage)
	g.POST("/surveys/waves/:wave/mail", p.checkCSRF, p.validText, p.surveyMailInvite)
	g.POST("/surveys/waves/:wave/mail/reminders", p.checkCSRF, p.surveyMailRemind)
}

// surveyMailView is the mailing page's data.
type surveyMailView struct {
	layoutData
	WaveID  string
	Enabled bool
	Counts  surveys.MailCounts
	// The form's choices and what was chosen.
	Municipalities []choice
	Partnerships   []choice
	Languages      []choice
	// Notice tells what the last post did; Errors why it was refused.
	Notice string
	Errors []string
}

// mailWave returns the wave of the path when the signed-in principal may
// mail for it; otherwise it answers the 404 page (the same for a wave
// outside the reader's projects as for an unknown one).
func (p *Pages) mailWave(c *gin.Context) (surveys.WaveInfo, bool) {
	l := loc(c)
	if p.surveys == nil || p.projectStore == nil {
		p.fail(c, notFound(l.T("surveymail.page.no_wave")))
		return surveys.WaveInfo{}, false
	}
	ctx := c.Request.Context()
	w, err := p.surveys.Wave(ctx, c.Param("wave"))
	if err == nil {
		var pr auth.Project
		pr, err = p.projectStore.Project(ctx, w.ProjectID)
		if err == nil && !auth.MayExportProject(principal(c), pr) {
			err = surveys.ErrWaveNotFound
		}
	}
	switch {
	case errors.Is(err, surveys.ErrWaveNotFound), errors.Is(err, auth.ErrProjectNotFound):
		p.fail(c, notFound(l.T("surveymail.page.no_wave")))
		return surveys.WaveInfo{}, false
	case err != nil:
		p.fail(c, err)
		return surveys.WaveInfo{}, false
	}
	return w, true
}

func (p *Pages) surveyMailPage(c *gin.Context) {
	w, ok := p.mailWave(c)
	if !ok {
		return
	}
	v := &surveyMailView{}
	l := loc(c)
	if n, err := strconv.Atoi(c.Query("queued")); err == nil && n >= 0 {
		dup, _ := strconv.Atoi(c.Query("duplicates"))
		known, _ := strconv.Atoi(c.Query("known"))
		notice := []string{l.N("surveymail.page.queued", n)}
		if dup > 0 {
			notice = append(notice, l.N("surveymail.page.duplicates", dup))
		}
		if known > 0 {
			notice = append(notice, l.N("surveymail.page.known", known))
		}
		v.Notice = strings.Join(notice, " ")
	}
	if n, err := strconv.Atoi(c.Query("reminded")); err == nil && n >= 0 {
		v.Notice = l.N("surveymail.page.reminded", n)
	}
	p.showSurveyMail(c, http.StatusOK, w, v, c.Query("municipality"), c.Query("language"))
}

func (p *Pages) showSurveyMail(c *gin.Context, status int, w surveys.WaveInfo, v *surveyMailView, municipality, lang string) {
	l := loc(c)
	counts, err := p.surveys.Mailing(c.Request.Context(), w.ID)
	if err != nil {
		p.fail(c, err)
		return
	}
	v.Title = l.T("surveymail.page.title", "Wave", w.Title)
	v.Crumbs = []crumb{{"/surveys/waves/" + url.PathEscape(w.ID), w.Title}}
	v.Here = "/surveys/waves/" + url.PathEscape(w.ID) + "/mail"
	v.WaveID, v.Enabled, v.Counts = w.ID, p.surveyMail.Enabled(), counts
	for _, code := range w.Municipalities {
		v.Municipalities = append(v.Municipalities, choice{Value: code, Label: describe.Municipality(code), Selected: code == municipality})
	}
	if len(w.Partnerships) > 0 {
		v.Partnerships = append(v.Partnerships, choice{Value: "", Label: l.T("surveymail.page.partnership_any")})
		names := map[string]string{}
		for _, code := range w.Municipalities {
			choices, err := p.surveys.Choices(c.Request.Context(), w, code)
			if err != nil {
				p.fail(c, err)
				return
			}
			for _, ch := range choices {
				names[ch.ID] = ch.Name
			}
		}
		for _, id := range w.Partnerships {
			label := names[id]
			if label == "" {
				label = id // ended since the wave was scheduled: not in the directory
			}
			v.Partnerships = append(v.Partnerships, choice{Value: id, Label: label, Selected: id == c.PostForm("partnership_id")})
		}
	}
	if lang == "" {
		lang = string(l.Lang())
	}
	for _, code := range survey.Languages {
		v.Languages = append(v.Languages, choice{Value: code, Label: l.T("survey.language." + code), Selected: code == lang})
	}
	p.render(c, status, "surveys_mail", v)
}

// surveyMailInvite queues the addresses pasted and uploaded. Every bad
// line is named (by its number; the line itself only when it is short);
// nothing is queued then.
func (p *Pages) surveyMailInvite(c *gin.Context) {
	w, ok := p.mailWave(c)
	if !ok {
		return
	}
	l := loc(c)
	municipality, lang, partnership := c.PostForm("municipality"), c.PostForm("language"), c.PostForm("partnership_id")
	refuse := func(status int, msgs ...string) {
		p.showSurveyMail(c, status, w, &surveyMailView{Errors: msgs}, municipality, lang)
	}
	if !p.surveyMail.Enabled() {
		refuse(http.StatusConflict, l.T("surveymail.page.not_configured"))
		return
	}
	var addrs []string
	var msgs []string
	var dups int
	read := func(source string, r io.Reader) {
		got, d, problems, err := surveys.ParseAddresses(r)
		if err != nil {
			msgs = append(msgs, l.T("surveymail.page.unreadable", "Source", source))
			return
		}
		for _, pr := range problems {
			msgs = append(msgs, l.T("surveymail.page.bad_line", "Source", source, "Line", pr.Line, "Problem", l.T("surveymail.problem."+pr.Code)))
		}
		addrs, dups = append(addrs, got...), dups+d
	}
	if text := c.PostForm("addresses"); strings.TrimSpace(text) != "" {
		read(l.T("surveymail.page.source_pasted"), strings.NewReader(text))
	}
	if fh, err := c.FormFile("file"); err == nil && fh.Size > 0 {
		f, err := fh.Open()
		if err == nil {
			read(l.T("surveymail.page.source_file", "Name", fh.Filename), io.LimitReader(f, maxAddressFile))
			_ = f.Close()
		} else {
			msgs = append(msgs, l.T("surveymail.page.unreadable", "Source", fh.Filename))
		}
	}
	if len(msgs) == 0 && len(addrs) == 0 {
		msgs = append(msgs, l.T("surveymail.page.no_addresses"))
	}
	if len(msgs) > 0 {
		refuse(http.StatusBadRequest, msgs...)
		return
	}
	pr := principal(c)
	res, err := p.surveys.Invite(c.Request.Context(), eventstore.Actor{Subject: pr.Subject, Role: string(pr.Role)}, w.ID,
		surveys.InviteRequest{Municipality: municipality, PartnershipID: partnership, Language: lang, Addresses: addrs})
	var we *surveys.WaveError
	switch {
	case errors.As(err, &we):
		for _, fp := range we.Problems {
			msgs = append(msgs, l.T("surveymail.page.field_problem", "Field", fp.Field, "Problem", fp.Message))
		}
		refuse(http.StatusBadRequest, msgs...)
		return
	case errors.Is(err, surveys.ErrWaveClosed), errors.Is(err, surveys.ErrLinkExpired):
		refuse(http.StatusConflict, l.T("surveymail.page.closed"))
		return
	case err != nil:
		p.fail(c, err)
		return
	}
	p.surveyMail.Kick()
	q := url.Values{"queued": {strconv.Itoa(res.Queued)}, "duplicates": {strconv.Itoa(res.Duplicates + dups)}, "known": {strconv.Itoa(res.Known)},
		"municipality": {municipality}, "language": {lang}}
	c.Redirect(http.StatusSeeOther, "/surveys/waves/"+url.PathEscape(w.ID)+"/mail?"+q.Encode())
}

func (p *Pages) surveyMailRemind(c *gin.Context) {
	w, ok := p.mailWave(c)
	if !ok {
		return
	}
	l := loc(c)
	if !p.surveyMail.Enabled() {
		p.showSurveyMail(c, http.StatusConflict, w, &surveyMailView{Errors: []string{l.T("surveymail.page.not_configured")}}, "", "")
		return
	}
	pr := principal(c)
	n, err := p.surveys.Remind(c.Request.Context(), eventstore.Actor{Subject: pr.Subject, Role: string(pr.Role)}, w.ID)
	switch {
	case errors.Is(err, surveys.ErrWaveClosed):
		p.showSurveyMail(c, http.StatusConflict, w, &surveyMailView{Errors: []string{l.T("surveymail.page.closed")}}, "", "")
		return
	case err != nil:
		p.fail(c, err)
		return
	}
	p.surveyMail.Kick()
	c.Redirect(http.StatusSeeOther, "/surveys/waves/"+url.PathEscape(w.ID)+"/mail?reminded="+strconv.Itoa(n))
}
