// Package kurrenttest is an in-process test double of the part of
// KurrentDB's public gRPC protocol (event_store.client.streams and
// server_features, protocol v1) that samspill's kurrent adapter uses. It is
// a test double of the protocol, not a database: everything lives in memory
// behind one mutex, nothing is durable, there is no cluster, no gossip, no
// authentication, no projections, no persistent subscriptions, no stream
// metadata, no deletes.
//
// What it does, following KurrentDB's documented behaviour:
//
//   - Append: the options message first, then proposed messages until EOF.
//     Expected stream states Any, NoStream, StreamExists and an exact
//     revision; a failed expectation answers the WrongExpectedVersion result
//     (not a gRPC error). Idempotent event ids: appending ids that are
//     already stored, in order, at the place the expectation names (or, for
//     Any, right where the first id is stored) succeeds without writing.
//     Ids are not unique across streams, as in KurrentDB.
//   - Read a stream (forwards or backwards, from a revision, start or end,
//     with a count); a missing stream answers the stream-not-found message.
//   - Read $all forwards or backwards from a position, start or end, with a
//     count, optionally filtered by stream-name or event-type prefixes or
//     regular expression (Go syntax, not .NET).
//   - Subscribe to $all, optionally filtered: a confirmation first, then the
//     events after the start position (exclusive), checkpoints every
//     max-search-window × checkpoint-interval-multiplier events considered,
//     a caught-up message with a timestamp when the subscription reaches the
//     end, then live events.
//   - Every recorded event carries the system metadata type, content-type
//     and created (.NET ticks since the Unix epoch, UnixNano/100), without
//     which the Go client stops the process.
//   - Positions: commit position = prepare position = a log position that
//     grows with the size of each record, so positions have gaps, as in a
//     real transaction file.
//   - GetSupportedMethods answers Unimplemented, as servers before 21.10 did;
//     the client then assumes no optional features.
//
// Fault injection for tests: DropSubscriptions ends every active
// subscription with an error mid-stream; StopListener and StartListener
// take the server off the network (closing every connection) and bring it
// back at the same address with its data; UnavailableFor answers
// codes.Unavailable to every call for a while.
package kurrenttest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/kurrent-io/KurrentDB-Client-Go/protos/kurrentdb/protocols/v1/serverfeatures"
	"github.com/kurrent-io/KurrentDB-Client-Go/protos/kurrentdb/protocols/v1/shared"
	"github.com/kurrent-io/KurrentDB-Client-Go/protos/kurrentdb/protocols/v1/streams"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// firstPosition is the log position of the first event: a real
// transaction file starts with epoch and system records, so positions of
// user events are never 0.
const firstPosition = 4096

// Defaults of a filtered subscription, as KurrentDB's clients send them.
const (
	defaultMaxSearchWindow = 32
	subscriptionBatch      = 256
)

// record is one stored event. Records are immutable once appended.
type record struct {
	id       uuid.UUID
	stream   string
	revision uint64
	position uint64
	metadata map[string]string // type, content-type, created
	custom   []byte
	data     []byte
}

// Server is the test double. Its methods are safe for concurrent use.
type Server struct {
	mu      sync.Mutex
	log     []*record            // in position order
	streams map[string][]*record // in revision order
	byID    map[uuid.UUID][]*record
	next    uint64 // position of the next record
	// changed is closed (and replaced) whenever records are appended.
	changed chan struct{}
	// drop is closed (and replaced) to end every active subscription.
	drop chan struct{}
	// unavailableUntil makes every call answer Unavailable until then.
	unavailableUntil time.Time
	subscriptions    int
	addr             string
	grpc             *grpc.Server
	serving          sync.WaitGroup
	stopped          bool
	now              func() time.Time
}

// Start starts a server on a fresh TCP port of 127.0.0.1 and returns it
// serving. Stop it with Stop.
func Start() (*Server, error) {
	s := &Server{
		streams: make(map[string][]*record),
		byID:    make(map[uuid.UUID][]*record),
		next:    firstPosition,
		changed: make(chan struct{}),
		drop:    make(chan struct{}),
		now:     time.Now,
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("kurrenttest: listen: %w", err)
	}
	s.addr = lis.Addr().String()
	s.serve(lis)
	return s, nil
}

// URL is the connection string of the server for the KurrentDB client:
// plain text (tls=false), single node.
func (s *Server) URL() string { return "esdb://" + s.addr + "?tls=false" }

