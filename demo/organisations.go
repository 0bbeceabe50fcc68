package demo

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"

	"github.com/samspill/samspill/domain/orgnr"
)

// Partner kinds, as the vocabulary spells them.
const (
	municipal = "municipal_unit"
	voluntary = "voluntary_organisation"
	social    = "social_entrepreneur"
	business  = "private_business"
	agency    = "public_agency"
	otherKind = "other"
)

// organisation is a partner as it is called in each demo municipality. The
// names look like the organisations found in Norwegian municipalities; the
// organisation numbers are synthetic (see orgNumber).
type organisation struct {
	key       string
	kind      string
	arendal   string
	steinkjer string
	alesund   string // "" where no Ålesund partnership has it as a partner
	noOrgNo   bool   // municipal units often take part without an org number of their own
}

// organisations are the partners the templates name by key.
var organisations = []organisation{
	{key: "frivilligsentral", kind: voluntary, arendal: "Arendal frivilligsentral", steinkjer: "Steinkjer frivilligsentral", alesund: "Ålesund frivilligsentral"},
	{key: "rodekors", kind: voluntary, arendal: "Røde Kors Arendal", steinkjer: "Røde Kors Steinkjer", alesund: "Røde Kors Ålesund"},
	{key: "sanitet", kind: voluntary, arendal: "Arendal Sanitetsforening", steinkjer: "Steinkjer Sanitetsforening", alesund: "Ålesund Sanitetsforening"},
	{key: "bymisjon", kind: voluntary, arendal: "Kirkens Bymisjon Arendal", steinkjer: "Kirkens Bymisjon Steinkjer"},
	{key: "idrettslag", kind: voluntary, arendal: "Arendal idrettslag", steinkjer: "Steinkjer idrettslag", alesund: "Ålesund idrettslag"},
	{key: "turlag", kind: voluntary, arendal: "Arendal turlag", steinkjer: "Steinkjer turlag", alesund: "Sunnmøre turlag"},
	{key: "pensjonister", kind: voluntary, arendal: "Arendal pensjonistforening", steinkjer: "Steinkjer pensjonistforening", alesund: "Ålesund pensjonistforening"},
	{key: "helselag", kind: voluntary, arendal: "Arendal helselag", steinkjer: "Steinkjer helselag"},
	{key: "korps", kind: voluntary, arendal: "Arendal skolekorps", steinkjer: "Steinkjer skolekorps"},
	{key: "natur", kind: voluntary, arendal: "Naturvernforbundet i Arendal", steinkjer: "Naturvernforbundet i Steinkjer"},
	{key: "kvinnegruppe", kind: voluntary, arendal: "Internasjonal kvinnegruppe Arendal", steinkjer: "Internasjonal kvinnegruppe Steinkjer"},
	{key: "mentalhelse", kind: voluntary, arendal: "Mental Helse Arendal", steinkjer: "Mental Helse Steinkjer"},
	{key: "natteravn", kind: voluntary, arendal: "Natteravnene i Arendal", steinkjer: "Natteravnene i Steinkjer"},
	{key: "sosent", kind: social, arendal: "Brygga Arbeidsfellesskap AS", steinkjer: "Innherred Inkludering AS"},
	{key: "matsentral", kind: social, arendal: "Matsentralen Agder AS", steinkjer: "Matvenn Trøndelag AS"},
	{key: "bedrift", kind: business, arendal: "Kystlys Eiendom AS", steinkjer: "Byafoss Trelast AS"},
	{key: "dataforhandler", kind: business, arendal: "Sørlandsdata AS", steinkjer: "Innherred Data AS"},
	{key: "nav", kind: agency, arendal: "NAV Arendal", steinkjer: "NAV Steinkjer"},
	{key: "fylke", kind: agency, arendal: "Agder fylkeskommune", steinkjer: "Trøndelag fylkeskommune"},
	{key: "fellesraad", kind: otherKind, arendal: "Arendal kirkelige fellesråd", steinkjer: "Steinkjer kirkelige fellesråd"},
	{key: "helse", kind: municipal, arendal: "Enhet for helse og omsorg", steinkjer: "Enhet for helse og omsorg", alesund: "Enhet for helse og omsorg"},
	{key: "oppvekst", kind: municipal, arendal: "Enhet for oppvekst", steinkjer: "Enhet for oppvekst", alesund: "Enhet for oppvekst", noOrgNo: true},
	{key: "bibliotek", kind: municipal, arendal: "Arendal bibliotek", steinkjer: "Steinkjer bibliotek"},
	{key: "kultur", kind: municipal, arendal: "Kulturenheten", steinkjer: "Enhet for kultur", noOrgNo: true},
	{key: "flyktning", kind: municipal, arendal: "Flyktningtjenesten", steinkjer: "Flyktningtjenesten", noOrgNo: true},
	{key: "folkehelse", kind: municipal, arendal: "Folkehelsetjenesten", steinkjer: "Enhet for folkehelse", alesund: "Folkehelsetjenesten", noOrgNo: true},
	{key: "beredskap", kind: municipal, arendal: "Arendal brann og redning", steinkjer: "Steinkjer brann og redning"},
	{key: "park", kind: municipal, arendal: "Park og idrett", steinkjer: "Enhet for park og idrett", noOrgNo: true},
}

// organisationByKey returns the organisation with the key; templates name
// only keys of the table, which the tests check.
func organisationByKey(key string) (organisation, error) {
	for _, o := range organisations {
		if o.key == key {
			return o, nil
		}
	}
	return organisation{}, fmt.Errorf("no organisation %q", key)
}

// name is the organisation's name in the place; "" when it has none there.
func (o organisation) name(p place) string {
	switch p {
	case steinkjer:
		return o.steinkjer
	case alesund:
		return o.alesund
	}
	return o.arendal
}

// orgNumbers holds the synthetic organisation number of every organisation
// that has one, by place key and organisation key ("arendal/rodekors"),
// computed once.
var orgNumbers = mustOrgNumbers()

func mustOrgNumbers() map[string]string {
	numbers := map[string]string{}
	used := map[string]bool{}
	for _, o := range organisations {
		if o.noOrgNo {
			continue
		}
		for _, p := range places {
			if o.name(p) == "" {
				continue
			}
			n := orgNumber(p.key+"/"+o.key, used)
			numbers[p.key+"/"+o.key] = n
			used[n] = true
		}
	}
	return numbers
}

// orgNumber makes a valid, synthetic organisasjonsnummer: eight digits
// drawn from a generator seeded with the name, starting with 3, and their
// mod-11 check digit; prefixes without a check digit and numbers already
// used are skipped. Enhetsregisteret's numbers begin with 8 or 9, so these
// can never be a real organisation's number.
func orgNumber(name string, used map[string]bool) string {
	h := fnv.New64a()
	h.Write([]byte(name))
	r := rand.New(rand.NewPCG(seed, h.Sum64()))
	for {
		first8 := fmt.Sprintf("3%07d", r.IntN(10_000_000))
		digit, ok := orgnr.CheckDigit(first8)
		if !ok {
			continue
		}
		if n := fmt.Sprintf("%s%d", first8, digit); !used[n] {
			return n
		}
	}
}
