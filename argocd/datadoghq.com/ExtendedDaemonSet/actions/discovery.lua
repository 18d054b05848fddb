-- Actions on a datadoghq.com/ExtendedDaemonSet: the annotations `kubectl eds` writes.
-- promote = canary validate, pause/resume = canary pause/unpause, abort = canary fail, and the
-- rolling-update pause and freeze. There is no retry: a failed revision stays rejected until
-- the template changes (the controller never rewrites the spec, which Git owns).
local actions = {}
local status = obj.status or {}
local annotations = {}
if obj.metadata ~= nil and obj.metadata.annotations ~= nil then
  annotations = obj.metadata.annotations
end
local state = status.state or ""
local canary = nil
if status.canary ~= nil and status.canary.replicaSet ~= nil and status.canary.replicaSet ~= "" then
  canary = status.canary.replicaSet
end
local inCanary = canary ~= nil and (state == "Canary" or state == "Canary Paused")
local prefix = "extendeddaemonset.datadoghq.com/"

actions["promote"] = {["disabled"] = not inCanary}
actions["pause"] = {["disabled"] = not inCanary or state == "Canary Paused"}
actions["resume"] = {["disabled"] = not inCanary or state ~= "Canary Paused"}
actions["abort"] = {["disabled"] = not inCanary}
local paused = annotations[prefix .. "rolling-update-paused"] == "true"
local frozen = annotations[prefix .. "rollout-frozen"] == "true"
actions["pause-rolling-update"] = {["disabled"] = paused}
actions["resume-rolling-update"] = {["disabled"] = not paused}
actions["freeze-rollout"] = {["disabled"] = frozen}
actions["unfreeze-rollout"] = {["disabled"] = not frozen}
return actions
