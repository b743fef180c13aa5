-- Argo CD health check for jit.drawbridge.dev/AccessRequest
-- (argocd-cm: resource.customizations.health.jit.drawbridge.dev_AccessRequest). Active is Healthy;
-- Expired, Revoked and Superseded are ends a request is meant to reach, also Healthy; Pending
-- (including waiting for approvers) is Progressing; Denied, Failed and TimedOut (Stalled=True) are
-- Degraded, with the operator's reason.
local hs = { status = "Progressing", message = "Waiting for the drawbridge operator" }
if obj.status == nil then
  return hs
end
local generation = obj.metadata.generation
if generation ~= nil and obj.status.observedGeneration ~= nil and obj.status.observedGeneration ~= generation then
  hs.message = "Waiting for the operator to observe generation " .. tostring(generation)
  return hs
end
local phase = obj.status.phase or "Pending"
local why = phase
if obj.status.reason ~= nil then
  why = phase .. " (" .. obj.status.reason .. ")"
end
if obj.status.message ~= nil then
  why = why .. ": " .. obj.status.message
end
if phase == "Denied" or phase == "Failed" or phase == "TimedOut" then
  return { status = "Degraded", message = why }
end
if phase == "Active" or phase == "Expired" or phase == "Revoked" or phase == "Superseded" then
  return { status = "Healthy", message = why }
end
hs.message = why
return hs
