package research

import "context"

// A Table is one file of a research export described for every format and
// for the codebook: the columns with their types, units, labels and
// meaning, and the rows as text (the CSV cell of each column). The CSV,
// Stata and Parquet writers and the Frictionless Data Package
// (datapackage.json) are all made from the same Table, so a file and its
// codebook cannot disagree.
type Table struct {
	// Name is the file's base name without extension: "spells", "panel",
	// "affiliations".
	Name string
	// Title and Description say what one row is and which analysis the
	// file is made for, in English and Norwegian bokmål.
	Title, TitleNB             string
	Description, DescriptionNB string
	// Columns are in file order.
	Columns []Column
	// PrimaryKey names the columns that identify a row.
	PrimaryKey []string
}

// Column types, as Frictionless Table Schema names them. Cells of every
// type are written as text; "" is a missing value in every column that is
// not Required.
const (
	TypeString  = "string"  // text; codes such as municipality 0301 stay text
	TypeInteger = "integer" // whole number, base 10
	TypeNumber  = "number"  // decimal number, '.' as the decimal point
	TypeBoolean = "boolean" // "1" or "0"
	TypeDate    = "date"    // YYYY-MM-DD
)

// Column describes one column.
type Column struct {
	Name string
	Type string
	// Label is the short variable label (Stata: at most 80 characters),
	// in English and bokmål, and in nynorsk where the table has it (a
	// survey item's text); pages fall back to bokmål.
	Label, LabelNB, LabelNN string
	// Description is the codebook's definition, in English and bokmål
	// (and nynorsk, as Label).
	Description, DescriptionNB, DescriptionNN string
	// Unit names the unit of a number, one of Units, "" for none.
	Unit string
	// Values is the closed vocabulary of a coded string column, in the
	// order that numbers them for Stata value labels (1, 2, ...); nil for
	// an open column. An integer column may have Values too when they are
	// exactly "1".."k" in order (a Likert scale's labelled points): its
	// numbers are then their own Stata codes.
	Values []Value
	// Required columns never hold a missing value.
	Required bool
	// Personal flags a column that can identify a person (an org number
	// of a sole proprietorship); the codebook says why.
	Personal string
}

// Units are the units a Column may name; pages and the codebook say
// each in the reader's language (research.unit.<unit>).
var Units = []string{"days", "years", "NOK", "partners", "events"}

// Value is one code of a coded column with its labels.
type Value struct {
	Code                    string
	Label, LabelNB, LabelNN string
}

// Rows produces a table's rows in file order: emit is called once per
// row with one cell per column (the slice may be reused after emit
// returns). The rows of a given position and parameters are always the
// same, in the same order.
type Rows func(ctx context.Context, emit func(row []string) error) error
