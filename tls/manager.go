package tls

import (
	"context"
	stdtls "crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/caddyserver/certmagic"
	"go.uber.org/zap"
)

// Manager obtains and renews the certificate of one domain with certmagic,
// driven explicitly: its own Cache, Config and ACMEIssuer, no package-level
// defaults. Certificates and the ACME account live in FileStorage under
// StoragePath, so a restart reuses them without asking the CA.
//
// Build it, set its fields, Open it (which manages the domain), serve
// HTTPHandler on the plain-HTTP port and TLSConfig on the HTTPS port, and
// Close it (which stops the renewal loop). HTTP-01 and TLS-ALPN-01 are both
// enabled unless Challenges says otherwise.
type Manager struct {
	Domain      string
	Email       string
	CA          string         // "letsencrypt", "letsencrypt-staging" or an ACME directory URL
	Roots       *x509.CertPool // CAs trusted for the ACME server's own TLS (ca_root); nil = system roots
	StoragePath string         // {data_dir}/certmagic
	// HTTPPort and HTTPSPort are where this process answers challenges (the
	// [tls] ports); certmagic then never tries to bind them itself.
	HTTPPort, HTTPSPort int
	// Challenges limits the challenge types ("http-01", "tls-alpn-01"); empty = both.
	Challenges []string
	// RenewCheckInterval is how often certificates are checked for renewal;
	// 0 = certmagic's default (10 minutes).
	RenewCheckInterval time.Duration
	Logger             *slog.Logger
	// OnFailure, when set, is called when obtaining or renewing fails (the
	// tls.failed alert).
	OnFailure func(domain string, err error)
	// OnEvent, when set, is called with "obtained", "renewed" or "failed"
	// for each certificate event (metrics).
	OnEvent func(event string)

	once   sync.Once
	cache  *certmagic.Cache
	cfg    *certmagic.Config
	issuer *certmagic.ACMEIssuer

	mu      sync.Mutex
	lastErr error
}

// directory maps the [tls] ca names to ACME directory URLs.
func directory(ca string) string {
	switch ca {
	case "", "letsencrypt":
		return certmagic.LetsEncryptProductionCA
	case "letsencrypt-staging":
		return certmagic.LetsEncryptStagingCA
	}
	return ca
}

// setup builds certmagic's Cache, Config and ACMEIssuer once. TLSConfig and
// HTTPHandler need them before Open: the listeners must be serving before
// the CA validates a challenge.
func (m *Manager) setup() {
	m.once.Do(func() {
		if m.Logger == nil {
			m.Logger = slog.New(slog.DiscardHandler)
		}
		var cfg *certmagic.Config
		m.cache = certmagic.NewCache(certmagic.CacheOptions{
			GetConfigForCert:   func(certmagic.Certificate) (*certmagic.Config, error) { return cfg, nil },
			RenewCheckInterval: m.RenewCheckInterval,
			Logger:             zap.NewNop(),
		})
		cfg = certmagic.New(m.cache, certmagic.Config{
			Storage: &certmagic.FileStorage{Path: m.StoragePath},
			OnEvent: m.onEvent,
			Logger:  zap.NewNop(),
		})
		m.issuer = certmagic.NewACMEIssuer(cfg, certmagic.ACMEIssuer{
			CA:                      directory(m.CA),
			Email:                   m.Email,
			Agreed:                  true,
			TrustedRoots:            m.Roots,
			AltHTTPPort:             m.HTTPPort,
			AltTLSALPNPort:          m.HTTPSPort,
			DisableHTTPChallenge:    len(m.Challenges) > 0 && !slices.Contains(m.Challenges, "http-01"),
			DisableTLSALPNChallenge: len(m.Challenges) > 0 && !slices.Contains(m.Challenges, "tls-alpn-01"),
			Logger:                  zap.NewNop(),
		})
		cfg.Issuers = []certmagic.Issuer{m.issuer}
		m.cfg = cfg
	})
}

// Open manages Domain. With wait it blocks until a certificate is loaded
// from storage or obtained (ManageSync, for interactive use and tests);
// without it, it returns at once and obtains in the background (ManageAsync,
// under systemd). Serve HTTPHandler and TLSConfig before calling it.
func (m *Manager) Open(ctx context.Context, wait bool) error {
	if m.Domain == "" {
		return errors.New("tls: no domain")
	}
	if err := os.MkdirAll(m.StoragePath, 0o700); err != nil {
		return fmt.Errorf("tls: %w", err)
	}
	m.setup()
	manage := m.cfg.ManageAsync
	if wait {
		manage = m.cfg.ManageSync
	}
	if err := manage(ctx, []string{m.Domain}); err != nil {
		return fmt.Errorf("tls: manage %s: %w", m.Domain, err)
	}
	return nil
}

