import { AuthDecision } from "../../model/types.ts";
import * as reasons from "../../model/reasons.ts";
import { decisionFieldsJson } from "../../audit/record-bytes.ts";
import { APPROVAL_STATUS_MARKER, APPROVER_MARKER, REDEEMED_REASON_MARKER } from "../../audit/outcome-records.ts";
import { luaConcat, luaString } from "./lua-text.ts";
import { ANSWER, OUTCOME_CODE } from "./outcome-codes.ts";
import { APPROVAL_READ, redeemChunk } from "./approval-scripts.ts";

/**
 * Lua scripts of the Redis store. Each runs atomically and counts as one
 * command (one round trip). Times come from the caller (the engine's clock),
 * so expiry decisions agree with the memory store; TTLs only reclaim memory.
 */

/** Shared helpers: hash/record conversion, index maintenance and the glob matcher. */
const PRELUDE = `
local function tomap(flat)
  local m = {}
  for i = 1, #flat, 2 do m[flat[i]] = flat[i + 1] end
  return m
end

local function index_add(key, score, member, ttl)
  redis.call('ZADD', key, score, member)
  local current = redis.call('PTTL', key)
  if current < ttl then redis.call('PEXPIRE', key, ttl) end
end

local function charlen(s, i)
  local b = string.byte(s, i)
  if b == nil then return 0 end
  if b < 0x80 then return 1 elseif b < 0xE0 then return 2 elseif b < 0xF0 then return 3 end
  return 4
end

local function codepoint(s, i, len)
  local b1 = string.byte(s, i)
  if len == 1 then return b1 end
  local b2 = string.byte(s, i + 1) % 0x40
  if len == 2 then return (b1 % 0x20) * 0x40 + b2 end
  local b3 = string.byte(s, i + 2) % 0x40
  if len == 3 then return (b1 % 0x10) * 0x1000 + b2 * 0x40 + b3 end
  return (b1 % 0x08) * 0x40000 + b2 * 0x1000 + b3 * 0x40 + string.byte(s, i + 3) % 0x40
end

-- Token steps taken by glob (read by GLOB_CHECK).
local glob_steps = 0

-- Whether class token t ({'c', negated, lo, hi, ...}) accepts code point cp.
local function class_ok(t, cp)
  local hit = false
  for r = 3, #t, 2 do
    if cp >= t[r] and cp <= t[r + 1] then hit = true break end
  end
  return hit ~= (t[2] == 1)
end

-- Where segment g (tokens between stars) matching at byte i ends (exclusive, never beyond e + 1), or nil.
-- Tokens: {'l', text} {'a'} {'c', negated, lo, hi, ...}; each matches a fixed number of code points.
local function seg_verify(g, s, i, e)
  for k = 1, #g do
    glob_steps = glob_steps + 1
    local t = g[k]
    if t[1] == 'l' then
      local j = i + #t[2]
      if j > e + 1 or string.sub(s, i, j - 1) ~= t[2] then return nil end
      i = j
    else
      if i > e then return nil end
      local len = charlen(s, i)
      if t[1] == 'c' and not class_ok(t, codepoint(s, i, len)) then return nil end
      i = i + len
    end
  end
  return i
end

-- The byte index count code points before j, or nil when that is before floor.
local function glob_back(s, j, count, floor)
  for _ = 1, count do
    glob_steps = glob_steps + 1
    if j <= floor then return nil end
    j = j - 1
    while j > floor do
      local b = string.byte(s, j)
      if b < 0x80 or b >= 0xC0 then break end
      j = j - 1
    end
  end
  return j
end

-- Whole-string glob match (Python fnmatch on code points) of a program from glob-program.ts:
-- true, false, or nil when only the engine can tell. The program is cut at its stars into
-- segments: the first must match at the start, the last (of fixed width in code points) at the
-- end, each middle one at its leftmost place after the previous one. A middle segment of literal
-- text is found by a native substring search; one holding a wildcard (? or a class) would need a
-- search stepped character by character in the script, which no decision may hold Redis for:
-- the script answers nil (after the cheap checks of the first and last segments and of the
-- literal middles before it), and the engine matches the pattern itself (see RESOLVE). Every
-- answer costs a number of steps bounded by the program's tokens, plus native searches.
local function glob(program, s)
  local segs, cur = {}, {}
  for k = 1, #program do
    local t = program[k]
    if t[1] == 'n' then return false end
    if t[1] == 's' then
      segs[#segs + 1], cur = cur, {}
    else
      cur[#cur + 1] = t
    end
  end
  segs[#segs + 1] = cur
  local n = #s
  local at = seg_verify(segs[1], s, 1, n)
  if not at then return false end
  if #segs == 1 then return at == n + 1 end
  local last = segs[#segs]
  local width = 0
  for k = 1, #last do
    local t = last[k]
    if t[1] == 'l' then
      local _, count = string.gsub(t[2], '[^\\128-\\191]', '')
      width = width + count
    else
      width = width + 1
    end
  end
  local tail = glob_back(s, n + 1, width, at)
  if not tail or seg_verify(last, s, tail, n) ~= n + 1 then return false end
  local e = tail - 1
  for k = 2, #segs - 1 do
    local g = segs[k]
    glob_steps = glob_steps + 1
    if #g > 0 then
      if #g > 1 or g[1][1] ~= 'l' then return nil end
      local a = string.find(s, g[1][2], at, true)
      if not a or a + #g[1][2] - 1 > e then return false end
      at = a + #g[1][2]
    end
  end
  return true
end
`;

