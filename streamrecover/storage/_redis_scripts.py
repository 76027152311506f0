"""The Lua scripts and the URL rules of the Redis storage (see :mod:`streamrecover.storage.redis`).

Each script runs atomically on the server: no other command runs between its
first read and its last write, which is what makes an append, a rewind, a
create or a cleanup one transaction without a round trip per step.

Keys of one record (``<p>`` is the prefix): ``<p>r:<id>`` a hash with the
record's fields, ``<p>l:<id>`` a Redis Stream, its log; and ``<p>index``, a
sorted set of every record id scored by ``updated_at``.

Stream entry ids encode log offsets: the entry at offset ``n`` has id ``n-0``
and a field ``t`` (text) or ``r`` (rewind length). A status change adds a
marker ``n-k`` (``k`` >= 1, from the hash's ``mseq`` counter, field ``m``)
that wakes a blocked ``XREAD`` but is no log entry. Numbers passed to Lua are
below 2**53, so Lua's doubles hold them exactly.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from streamrecover.storage.errors import StorageURLError

__all__ = [
    "APPEND",
    "CLEANUP_ONE",
    "CREATE",
    "DEFAULT_PREFIX",
    "DEFAULT_TTL",
    "DELETE",
    "TRUNCATE",
    "RedisURL",
    "parse_redis_url",
]

#: Key prefix when the URL gives none.
DEFAULT_PREFIX = "streamrecover:"
#: Seconds a stopped record (not ``active``) lives without an update: the
#: registry's default cleanup TTL.
DEFAULT_TTL = 1800

# Re-applies the record's TTL when it is stopped (status not 'active');
# KEYS[1] hash, KEYS[2] log; ttl in seconds, 0 for none.
_EXPIRE_IF_STOPPED = """
local function expire_if_stopped(status, ttl)
  if status ~= 'active' and tonumber(ttl) > 0 then
    redis.call('EXPIRE', KEYS[1], ttl)
    redis.call('EXPIRE', KEYS[2], ttl)
  end
end
"""

#: KEYS hash, log, index; ARGV id, head, body, state, status, updated_at,
#: text_length, ttl, epoch, chunk... Returns 1, or 0 if the record exists.
CREATE = _EXPIRE_IF_STOPPED + """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('DEL', KEYS[2])
local count = #ARGV - 9
for i = 1, count do
  redis.call('XADD', KEYS[2], i .. '-0', 't', ARGV[9 + i])
end
redis.call('HSET', KEYS[1], 'head', ARGV[2], 'body', ARGV[3], 'state', ARGV[4],
           'status', ARGV[5], 'updated_at', ARGV[6], 'text_length', ARGV[7],
           'end', count, 'mseq', 0, 'epoch', ARGV[9])
redis.call('ZADD', KEYS[3], ARGV[6], ARGV[1])
expire_if_stopped(ARGV[5], ARGV[8])
return 1
"""

#: KEYS hash, log, index; ARGV id, piece, piece length in characters, now, ttl,
#: epoch ('' for an unfenced write), doubt ('' or the log's end offset before
#: an earlier append of this writer whose reply was lost). Returns {1, end
#: offset}, {-1} for an unknown id, {-4, stored epoch} for a stale writer.
#:
#: The doubt makes a retried append idempotent: the retry carries the lost
#: append's text at its front (the checkpointer keeps a failed batch and adds
#: to it), so whatever text entries follow the doubt offset, when they are a
#: prefix of the piece, were that lost append: only the rest is appended.
APPEND = _EXPIRE_IF_STOPPED + """
local meta = redis.call('HMGET', KEYS[1], 'end', 'text_length', 'status', 'epoch')
if not meta[1] then return {-1} end
if ARGV[6] ~= '' and ARGV[6] ~= meta[4] then return {-4, tonumber(meta[4])} end
local last = tonumber(meta[1])
local piece, chars = ARGV[2], tonumber(ARGV[3])
if ARGV[7] ~= '' and piece ~= '' and last > tonumber(ARGV[7]) then
  local applied, plain = {}, true
  for _, entry in ipairs(redis.call('XRANGE', KEYS[2], (tonumber(ARGV[7]) + 1) .. '-0', '+')) do
    if string.sub(entry[1], -2) == '-0' then
      if entry[2][1] == 't' then table.insert(applied, entry[2][2]) else plain = false end
    end
  end
  local done = table.concat(applied)
  if plain and #done <= #piece and string.sub(piece, 1, #done) == done then
    piece = string.sub(piece, #done + 1)
    local _, count = string.gsub(piece, '[^\\128-\\191]', '')
    chars = count
  end
end
if piece ~= '' then
  last = last + 1
  redis.call('XADD', KEYS[2], last .. '-0', 't', piece)
  redis.call('HSET', KEYS[1], 'end', last, 'text_length', tonumber(meta[2]) + chars,
             'updated_at', ARGV[4])
else
  redis.call('HSET', KEYS[1], 'updated_at', ARGV[4])
end
redis.call('ZADD', KEYS[3], ARGV[4], ARGV[1])
expire_if_stopped(meta[3], ARGV[5])
return {1, last}
"""

#: KEYS hash, log, index; ARGV id, length, now, ttl, epoch ('' for unfenced).
#: Returns {1, end offset}, {-1} for an unknown id, {-4, stored epoch} for a stale writer,
#: {-3, current length} for a length beyond the text.
TRUNCATE = _EXPIRE_IF_STOPPED + """
local meta = redis.call('HMGET', KEYS[1], 'end', 'text_length', 'status', 'epoch')
if not meta[1] then return {-1} end
if ARGV[5] ~= '' and ARGV[5] ~= meta[4] then return {-4, tonumber(meta[4])} end
if tonumber(ARGV[2]) > tonumber(meta[2]) then return {-3, tonumber(meta[2])} end
local last = tonumber(meta[1]) + 1
redis.call('XADD', KEYS[2], last .. '-0', 'r', ARGV[2])
redis.call('HSET', KEYS[1], 'end', last, 'text_length', ARGV[2], 'updated_at', ARGV[3])
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[1])
expire_if_stopped(meta[3], ARGV[4])
return {1, last}
"""

#: KEYS hash, log, index; ARGV id. Returns 1 if the record existed.
DELETE = """
local existed = redis.call('DEL', KEYS[1])
redis.call('DEL', KEYS[2])
redis.call('ZREM', KEYS[3], ARGV[1])
return existed
"""

#: KEYS hash, log, index; ARGV id, cutoff. Deletes the record if it was not
#: updated since ``cutoff`` (checked here, so a concurrent append saves it).
#: Returns 1 if deleted; an id whose hash expired is dropped from the index.
CLEANUP_ONE = """
local updated = redis.call('HGET', KEYS[1], 'updated_at')
if not updated then
  redis.call('DEL', KEYS[2])
  redis.call('ZREM', KEYS[3], ARGV[1])
  return 0