// onEvent logs certmagic's events and reports failures.
func (m *Manager) onEvent(_ context.Context, event string, data map[string]any) error {
	switch event {
	case "cert_obtained":
		m.mu.Lock()
		m.lastErr = nil
		m.mu.Unlock()
		m.Logger.Info("certificate obtained", slog.String("domain", m.Domain), slog.Any("renewal", data["renewal"]))
		if m.OnEvent != nil {
			if renewal, _ := data["renewal"].(bool); renewal {
				m.OnEvent("renewed")
			} else {
				m.OnEvent("obtained")
			}
		}
	case "cert_failed":
		err, _ := data["error"].(error)
		if err == nil {
			err = errors.New("certificate could not be obtained")
		}
		m.mu.Lock()
		m.lastErr = err
		m.mu.Unlock()
		m.Logger.Error("certificate failed", slog.String("domain", m.Domain), slog.Any("error", err))
		if m.OnFailure != nil {
			m.OnFailure(m.Domain, err)
		}
		if m.OnEvent != nil {
			m.OnEvent("failed")
		}
	}
	return nil
}

// TLSConfig is the HTTPS listener's configuration: certificates from the
// cache, TLS-ALPN-01 answers, and h2 then http/1.1.
func (m *Manager) TLSConfig() *stdtls.Config {
	m.setup()
	c := m.cfg.TLSConfig()
	c.NextProtos = append([]string{"h2", "http/1.1"}, c.NextProtos...)
	c.MinVersion = stdtls.VersionTLS12
	return c
}

// HTTPHandler answers ACME HTTP-01 challenges and hands everything else to
// next (the redirect to HTTPS).
func (m *Manager) HTTPHandler(next http.Handler) http.Handler {
	m.setup()
	return m.issuer.HTTPChallengeHandler(next)
}

// Status returns the expiry of the domain's certificate in the cache (zero
// when there is none yet) and the last error obtaining or renewing it.
func (m *Manager) Status() (time.Time, error) {
	m.setup()
	var notAfter time.Time
	for _, c := range m.cache.AllMatchingCertificates(m.Domain) {
		if c.Leaf != nil && c.Leaf.NotAfter.After(notAfter) {
			notAfter = c.Leaf.NotAfter
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return notAfter, m.lastErr
}

// Check is a readiness check: a valid certificate is loaded.
func (m *Manager) Check(context.Context) error {
	notAfter, err := m.Status()
	switch {
	case notAfter.IsZero() && err != nil:
		return fmt.Errorf("no certificate for %s: %w", m.Domain, err)
	case notAfter.IsZero():
		return fmt.Errorf("no certificate for %s yet", m.Domain)
	case time.Now().After(notAfter):
		return fmt.Errorf("certificate for %s expired at %s", m.Domain, notAfter.Format(time.RFC3339))
	}
	return nil
}

// Close stops certmagic's maintenance (renewals).
func (m *Manager) Close() error {
	if m.cache != nil {
		m.cache.Stop()
	}
	return nil
}

// LoadRoots reads the PEM certificates of path ([tls] ca_root) into a pool
// for Manager.Roots; "" is nil (the system roots).
func LoadRoots(path string) (*x509.CertPool, error) {
	if path == "" {
		return nil, nil
	}
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("tls.ca_root: %w", err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("tls.ca_root: no certificate in %s", path)
	}
	return roots, nil
}

// StoredExpiry is the NotAfter of the latest certificate for domain kept
// under storagePath (Manager.StoragePath: certificates/ISSUER/DOMAIN/
// DOMAIN.crt), read without a Manager; zero when there is none.
func StoredExpiry(storagePath, domain string) time.Time {
	matches, _ := filepath.Glob(filepath.Join(storagePath, "certificates", "*", domain, domain+".crt"))
	var latest time.Time
	for _, m := range matches {
		b, err := os.ReadFile(m)
		if err != nil {
			continue
		}
		if blk, _ := pem.Decode(b); blk != nil {
			if c, err := x509.ParseCertificate(blk.Bytes); err == nil && c.NotAfter.After(latest) {
				latest = c.NotAfter
			}
		}
	}
	return latest
}
