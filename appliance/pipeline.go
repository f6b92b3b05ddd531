package appliance

import (
	"context"
	"errors"
	"time"

	"github.com/notekeeper/notekeeper/appliance/apperr"
	"github.com/notekeeper/notekeeper/store"
)

// The pipeline: everything that happens to a notification once the receiver
// has stored it. Each step is a durable task (store/kinds.go); a step that
// succeeds enqueues the next. The whole flow:
//
//	POST webhook   Receiver (webhook.go): verify, store the notification and
//	               the task envelope.Route names, in one transaction
//	notetaker      Records.handleNotetaker: merge into the Notetaker    → archive (Archiver.Schedule)
//	booking        Records.handleBooking: merge into the booking        → ats (ATS.ScheduleBooking)
//	grant          Records.handleGrant: merge into the grant
//	archive        Archiver.handleArchive: download the media           → ats_recording or crm (routeArchived),
//	               and followup
//	crm            CRM.handle: one meeting record in the CRM
//	ats            ATS.handleBooking: the interview, in step with the booking
//	ats_recording  ATS.handleRecording: the interview's recording
//	followup       Followup.handle: one e-mail of the meeting's notes to its participants
//	alert          Alerter.handle: one alert to one sink
//
// Alerts enter from every step (store.DB.RaiseAlert queues one alert task
// per sink), and a dead-lettered task raises one (Alerter.DeadLetter). The
// jobs (archive_jobs.go, reconcile.go) enqueue archive tasks too.

// Pipeline is the set of steps the daemon runs. A nil Records, Archiver,
// CRM, ATS, Followup or Alerter leaves its steps out (the CRM, ATS and
// follow-up when disabled in the configuration; tests leave out what they do
// not exercise).
type Pipeline struct {
	DB       *store.DB
	Records  *Records
	Archiver *Archiver
	CRM      *CRM
	ATS      *ATS
	Followup *Followup
	Alerter  *Alerter
}

// Stage is one task kind of the pipeline: the handler that runs it.
type Stage struct {
	Kind store.TaskKind
	Run  Handler
}

// Stages lists the pipeline's steps, in flow order, leaving out those of
// nil parts.
func (p *Pipeline) Stages() []Stage {
	rec, arc, crm, ats, alr := p.Records != nil, p.Archiver != nil, p.CRM != nil, p.ATS != nil, p.Alerter != nil
	fup := p.Followup != nil
	var out []Stage
	for _, s := range []struct {
		on bool
		Stage
	}{
		{rec, Stage{store.TaskNotetaker, p.Records.handleNotetaker}},
		{rec, Stage{store.TaskBooking, p.Records.handleBooking}},
		{rec, Stage{store.TaskGrant, p.Records.handleGrant}},
		{arc, Stage{store.TaskArchive, p.Archiver.handleArchive}},
		{crm, Stage{store.TaskCRM, p.CRM.handle}},
		{ats, Stage{store.TaskATS, p.ATS.handleBooking}},
		{ats, Stage{store.TaskATSRecording, p.ATS.handleRecording}},
		{fup, Stage{store.TaskFollowup, p.Followup.handle}},
		{alr, Stage{store.TaskAlert, p.Alerter.handle}},
	} {
		if s.on {
			out = append(out, s.Stage)
		}
	}
	return out
}

// destination is where an archived meeting may go: the task it gets when
// takes says yes for the booking it belongs to (nil: none).
type destination struct {
	on    bool
	kind  store.TaskKind
	takes func(b *store.Booking) bool
}

// destinations are tried in order; the first enabled one that takes the
// meeting gets it. An interview (a meeting with a booking) goes to the ATS,
// any other meeting to the CRM. A new destination is one more line.
func (p *Pipeline) destinations() []destination {
	return []destination{
		{p.ATS != nil, store.TaskATSRecording, func(b *store.Booking) bool { return b != nil }},
		{p.CRM != nil, store.TaskCRM, func(b *store.Booking) bool { return b == nil }},
	}
}

