// lua: runs an Argo CD resource health check (a Lua script that reads the global `obj` and returns
// a table {status, message}) on each Kubernetes object given as JSON on stdin (one object or a
// list), the way Argo CD does: gopher-lua, only the safe standard libraries, the object converted
// to Lua tables. Prints [{"status": "Healthy", "message": "..."}, ...].
package main

import (
	"encoding/json"
	"fmt"
	"os"

	lua "github.com/yuin/gopher-lua"
)

type result struct {
	Status  string `json:"status"`
	Message string `json:"message"`
}

func toLua(L *lua.LState, v interface{}) lua.LValue {
	switch x := v.(type) {
	case nil:
		return lua.LNil
	case bool:
		return lua.LBool(x)
	case float64:
		return lua.LNumber(x)
	case string:
		return lua.LString(x)
	case []interface{}:
		t := L.NewTable()
		for _, item := range x {
			t.Append(toLua(L, item))
		}
		return t
	case map[string]interface{}:
		t := L.NewTable()
		for k, item := range x {
			t.RawSetString(k, toLua(L, item))
		}
		return t
	}
	return lua.LNil
}

func run(script string, obj interface{}) (result, error) {
	L := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer L.Close()
	for _, lib := range []struct {
		name string
		fn   lua.LGFunction
	}{{lua.LoadLibName, lua.OpenPackage}, {lua.BaseLibName, lua.OpenBase}, {lua.TabLibName, lua.OpenTable}, {lua.StringLibName, lua.OpenString}, {lua.MathLibName, lua.OpenMath}} {
		if err := L.CallByParam(lua.P{Fn: L.NewFunction(lib.fn), NRet: 0, Protect: true}, lua.LString(lib.name)); err != nil {
			return result{}, err
		}
	}
	L.SetGlobal("obj", toLua(L, obj))
	if err := L.DoString(script); err != nil {
		return result{}, err
	}
	t, ok := L.Get(-1).(*lua.LTable)
	if !ok {
		return result{}, fmt.Errorf("the script returned %s, not a table", L.Get(-1).Type())
	}
	return result{Status: t.RawGetString("status").String(), Message: t.RawGetString("message").String()}, nil
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: lua <health.lua> < objects.json")
		os.Exit(2)
	}
	script, err := os.ReadFile(os.Args[1])
	if err != nil {
		fmt.Fprintf(os.Stderr, "lua: %v\n", err)
		os.Exit(1)
	}
	var in interface{}
	if err := json.NewDecoder(os.Stdin).Decode(&in); err != nil {
		fmt.Fprintf(os.Stderr, "lua: reading stdin: %v\n", err)
		os.Exit(1)
	}
	objects, isList := in.([]interface{})
	if !isList {
		objects = []interface{}{in}
	}
	out := make([]result, 0, len(objects))
	for i, o := range objects {
		r, err := run(string(script), o)
		if err != nil {
			fmt.Fprintf(os.Stderr, "lua: object %d: %v\n", i, err)
			os.Exit(1)
		}
		out = append(out, r)
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		os.Exit(1)
	}
}
