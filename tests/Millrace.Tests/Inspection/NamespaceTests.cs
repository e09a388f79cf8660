using System.Collections.Concurrent;
using Millrace.Redis.Tests.Support;
using Millrace.Tests.Flow;
using Millrace.Tests.Support;
using Xunit.Abstractions;

namespace Millrace.Tests.Inspection;

/// <summary>
/// Namespaces isolate tenants that share a Redis and a key prefix: two hosts with the same KeyPrefix,
/// different <see cref="MillraceOptions.Namespace"/>, and the same queue name.
/// </summary>
public sealed class NamespaceTests(ITestOutputHelper output)
{
    private const string Queue = "orders";

    [Fact]
    public async Task Given_two_namespaces_with_the_same_queue_name_When_both_publish_and_consume_Then_neither_sees_the_others_messages_queues_limits_stats_or_workers()
    {
        var prefix = $"t{Guid.NewGuid():N}";
        var seenByAlpha = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        var seenByBeta = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        await using var alpha = await StartAsync(prefix, "alpha", seenByAlpha, extraQueue: "invoices");
        await using var beta = await StartAsync(prefix, "beta", seenByBeta);
        await using var plain = await TestHost.StartAsync(_ => { }, prefix);   // the same KeyPrefix, no namespace
        try
        {
            var alphaAdmin = alpha.Services.GetRequiredService<MillraceAdmin>();
            var betaAdmin = beta.Services.GetRequiredService<MillraceAdmin>();
            var plainAdmin = plain.Services.GetRequiredService<MillraceAdmin>();

            // Limits: alpha lets no handler of 'order' start; beta has no limit at all.
            await alphaAdmin.SetConcurrencyLimitAsync("order", 0);
            await alphaAdmin.SetRateLimitAsync(new RateLimit(RateLimitScope.Tenant, "acme", 5, 1));
            Assert.Empty(await betaAdmin.ConcurrencyLimitsAsync());
            Assert.Empty(await betaAdmin.RateLimitsAsync());
            Assert.Empty(await plainAdmin.ConcurrencyLimitsAsync());
            await Task.Delay(TimeSpan.FromSeconds(1));   // LimitsRefresh: alpha's consumer learns of its limit

            var alphaIds = await PublishAsync(alpha, 30);
            var betaIds = await PublishAsync(beta, 20);
            await Eventually.GetAsync(() => Task.FromResult(seenByBeta.Count), n => n == betaIds.Count, TimeSpan.FromSeconds(15), "beta's 20 messages handled by beta");
            Assert.Equal(betaIds.Order(StringComparer.Ordinal), seenByBeta.Keys.Order(StringComparer.Ordinal));
            Assert.Empty(seenByAlpha);   // alpha's limit of 0 held alpha's messages, and only alpha's
            Assert.Equal(30, (await alphaAdmin.QueueInfoAsync(Queue))!.Groups.Single().Pending + (await alphaAdmin.QueueInfoAsync(Queue))!.Groups.Single().Lag);

            // Queues.
            Assert.Equal(["invoices", Queue], await alphaAdmin.QueueNamesAsync());
            Assert.Equal([Queue], await betaAdmin.QueueNamesAsync());
            Assert.Empty(await plainAdmin.QueueNamesAsync());
            Assert.Null(await betaAdmin.QueueInfoAsync("invoices"));
            Assert.False(await betaAdmin.QueueExistsAsync("invoices"));
            Assert.Null(await plainAdmin.QueueInfoAsync(Queue));
            Assert.Equal(30, (await alphaAdmin.QueueInfoAsync(Queue))!.Length);
            Assert.Equal(20, (await betaAdmin.QueueInfoAsync(Queue))!.Length);

            // Workers: each namespace lists its own process only.
            var alphaWorkers = await alphaAdmin.WorkersAsync();
            var betaWorkers = await betaAdmin.WorkersAsync();
            Assert.Single(alphaWorkers);
            Assert.Single(betaWorkers);
            Assert.NotEqual(alphaWorkers[0].Id, betaWorkers[0].Id);
            Assert.Equal(["invoices", Queue], alphaWorkers[0].Queues.Order(StringComparer.Ordinal));
            Assert.Empty(await plainAdmin.WorkersAsync());

            // Releasing alpha's limit runs alpha's messages in alpha, never in beta.
            await alphaAdmin.SetConcurrencyLimitAsync("order", null);
            await Eventually.GetAsync(() => Task.FromResult(seenByAlpha.Count), n => n == alphaIds.Count, TimeSpan.FromSeconds(15), "alpha's 30 messages handled by alpha once its limit is removed");
            Assert.Equal(alphaIds.Order(StringComparer.Ordinal), seenByAlpha.Keys.Order(StringComparer.Ordinal));
            Assert.Equal(betaIds.Order(StringComparer.Ordinal), seenByBeta.Keys.Order(StringComparer.Ordinal));
            Assert.All(seenByAlpha.Concat(seenByBeta), s => Assert.Equal(1, s.Value));

            // Statistics: each namespace counts its own traffic.
            var alphaStats = await Eventually.GetAsync(() => SumAsync(alphaAdmin), s => s.Processed >= 30, TimeSpan.FromSeconds(10), "alpha's statistics to count 30 processed");
            var betaStats = await Eventually.GetAsync(() => SumAsync(betaAdmin), s => s.Processed >= 20, TimeSpan.FromSeconds(10), "beta's statistics to count 20 processed");
            output.WriteLine($"alpha stats: {alphaStats}; beta stats: {betaStats}");
            Assert.Equal((30L, 30L), (alphaStats.Published, alphaStats.Processed));
            Assert.Equal((20L, 20L), (betaStats.Published, betaStats.Processed));
            Assert.Equal((0L, 0L), await SumAsync(plainAdmin));
        }
        finally
        {
            await FlowKit.DeleteKeysAsync(plain.Redis, prefix);
        }
    }

    [Fact]
    public async Task Given_an_invalid_namespace_When_the_host_starts_Then_it_fails_naming_the_namespace()
    {
        var e = await Assert.ThrowsAnyAsync<Exception>(() => TestHost.StartAsync(m => m.Services.Configure<MillraceOptions>(o => o.Namespace = "has space")));
        output.WriteLine(e.Message);
        Assert.Contains("namespace", e.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("has space", e.Message, StringComparison.Ordinal);
    }

    private static Task<TestHost> StartAsync(string prefix, string ns, ConcurrentDictionary<string, int> seen, string? extraQueue = null) =>
        TestHost.StartAsync(
            m =>
            {
                m.Services.Configure<MillraceOptions>(o => o.Namespace = ns);
                m.AddConsumer(Queue, c => c.Concurrency = 4).AddHandler("order", (context, _) =>
                {
                    seen.AddOrUpdate(context.Message.Id, 1, (_, n) => n + 1);
                    return Task.CompletedTask;
                });
                if (extraQueue is not null)
                {
                    m.AddConsumer(extraQueue);
                }
            },
            prefix);

    private static async Task<IReadOnlyList<string>> PublishAsync(TestHost host, int count) =>
        [.. (await host.Publisher.PublishBatchAsync([.. Enumerable.Range(0, count).Select(i => new OutgoingMessage { Queue = Queue, Type = "order", Tenant = "acme", Payload = "o"u8.ToArray() })]))
            .Select(r => r.MessageId)];

    private static async Task<(long Published, long Processed)> SumAsync(MillraceAdmin admin)
    {
        var buckets = await admin.StatsAsync(Queue, 5);
        return (buckets.Sum(b => b.Published), buckets.Sum(b => b.Processed));
    }
}
