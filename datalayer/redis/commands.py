"""Redis's command names and ACL categories, as data: ACL rules in the spec are checked here.

Taken from the redis-server that Debian 13 ships (8.0.2-3+deb13u2) in a sandbox droplet::

    apt-get install redis-server
    redis-cli COMMAND LIST      # lower-cased; subcommands as 'container|subcommand'
    redis-cli ACL CAT

The upper-case V* commands Redis lists are the built-in vectorset module's; they are kept here
lower-cased like the rest, since Redis matches command names in any case. Refresh this file
(same commands) when the droplets move to another Redis release.
"""

REDIS_VERSION = "8.0.2"
"""The redis-server release these lists were read from."""

ACL_CATEGORIES = frozenset(
    {
        "keyspace", "read", "write", "set", "sortedset", "list", "hash", "string", "bitmap",
        "hyperloglog", "geo", "stream", "pubsub", "admin", "fast", "slow", "blocking",
        "dangerous", "connection", "transaction", "scripting",
    }
)  # fmt: skip
"""``ACL CAT``: the categories an ACL rule can name as ``+@category`` or ``-@category``."""

COMMANDS = frozenset(
    {
        "acl", "acl|cat", "acl|deluser", "acl|dryrun", "acl|genpass", "acl|getuser",
        "acl|help", "acl|list", "acl|load", "acl|log", "acl|save", "acl|setuser",
        "acl|users", "acl|whoami", "append", "asking", "auth", "bgrewriteaof", "bgsave",
        "bitcount", "bitfield", "bitfield_ro", "bitop", "bitpos", "blmove", "blmpop",
        "blpop", "brpop", "brpoplpush", "bzmpop", "bzpopmax", "bzpopmin", "client",
        "client|caching", "client|getname", "client|getredir", "client|help", "client|id",
        "client|info", "client|kill", "client|list", "client|no-evict", "client|no-touch",
        "client|pause", "client|reply", "client|setinfo", "client|setname",
        "client|tracking", "client|trackinginfo", "client|unblock", "client|unpause",
        "cluster", "cluster|addslots", "cluster|addslotsrange", "cluster|bumpepoch",
        "cluster|count-failure-reports", "cluster|countkeysinslot", "cluster|delslots",
        "cluster|delslotsrange", "cluster|failover", "cluster|flushslots", "cluster|forget",
        "cluster|getkeysinslot", "cluster|help", "cluster|info", "cluster|keyslot",
        "cluster|links", "cluster|meet", "cluster|myid", "cluster|myshardid",
        "cluster|nodes", "cluster|replicas", "cluster|replicate", "cluster|reset",
        "cluster|saveconfig", "cluster|set-config-epoch", "cluster|setslot",
        "cluster|shards", "cluster|slaves", "cluster|slots", "command", "command|count",
        "command|docs", "command|getkeys", "command|getkeysandflags", "command|help",
        "command|info", "command|list", "config", "config|get", "config|help",
        "config|resetstat", "config|rewrite", "config|set", "copy", "dbsize", "debug",
        "decr", "decrby", "del", "discard", "dump", "echo", "eval", "eval_ro", "evalsha",
        "evalsha_ro", "exec", "exists", "expire", "expireat", "expiretime", "failover",
        "fcall", "fcall_ro", "flushall", "flushdb", "function", "function|delete",
        "function|dump", "function|flush", "function|help", "function|kill",
        "function|list", "function|load", "function|restore", "function|stats", "geoadd",
        "geodist", "geohash", "geopos", "georadius", "georadius_ro", "georadiusbymember",
        "georadiusbymember_ro", "geosearch", "geosearchstore", "get", "getbit", "getdel",
        "getex", "getrange", "getset", "hdel", "hello", "hexists", "hexpire", "hexpireat",
        "hexpiretime", "hget", "hgetall", "hgetdel", "hgetex", "hincrby", "hincrbyfloat",
        "hkeys", "hlen", "hmget", "hmset", "hpersist", "hpexpire", "hpexpireat",
        "hpexpiretime", "hpttl", "hrandfield", "hscan", "hset", "hsetex", "hsetnx",
        "hstrlen", "httl", "hvals", "incr", "incrby", "incrbyfloat", "info", "keys",
        "lastsave", "latency", "latency|doctor", "latency|graph", "latency|help",
        "latency|histogram", "latency|history", "latency|latest", "latency|reset", "lcs",
        "lindex", "linsert", "llen", "lmove", "lmpop", "lolwut", "lpop", "lpos", "lpush",
        "lpushx", "lrange", "lrem", "lset", "ltrim", "memory", "memory|doctor",
        "memory|help", "memory|malloc-stats", "memory|purge", "memory|stats",
        "memory|usage", "mget", "migrate", "module", "module|help", "module|list",
        "module|load", "module|loadex", "module|unload", "monitor", "move", "mset",
        "msetnx", "multi", "object", "object|encoding", "object|freq", "object|help",
        "object|idletime", "object|refcount", "persist", "pexpire", "pexpireat",
        "pexpiretime", "pfadd", "pfcount", "pfdebug", "pfmerge", "pfselftest", "ping",
        "psetex", "psubscribe", "psync", "pttl", "publish", "pubsub", "pubsub|channels",
        "pubsub|help", "pubsub|numpat", "pubsub|numsub", "pubsub|shardchannels",
        "pubsub|shardnumsub", "punsubscribe", "quit", "randomkey", "readonly", "readwrite",
        "rename", "renamenx", "replconf", "replicaof", "reset", "restore", "restore-asking",
        "role", "rpop", "rpoplpush", "rpush", "rpushx", "sadd", "save", "scan", "scard",
        "script", "script|debug", "script|exists", "script|flush", "script|help",
        "script|kill", "script|load", "sdiff", "sdiffstore", "select", "set", "setbit",
        "setex", "setnx", "setrange", "shutdown", "sinter", "sintercard", "sinterstore",
        "sismember", "slaveof", "slowlog", "slowlog|get", "slowlog|help", "slowlog|len",
        "slowlog|reset", "smembers", "smismember", "smove", "sort", "sort_ro", "spop",
        "spublish", "srandmember", "srem", "sscan", "ssubscribe", "strlen", "subscribe",
        "substr", "sunion", "sunionstore", "sunsubscribe", "swapdb", "sync", "time",
        "touch", "ttl", "type", "unlink", "unsubscribe", "unwatch", "vadd", "vcard", "vdim",
        "vemb", "vgetattr", "vinfo", "vismember", "vlinks", "vrandmember", "vrem",
        "vsetattr", "vsim", "wait", "waitaof", "watch", "xack", "xadd", "xautoclaim",
        "xclaim", "xdel", "xgroup", "xgroup|create", "xgroup|createconsumer",
        "xgroup|delconsumer", "xgroup|destroy", "xgroup|help", "xgroup|setid", "xinfo",
        "xinfo|consumers", "xinfo|groups", "xinfo|help", "xinfo|stream", "xlen", "xpending",
        "xrange", "xread", "xreadgroup", "xrevrange", "xsetid", "xtrim", "zadd", "zcard",
        "zcount", "zdiff", "zdiffstore", "zincrby", "zinter", "zintercard", "zinterstore",
        "zlexcount", "zmpop", "zmscore", "zpopmax", "zpopmin", "zrandmember", "zrange",
        "zrangebylex", "zrangebyscore", "zrangestore", "zrank", "zrem", "zremrangebylex",
        "zremrangebyrank", "zremrangebyscore", "zrevrange", "zrevrangebylex",
        "zrevrangebyscore", "zrevrank", "zscan", "zscore", "zunion", "zunionstore",
    }
)  # fmt: skip
"""``COMMAND LIST``: every command and ``container|subcommand`` an ACL rule can name."""