// Install registers every stage's handler on pool and connects each step to
// the next: Records to the Archiver (a Notetaker's media) and to the ATS (a
// booking), the Archiver to the destinations, dead letters to the Alerter.
// Call it before pool.Open.
func (p *Pipeline) Install(pool *Pool) {
	if p.Archiver != nil {
		p.Archiver.OnArchived = p.RouteArchived
		if p.Records != nil {
			p.Records.AfterNotetaker = p.Archiver.Schedule
		}
	}
	if p.ATS != nil && p.Records != nil {
		p.Records.AfterBooking = p.ATS.ScheduleBooking
	}
	if p.Alerter != nil {
		pool.DeadLetterAlert = p.Alerter.DeadLetter
	}
	p.register(pool)
}

// register installs the handlers only, leaving the hooks as they are.
func (p *Pipeline) register(pool *Pool) {
	if p.Archiver != nil {
		p.Archiver.prepare()
	}
	if p.Alerter != nil {
		p.Alerter.prepare()
	}
	for _, s := range p.Stages() {
		pool.Handle(s.Kind, s.Run)
	}
}

// RouteArchived is the Archiver's OnArchived hook: it queues an archived
// meeting's follow-up e-mail (when the pipeline has one) and the meeting
// for its destination (see destinations), or for none. It is idempotent,
// as replays require: the follow-up handler sends once per meeting.
func (p *Pipeline) RouteArchived(ctx context.Context, nt *store.Notetaker) error {
	if p.Followup != nil {
		if err := p.Followup.Schedule(ctx, nt); err != nil {
			return err
		}
	}
	b, err := bookingOf(p.DB, nt)
	if err != nil {
		return err
	}
	for _, d := range p.destinations() {
		if d.on && d.takes(b) {
			return p.DB.Enqueue(store.TaskRef{Kind: d.kind, Subject: nt.ID})
		}
	}
	return nil
}

// RouteArchived returns the OnArchived hook of a pipeline over db with the
// given destinations (nil: disabled), for callers that wire parts by hand.
func RouteArchived(db *store.DB, crm *CRM, ats *ATS) func(context.Context, *store.Notetaker) error {
	return (&Pipeline{DB: db, CRM: crm, ATS: ats}).RouteArchived
}

// Register installs the record handlers on pool, no hooks (a partial
// pipeline, for tests and tools).
func (r *Records) Register(pool *Pool) { (&Pipeline{Records: r}).register(pool) }

// Register installs the archive handler on pool, no hooks.
func (a *Archiver) Register(pool *Pool) { (&Pipeline{Archiver: a}).register(pool) }

// Register installs the CRM handler on pool.
func (c *CRM) Register(pool *Pool) { (&Pipeline{CRM: c}).register(pool) }

// Register installs the ATS handlers on pool.
func (a *ATS) Register(pool *Pool) { (&Pipeline{ATS: a}).register(pool) }

// Register installs the alert handler on pool.
func (al *Alerter) Register(pool *Pool) { (&Pipeline{Alerter: al}).register(pool) }

// archivedNotetaker is the delivery handlers' first step (CRM, ATS
// recording, follow-up): the Notetaker id once its archive is complete; nil
// and no error when it is gone (nothing to deliver), apperr.Later while the
// archive is still running.
func archivedNotetaker(db *store.DB, id string) (*store.Notetaker, error) {
	nt, err := db.Notetaker(id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	if !nt.ArchiveDone {
		return nil, apperr.Later(5*time.Minute, "waiting for the archive")
	}
	return nt, nil
}

// QueueOnly is the pipeline an operator command uses without a daemon (replay
// re-routes archived meetings): the enabled destinations only queue their
// tasks, which the next daemon start runs.
func QueueOnly(db *store.DB, crm, ats, followup bool) *Pipeline {
	p := &Pipeline{DB: db}
	if crm {
		p.CRM = &CRM{DB: db}
	}
	if ats {
		p.ATS = &ATS{DB: db}
	}
	if followup {
		p.Followup = &Followup{DB: db}
	}
	return p
}
