using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Millrace.Redis;
using Millrace.Redis.Tests.Support;
using Millrace.Tests.Flow;
using Millrace.Tests.Support;
using Xunit.Abstractions;

namespace Millrace.Tests.Hosting;

/// <summary>
/// services.AddMillrace(IConfiguration): the "Millrace" section and the seeds' REDIS_* variables, from an
/// in-memory configuration, onto a real host against the test Redis.
/// </summary>
public sealed class ConfigurationTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Given_a_Millrace_section_When_the_host_starts_Then_Redis_prefix_namespace_partitions_and_flow_settings_are_bound_and_used()
    {
        var prefix = $"t{Guid.NewGuid():N}";
        var handled = 0;
        using var host = Build(
            new()
            {
                ["Millrace:Redis"] = RedisTopology.Standalone.ToString(),
                ["Millrace:KeyPrefix"] = prefix,
                ["Millrace:Namespace"] = "cfg",
                ["Millrace:Queues:orders:Partitions"] = "3",
                ["Millrace:Flow:ConcurrencyLeaseTime"] = "00:00:07",
                ["Millrace:Flow:LimitsRefresh"] = "00:00:00.250",
                ["Millrace:MaxPayloadBytes"] = "1024",
            },
            m => m.AddConsumer("orders").AddHandler("order", (_, _) =>
            {
                Interlocked.Increment(ref handled);
                return Task.CompletedTask;
            }));
        await host.StartAsync();
        await using var plain = await TestHost.StartAsync(_ => { }, prefix);   // the same KeyPrefix, no namespace
        await using var sameNamespace = await TestHost.StartAsync(m => m.Services.Configure<MillraceOptions>(o => o.Namespace = "cfg"), prefix);
        try
        {
            var options = host.Services.GetRequiredService<IOptions<MillraceOptions>>().Value;
            Assert.Equal(prefix, options.KeyPrefix);
            Assert.Equal("cfg", options.Namespace);
            Assert.Equal(3, options.Queue("orders").Partitions);
            Assert.Equal(TimeSpan.FromSeconds(7), options.Flow.ConcurrencyLeaseTime);
            Assert.Equal(TimeSpan.FromMilliseconds(250), options.Flow.LimitsRefresh);
            Assert.Equal(1024, options.MaxPayloadBytes);
            Assert.Equal([RedisTopology.Standalone], options.ResolveRedis().Endpoints);

            // Used, not only bound: the queue lives in the namespace with 3 partitions, and messages flow through it.
            var publisher = host.Services.GetRequiredService<IMessagePublisher>();
            await publisher.PublishBatchAsync([.. Enumerable.Range(0, 9).Select(i => new OutgoingMessage { Queue = "orders", Type = "order", Payload = "o"u8.ToArray(), PartitionKey = $"k{i}" })]);
            await Eventually.GetAsync(() => Task.FromResult(Volatile.Read(ref handled)), n => n == 9, TimeSpan.FromSeconds(15), "the 9 messages handled");
            var info = await sameNamespace.Services.GetRequiredService<MillraceAdmin>().QueueInfoAsync("orders");
            Assert.Equal(3, info?.Partitions);
            Assert.Empty(await plain.Services.GetRequiredService<MillraceAdmin>().QueueNamesAsync());
            var tooBig = await Assert.ThrowsAnyAsync<Exception>(() => publisher.PublishAsync(new OutgoingMessage { Queue = "orders", Type = "order", Payload = new byte[2048] }));
            output.WriteLine($"a 2048-byte payload with MaxPayloadBytes 1024: {tooBig.Message}");
        }
        finally
        {
            await host.StopAsync();
            await FlowKit.DeleteKeysAsync(plain.Redis, prefix);
        }
    }

    [Fact]
    public async Task Given_REDIS_ADDRS_When_Millrace_Redis_is_also_set_Then_the_seed_variables_win()
    {
        var prefix = $"t{Guid.NewGuid():N}";
        using var host = Build(new()
        {
            ["Millrace:Redis"] = "127.0.0.1:1",   // nothing listens there: starting would fail if this were used
            ["Millrace:KeyPrefix"] = prefix,
            ["REDIS_ADDRS"] = RedisTopology.Standalone.ToString(),
            ["REDIS_MODE"] = "standalone",
        });
        await host.StartAsync();
        try
        {
            var redis = host.Services.GetRequiredService<IRedisClient>();
            Assert.Equal("PONG", (await redis.ExecuteAsync(new RedisCommand("PING", []))).AsString());
            var resolved = host.Services.GetRequiredService<IOptions<MillraceOptions>>().Value.ResolveRedis();
            Assert.Equal([RedisTopology.Standalone], resolved.Endpoints);
            Assert.Equal(RedisMode.Standalone, resolved.Mode);
        }
        finally
        {
            await host.StopAsync();
        }

        // REDIS_MODE and REDIS_MASTER_NAME are read as well (checked without connecting).
        var sentinel = Options(new()
        {
            ["REDIS_ADDRS"] = "127.0.0.1:26400,127.0.0.1:26401",
            ["REDIS_MODE"] = "sentinel",
            ["REDIS_MASTER_NAME"] = "mymaster",
            ["REDIS_DB"] = "2",
        }).ResolveRedis();
        Assert.Equal((RedisMode.Sentinel, "mymaster", 2, 2), (sentinel.Mode, sentinel.MasterName, sentinel.Database, sentinel.Endpoints.Count));
        Assert.Equal(RedisMode.Cluster, Options(new() { ["REDIS_ADDRS"] = "127.0.0.1:7000", ["REDIS_MODE"] = "cluster" }).ResolveRedis().Mode);
    }

    [Fact]
    public async Task Given_REDIS_PASSWORD_and_REDIS_USERNAME_When_the_server_requires_them_Then_the_host_authenticates_and_a_wrong_password_fails_at_start()
    {
        await RedisTopology.EnsureAsync("acl");
        var settings = new Dictionary<string, string?>
        {
            ["Millrace:KeyPrefix"] = $"t{Guid.NewGuid():N}",
            ["REDIS_ADDRS"] = RedisTopology.Acl.ToString(),
            ["REDIS_USERNAME"] = RedisTopology.AclUser,
            ["REDIS_PASSWORD"] = RedisTopology.AclPassword,
        };
        using (var host = Build(settings))
        {
            await host.StartAsync();
            Assert.Equal("PONG", (await host.Services.GetRequiredService<IRedisClient>().ExecuteAsync(new RedisCommand("PING", []))).AsString());
            await host.StopAsync();
        }

        settings["REDIS_PASSWORD"] = "not-the-password";
        using var wrong = Build(settings);
        var e = await Assert.ThrowsAnyAsync<Exception>(() => wrong.StartAsync());
        output.WriteLine($"wrong REDIS_PASSWORD: {e.GetType().Name}: {e.Message}");
        Assert.DoesNotContain("not-the-password", e.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Millrace:Queues:orders:Partitions", "0", "orders", "Partitions")]
    [InlineData("Millrace:Queues:orders:Partitions", "2000", "orders", "Partitions")]
    [InlineData("Millrace:MaxPayloadBytes", "big", "Millrace:MaxPayloadBytes", "big")]
    [InlineData("Millrace:Flow:ConcurrencyLeaseTime", "soon", "Millrace:Flow:ConcurrencyLeaseTime", "soon")]
    [InlineData("Millrace:Flow:ConcurrencyLeaseTime", "00:00:00.500", "Millrace:Flow:ConcurrencyLeaseTime", "ConcurrencyLeaseTime")]
    [InlineData("Millrace:KeyPrefix", "has space", "Millrace:KeyPrefix", "has space")]
    [InlineData("REDIS_MODE", "mesh", "mesh", "standalone, sentinel or cluster")]
    public async Task Given_an_invalid_setting_When_the_host_starts_Then_it_fails_with_a_message_naming_the_setting(string key, string value, string named, string alsoNamed)
    {
        using var host = Build(new()
        {
            ["Millrace:Redis"] = RedisTopology.Standalone.ToString(),
            ["Millrace:KeyPrefix"] = $"t{Guid.NewGuid():N}",
            ["REDIS_ADDRS"] = key.StartsWith("REDIS_", StringComparison.Ordinal) ? RedisTopology.Standalone.ToString() : null,
            [key] = value,
        });
        var e = await Assert.ThrowsAnyAsync<Exception>(() => host.StartAsync());
        var message = string.Join(" | ", Chain(e).Select(x => x.Message));
        output.WriteLine($"{key}={value}: {e.GetType().Name}: {message}");
        Assert.Contains(named, message, StringComparison.Ordinal);
        Assert.Contains(alsoNamed, message, StringComparison.Ordinal);
        if (named == "orders")
        {
            Assert.IsType<OptionsValidationException>(e);
            Assert.Contains(value, message, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("Millrace:Queues:orders:Partitions", "many")]
    [InlineData("Millrace:Queues:orders:MaxLength", "huge")]
    [InlineData("Millrace:RetryByType:mail:MaxAttempts", "lots")]
    public async Task Given_a_non_number_inside_a_per_queue_or_per_type_section_When_the_host_starts_Then_it_fails_naming_the_setting(string key, string value)
    {
        using var host = Build(new()
        {
            ["Millrace:Redis"] = RedisTopology.Standalone.ToString(),
            ["Millrace:KeyPrefix"] = $"t{Guid.NewGuid():N}",
            [key] = value,
        });
        Exception? failure = null;
        try
        {
            await host.StartAsync();
            await host.StopAsync();   // only a host that started can be stopped
        }
        catch (Exception e)
        {
            failure = e;
        }

        var options = host.Services.GetRequiredService<IOptions<MillraceOptions>>();
        var bound = failure is null
            ? $"the host started with queues [{string.Join(", ", options.Value.Queues.Select(q => $"{q.Key}: {q.Value.Partitions} partitions, MaxLength {q.Value.MaxLength}"))}], " +
              $"retry by type [{string.Join(", ", options.Value.RetryByType.Select(r => $"{r.Key}: {r.Value.MaxAttempts}"))}]"
            : string.Join(" | ", Chain(failure).Select(x => x.Message));
        output.WriteLine($"{key}={value}: {bound}");
        Assert.True(failure is not null && bound.Contains(key, StringComparison.Ordinal),
            $"Expected {key}={value} to stop the host at start with a message naming {key}, but {bound} " +
            "(the binder skips a dictionary entry whose value fails to convert, so the setting is silently dropped).");
    }

    [Fact]
    public void Given_a_Retry_section_When_it_is_bound_Then_the_options_get_it_and_RetryPolicy_Default_never_changes()
    {
        var defaults = (RetryPolicy.Default.MaxAttempts, RetryPolicy.Default.InitialDelay, RetryPolicy.Default.Jitter);
        var bound = Options(new()
        {
            ["Millrace:Retry:MaxAttempts"] = "2",
            ["Millrace:Retry:InitialDelay"] = "00:00:03",
            ["Millrace:Retry:Jitter"] = "0",
            ["Millrace:RetryByType:mail:MaxAttempts"] = "9",
        });
        Assert.Equal((2, TimeSpan.FromSeconds(3), 0.0), (bound.Retry.MaxAttempts, bound.Retry.InitialDelay, bound.Retry.Jitter));
        Assert.Equal(9, bound.RetryFor("mail").MaxAttempts);
        Assert.Equal(2, bound.RetryFor("other").MaxAttempts);
        Assert.NotSame(RetryPolicy.Default, bound.Retry);
        Assert.Equal(defaults, (RetryPolicy.Default.MaxAttempts, RetryPolicy.Default.InitialDelay, RetryPolicy.Default.Jitter));

        // A second host without a Retry section starts from the untouched default.
        var untouched = Options(new() { ["Millrace:KeyPrefix"] = "other" });
        Assert.Equal(defaults, (untouched.Retry.MaxAttempts, untouched.Retry.InitialDelay, untouched.Retry.Jitter));

        // A policy given in code before binding is not modified either.
        var mine = new RetryPolicy { MaxAttempts = 4 };
        var options = new MillraceOptions { Retry = mine };
        MillraceConfiguration.Bind(Configuration(new() { ["Millrace:Retry:MaxAttempts"] = "7" }), options);
        Assert.Equal((4, 7), (mine.MaxAttempts, options.Retry.MaxAttempts));
    }

    [Fact]
    public void Given_code_configuration_after_the_section_When_both_set_a_value_Then_code_wins()
    {
        var services = new ServiceCollection();
        services.AddMillrace(Configuration(new() { ["Millrace:KeyPrefix"] = "from-config", ["Millrace:Namespace"] = "a" }), o => o.Namespace = "b");
        using var provider = services.BuildServiceProvider();
        var options = provider.GetRequiredService<IOptions<MillraceOptions>>().Value;
        Assert.Equal(("from-config", "b"), (options.KeyPrefix, options.Namespace));
    }

    private static IConfiguration Configuration(Dictionary<string, string?> values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values.Where(v => v.Value is not null)).Build();

    private static MillraceOptions Options(Dictionary<string, string?> values)
    {
        var services = new ServiceCollection();
        services.AddMillrace(Configuration(values));
        using var provider = services.BuildServiceProvider();
        return provider.GetRequiredService<IOptions<MillraceOptions>>().Value;
    }

    private static IHost Build(Dictionary<string, string?> values, Action<MillraceBuilder>? configure = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        var millrace = builder.Services.AddMillrace(Configuration(values));
        configure?.Invoke(millrace);
        return builder.Build();
    }

    private static IEnumerable<Exception> Chain(Exception e)
    {
        for (Exception? x = e; x is not null; x = x.InnerException)
        {
            yield return x;
        }
    }
}
