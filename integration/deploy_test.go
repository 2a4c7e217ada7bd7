package integration

import (
	"bytes"
	"errors"
	"io"
	"os"
	"testing"

	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v3"

	"github.com/rootwalk/rootwalk/config"
)

// k8sObject is what the test reads of a Kubernetes object.
type k8sObject struct {
	Kind     string `yaml:"kind"`
	Metadata struct {
		Name string `yaml:"name"`
	} `yaml:"metadata"`
	StringData map[string]string `yaml:"stringData"`
	Spec       struct {
		Template struct {
			Spec struct {
				Containers []struct {
					Name string `yaml:"name"`
					Env  []struct {
						Name      string `yaml:"name"`
						Value     string `yaml:"value"`
						ValueFrom *struct {
							SecretKeyRef struct {
								Name string `yaml:"name"`
								Key  string `yaml:"key"`
							} `yaml:"secretKeyRef"`
						} `yaml:"valueFrom"`
					} `yaml:"env"`
					Ports []struct {
						Name string `yaml:"name"`
					} `yaml:"ports"`
				} `yaml:"containers"`
			} `yaml:"spec"`
		} `yaml:"template"`
		Ports []struct {
			TargetPort string `yaml:"targetPort"`
		} `yaml:"ports"`
	} `yaml:"spec"`
}

// TestKubernetesManifest reads deploy/kubernetes/fleet.yaml: the
// environment it gives rootwalk (secrets filled in from its Secret) is a
// configuration rootwalk accepts, with the shared cache on, and every
// Service port names a port its pods declare.
func TestKubernetesManifest(t *testing.T) {
	data, err := os.ReadFile("../deploy/kubernetes/fleet.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var objects []k8sObject
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var o k8sObject
		if err := dec.Decode(&o); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("fleet.yaml: %v", err)
		}
		objects = append(objects, o)
	}
	secrets := map[string]map[string]string{}
	ports := map[string]bool{}
	for _, o := range objects {
		if o.Kind == "Secret" {
			secrets[o.Metadata.Name] = o.StringData
		}
		for _, c := range o.Spec.Template.Spec.Containers {
			for _, p := range c.Ports {
				ports[p.Name] = true
			}
		}
	}
	checked := false
	for _, o := range objects {
		for _, p := range o.Spec.Ports {
			if o.Kind == "Service" && !ports[p.TargetPort] {
				t.Errorf("Service %s targets port %q, which no container declares", o.Metadata.Name, p.TargetPort)
			}
		}
		if o.Kind != "Deployment" || o.Metadata.Name != "rootwalk" {
			continue
		}
		var env []string
		for _, e := range o.Spec.Template.Spec.Containers[0].Env {
			v := e.Value
			if e.ValueFrom != nil {
				ref := e.ValueFrom.SecretKeyRef
				s, ok := secrets[ref.Name][ref.Key]
				if !ok {
					t.Fatalf("%s refers to %s/%s, which the manifest's Secrets lack", e.Name, ref.Name, ref.Key)
				}
				v = s
			}
			env = append(env, e.Name+"="+v)
		}
		fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
		config.RegisterFlags(fs)
		cfg, err := config.Load(fs, env)
		if err != nil {
			t.Fatalf("rootwalk refuses the manifest's environment %q: %v", env, err)
		}
		if cfg.Cache.Redis.Addr != "rootwalk-redis:6379" || cfg.Cache.Redis.Seed == "" {
			t.Errorf("shared cache = %+v, want rootwalk-redis:6379 with a seed", cfg.Cache.Redis)
		}
		checked = true
	}
	if !checked {
		t.Error("no rootwalk Deployment in fleet.yaml")
	}
}
