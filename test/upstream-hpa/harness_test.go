// Differential-test harness for Tide's HPA decider.
//
// This file is compiled INTO a copy of upstream's unmodified
// k8s.io/kubernetes/pkg/controller/podautoscaler package (build.sh copies the
// package's non-test files out of the Go module cache next to it), so it can build a
// HorizontalController the way upstream's own horizontal_test.go does: fake
// clientsets, a fake scale client, a fake metrics client, a pod lister over a plain
// indexer. It then calls the controller's reconcileAutoscaler for every step of every
// scenario read from stdin (one JSON object per line) and writes what upstream
// decided (one JSON object per line).
//
// Time: everything runs inside a testing/synctest bubble, so time.Now() only moves
// when the harness sleeps; a scenario's times are offsets in ms from its start. The first
// metrics call of a sync takes 1 ns, as a real fetch takes some time: the recommendation
// the controller records when it first sees an HPA is then older than the decision, as it
// is in a real kube-controller-manager. Recommendations and scale events given as history
// are shifted by the same 1 ns, as if earlier syncs had recorded them.
package podautoscaler

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/go-logr/logr"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	v1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/version"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
	"k8s.io/client-go/kubernetes/fake"
	corelisters "k8s.io/client-go/listers/core/v1"
	scalefake "k8s.io/client-go/scale/fake"
	core "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/component-base/featuregate"
	"k8s.io/klog/v2"
	autoscalingv2defaults "k8s.io/kubernetes/pkg/apis/autoscaling/v2"
	metricsclient "k8s.io/kubernetes/pkg/controller/podautoscaler/metrics"
	"k8s.io/kubernetes/pkg/controller/podautoscaler/monitor"
	consistencyutil "k8s.io/kubernetes/pkg/controller/util/consistency"
	"k8s.io/kubernetes/pkg/controller/util/selectors"
	"k8s.io/kubernetes/pkg/features"
)

// ---------------------------------------------------------------- scenario format

type hControl struct {
	Tolerance                      *float64        `json:"tolerance"`
	CPUInitializationPeriodSeconds *int            `json:"cpuInitializationPeriodSeconds"`
	InitialReadinessDelaySeconds   *int            `json:"initialReadinessDelaySeconds"`
	DownscaleStabilizationSeconds  *int            `json:"downscaleStabilizationSeconds"`
	FeatureGates                   map[string]bool `json:"featureGates"`
	EmulationVersion               string          `json:"emulationVersion"`
}

type hRec struct {
	At       int64 `json:"at"`
	Replicas int32 `json:"replicas"`
}
type hEvent struct {
	At       int64 `json:"at"`
	Change   int32 `json:"change"`
	Outdated bool  `json:"outdated"`
}
type hCond struct {
	Type    string `json:"type"`
	Status  string `json:"status"`
	Reason  string `json:"reason"`
	Message string `json:"message"`
	At      *int64 `json:"at,omitempty"`
}
type hContainer struct {
	Name     string            `json:"name"`
	Requests map[string]string `json:"requests"`
}
type hPod struct {
	Name       string            `json:"name"`
	Phase      string            `json:"phase"`
	Ready      *struct {
		Status string `json:"status"`
		At     int64  `json:"at"`
	} `json:"ready"`
	StartAt    *int64            `json:"startAt"`
	DeletionAt *int64            `json:"deletionAt"`
	Labels     map[string]string `json:"labels"`
	Containers []hContainer      `json:"containers"`
	// Pod-level resources (spec.resources.requests), optional.
	PodRequests map[string]string `json:"podRequests"`
}
type hSample struct {
	Pod           string `json:"pod"`
	Value         int64  `json:"value"`
	At            int64  `json:"at"`
	WindowSeconds int64  `json:"windowSeconds"`
}
type hMetric struct {
	Kind    string    `json:"kind"` // pods | object | external | error
	Samples []hSample `json:"samples"`
	Value   int64     `json:"value"`
	Values  []int64   `json:"values"`
	At      int64     `json:"at"`
	Message string    `json:"message"`
}
type hScale struct {
	Spec     *int32  `json:"spec"`
	Status   *int32  `json:"status"`
	Selector *string `json:"selector"`
}
type hStep struct {
	At      int64     `json:"at"`
	Scale   hScale    `json:"scale"`
	Pods    []hPod    `json:"pods"`
	Metrics []hMetric `json:"metrics"`
}
type hScenario struct {
	ID         string          `json:"id"`
	Controller hControl        `json:"controller"`
	HPA        json.RawMessage `json:"hpa"`
	Conditions []hCond         `json:"conditions"`
	History    struct {
		Recommendations []hRec   `json:"recommendations"`
		ScaleUpEvents   []hEvent `json:"scaleUpEvents"`
		ScaleDownEvents []hEvent `json:"scaleDownEvents"`
	} `json:"history"`
	Steps []hStep `json:"steps"`
}

