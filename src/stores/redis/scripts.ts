/**
 * Applies one request's change to a session hash (fields: `m` meta, `f` flash keys, `d:<key>` one JSON value
 * per data key). Answers 0 ('gone') for a session that is not stored, or that holds something other than a
 * hash, unless the change creates it; a replacing change starts from an empty hash.
 * ARGV: create, meta, expireAt, flash changed, aged flash keys, flashed keys (JSON arrays of strings), replace,
 * number of keys set, number of ops, then key/JSON pairs, then op triples ('i', key, amount: an increment;
 * 'p', key, the items' JSON joined by commas: a push), then removed keys.
 * The ops' values are worked out before anything is written: an increment whose total is not a finite number
 * is an error, and the session is left as it was. Numbers are added as doubles, as JavaScript adds them, and
 * written as JSON that reads back as the same double (integers in full); pushed items are appended as text.
 */
export const applyScript = `
local key = KEYS[1]
local stored = redis.call('TYPE', key)['ok']
if stored ~= 'hash' and ARGV[1] == '0' then return 0 end
local fresh = stored ~= 'hash' or ARGV[7] == '1'
local count = tonumber(ARGV[8])
local opCount = tonumber(ARGV[9])
local function jsonNumber(n)
  if n ~= n or n == math.huge or n == -math.huge then return nil end
  if n == 0 then return '0' end
  if n == math.floor(n) and math.abs(n) < 9007199254740992 then return string.format('%.0f', n) end
  for precision = 15, 16 do
    local text = string.format('%.' .. precision .. 'g', n)
    if tonumber(text) == n then return text end
  end
  return string.format('%.17g', n)
end
local opValues = {}
local i = 10 + count * 2
for o = 1, opCount do
  local current = nil
  if not fresh then current = redis.call('HGET', key, 'd:' .. ARGV[i + 1]) end
  if ARGV[i] == 'i' then
    local start = 0
    if current and string.find(current, '^-?%d+%.?%d*[eE]?[-+]?%d*$') then start = tonumber(current) or 0 end
    local total = jsonNumber(start + tonumber(ARGV[i + 2]))
    if not total then
      return redis.error_reply('session key ' .. ARGV[i + 1] .. ' cannot be incremented beyond ' .. current)
    end
    opValues[o] = total
  elseif current and string.sub(current, 1, 1) == '[' and current ~= '[]' then
    opValues[o] = string.sub(current, 1, -2) .. ',' .. ARGV[i + 2] .. ']'
  else
    opValues[o] = '[' .. ARGV[i + 2] .. ']'
  end
  i = i + 3
end
if stored ~= 'hash' and stored ~= 'none' then redis.call('DEL', key) end
if stored == 'hash' and ARGV[7] == '1' then redis.call('DEL', key) end
i = 10
for _ = 1, count do
  redis.call('HSET', key, 'd:' .. ARGV[i], ARGV[i + 1])
  i = i + 2
end
for o = 1, opCount do
  redis.call('HSET', key, 'd:' .. ARGV[i + 1], opValues[o])
  i = i + 3
end
while i <= #ARGV do
  redis.call('HDEL', key, 'd:' .. ARGV[i])
  i = i + 1
end
redis.call('HSET', key, 'm', ARGV[2])
if ARGV[4] == '1' then
  local aged = {}
  for _, name in ipairs(cjson.decode(ARGV[5])) do aged[name] = true end
  local kept, seen = {}, {}
  local flash = redis.call('HGET', key, 'f')
  if flash then
    for _, name in ipairs(cjson.decode(flash)) do
      if not aged[name] and not seen[name] then kept[#kept + 1] = name; seen[name] = true end
    end
  end
  for _, name in ipairs(cjson.decode(ARGV[6])) do
    if not seen[name] then kept[#kept + 1] = name; seen[name] = true end
  end
  if #kept > 0 then redis.call('HSET', key, 'f', cjson.encode(kept)) else redis.call('HDEL', key, 'f') end
end
redis.call('PEXPIREAT', key, ARGV[3])
return 1
`;

/** Deletes a lock only if it still holds its owner's token. */
export const releaseLockScript =
  "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";
