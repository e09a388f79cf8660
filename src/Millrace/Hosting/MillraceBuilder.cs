using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Millrace;

/// <summary>Adds queues, consumers and handlers after <see cref="MillraceServiceCollectionExtensions.AddMillrace"/>.</summary>
public sealed class MillraceBuilder
{
    internal MillraceBuilder(IServiceCollection services, HandlerRegistry handlers)
    {
        Services = services;
        Handlers = handlers;
    }

    /// <summary>The service collection.</summary>
    public IServiceCollection Services { get; }

    internal HandlerRegistry Handlers { get; }

    /// <summary>Configures a queue (partitions, length cap).</summary>
    public MillraceBuilder AddQueue(string queue, Action<QueueOptions>? configure = null)
    {
        QueueName.Validate(queue);
        Services.Configure<MillraceOptions>(o =>
        {
            if (!o.Queues.TryGetValue(queue, out var options))
            {
                o.Queues[queue] = options = new QueueOptions();
            }

            configure?.Invoke(options);
        });
        return this;
    }

    /// <summary>Runs a consumer of <paramref name="queue"/> in this process (group "workers" unless configured).</summary>
    public MillraceBuilder AddConsumer(string queue, Action<ConsumerOptions>? configure = null)
    {
        Services.Configure<MillraceOptions>(o =>
        {
            var options = new ConsumerOptions { Queue = queue };
            configure?.Invoke(options);
            o.Consumers.Add(options);
        });
        return this;
    }

    /// <summary>Handles messages of <typeparamref name="TMessage"/>'s type name with <typeparamref name="THandler"/>, resolved per message from a scope.</summary>
    public MillraceBuilder AddHandler<TMessage, THandler>(string? type = null)
        where THandler : class, IMessageHandler<TMessage>
    {
        Services.TryAddScoped<THandler>();
        Handlers.AddTyped<TMessage, THandler>(type ?? MessageTypeAttribute.NameOf<TMessage>());
        return this;
    }

    /// <summary>Handles messages of <typeparamref name="TMessage"/>'s type in batches with <typeparamref name="THandler"/>.</summary>
    public MillraceBuilder AddBatchHandler<TMessage, THandler>(Action<BatchOptions>? configure = null, string? type = null)
        where THandler : class, IBatchMessageHandler<TMessage>
    {
        var options = new BatchOptions();
        configure?.Invoke(options);
        if (options.Size < 1 || options.MaxWait <= TimeSpan.Zero)
        {
            throw new ArgumentException($"Batch options for {typeof(TMessage).Name}: Size must be at least 1 (is {options.Size}) and MaxWait positive (is {options.MaxWait}).");
        }

        Services.TryAddScoped<THandler>();
        Handlers.AddTypedBatch<TMessage, THandler>(type ?? MessageTypeAttribute.NameOf<TMessage>(), options);
        return this;
    }

    /// <summary>Publishes a message of <paramref name="type"/> to <paramref name="queue"/> on a cron schedule, once per tick across all instances.</summary>
    /// <example><code>builder.AddCronJob("nightly-report", "0 2 * * *", "reports", "report.build", j => j.TimeZone = TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin"));</code></example>
    public MillraceBuilder AddCronJob(string name, string schedule, string queue, string type, Action<CronJobOptions>? configure = null)
    {
        Services.Configure<MillraceOptions>(o =>
        {
            var job = new CronJobOptions { Name = name, Schedule = schedule, Queue = queue, Type = type };
            configure?.Invoke(job);
            o.CronJobs.Add(job);
        });
        return this;
    }

    /// <summary>Handles a message type with a delegate that receives the raw message (for tools and demos).</summary>
    public MillraceBuilder AddHandler(string type, Func<MessageContext, CancellationToken, Task> handler)
    {
        ArgumentException.ThrowIfNullOrEmpty(type);
        ArgumentNullException.ThrowIfNull(handler);
        Handlers.AddSingle(type, (context, token) => handler(context, token));
        return this;
    }
}
