using System.Security.Cryptography;
using System.Text;

namespace Millrace.Redis;

/// <summary>
/// A Lua script sent by EVALSHA, with its source at hand for the NOSCRIPT fallback. Every key the
/// script touches must be passed in <c>keys</c> (on Cluster they must share one hash tag).
/// </summary>
/// <example>
/// <code>
/// static readonly RedisScript IncrementIfExists = new("if redis.call('EXISTS', KEYS[1]) == 1 then return redis.call('INCR', KEYS[1]) end return nil");
/// var reply = await redis.EvalAsync(IncrementIfExists, ["counter"]);
/// </code>
/// </example>
public sealed class RedisScript
{
    /// <summary>Creates a script from its Lua source.</summary>
    public RedisScript(string source)
    {
        ArgumentException.ThrowIfNullOrEmpty(source);
        Source = source;
#pragma warning disable CA5350 // Redis names scripts by SHA1; this is an identifier, not security.
        Sha1 = Convert.ToHexStringLower(SHA1.HashData(Encoding.UTF8.GetBytes(source)));
#pragma warning restore CA5350
    }

    /// <summary>The Lua source.</summary>
    public string Source { get; }

    /// <summary>The SHA1 Redis knows the script by.</summary>
    public string Sha1 { get; }

    /// <summary>The EVALSHA command for these keys and arguments (for batches).</summary>
    public RedisCommand Command(IReadOnlyList<RedisArg> keys, IReadOnlyList<RedisArg>? args = null) =>
        new("EVALSHA", Arguments(Sha1, keys, args), keys.Count > 0 ? 2 : -1) { Script = this };

    /// <summary>The same call as EVAL with the full source.</summary>
    internal RedisCommand EvalFrom(RedisCommand evalSha)
    {
        var args = (RedisArg[])evalSha.Args.Clone();
        args[0] = Source;
        return new RedisCommand("EVAL", args, evalSha.KeyIndex);
    }

    private static RedisArg[] Arguments(string head, IReadOnlyList<RedisArg> keys, IReadOnlyList<RedisArg>? args)
    {
        var all = new RedisArg[2 + keys.Count + (args?.Count ?? 0)];
        all[0] = head;
        all[1] = keys.Count;
        for (var i = 0; i < keys.Count; i++)
        {
            all[2 + i] = keys[i];
        }

        for (var i = 0; i < (args?.Count ?? 0); i++)
        {
            all[2 + keys.Count + i] = args![i];
        }

        return all;
    }
}
