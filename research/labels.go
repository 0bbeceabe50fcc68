package research

import (
	"github.com/samspill/samspill/describe"
	"github.com/samspill/samspill/locale"
)

// labelled makes the Values of a closed vocabulary, in its order, each
// labelled with the words the pages use for it (describe.Label, from the
// locale catalogues) in English, bokmål and nynorsk: the codebook,
// Stata's value labels and the pages say the same.
func labelled(vocabulary []string) []Value {
	en, nb, nn := locale.For(locale.English), locale.For(locale.Bokmal), locale.For(locale.Nynorsk)
	v := make([]Value, len(vocabulary))
	for i, c := range vocabulary {
		v[i] = Value{Code: c, Label: describe.Label(en, c), LabelNB: describe.Label(nb, c), LabelNN: describe.Label(nn, c)}
	}
	return v
}
