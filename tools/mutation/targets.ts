// The files under mutation and, for each, its narrowest test set (test files that exercise it),
// in priority order: the files that make scaling decisions first.
const FORMULA_TESTS = ['test/unit/keda/formula.test.ts', 'test/unit/keda/formula-expr-lang.test.ts', 'test/unit/keda/decide-edges.test.ts', 'test/unit/keda/decide.test.ts', 'test/e2e/upstream/keda-formula-differential.test.ts'];

export const TARGETS: Record<string, string[]> = {
  'src/deciders/kpa/scaling.ts': ['test/unit/kpa/scaling.test.ts', 'test/unit/kpa/scaling-edges.test.ts', 'test/unit/kpa/decide.test.ts', 'test/e2e/upstream/kpa-differential.test.ts'],
  'src/deciders/kpa/decide.ts': ['test/unit/kpa/decide-edges.test.ts', 'test/unit/kpa/decide.test.ts', 'test/unit/kpa/purity.test.ts', 'test/unit/kpa/scaler.test.ts'],
  'src/deciders/kpa/aggregation.ts': ['test/unit/kpa/aggregation.test.ts', 'test/unit/kpa/aggregation-edges.test.ts', 'test/unit/kpa/decide.test.ts', 'test/e2e/upstream/kpa-differential.test.ts'],
  'src/deciders/kpa/policy.ts': ['test/unit/kpa/policy-edges.test.ts', 'test/unit/kpa/scaling.test.ts', 'test/unit/kpa/decide.test.ts', 'test/unit/kpa/decide-edges.test.ts', 'test/unit/kpa/scaler.test.ts'],
  'src/deciders/kpa/metrics.ts': ['test/unit/kpa/metrics.test.ts', 'test/unit/kpa/decide-edges.test.ts', 'test/unit/kpa/decide.test.ts'],
  'src/deciders/kpa/config.ts': ['test/unit/kpa/config-edges.test.ts', 'test/unit/kpa/decide.test.ts', 'test/unit/kpa/manifests.test.ts'],
  'src/deciders/hpa/replica-calculator.ts': ['test/unit/hpa/replica-calculator-edges.test.ts', 'test/unit/hpa/replica-calculator.test.ts', 'test/unit/hpa/decide.test.ts', 'test/unit/hpa/properties.test.ts'],
  'src/deciders/hpa/normalize.ts': ['test/unit/hpa/normalize-edges.test.ts', 'test/unit/hpa/behavior.test.ts', 'test/unit/hpa/properties.test.ts', 'test/unit/hpa/decide.test.ts'],
  'src/deciders/hpa/decide.ts': ['test/unit/hpa/decide-edges.test.ts', 'test/unit/hpa/decide.test.ts', 'test/unit/hpa/behavior.test.ts', 'test/unit/hpa/normalize-edges.test.ts', 'test/unit/hpa/properties.test.ts'],
  'src/deciders/hpa/metrics.ts': ['test/unit/hpa/metrics.test.ts', 'test/unit/hpa/decide-edges.test.ts', 'test/unit/hpa/decide.test.ts', 'test/unit/hpa/replica-calculator-edges.test.ts', 'test/unit/hpa/properties.test.ts'],
  'src/deciders/hpa/int-math.ts': ['test/unit/hpa/int-math.test.ts', 'test/unit/hpa/replica-calculator-edges.test.ts', 'test/unit/hpa/replica-calculator.test.ts'],
  'src/deciders/hpa/conditions.ts': ['test/unit/hpa/conditions.test.ts', 'test/unit/hpa/decide-edges.test.ts', 'test/unit/hpa/decide.test.ts', 'test/unit/hpa/behavior.test.ts'],
  'src/deciders/hpa/feature-gates.ts': ['test/unit/hpa/feature-gates.test.ts'],
  'src/deciders/hpa/format.ts': ['test/unit/hpa/format-edges.test.ts', 'test/unit/hpa/format.test.ts', 'test/unit/hpa/metrics.test.ts'],
  'src/deciders/keda/decide.ts': ['test/unit/keda/decide-edges.test.ts', 'test/unit/keda/decide.test.ts'],
  // last: expr-lang itself (the Go harness), on a fixed seed, for what the unit tests let through
  // (one test set for the formula's modules: every test goes through parse, check, optimize and run)
  'src/deciders/keda/formula/parse.ts': FORMULA_TESTS,
  'src/deciders/keda/formula/check.ts': FORMULA_TESTS,
  'src/deciders/keda/formula/folds.ts': FORMULA_TESTS,
  'src/deciders/keda/formula/optimize.ts': FORMULA_TESTS,
  'src/deciders/keda/formula/run.ts': FORMULA_TESTS,
  'src/deciders/keda/formula/go-math.ts': FORMULA_TESTS,
  'src/deciders/keda/formula.ts': FORMULA_TESTS,
  'src/replay/kpa-scenario.ts': ['test/unit/replay/kpa-scenario-runner.test.ts', 'test/unit/replay/kpa-scenario.test.ts', 'test/unit/kpa/scenario.test.ts'],
  'src/autoscalers/hpa.ts': ['test/unit/autoscalers/hpa-edges.test.ts', 'test/unit/autoscalers/hpa.test.ts'],
  'src/autoscalers/keda.ts': ['test/unit/autoscalers/keda.test.ts'],
  'src/autoscalers/kpa.ts': ['test/unit/autoscalers/kpa.test.ts', 'test/unit/kpa/driver.test.ts'],
  // The kind → module registry every shell builds autoscalers from, and the port's /scale selector text.
  'src/autoscalers/factory.ts': ['test/unit/autoscalers/factory.test.ts', 'test/unit/autoscalers/hpa.test.ts', 'test/unit/autoscalers/keda.test.ts', 'test/unit/kpa/driver.test.ts'],
  'src/autoscalers/port.ts': ['test/unit/autoscalers/port.test.ts', 'test/unit/autoscalers/hpa.test.ts'],
  // tide-driver.test.ts mocks timers through the test context (t.mock.timers), which the worker's
  // node:test stand-in does not have; tide.test.ts drives the same autoscaler on the scriptable port.
  'src/autoscalers/tide.ts': ['test/unit/autoscalers/tide.test.ts'],
  'src/autoscalers/common.ts': ['test/unit/autoscalers/common.test.ts', 'test/unit/autoscalers/hpa.test.ts', 'test/unit/autoscalers/keda.test.ts'],
  // Tide's own policy (decidePredictive) and its spike memory.
  'src/policies/spikes.ts': ['test/unit/sim/spikes-edges.test.ts', 'test/unit/sim/spikes.test.ts'],
  'src/policies/predictive.ts': ['test/unit/sim/predictive-edges.test.ts', 'test/unit/sim/predictive.test.ts', 'test/unit/sim/predictive-arrivals.test.ts',
    // the fast ones before the slow spike and history tests (a mutant stops at its first failing test)
    'test/unit/sim/predictive-windows.test.ts', 'test/unit/sim/predictive-record.test.ts', 'test/unit/sim/predictive-samples.test.ts', 'test/unit/sim/predictive-terms.test.ts', 'test/unit/sim/predictive-estimates.test.ts', 'test/unit/sim/predictive-late.test.ts', 'test/unit/sim/predictive-final.test.ts',
    'test/unit/sim/spikes.test.ts', 'test/unit/sim/predictive-pins.test.ts', 'test/unit/sim/predictive-bounds.test.ts', 'test/unit/sim/predictive-wake.test.ts', 'test/unit/sim/predictive-window-budget.test.ts'],
  // The proxy's framing (pure parser functions) and admission (the router, driven in-process by a fake
  // engine). differential.test.ts (random traffic against llhttp, ~90 s) and raw-engine.test.ts (real
  // sockets) are left out: too slow per mutant on a shared 2-core machine; see docs/mutation.md.
  'src/runtime/local/proxy-http1.ts': ['test/unit/proxy/http1-edges.test.ts', 'test/unit/proxy/http1.test.ts'],
  'src/runtime/local/proxy-router.ts': ['test/unit/proxy/router-admission.test.ts', 'test/unit/proxy/router.test.ts'],
};