// Addr is the server's host:port.
func (s *Server) Addr() string { return s.addr }

// serve starts a gRPC server on lis. Callers hold no lock.
func (s *Server) serve(lis net.Listener) {
	g := grpc.NewServer(
		// The client pings every 10 s with or without calls; the default
		// policy (5 min) would answer with GOAWAY "too_many_pings".
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: time.Second, PermitWithoutStream: true}),
		grpc.UnaryInterceptor(s.unaryGate),
		grpc.StreamInterceptor(s.streamGate),
	)
	streams.RegisterStreamsServer(g, &streamsService{s: s})
	serverfeatures.RegisterServerFeaturesServer(g, serverfeatures.UnimplementedServerFeaturesServer{})
	s.mu.Lock()
	s.grpc = g
	s.mu.Unlock()
	s.serving.Add(1)
	go func() {
		defer s.serving.Done()
		_ = g.Serve(lis) // returns when Stop closes the listener
	}()
}

// StopListener takes the server off the network: it closes the listener
// and every connection, ending every call in flight. The data stays;
// StartListener serves it again at the same address.
func (s *Server) StopListener() {
	s.mu.Lock()
	g := s.grpc
	s.grpc = nil
	s.mu.Unlock()
	if g != nil {
		g.Stop()
	}
	s.serving.Wait()
}

// StartListener serves again at the address of the first start, after
// StopListener. It fails if the port was taken meanwhile.
func (s *Server) StartListener() error {
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		return errors.New("kurrenttest: server stopped")
	}
	if s.grpc != nil {
		s.mu.Unlock()
		return nil
	}
	s.mu.Unlock()
	var (
		lis net.Listener
		err error
	)
	// The port was ours a moment ago; a connection in TIME_WAIT does not
	// block a listener, but retry briefly in case the kernel is slow.
	for range 50 {
		if lis, err = net.Listen("tcp", s.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		return fmt.Errorf("kurrenttest: listen again on %s: %w", s.addr, err)
	}
	s.serve(lis)
	return nil
}

// Stop shuts the server down for good and waits for its goroutines.
func (s *Server) Stop() {
	s.mu.Lock()
	s.stopped = true
	s.mu.Unlock()
	s.StopListener()
}

// DropSubscriptions ends every active subscription with an Unavailable
// error, as a node does when it loses leadership or shuts down. It returns
// how many subscriptions were active.
func (s *Server) DropSubscriptions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.subscriptions
	close(s.drop)
	s.drop = make(chan struct{})
	return n
}

// UnavailableFor makes every call, and every subscription already running,
// fail with codes.Unavailable for d.
func (s *Server) UnavailableFor(d time.Duration) {
	s.mu.Lock()
	s.unavailableUntil = s.now().Add(d)
	close(s.drop)
	s.drop = make(chan struct{})
	s.mu.Unlock()
}

// Subscriptions is the number of active subscriptions.
func (s *Server) Subscriptions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.subscriptions
}

// Len is the number of events stored, in every stream.
func (s *Server) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.log)
}

func (s *Server) unavailable() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.now().Before(s.unavailableUntil) {
		return status.Error(codes.Unavailable, "kurrenttest: server unavailable (fault injected)")
	}
	return nil
}

func (s *Server) unaryGate(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	if err := s.unavailable(); err != nil {
		return nil, err
	}
	return h(ctx, req)
}

func (s *Server) streamGate(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, h grpc.StreamHandler) error {
	if err := s.unavailable(); err != nil {
		return err
	}
	return h(srv, ss)
}

// streamsService implements event_store.client.streams.Streams.
type streamsService struct {
	streams.UnimplementedStreamsServer
	s *Server
}

// proposed is one event of an append.
type proposed struct {
	id       uuid.UUID
	metadata map[string]string
	custom   []byte
	data     []byte
}