end
if tonumber(updated) < tonumber(ARGV[2]) then
  redis.call('DEL', KEYS[1])
  redis.call('DEL', KEYS[2])
  redis.call('ZREM', KEYS[3], ARGV[1])
  return 1
end
redis.call('ZADD', KEYS[3], updated, ARGV[1])
return 0
"""


class RedisURL:
    """A parsed ``redis://`` or ``rediss://`` storage URL.

    ``connection_url`` is what redis-py connects with (credentials included:
    it is used and dropped, never stored by the storage); ``location`` is
    ``host:port/db`` without credentials, for messages and ``repr``.
    """

    __slots__ = ("connection_url", "location", "prefix", "ttl")

    def __init__(self, connection_url: str, location: str, prefix: str, ttl: int) -> None:
        self.connection_url = connection_url
        self.location = location
        self.prefix = prefix
        self.ttl = ttl

    def __repr__(self) -> str:
        return f"RedisURL({self.location!r}, prefix={self.prefix!r}, ttl={self.ttl})"


# Query parameters redis-py reads from a URL that a storage URL may carry.
_PASSED_THROUGH = frozenset({
    "socket_timeout", "socket_connect_timeout", "ssl_cert_reqs", "ssl_ca_certs",
    "ssl_check_hostname", "health_check_interval", "client_name",
})


def parse_redis_url(url: str) -> RedisURL:
    """Parse ``redis[s]://[user:password@]host[:port][/db][?prefix=app1:&ttl=3600]``.

    ``prefix`` (default ``streamrecover:``) begins every key, so several
    applications share a server; ``ttl`` is how long a stopped record lives
    without an update, in seconds (default 1800; 0 keeps it until ``cleanup``).
    Raises StorageURLError (whose message never quotes a password) for another
    scheme, a bad port, db, prefix or ttl, or an unknown query parameter.
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise StorageURLError(f"a malformed Redis URL: {exc}") from None
    scheme = parts.scheme.lower()
    host = parts.hostname or "localhost"
    if scheme not in ("redis", "rediss"):
        raise StorageURLError(f"expected a redis:// or rediss:// URL, got a {scheme!r} URL")
    database = parts.path.lstrip("/") or "0"
    if not database.isdigit():
        raise StorageURLError(f"the database of a Redis URL is a number, got {database!r}")
    if parts.fragment:
        raise StorageURLError("a Redis storage URL takes no fragment")
    prefix, ttl_text, passed = DEFAULT_PREFIX, str(DEFAULT_TTL), []
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        if name == "prefix":
            prefix = value
        elif name == "ttl":
            ttl_text = value
        elif name in _PASSED_THROUGH:
            passed.append((name, value))
        else:
            raise StorageURLError(
                f"unknown Redis storage URL parameter {name!r}; known: prefix, ttl, "
                + ", ".join(sorted(_PASSED_THROUGH))
            )
    if not prefix or not prefix.isprintable() or any(char.isspace() for char in prefix):
        raise StorageURLError(f"a Redis key prefix is printable with no spaces, got {prefix!r}")
    if not ttl_text.isdigit():
        raise StorageURLError(f"ttl is a whole number of seconds >= 0, got {ttl_text!r}")
    connection_url = urlunsplit(
        (scheme, parts.netloc, f"/{int(database)}", urlencode(passed), "")
    )
    location = f"{scheme}://{host}:{port or 6379}/{int(database)}"
    return RedisURL(connection_url, location, prefix, int(ttl_text))
