-- pause-rolling-update = `kubectl eds pause-rolling-update`.
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
annotations()[prefix .. "rolling-update-paused"] = "true"
return obj
