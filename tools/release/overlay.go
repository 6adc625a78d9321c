package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// A cluster is what the prod overlay deploys, as far as traffic goes: the
// Services (by name, their selectors) and the Deployments' pod labels.
type cluster struct {
	services    map[string]map[string]string
	deployments map[string]map[string]string
}

// loadCluster renders the overlay with kustomize, as `kubectl apply -k` would.
func loadCluster(overlay string) (*cluster, error) {
	resources, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), overlay)
	if err != nil {
		return nil, fmt.Errorf("render %s: %w", overlay, err)
	}
	c := &cluster{services: map[string]map[string]string{}, deployments: map[string]map[string]string{}}
	for _, res := range resources.Resources() {
		raw, err := res.MarshalJSON()
		if err != nil {
			return nil, err
		}
		var obj struct {
			Kind     string `json:"kind"`
			Metadata struct {
				Name string `json:"name"`
			} `json:"metadata"`
			Spec struct {
				Selector json.RawMessage `json:"selector"`
				Template struct {
					Metadata struct {
						Labels map[string]string `json:"labels"`
					} `json:"metadata"`
				} `json:"template"`
			} `json:"spec"`
		}
		if err := json.Unmarshal(raw, &obj); err != nil {
			return nil, fmt.Errorf("%s %s: %w", res.GetKind(), res.GetName(), err)
		}
		switch obj.Kind {
		case "Service":
			sel := map[string]string{}
			if len(obj.Spec.Selector) > 0 {
				if err := json.Unmarshal(obj.Spec.Selector, &sel); err != nil {
					return nil, fmt.Errorf("service %s selector: %w", obj.Metadata.Name, err)
				}
			}
			c.services[obj.Metadata.Name] = sel
		case "Deployment":
			c.deployments[obj.Metadata.Name] = obj.Spec.Template.Metadata.Labels
		}
	}
	return c, nil
}

// selects reports an error unless some Deployment's pods carry both the
// host Service's selector and the subset's labels, i.e. the subset has pods.
func (c *cluster) selects(host string, labels map[string]string) error {
	name := shortHost(host)
	sel, ok := c.services[name]
	if !ok {
		return fmt.Errorf("host %s has no Service %s in the prod overlay", host, name)
	}
	if len(sel) == 0 {
		return fmt.Errorf("Service %s has no selector", name)
	}
	want := maps.Clone(sel)
	maps.Copy(want, labels)
	for _, name := range slices.Sorted(maps.Keys(c.deployments)) {
		if hasLabels(c.deployments[name], want) {
			return nil
		}
	}
	return fmt.Errorf("no Deployment in the prod overlay has pods labelled %s", formatLabels(want))
}

func hasLabels(have, want map[string]string) bool {
	for k, v := range want {
		if have[k] != v {
			return false
		}
	}
	return true
}

func formatLabels(l map[string]string) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(l)) {
		parts = append(parts, k+"="+l[k])
	}
	return strings.Join(parts, ",")
}
