using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Millrace.Redis;

namespace Millrace;

/// <summary>The one entry point: <c>services.AddMillrace(o => ...)</c>.</summary>
public static class MillraceServiceCollectionExtensions
{
    /// <summary>
    /// Adds Millrace: the Redis client, the publisher (<see cref="IMessagePublisher"/>), the consumers
    /// as a hosted service, metrics and options validated at start.
    /// </summary>
    /// <example>
    /// <code>
    /// builder.Services.AddMillrace(o => o.Redis = "127.0.0.1:6379")
    ///     .AddQueue("orders", q => q.Partitions = 4)
    ///     .AddConsumer("orders", c => c.Concurrency = 8)
    ///     .AddHandler&lt;OrderCreated, OrderCreatedHandler&gt;();
    /// </code>
    /// </example>
    public static MillraceBuilder AddMillrace(this IServiceCollection services, Action<MillraceOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var existing = services.FirstOrDefault(d => d.ServiceType == typeof(MillraceBuilder))?.ImplementationInstance as MillraceBuilder;
        if (configure is not null)
        {
            services.Configure(configure);
        }

        if (existing is not null)
        {
            return existing;   // AddMillrace twice: one registration, both configurations apply
        }

        var builder = new MillraceBuilder(services, new HandlerRegistry());
        services.AddSingleton(builder);
        services.AddOptions<MillraceOptions>().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<MillraceOptions>, MillraceOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(sp => new MillraceTelemetry(
            sp.GetService<System.Diagnostics.Metrics.IMeterFactory>(),
            sp.GetRequiredService<IOptions<MillraceOptions>>().Value.Namespace));
        services.TryAddSingleton<IRedisClient>(sp => RedisClient.Create(sp.GetRequiredService<IOptions<MillraceOptions>>().Value.ResolveRedis()));
        services.TryAddSingleton(sp => new MillraceRuntime(
            sp.GetRequiredService<IRedisClient>(),
            sp.GetRequiredService<IOptions<MillraceOptions>>().Value,
            sp.GetRequiredService<MillraceTelemetry>(),
            sp.GetRequiredService<TimeProvider>()));
        services.TryAddSingleton(sp => sp.GetRequiredService<MillraceBuilder>().Handlers);
        BackupJournalServices.AddPublisher(services);   // MessagePublisher, or the backup producer around it
        services.TryAddSingleton(sp => new MillraceAdmin(sp.GetRequiredService<MillraceRuntime>()));
        services.TryAddSingleton(sp => new MillraceWorkers(
            sp.GetRequiredService<MillraceRuntime>(),
            sp.GetRequiredService<HandlerRegistry>(),
            sp.GetRequiredService<IServiceScopeFactory>(),
            sp.GetService<Microsoft.Extensions.Logging.ILoggerFactory>()));
        services.AddHostedService(sp => sp.GetRequiredService<MillraceWorkers>());
        services.AddHostedService(sp => new RetentionService(
            sp.GetRequiredService<MillraceRuntime>(),
            sp.GetService<Microsoft.Extensions.Logging.ILogger<RetentionService>>() ?? Microsoft.Extensions.Logging.Abstractions.NullLogger<RetentionService>.Instance));
        services.AddHostedService(sp => new AlertMonitor(
            sp.GetRequiredService<MillraceRuntime>(),
            sp.GetRequiredService<MillraceAdmin>(),
            sp.GetService<Microsoft.Extensions.Logging.ILogger<AlertMonitor>>() ?? Microsoft.Extensions.Logging.Abstractions.NullLogger<AlertMonitor>.Instance));
        services.AddHostedService(sp => new StatisticsFlusher(
            sp.GetRequiredService<MillraceRuntime>(),
            sp.GetService<Microsoft.Extensions.Logging.ILogger<StatisticsFlusher>>() ?? Microsoft.Extensions.Logging.Abstractions.NullLogger<StatisticsFlusher>.Instance));
        return builder;
    }
}
