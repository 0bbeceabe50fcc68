package demo

import (
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/samspill/samspill/app"
	"github.com/samspill/samspill/domain/calendar"
	"github.com/samspill/samspill/domain/partnership"
)

// seed seeds every generator of the data set; with the templates it fixes
// the whole history.
const seed = 0x5a3_5b111

// namespace is the UUID namespace of every id in the data set.
var namespace = uuid.NewSHA1(uuid.NameSpaceURL, []byte("https://github.com/samspill/samspill/demo"))

var oslo = calendar.Oslo

// cutoff is the last moment of the generated history. The history never
// depends on the clock; Load leaves out what lies after its now.
var cutoff = time.Date(2026, 6, 30, 10, 0, 0, 0, oslo)

// pandemic is the day after Norway closed schools and cultural life
// (2020-03-12), when partnerships with activities in person paused.
var pandemic = time.Date(2020, 3, 13, 10, 0, 0, 0, oslo)

// step is one event of a planned partnership.
type step struct {
	n     int       // creation order; corrections name their target by it
	at    time.Time // when it occurred (10:00 Oslo time on its day)
	event partnership.Event
	// For a correction: the step it corrects, why, and the replacement
	// payload (nil retracts). event is nil until finish resolves it.
	target      int
	reason      string
	replacement partnership.Event

	// firstID is the position in the partnership's id sequence of the
	// first id the service asks for while storing this step; eventID is
	// the event id it will get.
	firstID int
	eventID string
	// recorded is when the step was entered in samspill (recorded_at): on
	// its day or a few days later, or on the municipality's go-live day for
	// what happened before it. Never before at, never before the step
	// before it.
	recorded time.Time
}

// plan is one partnership of the data set with its whole history, in the
// order the events occurred.
type plan struct {
	key   string // stable: template, place and year ("leksehjelp/arendal/2015")
	id    string
	steps []step // steps[0] is the initiation
}

// initiation is the plan's first event.
func (p plan) initiation() partnership.PartnershipInitiated {
	return p.steps[0].event.(partnership.PartnershipInitiated)
}

// until returns the steps entered at or before now: a beginning of the
// steps, since they are entered in order.
func (p plan) until(now time.Time) []step {
	n := 0
	for n < len(p.steps) && !p.steps[n].recorded.After(now) {
		n++
	}
	return p.steps[:n]
}

// command is the step as a command to the service. A correction's
// occurred_at is left to the domain, which dates it when it is recorded.
func (s step) command() partnership.Command {
	if _, ok := s.event.(partnership.EntryCorrected); ok {
		return partnership.Command{Event: s.event}
	}
	return partnership.Command{Event: s.event, OccurredAt: &s.at}
}

// entered is the step as a command entered at its recording time.
func (s step) entered() app.Entered {
	return app.Entered{Command: s.command(), RecordedAt: s.recorded}
}

// counterID is the n-th id the service is given while storing the plan key.
func counterID(key string, n int) string {
	return uuid.NewSHA1(namespace, []byte(key+"/"+strconv.Itoa(n))).String()
}

// idCalls is how many new ids app.Service asks for while storing e: one
// for the event, and one more for the contact id of a contact person. The
// demo supplies every partner id itself, so partners need none. Load
// depends on this to know event ids in advance (corrections name them);
// were it wrong, the domain would refuse the corrections and Load fail.
func idCalls(e partnership.Event) int {
	if _, ok := e.(partnership.ContactPersonAssigned); ok {
		return 2
	}
	return 1
}

// plans returns every partnership of the data set, ordered by initiation.
func plans() ([]plan, error) {
	var out []plan
	for _, t := range templates {
		for _, r := range t.runs {
			p, err := newBuilder(t, r).build()
			if err != nil {
				return nil, fmt.Errorf("demo partnership %s/%s/%d: %w", t.key, r.in.key, r.year, err)
			}
			out = append(out, p)
		}
	}
	slices.SortStableFunc(out, func(a, b plan) int { return a.steps[0].at.Compare(b.steps[0].at) })
	return out, nil
}

