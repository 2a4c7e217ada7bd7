package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// newCertCommand is `rootwalk cert`: a self-signed certificate and key
// for the encrypted listeners, for a lab or a home network, where no
// public CA signs for the resolver's name.
func newCertCommand() *cobra.Command {
	var (
		certOut, keyOut string
		hosts           []string
		days            int
		force           bool
	)
	cmd := &cobra.Command{
		Use:   "cert",
		Short: "Make a self-signed TLS certificate and key for dot.listen, doh.listen and doq.listen",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if days < 1 || days > 3650 {
				return usageError{fmt.Errorf("--days: %d; want 1 to 3650", days)}
			}
			if len(hosts) == 0 {
				return usageError{errors.New("--host: want at least one name or IP address")}
			}
			notAfter, err := writeCert(certOut, keyOut, hosts, time.Duration(days)*24*time.Hour, force)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s and %s (ECDSA P-256, for %s, valid until %s)\n"+
				"use them with: --tls-cert-file %s --tls-key-file %s\n",
				certOut, keyOut, strings.Join(hosts, ", "), notAfter.UTC().Format(time.DateOnly), certOut, keyOut)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&certOut, "cert-out", "rootwalk.crt", "write the certificate (PEM) to `FILE`")
	f.StringVar(&keyOut, "key-out", "rootwalk.key", "write the private key (PEM, mode 0600) to `FILE`")
	f.StringSliceVar(&hosts, "host", []string{"localhost", "127.0.0.1", "::1"}, "a `NAME` or IP address the certificate is for (repeatable)")
	f.IntVar(&days, "days", 365, "how many `DAYS` the certificate is valid")
	f.BoolVar(&force, "force", false, "overwrite the files if they exist")
	return cmd
}

// writeCert makes the key and the certificate and writes them, and
// returns when the certificate expires. The certificate is its own CA
// (basic constraints CA, for client trust stores that want one), for
// hosts as DNS names and IP addresses.
func writeCert(certOut, keyOut string, hosts []string, life time.Duration, force bool) (time.Time, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return time.Time{}, fmt.Errorf("cert: generate key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return time.Time{}, fmt.Errorf("cert: serial number: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: hosts[0], Organization: []string{"rootwalk (self-signed)"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(life),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	for _, h := range hosts {
		if ip, err := netip.ParseAddr(h); err == nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip.AsSlice())
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return time.Time{}, fmt.Errorf("cert: create certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return time.Time{}, fmt.Errorf("cert: encode key: %w", err)
	}
	flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if force {
		flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	if err := writePEM(keyOut, flags, 0o600, "PRIVATE KEY", keyDER); err != nil {
		return time.Time{}, err
	}
	if err := writePEM(certOut, flags, 0o644, "CERTIFICATE", der); err != nil {
		return time.Time{}, err
	}
	return tmpl.NotAfter, nil
}

// writePEM writes one PEM block to path.
func writePEM(path string, flags int, mode fs.FileMode, kind string, der []byte) error {
	f, err := os.OpenFile(path, flags, mode)
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return usageError{fmt.Errorf("cert: %s exists; --force overwrites it", path)}
		}
		return fmt.Errorf("cert: %w", err)
	}
	if err := pem.Encode(f, &pem.Block{Type: kind, Bytes: der}); err != nil {
		_ = f.Close() // the write's error is the one to report
		return fmt.Errorf("cert: write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("cert: write %s: %w", path, err)
	}
	return nil
}