type hEventOut struct {
	Type    string `json:"type"`
	Reason  string `json:"reason"`
	Message string `json:"message"`
}
type hStepOut struct {
	CurrentReplicas int32       `json:"currentReplicas"`
	DesiredReplicas int32       `json:"desiredReplicas"`
	Rescaled        bool        `json:"rescaled"`
	ScaleSpecAfter  int32       `json:"scaleSpecAfter"`
	Conditions      []hCond     `json:"conditions"`
	Events          []hEventOut `json:"events"`
	Error           string      `json:"error,omitempty"`
	LastScaleAt     *int64      `json:"lastScaleAt,omitempty"`
}
type hOut struct {
	ID    string     `json:"id"`
	Error string     `json:"error,omitempty"`
	Steps []hStepOut `json:"steps"`
}

// ---------------------------------------------------------------- fake metrics client

type fakeMetrics struct {
	slept bool
	base  time.Time
	specs []autoscalingv2.MetricSpec
	obs   []hMetric
}

func (f *fakeMetrics) find(match func(autoscalingv2.MetricSpec) bool) (*hMetric, error) {
	f.tick()
	for i, s := range f.specs {
		if match(s) {
			if i >= len(f.obs) {
				return nil, errors.New("no metric observation supplied")
			}
			return &f.obs[i], nil
		}
	}
	return nil, errors.New("no metric observation supplied")
}

// tick: the first metrics call of a sync takes 1 ns.
func (f *fakeMetrics) tick() {
	if !f.slept {
		f.slept = true
		time.Sleep(time.Nanosecond)
	}
}

func (f *fakeMetrics) at(ms int64) time.Time { return f.base.Add(time.Duration(ms) * time.Millisecond) }

func (f *fakeMetrics) podInfo(m *hMetric, api string) (metricsclient.PodMetricsInfo, time.Time, error) {
	if m.Kind == "error" {
		return nil, time.Time{}, errors.New(m.Message)
	}
	if len(m.Samples) == 0 {
		return nil, time.Time{}, fmt.Errorf("no metrics returned from %s", api)
	}
	res := metricsclient.PodMetricsInfo{}
	for _, s := range m.Samples {
		res[s.Pod] = metricsclient.PodMetric{Timestamp: f.at(s.At), Window: time.Duration(s.WindowSeconds) * time.Second, Value: s.Value}
	}
	return res, f.at(m.Samples[0].At), nil
}

func (f *fakeMetrics) GetResourceMetric(ctx context.Context, res v1.ResourceName, namespace string, selector labels.Selector, container string) (metricsclient.PodMetricsInfo, time.Time, error) {
	m, err := f.find(func(s autoscalingv2.MetricSpec) bool {
		if container == "" {
			return s.Type == autoscalingv2.ResourceMetricSourceType && s.Resource.Name == res
		}
		return s.Type == autoscalingv2.ContainerResourceMetricSourceType && s.ContainerResource.Name == res && s.ContainerResource.Container == container
	})
	if err != nil {
		return nil, time.Time{}, err
	}
	return f.podInfo(m, "resource metrics API")
}

func (f *fakeMetrics) GetRawMetric(metricName string, namespace string, selector labels.Selector, metricSelector labels.Selector) (metricsclient.PodMetricsInfo, time.Time, error) {
	m, err := f.find(func(s autoscalingv2.MetricSpec) bool {
		return s.Type == autoscalingv2.PodsMetricSourceType && s.Pods.Metric.Name == metricName
	})
	if err != nil {
		return nil, time.Time{}, err
	}
	return f.podInfo(m, "custom metrics API")
}

func (f *fakeMetrics) GetObjectMetric(metricName string, namespace string, ref *autoscalingv2.CrossVersionObjectReference, metricSelector labels.Selector) (int64, time.Time, error) {
	m, err := f.find(func(s autoscalingv2.MetricSpec) bool {
		return s.Type == autoscalingv2.ObjectMetricSourceType && s.Object.Metric.Name == metricName && s.Object.DescribedObject.Name == ref.Name && s.Object.DescribedObject.Kind == ref.Kind
	})
	if err != nil {
		return 0, time.Time{}, err
	}
	if m.Kind == "error" {
		return 0, time.Time{}, errors.New(m.Message)
	}
	return m.Value, f.at(m.At), nil
}

