-- Argo CD health of a datadoghq.com/ExtendedDaemonSet, from the status contract of
-- docs/status.md: only a failure a human must fix is Degraded (Stalled=True); a pause a user
-- asked for is Suspended; a rollout in progress is Progressing; Ready=True is Healthy.
-- Without kstatus conditions (upstream's controller) the health comes from status.state and
-- the counts. Every field may be missing: each access is guarded.
local hs = {}

local function condition(status, kind)
  if type(status.conditions) ~= "table" then
    return nil
  end
  for _, c in ipairs(status.conditions) do
    if type(c) == "table" and c.type == kind then
      return c
    end
  end
  return nil
end

local function holds(c)
  return c ~= nil and c.status == "True"
end

local function text(c, default)
  if c ~= nil and c.message ~= nil and c.message ~= "" then
    return tostring(c.message)
  end
  if c ~= nil and c.reason ~= nil and c.reason ~= "" then
    return tostring(c.reason)
  end
  return default
end

local suspendedReasons = {
  CanaryPausedByUser = true,
  RollingUpdatePaused = true,
  RolloutFrozen = true,
}

local status = obj.status
if type(status) ~= "table" then
  hs.status = "Progressing"
  hs.message = "Waiting for the controller to report a status"
  return hs
end

local generation = nil
if type(obj.metadata) == "table" then
  generation = tonumber(obj.metadata.generation)
end
local observed = tonumber(status.observedGeneration)
if generation ~= nil and observed ~= nil and observed < generation then
  hs.status = "Progressing"
  hs.message = "Waiting for the controller to observe generation " .. generation
  return hs
end

local stalled = condition(status, "Stalled")
if holds(stalled) then
  hs.status = "Degraded"
  hs.message = text(stalled, "Stalled")
  return hs
end

local ready = condition(status, "Ready")
if holds(ready) then
  hs.status = "Healthy"
  hs.message = text(ready, "Rollout complete")
  return hs
end

local reconciling = condition(status, "Reconciling")
if reconciling ~= nil then
  if holds(reconciling) and suspendedReasons[reconciling.reason] then
    hs.status = "Suspended"
  else
    hs.status = "Progressing"
  end
  hs.message = text(reconciling, "Rollout in progress")
  return hs
end

-- Upstream's controller: no kstatus conditions.
local state = tostring(status.state or "")
local reason = status.reason
local function withReason(message)
  if reason ~= nil and reason ~= "" then
    return message .. ": " .. tostring(reason)
  end
  return message
end
if state == "Canary Failed" then
  hs.status = "Degraded"
  hs.message = withReason("Canary failed")
  return hs
end
if state == "Canary Paused" then
  hs.status = "Suspended"
  hs.message = withReason("Canary paused")
  return hs
end
if state == "RollingUpdate Paused" or state == "Rollout frozen" then
  hs.status = "Suspended"
  hs.message = state
  return hs
end
local desired = tonumber(status.desired) or 0
local upToDate = tonumber(status.upToDate) or 0
local available = tonumber(status.available) or 0
if state == "Running" and upToDate >= desired and available >= desired then
  hs.status = "Healthy"
  hs.message = available .. "/" .. desired .. " nodes up to date and available"
  return hs
end
hs.status = "Progressing"
if state == "Canary" then
  hs.message = "Canary in progress"
else
  hs.message = upToDate .. "/" .. desired .. " nodes up to date, " .. available .. " available"
end
return hs
