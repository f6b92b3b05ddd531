package main

import (
	"cmp"
	"context"
	"slices"

	"github.com/notekeeper/notekeeper/appliance/status"
)

// Status gathers the running appliance's state for `notekeeper status` and
// the admin overview: readiness checks, certificate, disk, webhook
// destination, record counts and the jobs' last runs.
func (m *Main) Status(ctx context.Context) (*status.Status, error) {
	st := &status.Status{
		Version:   Version,
		Daemon:    true,
		StartedAt: m.started,
		DataDir:   m.Config.DataDir,
		Domain:    m.Config.Server.Domain,
		Ready:     true,
	}
	if m.Server != nil {
		st.URL = m.Server.URL()
		st.Checks = m.Server.RunChecks(ctx)
		st.Ready = !slices.ContainsFunc(st.Checks, func(r status.CheckResult) bool { return !r.OK })
	}
	if m.Certs != nil {
		if notAfter, err := m.Certs.Status(); err == nil {
			st.CertificateExpiry = notAfter
		}
	}
	if free, err := diskFree()(m.Config.DataDir); err == nil {
		st.DiskFreeBytes = int64(free)
	}
	var err error
	if st.Webhook, err = m.DB.WebhookStatus(); err != nil {
		return nil, err
	}
	if st.Counts, err = m.DB.Counts(); err != nil {
		return nil, err
	}
	if m.Jobs != nil {
		for _, r := range m.Jobs.Runs() {
			jr := status.JobRun{Name: r.Name, Spec: r.Spec, Started: r.Started, Duration: r.Duration, Next: r.Next}
			if r.Err != nil {
				jr.Error = r.Err.Error()
			}
			st.Jobs = append(st.Jobs, jr)
		}
		slices.SortFunc(st.Jobs, func(a, b status.JobRun) int { return cmp.Compare(a.Name, b.Name) })
	}
	return st, nil
}
