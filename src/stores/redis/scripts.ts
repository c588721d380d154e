/**
 * Applies one request's change to a session hash (fields: `m` meta, `f` flash keys, `d:<key>` one JSON value
 * per data key). Answers 0 ('gone') for a session that is not stored, or that holds something other than a
 * hash, unless the change creates it; a replacing change starts from an empty hash.
 * ARGV: create, meta, expireAt, flash changed, aged flash keys, flashed keys (JSON arrays of strings), replace,
 * number of keys set, then key/JSON pairs, then removed keys.
 */
export const applyScript = `
local key = KEYS[1]
local stored = redis.call('TYPE', key)['ok']
if stored ~= 'hash' then
  if ARGV[1] == '0' then return 0 end
  if stored ~= 'none' then redis.call('DEL', key) end
elseif ARGV[7] == '1' then
  redis.call('DEL', key)
end
local count = tonumber(ARGV[8])
local i = 9
for _ = 1, count do
  redis.call('HSET', key, 'd:' .. ARGV[i], ARGV[i + 1])
  i = i + 2
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