// builder generates the history of one run of a template.
type builder struct {
	t     template
	run   run
	key   string
	r     *rand.Rand
	start time.Time
	end   time.Time // when it ended; zero while it runs
	last  time.Time // the latest any other step may occur
	// partners are the partners by organisation key, active or not.
	partners map[string]partnership.Partner
	active   []string // organisation keys of active partners, in order of joining
	people   map[string]bool
	steps    []step
}

func newBuilder(t template, r run) *builder {
	key := fmt.Sprintf("%s/%s/%d", t.key, r.in.key, r.year)
	h := fnv.New64a()
	h.Write([]byte(key))
	return &builder{t: t, run: r, key: key, r: rand.New(rand.NewPCG(seed, h.Sum64())),
		partners: map[string]partnership.Partner{}, people: map[string]bool{}}
}

// build generates the plan: the initiation, the ordinary life of the
// partnership and what the template adds, then its end.
func (b *builder) build() (plan, error) {
	month := 1 + b.r.IntN(11)
	if b.run.year == cutoff.Year() {
		month = 1 + b.r.IntN(3)
	}
	b.start = time.Date(b.run.year, time.Month(month), 1+b.r.IntN(28), 10, 0, 0, 0, oslo)
	b.last = cutoff
	if b.run.months > 0 {
		b.end = b.start.AddDate(0, b.run.months, b.r.IntN(21)-10)
		b.last = b.end.AddDate(0, 0, -1)
		if b.end.After(cutoff) {
			return plan{}, fmt.Errorf("ends %s, after the cutoff %s", calendar.Day(b.end), calendar.Day(cutoff))
		}
	}
	if err := b.initiate(); err != nil {
		return plan{}, err
	}
	b.firstContacts()
	b.add(b.within(14, 45), partnership.RolesAgreed{Roles: b.roles()})
	b.agreements()
	b.anchoring()
	b.funding()
	b.milestones()
	b.goalChange()
	if err := b.joinAndLeave(); err != nil {
		return plan{}, err
	}
	b.pause()
	b.retraction()
	b.modelChange()
	if !b.end.IsZero() {
		b.add(b.end, partnership.PartnershipEnded{Reason: b.run.end, Outcome: outcomes[b.run.end]})
	}
	return b.finish()
}

// model is the run's collaboration model: the same activity is organised
// differently in different places and years.
func (b *builder) model() string {
	if b.run.model != "" {
		return b.run.model
	}
	return b.t.model
}

func (b *builder) initiate() error {
	code, err := b.run.in.codeOn(b.start)
	if err != nil {
		return err
	}
	var partners []partnership.Partner
	for _, k := range b.t.partners {
		p, err := b.partner(k)
		if err != nil {
			return err
		}
		partners = append(partners, p)
		b.active = append(b.active, k)
	}
	b.add(b.start, partnership.PartnershipInitiated{
		PartnershipID:      partnershipID(b.key),
		Municipality:       code,
		Title:              b.t.title,
		Description:        b.t.description,
		ServiceArea:        b.t.area,
		CollaborationModel: b.model(),
		Partners:           partners,
		Goals:              b.t.goals,
	})
	return nil
}

func partnershipID(key string) string {
	return uuid.NewSHA1(namespace, []byte("partnership/"+key)).String()
}

// partner returns the organisation as a partner of this partnership, with
// an id of its own.
func (b *builder) partner(key string) (partnership.Partner, error) {
	if p, ok := b.partners[key]; ok {
		return p, nil
	}
	o, err := organisationByKey(key)
	if err != nil {
		return partnership.Partner{}, err
	}
	if o.name(b.run.in) == "" {
		return partnership.Partner{}, fmt.Errorf("organisation %q has no name in %s", key, b.run.in.key)
	}
	p := partnership.Partner{
		PartnerID: uuid.NewSHA1(namespace, []byte(b.key+"/partner/"+key)).String(),
		Name:      o.name(b.run.in),
		Kind:      o.kind,
		OrgNo:     orgNumbers[b.run.in.key+"/"+key],
	}
	b.partners[key] = p
	return p, nil
}

// add plans an event and returns its step number.
func (b *builder) add(at time.Time, e partnership.Event) int {
	n := len(b.steps)
	b.steps = append(b.steps, step{n: n, at: at, event: e, target: -1})
	return n
}

