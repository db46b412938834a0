// Differential-test harness for Tide's KEDA scalingModifiers formulas: expr-lang, the library KEDA
// evaluates them with, at the version KEDA's go.mod pins, run the way KEDA runs them.
//
// KEDA (apis/keda/v1alpha1/scaledobject_webhook.go, pkg/scaling/modifiers/formula.go), restated:
//   - the formula is wrapped so that its result is a float: with "??" in it, as
//     `let _kedaCompositeResult = (F); _kedaCompositeResult == nil ? nil : float(_kedaCompositeResult)`
//     (unless it already starts with that let), else as `float(F)` (unless it starts with "float(");
//   - validation compiles it against an environment of float64 trigger values (every named
//     non-cpu/memory trigger = -1.0) and runs it once on that environment;
//   - at run time the compiled program runs on a map[string]any of the triggers' values, where a
//     trigger in fallback is nil; a nil result is the fallback's, anything but a float64 an error.
//
// Input on stdin, one JSON object per line: {"id", "formula", "names": [...], "envs": [{name: number|null}]}.
// Output, one line each: {"id", "validate": "error text" | "", "results": [{"value": number|null} | {"error": "..."}]}.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"strings"

	"github.com/expr-lang/expr"
)

type input struct {
	ID      string                `json:"id"`
	Formula string                `json:"formula"`
	Names   []string              `json:"names"`
	Envs    []map[string]*float64 `json:"envs"`
}

type result struct {
	Value *float64 `json:"value"`
	Null  bool     `json:"null,omitempty"`
	Error string   `json:"error,omitempty"`
}

type output struct {
	ID       string   `json:"id"`
	Validate string   `json:"validate"`
	Results  []result `json:"results"`
}

func wrap(f string) string {
	if strings.Contains(f, "??") {
		if strings.HasPrefix(f, "let _kedaCompositeResult = ") {
			return f
		}
		return "let _kedaCompositeResult = (" + f + "); _kedaCompositeResult == nil ? nil : float(_kedaCompositeResult)"
	}
	if strings.HasPrefix(f, "float(") {
		return f
	}
	return "float(" + f + ")"
}

func run(in input) (out output) {
	out.ID = in.ID
	out.Results = []result{}
	defer func() {
		if r := recover(); r != nil {
			out.Validate = fmt.Sprintf("panic: %v", r)
		}
	}()
	dummy := map[string]float64{}
	for _, n := range in.Names {
		dummy[n] = -1.0
	}
	program, err := expr.Compile(wrap(in.Formula), expr.Env(dummy))
	if err != nil {
		out.Validate = err.Error()
		return
	}
	if _, err := expr.Run(program, dummy); err != nil {
		out.Validate = err.Error()
		return
	}
	for _, e := range in.Envs {
		data := map[string]any{}
		for k, v := range e {
			if v == nil {
				data[k] = nil
			} else {
				data[k] = *v
			}
		}
		v, err := expr.Run(program, data)
		switch {
		case err != nil:
			out.Results = append(out.Results, result{Error: err.Error()})
		case v == nil:
			out.Results = append(out.Results, result{Null: true})
		default:
			f, ok := v.(float64)
			if !ok {
				out.Results = append(out.Results, result{Error: fmt.Sprintf("formula returned non-float result %T (%v)", v, v)})
			} else if math.IsNaN(f) || math.IsInf(f, 0) {
				out.Results = append(out.Results, result{Error: fmt.Sprintf("non-finite %v", f)})
			} else {
				out.Results = append(out.Results, result{Value: &f})
			}
		}
	}
	return
}

func main() {
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
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
