-- resume-rolling-update = `kubectl eds unpause-rolling-update`.
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
annotations()[prefix .. "rolling-update-paused"] = nil
return obj