// correct plans a correction of step target.
func (b *builder) correct(at time.Time, target int, reason string, replacement partnership.Event) {
	b.steps = append(b.steps, step{n: len(b.steps), at: at, target: target, reason: reason, replacement: replacement})
}

// days is the number of whole days from a to z.
func days(a, z time.Time) int { return int(math.Round(z.Sub(a).Hours() / 24)) }

// within returns a random day from lo to hi days after the start.
func (b *builder) within(lo, hi int) time.Time {
	return b.start.AddDate(0, 0, lo+b.r.IntN(hi-lo+1))
}

// after returns a random day from lo to hi days after t.
func (b *builder) after(t time.Time, lo, hi int) time.Time {
	return t.AddDate(0, 0, lo+b.r.IntN(hi-lo+1))
}

// at returns the day at fraction f of the partnership's life.
func (b *builder) at(f float64) time.Time {
	return b.start.AddDate(0, 0, int(f*float64(days(b.start, b.last))))
}

// fits reports whether t lies inside the partnership's life.
func (b *builder) fits(t time.Time) bool { return t.After(b.start) && !t.After(b.last) }

// lifeYears is how long the partnership lives, in years.
func (b *builder) lifeYears() float64 { return float64(days(b.start, b.last)) / 365 }

// firstContacts names contact persons for the lead partner and the first
// municipal unit.
func (b *builder) firstContacts() {
	b.contact(b.t.partners[0], b.within(2, 20))
	for _, k := range b.t.partners[1:] {
		if b.partners[k].Kind == municipal {
			b.contact(k, b.within(2, 30))
			break
		}
	}
	if b.lifeYears() > 3 && b.r.IntN(2) == 0 {
		b.contact(b.t.partners[0], b.at(0.55+0.1*b.r.Float64()))
	}
}

// Obviously fictional people: Kari and Ola Nordmann are Norway's Jane and
// John Doe, and the other family names say what they are.
var (
	firstNames  = []string{"Kari", "Ola", "Ingrid", "Per", "Siri", "Nils", "Marte", "Jonas", "Hanne", "Eirik", "Solveig", "Anders", "Tone", "Lars", "Åse", "Bjørn"}
	familyNames = []string{"Nordmann", "Eksempelsen", "Prøvestad", "Testrud", "Demoli", "Fiktivsen", "Oppdiktet", "Navnesen"}
)

func (b *builder) contact(key string, at time.Time) {
	var name string
	for {
		name = firstNames[b.r.IntN(len(firstNames))] + " " + familyNames[b.r.IntN(len(familyNames))]
		if !b.people[name] {
			b.people[name] = true
			break
		}
	}
	c := partnership.ContactPersonAssigned{
		PartnerID: b.partners[key].PartnerID,
		Name:      name,
		Email:     emailOf(name),
	}
	if b.r.IntN(2) == 0 {
		// Norwegian subscriber numbers never begin with 0: no one's phone.
		c.Phone = fmt.Sprintf("+47 0%02d %02d %03d", b.r.IntN(100), b.r.IntN(100), b.r.IntN(1000))
	}
	b.add(at, c)
}

var asciiLetters = strings.NewReplacer("æ", "ae", "ø", "o", "å", "a", "Æ", "ae", "Ø", "o", "Å", "a", " ", ".")

// emailOf makes an example.no address from a name.
func emailOf(name string) string {
	return asciiLetters.Replace(strings.ToLower(name)) + "@example.no"
}

// responsibilities are what each role typically takes on.
var responsibilities = map[string][]string{
	"lead":        {"Leder styringsgruppen", "Rapporterer på måloppnåelse"},
	"coordinator": {"Koordinerer kommunens bidrag", "Kaller inn til samarbeidsmøter"},
	"host":        {"Stiller lokaler til disposisjon"},
	"provider":    {"Rekrutterer og følger opp frivillige", "Gjennomfører aktivitetene"},
	"funder":      {"Bidrar med finansiering", "Deltar i evalueringen"},
	"participant": {"Deltar i samarbeidsmøter", "Bidrar med frivillige ved behov"},
}

// leader is the organisation that takes the role "lead": the template's
// lead, else its first partner; "" when the template has no lead.
func (b *builder) leader() string {
	switch {
	case b.t.noLead:
		return ""
	case b.t.lead != "":
		return b.t.lead
	}
	return b.t.partners[0]
}

