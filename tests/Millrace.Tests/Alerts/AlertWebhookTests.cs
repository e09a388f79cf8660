using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Millrace.Redis.Tests.Support;
using Millrace.Tests.Support;

namespace Millrace.Tests.Alerts;

/// <summary>
/// Threshold alerts reach a real HTTP listener on loopback: fired once when the threshold is crossed,
/// resolved once when it clears, and sent again when the webhook refused it.
/// </summary>
public sealed class AlertWebhookTests
{
    private const string Queue = "billing";

    [Fact]
    public async Task Given_a_backlog_rule_When_the_backlog_crosses_the_threshold_Then_the_webhook_gets_one_firing_alert_and_later_one_resolved()
    {
        await using var hook = WebhookListener.Start();
        var handled = new Received();
        var release = new TaskCompletionSource();
        await using var host = await TestHost.StartAsync(m =>
        {
            m.Services.Configure<MillraceOptions>(o =>
            {
                o.Alerts.WebhookUrl = hook.Url;
                o.Alerts.Interval = TimeSpan.FromMilliseconds(200);
                o.Alerts.Rules.Add(new AlertRule { Metric = AlertMetric.Backlog, Threshold = 50, Queue = Queue });
            });
            m.AddConsumer(Queue, c => c.Concurrency = 4);
            m.AddHandler("invoice", async (context, token) =>
            {
                await release.Task.WaitAsync(token);
                handled.Add(context);
            });
        });

        // Given 30 messages, under the threshold: nothing is sent.
        await host.Publisher.PublishBatchAsync([.. Enumerable.Range(0, 30).Select(i => Message(i))]);
        await Task.Delay(TimeSpan.FromMilliseconds(800));
        Assert.Empty(hook.Bodies);

        // When the backlog grows past 50 (handlers are held), Then one firing alert arrives.
        await host.Publisher.PublishBatchAsync([.. Enumerable.Range(30, 70).Select(i => Message(i))]);
        var firing = await Eventually.GetAsync(() => Task.FromResult(hook.Bodies.ToArray()), b => b.Length >= 1, TimeSpan.FromSeconds(10), "a firing alert");
        using (var body = JsonDocument.Parse(firing[0]))
        {
            var root = body.RootElement;
            Assert.Equal("backlog", root.GetProperty("alert").GetString());
            Assert.Equal("firing", root.GetProperty("state").GetString());
            Assert.Equal(Queue, root.GetProperty("queue").GetString());
            Assert.Equal(50, root.GetProperty("threshold").GetDouble());
            Assert.True(root.GetProperty("value").GetDouble() > 50, $"value {root.GetProperty("value").GetDouble()} should be above the threshold");
            Assert.Contains("backlog", root.GetProperty("message").GetString(), StringComparison.Ordinal);
        }

        // Then the backlog drains: exactly one resolved alert follows, and no second firing one.
        release.SetResult();
        await handled.WaitForAsync(100);
        var all = await Eventually.GetAsync(() => Task.FromResult(hook.Bodies.ToArray()), b => b.Length >= 2, TimeSpan.FromSeconds(10), "a resolved alert");
        await Task.Delay(TimeSpan.FromMilliseconds(600));
        var states = hook.Bodies.Select(b => JsonDocument.Parse(b).RootElement.GetProperty("state").GetString() ?? "").ToArray();
        Assert.Equal(new[] { "firing", "resolved" }, states);
    }

    [Fact]
    public async Task Given_a_webhook_that_refuses_When_the_threshold_is_crossed_Then_the_alert_is_sent_again_until_it_is_accepted()
    {
        await using var hook = WebhookListener.Start(refuseFirst: 2);
        await using var host = await TestHost.StartAsync(m =>
        {
            m.Services.Configure<MillraceOptions>(o =>
            {
                o.Alerts.WebhookUrl = hook.Url;
                o.Alerts.Interval = TimeSpan.FromMilliseconds(200);
                o.Alerts.Rules.Add(new AlertRule { Metric = AlertMetric.Backlog, Threshold = 5 });
            });
            m.AddQueue(Queue);
        });

        await host.Publisher.PublishBatchAsync([.. Enumerable.Range(0, 10).Select(i => Message(i))]);

        var bodies = await Eventually.GetAsync(() => Task.FromResult(hook.Bodies.ToArray()), b => b.Length >= 3, TimeSpan.FromSeconds(10), $"two refused and one accepted delivery (got {hook.Bodies.Count})");
        await Task.Delay(TimeSpan.FromMilliseconds(600));
        Assert.Equal(3, hook.Bodies.Count);   // 2 refused (503), then accepted once and not repeated
        Assert.All(bodies, b => Assert.Equal("firing", JsonDocument.Parse(b).RootElement.GetProperty("state").GetString()));
    }

    private static OutgoingMessage Message(int i) => new() { Queue = Queue, Type = "invoice", Payload = Encoding.UTF8.GetBytes($"{{\"n\":{i}}}") };

    /// <summary>A real HTTP server on loopback that records POST bodies; refuses the first N with 503.</summary>
    private sealed class WebhookListener : IAsyncDisposable
    {
        private readonly HttpListener _listener = new();
        private readonly Task _loop;
        private int _refuse;

        private WebhookListener(int refuseFirst)
        {
            _refuse = refuseFirst;
            var port = FreePort();
            Url = new Uri($"http://127.0.0.1:{port}/hook/");
            _listener.Prefixes.Add(Url.ToString());
            _listener.Start();
            _loop = Task.Run(LoopAsync);
        }

        public Uri Url { get; }

        public ConcurrentQueue<string> Bodies { get; } = new();

        public static WebhookListener Start(int refuseFirst = 0) => new(refuseFirst);

        private async Task LoopAsync()
        {
            while (_listener.IsListening)
            {
                HttpListenerContext context;
                try
                {
                    context = await _listener.GetContextAsync();
                }
                catch (Exception e) when (e is HttpListenerException or ObjectDisposedException)
                {
                    return;   // stopped
                }

                using var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8);
                Bodies.Enqueue(await reader.ReadToEndAsync());
                context.Response.StatusCode = Interlocked.Decrement(ref _refuse) >= 0 ? 503 : 204;
                context.Response.Close();
            }
        }

        private static int FreePort()
        {
            using var socket = new TcpListener(IPAddress.Loopback, 0);
            socket.Start();
            return ((IPEndPoint)socket.LocalEndpoint).Port;
        }

        public async ValueTask DisposeAsync()
        {
            _listener.Stop();
            _listener.Close();
            await _loop;
        }
    }
}