/**
 * KEYS: record, all-index, by-agent index, by-user index.
 * ARGV: id, now, expires, then field/value pairs of the hash.
 * Creates the record with TTL = remaining lifetime and indexes it.
 */
export const CREATE = `${PRELUDE}
-- ARGV: id, now, expires, the record's own time (its place in the indexes), then the fields.
local now, expires, at = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local ttl = expires - now
if ttl <= 0 then return 0 end
local fields = {}
for i = 5, #ARGV do fields[#fields + 1] = ARGV[i] end
redis.call('HSET', KEYS[1], unpack(fields))
redis.call('PEXPIRE', KEYS[1], ttl)
for i = 2, #KEYS do index_add(KEYS[i], at, ARGV[1], ttl) end
return 1
`;

/**
 * A delegation's creation within its pair's budget of delegated actions
 * (limits.max_delegated_patterns). KEYS: record, then its indexes, the last
 * being the (agent, user) grants index. ARGV: id, now, expires, grant time,
 * delegation key base, the budget, the record's own count, then the fields
 * (among them `n`, the count). Sums the counts of the pair's active
 * delegations (a record without `n` counts its actions), dropping from the
 * grants index the ids no decision can use again (expired, revoked), so the
 * index holds little more than the budget. Returns {1, total} when stored,
 * {0, total} when the total would exceed the budget (nothing written).
 */
export const CREATE_WITHIN = `${PRELUDE}
local now, expires, at = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local grants, total = KEYS[#KEYS], tonumber(ARGV[7])
for _, id in ipairs(redis.call('ZRANGE', grants, 0, -1)) do
  local d = redis.call('HMGET', ARGV[5] .. id, 'expires', 'revoked', 'n', 'actions')
  if not d[1] or d[2] or tonumber(d[1]) <= now then
    redis.call('ZREM', grants, id)
  else
    total = total + (tonumber(d[3]) or math.max(1, #cjson.decode(d[4])))
  end
end
if total > tonumber(ARGV[6]) then return {0, total} end
local ttl = expires - now
if ttl > 0 then
  local fields = {}
  for i = 8, #ARGV do fields[#fields + 1] = ARGV[i] end
  redis.call('HSET', KEYS[1], unpack(fields))
  redis.call('PEXPIRE', KEYS[1], ttl)
  for i = 2, #KEYS do index_add(KEYS[i], at, ARGV[1], ttl) end
end
return {1, total}
`;

/** KEYS: record. ARGV: now. The hash, or nil when missing or expired. */
export const GET = `
local flat = redis.call('HGETALL', KEYS[1])
if #flat == 0 then return nil end
for i = 1, #flat, 2 do
  if flat[i] == 'expires' and tonumber(flat[i + 1]) <= tonumber(ARGV[1]) then return nil end
end
return flat
`;