// roles gives every active partner a role: the leader leads, the first
// other municipal unit coordinates, the others take roles that fit their
// kind.
func (b *builder) roles() []partnership.Role {
	var roles []partnership.Role
	coordinator := false
	for i, k := range b.active {
		p := b.partners[k]
		var role string
		switch {
		case k == b.leader():
			role = "lead"
		case p.Kind == municipal && !coordinator:
			role, coordinator = "coordinator", true
		case p.Kind == municipal || p.Kind == business:
			role = "host"
		case p.Kind == agency:
			role = "funder"
		case p.Kind == voluntary && i == 1, p.Kind == social:
			role = "provider"
		default:
			role = "participant"
		}
		roles = append(roles, partnership.Role{PartnerID: p.PartnerID, Role: role, Responsibilities: responsibilities[role]})
	}
	return roles
}

// agreements signs the agreement that fits the collaboration model and
// renews it while the partnership lasts. Informal partnerships sign none.
func (b *builder) agreements() {
	kind, years := "", 0
	switch b.model() {
	case "co_governance":
		kind, years = "cooperation_agreement", 3
	case "service_contract":
		kind, years = "operating_agreement", 2
	case "grant":
		kind, years = "grant_agreement", 2
	case "network":
		kind = "letter_of_intent"
	default:
		return
	}
	signed := b.within(25, 90)
	for b.fits(signed) {
		from := b.after(signed, 0, 30)
		a := partnership.AgreementSigned{
			AgreementType: kind,
			ValidFrom:     calendar.Day(from),
			Reference:     fmt.Sprintf("Sak %d/%d", signed.Year(), 100+b.r.IntN(9900)),
		}
		if years == 0 {
			b.add(signed, a)
			return
		}
		until := from.AddDate(years, 0, -1)
		a.ValidUntil = calendar.Day(until)
		b.add(signed, a)
		signed = b.after(until, -45, -15)
	}
}

// anchoring anchors the partnership in a service unit, and co-governed
// partnerships in the council; some others rise to the leadership.
func (b *builder) anchoring() {
	if b.model() == "informal" && b.r.IntN(2) == 0 {
		return
	}
	b.add(b.within(10, 40), partnership.AnchoringChanged{Level: "service_unit", Note: "Forankret i tjenesten som deltar i samarbeidet"})
	switch {
	case b.model() == "co_governance":
		if at := b.within(90, 270); b.fits(at) {
			b.add(at, partnership.AnchoringChanged{Level: "political", Note: "Samarbeidsavtalen er behandlet og vedtatt i " + b.run.in.council})
		}
	case b.r.IntN(2) == 0:
		if at := b.within(180, 540); b.fits(at) {
			b.add(at, partnership.AnchoringChanged{Level: "administrative_leadership", Note: "Tatt inn i kommunens handlingsplan for frivillighet"})
		}
	}
}

// fundingRange is the yearly amount in kroner by collaboration model.
var fundingRange = map[string][2]int{
	"co_governance":    {50_000, 400_000},
	"service_contract": {150_000, 900_000},
	"grant":            {30_000, 250_000},
	"network":          {10_000, 60_000},
	"informal":         {5_000, 30_000},
}

