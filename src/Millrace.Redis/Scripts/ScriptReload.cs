using Millrace.Redis.Connections;

namespace Millrace.Redis;

/// <summary>
/// EVALSHA meets NOSCRIPT after a restart, a failover or SCRIPT FLUSH. A single command is answered
/// by sending the same call as EVAL. In a batch, resending afterwards would reorder the script
/// against the commands after it, so scripts a connection has not loaded yet are loaded at the head
/// of the same write (SCRIPT LOAD, one round trip); the resend remains for a flush mid-life.
/// </summary>
internal static class ScriptReload
{
    /// <summary>Sends a batch on <paramref name="connection"/>, loading first any script it has not loaded yet.</summary>
    public static async Task<RedisReply[]> SendBatchAsync(RedisConnection connection, IReadOnlyList<RedisCommand> commands, CancellationToken cancellationToken)
    {
        List<RedisScript>? toLoad = null;
        foreach (var command in commands)
        {
            if (command.Script is { } script && !connection.LoadedScripts.ContainsKey(script.Sha1) && !(toLoad?.Contains(script) ?? false))
            {
                (toLoad ??= []).Add(script);
            }
        }

        if (toLoad is null)
        {
            return await connection.SendBatchAsync(commands, cancellationToken).ConfigureAwait(false);
        }

        var all = new List<RedisCommand>(toLoad.Count + commands.Count);
        all.AddRange(toLoad.Select(s => new RedisCommand("SCRIPT", ["LOAD", s.Source])));
        all.AddRange(commands);
        var replies = await connection.SendBatchAsync(all, cancellationToken).ConfigureAwait(false);
        for (var i = 0; i < toLoad.Count; i++)
        {
            if (!replies[i].IsError)
            {
                connection.LoadedScripts[toLoad[i].Sha1] = true;
            }
        }

        return replies[toLoad.Count..];
    }

    public static bool IsMissingScript(RedisServerException e, RedisCommand command) =>
        command.Script is not null && e.ErrorCode == "NOSCRIPT";

    public static bool IsMissingScript(RedisReply reply, RedisCommand command) =>
        command.Script is not null && reply.IsError && reply.AsString()!.StartsWith("NOSCRIPT", StringComparison.Ordinal);

    /// <summary>Resends, as EVAL, each command of a batch whose reply was NOSCRIPT, and puts the new reply in its place.</summary>
    public static async Task<RedisReply[]> ResendMissingAsync(
        IRedisClient client, IReadOnlyList<RedisCommand> commands, RedisReply[] replies, CancellationToken cancellationToken)
    {
        List<int>? missing = null;
        for (var i = 0; i < replies.Length; i++)
        {
            if (IsMissingScript(replies[i], commands[i]))
            {
                (missing ??= []).Add(i);
            }
        }

        if (missing is null)
        {
            return replies;
        }

        var resent = await client.ExecuteBatchAsync(missing.Select(i => commands[i].Script!.EvalFrom(commands[i])).ToArray(), cancellationToken).ConfigureAwait(false);
        for (var j = 0; j < missing.Count; j++)
        {
            replies[missing[j]] = resent[j];
        }

        return replies;
    }
}
