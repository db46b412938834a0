// Differential-test harness for Tide's KPA decider: knative.dev/serving's own autoscaler code (the
// version in build.sh), driven with explicit times.
//
// Input on stdin, one JSON object per line, by kind:
//   {"id", "kind": "buckets", "algo": "linear"|"weighted", "windowS", "ops": [{"t": ms, "rec": v} | {"t": ms, "avg": true}]}
//     aggregation.TimedFloat64Buckets / WeightedFloat64Buckets (1 s granularity, as the collector
//     uses): Record, then at each "avg" op WindowAverage and IsEmpty.
//   {"id", "kind": "max", "durationS", "ops": [{"t": ms, "rec": n}]}
//     aggregation/max.TimeWindow at the 2 s tick interval: Current() after each Record.
//   {"id", "kind": "scale", "spec": {...DeciderSpec fields...}, "initialReady", "ticks": [{"dt": s, "ready", "stable", "panic", "noData"}]}
//     scaling.New (which reads the ready count once, and starts in panic above one pod) and then
//     Scale(now) per tick, with a metric client and a pod counter that return the tick's values.
//     t0 is the first whole second after New, so that the panic a new autoscaler starts with (at
//     New's wall clock time) is less than a second before t0; ticks are whole seconds after it.
// Times in "buckets" and "max" are ms after a fixed epoch (base, below). Output, one line each:
//   {"id", "t0": unix ms (scale only), "results": [...]}.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric/noop"
	"go.uber.org/zap"
	"k8s.io/apimachinery/pkg/types"

	"knative.dev/serving/pkg/autoscaler/aggregation"
	"knative.dev/serving/pkg/autoscaler/aggregation/max"
	am "knative.dev/serving/pkg/autoscaler/metrics"
	"knative.dev/serving/pkg/autoscaler/scaling"
)

const base = int64(1_700_000_000_000) // ms: a fixed epoch for the window kinds

type op struct {
	T   int64    `json:"t"`
	Rec *float64 `json:"rec"`
	Avg bool     `json:"avg"`
}

type spec struct {
	TargetValue         float64 `json:"targetValue"`
	TotalValue          float64 `json:"totalValue"`
	TargetBurstCapacity float64 `json:"targetBurstCapacity"`
	ActivatorCapacity   float64 `json:"activatorCapacity"`
	PanicThreshold      float64 `json:"panicThreshold"`
	MaxScaleUpRate      float64 `json:"maxScaleUpRate"`
	MaxScaleDownRate    float64 `json:"maxScaleDownRate"`
	StableWindowS       int64   `json:"stableWindowS"`
	ScaleDownDelayS     int64   `json:"scaleDownDelayS"`
	ActivationScale     int32   `json:"activationScale"`
	Reachable           bool    `json:"reachable"`
	Metric              string  `json:"metric"`
}

type tick struct {
	Dt     int64   `json:"dt"`
	Ready  int     `json:"ready"`
	Stable float64 `json:"stable"`
	Panic  float64 `json:"panic"`
	NoData bool    `json:"noData"`
}

type input struct {
	ID           string `json:"id"`
	Kind         string `json:"kind"`
	Algo         string `json:"algo"`
	WindowS      int64  `json:"windowS"`
	DurationS    int64  `json:"durationS"`
	Ops          []op   `json:"ops"`
	Spec         spec   `json:"spec"`
	InitialReady int    `json:"initialReady"`
	Ticks        []tick `json:"ticks"`
}

type output struct {
	ID      string `json:"id"`
	T0      int64  `json:"t0,omitempty"`
	Results []any  `json:"results"`
	Error   string `json:"error,omitempty"`
}

// the values the autoscaler reads at the current tick
type feed struct {
	ready         int
	stable, panic float64
	noData        bool
}

func (f *feed) ReadyCount() (int, error)    { return f.ready, nil }
func (f *feed) NotReadyCount() (int, error) { return 0, nil }
func (f *feed) StableAndPanicConcurrency(types.NamespacedName, time.Time) (float64, float64, error) {
	if f.noData {
		return 0, 0, am.ErrNoData
	}
	return f.stable, f.panic, nil
}
func (f *feed) StableAndPanicRPS(k types.NamespacedName, now time.Time) (float64, float64, error) {
	return f.StableAndPanicConcurrency(k, now)
}

type windowAverager interface {
	Record(time.Time, float64)
	WindowAverage(time.Time) float64
	IsEmpty(time.Time) bool
}

func run(in input) (out output) {
	out.ID = in.ID
	out.Results = []any{}
	defer func() {
		if r := recover(); r != nil {
			out.Error = fmt.Sprintf("panic: %v", r)
		}
	}()
	at := func(ms int64) time.Time { return time.UnixMilli(base + ms) }
	switch in.Kind {
	case "buckets":
		w := time.Duration(in.WindowS) * time.Second
		var b windowAverager
		if in.Algo == "weighted" {
			b = aggregation.NewWeightedFloat64Buckets(w, time.Second)
		} else {
			b = aggregation.NewTimedFloat64Buckets(w, time.Second)
		}
		for _, o := range in.Ops {
			if o.Rec != nil {
				b.Record(at(o.T), *o.Rec)
			}
			if o.Avg {
				out.Results = append(out.Results, map[string]any{"avg": b.WindowAverage(at(o.T)), "empty": b.IsEmpty(at(o.T))})
			}
		}
	case "max":
		w := max.NewTimeWindow(time.Duration(in.DurationS)*time.Second, 2*time.Second)
		for _, o := range in.Ops {
			w.Record(at(o.T), int32(*o.Rec))
			out.Results = append(out.Results, w.Current())
		}
	case "scale":
		s := in.Spec
		ds := &scaling.DeciderSpec{
			MaxScaleUpRate: s.MaxScaleUpRate, MaxScaleDownRate: s.MaxScaleDownRate, ScalingMetric: s.Metric,
			TargetValue: s.TargetValue, TotalValue: s.TotalValue, TargetBurstCapacity: s.TargetBurstCapacity,
			ActivatorCapacity: s.ActivatorCapacity, PanicThreshold: s.PanicThreshold,
			StableWindow: time.Duration(s.StableWindowS) * time.Second, ScaleDownDelay: time.Duration(s.ScaleDownDelayS) * time.Second,
			Reachable: s.Reachable, ActivationScale: s.ActivationScale,
		}
		f := &feed{ready: in.InitialReady}
		a := scaling.New(attribute.NewSet(), noop.NewMeterProvider(), "ns", "rev", f, f, ds)
		t0 := time.Now().Truncate(time.Second).Add(time.Second)
		out.T0 = t0.UnixMilli()
		logger := zap.NewNop().Sugar()
		for _, tk := range in.Ticks {
			f.ready, f.stable, f.panic, f.noData = tk.Ready, tk.Stable, tk.Panic, tk.NoData
			r := a.Scale(logger, t0.Add(time.Duration(tk.Dt)*time.Second))
			out.Results = append(out.Results, map[string]any{"desired": r.DesiredPodCount, "ebc": r.ExcessBurstCapacity, "valid": r.ScaleValid})
		}
	default:
		out.Error = "unknown kind " + in.Kind
	}
	return
}

func main() {
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	enc := json.NewEncoder(w)
	for sc.Scan() {
		var in input
		if err := json.Unmarshal(sc.Bytes(), &in); err != nil {
			fmt.Fprintln(os.Stderr, "bad input:", err)
			os.Exit(2)
		}
		if err := enc.Encode(run(in)); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
	}
}
