// crdvalidate: validates objects against CustomResourceDefinitions the way the API server does on
// create (defaulting, OpenAPI schema, x-kubernetes-validations CEL rules, unknown fields), using the
// API server's own libraries, with no cluster. Reads {"crds": [...], "objects": [...]} as JSON on
// stdin and prints one list of errors per object as JSON: [[{"field", "type", "detail"}], ...].
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	apiextensionsinternal "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel"
	structuraldefaulting "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/defaulting"
	structurallisttype "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/listtype"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/pruning"
	apiservervalidation "k8s.io/apiextensions-apiserver/pkg/apiserver/validation"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"k8s.io/apimachinery/pkg/util/validation/field"
	celconfig "k8s.io/apiserver/pkg/apis/cel"
)

type input struct {
	CRDs    []apiextensionsv1.CustomResourceDefinition `json:"crds"`
	Objects []json.RawMessage                          `json:"objects"`
}

type problem struct {
	Field  string `json:"field"`
	Type   string `json:"type"`
	Detail string `json:"detail"`
}

type version struct {
	structural *structuralschema.Structural
	validator  apiservervalidation.SchemaCreateValidator
	cel        *cel.Validator
}

func load(crds []apiextensionsv1.CustomResourceDefinition) (map[string]*version, error) {
	out := map[string]*version{}
	for _, crd := range crds {
		for _, v := range crd.Spec.Versions {
			if v.Schema == nil || v.Schema.OpenAPIV3Schema == nil {
				continue
			}
			internal := &apiextensionsinternal.JSONSchemaProps{}
			if err := apiextensionsv1.Convert_v1_JSONSchemaProps_To_apiextensions_JSONSchemaProps(v.Schema.OpenAPIV3Schema, internal, nil); err != nil {
				return nil, fmt.Errorf("%s %s: %w", crd.Name, v.Name, err)
			}
			s, err := structuralschema.NewStructural(internal)
			if err != nil {
				return nil, fmt.Errorf("%s %s: not structural: %w", crd.Name, v.Name, err)
			}
			validator, _, err := apiservervalidation.NewSchemaValidator(internal)
			if err != nil {
				return nil, fmt.Errorf("%s %s: %w", crd.Name, v.Name, err)
			}
			key := crd.Spec.Group + "/" + v.Name + "/" + crd.Spec.Names.Kind
			out[key] = &version{structural: s, validator: validator, cel: cel.NewValidator(s, true, celconfig.PerCallLimit)}
		}
	}
	return out, nil
}

func toProblems(errs field.ErrorList) []problem {
	out := []problem{}
	for _, e := range errs {
		out = append(out, problem{Field: e.Field, Type: string(e.Type), Detail: e.Detail})
	}
	return out
}

func validate(versions map[string]*version, obj map[string]interface{}) []problem {
	apiVersion, _ := obj["apiVersion"].(string)
	kind, _ := obj["kind"].(string)
	v, ok := versions[apiVersion+"/"+kind]
	if !ok {
		return []problem{{Field: "apiVersion", Type: "FieldValueNotSupported", Detail: fmt.Sprintf("no CRD serves %s %s", apiVersion, kind)}}
	}
	// As the API server: unknown fields are pruned (reported here, as kubectl --validate=strict
	// does), defaults applied, then the schema and the CEL rules checked.
	unknown := pruning.PruneWithOptions(obj, v.structural, true, structuralschema.UnknownFieldPathOptions{TrackUnknownFieldPaths: true})
	out := []problem{}
	for _, path := range unknown {
		if strings.HasPrefix(path, "metadata.") {
			continue
		}
		out = append(out, problem{Field: path, Type: "FieldValueUnknown", Detail: "unknown field"})
	}
	structuraldefaulting.Default(obj, v.structural)
	// The order of the API server's customResourceStrategy.Validate: schema, list-type invariants
	// (x-kubernetes-list-type set/map uniqueness), then CEL unless a type error blocks it.
	var errs field.ErrorList
	errs = append(errs, apiservervalidation.ValidateCustomResource(nil, obj, v.validator)...)
	errs = append(errs, structurallisttype.ValidateListSetsAndMaps(nil, v.structural, obj)...)
	if !hasTypeError(errs) {
		celErrs, _ := v.cel.Validate(context.Background(), nil, v.structural, obj, nil, celconfig.RuntimeCELCostBudget)
		errs = append(errs, celErrs...)
	}
	return append(out, toProblems(errs)...)
}

func hasTypeError(errs field.ErrorList) bool {
	for _, e := range errs {
		if e.Type == field.ErrorTypeTypeInvalid {
			return true
		}
	}
	return false
}

func main() {
	var in input
	if err := json.NewDecoder(os.Stdin).Decode(&in); err != nil {
		fmt.Fprintf(os.Stderr, "crdvalidate: reading stdin: %v\n", err)
		os.Exit(1)
	}
	versions, err := load(in.CRDs)
	if err != nil {
		fmt.Fprintf(os.Stderr, "crdvalidate: %v\n", err)
		os.Exit(1)
	}
	results := make([][]problem, 0, len(in.Objects))
	for i, raw := range in.Objects {
		// As the API server decodes: integers become int64, which the CEL rules' int types need.
		var obj map[string]interface{}
		if err := utiljson.Unmarshal(raw, &obj); err != nil {
			fmt.Fprintf(os.Stderr, "crdvalidate: object %d: %v\n", i, err)
			os.Exit(1)
		}
		results = append(results, validate(versions, obj))
	}
	if err := json.NewEncoder(os.Stdout).Encode(results); err != nil {
		fmt.Fprintf(os.Stderr, "crdvalidate: %v\n", err)
		os.Exit(1)
	}
}
