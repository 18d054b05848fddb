-- freeze-rollout = `kubectl eds freeze-rollout`.
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
annotations()[prefix .. "rollout-frozen"] = "true"
return obj
