namespace Millrace.Redis;

/// <summary>
/// A command to send: its name, its arguments and, for Cluster routing, which argument is the key.
/// </summary>
/// <example>
/// <code>
/// var reply = await redis.ExecuteAsync(new RedisCommand("XLEN", ["orders"], keyIndex: 0));
/// </code>
/// </example>
public sealed class RedisCommand
{
    /// <summary>Creates a command.</summary>
    /// <param name="name">The command name, e.g. <c>XADD</c>.</param>
    /// <param name="args">The arguments after the name.</param>
    /// <param name="keyIndex">The index in <paramref name="args"/> of the key that routes the command on Cluster, or -1 for none.</param>
    public RedisCommand(string name, RedisArg[] args, int keyIndex = -1)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(args);
        if (keyIndex >= args.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(keyIndex), keyIndex, $"{name} has {args.Length} arguments; key index {keyIndex} is past them.");
        }

        Name = name;
        Args = args;
        KeyIndex = keyIndex;
    }

    /// <summary>The command name.</summary>
    public string Name { get; }

    /// <summary>The arguments after the name.</summary>
    public RedisArg[] Args { get; }

    /// <summary>The index of the routing key in <see cref="Args"/>, or -1.</summary>
    public int KeyIndex { get; }

    /// <summary>The routing key, when the command has one.</summary>
    public RedisArg? Key => KeyIndex >= 0 ? (RedisArg?)Args[KeyIndex] : null;

    /// <summary>Set on EVALSHA commands so a NOSCRIPT reply can be answered by sending the script's source.</summary>
    internal RedisScript? Script { get; init; }

    /// <summary>A short description for error messages (name and first argument; never values).</summary>
    public override string ToString() => Args.Length > 0 && Args[0].Kind == RedisArg.ArgKind.Text && Args[0].Text.Length <= 32
        ? $"{Name} {Args[0].Text}"
        : Name;
}
