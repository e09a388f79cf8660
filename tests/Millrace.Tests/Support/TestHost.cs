using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Millrace.Redis;
using Millrace.Redis.Tests.Support;

namespace Millrace.Tests.Support;

/// <summary>
/// A real generic host running Millrace against the test Redis, with a unique key prefix per test
/// (so tests run in parallel on one server).
/// </summary>
public sealed class TestHost : IAsyncDisposable
{
    private readonly IHost _host;

    private TestHost(IHost host, string prefix)
    {
        _host = host;
        Prefix = prefix;
    }

    public string Prefix { get; }

    public IServiceProvider Services => _host.Services;

    public IMessagePublisher Publisher => Services.GetRequiredService<IMessagePublisher>();

    public IRedisClient Redis => Services.GetRequiredService<IRedisClient>();

    public MillraceWorkers Workers => Services.GetRequiredService<MillraceWorkers>();

    public static async Task<TestHost> StartAsync(Action<MillraceBuilder> configure, string? prefix = null, RedisOptions? redis = null, bool start = true)
    {
        redis ??= await RedisTopology.StandaloneOptionsAsync();
        prefix ??= $"t{Guid.NewGuid():N}";
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.SetMinimumLevel(Microsoft.Extensions.Logging.LogLevel.Warning);
        var millrace = builder.Services.AddMillrace(o =>
        {
            o.RedisOptions = redis;
            o.KeyPrefix = prefix;
        });
        configure(millrace);
        var host = builder.Build();
        if (start)
        {
            await host.StartAsync();
        }

        return new TestHost(host, prefix);
    }

    public Task StartHostAsync() => _host.StartAsync();

    public Task StopAsync() => _host.StopAsync();

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
    }
}

/// <summary>Records what handlers saw, for assertions.</summary>
public sealed class Received
{
    private readonly ConcurrentQueue<MessageContext> _all = new();

    public int Count => _all.Count;

    public IReadOnlyList<MessageContext> All => _all.ToArray();

    public void Add(MessageContext context) => _all.Enqueue(context);

    public Task WaitForAsync(int count, TimeSpan? within = null) =>
        Eventually.GetAsync(() => Task.FromResult(Count), n => n >= count, within ?? TimeSpan.FromSeconds(15), $"{count} messages handled");
}
