package discovery

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
)

// Auth is how a service proves itself to etcd: a user and password (etcd
// authentication, with roles that limit what the user may write) and, over
// TLS, the CA that signed etcd's certificate and a client certificate.
// The zero Auth is plain, unauthenticated etcd, as in local runs.
type Auth struct {
	Username, Password string
	TLS                *tls.Config // nil: plain TCP
}

// LogValue never shows the password.
func (a Auth) LogValue() slog.Value {
	return slog.GroupValue(slog.String("username", a.Username), slog.Bool("password", a.Password != ""), slog.Bool("tls", a.TLS != nil))
}

// AuthFlags defines the etcd authentication flags on fs (etcd-username,
// etcd-password, etcd-ca-file, etcd-cert-file, etcd-key-file) and returns
// the function that reads them once fs is parsed.
func AuthFlags(fs *flag.FlagSet) func() (Auth, error) {
	user := fs.String("etcd-username", "", "etcd user, when etcd requires authentication")
	pass := fs.String("etcd-password", "", "the etcd user's password")
	ca := fs.String("etcd-ca-file", "", "PEM file of the CA that signed etcd's certificate: talk to etcd over TLS")
	cert := fs.String("etcd-cert-file", "", "PEM client certificate for etcd (with etcd-key-file)")
	key := fs.String("etcd-key-file", "", "PEM key of the client certificate")
	return func() (Auth, error) {
		a := Auth{Username: *user, Password: *pass}
		if (a.Username == "") != (a.Password == "") {
			return Auth{}, errors.New("etcd-username and etcd-password: give both or neither")
		}
		if (*cert == "") != (*key == "") {
			return Auth{}, errors.New("etcd-cert-file and etcd-key-file: give both or neither")
		}
		if *ca == "" && *cert == "" {
			return a, nil
		}
		a.TLS = &tls.Config{MinVersion: tls.VersionTLS12}
		if *ca != "" {
			pem, err := os.ReadFile(*ca)
			if err != nil {
				return Auth{}, fmt.Errorf("etcd-ca-file: %w", err)
			}
			a.TLS.RootCAs = x509.NewCertPool()
			if !a.TLS.RootCAs.AppendCertsFromPEM(pem) {
				return Auth{}, fmt.Errorf("etcd-ca-file %s: no PEM certificate in it", *ca)
			}
		}
		if *cert != "" {
			pair, err := tls.LoadX509KeyPair(*cert, *key)
			if err != nil {
				return Auth{}, fmt.Errorf("etcd-cert-file: %w", err)
			}
			a.TLS.Certificates = []tls.Certificate{pair}
		}
		return a, nil
	}
}
