// Package search is notekeeper's full-text index of archived meetings,
// kept in {data_dir}/index/ with bleve (scorch): titles, participants'
// names and e-mails, transcript speakers, summaries, action items and
// transcripts.
//
// The archive is the source of truth; the index is a cache of it that can
// always be thrown away. Each meeting is one bleve document whose ID is the
// Notetaker ID, built from the meeting's folder (document.go): manifest.json
// (title, times, participants) and whatever of summary, action items and
// transcript.txt is still there. Beside each document the index keeps, in
// the same batch (so both land or neither), a fingerprint of the files it
// was built from. At Open a missing, unreadable or damaged index is rebuilt
// from scratch; an intact one is compared with the archive folder by
// folder, and what changed while notekeeper was not watching (a kill -9
// between an archive and its index update, a restore, files pruned) is
// indexed again — in the background, with progress in the log, so start-up
// does not wait for it (sync.go).
//
// Only what a hit must show is stored (title, start time): texts are
// indexed without stored values or term vectors, which keeps the index a
// fraction of the text's size. Snippets are cut afterwards from the files
// on disk, with the same analyzer that indexed them (snippet.go).
//
// The index is not in backups (ops.Backup holds the database, certmagic/
// and the state files only): a restored data dir rebuilds it at start-up.
package search
