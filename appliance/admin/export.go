package admin

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strconv"

	"github.com/notekeeper/notekeeper/appliance/apperr"
	"github.com/notekeeper/notekeeper/appliance/archive"
)

// handleExport streams one meeting's archive as a tar.gz with SHA256SUMS
// (archive.Export). A failure before the first byte is an error page; one
// after it aborts the connection, so the download is visibly incomplete
// rather than quietly short.
func (h *Handler) handleExport(w http.ResponseWriter, r *http.Request) {
	nt, err := h.lookupMeeting(r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	dir, err := archive.MediaDir(h.cfg.DataDir, nt.ID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if _, err := archive.ReadManifest(dir); errors.Is(err, archive.ErrNoManifest) {
		h.fail(w, r, apperr.Errorf(apperr.ENOTFOUND, "nothing archived for this meeting yet"))
		return
	} else if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/gzip")
	w.Header().Set("Content-Disposition", "attachment; filename="+strconv.Quote("notekeeper-"+nt.ID+".tar.gz"))
	h.cfg.Logger.Info("meeting exported", slog.String("notetaker", nt.ID), slog.String("user", userOf(r.Context())))
	if err := archive.Export(r.Context(), w, dir, h.openObject(nt.ID)); err != nil {
		h.cfg.Logger.Error("export failed", slog.String("notetaker", nt.ID), slog.Any("error", err))
		panic(http.ErrAbortHandler)
	}
}

// openObject opens files that are only in the [archive.s3] bucket; nil
// without a Target.
func (h *Handler) openObject(id string) archive.OpenFunc {
	if h.cfg.Target == nil {
		return nil
	}
	return func(ctx context.Context, name string, e archive.FileEntry) (io.ReadCloser, error) {
		if e.Object == "" {
			return nil, os.ErrNotExist
		}
		return h.cfg.Target.Open(ctx, e.Object)
	}
}
