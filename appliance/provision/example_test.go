package provision_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"

	"github.com/notekeeper/notekeeper/appliance/nylas"
	"github.com/notekeeper/notekeeper/appliance/nylas/nylastest"
	"github.com/notekeeper/notekeeper/appliance/provision"
)

// Plan, apply, and plan again against the stand-in.
func ExampleProvisioner() {
	nyl := nylastest.NewHandler("key")
	srv := httptest.NewServer(nyl.Handler())
	defer srv.Close()
	nyl.AddGrant("g1", "rep@acme.example", "google")
	nyl.AddCalendar("g1", "rep@acme.example", true)

	dir, _ := os.MkdirTemp("", "provision-example")
	defer os.RemoveAll(dir)
	rep := provision.DefaultCalendar("g1")
	rep.ParticipantsGTE = 0
	p := &provision.Provisioner{Nylas: nylas.New(srv.URL, "key"), DataDir: dir, Calendars: []provision.Calendar{rep}}

	plan, _ := p.Plan(context.Background())
	fmt.Println(plan.Pending())
	if err := p.Apply(context.Background(), os.Stdout); err != nil {
		fmt.Println(err)
	}
	plan, _ = p.Plan(context.Background())
	plan.WriteTo(os.Stdout)
	// Output:
	// true
	// + calendar g1/primary: add Notetaker rules: bot_name "Meeting Notetaker", event_selection [external], participants_gte 0, participants_lte 0, video_recording true, audio_recording true, transcription true, summary true, action_items true, summary_instructions "", action_items_instructions "", leave_after_silence_seconds 300
	// = calendar g1/primary
}