// funding records a grant each year from the template's sources, a report
// to the funder early the next year, and, where the run says so, a first
// amount typed with an extra zero and corrected.
func (b *builder) funding() {
	if len(b.t.funding) == 0 {
		return
	}
	lo, hi := fundingRange[b.model()][0], fundingRange[b.model()][1]
	for y, i := b.start.Year(), 0; ; y, i = y+1, i+1 {
		at := time.Date(y, time.January, 10, 10, 0, 0, 0, oslo).AddDate(0, 0, b.r.IntN(70))
		from := time.Date(y, time.January, 1, 0, 0, 0, 0, oslo)
		if i == 0 {
			at, from = b.within(15, 60), b.start
		}
		if !b.fits(at) || (b.run.end == "funding_ended" && y == b.end.Year()) {
			return
		}
		source := b.t.funding[i%len(b.t.funding)]
		f := partnership.FundingRecorded{
			AmountNOK:   int64(lo + 5_000*b.r.IntN((hi-lo)/5_000+1)),
			Source:      source,
			PeriodFrom:  calendar.Day(from),
			PeriodUntil: fmt.Sprintf("%d-12-31", y),
		}
		if i == 0 && b.run.fixes&fixFunding != 0 {
			typo := f
			typo.AmountNOK *= 10
			n := b.add(at, typo)
			b.correct(b.after(at, 5, 25), n, "Beløpet ble registrert med en null for mye", f)
		} else {
			b.add(at, f)
		}
		if report := time.Date(y+1, time.February, 1, 10, 0, 0, 0, oslo).AddDate(0, 0, b.r.IntN(55)); b.fits(report) {
			b.add(report, partnership.MilestoneLogged{Kind: "report_delivered", Title: fmt.Sprintf("Rapport for %d levert", y), Note: "Rapport og regnskap for tilskuddet: " + source})
		}
	}
}

// meetingNotes are what the partners' meetings were about.
var meetingNotes = []string{
	"Gjennomgang av halvåret og plan for neste",
	"Rekruttering og oppfølging av frivillige",
	"Budsjett og søknader for neste år",
	"Erfaringer fra deltakerne og justering av tilbudet",
	"Fordeling av oppgaver og ansvar",
}

// milestones logs the start of activities, regular meetings, evaluations,
// coverage in the local newspaper and, now and then, a conflict or a prize.
func (b *builder) milestones() {
	b.add(b.within(30, 90), partnership.MilestoneLogged{Kind: "activity_started", Title: "Første aktivitet gjennomført", Note: "Tilbudet er i gang, og de første deltakerne er med"})
	if at := b.within(60, 180); b.fits(at) {
		b.add(at, partnership.MilestoneLogged{Kind: "media", Title: "Omtale i " + b.run.in.newspaper, Note: "Reportasje om samarbeidet og de frivillige"})
	}
	for at := b.within(120, 210); b.fits(at); at = b.after(at, 240, 420) {
		b.add(at, partnership.MilestoneLogged{Kind: "meeting", Title: "Samarbeidsmøte", Note: meetingNotes[b.r.IntN(len(meetingNotes))]})
	}
	for year := 2; ; year += 2 {
		at := b.start.AddDate(year, 0, b.r.IntN(30))
		if !b.fits(at) {
			break
		}
		b.add(at, partnership.MilestoneLogged{Kind: "evaluation", Title: fmt.Sprintf("Evaluering etter %d år", year), Note: "Deltakere, frivillige og kommunen er spurt om erfaringene"})
	}
	if b.run.end == "completed" {
		b.add(b.end.AddDate(0, 0, -10-b.r.IntN(30)), partnership.MilestoneLogged{Kind: "evaluation", Title: "Sluttevaluering", Note: "Målene er gjennomgått sammen med alle partnerne"})
	}
	if b.lifeYears() > 1.5 && b.r.IntN(3) == 0 {
		b.add(b.at(0.3+0.4*b.r.Float64()), partnership.MilestoneLogged{Kind: "conflict", Title: "Uenighet om bruk av lokaler", Note: "Løst i samarbeidsmøtet med ny fordeling av nøkler og tider"})
	}
	if b.lifeYears() > 2 && b.r.IntN(4) == 0 {
		b.add(b.at(0.4+0.4*b.r.Float64()), partnership.MilestoneLogged{Kind: "other", Title: "Tildelt kommunens frivillighetspris", Note: "Prisen ble delt ut på frivillighetens dag 5. desember"})
	}
}

// goalChange replaces the goals halfway through when the template says so.
func (b *builder) goalChange() {
	if b.t.newGoals == nil || b.lifeYears() < 1 {
		return
	}
	b.add(b.at(0.35+0.25*b.r.Float64()), partnership.GoalChanged{Goals: b.t.newGoals, Reason: b.t.goalReason})
}

