/**
 * Lua of the Redis approval tasks. A task is a hash whose fields are the
 * record's (ApprovalRecord) plus `keep` (when its history ends); its TTL is
 * `keep` minus now, so Redis drops it with no sweeper. Expiry is decided on
 * the engine's clock, passed in: a pending or approved task read at or after
 * `expiresAt` is stored `expired` by that very read, which says so (once).
 */

/**
 * `read(key, now)`: nil when the task is gone, else {hash, expired-now 0/1,
 * map of the fields before this read}. Shared by every approval script and
 * by the decisions' RESOLVE script.
 */
export const APPROVAL_READ = `
local function approval_read(key, now)
  local flat = redis.call('HGETALL', key)
  if #flat == 0 then return nil end
  local r = {}
  for i = 1, #flat, 2 do r[flat[i]] = flat[i + 1] end
  if now >= tonumber(r.keep) then return nil end
  if (r.status == 'pending' or r.status == 'approved') and now >= tonumber(r.expiresAt) then
    redis.call('HSET', key, 'status', 'expired')
    return {redis.call('HGETALL', key), 1, r}
  end
  return {flat, 0, r}
end

local function approval_extend(key, ttl)
  if ttl < 1 then ttl = 1 end
  local current = redis.call('PTTL', key)
  if current >= 0 and current < ttl then redis.call('PEXPIRE', key, ttl) end
end
`;

/**
 * KEYS: task, all-tasks index, idempotency key (or the "none" key), the
 * agent+user pending index. ARGV: id, now, max pending, created, keep, expires,
 * task key base, keyed (1 when KEYS[3] is an idempotency key, else 0), then
 * the hash's field/value pairs. Returns {'created'},
 * {'existing', expired-now, hash} or {'limit', pending count}.
 */
export const APPROVAL_CREATE = `${APPROVAL_READ}
local now, maxPending, created, keep, expires = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local keyed = ARGV[8] == '1'
if keyed then
  local existing = redis.call('GET', KEYS[3])
  if existing then
    local got = approval_read(ARGV[7] .. existing, now)
    if got then return {'existing', got[2], got[1]} end
  end
end
redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now)
local count = redis.call('ZCARD', KEYS[4])
if count >= maxPending then return {'limit', count} end
local fields = {}
for i = 9, #ARGV do fields[#fields + 1] = ARGV[i] end
local ttl = keep - now
redis.call('HSET', KEYS[1], unpack(fields))
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('ZADD', KEYS[2], created, ARGV[1])
approval_extend(KEYS[2], ttl)
if redis.call('PTTL', KEYS[2]) < 0 then redis.call('PEXPIRE', KEYS[2], ttl) end
redis.call('ZADD', KEYS[4], expires, ARGV[1])
redis.call('PEXPIRE', KEYS[4], math.max(expires - now, 1))
if keyed then redis.call('SET', KEYS[3], ARGV[1], 'PX', ttl) end
return {'created'}
`;

/** KEYS: task. ARGV: now. Returns nil or {expired-now, hash}. */
export const APPROVAL_GET = `${APPROVAL_READ}
local got = approval_read(KEYS[1], tonumber(ARGV[1]))
if not got then return nil end
return {got[2], got[1]}
`;

/**
 * KEYS: task, all-tasks index. ARGV: now, to (approved | denied |
 * cancelled), at, by, comment, grant end, pending index base. Returns
 * {'changed', 0, hash}, {'not_found'} or {'terminal', expired-now, hash}.
 */
export const APPROVAL_TRANSITION = `${APPROVAL_READ}
local now = tonumber(ARGV[1])
local got = approval_read(KEYS[1], now)
if not got then return {'not_found'} end
local r = got[3]
if got[2] == 1 or r.status ~= 'pending' then return {'terminal', got[2], got[1]} end
local expires = ARGV[3]
if ARGV[2] == 'approved' then expires = ARGV[6] end
local keep = tonumber(expires) + tonumber(r.historyMs)
redis.call('HSET', KEYS[1], 'status', ARGV[2], 'decidedAt', ARGV[3], 'decidedBy', ARGV[4], 'comment', ARGV[5], 'expiresAt', expires, 'keep', keep)
redis.call('PEXPIRE', KEYS[1], math.max(keep - now, 1))
approval_extend(KEYS[2], keep - now)
redis.call('ZREM', ARGV[7] .. string.len(r.agent) .. ':' .. r.agent .. r.user, r.id)
return {'changed', 0, redis.call('HGETALL', KEYS[1])}
`;

