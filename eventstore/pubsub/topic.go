package pubsub

import "strings"

// InTopic reports whether the event of stream streamID belongs to topic:
// the stream id is the topic, or starts with the topic and a hyphen.
func InTopic(streamID, topic string) bool {
	rest, ok := strings.CutPrefix(streamID, topic)
	return ok && (rest == "" || rest[0] == '-')
}