func (x *streamsService) Append(call grpc.ClientStreamingServer[streams.AppendReq, streams.AppendResp]) error {
	first, err := call.Recv()
	if err != nil {
		return err
	}
	opts := first.GetOptions()
	if opts == nil {
		return status.Error(codes.InvalidArgument, "append: the first message must be the options")
	}
	stream := string(opts.GetStreamIdentifier().GetStreamName())
	if stream == "" {
		return status.Error(codes.InvalidArgument, "append: empty stream name")
	}
	var events []proposed
	for {
		msg, err := call.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		pm := msg.GetProposedMessage()
		if pm == nil {
			return status.Error(codes.InvalidArgument, "append: expected a proposed message")
		}
		id, err := fromUUID(pm.GetId())
		if err != nil {
			return status.Errorf(codes.InvalidArgument, "append: event id: %v", err)
		}
		if pm.GetMetadata()["type"] == "" {
			return status.Error(codes.InvalidArgument, "append: event without type")
		}
		events = append(events, proposed{id: id, metadata: pm.GetMetadata(), custom: pm.GetCustomMetadata(), data: pm.GetData()})
	}
	resp, err := x.s.append(stream, opts, events)
	if err != nil {
		return err
	}
	return call.SendAndClose(resp)
}

// append decides and writes one append request.
func (s *Server) append(stream string, opts *streams.AppendReq_Options, events []proposed) (*streams.AppendResp, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	existing := s.streams[stream]
	current := int64(len(existing)) - 1 // -1: no stream

	wrong := func() *streams.AppendResp {
		w := &streams.AppendResp_WrongExpectedVersion{}
		if current < 0 {
			w.CurrentRevisionOption = &streams.AppendResp_WrongExpectedVersion_CurrentNoStream{CurrentNoStream: &shared.Empty{}}
			w.CurrentRevisionOption_20_6_0 = &streams.AppendResp_WrongExpectedVersion_NoStream_20_6_0{NoStream_20_6_0: &shared.Empty{}}
		} else {
			w.CurrentRevisionOption = &streams.AppendResp_WrongExpectedVersion_CurrentRevision{CurrentRevision: uint64(current)}
			w.CurrentRevisionOption_20_6_0 = &streams.AppendResp_WrongExpectedVersion_CurrentRevision_20_6_0{CurrentRevision_20_6_0: uint64(current)}
		}
		switch e := opts.GetExpectedStreamRevision().(type) {
		case *streams.AppendReq_Options_Revision:
			w.ExpectedRevisionOption = &streams.AppendResp_WrongExpectedVersion_ExpectedRevision{ExpectedRevision: e.Revision}
			w.ExpectedRevisionOption_20_6_0 = &streams.AppendResp_WrongExpectedVersion_ExpectedRevision_20_6_0{ExpectedRevision_20_6_0: e.Revision}
		case *streams.AppendReq_Options_NoStream:
			w.ExpectedRevisionOption = &streams.AppendResp_WrongExpectedVersion_ExpectedNoStream{ExpectedNoStream: &shared.Empty{}}
		case *streams.AppendReq_Options_StreamExists:
			w.ExpectedRevisionOption = &streams.AppendResp_WrongExpectedVersion_ExpectedStreamExists{ExpectedStreamExists: &shared.Empty{}}
			w.ExpectedRevisionOption_20_6_0 = &streams.AppendResp_WrongExpectedVersion_StreamExists_20_6_0{StreamExists_20_6_0: &shared.Empty{}}
		default:
			w.ExpectedRevisionOption = &streams.AppendResp_WrongExpectedVersion_ExpectedAny{ExpectedAny: &shared.Empty{}}
			w.ExpectedRevisionOption_20_6_0 = &streams.AppendResp_WrongExpectedVersion_Any_20_6_0{Any_20_6_0: &shared.Empty{}}
		}
		return &streams.AppendResp{Result: &streams.AppendResp_WrongExpectedVersion_{WrongExpectedVersion: w}}
	}
	// matchesAt reports whether the events are stored from revision from
	// on, in order: a retried append.
	matchesAt := func(from int64) bool {
		if from < 0 || from+int64(len(events)) > int64(len(existing)) {
			return false
		}
		for i, e := range events {
			if existing[from+int64(i)].id != e.id {
				return false
			}
		}
		return true
	}
	idempotent := func(from int64) *streams.AppendResp {
		last := existing[from+int64(len(events))-1]
		return success(int64(last.revision), last.position)
	}

	if len(events) > 0 {
		switch e := opts.GetExpectedStreamRevision().(type) {
		case *streams.AppendReq_Options_Any:
			// KurrentDB checks Any appends against the ids it has seen
			// in this stream: the first id decides.
			for _, r := range s.byID[events[0].id] {
				if r.stream != stream {
					continue
				}
				if matchesAt(int64(r.revision)) {
					return idempotent(int64(r.revision)), nil
				}
				return wrong(), nil // KurrentDB: corrupted idempotency
			}
		case *streams.AppendReq_Options_StreamExists:
			if current < 0 {
				return wrong(), nil
			}
		case *streams.AppendReq_Options_NoStream:
			if current >= 0 {
				if matchesAt(0) {
					return idempotent(0), nil
				}
				return wrong(), nil
			}
		case *streams.AppendReq_Options_Revision:
			expected := int64(e.Revision)
			switch {
			case expected < current:
				if matchesAt(expected + 1) {
					return idempotent(expected + 1), nil
				}
				return wrong(), nil
			case expected > current:
				return wrong(), nil
			}
		default:
			return nil, status.Error(codes.InvalidArgument, "append: no expected stream revision")
		}
	}
	if len(events) == 0 {
		if current < 0 {
			return &streams.AppendResp{Result: &streams.AppendResp_Success_{Success: &streams.AppendResp_Success{
				CurrentRevisionOption: &streams.AppendResp_Success_NoStream{NoStream: &shared.Empty{}},
				PositionOption:        &streams.AppendResp_Success_NoPosition{NoPosition: &shared.Empty{}},
			}}}, nil
		}
		last := existing[len(existing)-1]
		return success(current, last.position), nil
	}

	created := strconv.FormatInt(s.now().UnixNano()/100, 10)
	var last *record
	for _, e := range events {
		meta := map[string]string{
			"type":         e.metadata["type"],
			"content-type": e.metadata["content-type"],
			"created":      created,
		}
		if meta["content-type"] == "" {
			meta["content-type"] = "application/octet-stream"
		}
		last = &record{
			id:       e.id,
			stream:   stream,
			revision: uint64(len(existing)),
			position: s.next,
			metadata: meta,
			custom:   e.custom,
			data:     e.data,
		}
		// Like a transaction file: the next record starts after this
		// one, so positions grow by the record's size.
		s.next += uint64(128 + len(stream) + len(e.custom) + len(e.data))
		existing = append(existing, last)
		s.log = append(s.log, last)
		s.byID[e.id] = append(s.byID[e.id], last)
	}
	s.streams[stream] = existing
	close(s.changed)
	s.changed = make(chan struct{})
	return success(int64(last.revision), last.position), nil
}