/** KEYS: record. ARGV: now. Returns {status, hash} with status revoked | already_revoked | not_found. */
export const REVOKE = `${PRELUDE}
local flat = redis.call('HGETALL', KEYS[1])
if #flat == 0 then return {'not_found'} end
local r = tomap(flat)
if tonumber(r.expires) <= tonumber(ARGV[1]) then return {'not_found'} end
if r.revoked then return {'already_revoked', flat} end
redis.call('HSET', KEYS[1], 'revoked', ARGV[1])
return {'revoked', redis.call('HGETALL', KEYS[1])}
`;

/**
 * One bounded step of a listing. KEYS: index. ARGV: record key base (e.g.
 * "{p}:s:"), now, agent field name, agent filter, user field name, user
 * filter, include revoked (1/0), the position to continue after (its score
 * and member; "" and "" for the start), records wanted, members to look at
 * at most. Index members are read in order (score, then member) from just
 * after the position, found again by rank, or by score when that member has
 * gone. Returns {next score, next member, id, hash, id, hash, ...}: the
 * position of the last member looked at ("" and "" when the index is done),
 * then the matching records; removes members whose record expired.
 */
export const LIST = `
local now = tonumber(ARGV[2])
local afterScore, afterId = ARGV[8], ARGV[9]
local limit, budget = tonumber(ARGV[10]), tonumber(ARGV[11])
local start = 0
if afterScore ~= '' then
  afterScore = tonumber(afterScore)
  local rank = redis.call('ZRANK', KEYS[1], afterId)
  if rank and tonumber(redis.call('ZSCORE', KEYS[1], afterId)) == afterScore then
    start = rank + 1
  else
    start = redis.call('ZCOUNT', KEYS[1], '-inf', '(' .. ARGV[8])
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
      local flat = redis.call('HGETALL', ARGV[1] .. id)
      if #flat == 0 then
        stale[#stale + 1] = id
      else
        local r = {}
        for j = 1, #flat, 2 do r[flat[j]] = flat[j + 1] end
        if tonumber(r.expires) > now
          and (ARGV[4] == '' or r[ARGV[3]] == ARGV[4])
          and (ARGV[6] == '' or r[ARGV[5]] == ARGV[6])
          and (ARGV[7] == '1' or not r.revoked) then
          out[#out + 1] = id
          out[#out + 1] = flat
          found = found + 1
          if found >= limit then break end
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
 * The decisions' state step: every decision waiting at that moment, in one
 * call. KEYS: audit stream, then for each decision its session key (or the
 * "none" key), its grants index and its approval task key (or "none"). ARGV:
 * now, delegation key base, stream max length, then 20 fields per decision: session named (1, or 2 when a
 * scoped session demands a request scope — sessions.require_scope — else 0), agent, user,
 * scope, action, delegations wanted (1/0), record (1/0), the record's line as
 * it reads when no grant applies, the byte offsets where its decision fields
 * start and end, the decision fields for when a grant allows, and the
 * approval redemption (binding digest — "" when no approval was presented —
 * and the tier ranks to redeem with a grant and without; see redeemChunk),
 * and, to record a decision that presented an approval: the redeemed
 * decision's fields with a grant and without (its reason a marker the script
 * replaces with the reason built from reasons.approvedBy), the redeemed
 * event's line and the expired event's line (see OutcomeRecords.approval; the
 * record line and the redeemed event hold markers for the approver and the
 * status, replaced here), then the engine's answers for the patterns only it
 * can match (see glob), or "" for none: the session scope's and the
 * delegations' (see ANSWER).
 * A decision that needs the engine's answers is not decided: it gets "m" and
 * the JSON of [the session's scope pattern or "", [delegation id, its actions
 * (JSON), …]], nothing is recorded or redeemed, and the engine sends it again
 * with the answers.
 * A decision that presented an approval gets {outcome, use}; the others one
 * string: "" (ok, no grant), "g" grant id "\x1f" grantor,
 * "i" (invalid session), "a" expected agent, "u" expected user, "s" session
 * scope (outside it), "r" session scope (a request scope is required). Records are appended in the order of the decisions; after a failed
 * session check the line's decision fields become the denial's. The reasons
 * and the denial's fields are generated from the engine's own builders
 * (model/reasons.ts, audit/record-bytes.ts), so they match word for word.
 */
export const RESOLVE = `${PRELUDE}${APPROVAL_READ}
local now, base, maxlen = tonumber(ARGV[1]), ARGV[2], ARGV[3]

