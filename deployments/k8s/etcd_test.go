package k8s

import (
	"fmt"
	"net/url"
	"path"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The Secrets of etcd's passwords and of its certificate.
const (
	etcdSecret    = "xii-etcd"
	etcdTLSSecret = "xii-etcd-tls"
)

// envVar is what a container's variable resolves to in the rendered
// objects: a value (given, or from a ConfigMap), or a Secret's key.
type envVar struct {
	value  string
	secret *corev1.SecretKeySelector
}

// env resolves variable name of container c as the kubelet would: the
// last env entry wins over envFrom; an optional reference to a missing
// ConfigMap key sets nothing.
func (o objects) env(c corev1.Container, name string) (envVar, bool) {
	var v envVar
	found := false
	for _, from := range c.EnvFrom {
		if from.ConfigMapRef == nil {
			continue
		}
		key, ok := strings.CutPrefix(name, from.Prefix)
		if cm, _ := o.configMap(from.ConfigMapRef.Name); ok {
			if s, ok := cm.Data[key]; ok {
				v, found = envVar{value: s}, true
			}
		}
	}
	for _, e := range c.Env {
		if e.Name != name {
			continue
		}
		switch {
		case e.ValueFrom == nil:
			v, found = envVar{value: e.Value}, true
		case e.ValueFrom.SecretKeyRef != nil:
			v, found = envVar{secret: e.ValueFrom.SecretKeyRef}, true
		case e.ValueFrom.ConfigMapKeyRef != nil:
			ref := e.ValueFrom.ConfigMapKeyRef
			cm, _ := o.configMap(ref.Name)
			s, ok := cm.Data[ref.Key]
			if ok {
				v, found = envVar{value: s}, true
			}
		}
	}
	return v, found
}

// isSecret reports whether rendered Secret name is Secret want, which a
// secretGenerator names want-<hash>.
func isSecret(name, want string) bool {
	hash, ok := strings.CutPrefix(name, want+"-")
	return name == want || ok && len(hash) == 10 && !strings.Contains(hash, "-")
}

// secretValue is the value of a Secret's key when the Secret is rendered.
func (o objects) secretValue(ref *corev1.SecretKeySelector) (string, bool) {
	s, ok := o.secret(ref.Name)
	if !ok {
		return "", false
	}
	if v, ok := s.StringData[ref.Key]; ok {
		return v, true
	}
	v, ok := s.Data[ref.Key]
	return string(v), ok
}

// etcdClient is a container that talks to etcd, in its workload.
type etcdClient struct {
	w   podTemplate
	c   corev1.Container
	svc string
}

// etcdClients are the containers that talk to etcd: every container of
// xii's images, the etcd-access job's included.
func (o objects) etcdClients() []etcdClient {
	var out []etcdClient
	for _, w := range o.workloads() {
		for _, c := range w.tmpl.Spec.Containers {
			if svc, mine := ours(c); mine {
				out = append(out, etcdClient{w, c, svc})
			}
		}
	}
	return out
}

// checkEtcdAccess checks the etcd-access Job against its subcommand's
// flags, and that every service logs in to etcd as the user the Job makes
// for it, with the password the Job sets: the same key of xii-etcd for the
// aggregator and the dashboard, and for a survey instance a key of its own
// whose value, where the Secret is rendered, is its entry in
// survey-passwords (the Job cannot read one key per instance it does not
// know of).
func checkEtcdAccess(t *testing.T, o objects) {
	i := slices.IndexFunc(o.jobs, func(j batchv1.Job) bool { return j.Name == "etcd-access" })
	if i < 0 {
		t.Fatal("no Job etcd-access")
	}
	job := o.jobs[i]
	pod := job.Spec.Template.Spec
	if pod.RestartPolicy != corev1.RestartPolicyOnFailure {
		t.Errorf("etcd-access: restartPolicy %q, want OnFailure", pod.RestartPolicy)
	}
	if job.Spec.BackoffLimit == nil || *job.Spec.BackoffLimit < 1 {
		t.Errorf("etcd-access: backoffLimit %v; etcd may need a while to have a quorum, so retry a few times", job.Spec.BackoffLimit)
	}
	if len(pod.Containers) != 1 {
		t.Fatalf("etcd-access: %d containers, want one", len(pod.Containers))
	}
	c := pod.Containers[0]
	if svc, _ := ours(c); svc != "aggregator-svc" || len(c.Command) > 0 || !slices.Equal(c.Args, []string{"etcd-access"}) {
		t.Errorf("etcd-access runs %s command %q args %q, want xii/aggregator-svc with args [etcd-access]", c.Image, c.Command, c.Args)
	}
	flags := flagsOf(t, "aggregator-svc", "etcd-access")
	for _, e := range c.Env {
		if _, ok := flags[e.Name]; !ok {
			t.Errorf("etcd-access: %s is no flag of aggregator-svc etcd-access", e.Name)
		}
	}
	if len(c.EnvFrom) > 0 {
		t.Errorf("etcd-access: envFrom gives it variables that are not its flags; name each one")
	}
	if _, ok := o.env(c, "XII_ETCD_USERNAME"); ok {
		t.Error("etcd-access: XII_ETCD_USERNAME is set; it runs as root, with XII_ETCD_ROOT_PASSWORD")
	}
	// jobKey is, by variable, the key of xii-etcd the job reads it from.
	jobKey := map[string]*corev1.SecretKeySelector{}
	for _, k := range []string{
		"XII_ETCD_ROOT_PASSWORD", "XII_ETCD_AGGREGATOR_PASSWORD", "XII_ETCD_DASHBOARD_PASSWORD",
		"XII_ETCD_OPERATOR_PASSWORD", "XII_ETCD_SURVEY_PASSWORDS",
	} {
		v, ok := o.env(c, k)
		if !ok || v.secret == nil || !isSecret(v.secret.Name, etcdSecret) || deref(v.secret.Optional, false) {
			t.Errorf("etcd-access: %s must come from Secret %s, not optional", k, etcdSecret)
			continue
		}
		jobKey[k] = v.secret
	}
	jobSecret := ""
	if ref := jobKey["XII_ETCD_ROOT_PASSWORD"]; ref != nil {
		jobSecret = ref.Name
	}
	surveys := map[string]string{}
	rendered := false
	if ref := jobKey["XII_ETCD_SURVEY_PASSWORDS"]; ref != nil {
		var list string
		if list, rendered = o.secretValue(ref); rendered {
			for item := range strings.SplitSeq(list, ",") {
				name, pw, _ := strings.Cut(item, "=")
				surveys[name] = pw
			}
		}
	}
	jobEndpoints, _ := o.env(c, "XII_ETCD_ENDPOINTS")
	for _, cl := range o.etcdClients() {
		if cl.w.kind == "Job" {
			continue
		}
		where := fmt.Sprintf("%s %s", cl.w.kind, cl.w.name)
		if e, _ := o.env(cl.c, "XII_ETCD_ENDPOINTS"); e.value != jobEndpoints.value {
			t.Errorf("%s: XII_ETCD_ENDPOINTS %q, etcd-access's %q", where, e.value, jobEndpoints.value)
		}
		var user, name, wantKey string
		switch cl.svc {
		case "survey-svc":
			n, _ := o.env(cl.c, "XII_NAME")
			name = n.value
			user = "survey-" + name
			wantKey = user + "-password"
		case "aggregator-svc":
			user = "aggregator"
			if ref := jobKey["XII_ETCD_AGGREGATOR_PASSWORD"]; ref != nil {
				wantKey = ref.Key
			}
		case "dashboard-svc":
			user = "dashboard"
			if ref := jobKey["XII_ETCD_DASHBOARD_PASSWORD"]; ref != nil {
				wantKey = ref.Key
			}
		}
		if u, _ := o.env(cl.c, "XII_ETCD_USERNAME"); u.value != user || u.secret != nil {
			t.Errorf("%s: XII_ETCD_USERNAME %q, want %q, the user etcd-access makes for it", where, u.value, user)
		}
		pw, ok := o.env(cl.c, "XII_ETCD_PASSWORD")
		if !ok || pw.secret == nil || !isSecret(pw.secret.Name, etcdSecret) || deref(pw.secret.Optional, false) {
			t.Errorf("%s: XII_ETCD_PASSWORD must come from Secret %s, not optional", where, etcdSecret)
			continue
		}
		if pw.secret.Key != wantKey || pw.secret.Name != jobSecret {
			t.Errorf("%s: XII_ETCD_PASSWORD reads Secret %s key %q, want etcd-access's Secret, key %q", where, pw.secret.Name, pw.secret.Key, wantKey)
			continue
		}
		if cl.svc != "survey-svc" || !rendered {
			continue
		}
		got, _ := o.secretValue(pw.secret)
		if entry, listed := surveys[name]; !listed || entry == "" || got != entry {
			t.Errorf("%s: its password (%s key %s) is not its entry %q in survey-passwords, so etcd-access gives %s another or none",
				where, etcdSecret, pw.secret.Key, name, user)
		}
	}
}

// etcdFlags are the --name=value flags of etcd's command.
func etcdFlags(ss appsv1.StatefulSet) map[string]string {
	out := map[string]string{}
	for _, arg := range ss.Spec.Template.Spec.Containers[0].Command {
		if k, v, ok := strings.Cut(arg, "="); ok {
			out[k] = v
		} else if strings.HasPrefix(arg, "--") {
			out[arg] = "true"
		}
	}
	return out
}

func etcdServesTLS(ss appsv1.StatefulSet) bool {
	return strings.HasPrefix(etcdFlags(ss)["--listen-client-urls"], "https://")
}

// mountedSecret is the Secret and key that file is, in container c of pod,
// through a read-only mount.
func mountedSecret(pod corev1.PodSpec, c corev1.Container, file string) (secret, key string, err error) {
	for _, m := range c.VolumeMounts {
		rel, ok := strings.CutPrefix(path.Clean(file), path.Clean(m.MountPath)+"/")
		if !ok {
			continue
		}
		if !m.ReadOnly {
			return "", "", fmt.Errorf("%s is mounted read-write", m.MountPath)
		}
		i := slices.IndexFunc(pod.Volumes, func(v corev1.Volume) bool { return v.Name == m.Name })
		if i < 0 || pod.Volumes[i].Secret == nil {
			return "", "", fmt.Errorf("%s is no Secret volume", m.MountPath)
		}
		s := pod.Volumes[i].Secret
		if len(s.Items) == 0 {
			return s.SecretName, rel, nil
		}
		for _, item := range s.Items {
			if item.Path == rel {
				return s.SecretName, item.Key, nil
			}
		}
		return "", "", fmt.Errorf("volume %s holds no %s", m.Name, rel)
	}
	return "", "", fmt.Errorf("%s is in no volume", file)
}

// checkEtcdTLS checks that etcd serves its clients TLS where the overlay
// wants it, with the certificate of Secret xii-etcd-tls, and requires no
// client certificate, which no client has; that every client then checks
// it against that Secret's ca.crt and dials https:// URLs of names the
// certificate covers, as etcdctl in etcd's pods does; that the probes
// still reach the plain metrics port.
func checkEtcdTLS(t *testing.T, o objects, want bool) {
	i := slices.IndexFunc(o.statefulSets, func(s appsv1.StatefulSet) bool { return s.Name == "etcd" })
	if i < 0 {
		t.Fatal("no etcd StatefulSet")
	}
	ss := o.statefulSets[i]
	pod := ss.Spec.Template.Spec
	c := pod.Containers[0]
	flags := etcdFlags(ss)
	tls := etcdServesTLS(ss)
	if tls != want {
		t.Errorf("etcd --listen-client-urls=%s; want TLS: %v", flags["--listen-client-urls"], want)
	}
	if adv := flags["--advertise-client-urls"]; strings.HasPrefix(adv, "https://") != tls {
		t.Errorf("etcd --advertise-client-urls=%s does not have the scheme it listens with", adv)
	}
	metrics, err := url.Parse(flags["--listen-metrics-urls"])
	if err != nil || metrics.Scheme != "http" {
		t.Errorf("etcd --listen-metrics-urls=%q, want a plain http:// URL, which the kubelet's probes can ask", flags["--listen-metrics-urls"])
	} else {
		for _, p := range []*corev1.Probe{c.ReadinessProbe, c.LivenessProbe} {
			if p == nil || p.HTTPGet == nil || p.HTTPGet.Scheme == corev1.URISchemeHTTPS ||
				!slices.ContainsFunc(c.Ports, func(cp corev1.ContainerPort) bool {
					return cp.Name == p.HTTPGet.Port.String() && fmt.Sprint(cp.ContainerPort) == metrics.Port()
				}) {
				t.Errorf("etcd: a probe %+v does not ask the metrics port %s over HTTP", p, metrics.Port())
			}
		}
	}
	var hosts []string
	for k := range int(deref(ss.Spec.Replicas, 1)) {
		member := fmt.Sprintf("%s-%d.%s", ss.Name, k, ss.Spec.ServiceName)
		hosts = append(hosts, member, member+".xii.svc")
	}
	covered := func(where, endpoints string) {
		for ep := range strings.SplitSeq(endpoints, ",") {
			u, err := url.Parse(ep)
			if err != nil || u.Scheme != "https" || !slices.Contains(hosts, u.Hostname()) {
				t.Errorf("%s: etcd endpoint %q, want https:// and one of the names its certificate covers, %v", where, ep, hosts)
			}
		}
	}
	if tls {
		files := map[string]string{"--cert-file": flags["--cert-file"], "--key-file": flags["--key-file"]}
		// The operator's etcdctl in the pod (docs/operations.md).
		cacert, _ := o.env(c, "ETCDCTL_CACERT")
		files["ETCDCTL_CACERT"] = cacert.value
		endpoints, _ := o.env(c, "ETCDCTL_ENDPOINTS")
		covered("etcd's ETCDCTL_ENDPOINTS", endpoints.value)
		for what, key := range map[string]string{"--cert-file": "tls.crt", "--key-file": "tls.key", "ETCDCTL_CACERT": "ca.crt"} {
			secret, k, err := mountedSecret(pod, c, files[what])
			if err != nil || secret != etcdTLSSecret || k != key {
				t.Errorf("etcd %s=%s: want key %s of Secret %s, mounted read-only (%v)", what, files[what], key, etcdTLSSecret, err)
			}
		}
	}
	// etcd requires a client certificate when it has a CA to check one
	// against, whatever --client-cert-auth says.
	if flags["--trusted-ca-file"] != "" || flags["--client-cert-auth"] == "true" {
		for _, cl := range o.etcdClients() {
			if _, ok := o.env(cl.c, "XII_ETCD_CERT_FILE"); !ok {
				t.Errorf("etcd requires client certificates (--trusted-ca-file or --client-cert-auth), but %s %s has none", cl.w.kind, cl.w.name)
			}
		}
	}
	for _, cl := range o.etcdClients() {
		where := fmt.Sprintf("%s %s", cl.w.kind, cl.w.name)
		ca, hasCA := o.env(cl.c, "XII_ETCD_CA_FILE")
		if !tls {
			if hasCA {
				t.Errorf("%s: XII_ETCD_CA_FILE is set, but etcd serves no TLS", where)
			}
			continue
		}
		if !hasCA || ca.value == "" {
			t.Errorf("%s: no XII_ETCD_CA_FILE; etcd serves TLS", where)
		} else if secret, key, err := mountedSecret(cl.w.tmpl.Spec, cl.c, ca.value); err != nil || secret != etcdTLSSecret || key != "ca.crt" {
			t.Errorf("%s: XII_ETCD_CA_FILE %s: want key ca.crt of Secret %s, mounted read-only (%v)", where, ca.value, etcdTLSSecret, err)
		}
		eps, _ := o.env(cl.c, "XII_ETCD_ENDPOINTS")
		covered(where, eps.value)
	}
}

// checkEtcdPolicy checks that a NetworkPolicy admits etcd's client port
// only from xii's pods, and every etcd client is one; its peer port only
// from etcd's pods; its metrics port, which the probes ask, from anywhere.
func checkEtcdPolicy(t *testing.T, o objects) {
	i := slices.IndexFunc(o.statefulSets, func(s appsv1.StatefulSet) bool { return s.Name == "etcd" })
	if i < 0 {
		t.Fatal("no etcd StatefulSet")
	}
	etcd := o.statefulSets[i].Spec.Template
	ports := map[string]int32{}
	for _, p := range etcd.Spec.Containers[0].Ports {
		ports[p.Name] = p.ContainerPort
	}
	var policy *networkingv1.NetworkPolicy
	for k, p := range o.policies {
		if selects(t, &p.Spec.PodSelector, etcd.Labels) {
			policy = &o.policies[k]
		}
	}
	if policy == nil {
		t.Fatal("no NetworkPolicy selects etcd's pods")
	}
	if !slices.Contains(policy.Spec.PolicyTypes, networkingv1.PolicyTypeIngress) {
		t.Errorf("policy %s does not restrict ingress", policy.Name)
	}
	// admitted is, by port, the peers admitted: a pod selector's labels,
	// or "anyone".
	admitted := map[int32][]string{}
	for _, rule := range policy.Spec.Ingress {
		if len(rule.Ports) == 0 {
			t.Errorf("policy %s: a rule admits every port", policy.Name)
		}
		var from []string
		for _, peer := range rule.From {
			if peer.PodSelector == nil || peer.NamespaceSelector != nil || peer.IPBlock != nil {
				from = append(from, fmt.Sprintf("not only pods of its namespace: %+v", peer))
				continue
			}
			from = append(from, metav1.FormatLabelSelector(peer.PodSelector))
		}
		if len(rule.From) == 0 {
			from = []string{"anyone"}
		}
		for _, p := range rule.Ports {
			n := int32(p.Port.IntValue())
			if p.Port.IntValue() == 0 {
				n = ports[p.Port.String()]
			}
			admitted[n] = append(admitted[n], from...)
		}
	}
	want := map[string][]string{
		"client":  {"app.kubernetes.io/part-of=xii"},
		"peer":    {"app.kubernetes.io/name=etcd"},
		"metrics": {"anyone"},
	}
	for name, from := range want {
		if got := admitted[ports[name]]; !slices.Equal(got, from) {
			t.Errorf("policy %s admits %s port %d from %q, want %q", policy.Name, name, ports[name], got, from)
		}
	}
	client := metav1.LabelSelector{MatchLabels: map[string]string{"app.kubernetes.io/part-of": "xii"}}
	for _, cl := range o.etcdClients() {
		if !selects(t, &client, cl.w.tmpl.Labels) {
			t.Errorf("%s %s talks to etcd, but its pods' labels %v are not admitted (%s)", cl.w.kind, cl.w.name, cl.w.tmpl.Labels, metav1.FormatLabelSelector(&client))
		}
	}
}
