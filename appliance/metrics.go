package appliance

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/notekeeper/notekeeper/store"
)

// Metrics are notekeeper's Prometheus metrics (served at /metrics in the
// text format). Build them with NewMetrics; every method is safe on a nil
// *Metrics and then does nothing, so components and tests need not set one.
//
// Counters and histograms are updated by the components as things happen.
// Gauges that describe stored state (queue depth and age, dead letters,
// media at risk, disk free, certificate expiry) are read from their source
// at scrape time by a collector, so they can never drift from the truth.
type Metrics struct {
	Registry *prometheus.Registry

	received       *prometheus.CounterVec // type, outcome
	sigFailures    prometheus.Counter
	ingestLatency  prometheus.Histogram
	tasks          *prometheus.CounterVec // kind, outcome
	deliveries     *prometheus.CounterVec // target, outcome
	alertSends     *prometheus.CounterVec // outcome
	downloads      *prometheus.CounterVec // kind, outcome
	downloadBytes  *prometheus.CounterVec // kind
	downloadTime   *prometheus.HistogramVec
	certEvents     *prometheus.CounterVec // event
	scrapeFailures *prometheus.CounterVec // source
}

// Outcomes of a received notification (label outcome of
// notekeeper_notifications_received_total).
const (
	OutcomeStored      = "stored"
	OutcomeDuplicate   = "duplicate"
	OutcomeUnsigned    = "bad_signature" // missing or wrong X-Nylas-Signature (401)
	OutcomeTooLarge    = "too_large"     // 413
	OutcomeInvalid     = "invalid"       // 400 (a signed body is quarantined)
	OutcomeUnavailable = "unavailable"   // 503
)

// NewMetrics returns the metrics registered on a fresh registry, with the Go
// runtime and process collectors.
func NewMetrics() *Metrics {
	m := &Metrics{Registry: prometheus.NewRegistry()}
	m.received = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "notekeeper_notifications_received_total",
		Help: "Webhook POSTs by notification type (\"\" when unknown: unsigned, too large, unparseable) and outcome (stored, duplicate, bad_signature, too_large, invalid, unavailable).",
	}, []string{"type", "outcome"})
	m.sigFailures = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "notekeeper_signature_failures_total",
		Help: "Webhook POSTs refused with 401: X-Nylas-Signature missing or matching no configured secret.",
	})
	m.ingestLatency = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "notekeeper_ingest_duration_seconds",
		Help:    "Time from reading a webhook POST to its answer, durable commit included.",
		Buckets: []float64{.0005, .001, .002, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 8},
	})
	m.tasks = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "notekeeper_task_runs_total",
		Help: "Durable task runs by kind and outcome (done, postponed, retry, dead_letter).",
	}, []string{"kind", "outcome"})
	m.deliveries = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "notekeeper_deliveries_total",
		Help: "CRM and ATS delivery attempts by target (crm, ats) and outcome (ok, retry, dead_letter).",
	}, []string{"target", "outcome"})
	m.alertSends = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "notekeeper_alert_sends_total",
		Help: "Alert deliveries to sinks by outcome (ok, retry, dead_letter).",
	}, []string{"outcome"})
	m.downloads = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "notekeeper_downloads_total",
		Help: "Media downloads by kind and outcome (ok, expired, failed).",
	}, []string{"kind", "outcome"})
	m.downloadBytes = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "notekeeper_download_bytes_total",
		Help: "Bytes of media archived, by kind.",
	}, []string{"kind"})
	m.downloadTime = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "notekeeper_download_duration_seconds",
		Help:    "Duration of media downloads (successful or not), by kind.",
		Buckets: prometheus.ExponentialBuckets(0.05, 4, 8), // 50 ms … ~14 min
	}, []string{"kind"})
	m.certEvents = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "notekeeper_certificate_events_total",
		Help: "Certificate manager events: obtained, renewed, failed.",
	}, []string{"event"})
	m.scrapeFailures = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "notekeeper_metrics_source_errors_total",
		Help: "Scrapes in which a state gauge could not be read, by source.",
	}, []string{"source"})
	m.Registry.MustRegister(m.received, m.sigFailures, m.ingestLatency, m.tasks, m.deliveries, m.alertSends,
		m.downloads, m.downloadBytes, m.downloadTime, m.certEvents, m.scrapeFailures,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the registry in the Prometheus text format. Errors while
// gathering are logged and the rest is still served.
func (m *Metrics) Handler(logger *slog.Logger) http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{
		ErrorLog:      slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		ErrorHandling: promhttp.ContinueOnError,
	})
}

