-- resume = `kubectl eds canary unpause`: canary-unpaused (it also overrides an auto-pause),
-- and drop the pause and its reason.
local function annotations()
  if obj.metadata == nil then
    obj.metadata = {}
  end
  if obj.metadata.annotations == nil then
    obj.metadata.annotations = {}
  end
  return obj.metadata.annotations
end
local prefix = "extendeddaemonset.datadoghq.com/"
local canary = nil
if obj.status ~= nil and obj.status.canary ~= nil then
  canary = obj.status.canary.replicaSet
end
if canary == nil or canary == "" then
  error("no canary in progress", 0)
end
local a = annotations()
a[prefix .. "canary-unpaused"] = "true"
a[prefix .. "canary-paused"] = nil
a[prefix .. "canary-paused-reason"] = nil
return obj