func (f *fakeMetrics) GetExternalMetric(metricName string, namespace string, selector labels.Selector) ([]int64, time.Time, error) {
	m, err := f.find(func(s autoscalingv2.MetricSpec) bool {
		return s.Type == autoscalingv2.ExternalMetricSourceType && s.External.Metric.Name == metricName
	})
	if err != nil {
		return nil, time.Time{}, err
	}
	if m.Kind == "error" {
		return nil, time.Time{}, errors.New(m.Message)
	}
	if len(m.Values) == 0 {
		return nil, time.Time{}, errors.New("no metrics returned from external metrics API")
	}
	return append([]int64(nil), m.Values...), f.at(m.At), nil
}

// ---------------------------------------------------------------- feature gates

var baseGate = utilfeature.DefaultMutableFeatureGate.DeepCopy()
var gateCache = map[string]featuregate.FeatureGate{}

func gateFor(c hControl) (featuregate.FeatureGate, error) {
	keys := []string{c.EmulationVersion}
	for k, v := range c.FeatureGates {
		keys = append(keys, fmt.Sprintf("%s=%v", k, v))
	}
	sortStrings(keys[1:])
	key := strings.Join(keys, ",")
	if g, ok := gateCache[key]; ok {
		return g, nil
	}
	g := baseGate.DeepCopy()
	if c.EmulationVersion != "" {
		if err := g.SetEmulationVersion(version.MustParse(c.EmulationVersion)); err != nil {
			return nil, err
		}
	}
	if len(c.FeatureGates) > 0 {
		if err := g.SetFromMap(c.FeatureGates); err != nil {
			return nil, err
		}
	}
	gateCache[key] = g
	return g, nil
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// ---------------------------------------------------------------- one scenario

// The HPA clientset only receives status writes; one for all scenarios (building a fake
// clientset is the most expensive part of a scenario otherwise).
var (
	hpaClientOnce *fake.Clientset
	written       *autoscalingv2.HorizontalPodAutoscaler
)

func sharedHPAClient() *fake.Clientset {
	if hpaClientOnce == nil {
		hpaClientOnce = fake.NewClientset()
		hpaClientOnce.PrependReactor("update", "horizontalpodautoscalers", func(action core.Action) (bool, runtime.Object, error) {
			written = action.(core.UpdateAction).GetObject().(*autoscalingv2.HorizontalPodAutoscaler).DeepCopy()
			return true, written, nil
		})
	}
	hpaClientOnce.ClearActions()
	return hpaClientOnce
}

func runScenario(sc *hScenario) hOut {
	out := hOut{ID: sc.ID, Steps: []hStepOut{}}
	gate, err := gateFor(sc.Controller)
	if err != nil {
		out.Error = "feature gates: " + err.Error()
		return out
	}
	utilfeature.DefaultFeatureGate = gate

	hpa := &autoscalingv2.HorizontalPodAutoscaler{}
	if err := json.Unmarshal(sc.HPA, hpa); err != nil {
		out.Error = "hpa: " + err.Error()
		return out
	}
	autoscalingv2defaults.SetObjectDefaults_HorizontalPodAutoscaler(hpa)
	if hpa.Namespace == "" {
		hpa.Namespace = "default"
	}
	base := time.Now()
	at := func(ms int64) time.Time { return base.Add(time.Duration(ms) * time.Millisecond) }
	rel := func(t time.Time) int64 { return t.Sub(base).Milliseconds() }
	for _, c := range sc.Conditions {
		cond := autoscalingv2.HorizontalPodAutoscalerCondition{
			Type: autoscalingv2.HorizontalPodAutoscalerConditionType(c.Type), Status: v1.ConditionStatus(c.Status), Reason: c.Reason, Message: c.Message,
		}
		if c.At != nil {
			cond.LastTransitionTime = metav1.NewTime(at(*c.At))
		}
		hpa.Status.Conditions = append(hpa.Status.Conditions, cond)
	}

	tol, cpuInit, readyDelay, downWin := 0.1, 300, 30, 300
	if c := sc.Controller; c.Tolerance != nil {
		tol = *c.Tolerance
	}
	if c := sc.Controller; c.CPUInitializationPeriodSeconds != nil {
		cpuInit = *c.CPUInitializationPeriodSeconds
	}
	if c := sc.Controller; c.InitialReadinessDelaySeconds != nil {
		readyDelay = *c.InitialReadinessDelaySeconds
	}
	if c := sc.Controller; c.DownscaleStabilizationSeconds != nil {
		downWin = *c.DownscaleStabilizationSeconds
	}

	key := hpa.Namespace + "/" + hpa.Name
	hpaClient := sharedHPAClient()

	var scaleSpec, scaleStatus int32
	var selector = "app=web"
	var updatedTo *int32
	scaleClient := &scalefake.FakeScaleClient{}
	scaleClient.AddReactor("get", "deployments", func(action core.Action) (bool, runtime.Object, error) {
		return true, &autoscalingv1.Scale{
			ObjectMeta: metav1.ObjectMeta{Name: hpa.Spec.ScaleTargetRef.Name, Namespace: hpa.Namespace},
			Spec:       autoscalingv1.ScaleSpec{Replicas: scaleSpec},
			Status:     autoscalingv1.ScaleStatus{Replicas: scaleStatus, Selector: selector},
		}, nil
	})
	scaleClient.AddReactor("update", "deployments", func(action core.Action) (bool, runtime.Object, error) {
		obj := action.(core.UpdateAction).GetObject().(*autoscalingv1.Scale)
		r := obj.Spec.Replicas
		updatedTo = &r
		return true, obj, nil
	})

	mapper := apimeta.NewDefaultRESTMapper([]schema.GroupVersion{{Group: "apps", Version: "v1"}})
	mapper.Add(schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}, apimeta.RESTScopeNamespace)

	recorder := record.NewFakeRecorder(10000)
	fm := &fakeMetrics{base: base, specs: hpa.Spec.Metrics}
	indexer := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
	a := &HorizontalController{
		scaleNamespacer:              scaleClient,
		hpaNamespacer:                hpaClient.AutoscalingV2(),
		mapper:                       mapper,
		tolerance:                    tol,
		eventRecorder:                recorder,
		downscaleStabilisationWindow: time.Duration(downWin) * time.Second,
		monitor:                      monitor.New(),
		podLister:                    corelisters.NewPodLister(indexer),
		recommendations:              map[string][]timestampedRecommendation{},
		scaleUpEvents:                map[string][]timestampedScaleEvent{},
		scaleDownEvents:              map[string][]timestampedScaleEvent{},
		consistencyStore:             consistencyutil.NewNoopConsistencyStore(),
	}
	if utilfeature.DefaultFeatureGate.Enabled(features.HPAOptimizedSelectorStore) {
		a.selectorTracker = newHPASelectorStore()
	} else {
		a.selectorTracker = newBiMultimapSelectorTracker()
	}
	a.selectorTracker.PutIfAbsent(hpa.Namespace, selectors.Key{Name: hpa.Name, Namespace: hpa.Namespace}, labels.Nothing())
	a.replicaCalc = NewReplicaCalculator(fm, a.podLister, time.Duration(cpuInit)*time.Second, time.Duration(readyDelay)*time.Second)

	h := sc.History
	if len(h.Recommendations) > 0 {
		for _, r := range h.Recommendations {
			a.recommendations[key] = append(a.recommendations[key], timestampedRecommendation{r.Replicas, at(r.At).Add(time.Nanosecond)})
		}
	}
	for _, e := range h.ScaleUpEvents {
		a.scaleUpEvents[key] = append(a.scaleUpEvents[key], timestampedScaleEvent{e.Change, at(e.At).Add(time.Nanosecond), e.Outdated})
	}
	for _, e := range h.ScaleDownEvents {
		a.scaleDownEvents[key] = append(a.scaleDownEvents[key], timestampedScaleEvent{e.Change, at(e.At).Add(time.Nanosecond), e.Outdated})
	}

	var carried int32
	for i, st := range sc.Steps {
		if d := at(st.At).Sub(time.Now()); d > 0 {
			time.Sleep(d)
		}
		if st.Scale.Spec != nil {
			scaleSpec = *st.Scale.Spec
		} else if i > 0 {
			scaleSpec = carried
		}
		if st.Scale.Status != nil {
			scaleStatus = *st.Scale.Status
		} else {
			scaleStatus = scaleSpec
		}
		if st.Scale.Selector != nil {
			selector = *st.Scale.Selector
		} else {
			selector = "app=web"
		}
		for _, o := range indexer.List() {
			_ = indexer.Delete(o)
		}
		for _, p := range st.Pods {
			_ = indexer.Add(buildPod(p, hpa.Namespace, at))
		}
		fm.obs = st.Metrics
		fm.slept = false
		updatedTo = nil
		written = nil

		reconcileErr := a.reconcileAutoscaler(context.Background(), hpa, key)

		res := hStepOut{CurrentReplicas: scaleSpec, Conditions: []hCond{}, Events: []hEventOut{}}
		if reconcileErr != nil {
			res.Error = reconcileErr.Error()
		}
		if written != nil {
			hpa.Status = written.Status
		}
		res.DesiredReplicas = hpa.Status.DesiredReplicas
		if updatedTo != nil {
			res.Rescaled = true
			res.ScaleSpecAfter = *updatedTo
			carried = *updatedTo
		} else {
			res.ScaleSpecAfter = scaleSpec
			carried = scaleSpec
		}
		for _, c := range hpa.Status.Conditions {
			t := rel(c.LastTransitionTime.Time)
			res.Conditions = append(res.Conditions, hCond{Type: string(c.Type), Status: string(c.Status), Reason: c.Reason, Message: c.Message, At: &t})
		}
		if hpa.Status.LastScaleTime != nil {
			t := rel(hpa.Status.LastScaleTime.Time)
			res.LastScaleAt = &t
		}
	drain:
		for {
			select {
			case e := <-recorder.Events:
				parts := strings.SplitN(e, " ", 3)
				for len(parts) < 3 {
					parts = append(parts, "")
				}
				res.Events = append(res.Events, hEventOut{Type: parts[0], Reason: parts[1], Message: parts[2]})
			default:
				break drain
			}
		}
		out.Steps = append(out.Steps, res)
	}
	return out
}