func success(revision int64, position uint64) *streams.AppendResp {
	return &streams.AppendResp{Result: &streams.AppendResp_Success_{Success: &streams.AppendResp_Success{
		CurrentRevisionOption: &streams.AppendResp_Success_CurrentRevision{CurrentRevision: uint64(revision)},
		PositionOption: &streams.AppendResp_Success_Position{Position: &streams.AppendResp_Position{
			CommitPosition: position, PreparePosition: position,
		}},
	}}}
}

func fromUUID(u *shared.UUID) (uuid.UUID, error) {
	switch v := u.GetValue().(type) {
	case *shared.UUID_Structured_:
		var id uuid.UUID
		most, least := uint64(v.Structured.GetMostSignificantBits()), uint64(v.Structured.GetLeastSignificantBits())
		for i := range 8 {
			id[i] = byte(most >> (56 - 8*i))
			id[8+i] = byte(least >> (56 - 8*i))
		}
		return id, nil
	case *shared.UUID_String_:
		return uuid.Parse(v.String_)
	default:
		return uuid.Nil, errors.New("missing")
	}
}

func toUUID(id uuid.UUID, asString bool) *shared.UUID {
	if asString {
		return &shared.UUID{Value: &shared.UUID_String_{String_: id.String()}}
	}
	var most, least uint64
	for i := range 8 {
		most = most<<8 | uint64(id[i])
		least = least<<8 | uint64(id[8+i])
	}
	return &shared.UUID{Value: &shared.UUID_Structured_{Structured: &shared.UUID_Structured{
		MostSignificantBits: int64(most), LeastSignificantBits: int64(least),
	}}}
}

func (r *record) toProto(asString bool) *streams.ReadResp {
	return &streams.ReadResp{Content: &streams.ReadResp_Event{Event: &streams.ReadResp_ReadEvent{
		Event: &streams.ReadResp_ReadEvent_RecordedEvent{
			Id:               toUUID(r.id, asString),
			StreamIdentifier: &shared.StreamIdentifier{StreamName: []byte(r.stream)},
			StreamRevision:   r.revision,
			PreparePosition:  r.position,
			CommitPosition:   r.position,
			Metadata:         r.metadata,
			CustomMetadata:   r.custom,
			Data:             r.data,
		},
		Position: &streams.ReadResp_ReadEvent_CommitPosition{CommitPosition: r.position},
	}}}
}

