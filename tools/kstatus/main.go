// kstatus: reads Kubernetes objects as JSON on stdin (one object, or a list of them) and prints,
// for each, the status the kstatus library computes: {"status": "Current", "message": "..."}.
package main

import (
	"encoding/json"
	"fmt"
	"os"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
)

type result struct {
	Status  string `json:"status"`
	Message string `json:"message"`
}

func main() {
	var raw json.RawMessage
	if err := json.NewDecoder(os.Stdin).Decode(&raw); err != nil {
		fmt.Fprintf(os.Stderr, "kstatus: reading stdin: %v\n", err)
		os.Exit(1)
	}
	var objects []map[string]interface{}
	// As the API server decodes: integers as int64, which kstatus compares generations with.
	if err := utiljson.Unmarshal(raw, &objects); err != nil {
		var one map[string]interface{}
		if err := utiljson.Unmarshal(raw, &one); err != nil {
			fmt.Fprintf(os.Stderr, "kstatus: stdin is neither an object nor a list: %v\n", err)
			os.Exit(1)
		}
		objects = []map[string]interface{}{one}
	}
	out := make([]result, 0, len(objects))
	for _, o := range objects {
		r, err := status.Compute(&unstructured.Unstructured{Object: o})
		if err != nil {
			fmt.Fprintf(os.Stderr, "kstatus: %v\n", err)
			os.Exit(1)
		}
		out = append(out, result{Status: r.Status.String(), Message: r.Message})
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		os.Exit(1)
	}
}
