package search_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/notekeeper/notekeeper/appliance/archive"
	"github.com/notekeeper/notekeeper/appliance/datadir"
	"github.com/notekeeper/notekeeper/appliance/search"
)

// An archived meeting's folder is indexed with Update and found with
// Search; the snippet marks the matching word and names its speaker.
func ExampleIndex_Search() {
	dataDir, _ := os.MkdirTemp("", "notekeeper-example-")
	defer os.RemoveAll(dataDir)
	dir := filepath.Join(dataDir, "media", "nt7Hq2LmZ")
	datadir.WriteFileAtomic(dir, "transcript.txt", []byte("[00:01:10] Jo Park: Procurement asked about pricing.\n"))
	archive.WriteManifest(dir, &archive.Manifest{NotetakerID: "nt7Hq2LmZ", Title: "Acme renewal call"})

	ix := search.New(dataDir)
	if err := ix.Open(); err != nil {
		fmt.Println(err)
		return
	}
	defer ix.Close()
	ix.Wait() // the start-up synchronisation indexes the folder; Update does it for one meeting
	res, err := ix.Search(context.Background(), "price", 10, 0)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, h := range res.Hits {
		fmt.Printf("%s %q: %s at %s: %s\n", h.NotetakerID, h.Title, h.Speaker, h.At, h.Snippet)
	}
	// Output: nt7Hq2LmZ "Acme renewal call": Jo Park at 00:01:10: Procurement asked about ⟦pricing⟧.
}
