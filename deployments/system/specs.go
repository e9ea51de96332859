package system

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"

	"xii/libs/launch"
)

func (s *System) otelEnv(service string) []string {
	if s.cfg.Jaeger == "" {
		return []string{"OTEL_TRACES_EXPORTER=none"}
	}
	return []string{
		"OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:" + strconv.Itoa(s.cfg.Ports.JaegerOTLPGRPC),
		"OTEL_BSP_SCHEDULE_DELAY=200",
		"OTEL_SERVICE_NAME=" + service,
	}
}

func (s *System) common(service string) []string {
	env := append([]string{"XII_ETCD_ENDPOINTS=" + s.EtcdEndpoint()}, s.otelEnv(service)...)
	return append(env, procsEnv(os.LookupEnv, runtime.NumCPU())...)
}

// procsEnv sets GOMAXPROCS for a service of the local system, unless the
// environment sets it (lookup): every service shares this machine's cpus
// cores, and two of them, the dashboard and the aggregator, carry the
// load, so each gets half. With Go's default of one scheduler thread per
// core in each of five processes, idle threads spin and wake each other:
// on two cores at 500 answers/s, one per service took the CPU per answer
// to 0.82-0.83x (docs/measurements.md §13).
func procsEnv(lookup func(string) (string, bool), cpus int) []string {
	if _, ok := lookup("GOMAXPROCS"); ok {
		return nil
	}
	return []string{"GOMAXPROCS=" + strconv.Itoa(max(1, cpus/2))}
}

func (s *System) surveySpec(name string) launch.Spec {
	port := map[string]int{"blue": s.cfg.Ports.Blue, "red": s.cfg.Ports.Red}[name]
	return s.survey(name, "127.0.0.1:"+strconv.Itoa(port), "", s.cfg.DatabaseURL(name))
}

// SurveySpec returns the Spec of one more survey-svc instance, beyond blue
// and red, registered in this system's etcd under name: it listens on
// listen (host:port), stores into the database at postgresURL and, when
// advertise is not empty, tells the aggregator to reach it there instead
// (a proxy in front of it, say). Config.Env[name] is added to its
// environment and its output goes to Config.Log. Start it with
// launch.Start and stop it before the system.
func (s *System) SurveySpec(name, listen, advertise, postgresURL string) launch.Spec {
	spec := s.survey(name, listen, advertise, postgresURL)
	spec.Name = name
	spec.Log = s.cfg.Log
	spec.Env = append(spec.Env, s.cfg.Env[name]...)
	return spec
}

func (s *System) survey(name, listen, advertise, postgresURL string) launch.Spec {
	env := append(s.common("survey-svc"),
		"XII_NAME="+name,
		"XII_LISTEN_ADDR="+listen,
		"XII_POSTGRES_URL="+postgresURL)
	if advertise != "" {
		env = append(env, "XII_ADVERTISE_URL="+advertise)
	}
	return launch.Spec{
		Path:     filepath.Join(s.cfg.Bin, "survey-svc"),
		Env:      env,
		ReadyURL: "http://" + listen + "/readyz",
	}
}

func (s *System) aggregatorSpec() launch.Spec {
	return launch.Spec{
		Path: filepath.Join(s.cfg.Bin, "aggregator-svc"),
		Env: append(s.common("aggregator-svc"),
			"XII_ID=local",
			"XII_LISTEN_ADDR=127.0.0.1:"+strconv.Itoa(s.cfg.Ports.Aggregator),
			"XII_POSTGRES_URL="+s.cfg.DatabaseURL("aggregate")),
		ReadyURL: s.URL("aggregator") + "/readyz",
	}
}

func (s *System) dashboardSpec() launch.Spec {
	return launch.Spec{
		Path: filepath.Join(s.cfg.Bin, "dashboard-svc"),
		Env: append(s.common("dashboard-svc"),
			"XII_LISTEN_ADDR=127.0.0.1:"+strconv.Itoa(s.cfg.Ports.Dashboard)),
		// Ready once it knows an aggregator replica.
		ReadyURL: s.URL("dashboard") + "/readyz",
	}
}

func (s *System) jaegerSpec() launch.Spec {
	p := s.cfg.Ports
	return launch.Spec{
		Path: s.cfg.Jaeger,
		Args: []string{"--config", s.cfg.JaegerConfig},
		Env: []string{
			"XII_JAEGER_OTLP_GRPC=" + strconv.Itoa(p.JaegerOTLPGRPC),
			"XII_JAEGER_OTLP_HTTP=" + strconv.Itoa(p.JaegerOTLPHTTP),
			"XII_JAEGER_QUERY=" + strconv.Itoa(p.JaegerQuery),
			"XII_JAEGER_QUERY_GRPC=" + strconv.Itoa(p.JaegerQueryGRPC),
			"XII_JAEGER_HEALTH=" + strconv.Itoa(p.JaegerHealth),
			// Jaeger's own SDK must not trace into itself.
			"OTEL_TRACES_EXPORTER=none",
		},
		ReadyURL: "http://127.0.0.1:" + strconv.Itoa(p.JaegerHealth) + "/status",
	}
}

// startEtcd starts a single-member etcd whose data lives in StateDir.
func startEtcd(cfg Config) (*embed.Etcd, error) {
	dir := filepath.Join(cfg.StateDir, "etcd")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("etcd data dir: %w", err)
	}
	ec := embed.NewConfig()
	ec.Name = "xii-local"
	ec.Dir = dir
	ec.LogLevel = "error"
	ec.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.NewNop())
	client := mustURL("http://127.0.0.1:" + strconv.Itoa(cfg.Ports.Etcd))
	peer := mustURL("http://127.0.0.1:" + strconv.Itoa(cfg.Ports.EtcdPeer))
	ec.ListenClientUrls, ec.AdvertiseClientUrls = []url.URL{client}, []url.URL{client}
	ec.ListenPeerUrls, ec.AdvertisePeerUrls = []url.URL{peer}, []url.URL{peer}
	ec.InitialCluster = ec.Name + "=" + peer.String()
	ec.TickMs, ec.ElectionMs = 10, 100
	e, err := embed.StartEtcd(ec)
	if err != nil {
		return nil, fmt.Errorf("start etcd: %w", err)
	}
	select {
	case <-e.Server.ReadyNotify():
		return e, nil
	case err := <-e.Err():
		e.Close()
		return nil, fmt.Errorf("start etcd: %w", err)
	case <-time.After(startTimeout):
		e.Close()
		return nil, fmt.Errorf("start etcd: not ready after %v", startTimeout)
	}
}

func mustURL(s string) url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err) // only called with URLs built from ints
	}
	return *u
}
