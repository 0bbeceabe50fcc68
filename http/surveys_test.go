package http

import (
	"reflect"

	"github.com/samspill/samspill/domain/survey"
)

// The survey routes' bodies and vocabularies, for the OpenAPI agreement
// tests (openapi_test.go).
func init() {
	requestTypes["POST /api/v1/surveys/questionnaires"] = reflect.TypeFor[survey.Questionnaire]()
	requestTypes["POST /api/v1/surveys/questionnaires/validate"] = reflect.TypeFor[survey.Questionnaire]()
	requestTypes["POST /api/v1/research/projects/{project}/waves"] = reflect.TypeFor[waveRequest]()
	requestTypes["POST /api/v1/surveys/waves/{wave}/close"] = reflect.TypeFor[closeWaveRequest]()
	requestTypes["POST /api/v1/surveys/waves/{wave}/links"] = reflect.TypeFor[linksRequest]()
	vocabularies["SurveyGroup"] = survey.Groups
	vocabularies["SurveyItemKind"] = survey.Kinds
}