// Received counts one answered webhook POST and its latency.
func (m *Metrics) Received(typ, outcome string, took time.Duration) {
	if m == nil {
		return
	}
	m.received.WithLabelValues(typ, outcome).Inc()
	if outcome == OutcomeUnsigned {
		m.sigFailures.Inc()
	}
	m.ingestLatency.Observe(took.Seconds())
}

// TaskRun counts one task run. Deliveries to the CRM and ATS and alert
// sends are also counted under their own names.
func (m *Metrics) TaskRun(kind store.TaskKind, outcome string) {
	if m == nil {
		return
	}
	m.tasks.WithLabelValues(string(kind), outcome).Inc()
	delivery := outcome
	if outcome == "done" {
		delivery = "ok"
	}
	switch kind {
	case store.TaskCRM:
		m.deliveries.WithLabelValues("crm", delivery).Inc()
	case store.TaskATS, store.TaskATSRecording:
		m.deliveries.WithLabelValues("ats", delivery).Inc()
	case store.TaskAlert:
		m.alertSends.WithLabelValues(delivery).Inc()
	}
}

// Download counts one media download: outcome ok (bytes archived), expired
// (the signed URL had died) or failed.
func (m *Metrics) Download(kind, outcome string, bytes int64, took time.Duration) {
	if m == nil {
		return
	}
	m.downloads.WithLabelValues(kind, outcome).Inc()
	if bytes > 0 {
		m.downloadBytes.WithLabelValues(kind).Add(float64(bytes))
	}
	m.downloadTime.WithLabelValues(kind).Observe(took.Seconds())
}

// CertificateEvent counts a certificate manager event (obtained, renewed,
// failed).
func (m *Metrics) CertificateEvent(event string) {
	if m == nil {
		return
	}
	m.certEvents.WithLabelValues(event).Inc()
}

// StateSources are read at each scrape by the collector WatchState adds.
// A nil function leaves its gauges out.
type StateSources struct {
	DB *store.DB
	// AtRisk is how long before Nylas' deletion unarchived media counts as
	// at risk ([archive] at_risk).
	AtRisk time.Duration
	// DiskFree returns the free bytes of the data dir's file system.
	DiskFree func() (uint64, error)
	// CertificateExpiry returns the current certificate's NotAfter.
	CertificateExpiry func() (time.Time, error)
	Now               func() time.Time
}

// WatchState registers the collector of state gauges.
func (m *Metrics) WatchState(src StateSources) {
	if m == nil {
		return
	}
	if src.Now == nil {
		src.Now = time.Now
	}
	m.Registry.MustRegister(&stateCollector{src: src, failures: m.scrapeFailures})
}

