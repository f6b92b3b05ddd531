package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// checkMachine checks what a valid configuration needs of this machine and
// returns one line per problem.
func checkMachine(cfg Config) []string {
	var problems []string
	if err := checkWritableDir(cfg.DataDir); err != nil {
		problems = append(problems, "data_dir: "+err.Error())
	}
	return problems
}

// checkWritableDir reports whether dir can hold notekeeper's files: it
// writes and removes a probe file there, or, when dir does not exist yet
// (serve creates it), in its nearest existing ancestor.
func checkWritableDir(dir string) error {
	target := dir
	for {
		fi, err := os.Stat(target)
		if err == nil {
			if !fi.IsDir() {
				return fmt.Errorf("%s is not a directory", target)
			}
			break
		}
		if !errors.Is(err, os.ErrNotExist) {
			return err
		}
		parent := filepath.Dir(target)
		if parent == target {
			return fmt.Errorf("%s: no existing parent directory", dir)
		}
		target = parent
	}
	f, err := os.CreateTemp(target, ".notekeeper-check-*")
	if err != nil {
		return fmt.Errorf("%s is not writable: %w", target, err)
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}
