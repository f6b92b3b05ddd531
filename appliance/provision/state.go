package provision

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/notekeeper/notekeeper/appliance/datadir"
)

// StateFile is the name, in the data dir, of the file that keeps the ID of
// every configuration apply created or adopted, by [[scheduler]] name.
//
// It is a small JSON file and not a bbolt bucket because `nylas apply` runs
// while the daemon holds the store's exclusive lock; the daemon never
// writes it. It is written atomically (a temporary file, fsynced, renamed
// over the old one, the directory fsynced) with mode 0600, at once after
// each create, so a crash right after a create cannot lose the ID and make a
// later apply create the configuration a second time. Losing the file is
// not fatal: apply finds a configuration with a slug again among the
// grant's configurations.
const StateFile = datadir.NylasConfigurationsFile

// state is the content of StateFile.
type state struct {
	Configurations map[string]storedConfiguration `json:"configurations"`
}

// storedConfiguration is what is kept of one configuration.
type storedConfiguration struct {
	ID      string    `json:"id"`
	Grant   string    `json:"grant"`
	Slug    string    `json:"slug,omitempty"`
	StoreAt time.Time `json:"stored_at"`
}

// loadState reads dir's StateFile; a missing file is an empty state.
func loadState(dir string) (*state, error) {
	st := &state{Configurations: map[string]storedConfiguration{}}
	b, err := os.ReadFile(filepath.Join(dir, StateFile))
	if errors.Is(err, fs.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", StateFile, err)
	}
	if err := json.Unmarshal(b, st); err != nil {
		return nil, fmt.Errorf("decode %s: %w", StateFile, err)
	}
	if st.Configurations == nil {
		st.Configurations = map[string]storedConfiguration{}
	}
	return st, nil
}

// save writes st to dir's StateFile atomically with mode 0600.
func (st *state) save(dir string) error {
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", StateFile, err)
	}
	if err := datadir.WriteFileAtomic(dir, StateFile, append(b, '\n')); err != nil {
		return fmt.Errorf("write %s: %w", StateFile, err)
	}
	return nil
}