var (
	descQueueDepth = prometheus.NewDesc("notekeeper_queue_depth",
		"Live tasks (waiting or running) by kind.", []string{"kind"}, nil)
	descQueueAge = prometheus.NewDesc("notekeeper_queue_oldest_age_seconds",
		"Age of the oldest live task by kind.", []string{"kind"}, nil)
	descDeadLetters = prometheus.NewDesc("notekeeper_dead_letters",
		"Dead-lettered tasks by kind, waiting for a retry from the UI or CLI.", []string{"kind"}, nil)
	descAtRisk = prometheus.NewDesc("notekeeper_media_at_risk",
		"Meetings whose media is not fully archived and that Nylas deletes within [archive] at_risk (or already did).", nil, nil)
	descDiskFree = prometheus.NewDesc("notekeeper_disk_free_bytes",
		"Free bytes on the data dir's file system.", nil, nil)
	descCommits = prometheus.NewDesc("notekeeper_store_commits_total",
		"bbolt transactions committed (each one fsync'ed) by the store's single writer.", nil, nil)
	descCommitWrites = prometheus.NewDesc("notekeeper_store_commit_writes_total",
		"Writes carried by those commits; divided by the commits, the mean group-commit batch.", nil, nil)
	descCommitSeconds = prometheus.NewDesc("notekeeper_store_commit_seconds_total",
		"Time the writer spent committing, fsync included; divided by the commits, the mean commit time.", nil, nil)
	descCertExpiry = prometheus.NewDesc("notekeeper_certificate_expiry_timestamp_seconds",
		"NotAfter of the certificate in use, as Unix seconds.", nil, nil)
)

// stateCollector reads gauges from the store and the machine at scrape time.
type stateCollector struct {
	src      StateSources
	failures *prometheus.CounterVec
}

func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descQueueDepth, descQueueAge, descDeadLetters, descAtRisk, descDiskFree, descCertExpiry,
		descCommits, descCommitWrites, descCommitSeconds} {
		ch <- d
	}
}

func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	now := c.src.Now()
	if c.src.DB != nil {
		c.collectTasks(ch, now)
		c.collectAtRisk(ch, now)
		cs := c.src.DB.CommitStats()
		ch <- prometheus.MustNewConstMetric(descCommits, prometheus.CounterValue, float64(cs.Commits))
		ch <- prometheus.MustNewConstMetric(descCommitWrites, prometheus.CounterValue, float64(cs.Writes))
		ch <- prometheus.MustNewConstMetric(descCommitSeconds, prometheus.CounterValue, cs.Busy.Seconds())
	}
	if c.src.DiskFree != nil {
		if free, err := c.src.DiskFree(); err == nil {
			ch <- prometheus.MustNewConstMetric(descDiskFree, prometheus.GaugeValue, float64(free))
		} else {
			c.failures.WithLabelValues("disk").Inc()
		}
	}
	if c.src.CertificateExpiry != nil {
		if notAfter, err := c.src.CertificateExpiry(); err == nil && !notAfter.IsZero() {
			ch <- prometheus.MustNewConstMetric(descCertExpiry, prometheus.GaugeValue, float64(notAfter.Unix()))
		}
	}
}

// collectTasks reads the queue's counters (store.DB.TaskStats): no task is
// decoded.
func (c *stateCollector) collectTasks(ch chan<- prometheus.Metric, now time.Time) {
	stats, err := c.src.DB.TaskStats()
	if err != nil {
		c.failures.WithLabelValues("tasks").Inc()
		return
	}
	for kind, s := range stats {
		if s.Live > 0 {
			ch <- prometheus.MustNewConstMetric(descQueueDepth, prometheus.GaugeValue, float64(s.Live), string(kind))
			ch <- prometheus.MustNewConstMetric(descQueueAge, prometheus.GaugeValue, max(0, now.Sub(s.Oldest).Seconds()), string(kind))
		}
		if s.Dead > 0 {
			ch <- prometheus.MustNewConstMetric(descDeadLetters, prometheus.GaugeValue, float64(s.Dead), string(kind))
		}
	}
}

// collectAtRisk decodes only the pending archives due within the window.
func (c *stateCollector) collectAtRisk(ch chan<- prometheus.Metric, now time.Time) {
	nts, err := c.src.DB.PendingArchives(now.Add(c.src.AtRisk))
	if err != nil {
		c.failures.WithLabelValues("notetakers").Inc()
		return
	}
	n := 0
	for _, nt := range nts {
		if atRisk(nt, now, c.src.AtRisk) {
			n++
		}
	}
	ch <- prometheus.MustNewConstMetric(descAtRisk, prometheus.GaugeValue, float64(n))
}