func buildPod(p hPod, ns string, at func(int64) time.Time) *v1.Pod {
	lbl := p.Labels
	if lbl == nil {
		lbl = map[string]string{"app": "web"}
	}
	pod := &v1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: p.Name, Namespace: ns, Labels: lbl},
		Status:     v1.PodStatus{Phase: v1.PodPhase(p.Phase)},
	}
	if p.DeletionAt != nil {
		t := metav1.NewTime(at(*p.DeletionAt))
		pod.DeletionTimestamp = &t
	}
	if p.StartAt != nil {
		t := metav1.NewTime(at(*p.StartAt))
		pod.Status.StartTime = &t
	}
	if p.Ready != nil {
		pod.Status.Conditions = []v1.PodCondition{{Type: v1.PodReady, Status: v1.ConditionStatus(p.Ready.Status), LastTransitionTime: metav1.NewTime(at(p.Ready.At))}}
	}
	for _, c := range p.Containers {
		rl := v1.ResourceList{}
		for k, q := range c.Requests {
			rl[v1.ResourceName(k)] = resource.MustParse(q)
		}
		pod.Spec.Containers = append(pod.Spec.Containers, v1.Container{Name: c.Name, Resources: v1.ResourceRequirements{Requests: rl}})
	}
	if len(p.PodRequests) > 0 {
		rl := v1.ResourceList{}
		for k, q := range p.PodRequests {
			rl[v1.ResourceName(k)] = resource.MustParse(q)
		}
		pod.Spec.Resources = &v1.ResourceRequirements{Requests: rl}
	}
	return pod
}

