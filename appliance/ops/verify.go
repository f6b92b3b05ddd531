package ops

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/notekeeper/notekeeper/appliance/archive"
	"github.com/notekeeper/notekeeper/store"
)

// VerifyReport is what Verify found.
type VerifyReport struct {
	Meetings int             `json:"meetings"` // folders with a manifest
	Files    int             `json:"files"`    // files that match their manifest entry
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
func (s *Service) Verify(ctx context.Context) (*VerifyReport, error) {
	root := filepath.Join(s.DataDir, "media")
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
		if err := s.verifyMeeting(e.Name(), rep); err != nil {
			return nil, err
		}
	}
	return rep, nil
}

// verifyMeeting checks one meeting's folder into rep.
func (s *Service) verifyMeeting(id string, rep *VerifyReport) error {
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
	for _, name := range names {
		err := archive.VerifyFile(dir, name, man.Files[name])
		switch {
		case err == nil:
			rep.Files++
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
	return nil
}