// joinAndLeave lets the template's organisation join a third of the way
// in, with a contact person and a new set of roles, and the other leave two
// thirds of the way in.
func (b *builder) joinAndLeave() error {
	joined := b.start
	if k := b.t.joins; k != "" {
		at := b.at(0.3 + 0.1*b.r.Float64())
		if early := b.within(100, 130); at.Before(early) {
			at = early
		}
		if b.fits(at.AddDate(0, 0, 60)) {
			p, err := b.partner(k)
			if err != nil {
				return err
			}
			b.add(at, partnership.PartnerJoined{Partner: p})
			b.active = append(b.active, k)
			b.contact(k, b.after(at, 5, 20))
			b.add(b.after(at, 25, 50), partnership.RolesAgreed{Roles: b.roles()})
			joined = at
		}
	}
	if k := b.t.leaves; k != "" {
		at := b.at(0.65 + 0.1*b.r.Float64())
		if early := joined.AddDate(0, 0, 60); at.Before(early) {
			at = early
		}
		if b.fits(at) {
			b.add(at, partnership.PartnerLeft{PartnerID: b.partners[k].PartnerID, Reason: b.t.leaveReason})
		}
	}
	return nil
}

// inPerson are the service areas whose activities stopped in the pandemic.
var inPerson = []string{"health_and_care", "childhood_and_youth", "culture", "sport_and_outdoor", "integration", "public_health", "education", "other"}

// pause pauses partnerships with activities in person when the pandemic
// struck, or else halfway through for the template's reason.
func (b *builder) pause() {
	if slices.Contains(inPerson, b.t.area) && b.start.Before(pandemic.AddDate(0, 0, -14)) {
		resume := b.after(time.Date(2020, time.August, 17, 10, 0, 0, 0, oslo), 0, 40)
		reason := "Aktivitetene kan gjenopptas med smittevernrutiner"
		if b.t.area == "health_and_care" {
			resume = b.after(time.Date(2021, time.June, 1, 10, 0, 0, 0, oslo), 0, 30)
			reason = "Besøksrestriksjonene er opphevet etter vaksinering"
		}
		if b.fits(resume.AddDate(0, 0, 30)) {
			b.add(pandemic, partnership.PartnershipPaused{Reason: "Koronapandemien: aktivitetene stanset etter de nasjonale smitteverntiltakene"})
			b.add(resume, partnership.PartnershipResumed{Reason: reason})
			return
		}
	}
	if b.t.pause == "" || b.lifeYears() < 1 {
		return
	}
	at := b.at(0.45 + 0.1*b.r.Float64())
	if resume := b.after(at, 60, 150); b.fits(resume) {
		b.add(at, partnership.PartnershipPaused{Reason: b.t.pause})
		b.add(resume, partnership.PartnershipResumed{Reason: "Tilbudet er i gang igjen"})
	}
}

// modelReasons say why a collaboration model became another, by the
// models before and after.
var modelReasons = map[[2]string]string{
	{"grant", "co_governance"}:            "Partene planlegger og styrer nå tilbudet sammen i en felles styringsgruppe, ikke bare gjennom tilskuddet",
	{"service_contract", "co_governance"}: "Driftsavtalen er erstattet av en samarbeidsavtale der partene styrer tilbudet sammen",
	{"informal", "network"}:               "Samarbeidet er formalisert som et nettverk med faste møter og felles kalender",
	{"service_contract", "grant"}:         "Kommunen kjøper ikke lenger tjenesten, men gir organisasjonen driftstilskudd",
}

// modelChange changes the collaboration model partway through, where the
// run says so: research follows the model as a covariate that varies.
func (b *builder) modelChange() {
	if b.run.becomes == "" || b.lifeYears() < 1 {
		return
	}
	if at := b.at(0.4 + 0.15*b.r.Float64()); b.fits(at) {
		b.add(at, partnership.CollaborationModelChanged{CollaborationModel: b.run.becomes, Reason: modelReasons[[2]string{b.model(), b.run.becomes}]})
	}
}

// retraction logs a meeting that belonged to another partnership and
// retracts it a few days later, where the run says so.
func (b *builder) retraction() {
	if b.run.fixes&fixMilestone == 0 {
		return
	}
	at := b.at(0.2 + 0.2*b.r.Float64())
	n := b.add(at, partnership.MilestoneLogged{Kind: "meeting", Title: "Samarbeidsmøte", Note: "Planlegging av julemarkedet"})
	b.correct(b.after(at, 2, 12), n, "Registrert på feil samarbeid; møtet gjaldt et annet partnerskap", nil)
}

