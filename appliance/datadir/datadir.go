// Package datadir is the layout of notekeeper's data dir ([data_dir] in the
// configuration, /var/lib/notekeeper under systemd): the name of everything
// notekeeper keeps there, and the two file-system operations every writer of
// it shares: an atomic file replace and a free-space measure.
//
// Everything below the data dir is named here and nowhere else:
//
//	notekeeper.db              the store (DBFile)
//	notekeeper.sock            the operator socket of a running daemon (SocketFile)
//	files.key                  the key that signs /files links (LinkKeyFile)
//	webhook.json               the webhook destination and its secret (WebhookFile)
//	webhook-previous.json      the secret before a rotation (PreviousWebhookFile)
//	nylas-configurations.json  the Scheduler configurations `nylas apply` made or adopted (NylasConfigurationsFile)
//	media/{notetaker_id}/      one meeting's archived files (MediaDir)
//	index/                     the search index (IndexDir)
//	backups/                   what the backup job writes (BackupDir)
//	certmagic/                 certificates and ACME account (CertDir)
//	pre-restore-{time}/        what a restore set aside (PreRestorePrefix)
//
// The package imports no other notekeeper package.
package datadir

import "path/filepath"

// Names in the data dir.
const (
	// DBFile is the store's file, in the data dir and in a backup.
	DBFile = "notekeeper.db"
	// SocketFile is the operator socket a running daemon listens on.
	SocketFile = "notekeeper.sock"
	// LinkKeyFile holds the key that signs /files links: made once (32
	// random bytes, hex) and kept, since links handed to a CRM must outlive
	// restarts.
	LinkKeyFile = "files.key"
	// WebhookFile is what `notekeeper webhook create` learnt of the Nylas
	// webhook destination: its ID and secret.
	WebhookFile = "webhook.json"
	// PreviousWebhookFile keeps the secret before the last rotation, still
	// accepted for a while.
	PreviousWebhookFile = "webhook-previous.json"
	// NylasConfigurationsFile keeps the ID of each Scheduler configuration
	// `notekeeper nylas apply` created or adopted, by [[scheduler]] name. It
	// is a file, not a store bucket, because the CLI writes it while the
	// daemon holds the store's lock.
	NylasConfigurationsFile = "nylas-configurations.json"
	// MediaDir holds one folder per meeting, named by Notetaker ID, with its
	// archived files and manifest.
	MediaDir = "media"
	// IndexDir holds the search index.
	IndexDir = "index"
	// BackupDir is where the backup job writes its archives.
	BackupDir = "backups"
	// CertDir is certmagic's storage: certificates, keys, ACME account.
	CertDir = "certmagic"
	// PreRestorePrefix starts the name of the folder a restore moves the
	// replaced files into, followed by the time of the restore.
	PreRestorePrefix = "pre-restore-"
)

// StateFiles are the files directly in the data dir that a backup holds
// besides the store and CertDir.
var StateFiles = []string{LinkKeyFile, WebhookFile, PreviousWebhookFile, NylasConfigurationsFile}

// DBPath is the store's path in dataDir.
func DBPath(dataDir string) string { return filepath.Join(dataDir, DBFile) }

// SocketPath is the operator socket's path in dataDir.
func SocketPath(dataDir string) string { return filepath.Join(dataDir, SocketFile) }

// MediaRoot is the folder holding every meeting's media folder.
func MediaRoot(dataDir string) string { return filepath.Join(dataDir, MediaDir) }

// CertPath is certmagic's storage folder in dataDir.
func CertPath(dataDir string) string { return filepath.Join(dataDir, CertDir) }

// StateFilesWith is StateFiles plus those of paths (absolute) that lie
// directly in dataDir, by name: webhook secret files `webhook create` wrote
// there, for a backup.
func StateFilesWith(dataDir string, paths []string) []string {
	files := append([]string(nil), StateFiles...)
	for _, p := range paths {
		if filepath.IsAbs(p) && filepath.Dir(filepath.Clean(p)) == filepath.Clean(dataDir) {
			files = append(files, filepath.Base(p))
		}
	}
	return files
}
