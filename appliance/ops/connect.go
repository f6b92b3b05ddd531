package ops

import (
	"errors"
	"log/slog"

	"github.com/notekeeper/notekeeper/appliance/datadir"
	"github.com/notekeeper/notekeeper/appliance/search"
	"github.com/notekeeper/notekeeper/store"
)

// Connect is how an operator command reaches the operations of dataDir: the
// running daemon's socket Client or, when no daemon answers (ErrNoDaemon),
// the Service local builds over the store opened here at dbPath, read-only
// unless write (its writes then run at the next daemon start). isLocal
// tells which; close releases what Connect opened.
func Connect(dataDir, dbPath string, write bool, local func(*store.DB) *Service) (op Operator, close func(), isLocal bool, err error) {
	client, err := Dial(datadir.SocketPath(dataDir))
	if err == nil {
		return client, client.Close, false, nil
	} else if !errors.Is(err, ErrNoDaemon) {
		return nil, nil, false, err
	}
	db := store.NewDB(dbPath)
	db.ReadOnly = !write
	if err := db.Open(); err != nil {
		return nil, nil, false, err
	}
	return local(db), func() { db.Close() }, true, nil
}

// AsFinder makes what Connect returned a Finder for the finding commands
// (search, export, reindex): a local Service also gets the search index of
// dataDir, cold (OpenLocalIndex opens it for searching; export and reindex
// need no more), logging to logger, and close then closes it too. Both the
// socket Client and the Service are Finders.
func AsFinder(op Operator, close func(), dataDir string, logger *slog.Logger) (Finder, func()) {
	svc, ok := op.(*Service)
	if !ok {
		return op.(Finder), close
	}
	svc.Index = search.New(dataDir)
	svc.Index.Logger = logger
	return svc, func() { svc.Index.Close(); close() }
}

// OpenLocalIndex opens a local Service's index for searching and waits for
// its synchronisation with the archive (quick when the index is intact);
// through the daemon's socket it does nothing.
func OpenLocalIndex(f Finder) error {
	svc, ok := f.(*Service)
	if !ok {
		return nil
	}
	if err := svc.Index.Open(); err != nil {
		return err
	}
	svc.Index.Wait()
	return nil
}
