package http

import (
	"reflect"

	"github.com/samspill/samspill/domain/survey"
)

func init() {
	// The mailing routes' body and vocabulary, for the OpenAPI tests.
	requestTypes["POST /api/v1/surveys/waves/{wave}/invitations"] = reflect.TypeFor[invitationsRequest]()
	vocabularies["SurveyLanguage"] = survey.Languages
}
