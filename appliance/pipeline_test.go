package appliance_test

import (
	"slices"
	"testing"

	"github.com/notekeeper/notekeeper/appliance"
	"github.com/notekeeper/notekeeper/store"
)

// Every task kind the store knows has exactly one stage in the full
// pipeline, in the declared order, and a disabled destination has none.
func TestPipeline_StagesCoverEveryTaskKind(t *testing.T) {
	kinds := func(p *appliance.Pipeline) []store.TaskKind {
		var out []store.TaskKind
		for _, s := range p.Stages() {
			if s.Run == nil {
				t.Errorf("stage %s has no handler", s.Kind)
			}
			out = append(out, s.Kind)
		}
		return out
	}
	full := &appliance.Pipeline{Records: &appliance.Records{}, Archiver: &appliance.Archiver{},
		CRM: &appliance.CRM{}, ATS: &appliance.ATS{}, Followup: &appliance.Followup{}, Alerter: &appliance.Alerter{}}
	if got := kinds(full); !slices.Equal(got, store.TaskKinds) {
		t.Fatalf("stages %v, want %v", got, store.TaskKinds)
	}
	noDestinations := &appliance.Pipeline{Records: &appliance.Records{}, Archiver: &appliance.Archiver{}, Alerter: &appliance.Alerter{}}
	for _, k := range kinds(noDestinations) {
		if k == store.TaskCRM || k == store.TaskATS || k == store.TaskATSRecording || k == store.TaskFollowup {
			t.Errorf("disabled destination has stage %s", k)
		}
	}
}
