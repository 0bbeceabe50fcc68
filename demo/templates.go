package demo

// template is a hand-written partnership. Each of its runs is one
// partnership in one municipality; the generator adds the ordinary life of
// a partnership around what the template says (contacts, roles, agreements,
// funding, meetings, evaluations), with variations from a seeded generator.
type template struct {
	key         string // stable part of ids; never change it once published
	title       string
	description string
	area        string   // service_area
	model       string   // collaboration_model
	partners    []string // organisation keys; the first leads unless lead says otherwise
	// lead is the organisation that takes the role "lead" when it is not
	// the first partner; noLead gives no partner that role (informal
	// collaborations often have none), so research sees every kind of lead
	// and its absence.
	lead   string
	noLead bool
	goals  []string
	// newGoals, when set, replace the goals halfway through (GoalChanged).
	newGoals   []string
	goalReason string
	// joins is an organisation that joins a third of the way in; leaves one
	// that leaves two thirds of the way in, for leaveReason.
	joins       string
	leaves      string
	leaveReason string
	// pause is the reason for a pause halfway through, unless the pandemic
	// paused the partnership already.
	pause string
	// funding lists the sources of yearly funding; none for partnerships
	// that run without money.
	funding []string
	runs    []run
}

// run is one partnership made from a template.
type run struct {
	in     place
	year   int    // the year it was initiated
	months int    // how long it lasted; 0 while it still runs
	end    string // end reason when months > 0
	model  string // collaboration model, when not the template's
	// becomes is the collaboration model the partnership changes to
	// partway through (CollaborationModelChanged), "" for none.
	becomes string
	fixes   fix // entries that were logged wrongly and corrected
}

// fix selects the corrections a run includes.
type fix uint8

const (
	// fixFunding logs the first funding with an extra zero and replaces it.
	fixFunding fix = 1 << iota
	// fixMilestone logs a meeting that belonged to another partnership and
	// retracts it.
	fixMilestone
)

// Funding sources.
const (
	kommunalt     = "Kommunalt tilskudd til frivillighet"
	bufdir        = "Bufdir – tilskudd til inkludering av barn og unge"
	helsedir      = "Helsedirektoratet – tilskudd til aktivitetstilbud for eldre"
	imdi          = "IMDi – tilskudd til integreringsarbeid i regi av sivilsamfunnet"
	sparebank     = "Sparebankstiftelsen"
	gjensidige    = "Gjensidigestiftelsen"
	fylkeFolkeh   = "Fylkeskommunalt folkehelsetilskudd"
	friluft       = "Miljødirektoratet – tilskudd til friluftsliv"
	frivSentral   = "Statlig tilskudd til frivilligsentraler"
	driftsavtale  = "Driftsavtale med kommunen"
	statsforvalte = "Statsforvalteren – skjønnsmidler"
)

