package ops

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/notekeeper/notekeeper/appliance/datadir"
	"github.com/notekeeper/notekeeper/store"
	"github.com/notekeeper/notekeeper/store/storetest"
)

// newTestService returns a Service over a real store in a fresh data dir.
func newTestService(t *testing.T) *Service {
	t.Helper()
	dataDir := filepath.Join(t.TempDir(), "data")
	db := storetest.MustOpenAt(t, filepath.Join(dataDir, datadir.DBFile))
	return &Service{DB: db, DataDir: dataDir, Version: "test"}
}

// notification is a signed-looking Nylas notification body of typ about
// object id (a Notetaker, booking or grant ID by type).
func notification(id, typ, object string) []byte {
	field := "id"
	switch {
	case len(typ) > 8 && typ[:8] == "booking.":
		field = "booking_id"
	case len(typ) > 6 && typ[:6] == "grant.":
		field = "grant_id"
	}
	return []byte(fmt.Sprintf(`{"specversion":"1.0","type":%q,"source":"/nylas/notetaker","id":%q,"time":1737504536,`+
		`"data":{"application_id":"app-test","object":{%q:%q,"grant_id":"grant-1","object":"notetaker","state":"attending"}}}`,
		typ, id, field, object))
}

// ingest stores a notification the way the receiver does (with its task)
// at the store's clock, and returns its sequence.
func ingest(t *testing.T, db *store.DB, id, typ, object string, tasks ...store.TaskRef) uint64 {
	t.Helper()
	res, err := db.Ingest(context.Background(), &store.Ingest{
		Notification: store.Notification{ID: id, Type: typ, Body: notification(id, typ, object)},
		Tasks:        tasks,
	})
	if err != nil {
		t.Fatal(err)
	}
	return res.Seq
}

// clock is a settable clock for the store and the service.
type clock struct{ t time.Time }

func (c *clock) Now() time.Time { return c.t }
