using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Millrace.Redis.Tests.Support;

namespace Millrace.Server.Tests.Support;

/// <summary>
/// A server with an in-process consumer of queue "orders": type "ok" succeeds, type "fail" always
/// throws (no retries, so it is dead-lettered at once), type "flaky" fails on its first attempt only
/// (no retries: the first attempt dead-letters it; a requeued one succeeds).
/// </summary>
public sealed class Scenario : IAsyncDisposable
{
    public const string Queue = "orders";

    private Scenario(ServerHost server, ConcurrentDictionary<string, int> handled)
    {
        Server = server;
        Handled = handled;
    }

    public ServerHost Server { get; }

    /// <summary>Successful handler runs by message id.</summary>
    public ConcurrentDictionary<string, int> Handled { get; }

    public static async Task<Scenario> StartAsync(IDictionary<string, string?>? settings = null, bool withKeys = true)
    {
        var handled = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        var flakyFailed = new ConcurrentDictionary<string, bool>(StringComparer.Ordinal);
        var server = await ServerHost.StartAsync(m =>
        {
            m.Services.Configure<MillraceOptions>(o =>
            {
                o.Retry = RetryPolicy.None;
                o.TaskState.Enabled = true;
            });
            m.AddQueue(Queue).AddConsumer(Queue, c => c.BlockFor = TimeSpan.FromMilliseconds(200));
            m.AddHandler("ok", (ctx, _) =>
            {
                handled.AddOrUpdate(ctx.Message.Id, 1, (_, n) => n + 1);
                return Task.CompletedTask;
            });
            m.AddHandler("fail", (ctx, _) => throw new InvalidOperationException($"always fails ({ctx.Message.Id})"));
            m.AddHandler("flaky", (ctx, _) =>
            {
                if (flakyFailed.TryAdd(ctx.Message.Id, true))
                {
                    throw new InvalidOperationException("fails the first time");
                }

                handled.AddOrUpdate(ctx.Message.Id, 1, (_, n) => n + 1);
                return Task.CompletedTask;
            });
        }, settings, withKeys);
        return new Scenario(server, handled);
    }

    public Task<string> PublishAsync(string type, string payload = "{}") => PublishAsync(Server.Publisher, type, payload);

    public static async Task<string> PublishAsync(IMessagePublisher publisher, string type, string payload = "{}")
    {
        var result = await publisher.PublishAsync(new OutgoingMessage { Queue = Queue, Type = type, Payload = System.Text.Encoding.UTF8.GetBytes(payload) });
        return result.MessageId;
    }

    /// <summary>Publishes a "fail" message and waits until it is in the dead-letter queue; returns its dead-letter id.</summary>
    public async Task<string> DeadLetterAsync(string type = "fail")
    {
        var id = await PublishAsync(type);
        var letters = await Eventually.GetAsync(
            () => Server.MillraceAdmin.DeadLettersAsync(Queue, 100),
            l => l.Any(d => d.MessageId == id),
            TimeSpan.FromSeconds(15),
            $"message {id} in the dead-letter queue");
        return letters.First(d => d.MessageId == id).Id;
    }

    public ValueTask DisposeAsync() => Server.DisposeAsync();
}