var templates = []template{
	{
		key:         "ferietilbud",
		title:       "Frivilligsentral og kommunen: Inkluderende ferietilbud for barn",
		description: "Gratis aktiviteter i sommerferien og høstferien for barn i familier med lav inntekt. Frivilligsentralen rekrutterer og følger opp frivillige; kommunen når familiene gjennom skoler, helsestasjon og NAV.",
		area:        "childhood_and_youth",
		model:       "co_governance",
		partners:    []string{"frivilligsentral", "oppvekst", "rodekors"},
		goals: []string{
			"Alle barn skal ha et gratis tilbud i sommerferien",
			"Minst 150 barn deltar hvert år",
			"Frivillige fra minst fem lag og foreninger bidrar",
		},
		newGoals: []string{
			"Alle barn skal ha et gratis tilbud i sommerferien og høstferien",
			"Minst 250 barn deltar hvert år",
			"Frivillige fra minst fem lag og foreninger bidrar",
			"Foreldre inviteres med på minst én aktivitet",
		},
		goalReason: "Utvidet til høstferien etter evaluering og ønske fra foreldre",
		joins:      "idrettslag",
		funding:    []string{bufdir, kommunalt, sparebank},
		runs: []run{
			{in: arendal, year: 2016, fixes: fixFunding | fixMilestone},
			{in: steinkjer, year: 2017, months: 50, end: "completed"},
			{in: arendal, year: 2021, months: 36, end: "completed", model: "grant", becomes: "co_governance"},
			{in: alesund, year: 2022},
		},
	},
	{
		key:         "leksehjelp",
		title:       "Leksehjelp på biblioteket",
		description: "Frivillige voksne og studenter gir gratis leksehjelp to ettermiddager i uka. Biblioteket stiller med rom og kaffe, Røde Kors med frivillige.",
		area:        "education",
		model:       "network",
		partners:    []string{"rodekors", "bibliotek", "pensjonister"},
		goals: []string{
			"Leksehjelp to dager i uka gjennom skoleåret",
			"Ti faste frivillige",
		},
		joins: "frivilligsentral",
		runs: []run{
			{in: arendal, year: 2015, months: 66, end: "taken_over_by_municipality"},
			{in: steinkjer, year: 2019},
			{in: steinkjer, year: 2016, months: 40, end: "funding_ended", model: "grant"},
			{in: arendal, year: 2022, model: "informal"},
		},
	},
	{
		key:         "besoksvenn",
		title:       "Besøksvenn på sykehjem",
		description: "Faste besøksvenner for beboere på sykehjem som får få besøk. Sykehjemmet formidler kontakt; Sanitetsforeningen lærer opp og følger opp besøksvennene.",
		area:        "health_and_care",
		model:       "co_governance",
		partners:    []string{"sanitet", "helse"},
		goals: []string{
			"Alle beboere som ønsker det, får en fast besøksvenn",
			"Besøksvennene får opplæring og veiledning",
		},
		newGoals: []string{
			"Alle beboere som ønsker det, får en fast besøksvenn",
			"Besøksvennene får opplæring og veiledning",
			"Tilbudet utvides til hjemmeboende eldre",
		},
		goalReason: "Vedtak om å nå også hjemmeboende eldre",
		joins:      "pensjonister",
		funding:    []string{helsedir, kommunalt},
		runs: []run{
			{in: arendal, year: 2017},
			{in: steinkjer, year: 2016, fixes: fixMilestone},
			{in: alesund, year: 2021},
			{in: arendal, year: 2015, months: 70, end: "merged", model: "network"},
		},
	},
	{
		key:         "byparken",
		title:       "Turløyper i Byparken",
		description: "Merking, rydding og vedlikehold av turløyper i Byparken, med benker og en universelt utformet sløyfe. Turlaget har dugnadene; kommunen tar materialer og tillatelser.",
		area:        "sport_and_outdoor",
		model:       "grant",
		partners:    []string{"turlag", "park"},
		goals: []string{
			"Fem kilometer merkede løyper",
			"En sløyfe som er tilgjengelig for rullestol og barnevogn",
		},
		funding: []string{friluft, kommunalt},
		runs: []run{
			{in: arendal, year: 2018, fixes: fixFunding, becomes: "co_governance"},
			{in: steinkjer, year: 2019, months: 45, end: "funding_ended"},
		},
	},
	{
		key:         "byafossen",
		title:       "Merking av turstier ved Byafossen",
		description: "Nettverk av lag og foreninger som merker og skilter turstier langs elva og rundt Byafossen, med felles kart og turkalender.",
		area:        "sport_and_outdoor",
		model:       "network",
		partners:    []string{"turlag", "idrettslag", "park"},
		goals: []string{
			"Merkede stier fra sentrum til Byafossen",
			"Felles turkalender for lagene",
		},
		runs: []run{
			{in: steinkjer, year: 2018},
			{in: arendal, year: 2016, months: 54, end: "completed", model: "informal"},
		},
	},
	{
		key:         "flyktningguiden",
		title:       "Flyktningguiden",
		description: "Frivillige guider blir kjent med nyankomne flyktninger og hjelper dem inn i nærmiljøet: butikker, lag og foreninger, turer og hverdagsnorsk.",
		area:        "integration",
		model:       "network",
		partners:    []string{"rodekors", "flyktning", "nav"},
		goals: []string{
			"Alle nyankomne flyktninger får tilbud om en guide",
			"Minst 30 aktive guider",
		},
		newGoals: []string{
			"Alle nyankomne flyktninger får tilbud om en guide",
			"Minst 30 aktive guider",
			"Guidene kjenner tilbudene i lag og foreninger",
		},
		goalReason: "Flere flyktninger ønsket hjelp til å finne fritidsaktiviteter",
		joins:      "bymisjon",
		funding:    []string{imdi, kommunalt},
		runs: []run{
			{in: arendal, year: 2015, months: 50, end: "funding_ended"},
			{in: steinkjer, year: 2016, months: 42, end: "merged"},
			{in: arendal, year: 2022},
		},
	},
	{
		key:         "spraakkafe",
		title:       "Språkkafé på frivilligsentralen",
		description: "Uformell språkkafé hver onsdag der innbyggere med ulik bakgrunn øver på norsk over en kopp kaffe.",
		area:        "integration",
		model:       "informal",
		partners:    []string{"frivilligsentral", "kvinnegruppe", "flyktning"},
		goals: []string{
			"Et fast, gratis sted å øve på norsk hver uke",
		},
		runs: []run{
			{in: arendal, year: 2017, becomes: "network"},
			{in: steinkjer, year: 2018, fixes: fixMilestone},
			{in: steinkjer, year: 2021, months: 24, end: "dissolved"},
		},
	},
	{
		key:         "aktivitetsvenn",
		title:       "Aktivitetsvenn for personer med demens",
		description: "Frivillige aktivitetsvenner blir matchet med hjemmeboende personer med demens for turer, kafébesøk og hobbyer. Helselaget lærer opp; kommunens demensteam matcher.",
		area:        "health_and_care",
		model:       "co_governance",
		partners:    []string{"helselag", "helse"},
		goals: []string{
			"Minst 20 aktive par av aktivitetsvenn og person med demens",
			"Opplæringskurs for nye aktivitetsvenner to ganger i året",
		},
		funding: []string{helsedir},
		runs: []run{
			{in: steinkjer, year: 2015},
			{in: arendal, year: 2019, months: 30, end: "dissolved"},
		},
	},
	{
		key:         "middag",
		title:       "Felles middag for eldre i nærmiljøet",
		description: "Ukentlig middag for hjemmeboende eldre på frivilligsentralen. En lokal bedrift leverer maten til selvkost; frivillige dekker bord og kjører.",
		area:        "public_health",
		model:       "service_contract",
		partners:    []string{"frivilligsentral", "helse", "bedrift"},
		goals: []string{
			"Middag hver torsdag for inntil 60 gjester",
			"Skyss for dem som trenger det",
		},
		pause:   "Kjøkkenet på frivilligsentralen pusses opp",
		funding: []string{driftsavtale, sparebank},
		runs: []run{
			{in: arendal, year: 2018, months: 56, end: "taken_over_by_voluntary_sector"},
			{in: steinkjer, year: 2020, becomes: "co_governance"},
		},
	},
	{
		key:         "beredskap",
		title:       "Frivillige i kommunal beredskap",
		description: "Avtale om bruk av Røde Kors hjelpekorps ved leteaksjoner, evakuering og store arrangementer, med felles øvelser og varslingsliste.",
		area:        "emergency_preparedness",
		model:       "service_contract",
		partners:    []string{"rodekors", "beredskap"},
		lead:        "beredskap",
		goals: []string{
			"Hjelpekorpset kan varsles døgnet rundt",
			"Felles øvelse minst én gang i året",
		},
		joins:   "sanitet",
		funding: []string{driftsavtale},
		runs: []run{
			{in: steinkjer, year: 2015},
			{in: arendal, year: 2017, months: 62, end: "taken_over_by_municipality"},
			{in: steinkjer, year: 2020, model: "co_governance"},
			{in: arendal, year: 2021, months: 30, end: "completed", model: "network"},
		},
	},
	{
		key:         "spaserstokken",
		title:       "Den kulturelle spaserstokken",
		description: "Konserter, dans og fortellerstunder for eldre på sykehjem og dagsentre, laget av lokale kulturaktører og skolekorpset.",
		area:        "culture",
		model:       "grant",
		partners:    []string{"pensjonister", "kultur", "korps", "fylke"},
		goals: []string{
			"Ti kulturarrangementer i året på sykehjem og dagsentre",
			"Lokale utøvere får betalt for oppdragene",
		},
		leaves:      "korps",
		leaveReason: "Korpset har ikke lenger nok medlemmer til å stille på dagtid",
		funding:     []string{kommunalt, fylkeFolkeh},
		runs: []run{
			{in: arendal, year: 2016, months: 36, end: "completed"},
			{in: steinkjer, year: 2021},
			{in: steinkjer, year: 2017, months: 48, end: "funding_ended", model: "informal"},
		},
	},
	{
		key:         "strandrydding",
		title:       "Strandrydding på Tromøy",
		description: "Vår- og høstdugnader med rydding av plast langs strendene på Tromøy. Kommunen henter avfallet; en lokal bedrift spanderer mat og hansker.",
		area:        "environment",
		model:       "informal",
		partners:    []string{"natur", "park", "bedrift"},
		lead:        "bedrift",
		goals: []string{
			"To ryddedugnader i året",
			"Alle strender på Tromøy ryddet hver vår",
		},
		runs: []run{
			{in: arendal, year: 2019, becomes: "network"},
			{in: arendal, year: 2016, months: 30, end: "completed", model: "network"},
		},
	},
	{
		key:         "elverydding",
		title:       "Ryddeaksjon langs Steinkjerelva",
		description: "Årlig ryddeaksjon langs elvebredden med skoleklasser og frivillige, avsluttet med grilling.",
		area:        "environment",
		model:       "informal",
		partners:    []string{"natur", "park"},
		noLead:      true,
		goals: []string{
			"Ryddeaksjon hver vår",
			"Minst tre skoleklasser deltar",
		},
		runs: []run{
			{in: steinkjer, year: 2020},
			{in: steinkjer, year: 2016, months: 38, end: "dissolved"},
		},
	},
	{
		key:         "fritidsklubb",
		title:       "Møteplass for ungdom: fritidsklubb i sentrum",
		description: "Rusfri fritidsklubb fredag og lørdag kveld, drevet av en sosial entreprenør med frivillige voksne og ungdomsarbeidere fra kommunen.",
		area:        "childhood_and_youth",
		model:       "co_governance",
		partners:    []string{"sosent", "oppvekst"},
		goals: []string{
			"Åpent to kvelder i uka",
			"Ungdommene er med og bestemmer aktivitetene",
		},
		newGoals: []string{
			"Åpent tre kvelder i uka",
			"Ungdommene er med og bestemmer aktivitetene",
			"Tilbud om leksehjelp og gaming-kveld",
		},
		goalReason: "Ungdomsrådet ba om flere åpne kvelder",
		joins:      "idrettslag",
		pause:      "For få voksne frivillige til å holde åpent forsvarlig",
		funding:    []string{bufdir, kommunalt},
		runs: []run{
			{in: arendal, year: 2020},
			{in: steinkjer, year: 2018, months: 28, end: "dissolved"},
		},
	},
	{
		key:         "gjenbruk",
		title:       "Arbeidstrening i gjenbruksbutikk",
		description: "Personer som står utenfor arbeidslivet, får arbeidstrening i en gjenbruksbutikk som drives av en sosial entreprenør i samarbeid med Kirkens Bymisjon og NAV.",
		area:        "other",
		model:       "service_contract",
		partners:    []string{"sosent", "bymisjon", "nav"},
		goals: []string{
			"Tolv plasser for arbeidstrening",
			"Halvparten av deltakerne går videre til arbeid eller utdanning",
		},
		leaves:      "nav",
		leaveReason: "NAV avsluttet rammeavtalen for arbeidstrening i lokalt marked",
		funding:     []string{driftsavtale, gjensidige},
		runs: []run{
			{in: arendal, year: 2019},
			{in: steinkjer, year: 2017, months: 44, end: "other"},
			{in: arendal, year: 2016, months: 50, end: "taken_over_by_voluntary_sector", model: "informal"},
			{in: steinkjer, year: 2021, model: "grant"},
		},
	},
	{
		key:         "foreldreveiledning",
		title:       "Foreldreveiledning for nyankomne familier",
		description: "Samtalegrupper om foreldrerollen i Norge, ledet av veiledere fra kvinnegruppen og helsesykepleiere.",
		area:        "childhood_and_youth",
		model:       "grant",
		partners:    []string{"kvinnegruppe", "oppvekst", "flyktning"},
		goals: []string{
			"Fire grupper i året",
			"Veiledning på foreldrenes eget språk",
		},
		funding: []string{imdi, bufdir},
		runs: []run{
			{in: steinkjer, year: 2022},
			{in: arendal, year: 2019, months: 36, end: "funding_ended"},
		},
	},
	{
		key:         "friskliv",
		title:       "Frisklivsgrupper: Gå sammen",
		description: "Lavterskel turgrupper for innbyggere som vil komme i gang med fysisk aktivitet, med frivillige turledere.",
		area:        "public_health",
		model:       "network",
		partners:    []string{"sanitet", "turlag", "folkehelse"},
		goals: []string{
			"Tre faste turgrupper hver uke",
			"Turledere med kurs i førstehjelp",
		},
		newGoals: []string{
			"Fire faste turgrupper hver uke, én med rullator-tempo",
			"Turledere med kurs i førstehjelp",
		},
		goalReason:  "Mange deltakere trengte et roligere tempo",
		leaves:      "turlag",
		leaveReason: "Turlaget prioriterer egne turer og trekker seg fra nettverket",
		funding:     []string{fylkeFolkeh},
		runs: []run{
			{in: arendal, year: 2021},
			{in: steinkjer, year: 2017, months: 34, end: "funding_ended"},
			{in: alesund, year: 2024},
		},
	},
	{
		key:         "idrettforalle",
		title:       "Idrett for alle: gratis aktivitetstilbud",
		description: "Gratis, åpne treninger uten krav om medlemskap, og lån av utstyr, for barn og unge som ellers ikke deltar i organisert idrett.",
		area:        "sport_and_outdoor",
		model:       "grant",
		partners:    []string{"idrettslag", "park", "nav"},
		goals: []string{
			"Åpen trening to ganger i uka",
			"Utlån av utstyr uten kostnad",
		},
		leaves:      "nav",
		leaveReason: "NAV deltar ikke lenger i styringsgruppen",
		funding:     []string{bufdir, gjensidige},
		runs: []run{
			{in: steinkjer, year: 2016},
			{in: arendal, year: 2020, months: 40, end: "merged"},
		},
	},
	{
		key:         "sorggrupper",
		title:       "Sorggrupper for barn og unge",
		description: "Samtalegrupper for barn og unge som har mistet noen som står dem nær, ledet av frivillige med opplæring og helsesykepleier.",
		area:        "health_and_care",
		model:       "informal",
		partners:    []string{"bymisjon", "oppvekst", "fellesraad"},
		noLead:      true,
		goals: []string{
			"En gruppe hvert halvår",
			"Lett å bli henvist fra skole og helsestasjon",
		},
		runs: []run{
			{in: arendal, year: 2015},
			{in: steinkjer, year: 2024},
			{in: steinkjer, year: 2018, months: 52, end: "completed"},
		},
	},
	{
		key:         "digitalhjelp",
		title:       "Digital hjelp for seniorer",
		description: "Drop-in-hjelp med mobil, nettbank og helsenorge.no på biblioteket, med frivillige seniorer og utlånte nettbrett.",
		area:        "education",
		model:       "network",
		partners:    []string{"pensjonister", "bibliotek", "dataforhandler"},
		goals: []string{
			"Drop-in-hjelp hver uke",
			"Nettbrett til utlån",
		},
		joins:       "frivilligsentral",
		leaves:      "dataforhandler",
		leaveReason: "Butikken er lagt ned",
		runs: []run{
			{in: steinkjer, year: 2019, months: 48, end: "completed"},
			{in: arendal, year: 2021},
		},
	},
	{
		key:         "natteravn",
		title:       "Natteravner i sentrum",
		description: "Voksne natteravner går i sentrum fredag og lørdag kveld, i kontakt med politiet og kommunens utekontakt.",
		area:        "public_health",
		model:       "informal",
		partners:    []string{"natteravn", "folkehelse"},
		goals: []string{
			"Natteravner ute hver fredag og lørdag",
		},
		runs: []run{
			{in: steinkjer, year: 2015, months: 60, end: "taken_over_by_voluntary_sector"},
			{in: arendal, year: 2018},
		},
	},
	{
		key:         "moeteplass",
		title:       "Lavterskel møteplass for psykisk helse",
		description: "Åpen møteplass uten henvisning der innbyggere med psykiske plager møter likepersoner og frivillige.",
		area:        "health_and_care",
		model:       "grant",
		partners:    []string{"mentalhelse", "helse"},
		goals: []string{
			"Åpent tre dager i uka",
			"Likepersoner på vakt hver åpningsdag",
		},
		funding: []string{helsedir, statsforvalte},
		runs: []run{
			{in: steinkjer, year: 2023},
			{in: arendal, year: 2025},
			{in: steinkjer, year: 2017, months: 44, end: "dissolved", model: "service_contract", becomes: "grant"},
		},
	},
	{
		key:         "kulturvert",
		title:       "Frivillige verter i kulturhuset",
		description: "Frivillige tar imot publikum, river billetter og holder kafeen åpen på konserter og forestillinger; overskuddet går til lagenes arbeid.",
		area:        "culture",
		model:       "service_contract",
		partners:    []string{"frivilligsentral", "kultur", "korps"},
		goals: []string{
			"Frivillige verter på alle arrangementer i storsalen",
			"Kafeinntektene fordeles til lagene",
		},
		funding: []string{driftsavtale},
		runs: []run{
			{in: steinkjer, year: 2019},
			{in: arendal, year: 2018, months: 40, end: "merged"},
		},
	},
	{
		key:         "matsentral",
		title:       "Overskuddsmat til familier",
		description: "Overskuddsmat fra butikker og grossister fordeles ukentlig til familier med lav inntekt gjennom frivilligsentralen.",
		area:        "public_health",
		model:       "service_contract",
		partners:    []string{"matsentral", "frivilligsentral", "nav"},
		goals: []string{
			"Matposer hver uke til familier som trenger det",
			"Mindre matsvinn i lokale butikker",
		},
		joins:   "bymisjon",
		funding: []string{kommunalt, gjensidige},
		runs: []run{
			{in: arendal, year: 2021},
			{in: steinkjer, year: 2022, months: 30, end: "merged"},
		},
	},
}