local function esc(s)
  return (string.gsub(string.sub(cjson.encode(s), 2, -2), '\\\\/', '/'))
end

local function splice(s, marker, text)
  local i, j = string.find(s, marker, 1, true)
  if not i then return s end
  return string.sub(s, 1, i - 1) .. text .. string.sub(s, j + 1)
end

-- The patterns of this decision only the engine can match (see glob): the session's scope, and
-- delegation ids each followed by its actions (JSON).
local asked_scope, asked = '', {}
-- The engine's answers for a decision that carries none (read, never written).
local no_answers = {}

-- Whether scope is inside the session's scope pattern (program: its compiled form), or, when only
-- the engine can tell, what the engine answered: hint is "1" or "0" followed by the pattern it
-- matched. Without an answer, the pattern is asked for and the scope taken as inside for now
-- (the decision is not answered on this call).
local function inside(pattern, program, scope, hint)
  if hint ~= '' and string.sub(hint, 2) == pattern then return string.sub(hint, 1, 1) == '1' end
  local m = glob(cjson.decode(program), scope)
  if m ~= nil then return m end
  asked_scope = pattern
  return true
end

local function resolve(skey, gkey, akey, a, o)
  local agent, user, scope, action = a[o + 1], a[o + 2], a[o + 3], a[o + 4]
  local result, reason = '', ''
  asked_scope, asked = '', {}
  if a[o] ~= '0' then
    local s = redis.call('HMGET', skey, 'agent', 'user', 'scope', 'expires', 'revoked', 'glob')
    if not s[1] or s[5] or tonumber(s[4]) <= now then
      result, reason = ${luaString(OUTCOME_CODE.sessionInvalid)}, ${luaString(reasons.INVALID_SESSION)}
    elseif s[1] ~= agent then
      result = ${luaString(OUTCOME_CODE.agentMismatch)} .. s[1]
      reason = ${luaConcat(reasons.sessionAgentMismatch, "s[1]", "agent")}
    elseif s[2] ~= '' and s[2] ~= user then
      result = ${luaString(OUTCOME_CODE.userMismatch)} .. s[2]
      reason = ${luaConcat(reasons.sessionUserMismatch, "s[2]", "user")}
    elseif s[3] ~= '' and scope ~= '' and not inside(s[3], s[6], scope, a[o + 18]) then
      result = ${luaString(OUTCOME_CODE.scopeOutside)} .. s[3]
      reason = ${luaConcat(reasons.scopeOutsideSession, "scope", "s[3]")}
    elseif s[3] ~= '' and scope == '' and a[o] == '2' then
      result = ${luaString(OUTCOME_CODE.scopeRequired)} .. s[3]
      reason = ${luaConcat(reasons.sessionScopeRequired, "s[3]")}
    end
  end
  if result == '' and a[o + 5] == '1' then
    local known = no_answers
    if a[o + 19] ~= '' then
      known = {}
      for hid, v in string.gmatch(a[o + 19], ${luaString(`([^${ANSWER.separator}${ANSWER.end}]+)${ANSWER.separator}([01])${ANSWER.end}`)}) do known[hid] = v end
    end
    for _, id in ipairs(redis.call('ZRANGE', gkey, 0, -1)) do
      local d = redis.call('HMGET', base .. id, 'expires', 'revoked', 'globs', 'from')
      if not d[1] then
        redis.call('ZREM', gkey, id)
      elseif not d[2] and tonumber(d[1]) > now then
        local hit = known[id] == '1'
        if not known[id] then
          local open = false
          for _, program in ipairs(cjson.decode(d[3])) do
            local m = glob(program, action)
            if m then hit = true break end
            if m == nil then open = true end
          end
          if not hit and open then
            asked[#asked + 1] = id
            asked[#asked + 1] = redis.call('HGET', base .. id, 'actions')
          end
        end
        -- The grant is the first delegation that covers the action: when one before it was left
        -- to the engine, the decision waits for the engine's answers (below).
        if hit then result = ${luaString(OUTCOME_CODE.grant)} .. id .. ${luaString(OUTCOME_CODE.separator)} .. d[4] break end
      end
    end
  end
  if asked_scope ~= '' or #asked > 0 then return ${luaString(OUTCOME_CODE.engine)} .. cjson.encode({asked_scope, asked}) end
  local use, granted, by, tid, left = nil, false, '', '', 0
  if a[o + 11] ~= '' then
    local binding, rank_grant, rank_none = a[o + 11], a[o + 12], a[o + 13]
    use = ''${redeemChunk(OUTCOME_CODE.grant, luaString)}
  end
  if a[o + 6] == '1' then
    local line = a[o + 7]
    local part = nil
    if result ~= '' then
      if reason ~= '' then
        part = ${denialFields("reason")}
      else
        part = a[o + 10]
      end
    end
    local redeemed = use and string.sub(use, 1, 1) == 'r'
    if use then
      local status = ''
      if redeemed then
        part = a[o + 15]
        if granted then part = a[o + 14] end
        part = splice(part, ${luaString(REDEEMED_REASON_MARKER)}, ${luaConcat(reasons.approvedBy, "esc(by)", "esc(tid)")})
        line = splice(line, ${luaString(APPROVER_MARKER)}, esc(by))
      else
        line = splice(line, ${luaString(APPROVER_MARKER)}, '')
        if use ~= 'k' then status = string.sub(use, 2) end
      end
      line = splice(line, ${luaString(APPROVAL_STATUS_MARKER)}, status)
    end
    if part then
      line = string.sub(line, 1, tonumber(a[o + 8])) .. part .. string.sub(line, tonumber(a[o + 9]) + 1)
    end
    redis.call('XADD', KEYS[1], 'MAXLEN', '~', maxlen, '*', 'r', line)
    if redeemed then
      local status = 'approved'
      if left <= 0 then status = 'used' end
      local event = splice(splice(a[o + 16], ${luaString(APPROVER_MARKER)}, esc(by)), ${luaString(APPROVER_MARKER)}, esc(by))
      redis.call('XADD', KEYS[1], 'MAXLEN', '~', maxlen, '*', 'r', splice(event, ${luaString(APPROVAL_STATUS_MARKER)}, status))
    elseif use and string.sub(use, 1, 1) == 'X' and a[o + 17] ~= '' then
      redis.call('XADD', KEYS[1], 'MAXLEN', '~', maxlen, '*', 'r', a[o + 17])
    end
  end
  if use then return {result, use} end
  return result
end

local out = {}
local n = (#ARGV - 3) / 20
for i = 0, n - 1 do
  out[i + 1] = resolve(KEYS[2 + 3 * i], KEYS[3 + 3 * i], KEYS[4 + 3 * i], ARGV, 4 + 20 * i)
end
return out
`;

/** KEYS: audit stream. ARGV: max length, then lines. Appends each; returns their stream ids. */
export const APPEND = `
local ids = {}
for i = 2, #ARGV do
  ids[#ids + 1] = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'r', ARGV[i])
end
return ids
`;

/**
 * ARGV: program, text, program, text, … Returns 1/0 (or -1: only the engine
 * can tell) and the matcher's token steps per pair (tests the matcher and its
 * cost against the engine's).
 */
export const GLOB_CHECK = `${PRELUDE}
local out = {}
for i = 1, #ARGV, 2 do
  glob_steps = 0
  local m = glob(cjson.decode(ARGV[i]), ARGV[i + 1])
  if m == nil then out[#out + 1] = -1 elseif m then out[#out + 1] = 1 else out[#out + 1] = 0 end
  out[#out + 1] = glob_steps
end
return out
`;

/**
 * The Lua expression for a denial's decision fields with the reason held by
 * the Lua variable `reason`: the engine's encoder run on a marker reason, the
 * marker replaced by the reason as JSON (cjson writes "/" as "\\/", which is
 * undone so the bytes match the engine's).
 */
function denialFields(reason: string): string {
  const marker = "REASON-7f3a9c";
  const fields = decisionFieldsJson(new AuthDecision(false, "autonomous", marker, false, "", 0, "", ""));
  const [head, tail] = fields.split(JSON.stringify(marker));
  if (head === undefined || tail === undefined) throw new Error("denial fields: the reason marker is missing");
  return `${luaString(head)} .. (string.gsub(cjson.encode(${reason}), '\\\\/', '/')) .. ${luaString(tail)}`;
}
