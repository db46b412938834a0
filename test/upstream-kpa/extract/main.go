// extract - writes a Go file holding only the named top-level declarations of an upstream source
// file (types, consts, vars, funcs; a name inside a grouped const/var/type block keeps only its own
// spec), with the imports those declarations use. The KPA harness is built from knative.dev/serving's
// own files, taken from the Go module proxy; some of the packages they import pull in modules the
// proxy does not serve, so from those files only the declarations the harness's code needs are
// taken, unchanged.
//
//   go run ./extract <file.go> <package name> Name...
package main

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"os"
	"path"
	"strconv"
	"strings"
)

func main() {
	if len(os.Args) < 4 {
		fmt.Fprintln(os.Stderr, "usage: extract file.go package Name...")
		os.Exit(2)
	}
	file, pkg, names := os.Args[1], os.Args[2], map[string]bool{}
	for _, n := range os.Args[3:] {
		names[n] = true
	}
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, file, nil, parser.ParseComments)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	var kept []ast.Decl
	found := map[string]bool{}
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			if d.Recv == nil && names[d.Name.Name] {
				kept = append(kept, d)
				found[d.Name.Name] = true
			}
		case *ast.GenDecl:
			if d.Tok == token.IMPORT {
				continue
			}
			var specs []ast.Spec
			for _, s := range d.Specs {
				switch s := s.(type) {
				case *ast.TypeSpec:
					if names[s.Name.Name] {
						specs = append(specs, s)
						found[s.Name.Name] = true
					}
				case *ast.ValueSpec:
					keep := false
					for _, n := range s.Names {
						keep = keep || names[n.Name]
						found[n.Name] = found[n.Name] || names[n.Name]
					}
					if keep {
						specs = append(specs, s)
					}
				}
			}
			if len(specs) > 0 {
				kept = append(kept, &ast.GenDecl{Tok: d.Tok, Lparen: 1, Specs: specs, Rparen: 1})
			}
		}
	}
	for n := range names {
		if !found[n] {
			fmt.Fprintf(os.Stderr, "extract: %s has no top-level %s\n", file, n)
			os.Exit(1)
		}
	}
	// the imports the kept declarations refer to (by the package name they are used under)
	used := map[string]bool{}
	for _, d := range kept {
		ast.Inspect(d, func(n ast.Node) bool {
			if s, ok := n.(*ast.SelectorExpr); ok {
				if id, ok := s.X.(*ast.Ident); ok {
					used[id.Name] = true
				}
			}
			return true
		})
	}
	var out bytes.Buffer
	fmt.Fprintf(&out, "// Code extracted from %s (upstream, unchanged). DO NOT EDIT.\n\npackage %s\n\n", path.Base(file), pkg)
	var imports []string
	for _, im := range f.Imports {
		p, _ := strconv.Unquote(im.Path.Value)
		name := path.Base(p)
		if im.Name != nil {
			name = im.Name.Name
		}
		if used[name] {
			if im.Name != nil {
				imports = append(imports, im.Name.Name+" "+im.Path.Value)
			} else {
				imports = append(imports, im.Path.Value)
			}
		}
	}
	if len(imports) > 0 {
		fmt.Fprintf(&out, "import (\n\t%s\n)\n\n", strings.Join(imports, "\n\t"))
	}
	for _, d := range kept {
		if err := format.Node(&out, fset, d); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		out.WriteString("\n\n")
	}
	src, err := format.Source(out.Bytes())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Stdout.Write(src)
}