/**
 * One bounded step of a listing. KEYS: all-tasks index. ARGV: task key base,
 * now, status, agent, user filters ("" for any), position to continue after
 * (score and member, "" and "" for the start), tasks wanted, members to look
 * at at most. Returns {next score, next member, flag, hash, …} ("" and ""
 * when the index is done) where flag is 0 (a match), 1 (a match this read
 * made expire) or 3 (not a match, but this read made it expire: reported so
 * the expiry is recorded); removes members whose task is gone.
 */
export const APPROVAL_LIST = `${APPROVAL_READ}
local now = tonumber(ARGV[2])
local status, agent, user = ARGV[3], ARGV[4], ARGV[5]
local afterScore, afterId = ARGV[6], ARGV[7]
local limit, budget = tonumber(ARGV[8]), tonumber(ARGV[9])
local start = 0
if afterScore ~= '' then
  afterScore = tonumber(afterScore)
  local rank = redis.call('ZRANK', KEYS[1], afterId)
  if rank and tonumber(redis.call('ZSCORE', KEYS[1], afterId)) == afterScore then
    start = rank + 1
  else
    start = redis.call('ZCOUNT', KEYS[1], '-inf', '(' .. ARGV[6])
  end
end
local out = {'', ''}
local stale = {}
local looked, found, done = 0, 0, false
while looked < budget and found < limit do
  local n = math.min(100, budget - looked)
  local chunk = redis.call('ZRANGE', KEYS[1], start, start + n - 1, 'WITHSCORES')
  if #chunk == 0 then done = true break end
  for i = 1, #chunk, 2 do
    local id, score = chunk[i], chunk[i + 1]
    start = start + 1
    looked = looked + 1
    local s = tonumber(score)
    if afterScore == '' or s > afterScore or (s == afterScore and id > afterId) then
      out[1], out[2] = score, id
      local got = approval_read(ARGV[1] .. id, now)
      if not got then
        stale[#stale + 1] = id
      else
        local r = got[3]
        local st = r.status
        if got[2] == 1 then st = 'expired' end
        local match = (status == '' or st == status) and (agent == '' or r.agent == agent) and (user == '' or r.user == user)
        if match then
          out[#out + 1] = got[2]
          out[#out + 1] = got[1]
          found = found + 1
          if found >= limit then break end
        elseif got[2] == 1 then
          out[#out + 1] = 3
          out[#out + 1] = got[1]
        end
      end
    end
  end
end
if not done and start >= redis.call('ZCARD', KEYS[1]) then done = true end
if done then out[1], out[2] = '', '' end
if #stale > 0 then redis.call('ZREM', KEYS[1], unpack(stale)) end
return out
`;

/**
 * The redemption step of RESOLVE for one decision, as a Lua chunk run inside
 * its \`resolve\` function: \`result\` holds the session/grant outcome code,
 * \`akey\` the task key, \`binding\`, \`rank_grant\` and \`rank_none\` the
 * redemption's arguments. Sets \`use\`: "k" (not looked at), "x<status>" or
 * "X<status>" (unusable; X: this read made it expire), or
 * "r<uses left>\\x1f<approver>" (redeemed, one use spent); and \`granted\`,
 * and for a redemption \`by\` (the approver), \`tid\` (the task id) and
 * \`left\` (uses left), all declared by the caller.
 */
export function redeemChunk(grantCode: string, codeLiteral: (s: string) => string): string {
  return `
    granted = string.sub(result, 1, 1) == ${codeLiteral(grantCode)}
    if result ~= '' and not granted then
      use = 'k'
    else
      local rank = tonumber(rank_none)
      if granted then rank = tonumber(rank_grant) end
      if rank < 0 then
        use = 'k'
      else
        local got = approval_read(akey, now)
        if not got then
          use = 'xunknown'
        elseif got[2] == 1 then
          use = 'Xexpired'
        else
          local r = got[3]
          local tier_rank = 1
          if r.tier == 'strong' then tier_rank = 2 end
          if r.status ~= 'approved' then
            use = 'x' .. r.status
          elseif r.binding ~= binding or rank > tier_rank then
            use = 'xmismatch'
          else
            left = tonumber(r.usesLeft) - 1
            by, tid = r.decidedBy, r.id
            if left > 0 then
              redis.call('HSET', akey, 'usesLeft', left)
            else
              local keep = now + tonumber(r.historyMs)
              redis.call('HSET', akey, 'usesLeft', 0, 'status', 'used', 'expiresAt', now, 'keep', keep)
              redis.call('PEXPIRE', akey, math.max(keep - now, 1))
            end
            use = 'r' .. left .. '\\031' .. r.decidedBy
          end
        end
      end
    end`;
}