// outcomes describe, by end reason, how partnerships ended.
var outcomes = map[string]string{
	"completed":                      "Målene er nådd, og samarbeidet er avsluttet som planlagt.",
	"funding_ended":                  "Tilskuddet ble ikke videreført, og partene fant ikke annen finansiering.",
	"dissolved":                      "Partene ble enige om å avslutte samarbeidet.",
	"merged":                         "Slått sammen med et annet samarbeid i kommunen med samme målgruppe.",
	"taken_over_by_municipality":     "Kommunen har tatt over tilbudet som en del av den ordinære tjenesten.",
	"taken_over_by_voluntary_sector": "Organisasjonen driver tilbudet videre på egen hånd, uten kommunen som partner.",
	"other":                          "Lokalet ble solgt, og partene fant ikke noe nytt sted å drive.",
}

// finish orders the steps as they occurred, assigns the ids the service
// will use, resolves corrections to the event ids they name, and checks
// the plan's shape.
func (b *builder) finish() (plan, error) {
	steps := slices.Clone(b.steps)
	slices.SortStableFunc(steps, func(a, z step) int { return a.at.Compare(z.at) })
	index := make([]int, len(steps)) // step number → place in order, once placed
	for i := range index {
		index[i] = -1
	}
	next := 0
	for i := range steps {
		index[steps[i].n] = i
		if steps[i].event == nil {
			j := index[steps[i].target]
			if j < 0 || !steps[j].at.Before(steps[i].at) {
				return plan{}, fmt.Errorf("correction on %s does not follow what it corrects", calendar.Day(steps[i].at))
			}
			target := steps[j]
			c := partnership.EntryCorrected{CorrectedEventID: target.eventID, Reason: steps[i].reason}
			if steps[i].replacement != nil {
				data, err := partnership.Encode(steps[i].replacement)
				if err != nil {
					return plan{}, err
				}
				c.Replacement = data
			}
			steps[i].event = c
		}
		steps[i].firstID = next
		next += idCalls(steps[i].event)
		steps[i].eventID = counterID(b.key, next-1)
	}
	if _, ok := steps[0].event.(partnership.PartnershipInitiated); !ok || steps[0].n != 0 {
		return plan{}, fmt.Errorf("the initiation is not the first event")
	}
	if !steps[1].at.After(steps[0].at) {
		return plan{}, fmt.Errorf("an event on %s lies on the initiation day", calendar.Day(steps[1].at))
	}
	if lastStep := steps[len(steps)-1]; lastStep.at.After(cutoff) {
		return plan{}, fmt.Errorf("an event on %s lies after the cutoff", calendar.Day(lastStep.at))
	}
	if !b.end.IsZero() {
		if _, ok := steps[len(steps)-1].event.(partnership.PartnershipEnded); !ok || !steps[len(steps)-2].at.Before(b.end) {
			return plan{}, fmt.Errorf("an event lies on or after the end on %s", calendar.Day(b.end))
		}
	}
	b.recordingTimes(steps)
	return plan{key: b.key, id: partnershipID(b.key), steps: steps}, nil
}

// recordingTimes sets when each step was entered. What happened before
// the municipality took samspill into use was entered on the go-live day,
// a couple of minutes apart; everything else on its own day or up to
// three days later, within working hours. A step is never entered before
// the one before it, so the stream's versions follow the order of entry.
// A generator of its own keeps the rest of the plan as it was.
func (b *builder) recordingTimes(steps []step) {
	h := fnv.New64a()
	h.Write([]byte(b.key + "/recorded"))
	r := rand.New(rand.NewPCG(seed, h.Sum64()))
	live := b.run.in.live
	var last time.Time
	for i := range steps {
		at := steps[i].at
		var recorded time.Time
		if at.Before(live) {
			recorded = live.Add(time.Duration(2*i) * time.Minute)
		} else {
			recorded = at.AddDate(0, 0, r.IntN(4)).Add(time.Duration(r.IntN(6*60)) * time.Minute)
		}
		if recorded.Before(last) {
			recorded = last.Add(time.Minute)
		}
		steps[i].recorded, last = recorded, recorded
	}
}
