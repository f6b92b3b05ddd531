package ops

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/notekeeper/notekeeper/appliance/archive"
	"github.com/notekeeper/notekeeper/appliance/datadir"
	"github.com/notekeeper/notekeeper/store"
)

// VerifyReport is what Verify found.
type VerifyReport struct {
	Meetings int             `json:"meetings"` // folders with a manifest
	Files    int             `json:"files"`    // files that match their manifest entry
	Objects  int             `json:"objects"`  // of those, objects in the bucket re-hashed and matching
	Pruned   int             `json:"pruned"`   // files retention removed on purpose
	Problems []VerifyProblem `json:"problems,omitempty"`
}

// VerifyProblem is one file (or manifest) that is not as the manifest says.
type VerifyProblem struct {
	NotetakerID string `json:"notetaker_id"`
	File        string `json:"file,omitempty"` // "" for a problem with the manifest itself
	Problem     string `json:"problem"`        // "missing", "mismatch" or "unreadable"
	Detail      string `json:"detail,omitempty"`
}

func (p VerifyProblem) String() string {
	s := p.NotetakerID + "/" + p.File + ": " + p.Problem
	if p.File == "" {
		s = p.NotetakerID + "/" + archive.ManifestName + ": " + p.Problem
	}
	if p.Detail != "" {
		s += " (" + p.Detail + ")"
	}
	return s
}

// Verify re-reads every archived file under {DataDir}/media/*/ and compares
// its size and sha256 with its meeting's manifest.json. A file missing on
// disk is a problem unless retention pruned the meeting (Notetaker PrunedAt
// set). Folders without a manifest (an archive not begun) are skipped.
// Reading is sequential: one file at a time, memory independent of size.
//
// A file the manifest records as an object in the bucket (entry.Object) is
// checked there instead of on disk: the object exists, its size and sha256
// metadata match, and its bytes, streamed, hash to the manifest's sha256;
// the bucket must also hold the meeting's manifest.json. Without a Target
// such a file is "unreadable" ([archive.s3] not configured).
func (s *Service) Verify(ctx context.Context) (*VerifyReport, error) {
	root := datadir.MediaRoot(s.DataDir)
	entries, err := os.ReadDir(root)
	if errors.Is(err, os.ErrNotExist) {
		return &VerifyReport{}, nil
	} else if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	rep := &VerifyReport{}
	for _, e := range entries {
		if !e.IsDir() || !archive.SafeID(e.Name()) {
			continue
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if err := s.verifyMeeting(ctx, e.Name(), rep); err != nil {
			return nil, err
		}
	}
	return rep, nil
}

// verifyMeeting checks one meeting's folder into rep.
func (s *Service) verifyMeeting(ctx context.Context, id string, rep *VerifyReport) error {
	dir, err := archive.MediaDir(s.DataDir, id)
	if err != nil {
		return err
	}
	man, err := archive.ReadManifest(dir)
	if errors.Is(err, archive.ErrNoManifest) {
		return nil
	} else if err != nil {
		rep.Problems = append(rep.Problems, VerifyProblem{NotetakerID: id, Problem: "unreadable", Detail: err.Error()})
		return nil
	}
	rep.Meetings++
	pruned := false
	if nt, err := s.DB.Notetaker(id); err == nil {
		pruned = !nt.PrunedAt.IsZero()
	} else if !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("verify: %w", err)
	}
	names := make([]string, 0, len(man.Files))
	for name := range man.Files {
		names = append(names, name)
	}
	slices.Sort(names)
	objects := false
	for _, name := range names {
		e := man.Files[name]
		var err error
		if e.Object != "" {
			objects = true
			err = s.verifyObject(ctx, dir, name, e)
		} else {
			err = archive.VerifyFile(dir, name, e)
		}
		switch {
		case err == nil:
			rep.Files++
			if e.Object != "" {
				rep.Objects++
			}
		case errors.Is(err, archive.ErrObjectMissing):
			rep.Problems = append(rep.Problems, VerifyProblem{NotetakerID: id, File: name, Problem: "missing", Detail: err.Error()})
		case errors.Is(err, os.ErrNotExist) && pruned:
			rep.Pruned++
		case errors.Is(err, os.ErrNotExist):
			rep.Problems = append(rep.Problems, VerifyProblem{NotetakerID: id, File: name, Problem: "missing"})
		case errors.Is(err, archive.ErrChecksum):
			rep.Problems = append(rep.Problems, VerifyProblem{NotetakerID: id, File: name, Problem: "mismatch", Detail: err.Error()})
		default:
			rep.Problems = append(rep.Problems, VerifyProblem{NotetakerID: id, File: name, Problem: "unreadable", Detail: err.Error()})
		}
	}
	if objects && s.Target != nil {
		if _, err := s.Target.GetManifest(ctx, id); errors.Is(err, archive.ErrNoManifest) {
			rep.Problems = append(rep.Problems, VerifyProblem{NotetakerID: id, Problem: "missing", Detail: "no manifest.json in " + s.Target.String()})
		} else if err != nil {
			rep.Problems = append(rep.Problems, VerifyProblem{NotetakerID: id, Problem: "unreadable", Detail: err.Error()})
		}
	}
	return nil
}

// errNoTarget: the manifest names an object but no bucket is configured.
var errNoTarget = errors.New("stored in object storage, but [archive.s3] is not configured")

// verifyObject checks a file kept in the bucket (and its local copy, when
// one is still in the spool).
func (s *Service) verifyObject(ctx context.Context, dir, name string, e archive.FileEntry) error {
	if s.Target == nil {
		return errNoTarget
	}
	if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
		if err := archive.VerifyFile(dir, name, e); err != nil {
			return err
		}
	}
	return s.Target.Check(ctx, e.Object, e, true)
}
