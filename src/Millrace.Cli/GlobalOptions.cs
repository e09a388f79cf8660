using System.CommandLine;

namespace Millrace.Cli;

/// <summary>Options every command understands; they override appsettings.json and environment variables.</summary>
internal static class GlobalOptions
{
    /// <summary>Where Redis is; wins over REDIS_ADDRS/REDIS_* and Millrace:Redis.</summary>
    public static readonly Option<string?> Redis = new("--redis")
    {
        Description = "Redis connection string, e.g. 127.0.0.1:6379,password=... (default: REDIS_MODE/REDIS_ADDRS/REDIS_MASTER_NAME/REDIS_PASSWORD, else Millrace:Redis, else 127.0.0.1:6379).",
        Recursive = true,
    };

    /// <summary>The key prefix (namespace); wins over Millrace:KeyPrefix.</summary>
    public static readonly Option<string?> Prefix = new("--prefix")
    {
        Description = "Key prefix (namespace) in Redis; queues under different prefixes never see each other (default: Millrace:KeyPrefix, else millrace).",
        Recursive = true,
    };

    /// <summary>The namespace (tenant) inside the prefix; wins over Millrace:Namespace.</summary>
    public static readonly Option<string?> Namespace = new("--namespace")
    {
        Description = "Namespace inside the key prefix: queues, limits, statistics and events of one namespace are apart from the others' (default: Millrace:Namespace).",
        Recursive = true,
    };

    /// <summary>Machine-readable output.</summary>
    public static readonly Option<bool> Json = new("--json")
    {
        Description = "Print JSON on stdout instead of tables and sentences (for scripts).",
        Recursive = true,
    };

    /// <summary>An extra settings file, read after the appsettings.json files.</summary>
    public static readonly Option<FileInfo?> Settings = new("--settings")
    {
        Description = "A JSON settings file read after appsettings.json (next to the program, then in the working directory) and before environment variables.",
        Recursive = true,
    };

    /// <summary>All of them, for the root command.</summary>
    public static IEnumerable<Option> All => [Redis, Prefix, Namespace, Json, Settings];
}