// filter is a $all filter as the client sends it.
type filter struct {
	byType   bool
	prefixes []string
	regex    *regexp.Regexp
	// checkpointEvery is the number of events considered between two
	// checkpoints of a subscription.
	checkpointEvery int
}

func newFilter(o *streams.ReadReq_Options) (*filter, error) {
	fo := o.GetFilter()
	if fo == nil {
		return nil, nil
	}
	f := &filter{}
	expr := fo.GetStreamIdentifier()
	if expr == nil {
		expr, f.byType = fo.GetEventType(), true
	}
	if expr == nil {
		return nil, errors.New("filter without expression")
	}
	f.prefixes = expr.GetPrefix()
	if expr.GetRegex() != "" {
		re, err := regexp.Compile(expr.GetRegex())
		if err != nil {
			return nil, fmt.Errorf("filter regex: %w", err)
		}
		f.regex = re
	}
	window := defaultMaxSearchWindow
	if m, ok := fo.GetWindow().(*streams.ReadReq_Options_FilterOptions_Max); ok && m.Max > 0 {
		window = int(m.Max)
	}
	f.checkpointEvery = window * max(1, int(fo.GetCheckpointIntervalMultiplier()))
	return f, nil
}

func (f *filter) match(r *record) bool {
	if f == nil {
		return true
	}
	subject := r.stream
	if f.byType {
		subject = r.metadata["type"]
	}
	if f.regex != nil && !f.regex.MatchString(subject) {
		return false
	}
	if len(f.prefixes) == 0 {
		return true
	}
	for _, p := range f.prefixes {
		if strings.HasPrefix(subject, p) {
			return true
		}
	}
	return false
}

func (x *streamsService) Read(req *streams.ReadReq, call grpc.ServerStreamingServer[streams.ReadResp]) error {
	o := req.GetOptions()
	if o == nil {
		return status.Error(codes.InvalidArgument, "read: no options")
	}
	asString := o.GetUuidOption().GetString_() != nil
	f, err := newFilter(o)
	if err != nil {
		return status.Errorf(codes.InvalidArgument, "read: %v", err)
	}
	backwards := o.GetReadDirection() == streams.ReadReq_Options_Backwards
	if o.GetSubscription() != nil {
		all := o.GetAll()
		if all == nil || backwards {
			return status.Error(codes.Unimplemented, "kurrenttest: only forward subscriptions to $all are implemented")
		}
		return x.s.subscribeAll(call, all, f, asString)
	}
	count := o.GetCount()
	var out []*record
	switch so := o.GetStreamOption().(type) {
	case *streams.ReadReq_Options_Stream:
		name := string(so.Stream.GetStreamIdentifier().GetStreamName())
		x.s.mu.Lock()
		events := x.s.streams[name]
		x.s.mu.Unlock()
		if len(events) == 0 {
			return call.Send(&streams.ReadResp{Content: &streams.ReadResp_StreamNotFound_{StreamNotFound: &streams.ReadResp_StreamNotFound{
				StreamIdentifier: &shared.StreamIdentifier{StreamName: []byte(name)},
			}}})
		}
		out = readStream(events, so.Stream, backwards, count)
	case *streams.ReadReq_Options_All:
		x.s.mu.Lock()
		log := x.s.log
		x.s.mu.Unlock()
		out = readAll(log, so.All, backwards, count, f)
	default:
		return status.Error(codes.InvalidArgument, "read: neither stream nor $all")
	}
	for _, r := range out {
		if err := call.Send(r.toProto(asString)); err != nil {
			return err
		}
	}
	return nil
}

func readStream(events []*record, o *streams.ReadReq_Options_StreamOptions, backwards bool, count uint64) []*record {
	var out []*record
	if backwards {
		from := int64(len(events)) - 1
		if r, ok := o.GetRevisionOption().(*streams.ReadReq_Options_StreamOptions_Revision); ok {
			from = min(from, int64(r.Revision))
		}
		if o.GetStart() != nil {
			from = 0
		}
		for i := from; i >= 0 && uint64(len(out)) < count; i-- {
			out = append(out, events[i])
		}
		return out
	}
	from := uint64(0)
	if r, ok := o.GetRevisionOption().(*streams.ReadReq_Options_StreamOptions_Revision); ok {
		from = r.Revision
	}
	if o.GetEnd() != nil {
		from = uint64(len(events))
	}
	for i := from; i < uint64(len(events)) && uint64(len(out)) < count; i++ {
		out = append(out, events[i])
	}
	return out
}

