// Package survey is the domain of samspill's surveys: questionnaires that
// researchers define (items, sections, skip conditions, texts in bokmål,
// nynorsk and English), the waves that field them in a research project,
// and the responses, whose answers are events in the survey's own streams.
//
// The package is pure: it parses and validates questionnaires, decides
// which items a respondent sees, checks answers, and defines the events
// and their JSON payloads. Storing them (package survey at the top level
// of the module, over the event store and the response links) and showing
// them (web, http, research) are other packages' work.
//
// Streams (all under the topic "survey", so the partnerships' projections
// never see them):
//
//	survey-questionnaire-<questionnaire id>  QuestionnairePublished, one per version (version n is stream version n)
//	survey-wave-<wave id>                    SurveyWaveScheduled, then SurveyWaveClosed if closed before its close day
//	survey-response-<response id>            SurveyResponseStarted, SurveyAnswersSaved..., SurveyResponseSubmitted
//
// A response's id is derived from its link's token (ResponseID), which
// samspill never stores: only the token's holder can find the response,
// and nothing samspill stores ties a response to the person a link was
// sent to.
package survey
