-- promote = `kubectl eds canary validate`: canary-valid names the canary ERS.
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
annotations()[prefix .. "canary-valid"] = canary
return obj
