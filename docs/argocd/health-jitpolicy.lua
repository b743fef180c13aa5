-- Argo CD health check for jit.drawbridge.dev/JitPolicy
-- (argocd-cm: resource.customizations.health.jit.drawbridge.dev_JitPolicy). Follows the kstatus
-- conventions the operator writes: a generation not yet observed or Reconciling=True is
-- Progressing, Stalled=True (PriorityConflict, a target out of scope or unresolvable, an invalid
-- spec, a rule Azure refused) is Degraded, Ready=True is Healthy.
local hs = { status = "Progressing", message = "Waiting for the drawbridge operator" }
if obj.status == nil then
  return hs
end
local generation = obj.metadata.generation
if generation ~= nil and obj.status.observedGeneration ~= generation then
  hs.message = "Waiting for the operator to observe generation " .. tostring(generation)
  return hs
end
local ready = nil
for _, c in ipairs(obj.status.conditions or {}) do
  if c.type == "Stalled" and c.status == "True" then
    return { status = "Degraded", message = c.reason .. ": " .. c.message }
  end
  if c.type == "Reconciling" and c.status == "True" then
    hs.message = c.reason .. ": " .. c.message
    return hs
  end
  if c.type == "Ready" then
    ready = c
  end
end
if ready ~= nil and ready.status == "True" then
  return { status = "Healthy", message = ready.message }
end
if ready ~= nil then
  hs.message = ready.reason .. ": " .. ready.message
end
return hs
