using System.Diagnostics;

namespace Millrace.Redis.Tests.Support;

/// <summary>
/// Where the test topologies are. They are started by <c>deploy/redis/topology.sh</c> (the README's
/// test command does it first); when a test finds them down it runs the script itself, once.
/// Addresses can be overridden with MILLRACE_TEST_* variables.
/// </summary>
public static class RedisTopology
{
    private static readonly SemaphoreSlim StartGate = new(1, 1);
    private static readonly HashSet<string> Started = [];

    public static string StateDirectory => Environment.GetEnvironmentVariable("MILLRACE_REDIS_DIR") ?? "/tmp/millrace-redis";

    public static RedisEndpoint Standalone => Endpoint("MILLRACE_TEST_STANDALONE", "127.0.0.1:6390");
    public static RedisEndpoint Acl => Endpoint("MILLRACE_TEST_ACL", "127.0.0.1:6391");
    public static RedisEndpoint Tls => Endpoint("MILLRACE_TEST_TLS", "127.0.0.1:6392");
    public static string TlsCaFile => Path.Combine(StateDirectory, "tls", "tls", "ca.crt");
    public const string AclUser = "millrace";
    public const string AclPassword = "millrace-secret";
    public const string MasterName = "millrace-master";
    public static IReadOnlyList<RedisEndpoint> Sentinels { get; } = [new("127.0.0.1", 26400), new("127.0.0.1", 26401), new("127.0.0.1", 26402)];
    public static IReadOnlyList<RedisEndpoint> ClusterSeeds { get; } = [new("127.0.0.1", 7000), new("127.0.0.1", 7001), new("127.0.0.1", 7002)];

    public static async Task<RedisOptions> StandaloneOptionsAsync(RedisProtocol protocol = RedisProtocol.Resp2)
    {
        await EnsureAsync("standalone").ConfigureAwait(false);
        var options = new RedisOptions { Protocol = protocol, ClientName = "millrace-tests" };
        options.Endpoints.Add(Standalone);
        return options;
    }

    public static async Task<IRedisClient> ConnectStandaloneAsync(RedisProtocol protocol = RedisProtocol.Resp2) =>
        await RedisClient.ConnectAsync(await StandaloneOptionsAsync(protocol).ConfigureAwait(false)).ConfigureAwait(false);

    public static async Task<RedisOptions> AclOptionsAsync(string? password = AclPassword)
    {
        await EnsureAsync("acl").ConfigureAwait(false);
        var options = new RedisOptions { User = AclUser, Password = password };
        options.Endpoints.Add(Acl);
        return options;
    }

    public static async Task<RedisOptions> TlsOptionsAsync()
    {
        await EnsureAsync("tls").ConfigureAwait(false);
        var options = new RedisOptions { Tls = true, TlsCaFile = TlsCaFile };
        options.Endpoints.Add(Tls);
        return options;
    }

    public static async Task<RedisOptions> SentinelOptionsAsync()
    {
        await EnsureAsync("sentinel").ConfigureAwait(false);
        var options = new RedisOptions { Mode = RedisMode.Sentinel, MasterName = MasterName };
        foreach (var sentinel in Sentinels)
        {
            options.Endpoints.Add(sentinel);
        }

        return options;
    }

    public static async Task<RedisOptions> ClusterOptionsAsync()
    {
        await EnsureAsync("cluster").ConfigureAwait(false);
        var options = new RedisOptions { Mode = RedisMode.Cluster };
        foreach (var seed in ClusterSeeds)
        {
            options.Endpoints.Add(seed);
        }

        return options;
    }

    /// <summary>Runs the project's script to start a topology, once per test run, unless it already answers.</summary>
    public static async Task EnsureAsync(string name)
    {
        await StartGate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (!Started.Add(name))
            {
                return;
            }

            await RunScriptAsync("start", name).ConfigureAwait(false);
        }
        finally
        {
            StartGate.Release();
        }
    }

    public static async Task RunScriptAsync(params string[] args)
    {
        var script = Path.Combine(RepositoryRoot, "deploy", "redis", "topology.sh");
        var start = new ProcessStartInfo("bash") { RedirectStandardError = true, RedirectStandardOutput = true };
        start.ArgumentList.Add(script);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().ConfigureAwait(false);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"topology.sh {string.Join(' ', args)} failed ({process.ExitCode}): {await stderr.ConfigureAwait(false)}{await stdout.ConfigureAwait(false)}");
        }
    }

    public static string RepositoryRoot
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Millrace.slnx")))
            {
                dir = dir.Parent;
            }

            return dir?.FullName ?? throw new InvalidOperationException("Cannot find the repository root (Millrace.slnx) above " + AppContext.BaseDirectory);
        }
    }

    private static RedisEndpoint Endpoint(string variable, string fallback) =>
        RedisEndpoint.Parse(Environment.GetEnvironmentVariable(variable) ?? fallback);
}
