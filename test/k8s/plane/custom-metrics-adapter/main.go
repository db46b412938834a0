// The test plane's custom.metrics.k8s.io + external.metrics.k8s.io adapter: the adapter library and
// the in-memory test provider of sigs.k8s.io/custom-metrics-apiserver (from the Go module proxy),
// started by this small main instead of the module's own test-adapter command because that one
// always opens its metric-writing endpoint on the fixed port :8080 (several planes run side by side
// on one machine). Here the writing endpoint listens where --write-address says.
//
// Writing a metric (as the upstream test provider defines it):
//   POST http://<write-address>/write-metrics/namespaces/<ns>/pods/<pod>/<metric>   body: "300m" (a JSON quantity)
// External metrics are the provider's fixed examples (my-external-metric{foo=bar} = 42, {foo=baz} = 43,
// other-external-metric = 44).
package main

import (
	"context"
	"net/http"
	"os"
	"time"

	"github.com/emicklei/go-restful/v3"
	"k8s.io/component-base/logs"
	"k8s.io/klog/v2"

	basecmd "sigs.k8s.io/custom-metrics-apiserver/pkg/cmd"
	fakeprov "sigs.k8s.io/custom-metrics-apiserver/test-adapter/provider"
)

func main() {
	logs.InitLogs()
	defer logs.FlushLogs()

	cmd := &basecmd.AdapterBase{Name: "tide-test-metrics-adapter"}
	writeAddr := "127.0.0.1:0"
	cmd.Flags().StringVar(&writeAddr, "write-address", writeAddr, "host:port of the plain-HTTP endpoint that sets metric values")
	logs.AddFlags(cmd.Flags())
	if err := cmd.Flags().Parse(os.Args); err != nil {
		klog.Fatalf("unable to parse flags: %v", err)
	}

	client, err := cmd.DynamicClient()
	if err != nil {
		klog.Fatalf("unable to construct dynamic client: %v", err)
	}
	mapper, err := cmd.RESTMapper()
	if err != nil {
		klog.Fatalf("unable to construct discovery REST mapper: %v", err)
	}
	prov, ws := fakeprov.NewFakeProvider(client, mapper)
	cmd.WithCustomMetrics(prov)
	cmd.WithExternalMetrics(prov)

	container := restful.NewContainer()
	container.Add(ws)
	go func() {
		server := &http.Server{Addr: writeAddr, Handler: container, ReadHeaderTimeout: 3 * time.Second}
		klog.Fatal(server.ListenAndServe())
	}()
	if err := cmd.Run(context.Background()); err != nil {
		klog.Fatalf("unable to run the metrics adapter: %v", err)
	}
}
