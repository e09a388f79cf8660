using System.CommandLine;
using Millrace.Redis;

namespace Millrace.Cli;

/// <summary>Options every command understands.</summary>
internal static class GlobalOptions
{
    /// <summary>Where Redis is: a connection string; otherwise REDIS_ADDRS and friends; otherwise 127.0.0.1:6379.</summary>
    public static readonly Option<string?> Redis = new("--redis")
    {
        Description = "Redis connection string (e.g. 127.0.0.1:6379,password=...). Default: REDIS_MODE/REDIS_ADDRS/REDIS_MASTER_NAME/REDIS_PASSWORD, else 127.0.0.1:6379.",
        Recursive = true,
    };

    /// <summary>The Redis options the user asked for, from the flag, then the environment, then the default.</summary>
    public static RedisOptions RedisOptions(ParseResult parse)
    {
        var text = parse.GetValue(Redis);
        if (!string.IsNullOrWhiteSpace(text))
        {
            return Millrace.Redis.RedisOptions.Parse(text);
        }

        return Millrace.Redis.RedisOptions.FromEnvironment() ?? Millrace.Redis.RedisOptions.Parse("127.0.0.1:6379");
    }
}