// readAll reads $all: forwards from a position includes the event at it,
// backwards from a position starts below it (KurrentDB's pre- and
// post-positions).
func readAll(log []*record, o *streams.ReadReq_Options_AllOptions, backwards bool, count uint64, f *filter) []*record {
	var out []*record
	if backwards {
		i := len(log) - 1
		if p, ok := o.GetAllOption().(*streams.ReadReq_Options_AllOptions_Position); ok {
			i = sort.Search(len(log), func(i int) bool { return log[i].position >= p.Position.GetCommitPosition() }) - 1
		}
		if o.GetStart() != nil {
			i = -1
		}
		for ; i >= 0 && uint64(len(out)) < count; i-- {
			if f.match(log[i]) {
				out = append(out, log[i])
			}
		}
		return out
	}
	i := 0
	if p, ok := o.GetAllOption().(*streams.ReadReq_Options_AllOptions_Position); ok {
		i = sort.Search(len(log), func(i int) bool { return log[i].position >= p.Position.GetCommitPosition() })
	}
	if o.GetEnd() != nil {
		i = len(log)
	}
	for ; i < len(log) && uint64(len(out)) < count; i++ {
		if f.match(log[i]) {
			out = append(out, log[i])
		}
	}
	return out
}

// subscribeAll serves a catch-up subscription to $all until the client
// leaves, the server drops it, or the server stops.
func (s *Server) subscribeAll(call grpc.ServerStreamingServer[streams.ReadResp], o *streams.ReadReq_Options_AllOptions, f *filter, asString bool) error {
	s.mu.Lock()
	drop := s.drop
	s.subscriptions++
	cursor := 0 // index into log of the next record to consider
	switch a := o.GetAllOption().(type) {
	case *streams.ReadReq_Options_AllOptions_Position:
		// A subscription starts after its position.
		p := a.Position.GetCommitPosition()
		cursor = sort.Search(len(s.log), func(i int) bool { return s.log[i].position > p })
	case *streams.ReadReq_Options_AllOptions_End:
		cursor = len(s.log)
	}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.subscriptions--
		s.mu.Unlock()
	}()

	if err := call.Send(&streams.ReadResp{Content: &streams.ReadResp_Confirmation{Confirmation: &streams.ReadResp_SubscriptionConfirmation{
		SubscriptionId: uuid.NewString(),
	}}}); err != nil {
		return err
	}
	ctx := call.Context()
	dropped := func() error {
		return status.Error(codes.Unavailable, "kurrenttest: subscription dropped (fault injected)")
	}
	var (
		considered int
		lastPos    uint64
		caughtUp   bool
	)
	for {
		s.mu.Lock()
		batch := s.log[cursor:min(cursor+subscriptionBatch, len(s.log))]
		changed := s.changed
		s.mu.Unlock()
		for _, r := range batch {
			select {
			case <-drop:
				return dropped()
			case <-ctx.Done():
				return ctx.Err()
			default:
			}
			cursor++
			lastPos = r.position
			if f.match(r) {
				if err := call.Send(r.toProto(asString)); err != nil {
					return err
				}
			}
			considered++
			if f != nil && considered >= f.checkpointEvery {
				considered = 0
				if err := call.Send(&streams.ReadResp{Content: &streams.ReadResp_Checkpoint_{Checkpoint: &streams.ReadResp_Checkpoint{
					CommitPosition: r.position, PreparePosition: r.position, Timestamp: timestamppb.New(s.now()),
				}}}); err != nil {
					return err
				}
			}
		}
		if len(batch) > 0 {
			continue
		}
		if !caughtUp {
			caughtUp = true
			cu := &streams.ReadResp_CaughtUp{Timestamp: timestamppb.New(s.now())}
			if lastPos > 0 {
				cu.Position = &streams.ReadResp_Position{CommitPosition: lastPos, PreparePosition: lastPos}
			}
			if err := call.Send(&streams.ReadResp{Content: &streams.ReadResp_CaughtUp_{CaughtUp: cu}}); err != nil {
				return err
			}
		}
		select {
		case <-changed:
		case <-drop:
			return dropped()
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
