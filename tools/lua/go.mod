// Build-only module: gopher-lua, the Lua engine Argo CD runs resource health checks in, as a
// helper that tests the health checks in docs/ on objects the operator wrote.
module drawbridge.dev/tools/lua

go 1.24.0

require github.com/yuin/gopher-lua v1.1.2