// TestHarness is the entry point: `hpa-harness -test.run '^TestHarness$'` with scenarios on stdin.
func TestHarness(t *testing.T) {
	if os.Getenv("TIDE_HPA_HARNESS") != "1" {
		t.Skip("set TIDE_HPA_HARNESS=1 and feed scenarios on stdin")
	}
	klog.SetLogger(logr.Discard())
	synctest.Test(t, func(t *testing.T) {
		in := bufio.NewScanner(os.Stdin)
		in.Buffer(make([]byte, 1<<20), 64<<20)
		w := bufio.NewWriterSize(os.Stdout, 1<<16)
		enc := json.NewEncoder(w)
		for in.Scan() {
			line := in.Bytes()
			if len(strings.TrimSpace(string(line))) == 0 {
				continue
			}
			var sc hScenario
			var out hOut
			if err := json.Unmarshal(line, &sc); err != nil {
				out = hOut{ID: sc.ID, Error: "scenario: " + err.Error(), Steps: []hStepOut{}}
			} else {
				out = runScenario(&sc)
			}
			if err := enc.Encode(out); err != nil {
				t.Fatal(err)
			}
			// one answer per line, flushed, so a caller can stream
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			time.Sleep(time.Hour) // scenarios never share a time range
		}
		if err := in.Err(); err != nil {
			t.Fatal(err)
		}
	})
}
